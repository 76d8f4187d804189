"""Run the per-rule test tables beside each shipped policy (policy-as-code style)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import frame_of

from ypsi_audit.engine import assess, rule_states
from ypsi_audit.policy import available_policies, load_policy

TABLES = Path(__file__).parent / "policies"
SECTIONS = ("factors", "experimental", "recording")
# A rule whose answer never depends on a blank cannot have an unknown case.
ALWAYS_KNOWN = {
    (policy, rule)
    for policy in ("cheshire-quick-guide", "ukcis-2024")
    for rule in ("decision_not_recorded", "rationale_not_recorded", "parents_not_informed")
}


def _tables() -> dict[str, dict]:
    return {
        p.name.removesuffix(".cases.yaml"): yaml.safe_load(p.read_text())
        for p in sorted(TABLES.glob("*.cases.yaml"))
    }


def _cases():
    for policy_id, table in _tables().items():
        for section in SECTIONS:
            for rule_id, cases in (table.get(section) or {}).items():
                for number, case in enumerate(cases, start=1):
                    yield pytest.param(
                        policy_id, section, rule_id, case, id=f"{policy_id}:{rule_id}:{number}"
                    )


@pytest.mark.parametrize(("policy_id", "section", "rule_id", "case"), list(_cases()))
def test_rule_case(policy_id: str, section: str, rule_id: str, case: dict) -> None:
    frame = frame_of([case["given"]])
    states = rule_states(frame, policy_id, case.get("params"), section=section)
    assert states[rule_id].iloc[0] == case["expect"], case
    if "status" in case:
        assessed = assess(frame, policy_id, case.get("params"))
        assert f"{rule_id}:{case['status']}" in assessed["recording_gap_status"].iloc[0].split(";")


@pytest.mark.parametrize("policy_id", available_policies())
def test_every_rule_has_a_full_table(policy_id: str) -> None:
    table = _tables().get(policy_id)
    assert table is not None, f"tests/policies/{policy_id}.cases.yaml is missing"
    policy = load_policy(policy_id)
    for section in SECTIONS:
        for rule in getattr(policy, section):
            cases = (table.get(section) or {}).get(rule.id)
            assert cases, f"{policy_id}: rule {rule.id} has no test cases"
            expected = {"present", "absent"}
            if (policy_id, rule.id) not in ALWAYS_KNOWN:
                expected.add("unknown")
            missing = expected - {case["expect"] for case in cases}
            assert not missing, f"{policy_id}: rule {rule.id} lacks {sorted(missing)} cases"


def test_tables_name_only_rules_that_exist() -> None:
    for policy_id, table in _tables().items():
        policy = load_policy(policy_id)
        for section in SECTIONS:
            known = {rule.id for rule in getattr(policy, section)}
            assert set(table.get(section) or {}) <= known, (policy_id, section)
