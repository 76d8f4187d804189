"""Make the files a hostile case needs, in the case's own folder.

A file spec in corpus.yaml is one of:

    {copy: NAME}                         a fixture: tests/data/NAME or tests/hostile/files/NAME
    {text: "..."}                        exactly this text (UTF-8)
    {csv_edit: NAME, set: [[ROW, COLUMN, VALUE], ...]}
                                         a CSV fixture with cells replaced; ROW counts data
                                         rows from 1, COLUMN is a header name
    {make: FUNCTION, ...}                a function below, given the spec's other keys
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FIXTURES = (HERE / "files", HERE.parent / "data")


def fixture(name: str) -> Path:
    for folder in FIXTURES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no fixture named {name}")


def make_file(folder: Path, relative: str, spec: Any) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, str):
        spec = {"text": spec}
    if "copy" in spec:
        path.write_bytes(fixture(spec["copy"]).read_bytes())
    elif "text" in spec:
        path.write_bytes(spec["text"].encode("utf-8"))
    elif "csv_edit" in spec:
        path.write_text(_csv_edit(fixture(spec["csv_edit"]), spec["set"]), encoding="utf-8")
    elif "make" in spec:
        MAKERS[spec["make"]](path, **{k: v for k, v in spec.items() if k != "make"})
    else:
        raise ValueError(f"unknown file spec for {relative}: {spec}")
    if spec.get("mode") is not None:
        os.chmod(path, int(str(spec["mode"]), 8))
    return path


def _csv_edit(source: Path, edits: list[list[Any]]) -> str:
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header = rows[0]
    for row, column, value in edits:
        rows[int(row)][header.index(column)] = str(value)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _symlink(path: Path, *, to: str) -> None:
    os.symlink(path.parent / to, path)


def _hardlink(path: Path, *, to: str) -> None:
    os.link(path.parent / to, path)


def _folder(path: Path) -> None:
    path.mkdir()


# ------------------------------------------------------------------------ workbooks

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_OOXML}.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_DOC}"><sheets><sheet name="log" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_OPEN = f'{_XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _header_xml() -> str:
    """Row 1 of a sheet: the four required columns."""
    names = ("incident_id", "setting_id", "incident_type", "reported_on")
    cells = "".join(_inline(f"{c}1", n) for c, n in zip("ABCD", names, strict=True))
    return f'<row r="1">{cells}</row>'


def _record_xml(row: int, extra: str = "") -> str:
    values = (f"I{row}", "S01", "image_sharing", "2025-03-03")
    cells = "".join(_inline(f"{c}{row}", v) for c, v in zip("ABCD", values, strict=True))
    return f'<row r="{row}">{cells}{extra}</row>'


def _workbook(path: Path, write_sheet: Callable[[Any], None]) -> None:
    """A minimal XLSX written by hand, so that its sheet can say anything at all."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            write_sheet(sheet)


def _declared_bomb(path: Path) -> None:
    """5 KB that declares a sheet of 1,048,576 rows by 16,384 columns."""

    def sheet(out: Any) -> None:
        out.write(_SHEET_OPEN.encode())
        out.write(b'<dimension ref="A1:XFD1048576"/><sheetData>')
        out.write((_header_xml() + _record_xml(2)).encode())
        out.write(b"</sheetData></worksheet>")

    _workbook(path, sheet)


def _zip_bomb(path: Path, *, rows: int = 200_000) -> None:
    """Some 600 KB that inflate to over 100 MB of identical rows."""
    row = "".join(f'<c r="{c}2" t="b"><v>0</v></c>' for c in "EFGHIJKLMNOPQRSTUVWXYZ")
    chunk = ("<row>" + row + "</row>").encode() * 1000

    def sheet(out: Any) -> None:
        out.write(_SHEET_OPEN.encode() + b"<sheetData>" + _header_xml().encode())
        for _ in range(rows // 1000):
            out.write(chunk)
        out.write(b"</sheetData></worksheet>")

    _workbook(path, sheet)


def _wide_row(path: Path) -> None:
    """No declared dimension, and one cell in the sheet's last column."""

    def sheet(out: Any) -> None:
        out.write(_SHEET_OPEN.encode() + b"<sheetData>" + _header_xml().encode())
        out.write(_record_xml(2, _inline("XFD2", "x")).encode())
        out.write(b"</sheetData></worksheet>")

    _workbook(path, sheet)


def _formula_cells(path: Path, *, cached: bool = False) -> None:
    """A decision written as a formula; its result saved (as Excel does) or not (as a
    program writing the workbook may)."""
    value = "<v>referred_police</v>" if cached else ""
    decision = f'<c r="E2" t="str"><f>"referred_police"</f>{value}</c>'

    def sheet(out: Any) -> None:
        out.write(_SHEET_OPEN.encode() + b"<sheetData>")
        header = _header_xml().replace("</row>", _inline("E1", "decision") + "</row>")
        out.write((header + _record_xml(2, decision) + _record_xml(3)).encode())
        out.write(b"</sheetData></worksheet>")

    _workbook(path, sheet)


def _xlsx_log(path: Path, *, source: str, sheet: str = "Sheet1", cells: list | None = None) -> None:
    """A CSV fixture as a workbook (cells as text, `cells` edited as csv_edit's `set`), on
    a sheet of the given name."""
    import openpyxl

    rows = list(csv.reader(io.StringIO(_csv_edit(fixture(source), cells or []))))
    book = openpyxl.Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    book.save(path)


# ------------------------------------------------------------------- text and YAML


def _recoded(path: Path, *, source: str, codec: str = "utf-8", ending: str = "\n") -> None:
    """A text fixture in another encoding (no byte-order mark unless the codec writes
    one) or with other line endings (CR alone, as classic Mac OS wrote)."""
    text = fixture(source).read_text(encoding="utf-8").replace("\n", ending)
    path.write_bytes(text.encode(codec))


def _big_text(path: Path, *, size: int, line: str = "# a comment\n") -> None:
    path.write_bytes((line * (size // len(line) + 1)).encode("utf-8"))


def _yaml_laughs(path: Path, *, section: str = "drop", levels: int = 9) -> None:
    """'Billion laughs': ten aliases per level, so level 9 stands for 10^9 words."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    lines.append(f"{section}: *l{levels - 1}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


MAKERS: dict[str, Callable[..., None]] = {
    "recoded": _recoded,
    "big_text": _big_text,
    "yaml_laughs": _yaml_laughs,
    "symlink": _symlink,
    "hardlink": _hardlink,
    "folder": _folder,
    "xlsx_declared_bomb": _declared_bomb,
    "xlsx_zip_bomb": _zip_bomb,
    "xlsx_wide_row": _wide_row,
    "xlsx_formula": _formula_cells,
    "xlsx_log": _xlsx_log,
}
