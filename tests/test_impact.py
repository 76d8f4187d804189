"""Policy-change impact: comparisons match the two assessments row by row; sweeps match
assess value by value; the command writes its page, follow-up list and manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit import impact
from ypsi_audit.cli import main
from ypsi_audit.engine import assess
from ypsi_audit.errors import PolicyError, YpsiError
from ypsi_audit.reports.html import outside_references
from ypsi_audit.synth import generate

SAMPLE = Path(__file__).parent.parent / "data" / "samples" / "sample_trust_log.csv"


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate(12, 3, seed=21)


def test_comparison_matches_each_policys_own_assessment(log: pd.DataFrame) -> None:
    comparison = impact.compare(log, "cheshire-quick-guide", "ukcis-2024")
    cheshire = assess(log, "cheshire-quick-guide")
    national = assess(log, "ukcis-2024")
    assert (
        comparison["guidance_outcome_before"].to_numpy()
        == cheshire["guidance_outcome"].astype(str).to_numpy()
    ).all()
    assert (
        comparison["consistency_after"].to_numpy() == national["consistency"].astype(str).to_numpy()
    ).all()
    assert (
        comparison["flipped"].sum()
        == (
            cheshire["guidance_outcome"].astype(str) != national["guidance_outcome"].astype(str)
        ).sum()
        > 0
    )
    cross = impact.outcome_crosstab(comparison).set_index("outcome_before")
    assert cross.to_numpy().sum() == len(log)
    assert (
        cross.sum(axis=0)["n_after_refer_police"]
        == (national["guidance_outcome"] == "refer_police").sum()
    )
    flips = impact.flips_by_reason(comparison)
    assert flips["n_incidents"].sum() == comparison["flipped"].sum()
    volume = impact.referral_volume(comparison, "setting_id")
    assert volume["n_refer_before"].sum() == (cheshire["guidance_outcome"] == "refer_police").sum()
    assert (volume["change"] == volume["n_refer_after"] - volume["n_refer_before"]).all()
    changes = impact.consistency_change(comparison)
    assert changes["n_before"].sum() == changes["n_after"].sum() == len(log)
    assert set(impact.flipped_cases(comparison)["incident_id"]) == set(
        comparison.loc[comparison["flipped"], "incident_id"]
    )


def test_same_policy_other_parameters(log: pd.DataFrame) -> None:
    comparison = impact.compare(
        log, "cheshire-quick-guide", "cheshire-quick-guide", None, {"wide_age_gap_years": 1}
    )
    flips = impact.flips_by_reason(comparison)
    # a lower threshold only adds referrals, or leaves a blank in_relationship undecided
    assert (flips["guidance_outcome_before"] != "refer_police").all()
    referred = flips[flips["guidance_outcome_after"] == "refer_police"]
    assert (
        len(referred) and referred["aggravating_factors_after"].str.contains("wide_age_gap").all()
    )
    assert set(flips["guidance_outcome_after"]) <= {"refer_police", "insufficient_information"}


def test_sweep_matches_assess_for_every_value(log: pd.DataFrame) -> None:
    table = impact.sweep(log, "cheshire-quick-guide", "wide_age_gap_years", range(1, 11))
    assert table["default"].tolist() == [v == 3 for v in range(1, 11)]
    for value in (1, 2, 3, 6):
        assessed = assess(log, params={"wide_age_gap_years": value})
        row = table.set_index("value").loc[value]
        assert row["n_refer"] == (assessed["guidance_outcome"] == "refer_police").sum()
        for judgement in ("under_escalation", "over_escalation", "unassessable"):
            assert row[f"n_{judgement}"] == (assessed["consistency"] == judgement).sum()
    levels = impact.sweep(
        log, "cheshire-quick-guide", "sexual_content_from", ["nude", "sexual_act"]
    )
    assert levels["n_refer"].is_monotonic_decreasing


def test_sweep_evaluates_unaffected_rules_once(log: pd.DataFrame, monkeypatch) -> None:
    from ypsi_audit.conditions import Branch, Leaf

    calls: list[str] = []
    for kind in (Leaf, Branch):
        real = kind.evaluate
        monkeypatch.setattr(
            kind,
            "evaluate",
            lambda self, ctx, lenient=False, real=real: (
                calls.append(type(self).__name__) or real(self, ctx, lenient)
            ),
        )
    impact.sweep(log, "cheshire-quick-guide", "under_age", range(10, 16))
    once = len(calls)
    calls.clear()
    impact.sweep(log, "cheshire-quick-guide", "under_age", range(10, 11))
    # six values cost the one-value work plus five re-evaluations of the single under_13 leaf
    assert once == len(calls) + 5


def test_sweep_arguments_are_checked(log: pd.DataFrame) -> None:
    assert impact.parse_sweep("wide_age_gap_years=1..4") == (
        "wide_age_gap_years",
        ["1", "2", "3", "4"],
    )
    assert impact.parse_sweep("sexual_content_from=nude, sexual_act") == (
        "sexual_content_from",
        ["nude", "sexual_act"],
    )
    for bad in ("wide_age_gap_years", "x=5..1", "x=a..b"):
        with pytest.raises(YpsiError):
            impact.parse_sweep(bad)
    with pytest.raises(PolicyError, match="did you mean 'wide_age_gap_years'"):
        impact.sweep(log, "cheshire-quick-guide", "wide_gap_years", [1, 2])
    with pytest.raises(PolicyError, match="between 1 and 10"):
        impact.sweep(log, "cheshire-quick-guide", "wide_age_gap_years", [0, 1])


def test_impact_command_end_to_end(tmp_path: Path, capsys) -> None:
    out = tmp_path / "impact"
    code = main(
        [
            "impact",
            str(SAMPLE),
            "--from",
            "cheshire-quick-guide",
            "--to",
            "ukcis-2024",
            "--sweep",
            "wide_age_gap_years=1..10",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    page = (out / "impact.html").read_text()
    assert outside_references(page) == [] and "Summary." in page
    flipped = pd.read_csv(out / "flipped_incidents.csv")
    assert not [i for i in flipped["incident_id"] if i in page]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["before"]["label"] == "cheshire-quick-guide@2"
    assert manifest["after"]["label"] == "ukcis-2024@2"
    assert manifest["rows"]["flipped"] == len(flipped) > 0
    assert manifest["sweep"]["values"] == [str(v) for v in range(1, 11)]
    sweep = pd.read_csv(out / "tables" / "impact_sweep.csv")
    assert len(sweep) == 10


def test_impact_refuses_unknown_parameters_before_reading(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "impact",
            str(tmp_path / "missing.csv"),
            "--to-param",
            "under_ag=12",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "did you mean 'under_age'" in capsys.readouterr().err
    assert main(["impact", str(SAMPLE), "--out", str(tmp_path / "o")]) == 2
