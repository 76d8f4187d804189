"""Settings compared, from published figures only: funnel positions and year on year.

Both take a ledger table split by setting (rows) and a measure (its columns), and work
only from the table's published cells, so what they say can never reveal more than the
table does. The funnel's target is the trust's own rate over all its incidents (the
table's total row).

In a publication (`threshold` given) each shown count stands for a range of true counts
(`cellkey.true_range`), so a finding is stated only where it holds across that range: a
change is "more than chance" only if it is for every true count the figures allow, and a
setting shown within the limits that could lie above them is marked so, never called
within them without a word. Both are worked out from published figures and the
method's public rules, so they reveal nothing the figures do not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..stats import compare_proportions, funnel
from .ledger import TOTAL, CountTable
from .measures import Measure
from .words import and_list

POSITIONS = {
    "above_998": "above the outer (99.8%) limit: unlikely to be chance",
    "above_95": "above the inner (95%) limit: worth watching, could be chance",
    "inside": "within the limits",
    "below_95": "below the inner (95%) limit",
    "below_998": "below the outer (99.8%) limit",
    "not_shown": "not shown",
    "alone": "not compared: the only setting",
}


def _kn(table: CountTable, measure: Measure, row: str) -> tuple[float | None, float | None]:
    top = [table.value(row, c) for c in measure.numerator]
    bottom = [table.value(row, c) for c in measure.denominator]
    if any(not f.shown for f in (*top, *bottom)):
        return None, None
    return sum(f.value for f in top), sum(f.value for f in bottom)  # type: ignore[misc]


def true_spans(
    table: CountTable, measure: Measure, row: str, threshold: int, *, small_only: bool = False
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The true numerator and the true rest of the denominator a publication's shown cells
    allow, each as (smallest, largest); None where a cell is not shown. `small_only` takes
    only the cells shown as 0 or the threshold as ranges (where a count of 1 to 4 may
    hide) and the others as shown: a 95% interval's widening, where summing every cell's
    rare widest move would bury the chance it is there to show."""
    rest = [c for c in measure.denominator if c not in measure.numerator]
    spans = []
    for cells in (measure.numerator, rest):
        figures = [table.value(row, c) for c in cells]
        if any(not f.shown for f in figures):
            return None
        values = [round(f.value) for f in figures]  # type: ignore[arg-type]
        bounds = [
            shown_range(v, threshold) if not small_only or v in (0, threshold) else (v, v)
            for v in values
        ]
        spans.append((sum(b[0] for b in bounds), sum(b[1] for b in bounds)))
    return spans[0], spans[1]


def shown_range(shown: int, threshold: int) -> tuple[int, int]:
    """`cellkey.true_range`, or the count itself where the method never shows it: the
    first pass of a publication, which declares the tables, still holds the true counts."""
    from ..protection.cellkey import true_range

    try:
        return true_range(shown, threshold)
    except ValueError:
        return shown, shown


def _true_places(
    placed: pd.DataFrame, table: CountTable, measure: Measure, threshold: int, exact: bool
) -> tuple[list[bool], list[bool]]:
    """For each setting, whether some true counts the shown ones allow would put it above
    the inner limit though it is shown within or below it (`could_be_above`), or at or
    under the inner limit though it is shown above it (`could_be_within`)."""
    from ..stats import funnel_limits

    theta = placed.attrs["theta"]
    above, within = [], []
    for record in placed.itertuples():
        shown_above = record.position in ("above_95", "above_998")
        spans = None
        if shown_above or record.position in ("inside", "below_95", "below_998"):
            spans = true_spans(table, measure, str(record.unit), threshold)
        if spans is None:
            above.append(False)
            within.append(False)
            continue
        (k_lo, k_hi), (r_lo, r_hi) = spans
        k, r = np.meshgrid(np.arange(k_lo, k_hi + 1), np.arange(r_lo, r_hi + 1))
        k, r = k.ravel().astype(float), r.ravel().astype(float)
        n = k + r
        k, n = k[n > 0], n[n > 0]
        if exact:
            upper = critical_limits(theta, n, 0.95)[1]
        else:
            upper = funnel_limits(
                n, theta, levels=(0.95,), phi=placed.attrs["phi"], tau2=placed.attrs["tau2"]
            )["upper95"].to_numpy()
        above.append(not shown_above and bool(np.any(k / n > upper)))
        within.append(shown_above and bool(np.any(k / n <= upper)))
    return above, within


def positions(
    table: CountTable, measure: Measure, *, exact: bool = False, threshold: int | None = None
) -> pd.DataFrame:
    """Each setting's rate and where it lies against funnel limits around the trust's
    rate. `exact` uses exact binomial limits (recording: one standard for every setting);
    otherwise normal limits widened for overdispersion (Spiegelhalter), as for decisions,
    where settings see different kinds of incident. With `threshold` (a publication), the
    column `could_be_above` marks settings shown within the limits that the true counts
    behind the shown ones could put above them, and `could_be_within` settings shown above
    the limits that the true counts could put within them. A selection of one setting is not placed
    (position "alone"): the trust's rate is its own."""
    settings = [r for r in table.shown.index if r != TOTAL]
    k_total, n_total = _kn(table, measure, TOTAL)
    rows = []
    for setting in settings:
        k, n = _kn(table, measure, setting)
        rows.append({"unit": setting, "k": k, "n": n})
    frame = pd.DataFrame(rows, columns=["unit", "k", "n"])
    usable = frame.dropna(subset=["k", "n"])
    usable = usable[usable["n"] > 0]
    theta = (k_total / n_total) if (n_total and k_total is not None) else math.nan
    out = frame.assign(rate=np.nan, position="not_shown", lower95=np.nan, upper95=np.nan,
                       lower998=np.nan, upper998=np.nan, could_be_above=False,
                       could_be_within=False)  # fmt: skip
    out.attrs.update(theta=theta, phi=1.0, tau2=0.0, overdispersed=False)
    if len(settings) == 1:
        out["position"] = "alone"
        return out
    if usable.empty or not np.isfinite(theta):
        return out
    if exact:
        n = usable["n"].to_numpy(float)
        lo95, hi95 = critical_limits(theta, n, 0.95)
        lo998, hi998 = critical_limits(theta, n, 0.998)
        placed = usable.assign(
            rate=usable["k"] / usable["n"], lower95=lo95, upper95=hi95, lower998=lo998,
            upper998=hi998,
        )  # fmt: skip
    else:
        placed = funnel(usable.reset_index(drop=True), theta=theta)
        out.attrs.update(
            phi=placed.attrs["phi"], tau2=placed.attrs["tau2"],
            overdispersed=placed.attrs["overdispersed"],
        )  # fmt: skip
    lookup = placed.set_index("unit")
    for column in ("rate", "lower95", "upper95", "lower998", "upper998"):
        out[column] = out["unit"].map(lookup[column])
    out["position"] = [
        _position(r) if not pd.isna(r["rate"]) else "not_shown" for _, r in out.iterrows()
    ]
    if threshold is not None and measure.flag_high:
        out["could_be_above"], out["could_be_within"] = _true_places(
            out, table, measure, threshold, exact
        )
    return out


def _position(row: Any) -> str:
    rate = row["rate"]
    if rate > row["upper998"]:
        return "above_998"
    if rate > row["upper95"]:
        return "above_95"
    if rate < row["lower998"]:
        return "below_998"
    if rate < row["lower95"]:
        return "below_95"
    return "inside"


def flagged(placed: pd.DataFrame, measure: Measure) -> dict[str, list[str]]:
    """Settings named on a page: only above the limits, and only for a measure where
    being above can leave a child unprotected."""
    if not measure.flag_high:
        return {"above_998": [], "above_95": []}
    return {
        level: placed.loc[placed["position"] == level, "unit"].astype(str).tolist()
        for level in ("above_998", "above_95")
    }


ONE_SETTING = (
    "Only one setting is in this selection, so there is no other setting to compare it with."
)


CANT_TELL = (
    "“Can't tell”: the shares as shown differ by more than chance, but not for every true "
    "count the adjusted figures allow."
)


NO_AS_SHOWN = (
    "“No, as shown”: the shares as shown differ by no more than chance, but the true counts "
    "behind a count shown as 0 or the threshold could put the change beyond it."
)


def chance_word(record: Any) -> str:
    """A year-on-year row's answer to "more than chance?"."""
    if pd.isna(record.change):
        return "–"
    if record.unsure:
        return "Can't tell"
    if record.beyond_chance:
        return "Yes"
    return "No, as shown" if record.could_change else "No"


def compared(placed: pd.DataFrame) -> tuple[int, int]:
    """How many settings could be placed, of how many."""
    return int((~placed["position"].isin(["not_shown", "alone"])).sum()), len(placed)


def could_be_above(placed: pd.DataFrame) -> list[str]:
    """Settings a publication shows within the limits that could lie above them."""
    return placed.loc[placed["could_be_above"], "unit"].astype(str).tolist()


def could_be_above_sentence(settings: list[str], what: str) -> str:
    """What a publication says of settings shown within the limits that could lie above
    them: never 'no setting lies above the limits' while one could."""
    return _doubt_sentence(settings, f"within the limits for {what}", "above the inner limit")


def could_be_within_sentence(settings: list[str], what: str) -> str:
    """What a publication says of settings shown above the limits whose true counts could
    lie within them: the finding is the adjusted figures', and the team's report decides."""
    return _doubt_sentence(settings, f"above the limits for {what}", "within the limits")


def _doubt_sentence(settings: list[str], shown: str, could: str) -> str:
    one = len(settings) == 1
    listed = and_list(settings)
    return (
        f"{'Setting' if one else 'Settings'} {listed} {'is' if one else 'are'} shown {shown}, "
        f"but the counts shown are adjusted for publication and the true ones could put "
        f"{'it' if one else 'them'} {could}; the safeguarding team's own report shows where "
        f"{'it stands' if one else 'they stand'}."
    )


def doubts(placed: pd.DataFrame, what: str) -> list[str]:
    """A publication's sentences on the settings whose place the adjustment could change,
    either way (none for the internal audience, whose places are exact)."""
    out = []
    for column, sentence in (
        ("could_be_above", could_be_above_sentence),
        ("could_be_within", could_be_within_sentence),
    ):
        settings = placed.loc[placed[column], "unit"].astype(str).tolist()
        if settings:
            out.append(sentence(settings, what))
    return out


def year_on_year(
    now: CountTable, before: CountTable, measure: Measure, *, threshold: int | None = None
) -> pd.DataFrame:
    """For each setting (and the trust), this year's rate beside last year's, the change in
    points and whether it is more than chance (Fisher's exact test, from published cells).
    With `threshold` (a publication), a change is more than chance only if it is so, the
    same way, at every corner of the true counts the shown ones allow; one that is so only
    as shown is marked `unsure` (the adjustment could account for it), and one that is
    within chance as shown but beyond it once the counts shown as 0 or the threshold (where
    a few incidents can hide) take their ranges is marked `could_change` (the same
    corners as a 95% interval's widening, not every cell's rare widest move)."""
    settings = [r for r in now.shown.index if r != TOTAL]
    rows = []
    for setting in [*settings, TOTAL]:
        k1, n1 = _kn(now, measure, setting)
        k0, n0 = (None, None)
        if setting in before.shown.index:
            k0, n0 = _kn(before, measure, setting)
        row: dict[str, Any] = {"setting": setting, "k_now": k1, "n_now": n1, "k_before": k0,
                               "n_before": n0}  # fmt: skip
        if k1 is not None and n1 and k0 is not None and n0:
            test = compare_proportions(int(k1), int(n1), int(k0), int(n0))
            beyond = bool(test["beyond_chance"])
            if threshold is None:
                holds, could = beyond, False
            elif beyond:
                holds = _holds_throughout(_corners(now, before, measure, setting, threshold))
                could = False
            else:
                small = _corners(now, before, measure, setting, threshold, small_only=True)
                holds, could = False, bool(small) and _beyond_somewhere(small)
            row.update(rate_now=k1 / n1, rate_before=k0 / n0, change=test["change"],
                       p_value=test["p_value"], beyond_chance=holds,
                       unsure=beyond and not holds, could_change=could)  # fmt: skip
        else:
            row.update(
                rate_now=(k1 / n1) if (k1 is not None and n1) else np.nan,
                rate_before=(k0 / n0) if (k0 is not None and n0) else np.nan,
                change=np.nan, p_value=np.nan, beyond_chance=False, unsure=False,
                could_change=False,
            )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def _corners(
    now: CountTable,
    before: CountTable,
    measure: Measure,
    setting: str,
    threshold: int,
    *,
    small_only: bool = False,
) -> list[dict[str, Any]] | None:
    """Fisher's test at every corner of the true counts (numerator and the rest, each
    year) that the shown counts allow (`true_spans`); None when a count is not published."""
    spans_now = true_spans(now, measure, setting, threshold, small_only=small_only)
    spans_before = true_spans(before, measure, setting, threshold, small_only=small_only)
    if spans_now is None or spans_before is None:
        return None
    return [
        compare_proportions(k1, k1 + r1, k0, k0 + r0)
        for k1 in spans_now[0]
        for r1 in spans_now[1]
        for k0 in spans_before[0]
        for r0 in spans_before[1]
    ]


def _holds_throughout(corners: list[dict[str, Any]] | None) -> bool:
    """Whether the change is beyond chance, the same way, at every corner (a corner with
    no incidents is not)."""
    if not corners or not all(c["beyond_chance"] for c in corners):
        return False
    return len({np.sign(c["change"]) for c in corners}) == 1


def _beyond_somewhere(corners: list[dict[str, Any]]) -> bool:
    """Whether some corner's change is beyond chance."""
    return any(c["beyond_chance"] for c in corners)


def could_change_sentence(settings: list[str], compared: int, *, trust: bool = False) -> str:
    """What a publication adds when no change is beyond chance as shown but the true
    counts behind some settings (of `compared`), or the trust's (`trust`), could make one
    so: never a plain 'no setting changed'. Many settings are counted, not listed."""
    which = []
    if settings:
        which.append(
            and_list(settings) if len(settings) <= 4
            else f"{len(settings)} of the {compared} settings compared"
        )  # fmt: skip
    if trust:
        which.append("all settings together")
    return (
        "That is as shown: the counts are adjusted for publication, and the true ones could "
        f"show a change beyond chance for {', and for '.join(which)}; the safeguarding team's own "
        "report shows the true change."
    )


def critical_limits(theta: float, n: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial funnel limits at each n, as the rates a setting must pass to be
    outside them: a rate above `upper` is one whose count has an upper tail probability
    at most (1 - level) / 2, and below `lower` likewise. Unlike interpolated limits, a
    small setting is never flagged more often than the level says (with interpolation,
    3 of 3 against a trust's 47% lands above the 99.8% limit, though chance gives it
    one time in ten)."""
    from scipy.stats import binom

    sizes = np.atleast_1d(np.asarray(n, dtype=float))
    tail = (1 - level) / 2
    valid = np.isfinite(sizes) & (sizes > 0)
    whole = np.where(valid, sizes, 1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(valid, binom.ppf(tail, whole, theta) / whole, np.nan)
        upper = np.where(valid, binom.isf(tail, whole, theta) / whole, np.nan)
    return lower, upper
