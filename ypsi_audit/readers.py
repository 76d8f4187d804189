"""Read a log file's format into raw columns: CSV/TSV/text and Parquet here, XLSX in
`xlsx.py`.

A reader hands on a `RawTable`: the header names as written, one raw column per header
(Arrow arrays for text and Parquet, object arrays for workbooks) and the row number a
spreadsheet would show for each record. It does not interpret values; `parsing.py`
turns raw columns into the contract's types. Every failure is one `InputError` naming
the file and what to do; nothing a reader says repeats a value from the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import InputError

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
DELIMITERS = (",", ";", "\t")
ENCODING_HINT = "save it again as CSV UTF-8 (in Excel: Save as, CSV UTF-8)"


@dataclass
class RawTable:
    """What a reader hands on: header names as written, raw columns and row numbers."""

    names: list[str]
    values: list[Any]  # pa.ChunkedArray (CSV, Parquet) or object np.ndarray (XLSX)
    rows: np.ndarray
    excel: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    # Each column's number in the file, counted from 1 (kept when a mapping drops some).
    numbers: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.numbers:
            self.numbers = list(range(1, len(self.names) + 1))


def read_raw(
    path: Path, shown: str, sheet: str | int | None, *, plain: Collection[str] = ()
) -> RawTable:
    """Pick the reader by extension after the checks every format shares.

    `plain` names (as written) the columns to read as plain text rather than
    dictionary-encoded: the identifier, whose values are all different.
    """
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
        raise cannot_open(shown, exc) from None
    if size == 0:
        raise InputError(
            shown, "the file is empty", hint="export the log again with its header row"
        )
    if suffix in EXCEL_SUFFIXES:
        from .xlsx import read_workbook

        return read_workbook(path, shown, sheet)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, shown, plain)
    return _read_text(path, shown, plain)


def cannot_open(shown: str, exc: OSError) -> InputError:
    """An input that vanished or cannot be read, whenever that is found out."""
    if isinstance(exc, FileNotFoundError):
        return InputError(
            shown,
            "the file was removed or moved while it was being read",
            hint="put it back and run again",
        )
    if isinstance(exc, PermissionError):
        return InputError(
            shown, "the file cannot be opened: permission denied", hint="check its permissions"
        )
    return InputError(
        shown,
        "the file cannot be read" + (f" ({exc.strerror.lower()})" if exc.strerror else ""),
        hint="check that the disk or network share holding it is available",
    )


def header_key(text: object) -> str:
    """A header as the contract spells names: 'Incident ID' -> 'incident_id'."""
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


# --------------------------------------------------------------------------------- text


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise cannot_open(shown, exc) from None


def _not_text(shown: str) -> InputError:
    return InputError(
        shown,
        "this is not a text (CSV) file: it holds binary data, or text in an encoding this "
        "tool does not read (UTF-8, UTF-16 and Windows-1252 are read)",
        hint="export the log from the spreadsheet as CSV UTF-8, or give the .xlsx file itself",
    )


def _read_text(path: Path, shown: str, plain: Collection[str]) -> RawTable:
    """CSV, TSV or .txt: sniff the delimiter from the header, parse with pyarrow."""
    data, declared = _as_utf8(_read_bytes(path, shown), shown)
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac line endings: CR alone
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
    try:
        names = next(csv.reader([header_text], delimiter=delimiter), [])
    except csv.Error:
        raise InputError(
            shown,
            "the header row cannot be read as CSV",
            hint="check it for a stray quote, or export the log again",
        ) from None
    if encoding == "cp1252":
        data = _recode(data, "cp1252", shown)
    plain_keys = {header_key(p) for p in plain}
    try:
        table, handler = _parse_csv(data, names, delimiter, plain_keys)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) or encoding == "cp1252":
            raise InputError(
                shown, "the file cannot be read as CSV", hint="export it again from the spreadsheet"
            ) from None
        encoding = "cp1252"
        data = _recode(data, "cp1252", shown)
        try:
            table, handler = _parse_csv(data, names, delimiter, plain_keys)
        except pa.ArrowInvalid:
            raise InputError(
                shown, "the file cannot be read as CSV", hint="export it again from the spreadsheet"
            ) from None
    if handler.bad:
        _raise_bad_row(shown, data, handler.bad)
    rows = _text_row_numbers(data, table.num_rows, delimiter, len(names))
    return RawTable(
        names=list(table.column_names),
        values=list(table.columns),
        rows=rows,
        encoding=encoding,
        delimiter=delimiter,
    )


def _as_utf8(data: bytes, shown: str) -> tuple[bytes, str | None]:
    """UTF-32 and UTF-16 text (with a byte-order mark, or UTF-16 without one, as some
    exports write it) as UTF-8; other bytes as they are. NUL bytes left mean binary."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _recode(data, "utf-32", shown), "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _recode(data, "utf-16", shown), "utf-16"  # Excel's "Unicode text"
    if b"\x00" not in data:
        return data, None
    codec = _utf16_without_bom(data[:4096])
    if codec is None:
        raise _not_text(shown)
    recoded = _recode(data, codec, shown)
    if b"\x00" in recoded:
        raise _not_text(shown)
    return recoded, codec


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 of mostly Latin text has a NUL in every other byte: which half says the
    byte order. Anything else with NULs in it is binary."""
    even, odd = head[0::2], head[1::2]
    if not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.9 and even_nul < 0.1:
        return "utf-16-le"
    if even_nul > 0.9 and odd_nul < 0.1:
        return "utf-16-be"
    return None


def _recode(data: bytes, codec: str, shown: str) -> bytes:
    """Text in another encoding as UTF-8 for pyarrow; bytes the codec rejects mean junk.

    Excel on a UK PC saves "CSV" as Windows-1252, and "Unicode text" as UTF-16.
    """
    if codec == "cp1252" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeError:
        raise _not_text(shown) from None


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


def _parse_csv(
    data: bytes, names: list[str], delimiter: str, plain: set[str]
) -> tuple[pa.Table, _RowHandler]:
    """All columns as text: all but the identifier dictionary-encoded while parsing."""
    from pyarrow import csv as pacsv

    coded = pa.dictionary(pa.int32(), pa.string())
    # Identifiers are unique per row, so encoding them would only cost time.
    plain = plain | {"incident_id"}
    types = {n: pa.string() if header_key(n) in plain else coded for n in names}
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
    numbers = [
        i for i, line in enumerate(data.split(b"\n"), start=1) if _is_record(line, sep, width)
    ]
    if len(numbers) == n + 1:
        return np.asarray(numbers[1:], dtype=np.int64)
    return _record_numbers_by_csv(data, n, delimiter, width)


def _is_record(line: bytes, sep: bytes, width: int) -> bool:
    """Whether pyarrow makes a record of this physical line (it skips blank ones)."""
    core = line.rstrip(b"\r")
    if not core:
        return False
    return bool(core.strip(b" \t")) or core.count(sep) == width - 1


def _record_numbers_by_csv(data: bytes, n: int, delimiter: str, width: int) -> np.ndarray:
    """Slow path for quoted values spanning lines: count records as a spreadsheet does."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        numbers = [
            i
            for i, record in enumerate(reader, start=1)
            if record and (any(f.strip() for f in record) or len(record) == width)
        ]
    except csv.Error:  # pragma: no cover - pyarrow read it, so the csv module should too
        numbers = []
    if len(numbers) == n + 1:
        return np.asarray(numbers[1:], dtype=np.int64)
    return np.arange(2, n + 2, dtype=np.int64)  # pragma: no cover - unusual quoting


# ------------------------------------------------------------------------------ Parquet


def _read_parquet(path: Path, shown: str, plain: Collection[str]) -> RawTable:
    """Parquet: columns may already be typed; pandas index columns are not data."""
    import pyarrow.parquet as pq

    plain_keys = {header_key(p) for p in plain} | {"incident_id"}
    try:
        schema = pq.read_schema(path)
        # Text columns other than the identifier repeat a few values: read them encoded.
        coded = [
            f.name
            for f in schema
            if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and header_key(f.name) not in plain_keys
        ]
        table = pq.read_table(path, read_dictionary=coded)
    except OSError as exc:
        if not isinstance(exc, pa.ArrowException):  # the disk, not the file's content
            raise cannot_open(shown, exc) from None
        raise InputError(
            shown, "this is not a readable Parquet file", hint="export the log again"
        ) from None
    except pa.ArrowException:
        raise InputError(
            shown, "this is not a readable Parquet file", hint="export the log again"
        ) from None
    meta = table.schema.pandas_metadata or {}
    index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    keep = [name for name in table.column_names if name not in index_columns]
    table = table.select(keep).unify_dictionaries()
    n = table.num_rows
    return RawTable(
        names=list(table.column_names),
        values=list(table.columns),
        rows=np.arange(2, n + 2, dtype=np.int64),
    )
