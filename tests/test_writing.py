"""Writing outputs: atomic, owner-only, and a spreadsheet never runs what it holds."""

from __future__ import annotations

import stat
from pathlib import Path

import openpyxl
import pandas as pd

from ypsi_audit.writing import write_table


def test_xlsx_keeps_formula_like_values_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"incident_id": ['=HYPERLINK("http://x")', "0012", "A1"]})
    path = write_table(frame, tmp_path / "cases.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "0012", "A1"]
    assert {c.data_type for c in cells} == {"s"}  # text, not a formula or a number
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
