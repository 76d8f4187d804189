"""Read an anonymised incident log (CSV/TSV, XLSX or Parquet) into a contract-typed frame.

Two concerns, two modules, joined here: `readers.py` and `xlsx.py` read a file format
into raw columns with the row numbers a spreadsheet would show; `parsing.py` turns each
raw column into its contract dtype. In between, this module applies a mapping file
(rename, drop, translate) and matches headers to the contract. A value that cannot be
read never turns into "unknown" silently: it is listed in `problems`, because an audit
that quietly loses a "yes" would under-count. Nothing said about a file repeats a value
or a header from it that could be personal: columns are named by the contract's name or
by their number in the file, and by the user's own header only when the user's mapping
file renamed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import contract
from .contract import Column
from .errors import InputError, closest
from .mapping import ColumnMapping
from .parsing import (
    KNOWN_ANSWER_KEYS,
    Converted,
    build,
    convert,
    factorize,
    filled,
    reason_prefix,
)
from .readers import RawTable, header_key, read_raw

PROBLEM_COLUMNS = ("row", "column", "check", "reason")
CHECKS = (
    "unreadable_bool",
    "unreadable_int",
    "unreadable_date",
    "impossible_date",
    "unknown_code",
    "formula_without_value",
)


@dataclass
class LoadResult:
    """A typed frame plus every value that could not be read, for a report or a gate."""

    frame: pd.DataFrame
    problems: pd.DataFrame
    path: str
    extra_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    # Each column of the frame read from the file: its number in the file, from 1.
    numbers: dict[str, int] = field(default_factory=dict)
    # How messages name a column: the contract name, with the user's own header when
    # their mapping file renamed it ("decision (your column 'Police informed?')").
    labels: dict[str, str] = field(default_factory=dict)
    register: str | None = None  # the mapping file holding a settings register, if any

    def label(self, column: str) -> str:
        return self.labels.get(column, column)


# --------------------------------------------------------------------------- public API


def load_incidents(
    path: str | Path, *, sheet: str | int | None = None, mapping: ColumnMapping | None = None
) -> pd.DataFrame:
    """The typed frame, or an InputError naming the first unreadable value (row order)."""
    result = read_incidents(path, sheet=sheet, mapping=mapping)
    if len(result.problems):
        first = result.problems.iloc[0]
        label = result.label(str(first["column"]))
        detail = str(first["reason"]).removeprefix(reason_prefix(label))
        raise InputError(result.path, detail, row=int(first["row"]), column=label)
    return result.frame


def read_incidents(
    path: str | Path, *, sheet: str | int | None = None, mapping: ColumnMapping | None = None
) -> LoadResult:
    """Read a log into contract dtypes; unreadable values go to `problems`, not to NA.

    A `mapping` renames a setting's own export columns, translates its codes and drops
    columns before anything is read into the contract; its settings register turns
    setting names into codes.
    """
    shown = str(path)
    plain = [mapping.headers["incident_id"]] if mapping and "incident_id" in mapping.headers else []
    raw = read_raw(Path(path), shown, sheet, plain=plain)
    labels: dict[str, str] = {}
    if mapping is not None:
        raw, labels = _apply_mapping(raw, mapping)
    positions, extras = _match_headers(raw, shown, mapping)
    for name in extras:  # a header of the file's own is named by its number
        if name not in KNOWN_ANSWER_KEYS:
            labels[name] = f"{raw.numbers[positions[name]]} (not a contract column)"
    columns = [*contract.COLUMNS, *(Column(name, "string") for name in extras)]
    register = mapping.settings if mapping is not None else None
    n = len(raw.rows)
    arrays: dict[str, Any] = {}
    converted: list[tuple[int, str, Converted]] = []
    for order, column in enumerate(columns):
        pos = positions.get(column.name)
        if pos is None:
            arrays[column.name] = build(column, np.full(n, -1, dtype=np.intp), [])
            continue
        conv = convert(
            raw.values[pos],
            column,
            raw.excel,
            register=register,
            label=labels.get(column.name, column.name),
        )
        arrays[column.name] = conv.array
        converted.append((order, column.name, conv))
    frame = pd.DataFrame(arrays, index=pd.Index(raw.rows, name="row", dtype="int64"), copy=False)
    blank = _all_blank(n, [conv for _, _, conv in converted])
    if blank.size:
        frame = frame.iloc[np.setdiff1d(np.arange(n), blank)]
    frame.attrs["source"] = shown
    return LoadResult(
        frame=frame,
        problems=_problem_frame(raw.rows, converted),
        path=shown,
        extra_columns=extras,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        numbers={name: raw.numbers[pos] for name, pos in positions.items()},
        labels=labels,
        register=register.path if register is not None else None,
    )


def normalise_column(
    series: pd.Series, column: Column, *, source: str = "the input", strict: bool = True
) -> pd.Series:
    """One column of a frame built elsewhere (plain Python values, text) in contract dtype.

    Used by the engine for frames that did not come through `read_incidents`. With
    `strict`, the first unreadable value raises InputError naming its row label.
    """
    values = np.asarray(series.astype(object).to_numpy(), dtype=object)
    conv = convert(values, column, excel=False)
    if strict and conv.positions.size:
        first = int(conv.positions[0])
        detail = str(conv.reasons[0]).removeprefix(reason_prefix(column.name))
        raise InputError(source, detail, row=series.index[first], column=column.name)
    return pd.Series(conv.array, index=series.index, name=series.name)


def normalise_name(text: object) -> str:
    """Header or code as the contract spells it: 'Incident ID' -> 'incident_id'."""
    return header_key(text)


# ------------------------------------------------------------------------------ mapping


def _apply_mapping(raw: RawTable, mapping: ColumnMapping) -> tuple[RawTable, dict[str, str]]:
    """Rename, drop and translate the raw columns as the mapping file says."""
    names, values, numbers = [], [], []
    labels: dict[str, str] = {}
    for written, column, number in zip(raw.names, raw.values, raw.numbers, strict=True):
        key = normalise_name(written)
        if key in mapping.drop:
            continue
        name = mapping.rename.get(key, written)
        if key in mapping.rename:
            labels[name] = f"{name} (your column '{mapping.headers[name]}')"
        codes = mapping.values.get(normalise_name(name))
        if codes:
            column = _translate(column, codes)
        names.append(name)
        values.append(column)
        numbers.append(number)
    return replace(raw, names=names, values=values, numbers=numbers), labels


def _translate(column: Any, codes: dict[str, str]) -> np.ndarray:
    """Replace each distinct raw value the mapping knows (case and spaces ignored)."""
    index, uniques = factorize(column)
    lookup = [
        codes.get(" ".join(str(u).lower().split()), u) if filled(u) else None for u in uniques
    ]
    table = np.array([*lookup, None], dtype=object)
    return table[index]


# ------------------------------------------------------------------------------ headers


def _match_headers(
    raw: RawTable, shown: str, mapping: ColumnMapping | None
) -> tuple[dict[str, int], list[str]]:
    """Map contract names to positions; extras in file order; whole-file header errors.

    A header that is not the contract's is named only by its column number: the header
    row may be a row of data (a file without one), and a header is the file's content.
    """
    positions: dict[str, int] = {}
    extras: list[str] = []
    for pos, written in enumerate(raw.names):
        name = normalise_name(written)
        number = raw.numbers[pos]
        if not name:
            if _column_has_values(raw.values[pos]):
                raise InputError(
                    shown,
                    f"column {number} has values but no header name",
                    hint="name the column in the header row or delete it",
                )
            continue
        if name in positions:
            first = raw.numbers[positions[name]]
            what = (
                f"the header names {name} twice"
                if name in contract.BY_NAME
                else ("two columns have the same header")
            )
            raise InputError(
                shown,
                f"{what} (columns {first} and {number})",
                hint="delete or rename one of them",
            )
        positions[name] = pos
        if name not in contract.BY_NAME:
            extras.append(name)
    missing = [name for name in contract.REQUIRED if name not in positions]
    if missing:
        near = {name: raw.numbers[positions[name]] for name in extras}
        raise _missing_columns(shown, missing, near, mapping)
    return positions, extras


def _missing_columns(
    shown: str, missing: list[str], extras: dict[str, int], mapping: ColumnMapping | None
) -> InputError:
    """List the missing required columns and point at a near-miss header if there is one,
    by its column number (the header itself is not repeated)."""
    listed = ", ".join(missing)
    if len(missing) == 1:
        problem = f"the required column {listed} is missing"
    else:
        problem = f"the required columns {listed} are missing"
    guesses = []
    for extra, number in extras.items():
        best = closest(extra, missing)
        if best is not None:
            guesses.append(f"column {number}'s header is not in the contract: is it {best}?")
    if mapping is not None:
        for name in missing:
            if name in mapping.headers:
                guesses.append(
                    f"the mapping file renames '{mapping.headers[name]}' to {name}, "
                    "but the file has no column of that name"
                )
    if guesses:
        problem += f" ({'; '.join(guesses)})"
    return InputError(shown, problem, hint="add the column or correct its header name")


def _column_has_values(values: Any) -> bool:
    _, uniques = factorize(values)
    return any(filled(u) for u in uniques)


# --------------------------------------------------------------------------- conversion


def _all_blank(n: int, converted: list[Converted]) -> np.ndarray:
    """Positions of rows blank in every column: narrowed column by column, so cheap."""
    candidates = np.arange(n)
    for conv in converted:
        if not candidates.size:
            break
        candidates = candidates[conv.is_blank(candidates)]
    return candidates


def _problem_frame(rows: np.ndarray, converted: list[tuple[int, str, Converted]]) -> pd.DataFrame:
    """Problems in file order (row, then column order), with fixed columns and dtypes."""
    parts = [(order, name, conv) for order, name, conv in converted if conv.positions.size]
    if not parts:
        empty = {name: pd.Series([], dtype=str) for name in PROBLEM_COLUMNS}
        return pd.DataFrame({**empty, "row": pd.Series([], dtype="int64")})
    row = np.concatenate([rows[conv.positions] for _, _, conv in parts])
    order = np.concatenate([np.full(conv.positions.size, o) for o, _, conv in parts])
    frame = pd.DataFrame(
        {
            "row": row.astype("int64"),
            "column": np.concatenate([np.full(c.positions.size, nm, object) for _, nm, c in parts]),
            "check": np.concatenate([conv.checks for _, _, conv in parts]),
            "reason": np.concatenate([conv.reasons for _, _, conv in parts]),
        }
    )
    frame = frame.astype({"column": str, "check": str, "reason": str})
    return frame.iloc[np.lexsort((order, row))].reset_index(drop=True)
