"""`report` and `impact` with `--engine duckdb` (issue 16 item 2): the log is gated and
assessed inside DuckDB, out of core, and the report set is the one the pandas engine
writes: the same tables, pages, case lists and held-back rows, on the shipped sample, on
a messy CSV log and on a typed Parquet log."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit import contract, resources
from ypsi_audit.cli import main
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.pages import build_pages
from ypsi_audit.reports.runner import _follow_up, page_names
from ypsi_audit.reports.schedule import ScheduleError, load_jobs
from ypsi_audit.reports.spec import RunSpec, SpecError
from ypsi_audit.reports.tables import write_tables
from ypsi_audit.synth import generate, write_log

SAMPLE = resources.sample_log()
TODAY = date(2025, 9, 1)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _cells(notebook: bytes) -> list:
    """A notebook's cells without the one papermill injects (the spec, naming its engine)."""
    cells = json.loads(notebook)["cells"]
    return [c for c in cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _same_set(pandas_set: Path, duckdb_set: Path) -> None:
    """Every file the same but the manifest; a notebook differs only in its parameters
    cell, a workbook only in the time it was made."""
    one, two = _files(pandas_set), _files(duckdb_set)
    assert set(one) == set(two)
    assert any(name.startswith("tables/") and name.endswith(".csv") for name in one)
    for name in one:
        if one[name] == two[name] or name == "manifest.json":
            continue
        if name.endswith(".ipynb"):
            assert _cells(one[name]) == _cells(two[name]), name
        elif name.endswith(".xlsx"):
            left = pd.read_excel(io.BytesIO(one[name]), sheet_name=None)
            right = pd.read_excel(io.BytesIO(two[name]), sheet_name=None)
            assert left.keys() == right.keys(), name
            for sheet in left:
                pd.testing.assert_frame_equal(left[sheet], right[sheet])
        else:
            raise AssertionError(f"{name} differs between the engines")
    first = json.loads(one["manifest.json"])
    second = json.loads(two["manifest.json"])
    for key in ("report_id", "rows", "pages", "disclosure", "policy", "compare_with"):
        assert first[key] == second[key], key
    assert {first["engine"]["name"], second["engine"]["name"]} == {"pandas", "duckdb"}


def _messy_sample(path: Path) -> Path:
    """The shipped sample with six rows the gate holds back (values that cannot be read,
    and values that break a check) and a blank row."""
    rows = list(csv.reader(SAMPLE.open(encoding="utf-8")))
    column = {name: k for k, name in enumerate(rows[0])}
    for row, (name, value) in {
        5: ("reported_on", "31/02/2024"),
        40: ("youngest_child_age", "fifteen"),
        77: ("decision", "told_off"),
        120: ("oldest_party_age", "3"),
        121: ("decided_on", "2019-01-01"),
        300: ("content_level", "nudes?"),
    }.items():
        rows[row][column[name]] = value
    rows[200] = [""] * len(rows[0])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _parquet_log(path: Path) -> Path:
    """A typed Parquet synthetic log; three rows decided before they were reported."""
    frame = generate(5, 2, 11)
    late = frame.index[frame["decided_on"].notna()][:3]
    frame.loc[late, "decided_on"] = frame.loc[late, "reported_on"] - timedelta(days=4)
    write_log(frame, path)
    return path


def _built(source: Path, engine: str, folder: Path) -> tuple[AssessedLog, dict, dict]:
    """The report's pages, tables and case lists, built in this process (no notebooks)."""
    spec = RunSpec.build(
        "report", input=str(source), out=str(folder), engine=engine, memory_limit="500MB"
    )
    log = AssessedLog.assess(spec)
    names = page_names(spec)
    pages, ledger = build_pages(log, spec, names)
    (folder / "tables").mkdir(parents=True)
    write_tables(ledger, folder / "tables", spec)
    _follow_up(log, spec, names, folder)
    return log, {name: page.to_json() for name, page in pages.items()}, _files(folder)


def _compare_built(source: Path, tmp_path: Path) -> AssessedLog:
    log, pages, files = _built(source, "pandas", tmp_path / "pandas")
    duck, duck_pages, duck_files = _built(source, "duckdb", tmp_path / "duckdb")
    assert duck.gate == log.gate
    assert duck.frame.attrs == log.frame.attrs
    assert duck.frame.dtypes.to_dict() == log.frame.dtypes.to_dict()
    for column in contract.COLUMNS:  # the contract's codes, in the contract's order
        if column.codes:
            assert list(duck.frame[column.name].cat.categories) == list(column.codes)
    # the same values everywhere; the `;`-joined output texts list their categories in
    # another order (no page reads them: pages read the state columns)
    pd.testing.assert_frame_equal(
        duck.frame, log.frame.reset_index(drop=True), check_categorical=False
    )
    assert duck_pages == pages
    assert sorted(files) == sorted(duck_files) and any(n.startswith("follow_up/") for n in files)
    assert duck_files == files
    return log


# ------------------------------------------------------------------------ report sets


def test_sample_report_set_is_the_same_with_duckdb(sample_report: Path, tmp_path: Path) -> None:
    out = tmp_path / "duckdb"
    options = ["--title", "Sample Trust", "--engine", "duckdb", "--memory-limit", "500MB"]
    code = main(["report", str(SAMPLE), "--out", str(out), *options])
    assert code == 0
    _same_set(sample_report, out)
    assert not list(tmp_path.glob("*/work"))


def test_held_back_rows_and_the_data_quality_page_agree(tmp_path: Path) -> None:
    log = _compare_built(_messy_sample(tmp_path / "messy.csv"), tmp_path)
    assert log.gate["rows_read"] == 597 and log.gate["rows_quarantined"] == 6
    assert len(log.gate["failures_by_check"]) == 8


def test_parquet_log_gives_the_same_pages(tmp_path: Path) -> None:
    log = _compare_built(_parquet_log(tmp_path / "log.parquet"), tmp_path)
    assert log.gate["rows_quarantined"] == 3


def test_impact_with_duckdb_gives_the_same_set(tmp_path: Path) -> None:
    source = _parquet_log(tmp_path / "log.parquet")
    common = ["impact", str(source), "--to", "ukcis-2024"]
    assert main([*common, "--out", str(tmp_path / "pandas")]) == 1  # three rows held back
    assert main([*common, "--out", str(tmp_path / "duckdb"), "--engine", "duckdb"]) == 1
    _same_set(tmp_path / "pandas", tmp_path / "duckdb")
    assert (tmp_path / "duckdb" / "follow_up" / "flipped_incidents.csv").is_file()


def test_the_duckdb_work_folder_is_private_and_removed_whatever_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from ypsi_audit import duck_job
    from ypsi_audit.errors import YpsiError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []

    def failing(source: str, out: Path, **options: object) -> None:
        seen.append((out.parent.stat().st_mode & 0o777, options["memory_limit"]))
        raise YpsiError("stopped")

    monkeypatch.setattr(duck_job, "assess_file", failing)
    spec = RunSpec.build(
        "report", input=str(SAMPLE), out="x", engine="duckdb", memory_limit="300MB"
    )
    with pytest.raises(YpsiError, match="stopped"):
        AssessedLog.assess(spec)
    assert seen == [(0o700, "300MB")]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--engine", "duckdb", "--mapping", "ours.yaml"], "--mapping works with --engine pandas"),
        (["--engine", "duckdb", "--sheet", "2024"], "--sheet works with --engine pandas"),
        (["--engine", "duckdb", "--memory-limit", "lots"], "memory limit 'lots' is not a size"),
        (["--memory-limit", "4 gigs"], "write it like 4GB or 500MB"),
    ],
)
@pytest.mark.parametrize("command", ["report", "impact"])
def test_engine_options_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, options: list, words: str
) -> None:
    out = tmp_path / "out"
    extra = ["--to", "ukcis-2024"] if command == "impact" else []
    assert main([command, str(SAMPLE), "--out", str(out), *extra, *options]) == 2
    error = capsys.readouterr().err
    assert words in error and error.count("\n") == 1, error
    assert not out.exists()


def test_a_spreadsheet_is_refused_by_the_duckdb_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "log.xlsx"
    source.write_bytes(b"PK\x03\x04 not really a workbook")
    out = tmp_path / "out"
    assert main(["report", str(source), "--out", str(out), "--engine", "duckdb"]) == 2
    errors = [e for e in capsys.readouterr().err.splitlines() if e.startswith("ypsi-audit:")]
    assert len(errors) == 1 and "reads .parquet and .csv files only" in errors[0]
    assert not out.exists()


# ------------------------------------------------------------------------ the spec


def test_the_spec_carries_the_engine_outside_its_stable_id() -> None:
    pandas_spec = RunSpec.build("report", input=str(SAMPLE), out="x")
    duck = RunSpec.build("report", input=str(SAMPLE), out="x", engine="duckdb", memory_limit="2gb")
    assert (pandas_spec.engine, pandas_spec.memory_limit) == ("pandas", "4GB")
    assert (duck.engine, duck.memory_limit) == ("duckdb", "2GB")
    again = RunSpec.from_json(duck.to_json())
    assert again == duck
    stable = duck.to_dict(stable=True)
    assert "engine" not in stable and "memory_limit" not in stable
    versions = {"ypsi-audit": "test"}
    assert duck.report_id(versions) == pandas_spec.report_id(versions)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"engine": "spark"}, "engine 'spark' is not one of pandas"),
        ({"memory_limit": "half"}, "memory limit 'half' is not a size"),
        ({"engine": "duckdb", "mapping": "ours.yaml"}, "mapping option works with the pandas"),
        ({"engine": "duckdb", "sheet": "2024"}, "sheet option works with the pandas"),
    ],
)
def test_the_spec_refuses_in_one_sentence(options: dict, words: str) -> None:
    with pytest.raises(SpecError, match=words) as caught:
        RunSpec.build("report", input=str(SAMPLE), out="x", **options)
    assert str(caught.value).count(". ") == 0


# ------------------------------------------------------------------------ schedules


def _schedule(folder: Path, job: str) -> Path:
    path = folder / "jobs.yaml"
    path.write_text("reports: out\njobs:\n  - name: a\n    input: log.csv\n" + job, "utf-8")
    return path


def test_a_schedule_job_may_name_the_engine(tmp_path: Path) -> None:
    config = _schedule(tmp_path, "    engine: duckdb\n    memory_limit: 2GB\n")
    spec = load_jobs(config, today=TODAY)[0].spec(TODAY)
    assert (spec.engine, spec.memory_limit) == ("duckdb", "2GB")
    plain = load_jobs(_schedule(tmp_path, ""), today=TODAY)[0].spec(TODAY)
    assert (plain.engine, plain.memory_limit) == ("pandas", "4GB")


@pytest.mark.parametrize(
    ("job", "field", "words"),
    [
        ("    engine: spark\n", "engine", "is not one of pandas"),
        ("    engine: 3\n", "engine", "must be a piece of text: pandas or duckdb"),
        ("    memory_limit: lots\n", "memory_limit", "is not a size"),
        ("    engine: duckdb\n    mapping: ours.yaml\n", "mapping", "pandas engine only"),
        ("    engine: duckdb\n    sheet: S1\n", "sheet", "pandas engine only"),
    ],
)
def test_a_schedule_refuses_a_bad_engine_field(
    tmp_path: Path, job: str, field: str, words: str
) -> None:
    with pytest.raises(ScheduleError, match=words) as caught:
        load_jobs(_schedule(tmp_path, job), today=TODAY)
    assert caught.value.key == field
