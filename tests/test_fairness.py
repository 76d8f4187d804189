"""The fairness report's numbers: groups (blanks included), stratified odds ratios that
find a planted bias and stay quiet without one, withholding, and the words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import report_on

from ypsi_audit.engine import assess
from ypsi_audit.reports import fairness
from ypsi_audit.stats import mantel_haenszel
from ypsi_audit.synth import BiasPlan, generate

TODAY = date(2026, 11, 24)


def _log(seed: int, bias: BiasPlan | None = None) -> pd.DataFrame:
    return assess(generate(12, 3, seed=seed, bias=bias, incidents_per_setting_year=40, today=TODAY))


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return _log(5)


def test_blank_characteristics_are_a_group_of_their_own(clean: pd.DataFrame) -> None:
    labels = fairness.group_labels(clean, "child_sen")
    assert (labels == fairness.NOT_RECORDED).sum() == clean["child_sen"].isna().sum() > 0
    guidance = clean["guidance_outcome"].astype(str)
    decided = clean["decision"].notna()
    for name, spec in fairness.TABLES.items():
        table = fairness.group_counts(clean, "child_ethnicity_group", name)
        assert table[spec["total"]].sum() == (decided & (guidance == spec["guidance"])).sum()
        assert fairness.NOT_RECORDED in set(table["group"])
        parts = table[spec["other"]] + table[spec["event"]]
        assert (parts == table[spec["total"]]).all()


def test_aggregated_cells_give_the_same_odds_ratio_as_incident_rows(clean: pd.DataFrame) -> None:
    rows = clean[clean["guidance_outcome"].astype(str) == "refer_police"]
    rows = rows[rows["decision"].notna()]
    data = pd.DataFrame(
        {
            "in_group": (rows["child_sen"] == True).to_numpy(),  # noqa: E712
            "outcome": (rows["decision"].astype(str) == "handled_in_setting").to_numpy(),
            "setting": rows["setting_id"].astype(str).to_numpy(),
        }
    )
    direct = mantel_haenszel(data, "in_group", "outcome", ["setting"])
    counted = data.groupby(["in_group", "outcome", "setting"]).size().rename("n").reset_index()
    weighted = mantel_haenszel(counted, "in_group", "outcome", ["setting"], "n")
    assert weighted["odds_ratio"] == pytest.approx(direct["odds_ratio"])
    assert weighted["ci_low"] == pytest.approx(direct["ci_low"])
    assert weighted["n"] == direct["n"]


@pytest.mark.parametrize(
    ("column", "group", "label"),
    [("child_sen", "true", "yes"), ("child_ethnicity_group", "white", "white")],
)
def test_a_planted_bias_is_found(column: str, group: str, label: str) -> None:
    biased = _log(5, BiasPlan(column, group, 0.3))
    results = fairness.odds_ratios(biased).set_index(["characteristic", "group", "measure"])
    row = results.loc[(column, label, "under_escalation")]
    if row["finding"] == "withheld":  # its counts protect a small group: read the mirror
        row = results.loc[(column, "no", "under_escalation")]
        assert row["finding"] == "flag_lower" and row["odds_ratio"] < 0.5
    else:
        assert row["finding"] == "flag_higher" and row["odds_ratio"] > 2


def test_without_a_bias_nothing_is_called_unlikely_to_be_chance(clean: pd.DataFrame) -> None:
    results = fairness.odds_ratios(clean)
    assert not results["finding"].astype(str).str.startswith("flag").any()
    assert results["usable"].sum() > 20  # the comparisons were made, not skipped


def test_comparisons_on_small_cells_are_withheld(clean: pd.DataFrame) -> None:
    results = fairness.odds_ratios(clean, threshold=5)
    four = np.column_stack(
        [
            results["n_group_events"],
            results["n_group"] - results["n_group_events"],
            results["n_rest_events"],
            results["n_rest"] - results["n_rest_events"],
        ]
    )
    small = ((four > 0) & (four < 5)).any(axis=1)
    assert small.any()
    assert results.loc[small, "withheld"].all()
    assert results.loc[small, "odds_ratio"].isna().all()
    published = fairness.published_odds(results)
    assert len(published) == int((~results["withheld"]).sum())
    assert not [c for c in published.columns if c.startswith("n_")]


def test_group_counts_publish_with_shares_withheld_where_counts_hide(
    clean: pd.DataFrame, tmp_path: Path
) -> None:
    report = report_on(clean, tmp_path)
    for name, spec in fairness.TABLES.items():
        table = fairness.group_counts(clean, "child_ethnicity_group", name)
        shown = report.protect(table, **fairness.publish_args(name))
        assert shown["group"].iloc[-1] == "Total"
        counts = shown[[spec["total"], spec["other"], spec["event"]]]
        assert not counts.isin([1, 2, 3, 4]).any().any()
        hidden = shown[spec["event"]].isna() | shown[spec["other"]].isna()
        assert shown.loc[hidden, spec["share"]].isna().all()
        assert counts.equals(
            fairness.protected_counts(clean, "child_ethnicity_group", name, 5)[counts.columns]
        )


def test_a_comparison_resting_on_a_hidden_count_is_withheld(clean: pd.DataFrame) -> None:
    results = fairness.odds_ratios(clean, threshold=5).set_index(
        ["characteristic", "group", "measure"]
    )
    checked = 0
    for name, spec in fairness.TABLES.items():
        shown = fairness.protected_counts(clean, "child_ethnicity_group", name, 5)
        hidden = shown[shown[spec["event"]].isna() | shown[spec["other"]].isna()]
        for group in hidden["group"]:
            if group != "Total" and ("child_ethnicity_group", group, name) in results.index:
                assert results.loc[("child_ethnicity_group", group, name), "withheld"]
                checked += 1
    assert checked


def test_summary_says_plainly_what_was_found(tmp_path: Path) -> None:
    biased = _log(5, BiasPlan("child_sen", "true", 0.3))
    results = fairness.odds_ratios(biased)
    text = fairness.summary(report_on(biased, tmp_path), results)
    assert "special educational needs: under-escalation" in text
    assert "not proof of bias" in text
    assert f"{len(results)} comparisons in all" in text

    calm = fairness.summary(report_on(biased, tmp_path), fairness.odds_ratios(_log(5)))
    assert "no group's decisions differ" in calm
    assert "Not compared here" in fairness.not_compared(results)
