"""Escalation and consistency: whether settings referred the incidents the guidance says
should be referred, across the trust, term by term, setting by setting and year on year.

Every number comes from the ledger. The per-setting rates all rest on one published split
of each setting's incidents (`decisions_by_setting`: the decision against the guidance,
with incidents that cannot be judged split by whether the setting referred), so separate
rate tables cannot give a small count away between them. Only the direction that can
leave a child unprotected, not referring where the guidance says refer, is ever flagged;
a referral the guidance does not require is described, never counted against a setting.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..compare import compared, could_be_above, doubts, flagged
from ..ledger import TOTAL, counted, none_shown, of_the, said
from ..measures import (
    DECISION_SPLIT,
    GUIDANCE_REFER,
    REFERRAL,
    UNDER_ESCALATION,
)
from ..page import Headline, Page
from ..words import (
    CONTEXT_ONLY,
    NOT_RECORDED,
    empty_headline,
    no_incidents,
    shown_larger,
    zero_note,
)
from . import Context
from .escalation_detail import agreement, comparison, factors, police, scope
from .escalation_figures import (
    YEAR_TERM,
    Tables,
    interval_note,
    interval_text,
    not_referred,
    period_rows,
    period_words,
    prepare,
    rate,
    series_of,
    trust_not_referred,
    were,
)
from .escalation_settings import compare_settings, this_year_and_last

NAME = "escalation"
TITLE = "Escalation and consistency"
INTRO = (
    "Whether settings referred the incidents the guidance says should be referred: across "
    "the trust, term by term, setting by setting and year on year, with what the police "
    "did after a referral."
)
SECTIONS = (
    "summary",
    "trend",
    "settings",
    "year_on_year",
    "agreement",
    "factors",
    "police",
    "scope",
    "comparison",
)


# ---------------------------------------------------------------------------- building


def build(ctx: Context) -> Page:
    prepare(ctx)
    page = Page(NAME, TITLE, INTRO)
    current = ctx.current
    split = DECISION_SPLIT
    rows = period_rows(ctx)
    tables = Tables(
        outcomes=ctx.ledger.table(
            "incidents_by_outcome",
            caption="Incidents by what the guidance says",
            cols="outcome",
            where=current,
        ),
        by_term_referred=ctx.ledger.table(
            "referrals_by_term",
            caption="Incidents by academic year and term, and whether the setting referred",
            rows=YEAR_TERM,
            cols="referred",
            where=current,
            row_order=rows,
        ),
        by_term_outcome=ctx.ledger.table(
            "guidance_by_term",
            caption="Incidents by academic year and term, and what the guidance says",
            rows=YEAR_TERM,
            cols="outcome",
            where=current,
            row_order=rows,
        ),
        by_setting=ctx.ledger.table(
            "decisions_by_setting",
            caption="Each setting's incidents by the decision against the guidance",
            rows="setting",
            cols=split,
            where=current,
        ),
    )
    empty = _summary(ctx, page, tables)
    _trend(ctx, page, tables)
    placed = compare_settings(ctx, page, tables)
    this_year_and_last(ctx, page, tables)
    agreement(ctx, page)
    factors(ctx, page)
    police(ctx, page)
    scope(ctx, page)
    other = comparison(ctx, page)
    page.headlines.append(_headline(ctx, tables, placed, empty))
    if other is not None:
        page.headlines.append(other)
    return page


# ---------------------------------------------------------------------------- summary


def _summary(ctx: Context, page: Page, tables: Tables) -> bool:
    """The summary's figures and sentences; True when the selection holds no incidents
    (every figure shown as 0), which the summary then says plainly."""
    route = ctx.route
    out = tables.outcomes
    total = out.value(TOTAL, TOTAL)
    refer = out.value(TOTAL, "refer_police")
    handle = out.value(TOTAL, "handle_in_setting")
    unsure = out.value(TOTAL, "insufficient_information")
    referred = tables.by_term_referred.value(TOTAL, "yes")
    under = tables.by_setting.value(TOTAL, "under_escalation")
    section = page.section("summary", "Summary")
    section.add(
        "figures",
        rows=[
            {"label": "incidents", "value": total.text},
            {"label": f"the guidance says refer to {route}", "value": refer.text},
            {"label": "the setting may deal with it", "value": handle.text},
            {"label": "the guidance cannot tell (a field is blank)", "value": unsure.text},
            {"label": f"referred to {route}", "value": referred.text},
            {"label": "not referred though the guidance says refer", "value": under.text},
        ],
    )
    if none_shown(total, refer, handle, unsure, referred, under):
        section.say(no_incidents(ctx.spec) + (f" {CONTEXT_ONLY}" if ctx.spec.period else ""))
        return True
    section.say(
        f"In {period_words(ctx)}, settings logged {counted(total, 'incidents')}. The guidance "
        "says "
        f"{said(refer)} should have been referred to {route}; the setting may deal with "
        f"{said(handle)} itself; for {said(unsure)} it cannot tell, because a field it needs "
        "was left blank."
    )
    section.say(
        f"Settings referred {counted(referred, 'incidents')} to {route}. "
        f"{of_the(refer, 'incidents the guidance says refer', the=True)}, {said(under)} "
        f"{were(under)} not referred; the sections below show where, setting by setting and "
        "term by term." + zero_note(ctx.spec, [refer, handle, unsure, referred, under])
    )
    parts = ((refer, total), (handle, total), (unsure, total), (referred, total), (under, refer))
    if note := shown_larger(ctx.spec, parts):
        section.say(note)
    return False


# ---------------------------------------------------------------------------- trend


def _trend(ctx: Context, page: Page, tables: Tables) -> None:
    route = ctx.route
    section = page.section("trend", "Referrals term by term")
    referred, outcome = tables.by_term_referred, tables.by_term_outcome
    rows, chart_rows = [], []
    for key in referred.row_order:
        incidents = outcome.value(key, TOTAL)
        if key == NOT_RECORDED and incidents.shown and incidents.value == 0:
            continue
        guide = rate(outcome, GUIDANCE_REFER, key)
        done = rate(referred, REFERRAL, key)
        rows.append(
            {
                "period": "Date not recorded" if key == NOT_RECORDED else key.capitalize(),
                "incidents": incidents.text,
                "guidance": guide.text(),
                "guidance_ci": interval_text(guide),
                "referred": done.text(),
                "referred_ci": interval_text(done),
            }
        )
        if key != NOT_RECORDED:
            chart_rows.append({"period": key, **series_of("guidance_refer", guide),
                               **series_of("referred", done)})  # fmt: skip
    whole_guide = rate(outcome, GUIDANCE_REFER)
    whole_done = rate(referred, REFERRAL)
    section.say(
        f"Across {period_words(ctx)}, the guidance says refer to {route} for "
        f"{whole_guide.text('incidents')}; settings referred {whole_done.text('incidents')} "
        "whose record shows whether they referred."
    )
    if ctx.spec.period:
        section.say(
            f"Only the terms of {ctx.spec.period} are shown; the trust's trend across every "
            "year in the log is in the year-on-year section, as context."
        )
    chart = pd.DataFrame(chart_rows)
    if len(chart) and chart[["rate_referred", "rate_guidance_refer"]].notna().any().any():
        from .. import charts

        series = {
            "guidance_refer": GUIDANCE_REFER.label(route).capitalize(),
            "referred": f"Share referred to {route}",
        }
        drawn = charts.trend_chart(
            chart,
            series=series,
            title=f"Referrals to {route}, term by term",
            y_title="Share of incidents",
        )
        section.add(
            "chart",
            svg=ctx.chart(drawn),
            alt=(
                f"Line chart by term of the share of incidents the guidance says refer to "
                f"{route} and the share settings referred, each with its 95% interval."
            ),
            caption=(
                "Each point is one term; the bars are 95% intervals, the range the true "
                "share probably lies in given how few incidents a term has."
            ),
        )
    section.add(
        "table",
        caption="Referrals and what the guidance says, by academic year and term",
        columns=[
            {"key": "period", "label": "Academic year and term"},
            {"key": "incidents", "label": "Incidents", "align": "right"},
            {"key": "guidance", "label": "Guidance says refer", "align": "right"},
            {"key": "guidance_ci", "label": "95% interval", "align": "right"},
            {"key": "referred", "label": "Referred", "align": "right"},
            {"key": "referred_ci", "label": "95% interval", "align": "right"},
        ],
        rows=rows,
        note=(
            f"Guidance says refer: {GUIDANCE_REFER.explained(route)}. Referred: "
            f"{REFERRAL.explained(route)}.{interval_note(ctx.spec)}"
        ),
        name="referrals_by_term",
    )


# ---------------------------------------------------------------------------- headline


def _headline(ctx: Context, tables: Tables, placed: pd.DataFrame, empty: bool) -> Headline:
    route = ctx.route
    if empty:
        return empty_headline("Escalation and consistency", ctx.spec)
    table = tables.by_setting
    trust = rate(table, UNDER_ESCALATION)
    named = flagged(placed, UNDER_ESCALATION)
    k, n = compared(placed)
    look = []
    for level, why in (
        (
            "above_998",
            "far more than the trust's own rate would give a setting of its size, unlikely "
            "to be chance (above the funnel plot's outer limit)",
        ),
        (
            "above_95",
            "more than the trust's own rate would give a setting of its size, could be "
            "chance, worth watching (above the funnel plot's inner limit)",
        ),
    ):
        for setting in named[level]:
            share = rate(table, UNDER_ESCALATION, setting)
            look.append(f"{not_referred(f'**{setting}**', share, route)}: {why}.")
    most = _most_not_referred(table, exclude={*named["above_998"], *named["above_95"]})
    if most:
        look.append(
            f"Most incidents not referred though the guidance says refer: {most}. However "
            "they compare with the trust's rate, each is a decision to look at again."
            + (
                " These are the counts as shown: adjusted for publication, the true ones "
                "could rank differently."
                if ctx.spec.publication
                else ""
            )
        )
    if k < n and n > 1:
        look.append(f"{k} of {n} settings could be compared on the funnel plot.")
    doubt = could_be_above(placed)
    look += doubts(placed, "incidents not referred")
    published = ctx.spec.threshold if ctx.spec.publication else None
    status = f"In {period_words(ctx)}, {trust_not_referred(trust, route, published)}."
    if not named["above_998"] and not named["above_95"] and not doubt and k and n > 1:
        status += (
            " No setting lies above the funnel plot's limits."
            if k == n
            else " No setting that could be compared lies above the funnel plot's limits."
        )
    return Headline(
        area="Escalation and consistency",
        status=status,
        look_at=look,
        section="settings",
        attention=bool(named["above_998"] or named["above_95"] or doubt),
    )


def _most_not_referred(table: Any, exclude: set[str], most: int = 3) -> str:
    """The settings that kept the most incidents the guidance says refer (a count, not a
    rate: a large setting within the funnel's limits can still hold many), as words."""
    counts = []
    for setting in table.row_order:
        share = rate(table, UNDER_ESCALATION, setting)
        if setting != TOTAL and setting not in exclude and share.shown and share.k:
            counts.append((share.k, setting, share))
    counts.sort(key=lambda c: (-c[0], c[1]))
    return "; ".join(
        f"**{setting}**, {_whole(share.k)} of {_whole(share.n)}"
        for _, setting, share in counts[:most]
    )


def _whole(value: float | None) -> str:
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------- follow-up


def follow_up(log: Any, spec: Any, folder: Any) -> None:
    """The case lists for the safeguarding leads (internal audience only)."""
    from ..cases import write_case_lists

    write_case_lists(log, spec, folder)
