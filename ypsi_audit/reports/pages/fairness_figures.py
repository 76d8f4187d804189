"""The fairness page's figures: the count tables it publishes and the comparisons worked
out from them.

Every comparison is a Mantel–Haenszel odds ratio over strata that are published ledger
cells: per guidance answer, a group's incidents by whether the setting referred, against
the rest (the published total less the group); and per answer and setting where every
count by setting it needs is published and the estimate can be made. Nothing is counted
from the rows, so for a publication the estimates come from the protected figures and
can say nothing those figures do not. A difference beyond a 99.8% interval is "unlikely
to be chance" (many comparisons are made, as the funnel plots' outer limits); beyond 95%
only, "worth watching".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from ... import contract
from ...stats import mantel_haenszel
from ..ledger import TOTAL, CountTable
from ..words import CHARACTERISTICS
from . import Context

Z95 = NormalDist().inv_cdf(0.975)
Z998 = NormalDist().inv_cdf(0.999)  # a 99.8% interval, as the funnel plots' outer limits
DECIDED = ("yes", "no")  # the `referred` values of an incident whose decision is known


@dataclass(frozen=True)
class Measure:
    """One comparison: the incidents it covers (guidance answers, held fixed as strata)
    and the decision it counts (`event`, a value of `referred`)."""

    name: str
    answers: tuple[str, ...]
    event: str
    unprotected_high: bool  # a group above the rest on this measure is less protected

    def heading(self, route: str) -> str:
        if self.name == "under_escalation":
            return f"Not referred to {route} when the guidance says refer"
        return f"Referred to {route}, comparing incidents the guidance judged alike"

    def counted(self) -> str:
        return "Not referred" if self.event == "no" else "Referred"


UNDER = Measure("under_escalation", ("refer_police",), "no", True)
REFERRAL = Measure("referral", contract.OUTCOMES, "yes", False)
MEASURES = (UNDER, REFERRAL)

LEVELS = {
    "flag": "unlikely to be chance (beyond the 99.8% interval)",
    "watch": "worth watching, could be chance (beyond the 95% interval only)",
    "none": "no clear difference",
}


@dataclass
class Comparison:
    """One group against all other children on one measure, from published figures."""

    column: str
    group: str
    measure: Measure
    finding: str  # flag, watch, none, cannot, withheld, absent
    by_setting: bool = False
    k: float = math.nan  # the group's incidents with the decision counted ...
    n: float = math.nan  # ... of its incidents compared
    expected: float = math.nan  # at other children's rates in the same strata
    odds_ratio: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    strict_low: float = math.nan
    strict_high: float = math.nan
    zero_shown: bool = False  # a count it rests on is a publication's 0 (so 0 to t-1)
    # A publication's finding that some true counts behind the group's counts shown as 0
    # or the threshold would make weaker (chance, or only worth watching).
    could_be_chance: bool = False
    # A publication's comparison, not a flag as shown, that some true counts behind the
    # group's counts shown as 0 or the threshold would make a flag in a direction of concern.
    could_be_flag: bool = False

    @property
    def made(self) -> bool:
        return self.finding in LEVELS

    @property
    def higher(self) -> bool:
        return self.odds_ratio > 1

    @property
    def concern(self) -> bool:
        """A difference that can leave children unprotected: a group kept in the setting
        more (or less: then the other children are) often than the rest when the guidance
        says refer, or a group referred less often. A group referred more often is
        described, never pointed at: no page suggests referring less."""
        return self.measure is UNDER or not self.higher

    @property
    def attention(self) -> bool:
        """Beyond 99.8% in the direction that can leave children unprotected."""
        return self.finding == "flag" and self.concern


# ---------------------------------------------------------------------------- the ledger


@dataclass
class Tables:
    """The published tables every comparison is worked out from, declared whatever the
    figures say: per characteristic and guidance answer, groups by whether the setting
    referred; and the same split by setting, one table per decision."""

    answers: dict[tuple[str, str], CountTable]
    by_setting: dict[tuple[str, str, str], CountTable]


def declare(ctx: Context) -> Tables:
    route = ctx.route
    outcome = ctx.incidents["outcome"].astype(str).to_numpy()
    referred = ctx.incidents["referred"].astype(str).to_numpy()
    answers: dict[tuple[str, str], CountTable] = {}
    by_setting: dict[tuple[str, str, str], CountTable] = {}
    for column, label in CHARACTERISTICS.items():
        for answer in contract.OUTCOMES:
            where = ctx.current & (outcome == answer)
            answers[column, answer] = ctx.ledger.table(
                f"fairness_{column}_{answer}",
                caption=(
                    f"{label}: incidents where {_answer_words(answer, route)}, by group and "
                    f"whether the setting referred to {route}"
                ),
                rows=f"group:{column}",
                cols="referred",
                where=where,
            )
            for decided in DECIDED:
                done = "referred" if decided == "yes" else "not_referred"
                by_setting[column, answer, decided] = ctx.ledger.table(
                    f"fairness_{column}_{answer}_{done}_by_setting",
                    caption=(
                        f"{label}: incidents where {_answer_words(answer, route)} and the "
                        f"setting {'referred' if decided == 'yes' else 'did not refer'}, by "
                        "setting and group"
                    ),
                    rows="setting",
                    cols=f"group:{column}",
                    where=where & (referred == decided),
                )
    return Tables(answers, by_setting)


def _answer_words(answer: str, route: str) -> str:
    return {
        "refer_police": f"the guidance says refer to {route}",
        "handle_in_setting": "the guidance says the setting may deal with it",
        "insufficient_information": "the guidance cannot tell (a field it needs is blank)",
    }[answer]


# ---------------------------------------------------------------------------- comparisons


def strata(
    tables: Tables, column: str, group: str, measure: Measure, by_setting: bool
) -> np.ndarray | None:
    """Per stratum (guidance answer, or answer and setting) the group's incidents with and
    without the decision counted, then the rest's: from published figures only, the rest
    being a published total less the group's published count. None when a figure it needs
    is not published, or the published figures do not add up."""
    parts = []
    for answer in measure.answers:
        if by_setting:
            yes = tables.by_setting[column, answer, "yes"].frame()
            no = tables.by_setting[column, answer, "no"].frame()
            rows = [r for r in yes.index if r != TOTAL]
            cells = (yes.loc[rows, group], no.loc[rows, group], yes.loc[rows, TOTAL],
                     no.loc[rows, TOTAL])  # fmt: skip
        else:
            t = tables.answers[column, answer].frame()
            cells = (t.loc[[group], "yes"], t.loc[[group], "no"], t.loc[[TOTAL], "yes"],
                     t.loc[[TOTAL], "no"])  # fmt: skip
        parts.append(np.column_stack([c.to_numpy(dtype=float) for c in cells]))
    g_yes, g_no, all_yes, all_no = np.vstack(parts).T
    r_yes, r_no = all_yes - g_yes, all_no - g_no
    found = np.column_stack([g_yes, g_no, r_yes, r_no])
    if np.isnan(found).any() or (found < 0).any():
        return None
    return found if measure.event == "yes" else found[:, [1, 0, 3, 2]]


def compare(
    tables: Tables,
    column: str,
    group: str,
    measure: Measure,
    *,
    within_settings: bool = True,
    zeros_hide: bool = False,
) -> Comparison:
    """One group against all other children, within settings where the published counts
    by setting allow it and the estimate can be made, else within guidance answers.

    `within_settings=False` (a publication) compares across the trust only: protection
    turns each small count by setting into 0 or 5, and dozens of such cells added up in
    one estimate make differences that are not in the data. `zeros_hide` (a publication)
    marks a comparison that could not be made while resting on a count shown as 0, which
    there stands for 0 to a few, so its reason is not given as "none" or "too few"."""
    base = strata(tables, column, group, measure, by_setting=False)
    if base is None:
        return Comparison(column, group, measure, "withheld")
    zero = zeros_hide and bool((base == 0).any())
    if base[:, :2].sum() == 0:
        return Comparison(column, group, measure, "absent", zero_shown=zero)
    for by_setting in (True, False) if within_settings else (False,):
        cells = strata(tables, column, group, measure, True) if by_setting else base
        if cells is None:
            continue
        result = mantel_haenszel(_long(cells), "in_group", "event", "stratum", "n")
        bounds = (result["odds_ratio"], result["ci_low"], result["ci_high"])
        if result["usable"] and all(np.isfinite(b) and b > 0 for b in bounds):
            found = _estimate(column, group, measure, cells, result, by_setting)
            if zeros_hide:
                threshold = tables.answers[column, contract.OUTCOMES[0]].threshold
                if found.finding == "flag":  # "worth watching" says chance already
                    found.could_be_chance = _weaker_at_a_corner(cells, found, threshold)
                else:
                    found.could_be_flag = _flag_at_a_corner(cells, measure, threshold)
            return found
    return Comparison(column, group, measure, "cannot", zero_shown=zero)


def _long(cells: np.ndarray) -> pd.DataFrame:
    """Stratum cells as the weighted rows `mantel_haenszel` reads."""
    k = len(cells)
    return pd.DataFrame(
        {
            "in_group": np.tile([True, True, False, False], k),
            "event": np.tile([True, False, True, False], k),
            "stratum": np.repeat(np.arange(k), 4),
            "n": cells.reshape(-1).round().astype(np.int64),
        }
    )


def _level(result: dict) -> tuple[str, tuple[float, float]]:
    """The finding a Mantel-Haenszel result gives, with its 99.8% interval."""
    log_or = math.log(result["odds_ratio"])
    se = (math.log(result["ci_high"]) - math.log(result["ci_low"])) / (2 * Z95)
    strict = (math.exp(log_or - Z998 * se), math.exp(log_or + Z998 * se))
    if strict[0] > 1 or strict[1] < 1:
        return "flag", strict
    if result["ci_low"] > 1 or result["ci_high"] < 1:
        return "watch", strict
    return "none", strict


def _at_a_corner(cells: np.ndarray, threshold: int, higher: bool) -> dict | None:
    """The estimate again with the group's counts shown as 0 or the threshold (a few
    incidents can hide there) moved to the end of their ranges that pushes the group's
    odds `higher` (or lower), the totals as shown (so the rest of the children take up the
    difference); None when it cannot be made there."""
    from ...protection.cellkey import true_range

    corner = cells.astype(float).copy()
    totals = corner[:, :2] + corner[:, 2:]
    for j, low_end in ((0, not higher), (1, higher)):  # event, then other
        for i, value in enumerate(corner[:, j]):
            if value in (0, threshold):
                low, high = true_range(int(value), threshold)
                corner[i, j] = min(low if low_end else high, totals[i, j])
    corner[:, 2:] = totals - corner[:, :2]
    result = mantel_haenszel(_long(corner), "in_group", "event", "stratum", "n")
    bounds = (result["odds_ratio"], result["ci_low"], result["ci_high"])
    if not (result["usable"] and all(np.isfinite(b) and b > 0 for b in bounds)):
        return None
    return result


def _weaker_at_a_corner(cells: np.ndarray, found: Comparison, threshold: int | None) -> bool:
    """Whether the true counts behind the group's counts shown as 0 or the threshold could
    make the finding weaker (each moved against it)."""
    if threshold is None:
        return False
    result = _at_a_corner(cells, threshold, higher=not found.higher)
    if result is None:
        return True
    level, _ = _level(result)
    order = {"none": 0, "watch": 1, "flag": 2}
    return (result["odds_ratio"] > 1) != found.higher or order[level] < order[found.finding]


def _flag_at_a_corner(cells: np.ndarray, measure: Measure, threshold: int | None) -> bool:
    """Whether the true counts behind the group's counts shown as 0 or the threshold could
    make a difference of concern unlikely to be chance: kept in the setting when the
    guidance says refer more or less often than other children, or referred less often."""
    if threshold is None:
        return False
    directions = (True, False) if measure is UNDER else (False,)
    for higher in directions:
        result = _at_a_corner(cells, threshold, higher=higher)
        if (
            result is not None
            and (result["odds_ratio"] > 1) == higher
            and (_level(result)[0] == "flag")
        ):
            return True
    return False


def _estimate(
    column: str, group: str, measure: Measure, cells: np.ndarray, result: dict, by_setting: bool
) -> Comparison:
    finding, strict = _level(result)
    k, n, expected = natural_frequency(cells)
    return Comparison(
        column, group, measure, finding, by_setting, k, n, expected,
        result["odds_ratio"], result["ci_low"], result["ci_high"], *strict,
    )  # fmt: skip


def natural_frequency(cells: np.ndarray) -> tuple[float, float, float]:
    """The group's incidents with the decision counted (k) of those compared (n), and how
    many there would be at other children's rate in each stratum (indirect
    standardisation). Strata where no other child has a decided incident are left out:
    there is nothing to compare with."""
    event, other, rest_event, rest_other = cells.T
    rest = rest_event + rest_other
    keep = rest > 0
    group = (event + other)[keep]
    return (
        float(event[keep].sum()),
        float(group.sum()),
        float((group * rest_event[keep] / rest[keep]).sum()),
    )


def compare_all(
    tables: Tables, *, within_settings: bool = True, zeros_hide: bool = False
) -> list[Comparison]:
    return [
        compare(
            tables, column, group, measure, within_settings=within_settings, zeros_hide=zeros_hide
        )
        for measure in MEASURES
        for column in CHARACTERISTICS
        for group in tables.answers[column, contract.OUTCOMES[0]].row_order
    ]


def without_mirrors(found: Sequence[Comparison]) -> list[Comparison]:
    """For a yes/no characteristic, "no" against the rest mirrors "yes" against the rest:
    say a difference once, from the side it leaves less protected."""
    keys = {(c.column, c.group, c.measure.name): c for c in found}
    kept = []
    for c in found:
        if contract.BY_NAME[c.column].kind == "bool" and c.group in DECIDED:
            other = keys.get((c.column, "no" if c.group == "yes" else "yes", c.measure.name))
            mirrored = other is not None and other.higher != c.higher
            if mirrored and c.higher != c.measure.unprotected_high:
                continue
        kept.append(c)
    return kept
