"""Read an anonymised incident log (CSV/TSV, XLSX or Parquet) into a contract-typed frame.

Each reader hands on raw columns and the row numbers a spreadsheet would show; one
normaliser then turns every column into its contract dtype. Values are parsed once per
distinct value and broadcast back, so a million-row log loads in seconds. A value that
cannot be read never turns into "unknown" silently: it is listed in `problems`, because
an audit that quietly loses a "yes" would under-count.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import io
import math
import numbers
import re
import zipfile
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import contract, privacy
from .contract import Column
from .errors import InputError, closest, did_you_mean
from .mapping import ColumnMapping

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
PROBLEM_COLUMNS = ("row", "column", "check", "reason")
CHECKS = ("unreadable_bool", "unreadable_int", "unreadable_date", "impossible_date", "unknown_code")
MAX_ECHO = 40  # longer values are never repeated: they are more likely to be free text
DELIMITERS = (",", ";", "\t")
# datetime64[ns] can only hold these years.
MIN_YEAR, MAX_YEAR = 1678, 2261
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

ParseResult = tuple[Any, str | None, str | None]  # value, check id, detail with {subject}


@dataclass
class LoadResult:
    """A typed frame plus every value that could not be read, for a report or a gate."""

    frame: pd.DataFrame
    problems: pd.DataFrame
    path: str
    extra_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class _Raw:
    """What a reader hands on: header names as written, raw columns and row numbers."""

    names: list[str]
    values: list[Any]  # pa.ChunkedArray (CSV, Parquet) or object np.ndarray (XLSX)
    rows: np.ndarray
    excel: bool = False
    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class _Converted:
    """One column in its contract dtype, where its cells were blank, and its problems."""

    array: Any
    is_blank: Callable[[np.ndarray], np.ndarray]
    positions: np.ndarray
    checks: np.ndarray
    reasons: np.ndarray


# --------------------------------------------------------------------------- public API


def load_incidents(
    path: str | Path, *, sheet: str | int | None = None, mapping: ColumnMapping | None = None
) -> pd.DataFrame:
    """The typed frame, or an InputError naming the first unreadable value (row order)."""
    result = read_incidents(path, sheet=sheet, mapping=mapping)
    if len(result.problems):
        first = result.problems.iloc[0]
        column = str(first["column"])
        detail = str(first["reason"]).removeprefix(_reason_prefix(column))
        raise InputError(result.path, detail, row=int(first["row"]), column=column)
    return result.frame


def read_incidents(
    path: str | Path, *, sheet: str | int | None = None, mapping: ColumnMapping | None = None
) -> LoadResult:
    """Read a log into contract dtypes; unreadable values go to `problems`, not to NA.

    A `mapping` renames a setting's own export columns, translates its codes and drops
    columns before anything is read into the contract.
    """
    shown = str(path)
    raw = _read_raw(Path(path), shown, sheet)
    if mapping is not None:
        raw = _apply_mapping(raw, mapping)
    positions, extras = _match_headers(raw, shown)
    columns = [*contract.COLUMNS, *(Column(name, "string") for name in extras)]
    n = len(raw.rows)
    arrays: dict[str, Any] = {}
    converted: list[tuple[int, str, _Converted]] = []
    for order, column in enumerate(columns):
        pos = positions.get(column.name)
        if pos is None:
            arrays[column.name] = _build(column, np.full(n, -1, dtype=np.intp), [])
            continue
        conv = _convert(raw.values[pos], column, raw.excel)
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
    )


def normalise_column(
    series: pd.Series, column: Column, *, source: str = "the input", strict: bool = True
) -> pd.Series:
    """One column of a frame built elsewhere (plain Python values, text) in contract dtype.

    Used by the engine for frames that did not come through `read_incidents`. With
    `strict`, the first unreadable value raises InputError naming its row label.
    """
    values = np.asarray(series.astype(object).to_numpy(), dtype=object)
    conv = _convert(values, column, excel=False)
    if strict and conv.positions.size:
        first = int(conv.positions[0])
        detail = str(conv.reasons[0]).removeprefix(_reason_prefix(column.name))
        raise InputError(source, detail, row=series.index[first], column=column.name)
    return pd.Series(conv.array, index=series.index, name=series.name)


def normalise_name(text: object) -> str:
    """Header or code as the contract spells it: 'Incident ID' -> 'incident_id'."""
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


def _apply_mapping(raw: _Raw, mapping: ColumnMapping) -> _Raw:
    """Rename, drop and translate the raw columns as the mapping file says."""
    names, values = [], []
    for written, column in zip(raw.names, raw.values, strict=True):
        key = normalise_name(written)
        if key in mapping.drop:
            continue
        name = mapping.rename.get(key, written)
        codes = mapping.values.get(normalise_name(name))
        if codes:
            column = _translate(column, codes)
        names.append(name)
        values.append(column)
    return replace(raw, names=names, values=values)


def _translate(column: Any, codes: dict[str, str]) -> np.ndarray:
    """Replace each distinct raw value the mapping knows (case and spaces ignored)."""
    index, uniques = _factorize(column)
    lookup = [
        codes.get(" ".join(str(u).lower().split()), u) if _filled(u) else None for u in uniques
    ]
    table = np.array([*lookup, None], dtype=object)
    return table[index]


# ------------------------------------------------------------------------------ readers


def _read_raw(path: Path, shown: str, sheet: str | int | None) -> _Raw:
    """Pick the reader by extension after the checks every format shares."""
    suffix = path.suffix.lower()
    known = TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES
    if suffix not in known:
        what = f"files ending '{suffix}'" if suffix else "files without an extension"
        raise InputError(
            shown,
            f"{what} cannot be read",
            hint="save the log as .csv, .tsv, .txt, .xlsx or .parquet",
        )
    if not path.exists():
        raise InputError(shown, "the file does not exist", hint="check the path and the name")
    if path.is_dir():
        raise InputError(shown, "this is a folder, not a file", hint="give the log file itself")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(shown, "the file cannot be opened", hint="check its permissions") from exc
    if size == 0:
        raise InputError(
            shown, "the file is empty", hint="export the log again with its header row"
        )
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, shown, sheet)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, shown)
    return _read_text(path, shown)


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(shown, "the file cannot be opened", hint="check its permissions") from exc


def _not_text(shown: str) -> InputError:
    return InputError(
        shown,
        "this is not a text (CSV) file: it holds binary data",
        hint="export the log from the spreadsheet as CSV, or give the .xlsx file itself",
    )


def _read_text(path: Path, shown: str) -> _Raw:
    """CSV, TSV or .txt: sniff the delimiter from the header, parse with pyarrow."""
    data = _read_bytes(path, shown)
    declared = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data, declared = _recode(data, "utf-16", shown), "utf-16"  # Excel's "Unicode text"
    if b"\x00" in data:
        raise _not_text(shown)
    bom = data.startswith(codecs.BOM_UTF8)
    header_bytes = _header_line(data, len(codecs.BOM_UTF8) if bom else 0)
    if header_bytes is None:
        raise InputError(
            shown, "the file has no header row", hint="the first line should name the columns"
        )
    encoding = declared or ("utf-8-sig" if bom else "utf-8")
    try:
        header_text = header_bytes.decode("utf-8")
    except UnicodeDecodeError:
        header_text, encoding = _recode(header_bytes, "cp1252", shown).decode(), "cp1252"
    delimiter = _sniff_delimiter(header_text, path.suffix.lower())
    names = next(csv.reader([header_text], delimiter=delimiter), [])
    if encoding == "cp1252":
        data = _recode(data, "cp1252", shown)
    try:
        table, handler = _parse_csv(data, names, delimiter)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) or encoding == "cp1252":
            raise InputError(
                shown, "the file cannot be read as CSV", hint="export it again from the spreadsheet"
            ) from exc
        encoding = "cp1252"
        data = _recode(data, "cp1252", shown)
        table, handler = _parse_csv(data, names, delimiter)
    if handler.bad:
        _raise_bad_row(shown, data, handler.bad)
    rows = _text_row_numbers(data, table.num_rows, delimiter, len(names))
    return _Raw(
        names=list(table.column_names),
        values=list(table.columns),
        rows=rows,
        encoding=encoding,
        delimiter=delimiter,
    )


def _recode(data: bytes, codec: str, shown: str) -> bytes:
    """Text in another encoding as UTF-8 for pyarrow; bytes the codec rejects mean junk.

    Excel on a UK PC saves "CSV" as Windows-1252, and "Unicode text" as UTF-16.
    """
    if codec == "cp1252" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_text(shown) from exc


def _header_line(data: bytes, start: int) -> bytes | None:
    """The first non-blank line: the header (blank lines above it are allowed)."""
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end].rstrip(b"\r")
        if line.strip():
            return line
        start = end + 1
    return None


def _sniff_delimiter(header: str, suffix: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most, outside quotes."""
    bare = re.sub(r'"[^"]*"', "", header)
    if suffix == ".tsv" and "\t" in bare:
        return "\t"
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _RowHandler:
    """Skips whitespace-only lines (as blank) and remembers rows with the wrong width."""

    def __init__(self) -> None:
        self.bad: list[Any] = []

    def __call__(self, row: Any) -> str:
        if row.text.strip():
            self.bad.append(row)
        return "skip"


def _parse_csv(data: bytes, names: list[str], delimiter: str) -> tuple[pa.Table, _RowHandler]:
    """All columns as text: contract non-text columns dictionary-encoded while parsing."""
    from pyarrow import csv as pacsv

    coded = pa.dictionary(pa.int32(), pa.string())
    # Identifiers are unique per row, so encoding them would only cost time.
    types = {n: pa.string() if normalise_name(n) == "incident_id" else coded for n in names}
    handler = _RowHandler()
    table = pacsv.read_csv(
        pa.BufferReader(data),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler),
        convert_options=pacsv.ConvertOptions(column_types=types),
    )
    table = _as_text_columns(table)
    return table.unify_dictionaries(), handler


def _as_text_columns(table: pa.Table) -> pa.Table:
    """Guard: a column whose header the csv module split differently is cast to text."""
    for i, column in enumerate(table.columns):
        kind = column.type
        if not (pa.types.is_string(kind) or pa.types.is_dictionary(kind)):
            table = table.set_column(i, table.field(i).name, column.cast(pa.string()))
    return table


def _raise_bad_row(shown: str, data: bytes, rows: list[Any]) -> None:
    """A row with too many or too few values: the columns after it would be misread."""
    found = [(_line_start(data, r.text.encode("utf-8")), i) for i, r in enumerate(rows[:100])]
    located = [f for f in found if f[0] >= 0]
    at, which = min(located) if located else (-1, 0)
    row = rows[which]
    number = data.count(b"\n", 0, at) + 1 if at >= 0 else None
    raise InputError(
        shown,
        f"this row has {row.actual_columns} values but the header names "
        f"{row.expected_columns} columns",
        row=number,
        hint="check for a stray delimiter or a missing quote",
    )


def _line_start(data: bytes, line: bytes) -> int:
    """Where a whole line with this text starts, or -1."""
    at = data.find(b"\n" + line)
    return 0 if data.startswith(line) else (at + 1 if at >= 0 else -1)


def _text_row_numbers(data: bytes, n: int, delimiter: str, width: int) -> np.ndarray:
    """Spreadsheet row numbers of the n records, counting blank lines as rows."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines == n + 1:  # every line is a record: the usual case, no need to look further
        return np.arange(2, n + 2, dtype=np.int64)
    sep = delimiter.encode()
    numbers_ = [
        i for i, line in enumerate(data.split(b"\n"), start=1) if _is_record(line, sep, width)
    ]
    if len(numbers_) == n + 1:
        return np.asarray(numbers_[1:], dtype=np.int64)
    return _record_numbers_by_csv(data, n, delimiter, width)


def _is_record(line: bytes, sep: bytes, width: int) -> bool:
    """Whether pyarrow makes a record of this physical line (it skips blank ones)."""
    core = line.rstrip(b"\r")
    if not core:
        return False
    return bool(core.strip(b" \t")) or core.count(sep) == width - 1


def _record_numbers_by_csv(data: bytes, n: int, delimiter: str, width: int) -> np.ndarray:
    """Slow path for quoted values spanning lines: count records as a spreadsheet does."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter)
    numbers_ = [
        i
        for i, record in enumerate(reader, start=1)
        if record and (any(f.strip() for f in record) or len(record) == width)
    ]
    if len(numbers_) == n + 1:
        return np.asarray(numbers_[1:], dtype=np.int64)
    return np.arange(2, n + 2, dtype=np.int64)  # pragma: no cover - unusual quoting


def _read_excel(path: Path, shown: str, sheet: str | int | None) -> _Raw:
    """XLSX via openpyxl: date cells arrive as datetimes, booleans as bools."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(
            shown,
            "this is not a readable Excel workbook",
            hint="open it in Excel and save it again as .xlsx, or export it as CSV",
        ) from exc
    try:
        sheet_rows = list(_pick_sheet(book, sheet, shown).iter_rows(min_row=1, values_only=True))
    finally:
        book.close()
    start = next((i for i, r in enumerate(sheet_rows) if any(_filled(v) for v in r)), None)
    if start is None:
        raise InputError(
            shown, "the sheet has no header row", hint="put the column names in the first row"
        )
    body = sheet_rows[start + 1 :]
    width = max(len(r) for r in sheet_rows[start:])
    cells = np.empty((len(body), width), dtype=object)
    for i, record in enumerate(body):
        cells[i, : len(record)] = record
    header = list(sheet_rows[start]) + [None] * (width - len(sheet_rows[start]))
    return _Raw(
        names=[_as_text(v) or "" for v in header],
        values=[cells[:, j] for j in range(width)],
        rows=np.arange(start + 2, start + 2 + len(body), dtype=np.int64),
        excel=True,
    )


def _pick_sheet(book: Any, sheet: str | int | None, shown: str) -> Any:
    """The first sheet unless told; a sheet that does not exist is a clear error."""
    sheets = list(book.worksheets)  # chart sheets hold no rows, so they do not count
    names = [s.title for s in sheets]
    if sheet is None:
        return sheets[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return sheets[sheet]
        raise InputError(
            shown,
            f"the workbook has no sheet number {sheet} (it has {len(names)}, counted from 0)",
            hint="give a sheet name or a number in range",
        )
    wanted = str(sheet)
    for name, found in zip(names, sheets, strict=True):
        if name == wanted or name.strip().lower() == wanted.strip().lower():
            return found
    best = closest(wanted, names)
    listed = ", ".join(f"'{n}'" for n in names)
    hint = (
        f"did you mean '{best}' (its sheets are {listed})" if best else f"its sheets are {listed}"
    )
    raise InputError(shown, f"the workbook has no sheet called '{wanted}'", hint=hint)


def _read_parquet(path: Path, shown: str) -> _Raw:
    """Parquet: columns may already be typed; pandas index columns are not data."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        # Text columns other than the identifier repeat a few values: read them encoded.
        coded = [
            f.name
            for f in schema
            if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and normalise_name(f.name) != "incident_id"
        ]
        table = pq.read_table(path, read_dictionary=coded)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            shown, "this is not a readable Parquet file", hint="export the log again"
        ) from exc
    meta = table.schema.pandas_metadata or {}
    index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    keep = [name for name in table.column_names if name not in index_columns]
    table = table.select(keep).unify_dictionaries()
    n = table.num_rows
    return _Raw(
        names=list(table.column_names),
        values=list(table.columns),
        rows=np.arange(2, n + 2, dtype=np.int64),
    )


# ------------------------------------------------------------------------------ headers


def _match_headers(raw: _Raw, shown: str) -> tuple[dict[str, int], list[str]]:
    """Map contract names to positions; extras in file order; whole-file header errors."""
    positions: dict[str, int] = {}
    extras: list[str] = []
    for pos, written in enumerate(raw.names):
        name = normalise_name(written)
        if not name:
            if _column_has_values(raw.values[pos]):
                raise InputError(
                    shown,
                    f"column {pos + 1} has values but no header name",
                    hint="name the column in the header row or delete it",
                )
            continue
        if name in positions:
            raise InputError(
                shown,
                f"the header names {name} twice (columns {positions[name] + 1} and {pos + 1})",
                hint="delete or rename one of them",
            )
        positions[name] = pos
        if name not in contract.BY_NAME:
            extras.append(name)
    missing = [name for name in contract.REQUIRED if name not in positions]
    if missing:
        raise _missing_columns(shown, missing, extras)
    return positions, extras


def _missing_columns(shown: str, missing: list[str], extras: list[str]) -> InputError:
    """List the missing required columns and point at a near-miss header if there is one."""
    listed = ", ".join(missing)
    if len(missing) == 1:
        problem = f"the required column {listed} is missing"
    else:
        problem = f"the required columns {listed} are missing"
    guesses = [
        f"for '{extra}' {did_you_mean(extra, missing)}"
        for extra in extras
        if closest(extra, missing) is not None
    ]
    if guesses:
        problem += f" ({'; '.join(guesses)})"
    return InputError(shown, problem, hint="add the column or correct its header name")


def _column_has_values(values: Any) -> bool:
    _, uniques = _factorize(values)
    return any(_filled(u) for u in uniques)


# --------------------------------------------------------------------------- conversion


def _factorize(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct values, so each is parsed once."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_null(values.type):
            return np.full(len(values), -1, dtype=np.intp), []
        if pa.types.is_boolean(values.type):
            return _bool_codes(values), [False, True]
        if not pa.types.is_dictionary(values.type):
            try:
                values = values.dictionary_encode()
            except pa.ArrowNotImplementedError:  # nested or exotic types: go through Python
                return _factorize(np.array([_hashable(v) for v in values.to_pylist()], object))
        if values.num_chunks == 0:
            return np.empty(0, dtype=np.intp), []
        dictionary = values.chunk(0).dictionary.to_pylist()
        parts = [_indices(chunk.indices) for chunk in values.chunks]
        return np.concatenate(parts), dictionary
    codes, uniques = pd.factorize(np.ascontiguousarray(values, dtype=object))
    return codes, list(uniques)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, Hashable) else str(value)


def _bool_codes(values: pa.ChunkedArray) -> np.ndarray:
    """A typed boolean column is already factorised: false 0, true 1, missing -1."""
    codes = pc.fill_null(values, False).to_numpy().astype(np.int8)
    if values.null_count:
        codes[values.is_null().to_numpy()] = -1
    return codes


def _indices(indices: pa.Array) -> np.ndarray:
    """Dictionary indices as numpy, -1 where the value is missing."""
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return indices.to_numpy(zero_copy_only=False)


def _convert(values: Any, column: Column, excel: bool) -> _Converted:
    """One raw column to its contract dtype, with the problems of unreadable values."""
    if column.kind == "string" and isinstance(values, pa.ChunkedArray):
        kind = values.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return _arrow_strings(values)
    codes, uniques = _factorize(values)
    parsed = [_parse(u, column, excel) for u in uniques]
    blank_u = np.append(np.array([not _filled(u) for u in uniques], dtype=bool), True)
    positions, checks, reasons = _issues(codes, uniques, parsed, column)
    return _Converted(
        array=_build(column, codes, [p[0] for p in parsed]),
        is_blank=lambda pos: blank_u[codes[pos]],
        positions=positions,
        checks=checks,
        reasons=reasons,
    )


def _arrow_strings(values: pa.ChunkedArray) -> _Converted:
    """Text columns stay in Arrow: trim, blank to NA, no Python per value."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.fill_null(pc.equal(trimmed, ""), True)
    cleaned = pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)
    if isinstance(cleaned, pa.ChunkedArray) and cleaned.num_chunks == 0:
        cleaned = pa.chunked_array([pa.array([], pa.string())])
    mask = blank.to_numpy() if len(blank) else np.zeros(0, dtype=bool)
    empty = np.empty(0, dtype=np.intp)
    return _Converted(
        array=pd.arrays.ArrowStringArray(cleaned),
        is_blank=lambda pos: mask[pos],
        positions=empty,
        checks=np.empty(0, dtype=object),
        reasons=np.empty(0, dtype=object),
    )


def _build(column: Column, codes: np.ndarray, values: list[Any]) -> Any:
    """Broadcast parsed distinct values to every row; the sentinel at -1 is unknown."""
    known = np.append(np.array([v is not None for v in values], dtype=bool), False)
    if column.kind == "bool":
        lookup = np.append(np.array([bool(v) for v in values], dtype=bool), False)
        return pd.arrays.BooleanArray(lookup[codes], ~known[codes])
    if column.kind == "int":
        lookup = np.append(np.array([v or 0 for v in values], dtype=np.int64), 0)
        return pd.arrays.IntegerArray(lookup[codes], ~known[codes])
    if column.kind in ("category", "ordinal"):
        dtype = pd.CategoricalDtype(list(column.codes), ordered=column.kind == "ordinal")
        index = {code: i for i, code in enumerate(column.codes)}
        lookup = np.array([index.get(v, -1) for v in values] + [-1], dtype=np.int32)
        return pd.Categorical.from_codes(lookup[codes], dtype=dtype, validate=False)
    if column.kind == "date":
        stamps = [np.datetime64(v, "ns") if v is not None else np.datetime64("NaT") for v in values]
        lookup = np.array([*stamps, np.datetime64("NaT")], dtype="datetime64[ns]")
        return lookup[codes]
    text = pa.array(values, type=pa.string())
    taken = text.take(pa.array(codes, mask=codes < 0)) if len(codes) else pa.array([], pa.string())
    return pd.arrays.ArrowStringArray(taken)


def _issues(
    codes: np.ndarray, uniques: list[Any], parsed: list[ParseResult], column: Column
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, check ids and reasons of the rows holding an unreadable value."""
    bad = [i for i, p in enumerate(parsed) if p[1] is not None]
    if not bad:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object), np.empty(0, dtype=object)
    flag = np.zeros(len(uniques) + 1, dtype=bool)
    flag[bad] = True
    checks = np.array(
        [_check_id(column, u, p) for u, p in zip(uniques, parsed, strict=True)] + [None],
        dtype=object,
    )
    reasons = np.array(
        [_reason(column, u, p) if p[1] else None for u, p in zip(uniques, parsed, strict=True)]
        + [None],
        dtype=object,
    )
    positions = np.flatnonzero(flag[codes])
    return positions, checks[codes[positions]], reasons[codes[positions]]


def _all_blank(n: int, converted: list[_Converted]) -> np.ndarray:
    """Positions of rows blank in every column: narrowed column by column, so cheap."""
    candidates = np.arange(n)
    for conv in converted:
        if not candidates.size:
            break
        candidates = candidates[conv.is_blank(candidates)]
    return candidates


def _problem_frame(rows: np.ndarray, converted: list[tuple[int, str, _Converted]]) -> pd.DataFrame:
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


# ------------------------------------------------------------------------------ parsing


def _filled(value: Any) -> bool:
    """Whether a raw cell holds anything at all (blank cells are simply not recorded)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _is_unknown_word(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    word = " ".join(value.lower().split())
    return word in contract.UNKNOWN_WORDS or word.replace(" ", "_") in contract.UNKNOWN_WORDS


def _parse(value: Any, column: Column, excel: bool) -> ParseResult:
    """One distinct raw value to its contract value; blank and 'unknown' are unknown."""
    if not _filled(value):
        return None, None, None
    if isinstance(value, decimal.Decimal):  # Parquet decimals
        value = float(value)
    if column.kind == "string":
        return _as_text(value), None, None
    if _is_unknown_word(value):
        return None, None, None
    if column.kind == "bool":
        return _parse_bool(value)
    if column.kind == "int":
        return _parse_int(value, column)
    if column.kind == "date":
        return _parse_date(value, excel)
    return _parse_code(value, column)


_RECORD = "or leave it blank if it was not recorded"


def _parse_bool(value: Any) -> ParseResult:
    if isinstance(value, bool | np.bool_):
        return bool(value), None, None
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value), None, None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in contract.TRUE_WORDS:
            return True, None, None
        if word in contract.FALSE_WORDS:
            return False, None, None
    detail = "{subject} is not a yes/no value; write true or false (yes/no, y/n and 1/0 work)"
    return None, "unreadable_bool", f"{detail}, {_RECORD}"


_INT = re.compile(r"[+-]?\d+(?:\.0*)?")


def _parse_int(value: Any, column: Column) -> ParseResult:
    number = _whole_number(value)
    if number is not None and abs(number) < 2**63:
        return number, None, None
    what = "age" if "age" in column.name else "number"
    detail = f"{{subject}} is not a whole number; write the {what} in digits, {_RECORD}"
    return None, "unreadable_int", detail


def _whole_number(value: Any) -> int | None:
    """15, 15.0 and '15.0' are 15; true/false, 15.5 and 'fifteen' are not numbers."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    return None


_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_DMY = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}")
_DMY2 = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{2}}){_TIME}")
_UNREADABLE_DATE = (
    "{subject} is not a date this tool can read; write it as YYYY-MM-DD or DD/MM/YYYY "
    f"(day first), {_RECORD}"
)


def _parse_date(value: Any, excel: bool) -> ParseResult:
    """ISO or day-first text, datetime cells, and Excel serial numbers in XLSX only."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, bool | np.bool_):
        return None, "unreadable_date", _UNREADABLE_DATE
    if isinstance(value, numbers.Real) and excel:
        return _excel_serial(float(value))
    if not isinstance(value, str):
        return None, "unreadable_date", _UNREADABLE_DATE
    text = value.strip()
    if match := _YMD.fullmatch(text):
        return _checked_date(int(match[1]), int(match[3]), int(match[4]))
    if match := _DMY.fullmatch(text):
        return _checked_date(int(match[4]), int(match[3]), int(match[1]))
    if _DMY2.fullmatch(text):
        detail = "{subject} has a two-digit year; write the year in full, as DD/MM/YYYY"
        return None, "unreadable_date", f"{detail} or YYYY-MM-DD"
    return None, "unreadable_date", _UNREADABLE_DATE


def _checked_date(year: int, month: int, day: int) -> ParseResult:
    if not MIN_YEAR <= year <= MAX_YEAR:
        detail = f"{{subject}} has a year outside {MIN_YEAR} to {MAX_YEAR}; correct the year"
        return None, "impossible_date", detail
    try:
        return dt.date(year, month, day), None, None
    except ValueError:
        detail = "{subject} is not a real calendar date (dates are read day first, DD/MM/YYYY)"
        return None, "impossible_date", f"{detail}; correct the day or the month"


def _excel_serial(serial: float) -> ParseResult:
    """An Excel date number (days since 1899-12-30), as a date cell formatted as General."""
    if not math.isfinite(serial) or not 1 <= serial <= EXCEL_MAX_SERIAL:
        return None, "unreadable_date", _UNREADABLE_DATE
    day = EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))
    return _checked_date(day.year, day.month, day.day)


def _parse_code(value: Any, column: Column) -> ParseResult:
    key = normalise_name(_as_text(value) or "")
    if key in column.codes:
        return key, None, None
    detail = (
        f"{{subject}} is not a code this column allows ({did_you_mean(key, column.codes)}); "
        f"use one of its codes, {_RECORD}"
    )
    return None, "unknown_code", detail


def _as_text(value: Any) -> str | None:
    """A raw value as trimmed text (typed cells too), or None when blank."""
    if not _filled(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        has_time = (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
        return value.isoformat() if has_time else value.date().isoformat()
    text = str(value).strip()
    return text or None


# ------------------------------------------------------------------------------ reasons


def _reason_prefix(column: str) -> str:
    return f"In column {column}, "


def _check_id(column: Column, value: Any, parsed: ParseResult) -> str | None:
    """The parse check, or `personal_data` when the unreadable value is shaped like it."""
    if parsed[1] is None:
        return None
    kind = privacy.looks_personal(_as_text(value) or "")
    if kind is not None and not (column.kind == "date" and kind == "a date of birth"):
        return "personal_data"
    return parsed[1]


def _reason(column: Column, value: Any, parsed: ParseResult) -> str:
    """One sentence naming the column, the value (when safe to repeat) and the fix."""
    detail = (parsed[2] or "").replace("{subject}", _subject(value, column))
    return f"{_reason_prefix(column.name)}{detail}."


def _subject(value: Any, column: Column) -> str:
    """The value in quotes when it is short and not shaped like personal data."""
    text = _as_text(value) or ""
    if len(text) > MAX_ECHO or not text.isprintable():
        return "the value"
    kind = privacy.looks_personal(text)
    # A date column holds dates by design: an incident date is not a date of birth.
    if kind is None or (column.kind == "date" and kind == "a date of birth"):
        return f"'{text}'"
    return "the value"
