"""The recording and handling page, built as a run builds it (`build_pages`), checked
against counts made here, independently, from the assessed rows."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import binom
from support import NO_FACTORS, frame_of, run_notebook

from ypsi_audit import contract, resources, states
from ypsi_audit.engine import assess
from ypsi_audit.policy import load_policy
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.ledger import Ledger
from ypsi_audit.reports.page import Block, Page
from ypsi_audit.reports.pages import build_pages, recording, recording_figures
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.stats import academic_year

CHESHIRE, UKCIS = "cheshire-quick-guide", "ukcis-2024"
SHORT = (states.NOT_DONE, states.NOT_RECORDED)


# ---------------------------------------------------------------------------- helpers


def sample_log(policy: str, period: str | None = None) -> tuple[AssessedLog, RunSpec]:
    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out="unused", policy=policy, period=period
    )
    return AssessedLog.assess(spec), spec


def page_of(log: AssessedLog, spec: RunSpec, **options: Any) -> Page:
    pages, _ = build_pages(log, spec, ["recording"], **options)
    return pages["recording"]


def log_of(frame: pd.DataFrame, policy: str = CHESHIRE, **options: Any) -> tuple:
    spec = RunSpec.build("report", input="made here", out="unused", policy=policy, **options)
    assessed = assess(frame, spec.policy.policy(), with_states=True)
    return AssessedLog.of(assessed, {}, spec), spec


def table(page: Page, section: str, caption: str) -> Block:
    found = [
        b
        for b in page.section(section).blocks
        if b.kind == "table" and b.caption.startswith(caption)
    ]
    assert len(found) == 1, f"no single table '{caption}' in {section}"
    return found[0]


def by_first(block: Block) -> dict[str, dict[str, str]]:
    first = block.columns[0]["key"]
    return {row[first]: row for row in block.rows}


def texts(page: Page, section: str) -> str:
    return " ".join(b.text for b in page.section(section).blocks if b.kind == "text")


def number(text: str) -> int:
    return int(text.replace(",", ""))


def percent(k: int, n: int) -> str:
    return f"{100 * k / n:.0f}%"


def everything(page: Page) -> str:
    """Every word a reader can meet: sections, tables, chart text and headlines."""
    parts = [page.title, page.intro]
    for section in page.sections:
        for block in section.blocks:
            parts += [block.text, block.caption, block.note, block.alt, *block.items]
            parts += [c["label"] for c in block.columns]
            parts += [str(v) for row in block.rows for v in row.values()]
            if block.svg:
                parts.append(block.svg)
    for line in page.headlines:
        parts += [line.area, line.status, *line.look_at]
    return "\n".join(parts)


def codes(log: AssessedLog, rule_id: str, mask: np.ndarray | None = None) -> np.ndarray:
    values = log.frame[states.column("recording", rule_id)].to_numpy()
    return values if mask is None else values[mask]


def any_gap(log: AssessedLog) -> np.ndarray:
    columns = [states.column("recording", r.id) for r in log.policy.recording]
    return np.isin(log.frame[columns].to_numpy(), SHORT).any(axis=1)


def settings_of(log: AssessedLog) -> np.ndarray:
    return log.frame["setting_id"].astype(str).to_numpy()


def identity(ledger: Ledger) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """A 'protection' that publishes every true count: the decoy pass must still agree."""
    return {
        name: (t.true.astype(float), pd.DataFrame("", index=t.true.index, columns=t.true.columns))
        for name, t in ledger.tables.items()
    }


@pytest.fixture(scope="module")
def cheshire() -> tuple[AssessedLog, RunSpec, Page]:
    log, spec = sample_log(CHESHIRE)
    return log, spec, page_of(log, spec)


@pytest.fixture(scope="module")
def ukcis() -> tuple[AssessedLog, RunSpec, Page]:
    log, spec = sample_log(UKCIS)
    return log, spec, page_of(log, spec)


@pytest.fixture(scope="module")
def published_sample() -> tuple[AssessedLog, RunSpec]:
    """The shipped sample assessed once for a publication (Cheshire guide)."""
    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out="unused", policy=CHESHIRE,
        audience="publication",
    )  # fmt: skip
    return AssessedLog.assess(spec), spec


@pytest.fixture(params=[CHESHIRE, UKCIS])
def either(request: pytest.FixtureRequest, cheshire: tuple, ukcis: tuple) -> tuple:
    return cheshire if request.param == CHESHIRE else ukcis


# ---------------------------------------------------------------------------- numbers


def test_every_section_is_built(either: tuple) -> None:
    _, _, page = either
    assert [s.id for s in page.sections] == list(recording.SECTIONS)
    assert all(s.blocks for s in page.sections)


def test_each_requirement_agrees_with_a_count_of_its_states(either: tuple) -> None:
    log, _, page = either
    rows = by_first(table(page, "requirements", "Each requirement"))
    assert list(rows) == [rule.title for rule in log.policy.recording]  # titles, in order
    for rule in log.policy.recording:
        row, state = rows[rule.title], codes(log, rule.id)
        expect = {
            "met": (state == states.MET).sum(),
            "not_done": (state == states.NOT_DONE).sum(),
            "not_recorded": (state == states.NOT_RECORDED).sum(),
            "unsettled": (state == states.UNSETTLED).sum(),
        }
        for key, value in expect.items():
            assert number(row[key]) == value, (rule.id, key)
        assert number(row["concerns"]) == (state != states.NOT_APPLICABLE).sum()
        known = expect["met"] + expect["not_done"] + expect["not_recorded"]
        short = expect["not_done"] + expect["not_recorded"]
        assert row["share"] == (percent(short, known) if known else "–")  # unsettled left out


def test_settings_table_and_positions_agree_with_an_exact_test(either: tuple) -> None:
    log, _, page = either
    gap, setting = any_gap(log), settings_of(log)
    rows = by_first(table(page, "settings", "Each setting's incidents"))
    theta = gap.mean()
    assert rows["All settings"]["share"] == percent(gap.sum(), len(gap))
    words = {"above_998": "above the outer", "above_95": "above the inner"}
    for unit in np.unique(setting):
        k, n = int(gap[setting == unit].sum()), int((setting == unit).sum())
        row = rows[unit]
        assert (number(row["incidents"]), number(row["with_gap"])) == (n, k)
        upper = binom.sf(k - 1, n, theta)  # chance of k or more at the trust's rate
        lower = binom.cdf(k, n, theta)
        if upper <= 0.001:
            assert row["position"].startswith(words["above_998"]), unit
        elif upper <= 0.025:
            assert row["position"].startswith(words["above_95"]), unit
        elif lower >= 0.025:
            assert row["position"] == "within the limits", unit
        else:
            assert row["position"].startswith("below"), unit


def test_the_samples_planted_poor_recorders_stand_out(either: tuple) -> None:
    _, _, page = either
    rows = by_first(table(page, "settings", "Each setting's incidents"))
    for planted in ("S05", "S08"):  # the sample's RecordingPlan
        assert rows[planted]["position"].startswith("above the outer"), planted
    summary = texts(page, "summary")
    assert "S05" in summary and "S08" in summary
    assert "All 12 settings could be compared." in summary
    headline = page.headlines[0]
    assert headline.attention
    assert any("S05" in line and "S08" in line for line in headline.look_at)


def test_grid_shares_agree_with_a_count_per_setting(either: tuple) -> None:
    log, _, page = either
    setting = settings_of(log)
    grids = [
        b
        for b in page.section("settings").blocks
        if b.kind == "table" and b.caption.startswith("Share not met, by setting")
    ]
    assert all(len(b.columns) <= 8 for b in grids)  # fits A4 portrait
    cells = {}
    for block in grids:
        titles = {c["key"]: c["label"] for c in block.columns[1:]}
        for row in block.rows:
            for key, title in titles.items():
                cells[(row["setting"], title)] = row[key]
    for rule in log.policy.recording:
        state = codes(log, rule.id)
        for unit in [*np.unique(setting), "All settings"]:
            mine = state if unit == "All settings" else state[setting == unit]
            known = np.isin(mine, (states.MET, *SHORT)).sum()
            short = np.isin(mine, SHORT).sum()
            want = "–" if not known else f"{percent(short, known)} ({known})"
            assert cells[(unit, rule.title)] == want, (unit, rule.id)


def test_trend_counts_every_term_of_every_year(cheshire: tuple) -> None:
    log, _, page = cheshire
    years = academic_year(log.frame["reported_on"]).astype(str).to_numpy()
    terms = log.term.astype(str).to_numpy()
    gap = any_gap(log)
    rows = by_first(table(page, "trend", "Incidents with at least one requirement not met"))
    assert len(rows) == 3 * len(np.unique(years))
    for label, row in rows.items():
        year, term = label.split()
        mask = (years == year) & (terms == term)
        assert (number(row["n"]), number(row["k"])) == (mask.sum(), gap[mask].sum()), label


def test_year_on_year_compares_the_last_two_years(cheshire: tuple) -> None:
    log, _, page = cheshire
    years = academic_year(log.frame["reported_on"]).astype(str).to_numpy()
    gap, setting = any_gap(log), settings_of(log)
    block = table(page, "year_on_year", "Share of incidents with a requirement not met")
    assert [c["label"] for c in block.columns[1:3]] == ["2023-24", "2024-25"]
    rows = by_first(block)
    for unit in np.unique(setting):
        for year, key in (("2023-24", "before"), ("2024-25", "now")):
            mask = (setting == unit) & (years == year)
            want = f"{percent(gap[mask].sum(), mask.sum())} ({mask.sum()})" if mask.any() else "–"
            assert rows[unit][key] == want, (unit, year)
    said = texts(page, "year_on_year")
    assert "2024-25" in said and "2023-24" in said


def test_timeliness_bands_and_middle_decision_agree_with_the_dates(either: tuple) -> None:
    log, _, page = either
    days = (
        pd.to_datetime(log.frame["decided_on"]) - pd.to_datetime(log.frame["reported_on"])
    ).dt.days.to_numpy(dtype=float)
    setting = settings_of(log)
    bands = by_first(table(page, "timeliness", "Incidents by days"))
    summary = by_first(table(page, "timeliness", "How quickly each setting decided"))
    edges = {"same day": (0, 0), "1 day": (1, 1), "2 to 3 days": (2, 3), "4 to 7 days": (4, 7),
             "8 to 14 days": (8, 14), "15 days or more": (15, 10**6)}  # fmt: skip
    for unit in [*np.unique(setting), "All settings"]:
        mine = days if unit == "All settings" else days[setting == unit]
        dated = np.sort(mine[~np.isnan(mine)])
        for band, (low, high) in edges.items():
            want = ((dated >= low) & (dated <= high)).sum()
            assert number(bands[unit][band]) == want, (unit, band)
        assert number(bands[unit]["no decision date"]) == np.isnan(mine).sum()
        middle = dated[(len(dated) - 1) // 2]  # the lower of two middle decisions
        band = next(b for b, (low, high) in edges.items() if low <= middle <= high)
        assert summary[unit]["middle"] == band, unit
        assert summary[unit]["week"] == percent((dated <= 7).sum(), len(dated))


def test_timeliness_term_by_term_agrees_with_the_dates(either: tuple) -> None:
    log, _, page = either
    days = (
        pd.to_datetime(log.frame["decided_on"]) - pd.to_datetime(log.frame["reported_on"])
    ).dt.days.to_numpy(dtype=float)
    period = (log.year.astype(str) + " " + log.term.astype(str)).to_numpy()
    rows = by_first(table(page, "timeliness", "How quickly decisions were made, term by term"))
    assert len(rows) == 3 * len(log.years())  # every term of every year, empty or not
    for label, row in rows.items():
        mine = days[period == label]
        dated = np.sort(mine[~np.isnan(mine)])
        assert number(row["dated"]) == len(dated), label
        assert number(row["undated"]) == np.isnan(mine).sum(), label
        if len(dated):
            assert row["week"] == percent((dated <= 7).sum(), len(dated)), label


def test_the_front_page_names_where_devices_went_back_in_police_cases(cheshire: tuple) -> None:
    log, _, page = cheshire
    frame = log.frame
    back = frame["device_returned"].fillna(False).to_numpy(dtype=bool)
    police = frame["guidance_outcome"].astype(str).to_numpy() == "refer_police"
    counts = pd.Series(settings_of(log)[back & police]).value_counts()
    line = next(x for x in page.headlines[0].look_at if "devices were given back" in x)
    assert line.startswith(f"{(back & police).sum()} devices")
    named = re.findall(r"(S\d+) \((\d+)\)", line)
    top = counts.sort_values(ascending=False, kind="stable")
    assert [int(k) for _, k in named] == top.head(3).tolist()
    assert all(counts[s] == int(k) for s, k in named)
    assert "as shown" not in line  # exact counts


def test_a_publication_ranks_devices_given_back_as_shown(published_sample: tuple) -> None:
    """Counts shown as 5 can be 1 to 9, so a publication's "the most in" is said to be as
    shown (an outside attacker read a ranking of settings on counts shown as 5)."""
    log, spec = published_sample
    page = page_of(log, spec, protect=identity)
    line = next(x for x in page.headlines[0].look_at if "devices were given back" in x)
    assert line.endswith(" as shown (adjusted for publication).")


def test_a_publication_says_devices_by_setting_can_add_to_more_than_the_total(
    published_sample: tuple,
) -> None:
    """Trust F of the eighth outside attack: "8 devices were given back ..., the most in
    S02 (8) and S01 (5)": the settings named, as shown, add to more than the total."""
    from ypsi_audit.reports.ledger import TOTAL
    from ypsi_audit.reports.pages.recording_figures import REFER

    log, spec = published_sample

    def total_shown_low(ledger: Ledger) -> dict:
        shown = identity(ledger)
        values, _ = shown["recording_devices_by_setting"]
        named = values.loc[values.index != TOTAL, REFER].sort_values(ascending=False)
        values.loc[TOTAL, REFER] = float(named.iloc[0])  # the total shown as the largest part
        return shown

    line = next(
        x for x in page_of(log, spec, protect=total_shown_low).headlines[0].look_at
        if "devices were given back" in x
    )  # fmt: skip
    named = [int(k) for k in re.findall(r"S\d+ \((\d+)\)", line)]
    assert len(named) > 1 and sum(named) > int(line.split(" ", 1)[0])
    assert line.endswith("so these can add up to more than the total).")


def test_days_band_edges() -> None:
    days = np.array([0, 1, 2, 3, 4, 7, 8, 14, 15, 400, np.nan])
    assert recording_figures.days_band(days).tolist() == [
        "same day", "1 day", "2 to 3 days", "2 to 3 days", "4 to 7 days", "4 to 7 days",
        "8 to 14 days", "8 to 14 days", "15 days or more", "15 days or more",
        "no decision date",
    ]  # fmt: skip


def test_devices_given_back_by_setting_and_by_case(either: tuple) -> None:
    log, _, page = either
    frame = log.frame
    back = frame["device_returned"].astype("boolean").fillna(False).to_numpy(bool)
    outcome = frame["guidance_outcome"].astype(str).to_numpy()
    low = frame["experimental"].astype("boolean").fillna(False).to_numpy(bool)
    low_risk = (outcome == "handle_in_setting") & low
    setting = settings_of(log)
    rules = recording_figures.device_rules(log.policy)
    expected = {  # found by what their rules read, not by id
        CHESHIRE: ["device_return_safeguards"],
        UKCIS: ["device_returned_despite_criterion", "deletion_not_confirmed"],
    }
    assert [r.id for r in rules] == expected[log.policy.id]
    rows = by_first(table(page, "devices", "Devices given back, by setting"))
    for unit in [*np.unique(setting), "All settings"]:
        mask = back & ((setting == unit) if unit != "All settings" else True)
        row = rows[unit]
        assert number(row["returned"]) == mask.sum()
        assert number(row["not_low"]) == (mask & ~low_risk).sum()
        for k, rule in enumerate(rules):
            assert number(row[f"r{k}"]) == np.isin(codes(log, rule.id, mask), SHORT).sum()
    cases = by_first(table(page, "devices", "Devices given back, by what the guidance"))
    refer = next(label for label in cases if label.startswith("The guidance says refer"))
    assert number(cases[refer]["returned"]) == (back & (outcome == "refer_police")).sum()
    assert log.route in refer
    said = texts(page, "devices")
    assert f"Of {back.sum()} devices given back, {(back & ~low_risk).sum()} were" in said


def test_scope_is_shown_apart_only_where_the_policy_has_one(ukcis: tuple, cheshire: tuple) -> None:
    log, _, page = ukcis
    inside = log.frame[states.IN_SCOPE].to_numpy() == states.PRESENT
    rows = by_first(table(page, "scope", "Share not met"))
    for rule in log.policy.recording:
        state = codes(log, rule.id, inside)
        known = np.isin(state, (states.MET, *SHORT)).sum()
        short = np.isin(state, SHORT).sum()
        want = "–" if not known else f"{percent(short, known)} ({known})"
        assert rows[rule.title]["inside"] == want, rule.id
    assert log.policy.scope.title in texts(page, "scope")
    _, _, other = cheshire
    assert not [b for b in other.section("scope").blocks if b.kind == "table"]
    assert "not split" in texts(other, "scope")


# ---------------------------------------------------------------------------- rules


def test_every_number_comes_from_the_ledger(cheshire: tuple) -> None:
    """The second pass of a publication reads shuffled rows: a number worked out from the
    rows directly would change; one read from the ledger cannot."""
    log, spec, page = cheshire
    decoyed = page_of(log, spec, protect=identity, decoy_seed=3)
    assert decoyed.to_json() == page.to_json()


def _ids(policy: Any) -> set[str]:
    found = {policy.id, policy.label}
    for section in ("factors", "experimental", "recording"):
        found |= {rule.id for rule in policy.rules(section)}
    found |= {c.name for c in contract.COLUMNS if "_" in c.name}
    for column in contract.COLUMNS:
        found |= {code for code in column.codes if "_" in code}
    found |= {c for c in (*contract.CONSISTENCY, *contract.OUTCOMES) if "_" in c}
    found |= {s for s in states.REQUIREMENT if "_" in s} | {"any_gap", recording_figures.DAYS}
    found.add(recording_figures.DEVICE_CASE)
    return found


def leaked_ids(page: Page, policy: Any) -> list[str]:
    text = everything(page)
    return [i for i in _ids(policy) if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]


def test_no_internal_id_reaches_the_page(either: tuple) -> None:
    log, _, page = either
    assert not leaked_ids(page, log.policy)
    probe = Page("probe", "Probe", "")
    probe.section("summary").say(f"See {log.policy.recording[-1].id}.")  # the check can fail
    assert leaked_ids(probe, log.policy) == [log.policy.recording[-1].id]


def test_the_route_is_named_as_the_policy_names_it(ukcis: tuple) -> None:
    _, _, page = ukcis
    text = everything(page)
    assert "the police or children's social care" in text
    assert not re.search(r"to the police(?! or children)", text)


def test_summary_agrees_with_the_tables_beside_it(either: tuple) -> None:
    log, _, page = either
    gap = any_gap(log)
    summary = texts(page, "summary")
    assert f"Of {len(gap)} incidents, {gap.sum()} ({percent(gap.sum(), len(gap))})" in summary
    figures = {r["label"]: r["value"] for r in page.section("summary").blocks[0].rows}
    assert number(figures["with a requirement not met"]) == gap.sum()
    assert "nothing" not in summary.lower() and "Every requirement was met" not in summary
    rows = by_first(table(page, "requirements", "Each requirement"))
    worst = max(
        (r for r in rows.values() if r["share"] != "–"),
        key=lambda r: (
            (number(r["not_done"]) + number(r["not_recorded"]))
            / (number(r["met"]) + number(r["not_done"]) + number(r["not_recorded"]))
        ),
    )
    assert f"“{worst['requirement']}” ({worst['share']}" in summary


def _careful(**more: Any) -> dict[str, Any]:
    """A low-risk case handled in school with every step recorded."""
    return {
        **NO_FACTORS,
        "consensual": True,
        "motivation": "romantic",
        "high_risk_vulnerability": False,
        "persistent_contact": False,
        "contact_age_appropriate": True,
        "decision": "handled_in_setting",
        "decided_on": "2025-03-04",
        "rationale_recorded": True,
        "parents_informed": True,
        "image_viewed": False,
        "device_returned": False,
        "image_sent_to_staff": False,
        "parents_disagreed": False,
        **more,
    }


def test_a_careful_log_says_nothing_fell_short_and_one_phone_changes_that() -> None:
    records = [{"incident_id": f"A{i}", **_careful()} for i in range(8)]
    log, spec = log_of(frame_of(records))
    page = page_of(log, spec)
    summary = texts(page, "summary")
    assert "None of the 8 incidents fell short" in summary
    assert "Every requirement was met" in summary
    assert "No device was recorded as given back." in summary
    assert not page.headlines[0].attention

    # One phone handed back in a case the guidance refers, nothing recorded about it.
    records[0] = {**records[0], "adult_involved": True, "device_seized": True,
                  "device_returned": True}  # fmt: skip
    log, spec = log_of(frame_of(records))
    page = page_of(log, spec)
    summary = texts(page, "summary")
    assert "None of" not in summary and "Every requirement was met" not in summary
    assert "Of 8 incidents, 1 (12%) fell short" in summary
    assert "Of 1 devices given back, 1 were in cases not shown to be low risk" in summary
    assert "“Phone returned without the safeguards” was not met for 1" in summary
    rows = by_first(table(page, "requirements", "Each requirement"))
    assert rows["Phone returned without the safeguards"]["not_done"] == "1"


def test_not_done_not_recorded_and_cannot_tell_are_told_apart() -> None:
    viewed = {"image_viewed": True}
    records = [
        _careful(incident_id="A", **viewed, viewing_authorised=False),
        _careful(incident_id="B", **viewed),
        _careful(
            incident_id="C",
            **viewed,
            viewing_authorised=True,
            viewing_witnessed=True,
            viewing_recorded=True,
        ),
        _careful(incident_id="D"),
        _careful(incident_id="E", image_viewed=None),
    ]
    log, spec = log_of(frame_of(records))
    row = by_first(table(page_of(log, spec), "requirements", "Each requirement"))[
        "Image viewed without the safeguards"
    ]
    got = (row["concerns"], row["met"], row["not_done"], row["not_recorded"], row["unsettled"])
    assert got == ("4", "1", "1", "1", "1")
    assert row["share"] == "67%"


def test_a_period_restricts_every_table_and_labels_the_context() -> None:
    log, spec = sample_log(UKCIS, period="2023-24")
    page = page_of(log, spec)
    years = academic_year(log.frame["reported_on"]).astype(str).to_numpy()
    now = years == "2023-24"
    gap, setting = any_gap(log), settings_of(log)
    rows = by_first(table(page, "settings", "Each setting's incidents"))
    assert number(rows["All settings"]["incidents"]) == now.sum()
    for unit in np.unique(setting):
        mask = now & (setting == unit)
        assert number(rows[unit]["with_gap"]) == gap[mask].sum()
    requirement = by_first(table(page, "requirements", "Each requirement"))
    rule = log.policy.recording[1]
    assert number(requirement[rule.title]["met"]) == (codes(log, rule.id, now) == states.MET).sum()
    trend = table(page, "trend", "Incidents with at least one requirement not met")
    assert "for context" in trend.caption
    chosen = [r["period"] for r in trend.rows if "(chosen year)" in r["period"]]
    assert chosen == [f"2023-24 {term} (chosen year)" for term in ("autumn", "spring", "summer")]
    yoy = table(page, "year_on_year", "Share of incidents")
    assert [c["label"] for c in yoy.columns[1:3]] == ["2022-23", "2023-24"]
    bands = by_first(table(page, "timeliness", "Incidents by days"))
    assert (
        number(bands["All settings"]["no decision date"])
        == (log.frame["decided_on"].isna().to_numpy() & now).sum()
    )


def test_a_publication_says_a_trust_change_within_chance_is_so_as_shown(
    published_sample: tuple,
) -> None:
    """The trust's incidents with a requirement not met shown as 0 of 10 last year and 5 of
    15 this year: within chance as shown (p = 0.06), but a shown 0 can be 4 and a shown 5
    can be 9 or 1, so a publication does not say plainly 'within what chance can produce';
    the same figures taken as true (the internal page) do."""
    from ypsi_audit.reports.ledger import TOTAL

    log, spec = published_sample

    def trust_shown(ledger: Ledger) -> dict:
        out = identity(ledger)
        for year, (yes, no) in (("2023-24", (0, 10)), ("2024-25", (5, 10))):
            values, _ = out[f"recording_gaps_by_setting_{year}"]
            values.loc[TOTAL, ["yes", "no", TOTAL]] = [yes, no, yes + no]
        return out

    plain = "rose from 0% to 33%, within what chance can produce."
    pages, _ = build_pages(log, spec.with_(audience="internal"), ["recording"],
                           protect=trust_shown)  # fmt: skip
    assert plain in texts(pages["recording"], "year_on_year")
    said = texts(page_of(log, spec, protect=trust_shown), "year_on_year")
    assert plain not in said
    assert "rose from 0% to 33%, within what chance can produce as shown, though the true " in said
    rows = table(page_of(log, spec, protect=trust_shown), "year_on_year", "Share of incidents")
    assert by_first(rows)["All settings"]["beyond"] == "no, as shown"


def test_a_single_year_says_there_is_no_year_before() -> None:
    log, spec = sample_log(CHESHIRE, period="2022-23")
    page = page_of(log, spec)
    assert "no academic year before 2022-23" in texts(page, "year_on_year")
    assert not [b for b in page.section("year_on_year").blocks if b.kind == "table"]


def _custom_policy(tmp_path: Path, *, keep_devices: bool) -> Path:
    tree = yaml.safe_load(Path(load_policy(CHESHIRE).path).read_text(encoding="utf-8"))
    tree["id"], tree["version"] = "our-trust-variant", "1"
    kept = []
    for rule in tree["recording"]:
        if rule["id"] == "device_return_safeguards":
            if not keep_devices:
                continue
            rule["id"], rule["title"] = "handset_checks", "Handset handed back unchecked"
        if rule["id"] == "rationale_not_recorded":
            rule["title"] = "Why we decided is not written down"
        kept.append(rule)
    tree["recording"] = kept
    path = tmp_path / "our-policy.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("keep_devices", [True, False])
def test_a_custom_policy_file_works(tmp_path: Path, keep_devices: bool) -> None:
    path = _custom_policy(tmp_path, keep_devices=keep_devices)
    spec = RunSpec.build("report", input=str(resources.sample_log()), out="unused",
                         policy=str(path))  # fmt: skip
    log = AssessedLog.assess(spec)
    page = page_of(log, spec)
    rows = by_first(table(page, "requirements", "Each requirement"))
    assert "Why we decided is not written down" in rows
    assert not leaked_ids(page, log.policy)
    devices = texts(page, "devices")
    if keep_devices:
        assert [r.id for r in recording_figures.device_rules(log.policy)] == ["handset_checks"]
        assert "“Handset handed back unchecked”" in devices
        table(page, "devices", "Devices given back, by setting")
    else:
        assert "no requirement about a device given back" in devices
        assert "devices given back when not shown to be low risk" not in json.dumps(
            page.section("summary").blocks[0].rows
        )


def test_charts_are_drawn_from_the_published_figures(cheshire: tuple) -> None:
    _, _, page = cheshire
    charts = [b for s in page.sections for b in s.blocks if b.kind == "chart"]
    assert len(charts) == 3  # requirements, funnel, trend
    funnel = next(c for c in charts if "Funnel" in c.alt)
    svg = funnel.svg
    assert svg.startswith("<svg") and "S05" in svg and "S08" in svg
    assert all(b.alt for b in charts)
    base64.b64encode(svg.encode())  # embeddable as a data: image


# ---------------------------------------------------------------------------- notebook


def test_the_notebook_shows_each_section_once_in_order() -> None:
    tree = json.loads((resources.notebook_dir() / "recording.ipynb").read_text())
    cells = tree["cells"]
    assert len({c["id"] for c in cells}) == len(cells)
    assert all(re.fullmatch(r"[a-z0-9-]+", c["id"]) for c in cells)
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1 and "spec = None" in "".join(parameters[0]["source"])
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert 'page = open_page("recording", spec)' in code[1]
    shown = [re.fullmatch(r'page\.show\("(\w+)"\)', c) for c in code[2:]]
    assert all(shown) and [m[1] for m in shown] == list(recording.SECTIONS)
    markdown = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "Cheshire" not in markdown and "UKCIS" not in markdown  # policy-neutral
    assert not re.search(r"\bpolice\b", markdown)


def test_the_notebook_runs_on_a_run_specification(tmp_path: Path, cheshire: tuple) -> None:
    from ypsi_audit.reports.notebook import page_file

    _, spec, page = cheshire
    work = tmp_path / "work"
    page_file(work, "recording").parent.mkdir(parents=True)
    page_file(work, "recording").write_text(page.to_json(), encoding="utf-8")
    out = tmp_path / "recording.ipynb"
    run_notebook(
        resources.notebook_dir() / "recording.ipynb",
        out,
        cwd=tmp_path,
        parameters={"spec": spec.with_(work=str(work)).to_json()},
    )
    shown = json.loads(out.read_text())
    html = [
        "".join(o["data"]["text/html"])
        for c in shown["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert len(html) == len(recording.SECTIONS)
    assert all(f'id="{s}"' in h for s, h in zip(recording.SECTIONS, html, strict=True))


def withhold_small(ledger: Ledger) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """A crude protection for the test: every count from 1 to 4 withheld as "<5"."""
    out = {}
    for name, t in ledger.tables.items():
        shown = t.true.astype(float).where(~t.true.isin([1, 2, 3, 4]))
        marks = pd.DataFrame(np.where(shown.isna(), "<5", ""), t.true.index, t.true.columns)
        out[name] = (shown, marks)
    return out


@pytest.mark.parametrize("policy", [CHESHIRE, UKCIS])
def test_withheld_figures_are_said_as_such_and_never_named(policy: str) -> None:
    from ypsi_audit.synth import generate

    log, spec = log_of(generate(6, 1, seed=3, today=pd.Timestamp("2026-11-24").date()), policy)
    page = page_of(log, spec, protect=withhold_small)
    text = everything(page)
    assert "not shown (not shown)" not in text and "nan" not in text.lower().split()
    rows = by_first(table(page, "settings", "Each setting's incidents"))
    hidden = [s for s, r in rows.items() if r["share"] == "not shown"]
    assert hidden  # the crude protection hides some settings' shares
    assert all(rows[s]["position"] == "not compared" for s in hidden)
    summary = texts(page, "summary")
    placed = len(rows) - 1 - len(hidden)
    assert f"{placed} of {len(rows) - 1} settings could be compared" in summary
    named = set(re.findall(r"S\d\d", summary + " ".join(page.headlines[0].look_at)))
    assert not named & set(hidden)
    for block in (b for s in page.sections for b in s.blocks if b.kind == "table"):
        for row in block.rows:
            for value in list(row.values())[1:]:
                assert not re.fullmatch(r"[1-4]", value), (block.caption, row)


def test_a_term_whose_shown_count_exceeds_its_shown_total_is_drawn_at_all_of_it() -> None:
    """In a publication the two cells are adjusted apart, so 9 of 8 can be shown (an
    outside attack's per-setting pack stopped here with exit 70): the term is drawn at
    100%, with its interval, not refused."""
    from ypsi_audit.reports.ledger import Figure
    from ypsi_audit.reports.pages import recording_time

    rows = [
        {"period": "2023-24 autumn", "year": "2023-24", "k": Figure(9.0, "9"),
         "n": Figure(8.0, "8")},
        {"period": "2023-24 spring", "year": "2023-24", "k": Figure(3.0, "3"),
         "n": Figure(12.0, "12")},
    ]  # fmt: skip
    chart = recording_time._trend_chart(rows, None)
    values = chart.to_dict()["datasets"]
    (data,) = values.values()
    assert [round(r["rate"], 2) for r in data] == [1.0, 0.25]
    assert data[0]["high"] == pytest.approx(1.0) and data[0]["low"] < 1.0


def test_a_publication_explains_a_part_shown_larger_than_its_whole(published_sample: tuple) -> None:
    """A tiny publication showed "31% of the 16 incidents it is known to apply to" beside
    11 incidents in all: the summary says why. The same page built from the true counts,
    and any internal page, never says it."""
    from ypsi_audit.reports.ledger import TOTAL

    log, spec = published_sample

    def true_counts(ledger: Ledger) -> dict:
        return {
            name: (
                t.true.astype(float),
                pd.DataFrame("", index=t.true.index, columns=t.true.columns),
            )
            for name, t in ledger.tables.items()
        }

    def total_shown_as_5(ledger: Ledger) -> dict:
        shown = true_counts(ledger)
        values, _ = shown["recording_gaps_by_setting"]
        values.loc[:, TOTAL] = 5.0  # every setting's incidents, and the trust's, shown as 5
        return shown

    note = "Some of these figures are shown larger than the figure they are part of."
    small = texts(page_of(log, spec, protect=total_shown_as_5), "summary")
    assert note in small and "a count from 1 to 4 is shown as 0 or 5" in small
    assert note not in texts(page_of(log, spec, protect=true_counts), "summary")
    internal, internal_spec = sample_log(CHESHIRE)
    assert note not in texts(page_of(internal, internal_spec), "summary")


def test_a_publication_says_what_a_share_is_of_when_its_split_does_not_add_up(
    published_sample: tuple,
) -> None:
    """A tiny publication said "Of 11 incidents, 7 (58%) fell short": 58% is 7 of the 12
    shown as falling short or not. The summary names that denominator; built from the true
    counts, whose split adds up, it does not."""
    from ypsi_audit.reports.ledger import TOTAL

    log, spec = published_sample

    def shown(ledger: Ledger, *, bump: int) -> dict:
        out = {
            name: (
                t.true.astype(float),
                pd.DataFrame("", index=t.true.index, columns=t.true.columns),
            )
            for name, t in ledger.tables.items()
        }
        values, _ = out["recording_gaps_by_setting"]
        values.loc[TOTAL, TOTAL] += bump  # the trust's incidents shown one more than its split
        return out

    pages, ledger = build_pages(
        log, spec, ["recording"], protect=lambda ledger: shown(ledger, bump=1)
    )
    gaps = ledger.tables["recording_gaps_by_setting"].true
    yes, no = int(gaps.at[TOTAL, "yes"]), int(gaps.at[TOTAL, "no"])
    summary = texts(pages["recording"], "summary")
    assert (
        f"is of the {yes + no:,} incidents shown as falling short ({yes:,}) or not ({no:,}); "
        f"counts adjusted for publication need not add up to the {yes + no + 1:,} incidents"
    ) in summary
    assert "incidents shown as falling short" in pages["recording"].headlines[0].status
    exact = texts(page_of(log, spec, protect=lambda ledger: shown(ledger, bump=0)), "summary")
    assert "incidents shown as falling short" not in exact


def test_a_publication_does_not_call_a_shortfall_shown_as_0_none(published_sample: tuple) -> None:
    """A tiny publication said "8 (53%) fell short" and then "Every requirement was met":
    each requirement's shortfall was shown as 0, which there can be 1 to 4. The summary
    says what is shown and how the two fit; the internal page keeps its plain sentence."""
    from ypsi_audit.reports.ledger import TOTAL

    log, spec = published_sample

    def shortfalls_shown_as_0(ledger: Ledger) -> dict:
        out = {}
        for name, t in ledger.tables.items():
            values = t.true.astype(float)
            if name.startswith("recording_") and "not_done" in values.columns:
                values.loc[:, ["not_done", "not_recorded"]] = 0.0
                values.loc[:, TOTAL] = values.drop(columns=TOTAL).sum(axis=1)
            out[name] = (values, pd.DataFrame("", index=values.index, columns=values.columns))
        return out

    pages, ledger = build_pages(log, spec, ["recording"], protect=shortfalls_shown_as_0)
    with_gap = int(ledger.tables["recording_gaps_by_setting"].true.at[TOTAL, "yes"])
    assert with_gap > 0
    summary = texts(pages["recording"], "summary")
    assert "Every requirement was met" not in summary
    assert (
        "No requirement is shown as not met in any incident (a count from 1 to 4 is shown as "
        f"0 or 5). The {with_gap:,} incidents shown as falling short did so against "
        "requirements each missed too few times to show."
    ) in summary
    assert "Shown as not met in no incident (a count from 1 to 4" in texts(
        pages["recording"], "requirements"
    )

    # A careful log published as it is: its 0s are said to be shown, not promised.
    careful, careful_spec = log_of(
        frame_of([{"incident_id": f"A{i}", **_careful()} for i in range(8)]),
        audience="publication",
    )
    exact = lambda ledger: {  # noqa: E731
        name: (t.true.astype(float), pd.DataFrame("", index=t.true.index, columns=t.true.columns))
        for name, t in ledger.tables.items()
    }
    summary = texts(page_of(careful, careful_spec, protect=exact), "summary")
    assert (
        "None of the 8 incidents is shown as falling short of a recording or handling "
        "requirement of the policy (a count from 1 to 4 is shown as 0 or 5). No requirement "
        "is shown as not met in any incident either."
    ) in summary


def test_a_single_setting_is_not_compared_with_itself() -> None:
    """With one setting chosen, the trust's share is the setting's own: the page says there
    is nothing to compare it with, never "all 1 settings could be compared"."""
    from ypsi_audit.reports.compare import ONE_SETTING

    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out="unused", policy=CHESHIRE,
        settings="S04",
    )  # fmt: skip
    page = page_of(AssessedLog.assess(spec), spec)
    summary = texts(page, "summary")
    assert ONE_SETTING in summary and "could be compared" not in summary
    assert "above the limits" not in summary


def test_no_undated_decision_is_said_plainly_and_a_shown_0_with_what_it_stands_for() -> None:
    """An outside attacker read "0 incidents have no decision date: most are still open"
    in a publication where 4 had none (shown as 0). Every decision dated: the internal
    page says so; a publication showing 0 says what a 0 stands for; neither gives reasons
    for undated decisions that are not there."""
    from ypsi_audit.loading import load_incidents

    frame = load_incidents(str(resources.sample_log()))
    frame["decided_on"] = frame["decided_on"].fillna(frame["reported_on"])
    log, spec = log_of(frame)
    said = texts(page_of(log, spec), "timeliness")
    assert "Every incident has a decision date." in said
    assert "0 incidents have no decision date" not in said and "still open" not in said
    log, spec = log_of(frame, audience="publication")
    said = texts(page_of(log, spec, protect=identity), "timeliness")
    assert "No incident is shown without a decision date (a count from 1 to 4 is shown " in said
    assert "still open" not in said
