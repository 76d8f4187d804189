"""The fairness figures: comparisons worked out from published count tables only, that
find a planted bias over several seeds and groups and invent nothing without one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import states
from ypsi_audit.engine import assess
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.ledger import Ledger
from ypsi_audit.reports.pages import Context, incident_frame
from ypsi_audit.reports.pages import fairness_figures as ff
from ypsi_audit.reports.spec import PolicyRef, RunSpec
from ypsi_audit.stats import mantel_haenszel
from ypsi_audit.synth import BiasPlan, generate

TODAY = date(2026, 11, 24)
SPEC = RunSpec(
    command="report", input="synthetic", out="-", policy=PolicyRef.resolve("cheshire-quick-guide")
)
CLEAN_SEEDS = range(1, 7)
# At 99.8% a comparison of groups treated alike is flagged 1 time in 500. Over the clean
# seeds' comparisons (40 each) about 0.5 false findings are expected; Poisson(0.48) goes
# beyond 3 about 1 time in 500, so more than 3 means the method invents differences.
MOST_BY_CHANCE = 3


def _log(seed: int, bias: BiasPlan | None = None) -> AssessedLog:
    frame = generate(12, 3, seed=seed, bias=bias, incidents_per_setting_year=40, today=TODAY)
    return AssessedLog.of(assess(frame, with_states=True), {})


def _context(log: AssessedLog, spec: RunSpec = SPEC) -> Context:
    return Context(log, spec, Ledger(incident_frame(log)))


def _results(log: AssessedLog) -> dict[tuple[str, str, str], ff.Comparison]:
    found = ff.compare_all(ff.declare(_context(log)))
    return {(c.column, c.group, c.measure.name): c for c in found}


@pytest.fixture(scope="module")
def clean() -> AssessedLog:
    return _log(5)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("column", "planted", "group"),
    [
        ("child_sen", "true", "yes"),
        ("child_ethnicity_group", "white", "white"),
        ("child_disadvantaged", "true", "yes"),
    ],
)
def test_a_planted_bias_is_found_from_the_groups_side(
    seed: int, column: str, planted: str, group: str
) -> None:
    results = _results(_log(seed, BiasPlan(column, planted, 0.3)))
    found = results[column, group, "under_escalation"]
    assert found.finding == "flag" and found.odds_ratio > 2 and found.attention
    assert found.k > 2 * found.expected  # "about N times as often" says the same
    said = ff.without_mirrors([c for c in results.values() if c.finding == "flag"])
    assert found in said
    assert (column, "no", "under_escalation") not in {
        (c.column, c.group, c.measure.name) for c in said
    }  # the mirror of a yes/no plant is said once, from the planted side


def test_nothing_is_invented_without_a_plant() -> None:
    invented = []
    made = 0
    for seed in CLEAN_SEEDS:
        results = list(_results(_log(seed)).values())
        made += sum(c.made for c in results)
        invented += ff.without_mirrors([c for c in results if c.finding == "flag"])
    assert made > 30 * len(CLEAN_SEEDS)  # the comparisons were made, not skipped
    assert len(invented) <= MOST_BY_CHANCE
    assert not [c for c in invented if c.measure is ff.UNDER]


def test_odds_ratio_from_published_tables_equals_one_from_the_rows(clean: AssessedLog) -> None:
    results = _results(clean)
    frame = clean.frame
    referred = frame[states.REFERRED].to_numpy()
    for column, group in (("child_sen", "yes"), ("child_ethnicity_group", "asian")):
        values = frame[column].astype("string").str.lower().fillna("")
        in_group = (values == ("true" if group == "yes" else group)).to_numpy()
        guidance = frame["guidance_outcome"].astype(str).to_numpy()
        decided = np.isin(referred, (states.ABSENT, states.PRESENT))
        rows = pd.DataFrame(
            {
                "in_group": in_group,
                "event": referred == states.ABSENT,
                "setting": frame["setting_id"].astype(str).to_numpy(),
            }
        )[decided & (guidance == "refer_police")]
        direct = mantel_haenszel(rows, "in_group", "event", ["setting"])
        ours = results[column, group, "under_escalation"]
        assert ours.by_setting
        assert ours.odds_ratio == pytest.approx(direct["odds_ratio"])
        assert ours.ci_low == pytest.approx(direct["ci_low"])
        compared = rows["setting"].isin(set(rows.loc[~rows["in_group"], "setting"]))
        assert ours.n == (rows["in_group"] & compared).sum()
        assert ours.k == (rows["in_group"] & rows["event"] & compared).sum()


def test_referral_holds_the_guidance_answer_and_the_setting_fixed(clean: AssessedLog) -> None:
    frame = clean.frame
    referred = frame[states.REFERRED].to_numpy()
    decided = np.isin(referred, (states.ABSENT, states.PRESENT))
    rows = pd.DataFrame(
        {
            "in_group": (frame["child_sex"].astype("string") == "female").fillna(False).to_numpy(),
            "event": referred == states.PRESENT,
            "answer": frame["guidance_outcome"].astype(str).to_numpy(),
            "setting": frame["setting_id"].astype(str).to_numpy(),
        }
    )[decided]
    direct = mantel_haenszel(rows, "in_group", "event", ["answer", "setting"])
    ours = _results(clean)["child_sex", "female", "referral"]
    assert ours.odds_ratio == pytest.approx(direct["odds_ratio"])


def test_strata_come_only_from_published_figures(clean: AssessedLog) -> None:
    ctx = _context(clean)
    tables = ff.declare(ctx)
    cells = ff.strata(tables, "child_sen", "yes", ff.UNDER, by_setting=False)
    table = tables.answers["child_sen", "refer_police"]
    kept, referred = table.value("yes", "no").value, table.value("yes", "yes").value
    assert cells.tolist()[0][:2] == [kept, referred]
    assert cells[0, 2] == table.value("Total", "no").value - kept
    # a withheld figure: the comparison cannot be worked out, and is not guessed
    table.shown.loc["yes", "no"] = np.nan
    assert ff.strata(tables, "child_sen", "yes", ff.UNDER, by_setting=False) is None
    assert ff.compare(tables, "child_sen", "yes", ff.UNDER).finding == "withheld"
    # published figures that do not add up (a group larger than its total) are not used
    table.shown.loc["yes", "no"] = table.shown.loc["Total", "no"] + 1
    assert ff.strata(tables, "child_sen", "yes", ff.UNDER, by_setting=False) is None


def test_comparisons_fall_back_to_the_whole_trust_when_counts_by_setting_are_withheld(
    clean: AssessedLog,
) -> None:
    tables = ff.declare(_context(clean))
    tables.by_setting["child_sen", "refer_police", "yes"].shown.iloc[0, 0] = np.nan
    found = ff.compare(tables, "child_sen", "yes", ff.UNDER)
    assert found.made and not found.by_setting


def test_natural_frequency_is_indirect_standardisation() -> None:
    # two strata: the group 3 of 10 and 2 of 4; the rest 1 of 10 and 5 of 10; a third
    # stratum with no other child is left out
    cells = np.array([[3, 7, 1, 9], [2, 2, 5, 5], [4, 0, 0, 0]], dtype=float)
    k, n, expected = ff.natural_frequency(cells)
    assert (k, n) == (5, 14)
    assert expected == pytest.approx(10 * 0.1 + 4 * 0.5)


def test_a_group_with_no_incidents_is_said_to_have_none(clean: AssessedLog) -> None:
    keep = (clean.frame["child_ethnicity_group"].astype("string") != "chinese").fillna(True)
    log = AssessedLog(clean.frame[keep.to_numpy()], clean.policy, clean.params)
    results = _results(log)
    assert results["child_ethnicity_group", "chinese", "under_escalation"].finding == "absent"


def test_attention_only_where_a_child_can_be_left_unprotected() -> None:
    def flagged(measure: ff.Measure, odds: float) -> ff.Comparison:
        return ff.Comparison("child_sex", "male", measure, "flag", odds_ratio=odds)

    assert flagged(ff.UNDER, 3.0).attention
    assert flagged(ff.UNDER, 0.3).attention  # then the other children are kept more often
    assert flagged(ff.REFERRAL, 0.3).attention
    assert not flagged(ff.REFERRAL, 3.0).attention  # never a call to refer less
    watch = ff.Comparison("child_sex", "male", ff.UNDER, "watch", odds_ratio=3.0)
    assert not watch.attention
