"""Workbooks within limits: checked before openpyxl inflates them, and no formula lost."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hostile.makers import MAKERS

from ypsi_audit import xlsx
from ypsi_audit.errors import InputError
from ypsi_audit.loading import load_incidents, read_incidents

PUBLIC = Path(__file__).parent / "data" / "cheshire_public.csv"


def made(tmp_path: Path, maker: str, **options: object) -> Path:
    path = tmp_path / f"{maker}.xlsx"
    MAKERS[maker](path, **options)
    return path


def test_a_declared_dimension_past_the_limits_is_refused_before_reading(tmp_path: Path) -> None:
    path = made(tmp_path, "xlsx_declared_bomb")
    assert path.stat().st_size < 5_000  # openpyxl would have padded it to 128 GiB
    with pytest.raises(InputError) as info:
        read_incidents(path)
    message = str(info.value)
    assert "too big to read safely" in message
    assert "declares 1,048,576 rows by 16,384 columns" in message
    assert "save it as CSV" in message


def test_a_zip_bomb_is_refused_from_the_archive_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = made(tmp_path, "xlsx_zip_bomb")
    sheet = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert path.stat().st_size < 1_000_000 and sheet.file_size > 100_000_000

    def never(*args: object, **kwargs: object) -> None:  # pragma: no cover - must not run
        raise AssertionError("openpyxl opened a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(InputError, match=r"packed [0-9,]+ times smaller than its content"):
        read_incidents(path)


def test_the_uncompressed_total_is_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.xlsx"
    pd.read_csv(PUBLIC, dtype=str).to_excel(path, index=False)
    monkeypatch.setattr(xlsx, "MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(InputError, match="unpacks to more than 0 MB"):
        read_incidents(path)


def test_a_row_past_the_column_limit_is_refused_while_reading(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="row 2 has more than 500 columns"):
        read_incidents(made(tmp_path, "xlsx_wide_row"))


def test_rows_past_the_limit_are_refused_whatever_the_sheet_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.xlsx"
    pd.read_csv(PUBLIC, dtype=str).to_excel(path, index=False)
    monkeypatch.setattr(xlsx, "MAX_ROWS", 30)
    assert len(read_incidents(path).frame) == 26
    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)  # the declaration is refused first
    with pytest.raises(InputError, match="declares 27 rows"):
        read_incidents(path)
    monkeypatch.setattr(xlsx, "_check_declared", lambda ws, shown: ws.reset_dimensions())
    with pytest.raises(InputError, match="more than 20 rows"):
        read_incidents(path)


def test_a_formula_without_a_saved_value_holds_its_row_back(tmp_path: Path) -> None:
    result = read_incidents(made(tmp_path, "xlsx_formula"))
    assert result.frame["decision"].isna().tolist() == [True, True]
    problems = result.problems
    assert problems[["row", "column", "check"]].values.tolist() == [
        [2, "decision", "formula_without_value"]
    ]
    assert "formula whose result was never saved" in problems["reason"].iloc[0]
    with pytest.raises(InputError, match="row 2, column decision: the cell holds a formula"):
        load_incidents(made(tmp_path, "xlsx_formula"))


def test_a_formula_with_its_saved_value_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cached.xlsx"
    MAKERS["xlsx_formula"](path, cached=True)
    result = read_incidents(path)
    assert result.problems.empty
    assert result.frame["decision"].tolist()[0] == "referred_police"


def test_openpyxl_formulas_and_text_that_starts_with_equals(tmp_path: Path) -> None:
    """openpyxl saves formulas without results; a text cell that starts with '=' is text."""
    path = tmp_path / "log.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["incident_id", "setting_id", "incident_type", "reported_on", "decision"])
    sheet.append(["I1", "S01", "image_sharing", "2025-03-03", '="referred_police"'])
    sheet.append(["I2", "S01", "image_sharing", "2025-03-03", "=oops"])
    sheet["E3"].data_type = "s"  # stored as text
    book.save(path)
    problems = read_incidents(path).problems
    assert problems[["row", "check"]].values.tolist() == [
        [2, "formula_without_value"],
        [3, "unknown_code"],
    ]


def test_a_damaged_workbook_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read_incidents(path)
