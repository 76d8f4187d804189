"""Read an Excel workbook (XLSX) into raw columns, within limits, and never lose a formula.

A workbook is a zip archive of XML, and both can lie: a 5 KB file can declare a sheet of
a million rows by 16,384 columns (openpyxl's read-only mode trusts the declaration and
pads every row to it: 128 GiB), and a 450 KB file can inflate to gigabytes. So the
archive's member sizes and compression ratios are checked with `zipfile` before openpyxl
opens it, the sheet's declared dimension is checked before a row is read, and rows,
columns and cells are counted while reading; past a limit the file is refused with one
line saying which limit and what to do (a log this big belongs in CSV or Parquet).

A formula cell whose result was never saved (a workbook written by a program rather
than saved by Excel) reads as empty with `data_only`; it is handed on as
`parsing.UNCALCULATED` so that its row is held back with a reason, never read as blank.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, closest
from .parsing import UNCALCULATED, as_text, filled
from .readers import RawTable, cannot_open

# Limits. A trust's log is thousands of rows by about fifty columns; these leave wide
# margins and still keep memory below about 1.5 GB and reading below two minutes.
MAX_ROWS = 200_000
MAX_COLUMNS = 500
MAX_CELLS = 10_000_000  # rows x columns
MAX_UNCOMPRESSED = 1_000_000_000  # bytes, every member of the archive together
MAX_MEMBERS = 10_000
MAX_RATIO = 100  # uncompressed / compressed; real sheets are about 10
RATIO_FROM = 1_000_000  # small members (styles, themes) may compress better
BIGGER = "save it as CSV (or Parquet), which this tool reads without these limits"
_FORMULA = re.compile(rb"<(?:[A-Za-z_][A-Za-z0-9_.\-]*:)?f[\s>/]")


def read_workbook(path: Path, shown: str, sheet: str | int | None) -> RawTable:
    """The chosen sheet (the first unless told) as raw columns with spreadsheet rows."""
    check_archive(path, shown)
    import openpyxl

    book = _open(openpyxl, path, shown, data_only=True)
    formulas = None
    try:
        ws = pick_sheet(book, sheet, shown)
        index = book.worksheets.index(ws)
        _check_declared(ws, shown)
        if _has_formulas(path, ws, shown):
            formulas = _open(openpyxl, path, shown, data_only=False)
        rows = _rows(ws, formulas.worksheets[index] if formulas else None, shown)
        return _table(rows, shown)
    except InputError:
        raise
    except OSError as exc:
        raise cannot_open(shown, exc) from None
    except Exception:  # openpyxl raises many kinds of error on a damaged workbook
        raise _damaged(shown) from None
    finally:
        book.close()
        if formulas is not None:
            formulas.close()


def check_archive(path: Path, shown: str) -> None:
    """Sizes from the zip directory, before anything is inflated. zipfile never returns
    more bytes than a member's declared size, so the declared sizes bound the reading."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _damaged(shown) from None
    except OSError as exc:
        raise cannot_open(shown, exc) from None
    if len(members) > MAX_MEMBERS:
        raise _too_big(shown, f"its archive holds more than {MAX_MEMBERS:,} parts")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise _too_big(
            shown, f"it unpacks to more than {MAX_UNCOMPRESSED // 1_000_000:,} MB of data"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FROM and ratio > MAX_RATIO:
            raise InputError(
                shown,
                f"the workbook is packed {ratio:,.0f} times smaller than its content, far "
                "more than a spreadsheet can be (a file built to exhaust memory)",
                hint="open it in Excel and save it again, or " + BIGGER,
            )


def pick_sheet(book: Any, sheet: str | int | None, shown: str) -> Any:
    """The first sheet unless told. Sheet names are the workbook's content, so a message
    never lists them: it counts them and names the closest by its number."""
    sheets = list(book.worksheets)  # chart sheets hold no rows, so they do not count
    if not sheets:
        raise InputError(shown, "the workbook has no worksheet", hint="save it again from Excel")
    if sheet is None:
        return sheets[0]
    count = f"it has {len(sheets)} sheet{'s' if len(sheets) != 1 else ''}"
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(sheets):
            return sheets[sheet]
        raise InputError(
            shown,
            f"the workbook has no sheet number {sheet} ({count}, counted from 0)",
            hint="give a sheet name or a number in range",
        )
    wanted = str(sheet)
    names = [str(s.title) for s in sheets]
    for name, found in zip(names, sheets, strict=True):
        if name == wanted or name.strip().lower() == wanted.strip().lower():
            return found
    best = closest(wanted, names)
    hint = f"give --sheet a number from 0 to {len(sheets) - 1}"
    if best is not None:
        hint += f"; the closest name is that of sheet {names.index(best)}"
    raise InputError(shown, f"the workbook has no sheet of that name ({count})", hint=hint)


# ------------------------------------------------------------------------------ reading


def _open(openpyxl: Any, path: Path, shown: str, *, data_only: bool) -> Any:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except OSError as exc:
        raise cannot_open(shown, exc) from None
    except Exception:  # InvalidFileException, BadZipFile, KeyError, XML errors, ...
        raise _damaged(shown) from None


def _check_declared(ws: Any, shown: str) -> None:
    """The sheet's declared size, refused before a row is read when it is past a limit.
    Reading then ignores the declaration and takes the rows and cells actually there."""
    rows, columns = ws.max_row or 0, ws.max_column or 0
    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise _too_big(
            shown,
            f"its sheet declares {rows:,} rows by {columns:,} columns (the limits are "
            f"{MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns and {MAX_CELLS:,} cells)",
        )
    ws.reset_dimensions()


def _has_formulas(path: Path, ws: Any, shown: str) -> bool:
    """Whether the sheet's XML holds any formula, scanned as it is inflated."""
    member = getattr(ws, "_worksheet_path", None)
    if not member:
        return True  # cannot tell: look cell by cell
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            if _FORMULA.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _rows(ws: Any, formulas: Any, shown: str) -> list[tuple[Any, ...]]:
    """Every row as a tuple of values, within the limits; a formula cell without a saved
    result becomes UNCALCULATED."""
    rows: list[tuple[Any, ...]] = []
    cells = 0
    for row in _values(ws, formulas):
        if len(row) > MAX_COLUMNS:
            raise _too_big(shown, f"row {len(rows) + 1} has more than {MAX_COLUMNS:,} columns")
        cells += len(row)
        rows.append(row)
        if len(rows) > MAX_ROWS + 1 or cells > MAX_CELLS:
            raise _too_big(
                shown,
                f"its sheet has more than {MAX_ROWS:,} rows or {MAX_CELLS:,} cells",
            )
    return rows


def _values(ws: Any, formulas: Any) -> Iterator[tuple[Any, ...]]:
    cached = ws.iter_rows(min_row=1, values_only=True)
    if formulas is None:
        yield from (tuple(row) for row in cached)
        return
    formulas.reset_dimensions()
    written = formulas.iter_rows(min_row=1, values_only=True)
    for values, sources in zip(cached, written, strict=False):
        if any(v is None and _is_formula(f) for v, f in zip(values, sources, strict=False)):
            values = tuple(
                UNCALCULATED if v is None and _is_formula(f) else v
                for v, f in zip(values, sources, strict=False)
            )
        yield tuple(values)


def _is_formula(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")


def _table(rows: list[tuple[Any, ...]], shown: str) -> RawTable:
    start = next((i for i, r in enumerate(rows) if any(filled(v) for v in r)), None)
    if start is None:
        raise InputError(
            shown, "the sheet has no header row", hint="put the column names in the first row"
        )
    body = rows[start + 1 :]
    width = max(len(r) for r in rows[start:])
    cells = np.empty((len(body), width), dtype=object)
    for i, record in enumerate(body):
        cells[i, : len(record)] = record
    header = list(rows[start]) + [None] * (width - len(rows[start]))
    return RawTable(
        names=[as_text(v) or "" for v in header],
        values=[cells[:, j] for j in range(width)],
        rows=np.arange(start + 2, start + 2 + len(body), dtype=np.int64),
        excel=True,
    )


# ------------------------------------------------------------------------------ messages


def _damaged(shown: str) -> InputError:
    return InputError(
        shown,
        "this is not a readable Excel workbook",
        hint="open it in Excel and save it again as .xlsx, or export it as CSV",
    )


def _too_big(shown: str, why: str) -> InputError:
    return InputError(shown, f"the workbook is too big to read safely: {why}", hint=BIGGER)
