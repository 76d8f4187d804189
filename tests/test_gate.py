"""The validation gate end to end: a corpus of bad inputs, through the real command line.

Every file is made here from the public vignettes (read as text, cells edited) and run
through `validate` and `assess`. The gate's promises: exit 0 when every row is valid;
exit 1 when some rows are held back (the output is still written and every row read is
either assessed or quarantined); exit 2 when the whole file is refused, and then nothing
at all is written. Most cases run in-process (GX is slow to import); a handful run as real
subprocesses to prove that no traceback ever reaches the user.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ypsi_audit.cli import main
from ypsi_audit.loading import read_incidents
from ypsi_audit.validation import FAILURE_COLUMNS, RefusedInput, run_gate

VIGNETTES = Path(__file__).parent / "data" / "cheshire_public.csv"
N_VIGNETTES = 26
QUARANTINE_COLUMNS = ["row", "incident_id", "checks", "reason"]
RECONCILIATION = re.compile(r"Rows read ([\d,]+) = assessed ([\d,]+) \+ quarantined ([\d,]+)\.")
# Personal data shapes, each placed where an identifier or a code should be.
PERSONAL = {
    "email": "jo.bloggs@school.org.uk",
    "phone": "07700 900123",
    "postcode": "SW1A 1AA",
    "upn": "A123456789012",
}


ECOLE = "École Sainte-Anne"
REGISTER = f"""\
settings:
  {ECOLE}: S01
  Oakfield Primary School: S02
  St Mary's High School: S03
"""


def vignettes() -> pd.DataFrame:
    return pd.read_csv(VIGNETTES, dtype=str, keep_default_na=False)


def sheet_row(position: int) -> int:
    """Row number a spreadsheet shows for the data row at this 0-based position."""
    return position + 2


# --------------------------------------------------------------------------- builders

Builder = Callable[[Path], Path]


def csv_of(edit: Callable[[pd.DataFrame], pd.DataFrame | None], **to_csv: Any) -> Builder:
    """A builder: the vignettes, edited, written as CSV (options passed to to_csv)."""

    def build(folder: Path) -> Path:
        frame = vignettes()
        edited = edit(frame)  # a new frame, or None when the edit worked in place
        if edited is not None:
            frame = edited
        path = folder / "log.csv"
        frame.to_csv(path, index=False, **to_csv)
        return path

    return build


def cells(*edits: tuple[int, str, str]) -> Callable[[pd.DataFrame], None]:
    """An edit setting (position, column, value) cells in place."""

    def edit(frame: pd.DataFrame) -> None:
        for position, column, value in edits:
            frame.loc[position, column] = value

    return edit


def raw_bytes(data: bytes, name: str = "log.csv") -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def xlsx_with_date_cells(folder: Path) -> Path:
    """The vignettes as a workbook whose dates are real Excel date cells, ages numbers."""
    frame = vignettes().astype(object)
    for column in ("reported_on", "decided_on"):
        frame[column] = [dt.datetime.fromisoformat(v) if v else None for v in frame[column]]
    for column in ("youngest_child_age", "oldest_party_age"):
        frame[column] = [int(v) if v else None for v in frame[column]]
    path = folder / "log.xlsx"
    frame.to_excel(path, index=False)
    return path


# The mixed file: one corruption per row, on ordinary rows (P01-P09), so that the rows
# holding the only values of the viewing/device/staff follow-ups (P14-P19) stay valid.
MIXED_EDITS = (
    (0, "youngest_child_age", "3"),
    (1, "decided_on", "2025-03-01"),
    (2, "decision", "refered_police"),
    (4, "oldest_party_age", "30"),
    (5, "reported_on", "2099-01-01"),
    (5, "decided_on", ""),
    (7, "incident_id", "P07"),
    (8, "viewing_authorised", "true"),
)
MIXED_QUARANTINE = {
    2: {"youngest_child_age_range"},
    3: {"decided_not_before_reported"},
    4: {"unknown_code"},
    6: {"adult_flag_matches_age"},
    7: {"reported_not_in_future"},
    8: {"incident_id_unique"},
    9: {"incident_id_unique"},
    10: {"viewing_authorised_needs_image_viewed"},
}


@dataclass(frozen=True)
class Case:
    build: Builder
    code: int
    # exit 1: spreadsheet row -> check ids it must fail (and no other row is held back)
    quarantine: dict[int, set[str]] = field(default_factory=dict)
    # exit 2: fragments the one-line message must contain, and a value it must never show
    message: tuple[str, ...] = ()
    secret: str | None = None
    mapping: str | None = None  # the text of a mapping file to run with (--mapping)


CASES: dict[str, Case] = {
    "empty-file": Case(raw_bytes(b""), 2, message=("empty",)),
    "header-only": Case(csv_of(lambda f: f.iloc[:0]), 2, message=("no incidents",)),
    "missing-reported_on": Case(
        csv_of(lambda f: f.drop(columns="reported_on")), 2, message=("reported_on", "missing")
    ),
    "semicolons": Case(csv_of(cells(), sep=";"), 0),
    "tabs": Case(csv_of(cells(), sep="\t"), 0),
    # Accented text is legitimate in one place: a setting's name that the register lists.
    "windows-1252": Case(
        csv_of(cells((0, "setting_id", ECOLE)), encoding="cp1252"), 0, mapping=REGISTER
    ),
    "utf-8-bom": Case(
        csv_of(cells((0, "setting_id", ECOLE)), encoding="utf-8-sig"), 0, mapping=REGISTER
    ),
    "binary-junk": Case(raw_bytes(bytes(range(256)) * 16), 2, message=("binary",)),
    "duplicate-ids": Case(
        csv_of(cells((1, "incident_id", "P01"))),
        1,
        {2: {"incident_id_unique"}, 3: {"incident_id_unique"}},
    ),
    "ages-out-of-range": Case(
        csv_of(
            cells(
                (0, "youngest_child_age", "3"),
                (1, "oldest_party_age", "120"),
                (1, "adult_involved", "true"),
            )
        ),
        1,
        {2: {"youngest_child_age_range"}, 3: {"oldest_party_age_range"}},
    ),
    "future-reported_on": Case(
        csv_of(cells((3, "reported_on", "2099-01-01"), (3, "decided_on", ""))),
        1,
        {5: {"reported_not_in_future"}},
    ),
    "decided-before-reported": Case(
        csv_of(cells((3, "decided_on", "2025-03-01"))), 1, {5: {"decided_not_before_reported"}}
    ),
    "adult-flag-false-at-30": Case(
        csv_of(cells((0, "oldest_party_age", "30"))), 1, {2: {"adult_flag_matches_age"}}
    ),
    "unknown-code": Case(
        csv_of(cells((0, "decision", "refered_police"))), 1, {2: {"unknown_code"}}
    ),
    "follow-up-without-parent": Case(
        csv_of(cells((0, "viewing_authorised", "true"))),
        1,
        {2: {"viewing_authorised_needs_image_viewed"}},
    ),
    "mixed-corruptions": Case(csv_of(cells(*MIXED_EDITS)), 1, MIXED_QUARANTINE),
    "pupil_name-column": Case(
        csv_of(lambda f: f.assign(pupil_name="Alice Smith")), 2, message=("pupil_name",)
    ),
    "answer-key-with-personal-data": Case(
        csv_of(cells((3, "expected_gaps", PERSONAL["email"]))),
        2,
        message=("column expected_gaps", "not contract values", "personal data", "row 5"),
        secret=PERSONAL["email"],
    ),
    "answer-key-with-a-name": Case(
        csv_of(cells((3, "expected_consistency", "Jane Smith"))),
        2,
        message=("column expected_consistency", "not contract values", "row 5"),
        secret="Jane Smith",
    ),
    "answer-key-in-capitals": Case(csv_of(cells((3, "expected_experimental", "TRUE"))), 0),
    "name-in-setting_id": Case(
        csv_of(cells((3, "setting_id", "Jane Smith"), (5, "setting_id", "Jane Smith"))),
        2,
        message=("column setting_id", "not setting codes", "rows 5, 7", "settings:"),
        secret="Jane Smith",
    ),
    "name-shaped-code-in-incident_id": Case(
        csv_of(cells((3, "incident_id", "JaneSmith"))),
        2,
        message=("column incident_id", "read as a person's name", "row 5"),
        secret="JaneSmith",
    ),
    "name-shaped-code-in-setting_id": Case(
        csv_of(cells((3, "setting_id", "Jane_Smith"))),
        2,
        message=("column setting_id", "read as a person's name", "row 5", "settings:"),
        secret="Jane_Smith",
    ),
    "long-incident_id": Case(
        csv_of(cells((3, "incident_id", "X" * 33))),
        2,
        message=("column incident_id", "at most 32 characters", "row 5"),
    ),
    "setting-name-in-the-register": Case(
        csv_of(cells((3, "setting_id", "oakfield  PRIMARY school"))), 0, mapping=REGISTER
    ),
    "setting-typo-caught-by-the-register": Case(
        csv_of(cells((3, "setting_id", "S1"))),
        2,
        message=("column setting_id", "listed under settings: in", "row 5", "typo"),
        mapping=REGISTER,
    ),
    "unlisted-setting-name": Case(
        csv_of(cells((3, "setting_id", "Jane Smith"))),
        2,
        message=("column setting_id", "neither a name nor a code", "row 5"),
        secret="Jane Smith",
        mapping=REGISTER,
    ),
    "contract-style-codes": Case(
        csv_of(cells((0, "incident_id", "INC-000232"), (1, "incident_id", "inc_000233"))), 0
    ),
    "day-first-dates": Case(
        csv_of(cells((0, "reported_on", "13/04/2025"), (0, "decided_on", "14/04/2025"))), 0
    ),
    "xlsx-date-cells": Case(xlsx_with_date_cells, 0),
}
for kind, value in PERSONAL.items():
    for column in ("incident_id", "decision", "setting_id"):
        if column == "setting_id" and kind != "postcode":
            continue
        CASES[f"{kind}-in-{column}"] = Case(
            csv_of(cells((3, column, value))),
            2,
            message=(f"column {column}", "personal data", "row 5"),
            secret=value,
        )


# ------------------------------------------------------------------------ the checks


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ypsi-audit: "), err
    return lines[0]


def outputs_of(out: Path) -> tuple[Path, Path]:
    return (
        out.with_name(out.stem + ".quarantine.csv"),
        out.with_name(out.stem + ".manifest.json"),
    )


def check_validate(case: Case, code: int, out: str, err: str) -> None:
    assert code == case.code, out + err
    assert "Traceback" not in err
    if case.code == 2:
        message = one_line_error(err)
        for fragment in case.message:
            assert fragment in message, message
        assert out == ""
    else:
        assert err.strip() == ""
        assert f"{N_VIGNETTES} rows read" in out
        for check in set().union(*case.quarantine.values()) if case.quarantine else ():
            assert f"[{check}]" in out, out
        held = len(case.quarantine)
        assert f"{N_VIGNETTES - held:,} valid, {held:,} would be held back" in out
    if case.secret:
        assert case.secret not in out + err


def check_assess(case: Case, code: int, out: str, err: str, target: Path) -> None:
    """Exit code, and every file written (or not) as the exit code promises."""
    assert code == case.code, out + err
    assert "Traceback" not in err
    quarantine, manifest = outputs_of(target)
    if case.code == 2:
        message = one_line_error(err)
        for fragment in case.message:
            assert fragment in message, message
        assert not target.exists() and not quarantine.exists() and not manifest.exists()
        assert list(target.parent.iterdir()) == []  # not even a temporary file
        if case.secret:
            assert case.secret not in out + err
        return
    found = RECONCILIATION.findall(out)
    assert len(found) == 1, out
    read, assessed, held = (int(n.replace(",", "")) for n in found[0])
    assert read == assessed + held == N_VIGNETTES
    assert held == len(case.quarantine)
    table = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert len(table) == assessed
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    rows = json.loads(manifest.read_text(encoding="utf-8"))["rows"]
    assert rows == {"read": read, "assessed": assessed, "quarantined": held}
    if held:
        assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600
        kept = pd.read_csv(quarantine, dtype=str, keep_default_na=False)
        assert list(kept.columns) == QUARANTINE_COLUMNS
        assert len(kept) == held
        assert (kept["reason"].str.strip() != "").all()
        by_row = {
            int(r): set(c.split(";")) for r, c in zip(kept["row"], kept["checks"], strict=True)
        }
        assert set(by_row) == set(case.quarantine)
        for row, checks in case.quarantine.items():
            assert checks <= by_row[row], (row, by_row[row])
        assert not set(kept["incident_id"]) & set(table["incident_id"])
    else:
        assert not quarantine.exists()


def with_mapping(case: Case, folder: Path) -> list[str]:
    """The --mapping option for a case that needs one (its file written beside the log)."""
    if case.mapping is None:
        return []
    path = folder / "mapping.yaml"
    path.write_text(case.mapping, encoding="utf-8")
    return ["--mapping", str(path)]


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_validate_and_assess(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    case = CASES[name]
    source = case.build(tmp_path)
    before = source.read_bytes()
    extra = with_mapping(case, tmp_path)
    code = main(["validate", str(source), *extra])
    captured = capsys.readouterr()
    check_validate(case, code, captured.out, captured.err)

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "audit.csv"
    code = main(["assess", str(source), "--out", str(target), *extra])
    captured = capsys.readouterr()
    check_assess(case, code, captured.out, captured.err, target)
    assert source.read_bytes() == before  # the input is never modified


def test_duplicate_ids_hold_back_both_rows(tmp_path: Path) -> None:
    gate = run_gate(CASES["duplicate-ids"].build(tmp_path))
    held = gate.failures[gate.failures["check"] == "incident_id_unique"]
    assert held["row"].tolist() == [2, 3]
    assert held["incident_id"].tolist() == ["P01", "P01"]
    assert "P01" not in set(gate.frame["incident_id"])
    assert gate.rows_valid == N_VIGNETTES - 2


def test_day_first_dates_are_read_as_april(tmp_path: Path) -> None:
    gate = run_gate(CASES["day-first-dates"].build(tmp_path))
    assert gate.frame.loc[2, "reported_on"] == pd.Timestamp("2025-04-13")
    assert gate.frame.loc[2, "decided_on"] == pd.Timestamp("2025-04-14")
    assert gate.rows_valid == N_VIGNETTES


def test_ambiguous_day_first_date_is_never_read_month_first(tmp_path: Path) -> None:
    source = csv_of(cells((0, "reported_on", "03/04/2025"), (0, "decided_on", "04/04/2025")))
    gate = run_gate(source(tmp_path))
    assert gate.frame.loc[2, "reported_on"] == pd.Timestamp("2025-04-03")
    assert gate.frame.loc[2, "decided_on"] == pd.Timestamp("2025-04-04")


def test_xlsx_dates_are_real_date_cells_and_read_as_dates(tmp_path: Path) -> None:
    source = xlsx_with_date_cells(tmp_path)
    sheet = openpyxl.load_workbook(source).active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("reported_on") + 1)
    assert cell.is_date and isinstance(cell.value, dt.datetime)  # not text
    gate = run_gate(source)
    clean = run_gate(VIGNETTES)
    assert gate.rows_valid == N_VIGNETTES and len(gate.failures) == 0
    pd.testing.assert_series_equal(gate.frame["reported_on"], clean.frame["reported_on"])
    pd.testing.assert_series_equal(gate.frame["decided_on"], clean.frame["decided_on"])


@pytest.mark.parametrize("name", ["windows-1252", "utf-8-bom"])
def test_encodings_keep_accented_text(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = CASES[name].build(tmp_path)
    target = tmp_path / "audit.csv"
    extra = with_mapping(CASES[name], tmp_path)
    assert main(["assess", str(source), "--out", str(target), *extra]) == 0
    capsys.readouterr()
    table = pd.read_csv(target, dtype=str, keep_default_na=False, encoding="utf-8")
    # The name was read with its accent (else the register would not know it) and
    # became the setting's code: a setting's name never reaches the output.
    assert table["setting_id"].iloc[0] == "S01"
    assert ECOLE not in target.read_text(encoding="utf-8")
    assert table.columns[0] == "incident_id"  # no BOM glued to the first header


def test_strict_refuses_a_file_with_one_bad_row(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = CASES["decided-before-reported"].build(tmp_path)
    before = source.read_bytes()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "audit.csv"
    assert main(["assess", str(source), "--out", str(target), "--strict"]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "--strict" in message and "1 rows" in message
    assert list(out_dir.iterdir()) == []
    assert source.read_bytes() == before


def test_strict_with_a_valid_file_writes_as_usual(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    target = tmp_path / "audit.csv"
    assert main(["assess", str(VIGNETTES), "--out", str(target), "--strict"]) == 0
    assert "Rows read 26 = assessed 26 + quarantined 0." in capsys.readouterr().out
    assert len(pd.read_csv(target)) == N_VIGNETTES


def test_good_rows_of_a_mixed_file_are_assessed_as_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    mixed = CASES["mixed-corruptions"].build(tmp_path)
    assert main(["assess", str(mixed), "--out", str(tmp_path / "mixed.csv")]) == 1
    assert main(["assess", str(VIGNETTES), "--out", str(tmp_path / "clean.csv")]) == 0
    capsys.readouterr()
    got = pd.read_csv(tmp_path / "mixed.csv", dtype=str, keep_default_na=False)
    alone = pd.read_csv(tmp_path / "clean.csv", dtype=str, keep_default_na=False)
    held_ids = {"P01", "P02", "P03", "P05", "P06", "P07", "P09"}
    assert set(got["incident_id"]) == set(alone["incident_id"]) - held_ids - {"P08"}
    assert len(got) == N_VIGNETTES - len(MIXED_QUARANTINE)
    alone = alone.set_index("incident_id").loc[got["incident_id"]].reset_index()
    for column in (
        "guidance_outcome",
        "consistency",
        "recording_gaps",
        "aggravating_factors",
        "unknown_factors",
        "experimental",
    ):
        assert got[column].tolist() == alone[column].tolist(), column
    pd.testing.assert_frame_equal(got, alone)  # every column of every good row


def test_reassessing_a_now_clean_file_removes_a_stale_quarantine(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    target = tmp_path / "audit.csv"
    quarantine, _ = outputs_of(target)
    bad = CASES["unknown-code"].build(tmp_path)
    assert main(["assess", str(bad), "--out", str(target)]) == 1
    assert quarantine.exists()
    assert main(["assess", str(VIGNETTES), "--out", str(target)]) == 0
    capsys.readouterr()
    assert not quarantine.exists()


def test_summary_counts_and_failures_by_check(tmp_path: Path) -> None:
    gate = run_gate(CASES["mixed-corruptions"].build(tmp_path))
    summary = gate.summary()
    assert summary["rows_read"] == N_VIGNETTES
    assert summary["rows_valid"] == N_VIGNETTES - len(MIXED_QUARANTINE)
    assert summary["rows_quarantined"] == len(MIXED_QUARANTINE)
    assert summary["rows_read"] == summary["rows_valid"] + summary["rows_quarantined"]
    entries = summary["failures_by_check"]
    assert all(set(e) == {"check", "reason", "n_rows"} for e in entries)
    assert all(isinstance(e["reason"], str) and e["reason"] for e in entries)
    by_check = {e["check"]: e["n_rows"] for e in entries}
    assert by_check == {
        "youngest_child_age_range": 1,
        "decided_not_before_reported": 1,
        "unknown_code": 1,
        "adult_flag_matches_age": 1,
        "reported_not_in_future": 1,
        "incident_id_unique": 2,
        "viewing_authorised_needs_image_viewed": 1,
    }
    assert gate.reconciliation() == "Rows read 26 = assessed 18 + quarantined 8."


def test_summary_of_a_clean_file() -> None:
    summary = run_gate(VIGNETTES).summary()
    assert (summary["rows_read"], summary["rows_valid"], summary["rows_quarantined"]) == (
        N_VIGNETTES,
        N_VIGNETTES,
        0,
    )
    assert summary["failures_by_check"] == []


def test_failures_frame_has_exactly_the_fixed_columns(tmp_path: Path) -> None:
    mixed = run_gate(CASES["mixed-corruptions"].build(tmp_path))
    clean = run_gate(VIGNETTES)
    assert tuple(mixed.failures.columns) == FAILURE_COLUMNS
    assert tuple(clean.failures.columns) == FAILURE_COLUMNS
    assert len(clean.failures) == 0
    rows = {int(r): set(g) for r, g in mixed.failures.groupby("row")["check"]}
    assert rows == MIXED_QUARANTINE
    parse = mixed.failures[mixed.failures["check"] == "unknown_code"].iloc[0]
    assert (parse["row"], parse["incident_id"], parse["column"]) == (4, "P03", "decision")


def test_refusal_raises_refused_input_naming_the_column(tmp_path: Path) -> None:
    source = CASES["pupil_name-column"].build(tmp_path)
    with pytest.raises(RefusedInput, match="pupil_name"):
        run_gate(source)


def test_log_with_only_the_required_columns_is_assessed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "log.csv"
    source.write_text(
        "incident_id,setting_id,incident_type,reported_on\nA1,S01,image_sharing,2025-03-03\n",
        encoding="utf-8",
    )
    target = tmp_path / "audit.csv"
    assert main(["assess", str(source), "--out", str(target)]) == 0
    assert "Rows read 1 = assessed 1 + quarantined 0." in capsys.readouterr().out
    table = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert table["adult_involved"].tolist() == [""]
    assert table["guidance_outcome"].tolist() == ["insufficient_information"]


# ----------------------------------------------------------------- real subprocesses

SUBPROCESS_CASES = ("mixed-corruptions", "binary-junk", "email-in-decision", "upn-in-incident_id")


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """validate and assess of a few corpus files as real processes, run side by side."""
    running = {}
    for name in SUBPROCESS_CASES:
        folder = tmp_path_factory.mktemp(name)
        source = CASES[name].build(folder)
        out_dir = folder / "out"
        out_dir.mkdir()
        target = out_dir / "audit.csv"
        for command, extra in (("validate", []), ("assess", ["--out", str(target)])):
            process = subprocess.Popen(
                [sys.executable, "-m", "ypsi_audit.cli", command, str(source), *extra],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            running[(name, command)] = (process, target, source, source.read_bytes())
    results = {}
    for key, (process, target, source, before) in running.items():
        out, err = process.communicate(timeout=300)
        results[key] = (process.returncode, out, err, target, source, before)
    return results


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_cli_subprocess_validate(name: str, cli_runs: dict) -> None:
    code, out, err, _, source, before = cli_runs[(name, "validate")]
    check_validate(CASES[name], code, out, err)
    assert source.read_bytes() == before


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_cli_subprocess_assess(name: str, cli_runs: dict) -> None:
    code, out, err, target, source, before = cli_runs[(name, "assess")]
    check_assess(CASES[name], code, out, err, target)
    assert source.read_bytes() == before


# ------------------------------------------------------------------ property: no loss

CORRUPTIONS: dict[str, dict[str, str]] = {
    "age_out_of_range": {"youngest_child_age": "3"},
    "decided_before_reported": {"decided_on": "2025-03-01"},
    "unknown_code": {"decision": "refered_police"},
    "adult_flag_false_at_30": {"adult_involved": "false", "oldest_party_age": "30"},
    "future_date": {"reported_on": "2099-01-01", "decided_on": ""},
}
PLANS = st.lists(
    st.tuples(st.integers(0, N_VIGNETTES - 1), st.sampled_from([None, None, *sorted(CORRUPTIONS)])),
    min_size=1,
    max_size=14,
)


def _by_position(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS)
def test_no_valid_row_is_lost_or_changed_and_no_bad_row_passes(
    plan: list[tuple[int, str | None]],
) -> None:
    source = vignettes()
    records, good, bad = [], [], []
    for position, (row, corruption) in enumerate(plan):
        record = source.iloc[row].copy()
        if corruption is None:
            record["incident_id"] = f"G{position:03d}"
            good.append((position, record["incident_id"]))
        else:
            record["incident_id"] = f"B{position:03d}"
            for column, value in CORRUPTIONS[corruption].items():
                record[column] = value
            bad.append(record["incident_id"])
        records.append(record)
    mixed = pd.DataFrame(records, columns=source.columns)
    with tempfile.TemporaryDirectory() as folder:
        mixed_path = Path(folder) / "mixed.csv"
        clean_path = Path(folder) / "clean.csv"
        mixed.to_csv(mixed_path, index=False)
        mixed[mixed["incident_id"].str.startswith("G")].to_csv(clean_path, index=False)
        gate = run_gate(mixed_path)
        clean = read_incidents(clean_path)
    good_ids = [incident for _, incident in good]
    assert gate.rows_read == len(plan)
    assert gate.rows_read == gate.rows_valid + len(gate.quarantined)
    assert gate.frame["incident_id"].tolist() == good_ids  # none lost, none added, in order
    assert gate.frame.index.tolist() == [sheet_row(p) for p, _ in good]
    assert set(gate.failures["incident_id"]) == set(bad)  # every bad row is held back
    assert sorted(gate.quarantined) == [sheet_row(p) for p, (_, c) in enumerate(plan) if c]
    assert len(clean.problems) == 0
    pd.testing.assert_frame_equal(_by_position(gate.frame), _by_position(clean.frame))
