"""The data-quality page, built as a run builds it, checked against counts made here from
the assessed rows: which factors stay open in the incidents the guidance cannot decide,
and which blank field leaves each open."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ypsi_audit import resources, states
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.ledger import TOTAL
from ypsi_audit.reports.pages import build_pages
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.reports.words import field_words


@pytest.fixture(scope="module", params=["cheshire-quick-guide", "ukcis-2024"])
def built(request: pytest.FixtureRequest) -> tuple:
    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out="unused", policy=request.param
    )
    log = AssessedLog.assess(spec)
    pages, ledger = build_pages(log, spec, ["data_quality"])
    return log, pages["data_quality"], ledger


def undecided_table(page) -> dict[str, dict[str, str]]:
    blocks = [
        b
        for b in page.section("undecided").blocks
        if b.kind == "table" and b.caption.startswith("Factors left open")
    ]
    assert len(blocks) == 1
    return {row["factor"]: row for row in blocks[0].rows}


def test_open_factors_and_their_blank_fields_agree_with_the_rows(built: tuple) -> None:
    log, page, _ = built
    undecided = log.frame["guidance_outcome"].astype(str).to_numpy() == "insufficient_information"
    rows = undecided_table(page)
    shown = 0
    for rule in log.policy.factors:
        open_ = undecided & (log.state("factors", rule.id) == states.UNKNOWN)
        if not open_.any():
            assert rule.title not in rows
            continue
        row = rows[rule.title]
        assert int(row["open"].replace(",", "")) == open_.sum(), rule.id
        for field in rule.condition.columns():
            blank = open_ & log.frame[field].isna().to_numpy()
            words = re.escape(field_words(field).lower())
            found = re.search(rf"{words} \(blank in ([\d,]+)\)", row["fields"])
            assert found, (rule.id, field)
            assert int(found.group(1).replace(",", "")) == blank.sum(), (rule.id, field)
            shown += 1
    assert shown >= 5  # the sample leaves several factors open, through several fields


def test_a_factor_is_only_open_where_one_of_its_fields_is_blank(built: tuple) -> None:
    """Every open factor has at least one blank field behind it: the breakdown explains
    every open count (an open factor with no blank field would be an engine fault)."""
    log, _, ledger = built
    undecided = log.frame["guidance_outcome"].astype(str).to_numpy() == "insufficient_information"
    for rule in log.policy.factors:
        open_ = undecided & (log.state("factors", rule.id) == states.UNKNOWN)
        any_blank = np.zeros(len(open_), dtype=bool)
        for field in rule.condition.columns():
            any_blank |= log.frame[field].isna().to_numpy()
            table = ledger.tables[f"undecided_{rule.id}_blank_{field}"]
            assert table.value(TOTAL, TOTAL).value == open_.sum()
        assert not (open_ & ~any_blank).any(), rule.id


def test_a_selection_without_incidents_still_points_at_rows_held_back() -> None:
    """An empty selection has nothing to review on this page, unless the checks held rows
    of the log back: those are counted here whatever the selection."""
    spec = RunSpec.build("report", input=str(resources.sample_log()), out="-", period="2030-31")
    log = AssessedLog.assess(spec)
    quiet = build_pages(log, spec, ["data_quality"])[0]["data_quality"]
    plain = "There are no incidents for this selection, so there is nothing to review"
    assert plain in " ".join(b.text for b in quiet.section("summary").blocks)
    assert quiet.headlines[0].empty
    log.gate = {**log.gate, "rows_read": 610, "rows_valid": 598}
    held = build_pages(log, spec, ["data_quality"])[0]["data_quality"]
    summary = " ".join(b.text for b in held.section("summary").blocks)
    assert "nothing to review" not in summary
    assert "the checks held back 12 rows of the whole log" in summary
    assert "Of 610 rows read, 598 passed every check and 12 were held back" in " ".join(
        b.text for b in held.section("held_back").blocks
    )
    assert not held.headlines[0].empty and held.headlines[0].section == "held_back"


def test_no_field_shown_without_blanks_is_named_as_often_blank() -> None:
    """A tiny publication showed every field's blanks as 0 and still said "Ask settings to
    fill in 'Age of the youngest child involved': it is blank in 0% of incidents". A field
    is named, on the page and the front page, only where its blanks are shown as more
    than none; the sample's own most-blank field is named when its count is shown."""
    import pandas as pd

    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out="unused", audience="publication"
    )
    log = AssessedLog.assess(spec)

    def blanks_shown_as(value: float | None):
        def protect(ledger) -> dict:
            out = {}
            for name, t in ledger.tables.items():
                values = t.true.astype(float)
                if value is not None and name.startswith("blank_"):
                    values.loc[:, "yes"] = value
                    values.loc[:, TOTAL] = values.drop(columns=TOTAL).sum(axis=1)
                out[name] = (values, pd.DataFrame("", index=values.index, columns=values.columns))
            return out

        return protect

    none = build_pages(log, spec, ["data_quality"], protect=blanks_shown_as(0.0))[0]
    page = none["data_quality"]
    summary = " ".join(b.text for b in page.section("summary").blocks)
    assert "most often left blank" not in summary and "(0%)" not in summary
    assert not any("Ask settings to fill in" in line for line in page.headlines[0].look_at)
    exact = build_pages(log, spec, ["data_quality"], protect=blanks_shown_as(None))[0]
    ask = [x for x in exact["data_quality"].headlines[0].look_at if "Ask settings" in x]
    # a publication's shares are of adjusted counts (an outside attacker read "blank in
    # 24%" from a count shown as 10 that was 1), so the ask says it is as shown
    assert len(ask) == 1 and ask[0].endswith(" as shown (counts adjusted for publication).")
    summary = " ".join(b.text for b in exact["data_quality"].section("summary").blocks)
    assert "The fields most often left blank as shown (counts adjusted for publication): " in (
        summary
    )
    internal = build_pages(log, spec.with_(audience="internal"), ["data_quality"])[0]
    assert "as shown" not in " ".join(internal["data_quality"].headlines[0].look_at)
