"""The escalation page's figures: rates as "k of n" from published ledger cells, the
categories the page counts by, and words that depend on the policy.

The page's split of incidents (`decision_against_guidance`) is each incident's
consistency with those that cannot be judged split by whether the setting referred: one
partition from which every per-setting rate is worked out (see `measures.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...conditions import Constant
from ..ledger import TOTAL, CountTable, Figure, share_text
from ..measures import (
    DECISION_SPLIT,
    Measure,
)
from ..words import CONSISTENCY_HEADINGS, NOT_RECORDED, TERMS, shown_as_0
from . import Context

# Each incident's decision against the guidance: the consistency, with incidents that
# cannot be judged split by whether the setting referred (the measures' partition).
SPLIT_ORDER = (
    "consistent_referral",
    "under_escalation",
    "consistent_in_setting",
    "over_escalation",
    "discretionary_referral",
    "no_decision",
    "unassessable_referred",
    "unassessable_not_referred",
)
SPLIT_HEADINGS = {
    **CONSISTENCY_HEADINGS,
    "unassessable_referred": "Cannot be judged, referred",
    "unassessable_not_referred": "Cannot be judged, not referred",
}
JUDGED = ("consistent_referral", "under_escalation", "consistent_in_setting", "over_escalation",
          "discretionary_referral")  # fmt: skip
NOT_JUDGED = ("no_decision", "unassessable_referred", "unassessable_not_referred")
YEAR_TERM = "year_term"
OTHER_OUTCOME = "compare:outcome"
OUTCOMES = ("refer_police", "handle_in_setting", "insufficient_information")

# ---------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Rate:
    """k of n from published cells; None where a cell it rests on is not shown."""

    k: float | None
    n: float | None
    adjusted: bool = False  # from a publication's figures, where a 0 may be a few
    # In a publication: the true numerator and denominator the shown cells allow, each
    # (smallest, largest), so an interval can allow for the adjustment too.
    spans: tuple[tuple[int, int], tuple[int, int]] | None = None

    @property
    def shown(self) -> bool:
        return self.k is not None and self.n is not None

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.shown and self.n else None  # type: ignore[operator]

    def pct(self) -> str:
        if not self.shown:
            return "not shown"
        if not self.n:
            return "none shown" if self.adjusted else "none"
        return share_text(self.value)

    def text(self, noun: str = "") -> str:
        """'7 of 18 (39%)' (with a noun: '7 of 18 incidents (39%)'), 'no incidents' ('none
        shown' in a publication), or 'not shown'."""
        if not self.shown:
            return "not shown"
        if not self.n:
            return "none shown" if self.adjusted else "no incidents"
        of = f"{_int(self.n)} {noun}".rstrip()
        return f"{_int(self.k)} of {of} ({share_text(self.value)})"

    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval; in a publication, widened to hold the interval of every
        true count the shown ones allow (the lowest share at the smallest numerator and
        largest rest, the highest the other way), so it never claims more than they show."""
        if not self.shown or not self.n:
            return None
        from ...stats import wilson_interval

        low, high = (float(v) for v in wilson_interval(self.k, self.n))
        if self.spans is not None:
            (k_lo, k_hi), (n_lo, n_hi) = self.spans
            if n_hi > 0:
                low = min(low, float(wilson_interval(min(k_lo, n_hi), n_hi)[0]))
            if n_lo > 0:
                high = max(high, float(wilson_interval(min(k_hi, n_lo), n_lo)[1]))
        return low, high


def _int(value: float | None) -> str:
    return "not shown" if value is None else f"{round(value):,}"


def rate(table: CountTable, measure: Measure, row: str = TOTAL) -> Rate:
    """A measure's k and n in one row of a published table."""
    top = [table.value(row, c) for c in measure.numerator]
    bottom = [table.value(row, c) for c in measure.denominator]
    if any(not f.shown for f in (*top, *bottom)):
        return Rate(None, None)
    k, n = sum(f.value for f in top), sum(f.value for f in bottom)  # type: ignore[misc]
    if not table.adjusted:
        return Rate(k, n)
    from ..compare import true_spans

    spans = true_spans(table, measure, row, table.threshold, small_only=True)  # type: ignore[arg-type]
    if spans is None:
        return Rate(k, n, adjusted=True)
    (k_lo, k_hi), (r_lo, r_hi) = spans
    return Rate(k, n, adjusted=True, spans=((k_lo, k_hi), (k_lo + r_lo, k_hi + r_hi)))


def cells_sum(table: CountTable, row: str, cols: tuple[str, ...]) -> Figure:
    """The sum of published cells of one row (withheld when any is)."""
    figures = [table.value(row, c) for c in cols]
    if any(not f.shown for f in figures):
        return Figure(None, "not shown", "rests on a number not shown")
    total = sum(f.value for f in figures)  # type: ignore[misc]
    return Figure(float(total), f"{round(total):,}")


def none_to_judge(route: str, threshold: int | None = None) -> str:
    """No incident to judge under-escalation by. A publication says none is *shown*: a
    count from 1 to t - 1 is published as 0 or t, so a shown 0 is not a promise of none."""
    if threshold is None:
        return f"no incident the guidance says refer to {route} has a recorded decision"
    return (
        f"no incident the guidance says refer to {route} with a recorded decision is shown "
        f"{shown_as_0(threshold)}"
    )


def not_referred(who: str, share: Rate, route: str) -> str:
    """'S12 did not refer 7 of the 18 incidents the guidance says refer to the police
    (39%)', said whatever the figures are."""
    if not share.shown:
        return f"{who}: the share not referred though the guidance says refer is not shown"
    if not share.n:
        return f"{who}: {none_to_judge(route)}"  # named settings: shown above 0
    return (
        f"{who} did not refer {_int(share.k)} of the {_int(share.n)} incidents the guidance "
        f"says refer to {route} ({share_text(share.value)})"
    )


def trust_not_referred(share: Rate, route: str, threshold: int | None = None) -> str:
    """The trust's under-escalation as a clause, said whatever the figures are."""
    if not share.shown:
        return "the trust's share not referred though the guidance says refer is not shown"
    if not share.n:
        return none_to_judge(route, threshold)
    if threshold is not None and share.k == 0:  # a publication's 0 is not a promise of none
        return (
            f"settings are shown as not referring 0 of the {_int(share.n)} incidents the "
            f"guidance says refer to {route}, counting those whose decision is recorded "
            f"{shown_as_0(threshold)}"
        )
    return (
        f"settings did not refer {_int(share.k)} of the {_int(share.n)} incidents the guidance "
        f"says refer to {route} ({share_text(share.value)}), counting those whose decision is "
        "recorded"
    )


def were(figure: Figure) -> str:
    return "was" if figure.shown and figure.value == 1 else "were"


def pct_point(value: float) -> str:
    points = round(100 * value)
    return "no change" if points == 0 else f"{points:+d} points".replace("-", "−")


# ---------------------------------------------------------------------------- categories


def split_values(incidents: pd.DataFrame) -> np.ndarray:
    """Each incident's place in the partition (`SPLIT_ORDER`)."""
    consistency = incidents["consistency"].astype(str).to_numpy()
    referred = incidents["referred"].astype(str).to_numpy()
    out = consistency.astype(object)
    unjudged = consistency == "unassessable"
    out[unjudged & (referred == "yes")] = "unassessable_referred"
    out[unjudged & (referred != "yes")] = "unassessable_not_referred"
    return out


def years_in_log(ctx: Context) -> list[str]:
    categories = ctx.incidents["year"].cat.categories
    return [str(y) for y in categories if str(y) != NOT_RECORDED]


def _year_terms(ctx: Context) -> tuple[np.ndarray, list[str]]:
    year = ctx.incidents["year"].astype(str).to_numpy()
    term = ctx.incidents["term"].astype(str).to_numpy()
    blank = (year == NOT_RECORDED) | (term == NOT_RECORDED)
    values = np.where(blank, NOT_RECORDED, np.char.add(np.char.add(year.astype(str), " "),
                                                       term.astype(str)))  # fmt: skip
    order = [f"{y} {t}" for y in years_in_log(ctx) for t in TERMS] + [NOT_RECORDED]
    return values.astype(object), order


def prepare(ctx: Context) -> None:
    """The categories this page counts by (added once, before the ledger is protected)."""
    if DECISION_SPLIT not in ctx.incidents.columns:
        ctx.add_category(DECISION_SPLIT, split_values(ctx.incidents), SPLIT_ORDER)
    if YEAR_TERM not in ctx.incidents.columns:
        values, order = _year_terms(ctx)
        ctx.add_category(YEAR_TERM, values, order)
    other = ctx.spec.compare_with
    if other is not None and OTHER_OUTCOME not in ctx.incidents.columns:
        from ...engine import evaluate

        evaluation = evaluate(ctx.log.frame, other.policy(), other.parameters)
        ctx.add_category(OTHER_OUTCOME, np.asarray(OUTCOMES, dtype=object)[evaluation.outcome],
                         OUTCOMES)  # fmt: skip


def allowed_always(policy: Any) -> bool | None:
    """True when the policy allows every referral no factor requires (the lead's choice),
    False when it allows none, None when it depends on the record."""
    node = policy.referral.allowed
    return node.value if isinstance(node, Constant) else None


def split_columns(policy: Any, keys: tuple[str, ...]) -> list[str]:
    """The partition's columns a policy can fill: no over-escalation where every referral
    is allowed, no discretionary referral where none is."""
    allowed = allowed_always(policy)
    skip = {"over_escalation"} if allowed is True else set()
    if allowed is False:
        skip.add("discretionary_referral")
    return [k for k in keys if k not in skip]


def period_words(ctx: Context) -> str:
    if ctx.spec.period:
        return f"the academic year {ctx.spec.period}"
    years = years_in_log(ctx)
    if len(years) == 1:
        return f"the academic year {years[0]}"
    if years:
        return f"every academic year in the log ({years[0]} to {years[-1]})"
    return "the log"


def period_rows(ctx: Context) -> list[str]:
    order = list(ctx.incidents[YEAR_TERM].cat.categories)
    if ctx.spec.period:
        return [r for r in order if r.startswith(f"{ctx.spec.period} ")]
    return order


def series_of(name: str, value: Rate) -> dict[str, float]:
    interval = value.interval()
    share = value.value
    return {
        f"rate_{name}": np.nan if share is None else share,
        f"low_{name}": np.nan if interval is None else interval[0],
        f"high_{name}": np.nan if interval is None else interval[1],
    }


def interval_note(spec: Any) -> str:
    """A publication's sentence on what its 95% intervals hold; "" for the internal one."""
    if not spec.publication:
        return ""
    t = spec.threshold
    return (
        " In this version each 95% interval is widened where a count it rests on is shown "
        f"as 0 or {t}, which can stand for 1 to {t - 1}, as well as for chance."
    )


def interval_text(value: Rate) -> str:
    interval = value.interval()
    if interval is None:
        return "–"
    return f"{share_text(interval[0])} to {share_text(interval[1])}"


@dataclass
class Tables:
    outcomes: CountTable
    by_term_referred: CountTable
    by_term_outcome: CountTable
    by_setting: CountTable
