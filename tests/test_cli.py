"""The command line: round trips, exit codes, one-line errors, fast start."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit import load_incidents
from ypsi_audit.cli import main
from ypsi_audit.errors import InputError

VIGNETTES = Path(__file__).parent / "data" / "cheshire_public.csv"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ypsi_audit.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_help_on_every_command() -> None:
    for command in ([], ["assess"], ["validate"], ["policies"], ["synth"]):
        result = _run(*command, "--help")
        assert result.returncode == 0
        assert "usage: ypsi-audit" in result.stdout


def test_help_does_not_import_pandas() -> None:
    code = (
        "import sys; from ypsi_audit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().endswith("False")


def test_assess_csv_round_trip_with_manifest(tmp_path: Path, capsys) -> None:
    out = tmp_path / "audit.csv"
    assert main(["assess", str(VIGNETTES), "--out", str(out), "--param", "under_age=14"]) == 0
    printed = capsys.readouterr().out
    assert "Assessed 26 incidents against cheshire-quick-guide@2" in printed
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(table) == 26
    assert table["reported_on"].iloc[0] == "2025-03-03"  # ISO dates out
    assert set(table["experimental"]) <= {"true", "false", ""}
    assert set(table["adult_involved"]) <= {"true", "false", ""}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    manifest = json.loads((tmp_path / "audit.manifest.json").read_text())
    assert manifest["policy"]["label"] == "cheshire-quick-guide@2"
    assert manifest["policy"]["parameters"]["under_age"] == 14
    assert manifest["rows"] == {"read": 26, "assessed": 26, "quarantined": 0}
    assert len(manifest["input"]["sha256"]) == 64
    # under_age=14 turns the 13-year-old in P22 into a police matter
    p22 = table.set_index("incident_id").loc["P22"]
    assert p22["aggravating_factors"].startswith("under_13")


def test_assess_parquet_output_keeps_types(tmp_path: Path) -> None:
    out = tmp_path / "audit.parquet"
    assert main(["assess", str(VIGNETTES), "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert str(table["experimental"].dtype) == "boolean"
    expected = pd.read_csv(VIGNETTES, dtype=str)["expected_outcome"].tolist()
    assert table["guidance_outcome"].astype(str).tolist() == expected


def test_assess_xlsx_input(tmp_path: Path) -> None:
    frame = pd.read_csv(VIGNETTES, dtype=str, keep_default_na=False)
    source = tmp_path / "log.xlsx"
    frame.to_excel(source, index=False)
    out = tmp_path / "audit.csv"
    assert main(["assess", str(source), "--out", str(out)]) == 0
    expected = frame["expected_outcome"].tolist()
    assert pd.read_csv(out, dtype=str)["guidance_outcome"].tolist() == expected


@pytest.mark.parametrize(
    ("cell", "value", "fragment"),
    [
        ("youngest_child_age", "fifteen", "column youngest_child_age"),
        ("decision", "refered_police", "referred_police"),
        ("reported_on", "31/02/2025", "column reported_on"),
    ],
)
def test_unreadable_value_is_held_back_never_blanked(
    tmp_path: Path, cell: str, value: str, fragment: str, capsys: pytest.CaptureFixture
) -> None:
    frame = pd.read_csv(VIGNETTES, dtype=str, keep_default_na=False)
    frame.loc[4, cell] = value
    source = tmp_path / "bad.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "audit.csv"
    assert main(["assess", str(source), "--out", str(out)]) == 1
    assert "Rows read 26 = assessed 25 + quarantined 1." in capsys.readouterr().out
    assert "P05" not in pd.read_csv(out)["incident_id"].tolist()
    held = pd.read_csv(tmp_path / "audit.quarantine.csv", dtype=str)
    assert held["row"].tolist() == ["6"] and held["incident_id"].tolist() == ["P05"]
    # named by column and kind of problem; a value it cannot read is never repeated
    assert fragment in held["reason"].iloc[0] and value not in held["reason"].iloc[0]
    # --strict refuses the file in one line, naming the problem, and writes nothing
    strict = tmp_path / "strict.csv"
    assert main(["assess", str(source), "--out", str(strict), "--strict"]) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and message.startswith("ypsi-audit: ")
    assert "--strict" in message and not strict.exists()
    # the Python loader refuses it outright, naming file, row and column
    with pytest.raises(InputError) as info:
        load_incidents(source)
    assert "row 6" in str(info.value) and fragment in str(info.value)


def test_bad_param_and_policy_are_refused_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    result = _run(
        "assess", str(tmp_path / "does-not-exist.csv"), "--out", str(out), "--param", "wide_gap=2"
    )
    assert result.returncode == 2
    assert "did you mean 'wide_age_gap_years'" in result.stderr
    result = _run("assess", str(VIGNETTES), "--out", str(out), "--policy", "cheshire-quick")
    assert result.returncode == 2 and "did you mean 'cheshire-quick-guide'" in result.stderr
    result = _run("assess", str(VIGNETTES), "--out", str(tmp_path / "audit.txt"))
    assert result.returncode == 2 and ".csv or .parquet" in result.stderr
    result = _run("assess", str(VIGNETTES), "--out", str(out), "--param", "under_age")
    assert result.returncode == 2 and "NAME=VALUE" in result.stderr


def test_missing_input_is_one_clear_line(tmp_path: Path) -> None:
    result = _run("assess", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert "nope.csv" in result.stderr and "Traceback" not in result.stderr


def test_policies_lists_parameters_and_defaults() -> None:
    result = _run("policies")
    assert result.returncode == 0
    assert "cheshire-quick-guide@2" in result.stdout
    assert "--param wide_age_gap_years=3" in result.stdout


def test_synth_same_seed_same_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        assert (
            main(["synth", "--settings", "3", "--years", "1", "--seed", "7", "--out", str(path)])
            == 0
        )
    assert first.read_bytes() == second.read_bytes()
    out = tmp_path / "assessed.csv"
    assert main(["assess", str(first), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == len(pd.read_csv(first)) > 0
