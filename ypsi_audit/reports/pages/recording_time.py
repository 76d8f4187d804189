"""The recording page over time: term by term (the chosen year, other years labelled as
context), each setting this year against last, and days from report to decision in
bands, with the middle decision worked out from the published counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..compare import CANT_TELL, NO_AS_SHOWN, chance_word, could_change_sentence, year_on_year
from ..ledger import TOTAL, CountTable, share_text
from ..measures import ANY_GAP
from ..page import Page
from ..words import NOT_RECORDED, TERMS, zero_caveat
from . import Context
from .recording_figures import (
    BAND_NAMES,
    DAYS,
    NO_DATE,
    WITHIN_WEEK,
    and_list,
    band_of,
    equals,
    names,
    share_cell,
    total_of,
)

# ---------------------------------------------------------------------------- over time


def _years(ctx: Context) -> list[str]:
    """The academic years of the log, from the year category (the same in any decoy)."""
    categories = ctx.incidents["year"].cat.categories
    return sorted(str(y) for y in categories if str(y) != NOT_RECORDED)


def trend_section(ctx: Context, page: Page) -> None:
    section = page.section("trend", "Term by term")
    years = _years(ctx)
    rows = []
    for year in years:
        table = ctx.ledger.table(
            f"recording_gaps_by_term_{year}",
            caption=f"Incidents with at least one requirement not met, by term of {year}",
            rows="term",
            row_order=TERMS,
            cols="any_gap",
            col_order=("yes", "no"),
            where=equals(ctx, "year", year),
        )
        for term in TERMS:
            k, n = table.value(term, "yes"), table.value(term, TOTAL)
            rows.append(
                {
                    "year": year,
                    "period": f"{year} {term}",
                    "k": k,
                    "n": n,
                    "share": table.share("yes", ("yes", "no"), row=term),
                }
            )
    chosen = ctx.spec.period
    if chosen:
        section.say(
            f"The chosen year is {chosen}; the other years of the log are shown for context, "
            "so the trend can be read."
        )
    dated = [r for r in rows if r["n"].shown and r["n"].value > 0 and r["share"].shown]
    if dated:
        section.say(_trend_sentence(dated, chosen))
        section.add(
            "chart",
            svg=ctx.chart(_trend_chart(dated, chosen)),
            alt="Line chart by term of the share of incidents with at least one requirement "
            "not met, with 95% intervals.",
            caption="Share of incidents with a requirement not met, term by term, with the "
            "range chance allows (95% interval)."
            + (f" The chosen year {chosen} is in blue; other years are context." if chosen else ""),
        )
    section.add(
        "table",
        caption="Incidents with at least one requirement not met, term by term"
        + (" (every year of the log, for context)" if chosen else ""),
        columns=[
            {"key": "period", "label": "Term"},
            {"key": "n", "label": "Incidents", "align": "right"},
            {"key": "k", "label": "With a requirement not met", "align": "right"},
            {"key": "share", "label": "Share", "align": "right"},
        ],
        rows=[
            {
                "period": r["period"]
                + (" (chosen year)" if chosen and r["year"] == chosen else ""),
                "n": r["n"].text,
                "k": r["k"].text,
                "share": r["share"].text,
            }
            for r in rows
        ],
        name="recording_by_term",
    )


def _trend_sentence(dated: list[dict[str, Any]], chosen: str | None) -> str:
    """The chosen year's terms; without one, the first term against the last."""
    if chosen:
        terms = [r for r in dated if r["year"] == chosen]
        if not terms:
            return f"No term of {chosen} has incidents to show."
        said = and_list([f"{r['share'].text} in {r['period'].split()[1]}" for r in terms])
        return (
            f"In {chosen}, the share of incidents with at least one requirement not met was {said}."
        )
    first, last = dated[0], dated[-1]
    if first is last:
        return f"The share of incidents with a requirement not met was {first['share'].text}."
    return (
        f"The share of incidents with at least one requirement not met was "
        f"{first['share'].text} in {first['period']} and {last['share'].text} in "
        f"{last['period']}."
    )


def _trend_chart(rows: list[dict[str, Any]], chosen: str | None) -> Any:
    from ...stats import wilson_interval
    from ..charts import context_trend_chart

    k = np.array([r["k"].value for r in rows], dtype=float)
    n = np.array([r["n"].value for r in rows], dtype=float)
    # In a publication k and n are two cells adjusted each on its own, so k can be shown
    # above n (an outside attack's per-setting pack stopped here): read that as all of n.
    k = np.minimum(k, n)
    low, high = wilson_interval(k, n)
    data = pd.DataFrame(
        {
            "period": [r["period"] for r in rows],
            "rate": k / n,
            "low": low,
            "high": high,
            "part": [
                "chosen year" if (chosen is None or r["year"] == chosen) else CONTEXT for r in rows
            ],
        }
    )
    return context_trend_chart(
        data,
        "Incidents with a requirement not met, term by term",
        "Share of incidents",
    )


CONTEXT = "other years, for context"


def previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def year_on_year_section(ctx: Context, page: Page) -> None:
    section = page.section("year_on_year", "This year against last year")
    years = _years(ctx)
    now = ctx.spec.period or (years[-1] if years else None)
    before = previous_year(now) if now else None
    if not now or before not in years:
        section.say(
            "The log holds no academic year before "
            + (f"{now}" if now else "the chosen one")
            + ", so no setting can be compared with its own previous year."
        )
        return
    tables = {
        year: ctx.ledger.table(
            f"recording_gaps_by_setting_{year}",
            caption=f"Incidents with at least one requirement not met, by setting, {year}",
            rows="setting",
            cols="any_gap",
            col_order=("yes", "no"),
            where=equals(ctx, "year", year),
        )
        for year in (before, now)
    }
    published = ctx.spec.threshold if ctx.spec.publication else None
    changes = year_on_year(tables[now], tables[before], ANY_GAP, threshold=published)
    if not ctx.spec.period:
        section.say(
            f"The latest academic year in the log, {now}, against {before} (the rest of the "
            "page covers every year)."
        )
    trust = changes[changes["setting"] == TOTAL].iloc[0]
    sentences = []
    if np.isfinite(trust["change"]):
        direction = "rose" if trust["change"] > 0 else "fell" if trust["change"] < 0 else "held"
        sentences.append(
            f"Across the trust, the share of incidents with a requirement not met {direction} "
            f"from {share_text(trust['rate_before'])} to {share_text(trust['rate_now'])}"
            + (
                ", more than chance would explain."
                if trust["beyond_chance"]
                else ", which as shown is more than chance would explain, but the adjustment "
                "made for publication could account for it."
                if trust["unsure"]
                else ", within what chance can produce as shown, though the true counts "
                "behind the adjusted ones could show a change beyond chance."
                if trust["could_change"]
                else ", within what chance can produce."
            )
        )
    settings = changes[changes["setting"] != TOTAL]
    worse = settings[settings["beyond_chance"] & (settings["change"] > 0)]["setting"].tolist()
    better = settings[settings["beyond_chance"] & (settings["change"] < 0)]["setting"].tolist()
    if worse:
        sentences.append(
            f"{names(worse)} had a requirement not met in more incidents than the year "
            "before, by more than chance would explain."
        )
    if better:
        sentences.append(f"{names(better)} improved by more than chance would explain.")
    tested = int(np.isfinite(settings["change"].to_numpy(dtype=float)).sum())
    unsure = settings[settings["unsure"]]["setting"].astype(str).tolist()
    if unsure:
        sentences.append(
            f"{names(unsure)} changed by more than chance would explain as shown, but the "
            "adjustment made to the counts for publication could account for that (“can't "
            "tell” below); the safeguarding team's own report shows the true change."
        )
    if not tested:
        sentences.append(
            "No setting could be compared year on year: none has figures shown in both years."
        )
    elif not worse and not better and not unsure:
        sentences.append(
            f"No setting changed by more than chance would explain ({tested} of "
            f"{len(settings)} settings had figures in both years)."
        )
        could = settings[settings["could_change"]]["setting"].astype(str).tolist()
        if could:
            sentences.append(could_change_sentence(could, tested))
    section.say(" ".join(sentences))
    rows = []
    for record in changes.itertuples():
        unit = str(record.setting)
        rows.append(
            {
                "setting": "All settings" if unit == TOTAL else unit,
                "before": _k_of_n(tables[before], unit),
                "now": _k_of_n(tables[now], unit),
                "change": _points(record.change),
                "beyond": chance_word(record).lower(),
            }
        )
    section.add(
        "table",
        caption=f"Share of incidents with a requirement not met: {now} against {before}",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "before", "label": f"{before}", "align": "right"},
            {"key": "now", "label": f"{now}", "align": "right"},
            {"key": "change", "label": "Change", "align": "right"},
            {"key": "beyond", "label": "More than chance?"},
        ],
        rows=rows,
        note="How to read this: each year shows the share and, in brackets, how many incidents "
        "it is of. The change is in percentage points. “More than chance” means Fisher's exact "
        "test gives p below 0.05: about one setting in twenty will show such a change by "
        "chance alone. “–”: no incidents, or a figure not shown, in one of the years."
        + (f" {CANT_TELL}" if unsure else "")
        + (f" {NO_AS_SHOWN}" if changes["could_change"].any() else ""),
        name="recording_year_on_year",
    )


def _k_of_n(table: CountTable, row: str) -> str:
    return share_cell(table.share("yes", ("yes", "no"), row=row), table.value(row, TOTAL))


def _points(change: float) -> str:
    if not np.isfinite(change):
        return "–"
    points = round(100 * change)
    if not points:
        return "no change"
    unit = "point" if abs(points) == 1 else "points"
    return f"{'up' if points > 0 else 'down'} {abs(points)} {unit}"


# ---------------------------------------------------------------------------- timeliness


def timeliness_section(ctx: Context, page: Page, current: np.ndarray) -> None:
    section = page.section("timeliness", "How quickly decisions are made")
    table = ctx.ledger.table(
        "recording_days_to_decision_by_setting",
        caption="Incidents by setting and days from the report to the decision",
        rows="setting",
        cols=DAYS,
        col_order=(*BAND_NAMES, NO_DATE),
        where=current,
    )

    def summary_of(row: str) -> dict[str, str]:
        counts = [table.value(row, band) for band in BAND_NAMES]
        middle = band_of(counts, 0.5)
        return {
            "dated": total_of(table, BAND_NAMES, row).text,
            "middle": middle or ("–" if all(f.shown for f in counts) else "not shown"),
            "week": table.share(WITHIN_WEEK, BAND_NAMES, row=row).text,
            "undated": table.value(row, NO_DATE).text,
        }

    trust = summary_of(TOTAL)
    counts = [table.value(TOTAL, band) for band in BAND_NAMES]
    middle = band_of(counts, 0.5)
    undated = table.value(TOTAL, NO_DATE)
    none_undated = undated.shown and undated.value == 0
    if none_undated:  # never "0 incidents have no decision date: most are still open"
        no_date = (
            f"No incident is shown without a decision date{zero_caveat(ctx.spec)}"
            if ctx.spec.publication
            else "Every incident has a decision date"
        )
    elif undated.shown:
        no_date = f"{undated.text} incidents have no decision date"
    else:
        no_date = "The number of incidents with no decision date is not shown"
    dated = total_of(table, BAND_NAMES, TOTAL)
    if middle:
        of_dated = f"the {dated.text} dated decisions" if dated.shown else "dated decisions"
        why = (
            ""
            if none_undated
            else ": most are still open, some were decided without the date being written down"
        )
        section.say(
            f"Across the trust, the middle decision was made {_band_words(middle)} after the "
            f"report, and {trust['week']} of {of_dated} within a week. {no_date}{why}."
        )
    else:
        are_dated = (
            f"{dated.text} decisions are dated"
            if dated.shown
            else ("The number of dated decisions is not shown")
        )
        section.say(f"{are_dated}. {no_date}.")
    slow = [
        s
        for s in table.row_order
        if band_of([table.value(s, band) for band in BAND_NAMES], 0.5) in BAND_NAMES[4:]
    ]
    if slow:
        slow_names = names(slow, capital=False)
        section.say(f"The middle decision took more than a week in {slow_names}.")
    rows = [{"setting": s, **summary_of(s)} for s in table.row_order]
    rows.append({"setting": "All settings", **trust})
    section.add(
        "table",
        caption="How quickly each setting decided",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "dated", "label": "Decisions dated", "align": "right"},
            {"key": "middle", "label": "The middle decision took"},
            {"key": "week", "label": "Decided within a week", "align": "right"},
            {"key": "undated", "label": "No decision date", "align": "right"},
        ],
        rows=rows,
        note="The middle decision is the median: half the dated decisions took no longer. It "
        "is given as the band it falls in, worked out from the counts below.",
        name="recording_timeliness",
    )
    headings = {name: name.capitalize() for name in (*BAND_NAMES, NO_DATE)}
    section.add(
        "table",
        caption="Incidents by days from the report to the decision",
        columns=[
            {"key": "setting", "label": "Setting"},
            *({"key": b, "label": headings[b], "align": "right"} for b in (*BAND_NAMES, NO_DATE)),
        ],
        rows=[
            {
                "setting": "All settings" if s == TOTAL else s,
                **{b: table.value(s, b).text for b in (*BAND_NAMES, NO_DATE)},
            }
            for s in [*table.row_order, TOTAL]
        ],
        name="recording_days_to_decision",
    )
    _timeliness_by_term(ctx, section)


def _timeliness_by_term(ctx: Context, section: Any) -> None:
    """Days to decision term by term: the chosen year, other years as context."""
    rows = []
    for year in _years(ctx):
        table = ctx.ledger.table(
            f"recording_days_to_decision_by_term_{year}",
            caption=f"Incidents by term of {year} and days from the report to the decision",
            rows="term",
            row_order=TERMS,
            cols=DAYS,
            col_order=(*BAND_NAMES, NO_DATE),
            where=equals(ctx, "year", year),
        )
        for term in TERMS:
            counts = [table.value(term, band) for band in BAND_NAMES]
            middle = band_of(counts, 0.5)
            rows.append(
                {
                    "period": f"{year} {term}",
                    "dated": total_of(table, BAND_NAMES, term).text,
                    "middle": middle or ("–" if all(f.shown for f in counts) else "not shown"),
                    "week": table.share(WITHIN_WEEK, BAND_NAMES, row=term).text,
                    "undated": table.value(term, NO_DATE).text,
                }
            )
    chosen = ctx.spec.period
    section.add(
        "table",
        caption="How quickly decisions were made, term by term",
        columns=[
            {"key": "period", "label": "Term"},
            {"key": "dated", "label": "Decisions dated", "align": "right"},
            {"key": "middle", "label": "The middle decision took"},
            {"key": "week", "label": "Decided within a week", "align": "right"},
            {"key": "undated", "label": "No decision date", "align": "right"},
        ],
        rows=rows,
        note=(
            f"The chosen year is {chosen}; the other years are shown for context."
            if chosen
            else "Every year of the log, so a change over time can be seen."
        ),
        name="recording_timeliness_by_term",
    )


def _band_words(band: str) -> str:
    return "on the same day" if band == "same day" else f"within {band}"
