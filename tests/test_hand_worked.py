"""Whole incidents worked by hand from the guidance (tests/policies/hand_worked.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from support import frame_of

from ypsi_audit import states
from ypsi_audit.engine import assess

TABLE = yaml.safe_load((Path(__file__).parent / "policies" / "hand_worked.yaml").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]
COLUMNS = {
    "outcome": "guidance_outcome",
    "factors": "aggravating_factors",
    "unknown": "unknown_factors",
    "consistency": "consistency",
    "gaps": "recording_gaps",
}


def test_enough_national_cases_and_unique_ids() -> None:
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert sum(c["policy"] == "ukcis-2024" for c in CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hand_worked_incident(case: dict[str, Any]) -> None:
    record = {**TABLE["bases"][case["policy"]], **case["given"], "incident_id": case["id"]}
    out = assess(frame_of([record]), case["policy"], with_states=True).iloc[0]
    expect = case["expect"]
    for key, column in COLUMNS.items():
        assert str(out[column]) == str(expect[key]), (case["id"], column)
    flag = out["experimental"]
    experimental = "" if pd.isna(flag) else str(bool(flag)).lower()
    assert experimental == expect["experimental"], (case["id"], "experimental")
    if "status" in expect:
        assert out["recording_gap_status"] == expect["status"], case["id"]
    if "in_scope" in expect:
        assert states.TRI[int(out[states.IN_SCOPE])] == expect["in_scope"], case["id"]
