"""Figures derived from published cells: rates, differences, funnel positions, statistics.

Every derived figure is worked out from the *published* values of the cells it rests on,
never from the true counts. That is what makes it safe: a reader could work it out
from the published counts, so it tells them nothing new. The audit checks this by
working every figure out again from the published values; a figure that does not come
out the same is treated as a statement about the true counts (and a statistic such as
kappa, which cannot be written as a linear bound, fails the pack outright).

A figure whose cells are not all published (withheld by suppression) is withheld too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .ledger import Cell

__all__ = [
    "KINDS",
    "POSITIONS",
    "STATISTICS",
    "FigureSpec",
    "evaluate",
    "format_figure",
]

KINDS = ("rate", "difference", "funnel", "statistic")
STATISTICS = ("observed_agreement", "kappa", "pabak", "mcnemar_p", "odds_ratio")
# Funnel positions as published: the value is the code, the text what a page says.
POSITIONS: dict[int, str] = {
    2: "above the 99.8% limit",
    1: "above the 95% limit",
    0: "inside the limits",
    -1: "below the 95% limit",
    -2: "below the 99.8% limit",
}
WITHHELD = "not shown"


@dataclass(frozen=True)
class FigureSpec:
    """A declared figure. `part`/`whole`: the cells a rate adds up (a rate is the sum of
    the published `part` over the sum of the published `whole`); `inputs`: other figures
    (a difference a − b; a funnel position: the unit's rate, the target rate, then every
    unit's rate when the limits allow for overdispersion); `statistic`: the 2×2 cells in
    the order (yes, yes), (yes, no), (no, yes), (no, no)."""

    name: str
    kind: str
    part: tuple[Cell, ...] = ()
    whole: tuple[Cell, ...] = ()
    inputs: tuple[str, ...] = ()
    statistic: str = ""
    decimals: int = 1
    percent: bool = True
    overdispersion: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"figure {self.name!r}: kind must be one of {KINDS}")
        if self.kind == "statistic" and (self.statistic not in STATISTICS or len(self.part) != 4):
            raise ValueError(f"figure {self.name!r}: a statistic is one of {STATISTICS} on 4 cells")
        if self.kind == "rate" and (not self.part or not self.whole):
            raise ValueError(f"figure {self.name!r}: a rate needs part and whole cells")
        if self.kind == "difference" and len(self.inputs) != 2:
            raise ValueError(f"figure {self.name!r}: a difference needs two figures")
        if self.kind == "funnel" and len(self.inputs) < 2:
            raise ValueError(f"figure {self.name!r}: a funnel position needs a rate and a target")

    def cells(self) -> tuple[Cell, ...]:
        return self.part + self.whole


def rate(
    name: str, part: Any, whole: Any, *, decimals: int = 1, percent: bool = True
) -> FigureSpec:
    """The published `part` cells over the published `whole` cells (list `part`'s cells
    in `whole` too when the rate is a share of a whole)."""
    from .ledger import flatten

    return FigureSpec(
        name, "rate", flatten(part), flatten(whole), decimals=decimals, percent=percent
    )


def difference(name: str, a: str, b: str, *, decimals: int = 1, percent: bool = True) -> FigureSpec:
    """Figure `a` minus figure `b` (say this year's rate minus last year's)."""
    return FigureSpec(name, "difference", inputs=(a, b), decimals=decimals, percent=percent)


def funnel(
    name: str, unit: str, target: str, peers: Sequence[str] = (), *, overdispersion: bool = False
) -> FigureSpec:
    """Where the rate `unit` lies against funnel limits around the rate `target` (95% and
    99.8%, at the unit's published denominator); with `overdispersion` the limits widen
    as `stats.funnel` does, from every unit's rate (`peers`)."""
    if overdispersion and not peers:
        raise ValueError(f"figure {name!r}: overdispersion needs the peers' rates")
    inputs = (unit, target, *(peers if overdispersion else ()))
    return FigureSpec(name, "funnel", inputs=inputs, overdispersion=overdispersion, decimals=0)


def statistic(name: str, kind: str, cells: Sequence[Cell], *, decimals: int = 2) -> FigureSpec:
    """A statistic of a 2×2 table of published cells."""
    return FigureSpec(name, "statistic", tuple(cells), statistic=kind, decimals=decimals)


# --------------------------------------------------------------------------- evaluation

Value = float | None


def evaluate(
    spec: FigureSpec,
    cell: Callable[[Cell], Value],
    figure: Callable[[str], Value],
    rate_parts: Callable[[str], tuple[Value, Value]] | None = None,
) -> Value:
    """The figure's value from published values (`cell`, `figure`), None when any input
    is withheld or the figure is undefined (a rate of nothing)."""
    if spec.kind == "rate":
        top, bottom = _sum(spec.part, cell), _sum(spec.whole, cell)
        if top is None or bottom is None or bottom <= 0:
            return None
        return top / bottom
    if spec.kind == "difference":
        a, b = figure(spec.inputs[0]), figure(spec.inputs[1])
        return None if a is None or b is None else a - b
    if spec.kind == "funnel":
        if rate_parts is None:
            raise ValueError("a funnel position needs the rates' published parts")
        return _position(spec, rate_parts)
    values = [cell(c) for c in spec.part]
    if any(v is None for v in values):
        return None
    return _statistic(spec.statistic, [int(v) for v in values])  # type: ignore[arg-type]


def format_figure(spec: FigureSpec, value: Value) -> str:
    """The text a page shows for a figure's value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return WITHHELD
    if spec.kind == "funnel":
        return POSITIONS[int(value)]
    if spec.kind == "statistic" and spec.statistic == "mcnemar_p":
        return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
    scale = 100.0 if spec.percent and spec.kind in ("rate", "difference") else 1.0
    text = f"{scale * value:{'+' if spec.kind == 'difference' else ''}.{spec.decimals}f}"
    if scale == 100.0:
        return f"{text}%" if spec.kind == "rate" else f"{text} points"
    return text


def rounding_half_width(spec: FigureSpec) -> float:
    """How far the true figure can be from the one a page shows, from rounding alone."""
    scale = 100.0 if spec.percent else 1.0
    return 0.5 * 10.0 ** (-spec.decimals) / scale


def _sum(cells: Sequence[Cell], cell: Callable[[Cell], Value]) -> Value:
    values = [cell(c) for c in cells]
    return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]


def _position(spec: FigureSpec, parts: Callable[[str], tuple[Value, Value]]) -> Value:
    from ..stats import funnel_limits

    k, n = parts(spec.inputs[0])
    tk, tn = parts(spec.inputs[1])
    if k is None or n is None or tk is None or tn is None or n <= 0 or tn <= 0:
        return None
    tau2 = 0.0
    if spec.overdispersion:
        peers = [parts(peer) for peer in spec.inputs[2:]]
        if any(pk is None or pn is None for pk, pn in peers):
            return None
        tau2 = _tau2(tuple((float(pk), float(pn)) for pk, pn in peers))  # type: ignore[arg-type]
    theta = min(max(tk / tn, 0.0), 1.0)
    limits = funnel_limits(np.array([n]), theta, tau2=tau2).iloc[0]
    r = k / n
    if r > limits["upper998"]:
        return 2.0
    if r > limits["upper95"]:
        return 1.0
    if r < limits["lower998"]:
        return -2.0
    if r < limits["lower95"]:
        return -1.0
    return 0.0


@lru_cache(maxsize=256)
def _tau2(peers: tuple[tuple[float, float], ...]) -> float:
    """The additive overdispersion of a set of units, as `stats.funnel` works it out."""
    import pandas as pd

    from ..stats import funnel as stats_funnel

    frame = pd.DataFrame(
        [(str(i), k, n) for i, (k, n) in enumerate(peers) if n > 0], columns=["unit", "k", "n"]
    )
    frame["k"] = frame["k"].clip(upper=frame["n"])
    return float(stats_funnel(frame, overdispersion=True).attrs.get("tau2", 0.0))


def _statistic(kind: str, cells: list[int]) -> Value:
    a, b, c, d = cells
    n = a + b + c + d
    if kind == "odds_ratio":
        return None if b * c == 0 else (a * d) / (b * c)
    if n == 0:
        return None
    from ..stats import agreement

    guidance = np.repeat([True, True, False, False], cells)
    decided = np.repeat([True, False, True, False], cells)
    result: Mapping[str, Any] = agreement(guidance, decided)
    value = float(result[kind])
    return None if math.isnan(value) else value
