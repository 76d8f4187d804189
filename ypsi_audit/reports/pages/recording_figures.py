"""The recording page's figures: the incident categories it counts by, the ledger
tables it declares, and the arithmetic on published cells it shares between sections.

Every requirement of the policy puts each incident in one state (the engine settles it
once, `states.py`): it does not apply; met; recorded as not done; not recorded (the only
gap is that nobody wrote the step down); or the record cannot tell. A share "not met" is
of the incidents a requirement is known to apply to: those the record cannot settle are
counted beside it, never read as met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...policy import Rule
from ..ledger import TOTAL, CountTable, Figure, count_text
from ..words import and_list
from . import Context

SHORT = ("not_done", "not_recorded")  # the requirement was not met
KNOWN = ("met", *SHORT)  # the requirement is known to apply
STATES = (*KNOWN, "unsettled")  # every state of an incident a requirement may concern

# Days from report to decision, in bands a reader can act on.
DAYS = "recording:days"
BANDS = (
    (0, 0, "same day"),
    (1, 1, "1 day"),
    (2, 3, "2 to 3 days"),
    (4, 7, "4 to 7 days"),
    (8, 14, "8 to 14 days"),
    (15, None, "15 days or more"),
)
NO_DATE = "no decision date"
BAND_NAMES = tuple(band[2] for band in BANDS)
WITHIN_WEEK = BAND_NAMES[:4]

# Devices given back, by what the guidance said about the case.
DEVICE_CASE = "recording:device_case"
DEVICE_COLUMN = "device_returned"
LOW_RISK = "low-risk case"
REFER = "guidance says refer"
UNDECIDED = "guidance cannot decide"
NOT_SHOWN = "low-risk conditions not all shown"
NOT_GIVEN_BACK = "no device given back"
CASES = (LOW_RISK, REFER, UNDECIDED, NOT_SHOWN)
NOT_LOW_RISK = (REFER, UNDECIDED, NOT_SHOWN)


def case_words(route: str) -> dict[str, str]:
    """What the guidance said about a case, as a table row names it."""
    return {
        LOW_RISK: "Low-risk: the setting may deal with it and every low-risk condition holds",
        REFER: f"The guidance says refer to {route}",
        UNDECIDED: "The guidance cannot decide: a field it needs is blank",
        NOT_SHOWN: "The setting may deal with it, but not every low-risk condition is shown",
    }


@dataclass
class Requirement:
    """One requirement of the policy and its table: settings by state, among the
    incidents it may concern (known to apply, or the record cannot tell)."""

    rule: Rule
    table: CountTable

    @property
    def title(self) -> str:
        return self.rule.title

    def not_met(self, row: str = TOTAL) -> Figure:
        return total_of(self.table, SHORT, row)

    def known(self, row: str = TOTAL) -> Figure:
        return total_of(self.table, KNOWN, row)

    def share(self, row: str = TOTAL) -> Figure:
        return self.table.share(SHORT, KNOWN, row=row)


@dataclass
class Devices:
    """The device tables, when the policy has a requirement about a device given back."""

    rules: list[Requirement] = field(default_factory=list)
    by_setting: CountTable | None = None  # settings by what the guidance said about the case
    by_case: dict[str, CountTable] = field(default_factory=dict)  # rule id -> case by state

    @property
    def any(self) -> bool:
        return self.by_setting is not None

    def returned(self, row: str = TOTAL) -> Figure:
        assert self.by_setting is not None
        return self.by_setting.value(row, TOTAL)

    def not_low_risk(self, row: str = TOTAL) -> Figure:
        assert self.by_setting is not None
        return total_of(self.by_setting, NOT_LOW_RISK, row)

    def not_met(self, rule_id: str, row: str = TOTAL) -> Figure:
        return total_of(self.by_case[rule_id], SHORT, row)


def equals(ctx: Context, column: str, value: str) -> np.ndarray:
    """Incidents whose category `column` is `value` (a mask, compared on the codes: a
    million rows are never turned into text)."""
    values = ctx.incidents[column]
    categories = list(values.cat.categories)
    if value not in categories:
        return np.zeros(len(values), dtype=bool)
    return values.cat.codes.to_numpy() == categories.index(value)


def total_of(table: CountTable, cols: Sequence[str], row: str = TOTAL) -> Figure:
    """The sum of published cells of one row, withheld when any of them is."""
    figures = [table.value(row, c) for c in cols]
    if any(not f.shown for f in figures):
        return Figure(None, "not shown", "rests on a number not shown")
    value = float(sum(f.value for f in figures))  # type: ignore[misc]
    return Figure(value, count_text(value))


# ---------------------------------------------------------------------------- building


def add_categories(ctx: Context) -> None:
    """Days to decision in bands, and what the guidance said about a device given back:
    categories the ledger counts by, made from the rows once, before any table."""
    frame = ctx.log.frame
    reported = pd.to_datetime(frame["reported_on"], errors="coerce")
    decided = pd.to_datetime(frame["decided_on"], errors="coerce")
    days = (decided - reported).dt.days.to_numpy(dtype=float)
    ctx.add_category(DAYS, days_band(days), [*BAND_NAMES, NO_DATE])

    low = equals(ctx, "experimental", "yes")
    case = np.select(
        [
            equals(ctx, "outcome", "refer_police"),
            equals(ctx, "outcome", "insufficient_information"),
            equals(ctx, "outcome", "handle_in_setting") & low,
        ],
        [REFER, UNDECIDED, LOW_RISK],
        NOT_SHOWN,
    ).astype(object)
    case[~given_back(frame)] = NOT_GIVEN_BACK
    ctx.add_category(DEVICE_CASE, case, [*CASES, NOT_GIVEN_BACK])


def days_band(days: np.ndarray) -> np.ndarray:
    """Whole days from report to decision as a band's name ("no decision date" if blank)."""
    out = np.full(len(days), NO_DATE, dtype=object)
    known = ~np.isnan(days)
    for low, high, name in BANDS:
        inside = (days >= low) if high is None else (days >= low) & (days <= high)
        out[inside & known] = name
    return out


def given_back(frame: pd.DataFrame) -> np.ndarray:
    """Incidents whose record says a device was given back."""
    if DEVICE_COLUMN not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[DEVICE_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)


def device_rules(policy: Any) -> list[Rule]:
    """The policy's requirements about a device given back: those whose `applies` (or,
    without one, whose condition) reads whether a device was given back."""
    return [
        rule
        for rule in policy.recording
        if DEVICE_COLUMN in (rule.applies or rule.condition).columns()
    ]


def requirement_tables(ctx: Context, current: np.ndarray) -> list[Requirement]:
    out = []
    for rule in ctx.log.policy.recording:
        column = f"requirement:{rule.id}"
        may_apply = ~equals(ctx, column, "not_applicable")
        table = ctx.ledger.table(
            f"recording_{rule.id}_by_setting",
            caption=f"Incidents “{rule.title}” may concern, by setting and whether it was met",
            rows="setting",
            cols=column,
            col_order=STATES,
            where=current & may_apply,
        )
        out.append(Requirement(rule, table))
    return out


def device_tables(ctx: Context, current: np.ndarray, requirements: list[Requirement]) -> Devices:
    ids = {rule.id for rule in device_rules(ctx.log.policy)}
    rules = [r for r in requirements if r.rule.id in ids]
    if not rules:
        return Devices()
    back = current & ~equals(ctx, DEVICE_CASE, NOT_GIVEN_BACK)
    by_setting = ctx.ledger.table(
        "recording_devices_by_setting",
        caption="Devices given back, by setting and what the guidance said about the case",
        rows="setting",
        cols=DEVICE_CASE,
        col_order=CASES,
        where=back,
    )
    by_case = {
        r.rule.id: ctx.ledger.table(
            f"recording_devices_{r.rule.id}",
            caption=f"Devices given back, by what the guidance said about the case and "
            f"whether “{r.title}” was met",
            rows=DEVICE_CASE,
            row_order=CASES,
            cols=f"requirement:{r.rule.id}",
            col_order=STATES,
            where=back,
        )
        for r in rules
    }
    return Devices(rules, by_setting, by_case)


# ---------------------------------------------------------------------------- summary


def share_cell(share: Figure, of: Figure) -> str:
    """A share with how many incidents it is of: "40% (15)"; "–" of none."""
    if of.shown and of.value == 0:
        return "–"
    if not share.shown:
        return "not shown"
    return f"{share.text} ({of.text})"


def band_of(counts: Sequence[Figure], fraction: float) -> str | None:
    """The band holding the decision at `fraction` of the way through the dated ones
    (0.5: the middle decision, the lower one of two), from published counts; None when a
    count is not shown or nothing is dated."""
    if any(not f.shown for f in counts):
        return None
    values = [f.value for f in counts]
    total = sum(values)  # type: ignore[arg-type]
    if not total:
        return None
    rank = max(1, int(np.ceil(fraction * total)))
    running = 0.0
    for name, value in zip(BAND_NAMES, values, strict=True):
        running += value  # type: ignore[operator]
        if running >= rank:
            return name
    return None  # pragma: no cover - the ranks add up to the total


# ---------------------------------------------------------------------------- words


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def names(items: Sequence[str], *, capital: bool = True) -> str:
    word = "Setting" if len(items) == 1 else "Settings"
    return f"{word if capital else word.lower()} {and_list(items)}"
