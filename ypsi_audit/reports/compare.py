"""Settings compared, from published figures only: funnel positions and year on year.

Both take a ledger table split by setting (rows) and a measure (its columns), and work
only from the table's published cells, so what they say can never reveal more than the
table does. The funnel's target is the trust's own rate over all its incidents (the
table's total row).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..stats import compare_proportions, funnel
from .ledger import TOTAL, CountTable
from .measures import Measure

POSITIONS = {
    "above_998": "above the outer (99.8%) limit: unlikely to be chance",
    "above_95": "above the inner (95%) limit: worth watching, could be chance",
    "inside": "within the limits",
    "below_95": "below the inner (95%) limit",
    "below_998": "below the outer (99.8%) limit",
    "not_shown": "not shown",
}


def _kn(table: CountTable, measure: Measure, row: str) -> tuple[float | None, float | None]:
    top = [table.value(row, c) for c in measure.numerator]
    bottom = [table.value(row, c) for c in measure.denominator]
    if any(not f.shown for f in (*top, *bottom)):
        return None, None
    return sum(f.value for f in top), sum(f.value for f in bottom)  # type: ignore[misc]


def positions(table: CountTable, measure: Measure, *, exact: bool = False) -> pd.DataFrame:
    """Each setting's rate and where it lies against funnel limits around the trust's
    rate. `exact` uses exact binomial limits (recording: one standard for every setting);
    otherwise normal limits widened for overdispersion (Spiegelhalter), as for decisions,
    where settings see different kinds of incident."""
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
                       lower998=np.nan, upper998=np.nan)  # fmt: skip
    out.attrs.update(theta=theta, phi=1.0, tau2=0.0, overdispersed=False)
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


def compared(placed: pd.DataFrame) -> tuple[int, int]:
    """How many settings could be placed, of how many."""
    return int((placed["position"] != "not_shown").sum()), len(placed)


def year_on_year(now: CountTable, before: CountTable, measure: Measure) -> pd.DataFrame:
    """For each setting (and the trust), this year's rate beside last year's, the change in
    points and whether it is more than chance (Fisher's exact test, from published cells)."""
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
            row.update(rate_now=k1 / n1, rate_before=k0 / n0, change=test["change"],
                       p_value=test["p_value"], beyond_chance=test["beyond_chance"])  # fmt: skip
        else:
            row.update(
                rate_now=(k1 / n1) if (k1 is not None and n1) else np.nan,
                rate_before=(k0 / n0) if (k0 is not None and n0) else np.nan,
                change=np.nan, p_value=np.nan, beyond_chance=False,
            )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


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
