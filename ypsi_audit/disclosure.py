"""Disclosure control for published tables of counts, following UK public-sector practice.

The project's rule: every published count from 1 to 4 (below the threshold) is withheld,
shown as "<5" on the report page and as the GSS/DfE symbol "c" (confidential) in downloadable
tables. A true zero is shown: it does not single anyone out. Withholding one cell is not
enough when totals are published, because the hidden value could be worked out by
subtraction, so a second ("secondary") cell is withheld as well.

Threshold 0 or None switches suppression off, for restricted internal use only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "CONFIDENTIAL",
    "SYMBOL_NOTES",
    "UNAVAILABLE",
    "Suppressed",
    "render_counts",
    "suppress",
    "suppress_rate",
]

CONFIDENTIAL = "c"  # GSS/DfE symbol for a value withheld to protect confidentiality
UNAVAILABLE = "x"  # GSS/DfE symbol for a value that is not available (missing in the data)
THRESHOLD_ATTR = "disclosure_threshold"
PRIMARY_ATTR = "primary_suppressed"

# Plain-English footnotes for the symbols, for the report page and the tables' notes.
SYMBOL_NOTES: dict[str, str] = {
    "<5": "<5: a number from 1 to 4, not shown so that no child can be identified.",
    CONFIDENTIAL: (
        "c: not shown, to protect confidentiality (either a small number or a number "
        "withheld so that a small number cannot be worked out from the totals)."
    ),
    UNAVAILABLE: "x: not available (not recorded in the log).",
}


class Suppressed(NamedTuple):
    """Result of :func:`suppress`: the protected table, which cells were withheld, how many."""

    table: pd.DataFrame
    mask: pd.DataFrame
    withheld: int


def _active(threshold: int | None) -> bool:
    """Whether a threshold asks for any suppression at all."""
    return threshold is not None and threshold > 1


def _as_counts(column: pd.Series, name: str) -> pd.Series:
    """A count column as nullable Int64, refusing fractions and negative numbers."""
    numbers = pd.to_numeric(column, errors="raise")
    as_float = numbers.to_numpy(dtype=float, na_value=np.nan)
    known = as_float[~np.isnan(as_float)]
    if np.any(known < 0) or np.any(known != np.round(known)):
        raise ValueError(f"column {name!r} must hold whole, non-negative counts")
    return pd.Series(pd.array(numbers, dtype="Int64"), index=column.index, name=name)


def _append_total_row(table: pd.DataFrame, protected: list[str], label: str) -> pd.DataFrame:
    """Add the published column-total row (missing if any count in the column is missing)."""
    totals: dict[str, Any] = {}
    for col in protected:
        values = table[col]
        totals[col] = pd.NA if values.isna().any() else int(values.sum())
    label_col = next(
        (
            c
            for c in table.columns
            if c not in protected
            and (
                isinstance(table[c].dtype, pd.CategoricalDtype)
                or pd.api.types.is_string_dtype(table[c].dtype)
                or table[c].dtype == object
            )
        ),
        None,
    )
    base = table.copy()
    if label_col is not None:
        totals[label_col] = label
        if isinstance(base[label_col].dtype, pd.CategoricalDtype) and (
            label not in base[label_col].cat.categories
        ):
            base[label_col] = base[label_col].cat.add_categories([label])
    row = pd.DataFrame({c: [totals.get(c, pd.NA)] for c in base.columns})
    for col in protected:
        row[col] = row[col].astype("Int64")
    if isinstance(base.index, pd.RangeIndex):
        out = pd.concat([base, row], ignore_index=True)
    else:
        row.index = pd.Index([label])
        out = pd.concat([base, row])
    for col in protected:
        out[col] = out[col].astype("Int64")
    if label_col is not None and isinstance(table[label_col].dtype, pd.CategoricalDtype):
        out[label_col] = out[label_col].astype(base[label_col].dtype)
    return out


def _secondary(
    values: np.ndarray,
    hidden: np.ndarray,
    equations: list[tuple[list[tuple[int, int]], tuple[int, int] | None]],
    primary: np.ndarray | None = None,
    threshold: int = 0,
) -> None:
    """Withhold extra cells until no published equation gives a hidden cell away.

    Each equation is a list of cells that add up (a row, a column) and the cell among them
    holding the published total, if any. A hidden cell is given away when it is the only
    one hidden in its line (subtraction), or when what a reader knows pins it: a cell
    shown as "<5" is from 1 to threshold − 1, any other hidden cell is at least the
    threshold, and the lines' sums tighten those bounds (two "<5" cells adding up to 2 are
    both 1). Either way the smallest other non-zero, unhidden cell of that line is
    withheld too (a total only if nothing else is left). ``hidden`` is updated in place;
    suppression only grows, so this always stops.
    """
    changed = True
    while changed:
        changed = False
        pinned = _pinned_cells(values, hidden, equations, primary, threshold)
        for cells, total_cell in equations:
            if sum(hidden[c] for c in cells) != 1 and not any(c in pinned for c in cells):
                continue
            candidates = [
                c for c in cells if not hidden[c] and not np.isnan(values[c]) and values[c] > 0
            ]
            if not candidates:
                continue  # nothing left to hide in this line; its total is not in the table
            inner = [c for c in candidates if c != total_cell]
            pool = inner or candidates
            choice = min(pool, key=lambda c: values[c])  # first of equal smallest
            hidden[choice] = True
            changed = True
            break  # the bounds change with every cell hidden: work them out again


def _pinned_cells(
    values: np.ndarray,
    hidden: np.ndarray,
    equations: list[tuple[list[tuple[int, int]], tuple[int, int] | None]],
    primary: np.ndarray | None,
    threshold: int,
) -> set[tuple[int, int]]:
    """Hidden cells whose value a reader can prove from the shown cells, the "<5" marks
    and the published totals (interval bounds tightened line by line until stable)."""
    if primary is None or not threshold:
        return set()
    low: dict[tuple[int, int], float] = {}
    high: dict[tuple[int, int], float] = {}
    for cell in zip(*np.nonzero(hidden), strict=True):
        small = bool(primary[cell])
        low[cell], high[cell] = (1.0, threshold - 1.0) if small else (float(threshold), np.inf)

    def bounds(cell: tuple[int, int]) -> tuple[float, float]:
        return (low[cell], high[cell]) if hidden[cell] else (values[cell], values[cell])

    lines = [(cells, total) for cells, total in equations if total is not None]
    for _ in range(4 * len(lines) + 1):
        moved = False
        for cells, total in lines:
            parts = [c for c in cells if c != total]
            if not any(hidden[c] for c in cells):
                continue
            total_low, total_high = bounds(total)
            for cell in [c for c in cells if hidden[c]]:
                lo, hi = bounds(cell)
                others = [bounds(c) for c in parts if c != cell]
                others_low = sum(b[0] for b in others)
                others_high = sum(b[1] for b in others)
                if cell == total:
                    new_lo, new_hi = max(lo, others_low), min(hi, others_high)
                else:
                    new_lo = max(lo, total_low - others_high)
                    new_hi = min(hi, total_high - others_low)
                if (new_lo, new_hi) != (lo, hi):
                    low[cell], high[cell] = new_lo, new_hi
                    moved = True
        if not moved:
            break
    return {cell for cell in low if low[cell] >= high[cell]}


def suppress(
    table: pd.DataFrame,
    count_cols: Sequence[str],
    threshold: int | None = 5,
    *,
    row_total: str | None = None,
    col_totals: bool = False,
    total_label: str = "Total",
) -> Suppressed:
    """Withhold small counts, and enough others that none can be worked out from totals.

    Primary suppression: every count from 1 to threshold − 1 in ``count_cols`` (and in the
    ``row_total`` column, which is a published count too); zero is shown. Secondary
    suppression: in every row (whose total may be published here as ``row_total`` or elsewhere)
    with exactly one withheld cell, the smallest other non-zero count is withheld as well; with
    ``col_totals`` a total row (labelled ``total_label``) is appended to the table, protected
    in the same way, and the same rule runs down every column; rows and columns repeat until
    nothing changes.

    Returns ``Suppressed(table, mask, withheld)``: the table with withheld cells as <NA> in
    Int64 count columns, a boolean frame (same index, count columns) that is True where a
    cell was withheld, and the number withheld. Threshold 0 or None withholds nothing.
    """
    protected = list(count_cols)
    if row_total is not None:
        if row_total in protected:
            raise ValueError(f"row_total {row_total!r} must not also be one of count_cols")
        protected.append(row_total)
    missing = [c for c in protected if c not in table.columns]
    if missing:
        raise KeyError(f"suppress: missing columns {missing}")
    if not protected:
        raise ValueError("suppress needs at least one count column")

    out = table.copy()
    for col in protected:
        out[col] = _as_counts(out[col], col)
    if col_totals:
        out = _append_total_row(out, protected, total_label)
    out.attrs[THRESHOLD_ATTR] = threshold if _active(threshold) else None

    values = out[protected].to_numpy(dtype=float, na_value=np.nan)
    primary = np.zeros(values.shape, dtype=bool)
    if _active(threshold):
        assert threshold is not None
        with np.errstate(invalid="ignore"):
            primary = (values >= 1) & (values < threshold)
    hidden = primary.copy()
    if _active(threshold):
        n_rows, n_cols = values.shape
        total_col = n_cols - 1 if row_total is not None else None
        equations: list[tuple[list[tuple[int, int]], tuple[int, int] | None]] = [
            ([(r, j) for j in range(n_cols)], (r, total_col) if total_col is not None else None)
            for r in range(n_rows)
        ]
        if col_totals:
            equations += [([(r, j) for r in range(n_rows)], (n_rows - 1, j)) for j in range(n_cols)]
        _secondary(values, hidden, equations, primary, threshold)

    mask = pd.DataFrame(hidden, index=out.index, columns=protected)
    # Which withheld cells were small themselves (rendered "<5" on the page), as
    # (row position, column) pairs: a secondary cell may be large, so "<5" would be false.
    mask.attrs[PRIMARY_ATTR] = frozenset(
        (int(r), protected[int(j)]) for r, j in zip(*np.nonzero(primary), strict=True)
    )
    for j, col in enumerate(protected):
        column = out[col].copy()
        column[hidden[:, j]] = pd.NA
        out[col] = column
    return Suppressed(out, mask, int(hidden.sum()))


def render_counts(
    table: pd.DataFrame,
    mask: pd.DataFrame,
    for_page: bool,
    *,
    threshold: int | None = None,
    primary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Counts as text for publishing, with the symbols readers of official statistics expect.

    Tables (CSV, ``for_page`` False): every withheld cell is "c". Page: a withheld small count
    is "<5" (using the threshold), while a cell withheld only to protect another (secondary
    suppression, possibly a large number) is "c", because "<5" would be untrue. Missing
    counts are "x". The columns of ``mask`` are rendered; others are left as they are.
    ``threshold`` defaults to the one :func:`suppress` used, ``primary`` (True where a cell was
    withheld for being small) to the record :func:`suppress` keeps on its mask; without
    either record every withheld page cell is shown as "c".
    """
    if threshold is None:
        threshold = table.attrs.get(THRESHOLD_ATTR) or 5
    hidden = mask.reindex(index=table.index, columns=mask.columns, fill_value=False)
    hidden_np = hidden.to_numpy(dtype=bool)
    if primary is not None:
        small = primary.reindex(index=table.index, columns=mask.columns, fill_value=False)
        small_np = small.to_numpy(dtype=bool)
    else:
        small_np = np.zeros(hidden_np.shape, dtype=bool)
        columns = list(mask.columns)
        if hidden.shape == mask.shape:
            for r, col in mask.attrs.get(PRIMARY_ATTR, frozenset()):
                if col in columns and r < len(small_np):
                    small_np[r, columns.index(col)] = True
    out = table.copy()
    for j, col in enumerate(mask.columns):
        texts = []
        for i, value in enumerate(table[col].tolist()):
            if hidden_np[i, j]:
                texts.append(f"<{threshold}" if for_page and small_np[i, j] else CONFIDENTIAL)
            elif pd.isna(value):
                texts.append(UNAVAILABLE)
            else:
                texts.append(str(int(value)))
        out[col] = pd.Series(texts, index=table.index, dtype="str")
    return out


def suppress_rate(k: Any, n: Any, threshold: int | None = 5) -> Any:
    """A rate k/n, withheld (NA) when k is withheld or small, or n is below the threshold.

    Pass the numerator from the suppressed table, so that a secondarily withheld count (NA
    there) cannot be recovered from its rate. Scalars give a float or pd.NA; Series and
    array-likes give a Float64 Series.
    """
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    index = k.index if isinstance(k, pd.Series) else n.index if isinstance(n, pd.Series) else None
    k_num, n_num = np.broadcast_arrays(_floats(k), _floats(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = k_num / n_num
        withheld = np.isnan(k_num) | np.isnan(n_num) | (n_num <= 0)
        if _active(threshold):
            assert threshold is not None
            withheld |= (n_num < threshold) | ((k_num >= 1) & (k_num < threshold))
    if scalar:
        return pd.NA if withheld[0] else float(rate[0])
    result = pd.array(np.where(withheld, 0.0, rate), dtype="Float64")
    result[withheld] = pd.NA
    return pd.Series(
        result, index=index if index is not None and len(index) == len(result) else None
    )


def _floats(values: Any) -> np.ndarray:
    """Floats with NaN for missing, from a scalar, list, array or (nullable) Series."""
    series = pd.Series(values if np.ndim(values) else [values])
    if series.dtype == object:
        series = series.where(series.notna(), np.nan)
    return pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
