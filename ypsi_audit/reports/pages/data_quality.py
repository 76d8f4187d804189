"""Data quality: what was read and held back, which fields are left blank, and how often
the guidance cannot decide an incident because of it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..ledger import TOTAL, Figure, counted, none_shown, of_the, said, share_text
from ..page import Headline, Page
from ..words import field_words, no_incidents, selection_words, zero_note
from . import Context
from .recording_figures import equals

NAME = "data_quality"
TITLE = "Data quality"
INTRO = (
    "How complete the incident log is: what was checked, what was held back, which fields "
    "the guidance needs are left blank, and how often that stops the guidance deciding."
)
SECTIONS = ("summary", "held_back", "blanks", "undecided")
ATTENTION_UNDECIDED = 0.10  # a tenth of incidents undecided is worth a safeguarding lead's time


def build(ctx: Context) -> Page:
    page = Page(NAME, TITLE, INTRO)
    current = ctx.current
    total = ctx.ledger.table(
        "incidents_by_outcome",
        caption="Incidents by what the guidance says",
        cols="outcome",
        where=current,
    )
    undecided = total.value(TOTAL, "insufficient_information")
    all_incidents = total.value(TOTAL, TOTAL)
    share_undecided = total.share("insufficient_information", TOTAL)
    blanks = _blank_shares(ctx, current)

    summary = page.section("summary", "Summary")
    summary.add(
        "figures",
        rows=[
            {"label": "incidents assessed", "value": all_incidents.text},
            {"label": "the guidance cannot decide", "value": undecided.text},
            {"label": "share undecided", "value": share_undecided.text},
        ],
    )
    empty = none_shown(all_incidents, undecided)
    if empty:
        summary.say(_empty_sentence(ctx))
    else:
        summary.say(
            _summary_sentence(all_incidents, undecided, share_undecided, blanks, ctx.spec)
            + zero_note(ctx.spec, [undecided])
        )
    _held_back(ctx, page)
    _blanks_section(ctx, page, blanks)
    _undecided_section(ctx, page, current, undecided)

    blanked = blanks[blanks["share"].notna() & (blanks["share"].fillna(0) > 0)]
    worst = blanked.iloc[0] if len(blanked) else None  # a field shown with no blanks is no ask
    attention = bool(share_undecided.shown and share_undecided.value >= ATTENTION_UNDECIDED)
    look = []
    if worst is not None:
        look.append(
            f"Ask settings to fill in “{worst['field']}”: it is blank in "
            f"{share_text(worst['share'])} of incidents{AS_SHOWN if ctx.spec.publication else ''}."
        )
    if empty:
        held = _rows_held_back(ctx)
        page.headlines.append(
            Headline(
                area="Data quality",
                status=_empty_sentence(ctx, front=True),
                section="held_back" if held else "summary",
                attention=False,
                empty=not held,
            )
        )
        return page
    page.headlines.append(
        Headline(
            area="Data quality",
            status=(
                f"The guidance cannot decide {said(undecided)} of "
                f"{_incidents(all_incidents)}{_in_brackets(share_undecided)} because a field "
                "it needs was left blank."
            ),
            look_at=look,
            section="blanks",
            attention=attention,
        )
    )
    return page


# A publication's shares of blanks are of adjusted counts (one shown as the threshold can
# be 1), so an ask built on them says so.
AS_SHOWN = " as shown (counts adjusted for publication)"


def _rows_held_back(ctx: Context) -> int:
    """Rows of the whole log the checks held back, as the internal page counts them (a
    publication does not count them)."""
    if ctx.spec.publication:
        return 0
    gate = ctx.log.gate
    return int(gate.get("rows_read", 0)) - int(gate.get("rows_valid", 0))


def _empty_sentence(ctx: Context, *, front: bool = False) -> str:
    """A selection with no incidents: nothing to review, unless the checks held rows of
    the log back (they are counted on this page whatever the selection)."""
    held = _rows_held_back(ctx)
    if not held:
        return no_incidents(ctx.spec, where="in this area" if front else "on this page")
    rows = "row" if held == 1 else "rows"
    where = "" if front else ", counted under “Rows read and held back”"
    return (
        f"There are no incidents {selection_words(ctx.spec)}, so no field can be checked for "
        f"blanks; the checks held back {held:,} {rows} of the whole log{where}."
    )


def _summary_sentence(
    all_incidents: Figure, undecided: Figure, share: Figure, blanks: pd.DataFrame, spec: Any
) -> str:
    text = (
        f"{of_the(all_incidents, 'incidents')}, the guidance cannot decide {said(undecided)}"
        f"{_in_brackets(share)}: a field it needs was left blank, and a blank is never read "
        "as “no”."
    )
    top = blanks.dropna(subset=["share"])
    top = top[top["share"] > 0].head(3)
    if len(top):
        named = "; ".join(f"{r.field.lower()} ({share_text(r.share)})" for r in top.itertuples())
        shown = AS_SHOWN if spec.publication else ""
        text += f" The fields most often left blank{shown}: {named}."
    return text


def _held_back(ctx: Context, page: Page) -> None:
    section = page.section("held_back", "Rows read and held back")
    gate = ctx.log.gate
    if ctx.spec.publication:
        section.say(
            "Rows that failed the checks are listed, with their reasons, in the safeguarding "
            "team's internal report; they are not counted here."
        )
        return
    read, valid = int(gate.get("rows_read", 0)), int(gate.get("rows_valid", 0))
    section.say(
        f"Of {read:,} rows read, {valid:,} passed every check and {read - valid:,} were held "
        "back. Held-back rows are not assessed; they are listed with their row numbers in the "
        "quarantine file, never on this page."
    )
    checks = gate.get("failures_by_check", [])
    section.add(
        "table",
        caption="Checks that failed, and how many rows each held back",
        columns=[
            {"key": "reason", "label": "What was wrong"},
            {"key": "rows", "label": "Rows", "align": "right"},
        ],
        rows=[{"reason": str(c["reason"]), "rows": f"{int(c['n_rows']):,}"} for c in checks],
        name="rows_held_back",
    )


def _blank_shares(ctx: Context, current: np.ndarray) -> pd.DataFrame:
    """For each field the policy's factors read: the share of incidents with it blank,
    from one published table per field (settings by blank or filled)."""
    rows = []
    for column in [c for c in ctx.incidents.columns if c.startswith("blank:")]:
        field = column.removeprefix("blank:")
        table = ctx.ledger.table(
            f"blank_{field}_by_setting",
            caption=f"Incidents with “{field_words(field)}” blank, by setting",
            rows="setting",
            cols=column,
            where=current,
        )
        share = table.share("yes", TOTAL)
        rows.append(
            {
                "field": field_words(field),
                "column": field,
                "table": table,
                "share": share.value,
            }
        )
    out = pd.DataFrame(rows, columns=["field", "column", "table", "share"])
    return out.sort_values("share", ascending=False, na_position="last", kind="stable")


def _blanks_section(ctx: Context, page: Page, blanks: pd.DataFrame) -> None:
    section = page.section("blanks", "Fields left blank")
    if blanks.empty:
        section.say("The policy's factors read no field that can be left blank.")
        return
    settings = [s for s in blanks.iloc[0]["table"].row_order]
    columns = [
        {"key": "field", "label": "Field"},
        {"key": "all", "label": "All settings", "align": "right"},
    ]
    columns += [{"key": s, "label": s, "align": "right"} for s in settings]
    rows = []
    for record in blanks.itertuples():
        table = record.table
        row = {"field": record.field, "all": table.share("yes", TOTAL).text}
        for setting in settings:
            row[setting] = table.share("yes", TOTAL, row=setting).text
        rows.append(row)
    section.add(
        "table",
        caption="Share of incidents with each field the guidance needs left blank",
        columns=columns,
        rows=rows,
        note="A blank field is not recorded; the guidance cannot use it.",
        name="blank_fields_by_setting",
    )
    shown = blanks.dropna(subset=["share"])
    if len(shown):
        from ..charts import bar_chart

        chart = bar_chart(
            shown[["field", "share"]].reset_index(drop=True),
            "field",
            "share",
            "How often each field the guidance needs is left blank",
            "Share of incidents with the field blank",
        )
        section.add(
            "chart",
            svg=ctx.chart(chart),
            alt="Bar chart of the share of incidents in which each field the guidance needs "
            "was left blank, across the trust, largest first.",
        )


def _undecided_section(ctx: Context, page: Page, current: np.ndarray, undecided: Figure) -> None:
    section = page.section("undecided", "Incidents the guidance cannot decide")
    outcome = ctx.incidents["outcome"].astype(str).to_numpy()
    among = current & (outcome == "insufficient_information")
    rows = []
    for rule in ctx.log.policy.factors:
        table = ctx.ledger.table(
            f"undecided_{rule.id}",
            caption=f"Undecided incidents: whether “{rule.title}” could be settled",
            cols=f"factor:{rule.id}",
            where=among,
        )
        open_count = table.value(TOTAL, "unknown")
        left_open = among & equals(ctx, f"factor:{rule.id}", "unknown")
        blanks = []
        for field in sorted(rule.condition.columns()):
            blank = ctx.ledger.table(
                f"undecided_{rule.id}_blank_{field}",
                caption=f"Undecided incidents where “{rule.title}” is open: whether "
                f"{field_words(field).lower()} is blank",
                cols=f"blank:{field}",
                col_order=("yes", "no"),
                where=left_open,
            )
            count = blank.value(TOTAL, "yes").text
            blanks.append(f"{field_words(field).lower()} (blank in {count})")
        if open_count.shown and open_count.value == 0:
            continue
        rows.append({"factor": rule.title, "open": open_count.text, "fields": "; ".join(blanks)})
    section.say(
        f"When no factor is present but one cannot be ruled out because a field is blank, "
        f"the guidance's answer is that it cannot tell. That is the case for "
        f"{counted(undecided, 'incidents')}; their decisions cannot be checked against the "
        "guidance. An incident can have more than one open factor."
    )
    section.add(
        "table",
        caption="Factors left open in undecided incidents, and the fields they need",
        columns=[
            {"key": "factor", "label": "Factor"},
            {"key": "open", "label": "Undecided incidents where it is open", "align": "right"},
            {"key": "fields", "label": "Fields it needs, and how often each is blank"},
        ],
        rows=rows,
        name="undecided_factors",
    )


def _incidents(total: Figure) -> str:
    return f"{total.text} incidents" if total.shown else "all incidents"


def _in_brackets(share: Figure) -> str:
    """' (7%)' after a count, or nothing when the share is not shown."""
    return f" ({share.text})" if share.shown else ""
