"""The recording report's numbers: requirement states, settings that record poorly (found
when planted, not invented when absent), timeliness and phones given back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import NO_FACTORS, frame_of, report_on

from ypsi_audit.engine import assess
from ypsi_audit.policy import load_policy
from ypsi_audit.reports import recording
from ypsi_audit.synth import RecordingPlan, _make_trust, generate

POLICY = "cheshire-quick-guide"
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def assessed() -> pd.DataFrame:
    return assess(generate(12, 3, seed=11, today=TODAY), with_states=True)


def test_every_requirement_is_a_partition_of_the_incidents_it_applies_to(
    assessed: pd.DataFrame,
) -> None:
    states = recording.requirement_states(assessed, POLICY)
    table = recording.requirements(states)
    parts = table[list(recording.PARTS)].sum(axis=1)
    assert (parts == table["n_incidents"]).all()
    known = table["n_met"] + table["n_not_done"] + table["n_not_recorded"]
    short = table["n_not_done"] + table["n_not_recorded"]
    assert np.allclose(table["share_fell_short"], short / known)  # unsettled left out
    assert list(table["requirement"]) == [r.title for r in load_policy(POLICY).recording]
    # decision and rationale apply to every incident
    assert table["n_incidents"].iloc[0] == len(assessed)
    assert table["n_incidents"].iloc[1] == len(assessed)


def test_states_agree_with_the_engines_gap_columns(assessed: pd.DataFrame) -> None:
    states = recording.requirement_states(assessed, POLICY)
    gaps = assessed["recording_gaps"].astype(str).str.split(";")
    for rule_id in states.ids:
        code = states.column(rule_id)
        engine_says = gaps.map(lambda ids, r=rule_id: r in ids).to_numpy()
        short = (code == recording.NOT_DONE) | (code == recording.NOT_RECORDED)
        assert (short == engine_says).all(), rule_id
    assert states.any_gap.sum() == (assessed["recording_gaps"].astype(str) != "").sum()


def test_not_done_and_not_recorded_are_told_apart() -> None:
    frame = assess(
        frame_of(
            [
                {"incident_id": "A", "image_viewed": True, "viewing_authorised": False},
                {"incident_id": "B", "image_viewed": True},
                {
                    "incident_id": "C",
                    "image_viewed": True,
                    "viewing_authorised": True,
                    "viewing_witnessed": True,
                    "viewing_recorded": True,
                },
                {"incident_id": "D", "image_viewed": False},
                {"incident_id": "E"},
            ]
        ),
        with_states=True,
    )
    viewing = recording.requirement_states(frame, POLICY).column("viewing_safeguards")
    assert viewing.tolist() == [
        recording.NOT_DONE,
        recording.NOT_RECORDED,
        recording.MET,
        recording.NOT_APPLICABLE,
        recording.UNSETTLED,
    ]


def test_a_user_policy_without_applies_counts_every_incident(tmp_path: Path) -> None:
    source = Path(load_policy(POLICY).path).read_text()
    text = "\n".join(line for line in source.splitlines() if "applies:" not in line)
    text = text.replace(
        "        - {column: parents_disagreed, is: true}\n"
        "        - {column: decision, is: handled_in_setting}\n    when:",
        "    when:",
        1,
    )
    path = tmp_path / "no-applies.yaml"
    path.write_text(text)
    assert all(rule.applies is None for rule in load_policy(str(path)).recording)
    frame = assess(
        frame_of([{"image_viewed": False}, {"image_viewed": True}]), str(path), with_states=True
    )
    table = recording.requirements(recording.requirement_states(frame, str(path)))
    assert (table["n_incidents"] == 2).all()


def _funnel(seed: int, plan: RecordingPlan | None) -> pd.DataFrame:
    frame = assess(generate(12, 3, seed=seed, poor_recording=plan, today=TODAY), with_states=True)
    states = recording.requirement_states(frame, POLICY)
    return recording.setting_funnel(frame, states, threshold=5)


def _high(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["outside_998"] == "high", "unit"])


@pytest.mark.parametrize("seed", [1, 2, 2024])
def test_planted_poor_recording_is_found_and_absent_is_not_invented(seed: int) -> None:
    # The generator's own careless settings (drawn first from the seed) may be flagged:
    # they really do record worse. Nothing else may be.
    trust = _make_trust(np.random.default_rng(seed), 12, None)
    careless = set(np.asarray(trust.ids)[trust.poor])
    clean = _funnel(seed, None)
    assert _high(clean) <= careless
    # Plant in the two largest careful settings (a small one cannot show a difference).
    careful = clean[~clean["unit"].isin(careless | _high(clean))]
    targets = tuple(careful.sort_values("n", ascending=False)["unit"].head(2))
    planted = _high(_funnel(seed, RecordingPlan(targets, 0.7)))
    assert set(targets) <= planted
    assert planted - set(targets) <= careless


def test_summary_names_the_planted_settings_and_not_a_careful_trust(tmp_path: Path) -> None:
    frame = assess(
        generate(12, 3, seed=2, poor_recording=RecordingPlan(("S05", "S08"), 0.7)),
        with_states=True,
    )
    report = report_on(frame, tmp_path)
    states = recording.requirement_states(frame, POLICY)
    per_requirement = report.protect(
        recording.requirements(states),
        row_total="n_incidents",
        rates={"share_fell_short": recording.SHARE_RESTS_ON},
    )
    per_setting = recording.setting_shares(frame, states, 5)
    funnel = recording.setting_funnel(frame, states, 5)
    devices = recording.devices_returned(frame)
    text = recording.summary(report, per_requirement, funnel, per_setting, devices)
    assert "S05" in text and "S08" in text
    assert "above the 99.8% limits" in text

    calm = funnel.assign(outside_998="", outside_95="")
    text = recording.summary(report, per_requirement, calm, per_setting, devices)
    assert "No setting leaves recording gaps" in text


def test_by_term_counts_add_up(assessed: pd.DataFrame) -> None:
    table = recording.by_term(assessed, recording.requirement_states(assessed, POLICY))
    assert table["n_incidents"].sum() == len(assessed)
    assert (table["n_with_gap"] + table["n_without_gap"] == table["n_incidents"]).all()
    assert (table["low_gap"] <= table["rate_gap"]).all()
    assert (table["rate_gap"] <= table["high_gap"]).all()
    assert table["period"].iloc[0] == "2022-23 autumn"


def test_timeliness_medians_percentiles_and_undecided() -> None:
    days = [1, 2, 3, 4, 10, None]
    frame = frame_of(
        [
            {
                "incident_id": f"T{i}",
                "reported_on": "2024-10-01",
                "decided_on": None if d is None else str(date(2024, 10, 1 + d)),
            }
            for i, d in enumerate(days)
        ]
    )
    table = recording.timeliness(frame, "setting")
    row = table.iloc[0]
    assert (row["n_incidents"], row["n_decided"], row["n_no_decision_date"]) == (6, 5, 1)
    assert row["median_days"] == 3
    assert row["p90_days"] == 10  # a day some decision took, never one in between
    by_term = recording.timeliness(frame, "term")
    assert by_term["period"].tolist() == ["2024-25 autumn"]
    few = recording.timeliness(frame, "setting", threshold=6).iloc[0]
    assert pd.isna(few["median_days"]) and pd.isna(few["p90_days"])  # five dates: withheld
    assert recording.timeliness(frame, "setting", threshold=5).iloc[0]["median_days"] == 3


def test_devices_returned_split_by_risk() -> None:
    low_risk = {
        **NO_FACTORS,
        "consensual": True,
        "device_seized": True,
        "device_returned": True,
    }
    frame = assess(
        frame_of(
            [
                {"incident_id": "A", **low_risk},
                {"incident_id": "B", **low_risk, "adult_involved": True},
                {"incident_id": "C", **low_risk, "threats_or_coercion": None},
                {"incident_id": "D", **low_risk, "device_returned": False},
            ]
        )
    )
    table = recording.devices_returned(frame).iloc[0]
    assert table["n_returned"] == 3
    assert table["n_guidance_refer"] == 1
    assert table["n_guidance_undecided"] == 1
    assert table["n_low_risk"] + table["n_not_shown_low_risk"] == 1
    assert recording.returned_not_low_risk(recording.devices_returned(frame)) == 3 - int(
        table["n_low_risk"]
    )
    two = recording.devices_by_setting(recording.devices_returned(frame)).iloc[0]
    assert two["n_low_risk"] + two["n_not_low_risk"] == two["n_returned"] == 3
    reasons = recording.devices_by_reason(recording.devices_returned(frame))
    assert reasons["n_phones"].sum() == two["n_not_low_risk"]


def test_setting_shares_are_withheld_where_their_counts_could_be_worked_out(
    assessed: pd.DataFrame,
) -> None:
    states = recording.requirement_states(assessed, POLICY)
    shares = recording.setting_shares(assessed, states, threshold=5)
    assert list(shares.columns) == ["setting", "requirement", "share_fell_short"]  # no counts
    settings = assessed["setting_id"].astype(str).to_numpy()
    short_mask = (states.codes == recording.NOT_DONE) | (states.codes == recording.NOT_RECORDED)
    for k, title in enumerate(states.titles):
        rows = shares[shares["requirement"] == title].set_index("setting")
        short = pd.Series(short_mask[:, k]).groupby(settings).sum()
        met = pd.Series(states.codes[:, k] == recording.MET).groupby(settings).sum()
        small = short.between(1, 4) | met.between(1, 4)
        assert rows.loc[small[small].index, "share_fell_short"].isna().all()
        # no requirement has exactly one withheld setting: the trust total would give it away
        hidden = rows["share_fell_short"].isna() & ((short + met) > 0).reindex(rows.index)
        assert hidden.sum() != 1
    open_shares = recording.setting_shares(assessed, states, threshold=0)
    assert open_shares["share_fell_short"].notna().sum() > shares["share_fell_short"].notna().sum()


def test_no_setting_is_named_whose_published_rate_is_blank(
    assessed: pd.DataFrame, tmp_path: Path
) -> None:
    states = recording.requirement_states(assessed, POLICY)
    table = recording.setting_funnel(assessed, states).assign(outside_998="high")
    shown = report_on(assessed, tmp_path).protect(
        recording.funnel_counts(table), **recording.FUNNEL_PUBLISH
    )
    blank = shown["rate"].isna().to_numpy()[: len(table)]
    assert blank.any() and not blank.all()
    published = recording.as_published(table, shown)
    assert (published.loc[blank, "outside_998"] == "").all()
    assert published.loc[blank, "rate"].isna().all()
    assert (published.loc[~blank, "outside_998"] == "high").all()
    assert published.attrs["theta"] == table.attrs["theta"]
