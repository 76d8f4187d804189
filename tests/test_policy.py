"""The policy loader checks a policy against the contract before any data is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ypsi_audit.errors import PolicyError
from ypsi_audit.policy import POLICY_DIR, available_policies, load_policy
from ypsi_audit.yamlfile import YamlFileError

CHESHIRE = POLICY_DIR / "cheshire-quick-guide.yaml"


def _variant(tmp_path: Path, edit) -> Path:
    """A copy of the Cheshire policy with one edit applied, written to tmp_path."""
    tree = yaml.safe_load(CHESHIRE.read_text())
    edit(tree)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False))
    return path


def _rule(tree: dict, rule_id: str) -> dict:
    return next(
        r for s in ("factors", "experimental", "recording") for r in tree[s] if r["id"] == rule_id
    )


def test_shipped_policy_loads_with_contract_ids() -> None:
    policy = load_policy("cheshire-quick-guide")
    assert policy.label == "cheshire-quick-guide@2"
    assert [r.id for r in policy.factors] == [
        "under_13",
        "adult_involved",
        "multiple_victims_or_wider_distribution",
        "sexual_content",
        "threats_coercion_harassment",
        "grooming_or_exploitation",
        "wide_age_gap",
    ]
    assert [r.id for r in policy.recording] == [
        "decision_not_recorded",
        "rationale_not_recorded",
        "viewing_safeguards",
        "device_return_safeguards",
        "staff_copy_handling",
        "parent_disagreement",
    ]
    assert policy.defaults() == {
        "under_age": 13,
        "adult_age": 18,
        "sexual_content_from": "sexual_act",
        "wider_distribution_from": "shared_with_others",
        "wide_age_gap_years": 3,
    }
    assert all(rule.description and rule.title for rule in policy.factors)
    assert "cheshire-quick-guide" in available_policies()


def test_unknown_column_names_file_rule_and_closest_column(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, lambda t: _rule(t, "under_13")["when"].update(column="youngest_child_agee")
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert str(path) in message and "rule under_13" in message
    assert "'youngest_child_agee'" in message and "did you mean 'youngest_child_age'" in message


def test_unknown_operator_suggests_closest(tmp_path: Path) -> None:
    def edit(tree: dict) -> None:
        _rule(tree, "under_13")["when"] = {
            "column": "youngest_child_age",
            "less_then": {"param": "under_age"},
        }

    with pytest.raises(
        PolicyError,
        match=r"rule under_13: unknown operator 'less_then'; "
        r"did you mean 'less_than'\?",
    ):
        load_policy(_variant(tmp_path, edit))


def test_unknown_parameter_suggests_closest(tmp_path: Path) -> None:
    def edit(tree: dict) -> None:
        _rule(tree, "wide_age_gap")["when"]["all"][1]["at_least"] = {"param": "wide_age_gap_year"}

    with pytest.raises(
        PolicyError,
        match=r"rule wide_age_gap: unknown parameter "
        r"'wide_age_gap_year'; did you mean 'wide_age_gap_years'",
    ):
        load_policy(_variant(tmp_path, edit))


def test_unknown_code_suggests_closest(tmp_path: Path) -> None:
    def edit(tree: dict) -> None:
        _rule(tree, "only_between_parties")["when"]["is"] = "between_party"

    with pytest.raises(PolicyError, match="did you mean 'between_parties'"):
        load_policy(_variant(tmp_path, edit))


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ({"column": "consensual", "less_than": 3}, "compares numbers or levels"),
        ({"column": "consensual", "is": "yes please"}, "takes true, false or blank"),
        ({"column": "youngest_child_age", "at_least": "twelve"}, "needs a whole number"),
        ({"column": "content_level", "at_least": {"param": "under_age"}}, "not a level of"),
        ({"column": "consensual", "is": True, "is_not": False}, "exactly one operator"),
        ({"all": []}, "non-empty list"),
        ({"column": "consensual", "minus": "harassment", "is": True}, "whole-number columns"),
        ({"column": "guidance_outcome", "is": "refer_police"}, "unknown column"),
        ("consensual", "must be a mapping"),
    ],
)
def test_malformed_conditions_are_refused(tmp_path: Path, when, fragment: str) -> None:
    path = _variant(tmp_path, lambda t: _rule(t, "consensual").update(when=when))
    with pytest.raises(PolicyError, match="rule consensual") as info:
        load_policy(path)
    assert fragment in str(info.value)


def test_derived_values_are_allowed_in_recording_rules_only() -> None:
    policy = load_policy("cheshire-quick-guide")
    device = next(r for r in policy.recording if r.id == "device_return_safeguards")
    assert {"guidance_outcome", "experimental"} <= device.condition.columns()


def test_applies_is_for_recording_requirements_and_checked_like_a_condition(
    tmp_path: Path,
) -> None:
    policy = load_policy("cheshire-quick-guide")
    viewing = next(r for r in policy.recording if r.id == "viewing_safeguards")
    assert viewing.applies is not None and viewing.applies.columns() == {"image_viewed"}
    assert all(rule.applies is None for rule in policy.factors)

    def on_a_factor(tree: dict) -> None:
        _rule(tree, "under_13")["applies"] = {"column": "image_viewed", "is": True}

    with pytest.raises(PolicyError, match="only recording requirements may say when they apply"):
        load_policy(_variant(tmp_path, on_a_factor))

    def misspelt(tree: dict) -> None:
        _rule(tree, "viewing_safeguards")["applies"] = {"column": "image_veiwed", "is": True}

    with pytest.raises(PolicyError, match="did you mean 'image_viewed'"):
        load_policy(_variant(tmp_path, misspelt))


def test_duplicate_ids_and_missing_keys(tmp_path: Path) -> None:
    def duplicate(tree: dict) -> None:
        tree["factors"].append(dict(tree["factors"][0]))

    with pytest.raises(PolicyError, match="rule under_13: the id is used twice"):
        load_policy(_variant(tmp_path, duplicate))
    with pytest.raises(PolicyError, match="the policy has no 'version'"):
        load_policy(_variant(tmp_path, lambda t: t.pop("version")))
    with pytest.raises(PolicyError, match="unknown top-level key 'factor'; did you mean 'factors'"):
        load_policy(_variant(tmp_path, lambda t: t.update(factor=[])))
    with pytest.raises(PolicyError, match="the rule has no 'description'"):
        load_policy(_variant(tmp_path, lambda t: t["factors"][0].pop("description")))


def test_bad_parameter_declarations(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="'of' must name an ordinal column"):
        load_policy(
            _variant(
                tmp_path, lambda t: t["parameters"]["sexual_content_from"].update(of="content_levl")
            )
        )
    with pytest.raises(PolicyError, match="must be between 5 and 18, not 30"):
        load_policy(_variant(tmp_path, lambda t: t["parameters"]["under_age"].update(default=30)))


def test_parameter_overrides_are_checked() -> None:
    policy = load_policy("cheshire-quick-guide")
    assert policy.resolve_params({"under_age": "14"})["under_age"] == 14
    assert policy.resolve_params({"sexual_content_from": " Nude "})["sexual_content_from"] == "nude"
    with pytest.raises(PolicyError, match="no parameter 'under_ag'; did you mean 'under_age'"):
        policy.resolve_params({"under_ag": 12})
    with pytest.raises(PolicyError, match="must be a whole number, not 'twelve'"):
        policy.resolve_params({"under_age": "twelve"})
    with pytest.raises(PolicyError, match="must be between 1 and 10, not 0"):
        policy.resolve_params({"wide_age_gap_years": 0})
    with pytest.raises(PolicyError, match="did you mean 'shared_widely'"):
        policy.resolve_params({"wider_distribution_from": "shared_wide"})


def test_unknown_policy_id_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="did you mean 'cheshire-quick-guide'"):
        load_policy("cheshire-quick-guid")
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nfactors: [\n")
    with pytest.raises(YamlFileError, match=r"broken.yaml, line 3, column 1: the policy file is"):
        load_policy(broken)


def test_shared_definitions_are_reused_and_checked(tmp_path: Path) -> None:
    cheshire, national = load_policy("cheshire-quick-guide"), load_policy("ukcis-2024")
    same = {r.id: r.condition for r in cheshire.factors}["adult_involved"]
    assert same == {r.id: r.condition for r in national.factors}["adult_involved"]
    with pytest.raises(
        PolicyError,
        match="unknown shared definition 'adult_involve'; did you mean 'adult_involved'",
    ):
        load_policy(
            _variant(
                tmp_path, lambda t: _rule(t, "adult_involved").update(when={"use": "adult_involve"})
            )
        )
    with pytest.raises(
        PolicyError, match="'uses' names no shared definitions file of ours; did you mean 'common'"
    ):
        load_policy(_variant(tmp_path, lambda t: t.update(uses=["comon"])))


def test_the_national_policy_differs_where_the_summary_says() -> None:
    from support import frame_of

    from ypsi_audit.engine import assess

    base = {
        "youngest_child_age": 12,
        "oldest_party_age": 12,
        "adult_involved": False,
        "multiple_victims": False,
        "in_relationship": False,
        "content_level": "nude",
        "content_violent_or_atypical": False,
        "distribution": "between_parties",
        "threats_or_coercion": False,
        "harassment": False,
        "grooming_or_exploitation_suspected": False,
        "capacity_to_consent_concern": False,
        "immediate_risk_of_harm": False,
    }
    cases = [
        base,
        {
            **base,
            "youngest_child_age": 15,
            "oldest_party_age": 15,
            "capacity_to_consent_concern": True,
        },
    ]
    cheshire = assess(frame_of(cases))["guidance_outcome"].tolist()
    national = assess(frame_of(cases), "ukcis-2024")["guidance_outcome"].tolist()
    assert cheshire == ["refer_police", "handle_in_setting"]  # under 13 / not a Cheshire factor
    assert national == ["handle_in_setting", "refer_police"]  # no sexual acts / consent concern


def test_national_thresholds_are_fixed_with_the_reason_and_the_way_out() -> None:
    national = load_policy("ukcis-2024")
    assert national.resolve_params() == {
        "adult_age": 18,
        "under_age": 13,
        "sexual_content_from": "sexual_act",
    }
    for name, value in (("adult_age", 21), ("under_age", 14), ("sexual_content_from", "nude")):
        with pytest.raises(PolicyError, match=f"fixes {name} at .*own policy file.*new id"):
            national.resolve_params({name: value})


def test_a_policy_says_what_a_referral_is(tmp_path: Path) -> None:
    national = load_policy("ukcis-2024")
    assert national.referral.route == "the police or children's social care"
    assert load_policy("cheshire-quick-guide").referral.route == "the police"
    with pytest.raises(PolicyError, match="no 'referral'"):
        load_policy(_variant(tmp_path, lambda t: t.pop("referral")))


def test_referral_section_is_checked(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="rule referral: needs 'allowed_when'"):
        load_policy(_variant(tmp_path, lambda t: t["referral"].pop("allowed_when")))
    with pytest.raises(PolicyError, match="'always' stands alone and takes true or false"):
        load_policy(
            _variant(tmp_path, lambda t: t["referral"].update(allowed_when={"always": "yes"}))
        )
    with pytest.raises(PolicyError, match="unknown key 'rout'"):
        load_policy(_variant(tmp_path, lambda t: t["referral"].update(rout="x")))


def test_a_policy_rebuilds_from_its_own_document(tmp_path: Path) -> None:
    """What reports read is the content that made the answers, not an id looked up again."""
    path = _variant(tmp_path, lambda t: t.update(id="my-trust-policy"))
    custom = load_policy(path)
    again = type(custom).from_document(custom.document)
    assert again.label == custom.label == "my-trust-policy@2"
    assert again.digest == custom.digest
    assert again.factors == custom.factors and again.referral == custom.referral
    assert "uses" not in custom.document and "adult_involved" in custom.document["definitions"]


def test_uses_names_only_shared_files_of_ours(tmp_path: Path) -> None:
    for name in ("../../etc/passwd", "/etc/hosts", 7):
        with pytest.raises(PolicyError, match="'uses' names no shared definitions file of ours"):
            load_policy(_variant(tmp_path, lambda t, n=name: t.update(uses=[n])))
