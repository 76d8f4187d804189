"""Writing outputs: atomic, owner-only, and a spreadsheet never runs what it holds."""

from __future__ import annotations

import csv
import re
import stat
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ypsi_audit.cli import main
from ypsi_audit.writing import write_table


def test_xlsx_keeps_formula_like_values_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"incident_id": ['=HYPERLINK("http://x")', "0012", "A1"]})
    path = write_table(frame, tmp_path / "cases.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "0012", "A1"]
    assert {c.data_type for c in cells} == {"s"}  # text, not a formula or a number
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ------------------------------------------------------------------ formula injection

VECTORS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
           "\t=1+1", "\r=1+1")  # fmt: skip
FIXTURE = Path(__file__).parent / "data" / "cheshire_public.csv"


def _formula_like(cell: str) -> bool:
    """Independently of the code: what a spreadsheet would run (a plain number is not)."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(
        r"[+-]?\d+(\.\d+)?", cell
    )


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


@pytest.mark.parametrize("vector", VECTORS)
def test_csv_neutralises_each_vector_and_keeps_numbers(vector: str, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array([vector, "-2", "plain", None], dtype="string"),
            "category": pd.Categorical([vector, "a", "a", None]),
            "number": [-2, 3, -1, 0],
            "decimal": [-2.5, 0.0, 1.5, float("nan")],
        }
    )
    path = write_table(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = "'" + vector.replace("\r", "\n")
    assert back["text"].tolist() == [expected, "-2", "plain", ""]
    assert back["category"].tolist() == [expected, "a", "a", ""]
    assert back["number"].tolist() == ["-2", "3", "-1", "0"]  # numbers unchanged
    assert back["decimal"].tolist() == ["-2.5", "0.0", "1.5", ""]
    assert not [c for c in _cells(path) if _formula_like(c)]
    book = openpyxl.load_workbook(write_table(frame, tmp_path / "t.xlsx")).active
    assert book.cell(row=2, column=1).value == vector.replace("\r", "_x000D_")  # as typed
    assert book.cell(row=2, column=1).data_type == "s"


def test_column_names_and_index_labels_are_neutralised_too(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=cmd": ["x"], "@name": ["y"]}, index=pd.Index(["-A1"], name="+i"))
    path = write_table(frame, tmp_path / "t.csv", index=True)
    assert path.read_text(encoding="utf-8").splitlines() == ["'+i,'=cmd,'@name", "'-A1,x,y"]


def _edited_log(path: Path, edits: dict[tuple[int, str], str]) -> Path:
    rows = list(csv.reader(FIXTURE.open(encoding="utf-8", newline="")))
    header = rows[0]
    for (row, column), value in edits.items():
        rows[row][header.index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return path


@pytest.mark.parametrize("vector", VECTORS)
def test_assess_never_writes_a_vector_given_as_an_identifier(vector: str, tmp_path: Path) -> None:
    """An identifier shaped like a formula is refused whole: nothing is written."""
    for column in ("incident_id", "setting_id"):
        log = _edited_log(tmp_path / f"{column}.csv", {(1, column): vector})
        assert main(["assess", str(log), "--out", str(tmp_path / f"{column}-out.csv")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incident_id.csv", "setting_id.csv"]


def test_assess_neutralises_formula_like_cells_in_output_and_quarantine(tmp_path: Path) -> None:
    """Every vector in value columns (held back, never echoed) and identifiers a spreadsheet
    reads as formulas (-A1 is =-A1; -2-3 is =-5) on kept and held-back rows."""
    edits: dict[tuple[int, str], str] = {(1, "incident_id"): "-2-3", (2, "incident_id"): "-A1"}
    edits[(2, "adult_involved")] = VECTORS[0]
    for number, vector in enumerate(VECTORS, start=3):
        edits[(number, "content_level")] = vector
        edits[(number + len(VECTORS), "reported_on")] = vector
    log = _edited_log(tmp_path / "log.csv", edits)
    assert main(["assess", str(log), "--out", str(tmp_path / "out.csv")]) == 1
    output, quarantine = _cells(tmp_path / "out.csv"), _cells(tmp_path / "out.quarantine.csv")
    for cells in (output, quarantine):
        assert not [c for c in cells if _formula_like(c)]
        assert not [c for c in cells if any(v in c for v in VECTORS)]
    assert "'-2-3" in output and "'-A1" in quarantine


def test_the_same_table_gives_the_same_spreadsheet_bytes(tmp_path: Path) -> None:
    """A spreadsheet records when it was made; identical runs must still give identical
    files (the impact pack's flipped incidents differed on every run)."""
    import time

    frame = pd.DataFrame({"incident_id": ["A1", "A2"], "n": [1, 2]})
    first = write_table(frame, tmp_path / "one.xlsx").read_bytes()
    time.sleep(1.1)  # the stored time has whole seconds
    second = write_table(frame, tmp_path / "two.xlsx").read_bytes()
    assert first == second
