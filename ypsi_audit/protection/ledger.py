"""The ledger: every number a publication shows, declared once as a count of incidents.

A page declares count tables over one incident-level frame (one row per incident, columns
of categories): "the incidents satisfying `where`, by setting and consistency, with
totals". Every cell is therefore a set of incidents, and so the ledger, not the page
author, can work out which cells of different tables count the same incidents or add up
to one another (`identities.py`): what an attacker would use to undo a protection, and
what the audit (`audit.py`) checks against.

Rates, differences, funnel positions and agreement statistics are declared from cells
(`figures.py`) and are always worked out from the published cells, never from the true
counts, so they tell a reader nothing the published counts do not.

The shape of every table (its rows and columns) is fixed by the declaration, never by the
data: a row that appeared only when an incident had a blank field would itself say that
such an incident exists. So columns that may be blank get a "not recorded" row whether or
not any value is blank, and `values=` fixes the order and the full list.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import figures
from .figures import FigureSpec

if TYPE_CHECKING:
    from .identities import Identities
    from .pack import Method, Pack

__all__ = ["DETERMINES", "NEVER_BLANK", "NOT_RECORDED", "TOTAL", "Cell", "Ledger", "LedgerError"]

NOT_RECORDED = "not recorded"
TOTAL = "Total"
# Columns the engine or the contract always fills: no "not recorded" row by default.
NEVER_BLANK = frozenset(
    {"setting_id", "academic_year", "term", "consistency", "guidance_outcome", "policy"}
)
# Columns whose value fixes another's, by the data contract: the consistency code says
# what the guidance said (under-escalation: the guidance said refer). Tables are linked
# through these as well as through shared dimensions.
DETERMINES: dict[str, tuple[str, ...]] = {"consistency": ("guidance_outcome",)}
FLAG = "flag"  # the pseudo-dimension of a flags table
ALL_FLAG = "all"  # the flags table's count of every incident it covers


class LedgerError(ValueError):
    """A declaration the ledger cannot accept (a programming error in a page)."""


@dataclass(frozen=True)
class Cell:
    """One published count: a table and the values of the dimensions it fixes (a margin
    fixes fewer than the table has)."""

    table: str
    key: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        inside = ", ".join(f"{dim} {value}" for dim, value in self.key) or TOTAL
        return f"{self.table} ({inside})"

    def get(self, dim: str, default: str = TOTAL) -> str:
        return dict(self.key).get(dim, default)


@dataclass(frozen=True)
class _Table:
    name: str
    by: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    where: str
    margins: bool
    mask: np.ndarray  # (incidents,) bool: the incidents `where` selects
    codes: np.ndarray  # (incidents, len(by)) int64 label numbers; -1 outside `where`
    family: str  # the flags table this belongs to ("" for a plain table)

    def views(self) -> list[tuple[int, ...]]:
        """The dimension subsets published: every one with margins, else only the full."""
        full = tuple(range(len(self.by)))
        if not self.margins:
            return [full]
        return [c for k in range(len(full), -1, -1) for c in itertools.combinations(full, k)]


@dataclass(frozen=True)
class View:
    """One level of one table (its base cells, or one set of margins): each incident is in
    at most one of its cells, so one array of cell numbers describes it."""

    table: str
    dims: tuple[int, ...]
    offset: int  # global number of its first cell
    shape: tuple[int, ...]
    index: np.ndarray  # (incidents,) local cell number or -1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


class Ledger:
    """The declared tables and figures of one run, over one incident frame.

    `frame` has one row per incident; every column a table uses is read as categories
    (yes/no for a boolean, "not recorded" for a blank). `determines` names the columns
    whose value fixes another column's (default `DETERMINES`). Tables and figures are declared
    first; `publish(method)` then protects the whole ledger at once and returns the
    `Pack` that pages read.
    """

    def __init__(
        self, frame: pd.DataFrame, *, determines: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.frame = frame
        self.determines = dict(DETERMINES if determines is None else determines)
        self.n = len(frame)
        self._labels: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
        self._filters: dict[str, np.ndarray] = {"all": np.ones(self.n, dtype=bool)}
        self.tables: dict[str, _Table] = {}
        self.families: dict[str, tuple[str, ...]] = {}  # flags table -> its flags
        self.figures: dict[str, FigureSpec] = {}
        self._frozen = False

    # ------------------------------------------------------------------ declaring

    def filter(self, name: str, mask: Any) -> str:
        """Name a set of incidents, for `where=`; the name appears in the audit's messages."""
        self._check_open()
        if name in self._filters:
            raise LedgerError(f"filter {name!r} is declared twice")
        self._filters[name] = self._mask(mask, name)
        return name

    def counts(
        self,
        name: str,
        by: Sequence[str] = (),
        where: Any = None,
        *,
        margins: bool = True,
        values: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Declare a table: the incidents satisfying `where` (a filter name, a boolean mask
        or None for all) counted by every combination of `by`'s values, zero or not, with
        every total (each row, each column and the grand total) when `margins`."""
        self._check_open()
        self._check_name(name)
        where_name, mask = self._where(name, where)
        self.tables[name] = self._table(name, tuple(by), where_name, mask, margins, values, "")
        return name

    def flags(
        self,
        name: str,
        flags: Mapping[str, Any],
        by: Sequence[str] = (),
        where: Any = None,
        *,
        values: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Declare counts of incidents carrying each of several flags that may overlap
        (factors present, fields left blank), by `by`, beside the count of all incidents
        `where` selects (flag "all"): one table of counts per flag, each with its totals."""
        self._check_open()
        self._check_name(name)
        if not flags or ALL_FLAG in flags:
            raise LedgerError(f"flags table {name!r} needs flags, none called {ALL_FLAG!r}")
        where_name, mask = self._where(name, where)
        members = []
        for flag, flag_mask in [(ALL_FLAG, None), *flags.items()]:
            sub = f"{name}/{flag}"
            self._check_name(sub)
            chosen = mask if flag_mask is None else mask & self._mask(flag_mask, sub)
            label = where_name if flag_mask is None else f"{where_name} & {flag}"
            self.tables[sub] = self._table(sub, tuple(by), label, chosen, True, values, name)
            members.append(flag)
        self.families[name] = tuple(members)
        return name

    def figure(self, spec: FigureSpec) -> str:
        """Declare a derived figure (see `figures.py` for the kinds); returns its name."""
        self._check_open()
        if spec.name in self.figures or spec.name in self.tables:
            raise LedgerError(f"figure {spec.name!r} is declared twice")
        for cell in spec.cells():
            self._validate(cell)  # every cell it rests on must exist
        for name in spec.inputs:
            if name not in self.figures:
                raise LedgerError(f"figure {spec.name!r} rests on undeclared {name!r}")
        self.figures[spec.name] = spec
        return spec.name

    # ------------------------------------------------------------------ figures

    def rate(
        self, name: str, part: Any, whole: Any, *, decimals: int = 1, percent: bool = True
    ) -> str:
        """The published `part` cells over the published `whole` cells."""
        return self.figure(figures.rate(name, part, whole, decimals=decimals, percent=percent))

    def rates(
        self,
        name: str,
        table: str,
        over: str,
        part: Mapping[str, Sequence[str]],
        whole: Mapping[str, Sequence[str]],
        *,
        decimals: int = 1,
        percent: bool = True,
    ) -> dict[str, str]:
        """One rate per value of `over` (and one for the total, key "Total"): the cells with
        `part`'s values over those with `whole`'s, e.g. per setting
        `part={"consistency": ["under_escalation"]}`,
        `whole={"consistency": ["under_escalation", "consistent_referral"]}`."""
        out = {}
        for unit in (*self.values(table, over), TOTAL):
            fixed = {} if unit == TOTAL else {over: unit}
            top = self._select(table, fixed, part)
            bottom = self._select(table, fixed, whole)
            out[unit] = self.rate(
                f"{name}[{unit}]", top, bottom, decimals=decimals, percent=percent
            )
        return out

    def difference(
        self, name: str, a: str, b: str, *, decimals: int = 1, percent: bool = True
    ) -> str:
        """Figure `a` minus figure `b`."""
        return self.figure(figures.difference(name, a, b, decimals=decimals, percent=percent))

    def funnel(
        self, name: str, rates: Mapping[str, str], target: str, *, overdispersion: bool = False
    ) -> dict[str, str]:
        """Each unit's position (inside, above or below the 95% and 99.8% limits) for the
        rates `rates` (unit -> rate figure) around the rate `target`."""
        peers = tuple(rates.values())
        return {
            unit: self.figure(
                figures.funnel(
                    f"{name}[{unit}]", rate, target, peers, overdispersion=overdispersion
                )
            )
            for unit, rate in rates.items()
        }

    def statistic(self, name: str, kind: str, cells: Sequence[Cell], *, decimals: int = 2) -> str:
        """A statistic (see `figures.STATISTICS`) of a 2×2 of cells, in the order
        (yes, yes), (yes, no), (no, yes), (no, no)."""
        return self.figure(figures.statistic(name, kind, cells, decimals=decimals))

    def _select(
        self, table: str, fixed: Mapping[str, str], chosen: Mapping[str, Sequence[str]]
    ) -> list[Cell]:
        dims = list(chosen)
        return [
            self.cell(table, **fixed, **dict(zip(dims, combo, strict=True)))
            for combo in itertools.product(*(chosen[d] for d in dims))
        ]

    # ------------------------------------------------------------------ addressing

    def cell(self, table: str, **key: str) -> Cell:
        """The cell of `table` with these dimension values; leave a dimension out for its
        total (a flags table takes `flag=`)."""
        target = table
        if table in self.families:
            flag = key.pop(FLAG, ALL_FLAG)
            if flag not in self.families[table]:
                raise LedgerError(f"{table!r} has no flag {flag!r}")
            target = f"{table}/{flag}"
        spec = self._spec(target)
        unknown = set(key) - set(spec.by)
        if unknown:
            raise LedgerError(f"{table!r} has no dimension {sorted(unknown)}")
        ordered = tuple((dim, str(key[dim])) for dim in spec.by if dim in key)
        cell = Cell(target, ordered)
        self._validate(cell)
        return cell

    def cells(self, table: str, over: str, **fixed: str) -> dict[str, Cell]:
        """One cell per value of `over` (the others fixed as given): for a figure per unit."""
        spec = self._spec(
            f"{table}/{fixed.get(FLAG, ALL_FLAG)}" if table in self.families else table
        )
        if over not in spec.by:
            raise LedgerError(f"{table!r} has no dimension {over!r}")
        values = spec.values[spec.by.index(over)]
        return {value: self.cell(table, **{over: value}, **fixed) for value in values}

    def values(self, table: str, dim: str) -> tuple[str, ...]:
        spec = self._spec(f"{table}/{ALL_FLAG}" if table in self.families else table)
        return spec.values[spec.by.index(dim)]

    def cell_id(self, cell: Cell) -> int:
        """The global number of a cell (its position in `true_counts`)."""
        spec = self._validate(cell)
        dims = tuple(spec.by.index(d) for d, _ in cell.key)
        view = self.views[self._view_index[cell.table, dims]]
        local = 0
        for (_, value), size, pos in zip(cell.key, view.shape, dims, strict=True):
            local = local * size + spec.values[pos].index(value)
        return view.offset + local

    def _validate(self, cell: Cell) -> _Table:
        spec = self._spec(cell.table)
        dims = [d for d, _ in cell.key]
        if any(d not in spec.by for d in dims) or dims != [d for d in spec.by if d in dims]:
            raise LedgerError(f"{cell.label}: the dimensions do not match the table's")
        if not spec.margins and len(dims) != len(spec.by):
            raise LedgerError(f"{cell.label} is not published (the table has no totals)")
        for dim, value in cell.key:
            if value not in spec.values[spec.by.index(dim)]:
                raise LedgerError(f"{cell.label}: {dim} has no value {value!r}")
        return spec

    # ------------------------------------------------------------------ structure

    @cached_property
    def views(self) -> list[View]:
        """Every published level of every table, in declaration order (freezes the ledger)."""
        self._frozen = True
        out: list[View] = []
        offset = 0
        for spec in self.tables.values():
            for dims in spec.views():
                shape = tuple(len(spec.values[d]) for d in dims)
                index = np.zeros(self.n, dtype=np.int64)
                for d, size in zip(dims, shape, strict=True):
                    index = index * size + spec.codes[:, d]
                index = np.where(spec.mask, index, -1)
                out.append(View(spec.name, dims, offset, shape, index))
                offset += int(np.prod(shape)) if shape else 1
        return out

    @cached_property
    def _view_index(self) -> dict[tuple[str, tuple[int, ...]], int]:
        return {(v.table, v.dims): i for i, v in enumerate(self.views)}

    @cached_property
    def cell_list(self) -> list[Cell]:
        """Every cell, in global order."""
        out: list[Cell] = []
        for view in self.views:
            spec = self.tables[view.table]
            grids = [spec.values[d] for d in view.dims]
            names = [spec.by[d] for d in view.dims]
            for combo in itertools.product(*grids):
                out.append(Cell(view.table, tuple(zip(names, combo, strict=True))))
        return out

    @cached_property
    def true_counts(self) -> np.ndarray:
        """The true count of every cell (internal: never published as such)."""
        parts = [
            np.bincount(v.index[v.index >= 0], minlength=v.size).astype(np.int64)
            for v in self.views
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @cached_property
    def view_of_cell(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.views)), [v.size for v in self.views])

    def identities(self) -> Identities:
        """The relations between cells that follow from their incidents (cached)."""
        from .identities import derive

        if not hasattr(self, "_identities"):
            self._identities = derive(self)
        return self._identities

    def labels_of(self, column: str) -> np.ndarray:
        """Every incident's label for a column the tables count by."""
        if column not in self._labels:
            self._labels[column] = _labels(self.frame[column], column)
        return self._labels[column][0]

    def where_mask(self, table: str) -> np.ndarray:
        return self._spec(table).mask

    # ------------------------------------------------------------------ publishing

    def publish(self, method: Method) -> Pack:
        """Protect every cell at once with `method` and return what pages may read."""
        from .pack import Pack

        return Pack.build(self, method)

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._frozen:
            raise LedgerError(
                "the ledger is already published: declare every table and figure first, "
                "whatever the figures turn out to be"
            )

    def _check_name(self, name: str) -> None:
        if not name or name.count("/") > 1:
            raise LedgerError(f"table name {name!r} is not usable")
        if name in self.tables or name in self.families or name in self.figures:
            raise LedgerError(f"table {name!r} is declared twice")

    def _spec(self, table: str) -> _Table:
        if table not in self.tables:
            raise LedgerError(f"no table {table!r} is declared")
        return self.tables[table]

    def _mask(self, mask: Any, name: str) -> np.ndarray:
        if isinstance(mask, pd.Series):
            if mask.isna().any():
                raise LedgerError(f"the mask of {name!r} has blanks: say what a blank means")
            mask = mask.to_numpy(dtype=bool)
        array = np.asarray(mask)
        if array.shape != (self.n,) or array.dtype != bool:
            raise LedgerError(f"the mask of {name!r} must be {self.n} true/false values")
        return array

    def _where(self, name: str, where: Any) -> tuple[str, np.ndarray]:
        if where is None:
            return "all", self._filters["all"]
        if isinstance(where, str):
            if where not in self._filters:
                raise LedgerError(f"{name!r}: no filter {where!r} is declared")
            return where, self._filters[where]
        return f"{name}:where", self._mask(where, name)

    def _table(
        self,
        name: str,
        by: tuple[str, ...],
        where_name: str,
        mask: np.ndarray,
        margins: bool,
        values: Mapping[str, Sequence[str]] | None,
        family: str,
    ) -> _Table:
        if len(set(by)) != len(by):
            raise LedgerError(f"{name!r} names a dimension twice")
        chosen = values or {}
        columns, labels = [], []
        for dim in by:
            codes, order = self._column(dim, chosen.get(dim), name)
            if np.any(mask & (codes < 0)):
                raise LedgerError(
                    f"{name!r}: some values of {dim!r} are not among its declared values; "
                    "declare them all so the table's shape does not depend on the data"
                )
            columns.append(np.where(mask, codes, -1))
            labels.append(order)
        codes = (
            np.column_stack(columns).astype(np.int64)
            if columns
            else np.zeros((self.n, 0), dtype=np.int64)
        )
        return _Table(name, by, tuple(labels), where_name, margins or not by, mask, codes, family)

    def _column(
        self, dim: str, declared: Sequence[str] | None, table: str
    ) -> tuple[np.ndarray, tuple[str, ...]]:
        if dim == FLAG:
            raise LedgerError(f"{table!r}: {FLAG!r} is reserved for flags tables")
        if dim not in self.frame.columns:
            raise LedgerError(f"{table!r}: the frame has no column {dim!r}")
        if dim not in self._labels:
            self._labels[dim] = _labels(self.frame[dim], dim)
        text, default = self._labels[dim]
        order = tuple(str(v) for v in declared) if declared is not None else default
        if len(set(order)) != len(order):
            raise LedgerError(f"{table!r}: the values of {dim!r} repeat")
        codes = pd.Index(order).get_indexer(text)
        return codes.astype(np.int64), order


def _labels(series: pd.Series, dim: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each incident's label for a column, and the column's default order of labels."""
    blank = series.isna().to_numpy()
    if dim in NEVER_BLANK and blank.any():
        raise LedgerError(f"column {dim!r} should never be blank but is")
    if pd.api.types.is_bool_dtype(series.dtype):
        flags = series.astype("boolean").fillna(False).to_numpy(dtype=bool)
        text = np.where(flags, "yes", "no").astype(object)
        order: list[str] = ["yes", "no"]
    elif isinstance(series.dtype, pd.CategoricalDtype):
        text = series.astype("string").fillna("").to_numpy(dtype=object)
        order = [str(c) for c in series.cat.categories]
    else:
        text = series.astype("string").fillna("").to_numpy(dtype=object)
        order = sorted({str(v) for v in text[~blank]})
    text = np.where(blank, NOT_RECORDED, text).astype(object)
    if dim not in NEVER_BLANK and NOT_RECORDED not in order:
        order.append(NOT_RECORDED)
    return text, tuple(order)


def flatten(cells: Iterable[Cell] | Cell) -> tuple[Cell, ...]:
    return (cells,) if isinstance(cells, Cell) else tuple(cells)
