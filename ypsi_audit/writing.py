"""Write tables the way the contract spells them, atomically and readable by the owner only.

Outputs hold sensitive records, so a file is written to a temporary name in the same
folder, restricted to its owner, and only then renamed into place: a reader never sees
half a file and a failed run never leaves one behind.

A spreadsheet opening a CSV runs any cell that looks like a formula (`=HYPERLINK(...)`,
`+cmd|...`, `@SUM(...)`, `-2+3`), so every CSV written here has such text cells
neutralised with a leading apostrophe (`'=HYPERLINK(...)`); numbers are left alone, and a
workbook keeps formula-like text as text without any change.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
# A spreadsheet stores when it was made; a fixed date keeps identical runs' files identical
# (when a report set was made is in its manifest).
FIXED_CREATED = datetime(2000, 1, 1)
XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


# A cell a spreadsheet reads as a formula starts with one of these (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number (-2, +3.5, -1e5) is read as that number, never as a formula.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
NEUTRALISER = "'"


def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would read as a formula: a leading =, +, -, @, tab or
    carriage return, unless the whole text is a plain number."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and PLAIN_NUMBER.fullmatch(value) is None
    )


def neutralise(value: object) -> object:
    """`value` with a leading apostrophe when a spreadsheet would run it; else unchanged."""
    return NEUTRALISER + value if is_formula_like(value) else value  # type: ignore[operator]


def csv_cell(value: object) -> object:
    """A text cell as a CSV file may safely hold it: neutralised, and a carriage return
    written as a line break (Python's CSV writer does not quote a bare carriage return, so
    a reader would split the row there)."""
    value = neutralise(value)
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _needs_care(values: pd.Series) -> np.ndarray:
    text = values.astype("string")
    risky = text.str.match(r"[=+\-@\t\r]") | text.str.contains("\r", regex=False)
    return risky.fillna(False).to_numpy(dtype=bool)


def neutralise_column(column: pd.Series) -> pd.Series:
    """A column with its formula-like text cells neutralised (`csv_cell`). Numbers, dates
    and booleans are never touched; a category column is checked through its categories."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        checked = pd.Series(dtype.categories, dtype=object)
    elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        checked = column
    else:
        return column
    if not _needs_care(checked).any():
        return column
    return column.astype(object).map(csv_cell, na_action="ignore")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell, column name and index label a spreadsheet would read as a formula,
    neutralised (see `is_formula_like`); the frame is not changed in place."""
    out = pd.DataFrame(
        {name: neutralise_column(column) for name, column in frame.items()}, index=frame.index
    )
    out.columns = [csv_cell(str(name)) for name in frame.columns]
    if frame.index.dtype == object or pd.api.types.is_string_dtype(frame.index.dtype):
        out.index = frame.index.map(csv_cell)
    if frame.index.name is not None:
        out.index.name = csv_cell(str(frame.index.name))
    return out


def as_text(frame: pd.DataFrame, *, csv: bool = False) -> pd.DataFrame:
    """Booleans as true/false, dates as YYYY-MM-DD, blanks empty: the contract's spelling.
    With `csv`, formula-like text is neutralised too (for a file a spreadsheet may open)."""
    out = {}
    for name, column in frame.items():
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            values = column.astype("boolean").array
            codes = np.where(
                values.isna(), -1, np.where(values.to_numpy(bool, na_value=False), 0, 1)
            ).astype(np.int8)
            out[name] = pd.Categorical.from_codes(codes, ["true", "false"])
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = column.dt.strftime("%Y-%m-%d")
        else:
            out[name] = column
    text = pd.DataFrame(out, index=frame.index)
    return neutralise_formulas(text) if csv else text


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it into place (mode 0600)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    os.chmod(temp, 0o600)
    try:
        yield Path(temp)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def staged(paths: list[Path]) -> Iterator[dict[Path, Path]]:
    """Temporary paths for several files that belong together (an output and its
    manifest): each is written beside its target, and only when all are written are they
    renamed into place, in the order given (the manifest last). On failure none is."""
    temps: dict[Path, Path] = {}
    try:
        for target in paths:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
            os.close(handle)
            os.chmod(temp, 0o600)
            temps[target] = Path(temp)
        yield temps
        for target, temp in temps.items():
            os.chmod(temp, 0o600)
            os.replace(temp, target)
    finally:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def write_table(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write CSV (UTF-8), Parquet or XLSX by the path's suffix."""
    target = Path(path)
    with atomic_path(target) as temp:
        write_table_to(frame, temp, target.suffix, index=index)
    return target


def write_table_to(frame: pd.DataFrame, temp: Path, suffix: str, *, index: bool = False) -> None:
    """Write a table in the format `suffix` names to an already chosen (temporary) path."""
    suffix = suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{temp}: write .csv, .parquet or .xlsx")
    if suffix == ".csv":
        as_text(frame, csv=True).to_csv(temp, index=index, encoding="utf-8", lineterminator="\n")
    elif suffix == ".parquet":
        frame.to_parquet(temp, index=index)
    else:
        _write_xlsx(as_text(frame.reset_index() if index else frame), temp)


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """One sheet, streamed row by row with XlsxWriter: several times faster than pandas'
    openpyxl route on a large case list, and a value starting with "=" stays text."""
    import xlsxwriter

    values = frame.astype(object).where(frame.notna(), None)
    book = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    book.set_properties({"created": FIXED_CREATED})
    try:
        sheet = book.add_worksheet("Sheet1")
        sheet.write_row(0, 0, [str(c) for c in frame.columns])
        for number, row in enumerate(values.itertuples(index=False, name=None), start=1):
            sheet.write_row(number, 0, row)
    finally:
        book.close()


def write_text(text: str, path: str | Path) -> Path:
    """Write a small text file (a manifest, a note) atomically, owner-only."""
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)
