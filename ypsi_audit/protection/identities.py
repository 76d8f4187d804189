"""The relations between the ledger's cells, worked out from the incidents they count.

An attacker who reads several tables knows more than any one of them says: a setting's
total in one table is its total in the next, a table's rows add up to its totals, this
year's count cannot exceed the count over all years. Page authors do not declare these
relations; they follow from the cells being sets of incidents (the "cover table" idea of
tau-argus for linked tables), and this module derives them:

- A level declared twice (the same table, or the same totals in two tables) gives the
  same variables, cell by cell, empty cells included.
- Other cells that count exactly the same incidents, however few, become one variable
  (found by hashing each cell's set, then checked exactly). Often that is by definition
  (a table of one group's referrals by setting has, as its total, the same incidents as
  that group's referred cell in another table), and a reader who knows it learns more
  than either table says; the fourth outside attack (2026-12-03) used such links. When
  it is a coincidence of the data (the one incident of a rare group is also the only one
  in a setting) no reader could know it, but crediting it anyway only makes the audit
  stricter; small sets were once left apart for that reason, which missed the links by
  definition.
- Within a table, every total is the sum of the cells under it (definitional, so empty
  cells count too).
- Across tables: when table A's incidents are among table B's and each cell of A lies
  inside one cell of a level of B, each B cell is at least the sum of the A cells inside
  it, and equal to it when they cover it. "Lies inside" is either by definition (B's
  level counts by some of A's dimensions, with the same values) or because the data
  contract says A's dimensions fix the level's (`Ledger.determines`: the consistency code
  fixes the guidance outcome), checked on every incident of the frame. A function that
  merely happens to hold in the data (the one incident of a rare group is also the only
  one in a setting) is not used: no reader could know it.
- Tables whose incidents never meet (this year's and last year's), each inside the same
  level of another table: each cell of that level is at least the sum of all their cells
  inside it (equal when together they hold its incidents), which no one of them gives.
  The groups are found greedily, one grown from each table (not every possible group).

What is left out: a cell covered exactly by cells of a table that does not lie inside
the other table as a whole (say one setting's referred incidents against its split by
consistency, where "unassessable" straddles referred and not). Such covers are rare in
the declared tables and would cost a pass over every pair of cells.

Because the relations are read off the data, a few hold by coincidence (a setting whose
incidents all fall in one year); the audit then credits the attacker with them, which
can only make it stricter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from .ledger import Ledger, View

__all__ = ["Identities", "derive"]


@dataclass(frozen=True)
class Identities:
    """Variables (distinct sets of incidents) and the linear relations between them.

    `matrix @ x` is 0 for the rows where `equal` is true and ≥ 0 for the others, for the
    true counts `x` of the variables (and for any counts consistent with the relations).
    """

    var_of_cell: np.ndarray  # (cells,) variable of each cell
    truth: np.ndarray  # (variables,) true count of each variable
    matrix: sp.csr_matrix  # (relations, variables)
    equal: np.ndarray  # (relations,) bool
    first_cell: np.ndarray  # (variables,) one cell of each variable, for messages

    @property
    def n_vars(self) -> int:
        return len(self.truth)

    @property
    def n_relations(self) -> int:
        return self.matrix.shape[0]


def derive(ledger: Ledger) -> Identities:
    """All relations between the ledger's cells (see the module docstring)."""
    views = ledger.views
    truth_cells = ledger.true_counts
    var_of_cell = _merge(ledger, views, truth_cells)
    rows: dict[tuple[tuple[tuple[int, int], ...], bool], None] = {}

    def add(lhs: int, rhs: np.ndarray, equal: bool) -> None:
        coefficients: dict[int, int] = {}
        coefficients[int(var_of_cell[lhs])] = 1
        for cell in rhs:
            var = int(var_of_cell[cell])
            coefficients[var] = coefficients.get(var, 0) - 1
        key = tuple(sorted((v, c) for v, c in coefficients.items() if c != 0))
        if key:
            rows.setdefault((key, equal), None)

    for lhs, rhs in _margins(ledger, views):
        add(lhs, rhs, True)
    for lhs, rhs, equal in _refinements(ledger, views, truth_cells):
        add(lhs, rhs, equal)

    n_vars = int(var_of_cell.max()) + 1 if len(var_of_cell) else 0
    truth = np.zeros(n_vars, dtype=np.int64)
    truth[var_of_cell] = truth_cells
    first = np.full(n_vars, -1, dtype=np.int64)
    first[var_of_cell[::-1]] = np.arange(len(var_of_cell))[::-1]
    r_idx, c_idx, data, equal = [], [], [], []
    for k, (key, eq) in enumerate(rows):
        for var, coef in key:
            r_idx.append(k)
            c_idx.append(var)
            data.append(coef)
        equal.append(eq)
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=float), (np.asarray(r_idx, int), np.asarray(c_idx, int))),
        shape=(len(rows), n_vars),
    )
    identities = Identities(var_of_cell, truth, matrix, np.asarray(equal, dtype=bool), first)
    _check(identities)
    return identities


def _merge(ledger: Ledger, views: list[View], truth: np.ndarray) -> np.ndarray:
    """One variable per distinct set of incidents: identical levels of different tables
    cell by cell (empty cells too), other incident-bearing cells by their set."""
    n_cells = len(truth)
    var = np.full(n_cells, -1, dtype=np.int64)
    rng = np.random.default_rng(20261202)  # only to find equal sets, never published
    w1 = rng.integers(0, 1 << 26, ledger.n).astype(float)
    w2 = rng.integers(0, 1 << 26, ledger.n).astype(float)
    by_view: dict[tuple[bytes, tuple[int, ...]], int] = {}
    by_set: dict[tuple[int, float, float], int] = {}
    members: dict[int, tuple[int, int]] = {}  # var -> (view, local cell) to check sets
    next_var = 0
    for vi, view in enumerate(views):
        inside = view.index >= 0
        key = (np.where(inside, view.index, -1).tobytes(), view.shape)
        if key in by_view:  # the same level declared again: the same variables
            twin = views[by_view[key]]
            var[view.offset : view.offset + view.size] = var[twin.offset : twin.offset + twin.size]
            continue
        by_view[key] = vi
        h1 = np.bincount(view.index[inside], weights=w1[inside], minlength=view.size)
        h2 = np.bincount(view.index[inside], weights=w2[inside], minlength=view.size)
        for local in range(view.size):
            cell = view.offset + local
            count = int(truth[cell])
            if count == 0:  # empty cells are linked only through identical levels
                var[cell] = next_var
                next_var += 1
                continue
            set_key = (count, float(h1[local]), float(h2[local]))
            found = by_set.get(set_key)
            if found is not None and _same(views, members[found], (vi, local)):
                var[cell] = found
                continue
            by_set[set_key] = next_var
            members[next_var] = (vi, local)
            var[cell] = next_var
            next_var += 1
    return var


def _same(views: list[View], a: tuple[int, int], b: tuple[int, int]) -> bool:
    return bool(np.array_equal(views[a[0]].index == a[1], views[b[0]].index == b[1]))


def _margins(ledger: Ledger, views: list[View]) -> Iterator[tuple[int, np.ndarray]]:
    """Every total of a table as the sum of the table's base cells under it."""
    first_view = {}
    for view in views:
        first_view.setdefault(view.table, view)
    for view in views:
        base = first_view[view.table]
        if view is base:
            continue
        parent = _project(base, view)
        order = np.argsort(parent, kind="stable")
        bounds = np.searchsorted(parent[order], np.arange(view.size + 1))
        for local in range(view.size):
            under = base.offset + order[bounds[local] : bounds[local + 1]]
            yield view.offset + local, under


def _project(base: View, level: View) -> np.ndarray:
    """For each base cell, the cell of `level` (a subset of its dimensions) it lies in."""
    grid = _grid(base.shape)
    local = np.zeros(grid.shape[1], dtype=np.int64)
    for dim, size in zip(level.dims, level.shape, strict=True):
        local = local * size + grid[base.dims.index(dim)]
    return local


def _grid(shape: tuple[int, ...]) -> np.ndarray:
    """The dimension values of every cell of a level, one row per dimension."""
    if not shape:
        return np.zeros((0, 1), dtype=np.int64)
    return np.indices(shape).reshape(len(shape), -1)


def _refinements(
    ledger: Ledger, views: list[View], truth: np.ndarray
) -> Iterator[tuple[int, np.ndarray, bool]]:
    """Cross-table relations: a table's base cells inside the cells of another table's
    level (see the module docstring)."""
    tables = ledger.tables
    base_of = {}
    for view in views:
        base_of.setdefault(view.table, view)
    masks = {name: spec.mask for name, spec in tables.items()}
    distinct: dict[tuple[bytes, tuple[int, ...]], View] = {}
    for view in views:  # a level declared twice gives the same relations: use it once
        distinct.setdefault((view.index.tobytes(), view.shape), view)
    levels = list(distinct.values())
    fines = {id(v) for v in levels}
    inside_of: dict[int, tuple[View, list]] = {}  # level -> the fine tables placed inside it
    for fine_name, fine in base_of.items():
        if id(fine) not in fines:
            continue
        fine_mask = masks[fine_name]
        fine_spec = tables[fine_name]
        for level in levels:
            if level.table == fine_name:
                continue
            coarse_mask = masks[level.table]
            if np.any(fine_mask & ~coarse_mask):
                continue  # some of A's incidents are outside B: A is not inside B
            placed = _placement(ledger, fine, level, fine_spec, tables[level.table])
            if placed is None:
                placed = _functional(ledger, fine, level, fine_spec, tables[level.table])
                if placed is None:
                    continue
            inside_of.setdefault(id(level), (level, []))[1].append((fine, fine_mask, placed))
            yield from _inside(level, [(fine, placed)], truth, same_incidents=bool(
                np.array_equal(fine_mask, coarse_mask)))  # fmt: skip
    # Tables of incidents that never meet (this year's and last year's) lying inside one
    # level together: each cell is at least the sum of all their cells inside it, which
    # neither table gives alone (the sixth outside attack pinned a setting's count of
    # undated decisions from its two years' term tables, each inside the all-years one).
    for level, entries in inside_of.values():
        coarse_mask = masks[level.table]
        for group in _apart(entries):
            union = np.logical_or.reduce([entries[g][1] for g in group])
            yield from _inside(
                level, [(entries[g][0], entries[g][2]) for g in group], truth,
                same_incidents=bool(np.array_equal(union, coarse_mask)),
            )  # fmt: skip


def _inside(
    level: View, fines: list[tuple[View, np.ndarray]], truth: np.ndarray, *, same_incidents: bool
) -> Iterator[tuple[int, np.ndarray, bool]]:
    """Each cell of `level` against the base cells of `fines` placed inside it: at least
    their sum, and equal when they hold the same incidents or happen to cover it."""
    coarse_sizes = truth[level.offset : level.offset + level.size]
    placed = np.concatenate([p for _, p in fines])
    cells = np.concatenate([fine.offset + np.arange(fine.size) for fine, _ in fines])
    inside = placed >= 0
    sums = np.bincount(placed[inside], weights=truth[cells][inside], minlength=level.size)
    key = np.where(inside, placed, level.size)
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(level.size + 1))
    for local in range(level.size):
        under = cells[order[bounds[local] : bounds[local + 1]]]
        if len(under) == 0:
            continue
        covered = coarse_sizes[local] > 0 and sums[local] == coarse_sizes[local]
        yield level.offset + local, under, bool(same_incidents or covered)


def _apart(entries: list[tuple[View, np.ndarray, np.ndarray]]) -> list[tuple[int, ...]]:
    """Groups of two or more of `entries` whose incidents never meet, each as large as a
    greedy pass from one of them makes it (tables of no incidents are left out: they add
    nothing)."""
    masks = [mask for _, mask, _ in entries]
    live = [i for i, mask in enumerate(masks) if mask.any()]
    groups: set[tuple[int, ...]] = set()
    for seed in live:
        group = [seed]
        for other in live:
            if other != seed and not any(np.any(masks[other] & masks[g]) for g in group):
                group.append(other)
        if len(group) > 1:
            groups.add(tuple(sorted(group)))
    return sorted(groups)


def _placement(
    ledger: Ledger, fine: View, level: View, fine_spec: Any, coarse_spec: Any
) -> np.ndarray | None:
    """Where each base cell of `fine` lies in `level` by definition: when the level's
    dimensions are among the fine table's, with the same labels."""
    coarse_dims = [coarse_spec.by[d] for d in level.dims]
    if not set(coarse_dims) <= set(fine_spec.by):
        return None
    for d, name in zip(level.dims, coarse_dims, strict=True):
        if coarse_spec.values[d] != fine_spec.values[fine_spec.by.index(name)]:
            return None
    grid = _grid(fine.shape)
    local = np.zeros(grid.shape[1], dtype=np.int64)
    for name, size in zip(coarse_dims, level.shape, strict=True):
        local = local * size + grid[fine.dims.index(fine_spec.by.index(name))]
    return local


def _functional(
    ledger: Ledger, fine: View, level: View, fine_spec: Any, coarse_spec: Any
) -> np.ndarray | None:
    """Where each incident-bearing base cell of `fine` lies in `level`, when the contract
    says the fine table's dimensions fix the level's and that holds on every incident of
    the frame; empty cells are left unplaced (-1)."""
    coarse_dims = [coarse_spec.by[d] for d in level.dims]
    if not fine_spec.by or not coarse_dims:
        return None
    fixed = set(fine_spec.by) | {c for f in fine_spec.by for c in ledger.determines.get(f, ())}
    if not set(coarse_dims) <= fixed:
        return None
    fine_key = _combined(ledger, fine_spec.by)
    coarse_key = _combined(ledger, coarse_dims)
    if not coarse_key.size:  # no incidents (a setting with none chosen): nothing to place
        return np.full(fine.size, -1, dtype=np.int64)
    pairs = np.unique(fine_key * (int(coarse_key.max()) + 1) + coarse_key)
    if len(pairs) != len(np.unique(fine_key)):
        return None  # some values of A's dimensions go with more than one cell of B
    inside = fine.index >= 0
    placement = np.full(fine.size, -1, dtype=np.int64)
    placement[fine.index[inside]] = level.index[inside]
    return placement


def _combined(ledger: Ledger, columns: Any) -> np.ndarray:
    """One integer per incident for its values of `columns` (over the whole frame)."""
    key = np.zeros(ledger.n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(ledger.labels_of(column))
        key = key * (len(uniques) + 1) + codes
    return key


def _check(identities: Identities) -> None:
    """The true counts satisfy every relation (a failure is a bug, never data)."""
    values = identities.matrix @ identities.truth.astype(float)
    bad = (identities.equal & (values != 0)) | (~identities.equal & (values < 0))
    if np.any(bad):
        raise AssertionError(f"{int(bad.sum())} derived relations fail on the true counts")
