"""Every number a report publishes, declared once: the ledger.

A page never counts for itself. It declares a count table over the one incident-level
frame of categories (`incidents`), such as settings by consistency, and reads back the
figures it may show; rates and percentages are worked out from those figures, and a
sentence or a chart may only cite them. Because every cell is "the incidents with these
values", the tables' relations (the same incidents, a margin of another table) follow
from the declarations, which is what a disclosure audit needs.

For the internal audience the figures are the true counts. For a publication the ledger
is handed, whole, to a protection method and an attacker's audit before any page is
composed; the figures pages then read are the protected ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TOTAL = "Total"


@dataclass(frozen=True)
class Figure:
    """One published number: its value (None when withheld) and how a page shows it."""

    value: float | None
    text: str
    withheld: str = ""  # why it is not shown (empty when it is)

    @property
    def shown(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.text


def count_text(value: float | None, mark: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return mark or "not shown"
    return f"{round(value):,}"


def said(figure: Figure) -> str:
    """A count inside a sentence: the number, or words for a withheld one."""
    if figure.shown:
        return figure.text
    if figure.text.startswith("<"):
        return "fewer than " + figure.text[1:]
    return "a number not shown"


def of_the(figure: Figure, noun: str, *, the: bool = False) -> str:
    """'Of 598 incidents' (or 'Of the 598 ...') to open a sentence, or 'Of all incidents
    (their number is not shown)' when the count is withheld."""
    if figure.shown:
        return f"Of {'the ' if the else ''}{figure.text} {noun}"
    return f"Of {'the' if the else 'all'} {noun} ({number_not_shown(figure)})"


def counted(figure: Figure, noun: str) -> str:
    """'598 incidents', or 'incidents (their number is not shown)' when withheld."""
    if figure.shown or figure.text.startswith("<"):
        return f"{said(figure)} {noun}"
    return f"{noun} ({number_not_shown(figure)})"


def part_of(part: Figure, whole: Figure, noun: str) -> str:
    """'41 of 598 incidents', or 'a number not shown of the incidents' when the whole is
    withheld."""
    if whole.shown or whole.text.startswith("<"):
        return f"{said(part)} of {said(whole)} {noun}"
    return f"{said(part)} of the {noun}"


def number_not_shown(figure: Figure) -> str:
    if figure.text.startswith("<"):
        return f"fewer than {figure.text[1:]}"
    return "their number is not shown"


def none_shown(*figures: Figure) -> bool:
    """Whether every figure is shown, and shown as 0 (a share of nothing is not shown: it
    is "none", and is left to the counts it rests on)."""
    return all(f.shown and f.value == 0 for f in figures)


def share_text(value: float | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "not shown"
    return f"{100 * value:.{decimals}f}%"


@dataclass
class CountTable:
    """Counts of incidents by the values of one or two categories, with margins."""

    name: str
    caption: str
    rows: str | None
    cols: str | None
    row_order: list[str]
    col_order: list[str]
    true: pd.DataFrame  # rows x cols, with a TOTAL row and column when margins
    margins: bool
    shown: pd.DataFrame = field(default=None)  # type: ignore[assignment]
    marks: pd.DataFrame = field(default=None)  # type: ignore[assignment]
    where: np.ndarray | None = None
    # The publication threshold when the published figures are adjusted for publication
    # (a 0 there may be a few); None for the internal audience's exact figures.
    threshold: int | None = None

    def __post_init__(self) -> None:
        if self.shown is None:
            self.shown = self.true.astype(float)
        if self.marks is None:
            self.marks = pd.DataFrame("", index=self.true.index, columns=self.true.columns)

    @property
    def adjusted(self) -> bool:
        return self.threshold is not None

    def value(self, row: str = TOTAL, col: str = TOTAL) -> Figure:
        """One published cell (`TOTAL` for a margin)."""
        number = self.shown.at[row, col]
        mark = self.marks.at[row, col]
        if pd.isna(number):
            return Figure(None, mark or "not shown", mark or "withheld")
        return Figure(float(number), count_text(number), "")

    def row_values(self, row: str) -> dict[str, Figure]:
        return {col: self.value(row, col) for col in self.shown.columns}

    def share(
        self,
        numerator: Sequence[str] | str,
        denominator: Sequence[str] | str,
        row: str = TOTAL,
        *,
        axis: str = "cols",
    ) -> Figure:
        """A share worked out from published cells of one row (or column): the numerator
        cells over the denominator cells, withheld where any of them is."""
        nums = [numerator] if isinstance(numerator, str) else list(numerator)
        dens = [denominator] if isinstance(denominator, str) else list(denominator)
        pick = (lambda c: self.value(row, c)) if axis == "cols" else (lambda r: self.value(r, row))
        top = [pick(c) for c in nums]
        bottom = [pick(c) for c in dens]
        if any(not f.shown for f in (*top, *bottom)):
            return Figure(None, "not shown", "rests on a number not shown")
        total = sum(f.value for f in bottom)  # type: ignore[misc]
        if total <= 0:
            return Figure(None, "none shown" if self.adjusted else "none", "no incidents")
        value = sum(f.value for f in top) / total  # type: ignore[misc]
        return Figure(value, share_text(value), "")

    def frame(self, *, include_margins: bool = True) -> pd.DataFrame:
        """The published counts as numbers (NaN where withheld)."""
        out = self.shown
        if not include_margins and self.margins:
            out = out.drop(index=TOTAL, errors="ignore").drop(columns=TOTAL, errors="ignore")
        return out


class Ledger:
    """The declared tables of one run, over one incident frame of categories."""

    def __init__(
        self, incidents: pd.DataFrame, *, audience: str = "internal", threshold: int = 5
    ) -> None:
        self.incidents = incidents
        self.audience = audience
        self.threshold = threshold
        self.tables: dict[str, CountTable] = {}
        self.protected = False
        self.audit: dict[str, Any] = {}  # published with the pack
        self.audit_line = ""  # the audit's exact figures, for the person running the tool
        self.record: Any = None  # what a publication counted and showed (protection/joint.py)
        self.keep: Callable[[], Any] | None = None  # keeps `record` once the pack is written
        self._overrides: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}

    # ------------------------------------------------------------------ declaring

    def table(
        self,
        name: str,
        *,
        caption: str,
        rows: str | None = None,
        cols: str | None = None,
        where: np.ndarray | None = None,
        row_order: Sequence[str] | None = None,
        col_order: Sequence[str] | None = None,
        margins: bool = True,
    ) -> CountTable:
        """Incidents counted by `rows` x `cols` (columns of `incidents`) among those
        `where` selects. Orders default to the categories' own order; every value in the
        order appears, zero or not."""
        if name in self.tables:
            return self.tables[name]
        if self.protected:
            raise RuntimeError(
                f"table {name} was not declared before the ledger was protected: a page "
                "must declare the same tables whatever the figures say"
            )
        frame = self.incidents[list(dict.fromkeys(c for c in (rows, cols) if c))]
        frame = frame if where is None else frame[np.asarray(where, bool)]
        r_order = self._order(rows, row_order)
        c_order = self._order(cols, col_order)
        true = _crosstab(frame, rows, cols, r_order, c_order, margins)
        table = CountTable(name, caption, rows, cols, r_order, c_order, true, margins, where=where)
        if name in self._overrides:
            table.shown, table.marks = self._overrides[name]
        self.tables[name] = table
        return table

    def count(self, name: str, *, caption: str, where: np.ndarray | None = None) -> Figure:
        """One number: the incidents `where` selects."""
        return self.table(name, caption=caption, where=where, margins=True).value()

    def _order(self, column: str | None, order: Sequence[str] | None) -> list[str]:
        if column is None:
            return [TOTAL]
        if order is not None:
            return [str(v) for v in order]
        values = self.incidents[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return [str(v) for v in values.cat.categories]
        return sorted(str(v) for v in values.dropna().unique())

    # ------------------------------------------------------------------ protecting

    def publish_with(
        self, protect: Callable[[Ledger], dict[str, tuple[pd.DataFrame, pd.DataFrame]]]
    ) -> None:
        """Replace every table's figures with what `protect` says may be published
        (values with NaN where withheld, and the marks a page shows instead)."""
        published = protect(self)
        self._overrides = published
        for name, table in self.tables.items():
            table.shown, table.marks = published[name]
            table.threshold = self.threshold if self.audience == "publication" else None
        self.protected = True


def _crosstab(
    frame: pd.DataFrame,
    rows: str | None,
    cols: str | None,
    row_order: list[str],
    col_order: list[str],
    margins: bool,
) -> pd.DataFrame:
    n = len(frame)
    r_index = pd.Index(row_order)
    c_index = pd.Index(col_order)
    ri = _positions(frame, rows, r_index) if rows else np.zeros(n, dtype=np.int64)
    ci = _positions(frame, cols, c_index) if cols else np.zeros(n, dtype=np.int64)
    keep = (ri >= 0) & (ci >= 0)
    cells = len(r_index) * len(c_index)
    flat = np.bincount(ri[keep] * len(c_index) + ci[keep], minlength=cells)
    counts = flat.astype(np.int64).reshape(len(r_index), len(c_index))
    table = pd.DataFrame(counts, index=r_index, columns=c_index)
    if margins and (rows or cols):
        if cols:
            table[TOTAL] = table.sum(axis=1)
        if rows:
            table.loc[TOTAL] = table.sum(axis=0)
    return table


def _positions(frame: pd.DataFrame, column: str, order: pd.Index) -> np.ndarray:
    """Each row's position in `order` (-1 where its value is not there), read from the
    category codes when the column has them (a million rows are not spelled out as text)."""
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = order.get_indexer([str(c) for c in values.cat.categories])
        return np.append(lookup, -1)[values.cat.codes.to_numpy()]  # a blank code is -1
    return order.get_indexer(values.astype(str).to_numpy())
