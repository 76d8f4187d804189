"""The report modules: aggregations, narrative, publishing rules, case list, schedules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import NO_FACTORS, frame_of, report_on

from ypsi_audit.engine import assess
from ypsi_audit.reports import analysis, narrative
from ypsi_audit.reports.context import header
from ypsi_audit.synth import generate

CLEAN = {**NO_FACTORS, "rationale_recorded": True}


@pytest.fixture(scope="module")
def assessed() -> pd.DataFrame:
    return assess(generate(12, 3, seed=11))


def test_trend_counts_add_up(assessed: pd.DataFrame) -> None:
    table = analysis.trend(assessed)
    assert table["n_incidents"].sum() == len(assessed)
    assert table["n_referred"].sum() == (assessed["decision"] == "referred_police").sum()
    assert table["n_guidance_refer"].sum() == (assessed["guidance_outcome"] == "refer_police").sum()
    assert list(table["period"][:3]) == ["2022-23 autumn", "2022-23 spring", "2022-23 summer"]
    assert (table["low_referred"] <= table["rate_referred"]).all()
    assert (table["rate_referred"] <= table["high_referred"]).all()


def test_setting_funnel_counts_and_withholding(assessed: pd.DataFrame) -> None:
    table = analysis.setting_funnel(assessed, "under_escalation")
    under = (assessed["consistency"] == "under_escalation").groupby(assessed["setting_id"]).sum()
    assert table.set_index("unit")["k"].to_dict() == {k: int(v) for k, v in under.items()}
    hidden = analysis.setting_funnel(assessed, "under_escalation", threshold=5)
    small = (hidden["k"].between(1, 4)) | (hidden["n"] < 5)
    assert hidden.loc[small, "rate"].isna().all()
    assert (hidden.loc[small, "outside_95"] == "").all()
    assert hidden.loc[~small, "rate"].notna().all()


def test_a_planted_under_escalating_setting_is_named() -> None:
    good = [
        {
            **CLEAN,
            "setting_id": f"S{i % 10:02d}",
            "incident_id": f"G{i}",
            "decision": "referred_police",
            "youngest_child_age": 12,
        }
        for i in range(400)
    ]
    bad = [
        {
            **CLEAN,
            "setting_id": "S99",
            "incident_id": f"B{i}",
            "youngest_child_age": 12,
            "decision": "handled_in_setting" if i % 2 else "referred_police",
        }
        for i in range(40)
    ]
    frame = assess(frame_of(good + bad))
    table = analysis.setting_funnel(frame, "under_escalation", threshold=5)
    assert analysis.outliers(table) == ["S99 (higher)"]


def test_agreement_factors_and_outcomes(assessed: pd.DataFrame) -> None:
    result = analysis.agreement_table(assessed)
    consistency = assessed["consistency"].value_counts()
    assert result["guidance_only"] == consistency["under_escalation"]
    referred_unprompted = (
        consistency.reindex(["over_escalation", "discretionary_referral"], fill_value=0).sum()
        + (
            (assessed["consistency"] == "unassessable")
            & (assessed["guidance_outcome"] == "handle_in_setting")
        ).sum()
    )
    assert result["decision_only"] == referred_unprompted
    factors = analysis.factors_in(assessed, "under_escalation", ["under_13", "wide_age_gap"])
    under = assessed[assessed["consistency"] == "under_escalation"]
    assert (
        factors.loc[0, "n_incidents"] == under["aggravating_factors"].str.contains("under_13").sum()
    )
    outcomes = analysis.police_outcomes(assessed)
    assert outcomes["n_incidents"].sum() == (assessed["decision"] == "referred_police").sum()


def test_blank_rates_and_undecidable_causes() -> None:
    frame = assess(
        frame_of(
            [
                CLEAN,
                {**CLEAN, "harassment": None},
                {**CLEAN, "harassment": None, "threats_or_coercion": None},
            ]
        )
    )
    blanks = analysis.blank_rates(frame, ["harassment", "threats_or_coercion"])
    assert blanks.loc[0, "harassment"] == pytest.approx(2 / 3)
    causes = analysis.undecidable_causes(
        frame, {"threats_coercion_harassment": ["harassment", "threats_or_coercion"]}
    )
    assert causes.set_index("blank_field")["n_incidents"].to_dict() == {
        "harassment": 2,
        "threats_or_coercion": 1,
    }


def test_publish_hides_small_counts_on_page_and_in_csv(tmp_path: Path) -> None:
    report = report_on(frame_of([CLEAN]), tmp_path)
    table = pd.DataFrame(
        {"setting": ["A", "B", "C"], "n_events": [3, 10, 0], "n_incidents": [40, 50, 9]}
    )
    table["rate"] = table["n_events"] / table["n_incidents"]
    shown = report.publish(
        table, "demo", caption="Demo", rates={"rate": ("n_events", "n_incidents")}
    )
    csv = pd.read_csv(tmp_path / "demo.csv", dtype=str, keep_default_na=False)
    assert csv.loc[0, "n_events"] == "c"
    assert pd.isna(shown.loc[0, "rate"])  # rests on a hidden count
    assert shown.loc[2, "n_events"] == 0  # a true zero is shown
    assert report.withheld >= 1
    unhidden = report_on(frame_of([CLEAN]), tmp_path, threshold=0)
    unhidden.publish(table, "demo_open", caption="Demo")
    assert pd.read_csv(tmp_path / "demo_open.csv")["n_events"].tolist() == [3, 10, 0]


def test_sentences_never_reveal_a_hidden_count(tmp_path: Path) -> None:
    frame = assess(
        frame_of(
            [
                {
                    **CLEAN,
                    "decision": "handled_in_setting",
                    "youngest_child_age": 12,
                    "incident_id": f"U{i}",
                }
                for i in range(3)
            ]
        )
    )
    report = report_on(frame, tmp_path)
    funnels = {m: analysis.setting_funnel(frame, m, 5) for m in analysis.MEASURES}
    text = narrative.escalation_summary(report, analysis.agreement_table(frame), funnels)
    assert "fewer than 5 incidents were handled" in text and " 3 " not in text
    assert header("n_incidents") == "Incidents" and header("low_referred") == "95% interval from"


def test_setting_rates_rest_on_one_protected_partition(
    assessed: pd.DataFrame, tmp_path: Path
) -> None:
    table = analysis.decisions_by_setting(assessed)
    parts = table.drop(columns=["setting", "n_incidents"])
    assert (parts.sum(axis=1) == table["n_incidents"]).all()
    assert table["n_incidents"].sum() == len(assessed)
    shown = report_on(assessed, tmp_path).protect(table, row_total="n_incidents", col_totals=True)
    for measure, (_, numerator, denominator) in analysis.MEASURES.items():
        rates = analysis.withhold_by(analysis.setting_funnel(assessed, measure), shown, measure)
        resting = [f"n_{c}" for c in dict.fromkeys((*numerator, *denominator))]
        hidden = shown.set_index("setting").loc[rates["unit"], resting].isna().any(axis=1)
        assert rates.loc[hidden.to_numpy(), "rate"].isna().all()
        assert (rates.loc[hidden.to_numpy(), "outside_95"] == "").all()
        assert rates.loc[~hidden.to_numpy(), "rate"].notna().all()
        seen = rates[~hidden.to_numpy()]  # target and limits from the settings shown only
        assert rates.attrs["theta"] == pytest.approx(seen["k"].sum() / seen["n"].sum())
