"""Every public hand-worked vignette, through the real CLI, matches its expected answers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ypsi_audit.cli import main

VIGNETTES = Path(__file__).parent / "data" / "cheshire_public.csv"
EXPECTED = {
    "expected_outcome": "guidance_outcome",
    "expected_factors": "aggravating_factors",
    "expected_unknown": "unknown_factors",
    "expected_experimental": "experimental",
    "expected_consistency": "consistency",
    "expected_gaps": "recording_gaps",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("vignettes") / "assessed.csv"
    assert main(["assess", str(VIGNETTES), "--out", str(out)]) == 0
    return _rows(out)


def test_cli_keeps_every_vignette_in_order(assessed: list[dict[str, str]]) -> None:
    expected = _rows(VIGNETTES)
    assert len(expected) >= 26
    assert [r["incident_id"] for r in assessed] == [r["incident_id"] for r in expected]


@pytest.mark.parametrize("row", _rows(VIGNETTES), ids=lambda r: r["incident_id"])
def test_vignette(row: dict[str, str], assessed: list[dict[str, str]]) -> None:
    got = next(r for r in assessed if r["incident_id"] == row["incident_id"])
    for expected_column, output_column in EXPECTED.items():
        assert got[output_column] == row[expected_column], (row["incident_id"], output_column)
    assert got["policy"] == "cheshire-quick-guide@2"
