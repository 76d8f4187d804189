"""Schedules (`ypsi-audit run`, issue 11 items 8-9, issue 15 item 8): checked like input
before any job runs, paths kept inside the reports folder, output patterns limited to
their three fields, every job run whatever happened to the one before, and the README's
crontab line proven to fire only on the first Monday of September, January and May."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from ypsi_audit.cli import main
from ypsi_audit.errors import YpsiError
from ypsi_audit.reports import runner
from ypsi_audit.reports.schedule import ScheduleError, load_jobs, run_jobs

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "data" / "samples" / "example_schedule.yaml"
TODAY = date(2025, 9, 1)


def _config(folder: Path, jobs: str, top: str = "reports: out\n") -> Path:
    path = folder / "jobs.yaml"
    path.write_text(top + "jobs:\n" + jobs, encoding="utf-8")
    return path


GOOD = "  - name: a\n    input: log.csv\n"


def test_the_example_schedule_builds_a_run_spec_per_job() -> None:
    jobs = load_jobs(EXAMPLE, today=TODAY)
    assert [j.name for j in jobs] == ["whole-trust", "secondary-settings"]
    reports = (ROOT / "reports" / "scheduled").resolve()
    specs = [job.spec(TODAY) for job in jobs]
    assert Path(specs[0].out) == reports / "whole-trust" / "2024-25" / "2025-09-01"
    assert specs[0].input == str(EXAMPLE.parent.resolve() / "sample_trust_log.csv")
    assert specs[1].settings == ("S01", "S02", "S03", "S05")
    assert specs[1].policy.parameters["wide_age_gap_years"] == 3
    assert specs[0].title == "Sample Trust (invented data)" and specs[0].period == "2024-25"


def test_every_field_reaches_the_run_spec(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "  - name: board-pack\n    input: logs/log.xlsx\n    sheet: 2024\n"
        "    mapping: maps/ours.yaml\n    audience: publication\n    threshold: 10\n"
        "    title: Oak Trust\n    pdf: true\n    policy: ukcis-2024\n"
        "    compare_with: cheshire-quick-guide\n    settings: S01,S02\n",
    )
    spec = load_jobs(config, today=TODAY)[0].spec(TODAY)
    assert (spec.audience, spec.threshold, spec.title, spec.pdf) == (
        "publication", 10, "Oak Trust", True
    )  # fmt: skip
    assert spec.input == str(tmp_path / "logs" / "log.xlsx") and spec.sheet == "2024"
    assert spec.mapping == str(tmp_path / "maps" / "ours.yaml")
    assert spec.policy.label.startswith("ukcis-2024@")
    assert spec.compare_with.label.startswith("cheshire-quick-guide@")
    assert spec.settings == ("S01", "S02")
    assert Path(spec.out) == tmp_path / "out" / "board-pack" / "all"


BAD = {
    "threshold zero": (GOOD + "    threshold: 0\n", "job 'a', field threshold", "outside 5"),
    "threshold text": (GOOD + "    threshold: '5'\n", "job 'a', field threshold", "whole number"),
    "threshold bool": (GOOD + "    threshold: true\n", "job 'a', field threshold", "whole number"),
    "audience": (GOOD + "    audience: everyone\n", "field audience", "internal"),
    "audience list": (GOOD + "    audience: [internal]\n", "field audience", "piece of text"),
    "unknown key": (GOOD + "    periods: 2024-25\n", "field periods", "did you mean 'period'"),
    "period number": (GOOD + "    period: 2024\n", "field period", "such as 2024-25"),
    "period wrong": (GOOD + "    period: 2024-26\n", "field period", "academic year"),
    "pdf text": (GOOD + "    pdf: 'yes'\n", "field pdf", "true or false"),
    "params list": (GOOD + "    params: [3]\n", "field params", "name: value"),
    "params nested": (GOOD + "    params: {a: [1]}\n", "field params", "single value"),
    "settings map": (GOOD + "    settings: {S01: 1}\n", "field settings", "list of setting"),
    "settings odd": (GOOD + "    settings: [S01, '../x']\n", "field settings", "setting codes"),
    "input number": ("  - name: a\n    input: 12\n", "field input", "piece of text"),
    "input missing": ("  - name: a\n", "job 'a', field input", "needs input"),
    "name traversal": ("  - name: ../..\n    input: log.csv\n", "job 1, field name", "letters"),
    "name list": ("  - name: [a]\n    input: log.csv\n", "job 1, field name", "letters"),
    "name twice": (GOOD + GOOD, "job 'a'", "two jobs have this name"),
    "job not a mapping": ("  - just text\n", "job 1", "name: value"),
    "dunder pattern": (
        GOOD + "    out: '{name.__class__.__mro__}'\n",
        "field out",
        "'{name.__class__.__mro__}'",
    ),
    "index pattern": (GOOD + "    out: '{name[0]}'\n", "field out", "only {name}, {period}"),
    "conversion": (GOOD + "    out: '{name!r}'\n", "field out", "only {name}, {period}"),
    "format spec": (GOOD + "    out: '{date:>40}'\n", "field out", "only {name}, {period}"),
    "brace": (GOOD + "    out: '{name'\n", "field out", "not closed"),
    "dot dot": (GOOD + "    out: ../../{name}\n", "field out", "no '..'"),
    "absolute": (GOOD + "    out: /tmp/{name}\n", "field out", "no '..'"),
    "backslash": (GOOD + "    out: '..\\\\{name}'\n", "field out", "backslash"),
    "reports itself": (GOOD + "    out: .\n", "field out", "not the folder itself"),
    "same folder": (
        GOOD + "  - name: b\n    input: log.csv\n    out: a\n",
        "job 'b', field out",
        "job 'a'",
    ),
    "nested folder": (
        GOOD + "  - name: b\n    input: log.csv\n    out: a/all/b\n",
        "job 'b'",
        "inside it",
    ),
    "title personal": (GOOD + "    title: jane.smith@example.org\n", "field title", "personal"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_mistake_is_one_line_naming_file_job_and_field(case: str, tmp_path: Path, capsys) -> None:
    jobs, where, words = BAD[case]
    config = _config(tmp_path, jobs)
    with pytest.raises(ScheduleError) as raised:
        load_jobs(config, today=TODAY)
    message = str(raised.value)
    assert message.startswith(f"{config}, job ") and where in message, message
    assert words in message, message
    assert main(["run", str(config)]) == 2
    said = capsys.readouterr()
    assert said.err.strip() == f"ypsi-audit: {message}" and said.out == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("top", "words"),
    [
        ("", "needs a reports: folder"),
        ("reports: [a]\n", "field reports: reports must be a piece of text"),
        ("report: out\nreports: out\n", "unknown key 'report'; did you mean 'reports'?"),
    ],
)
def test_the_top_of_the_file_is_checked(top: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match=re.escape(words)):
        load_jobs(_config(tmp_path, GOOD, top=top), today=TODAY)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- a\n- b\n", "a reports: folder and a jobs: list"),
        ("reports: out\njobs: []\n", "at least one job"),
        ("reports: out\njobs: {a: 1}\n", "at least one job"),
        (
            "reports: out\njobs:\n  - &x {name: a, input: l.csv}\n  - *x\n",
            "two jobs have this name",
        ),
        ("reports: out\njobs:\n  - name: a\n   input: x\n", "line 4, column 4"),
    ],
)
def test_odd_shapes_and_malformed_yaml(text: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YpsiError) as raised:
        load_jobs(path, today=TODAY)
    assert words in str(raised.value) and str(path) in str(raised.value)


def test_a_symbolic_link_out_of_the_reports_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "elsewhere")
    config = _config(tmp_path, GOOD + "    out: link/{name}\n")
    with pytest.raises(ScheduleError, match="must be inside the schedule's reports: folder"):
        load_jobs(config, today=TODAY)


def test_output_patterns_fill_in_their_three_fields(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD + "    period: 2023-24\n    out: x/{name}-{period}/{date}\n")
    job = load_jobs(config, today=TODAY)[0]
    assert job.folder(TODAY) == tmp_path / "out" / "x" / "a-2023-24" / "2025-09-01"


def _fake_run(failures: dict[str, BaseException], held: dict[str, int], seen: list[str]):
    def run(spec, progress=print):
        name = Path(spec.out).parent.name  # out is {name}/{period}
        seen.append(name)
        if name in failures:
            raise failures[name]
        return runner.ReportRun(Path(spec.out), [], held.get(name, 0))

    return run


def test_a_job_failing_for_any_reason_never_stops_the_next(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    names = ["disk", "ours", "input", "held", "fine"]
    config = _config(tmp_path, "".join(f"  - name: {n}\n    input: {n}.csv\n" for n in names))
    failures = {
        "disk": OSError(28, "No space left on device", "/x"),
        "ours": RuntimeError("a defect"),
        "input": YpsiError("input.csv: the file does not exist."),
    }
    seen: list[str] = []
    monkeypatch.setattr(runner, "run", _fake_run(failures, {"held": 3}, seen))
    outcomes = run_jobs(load_jobs(config), today=TODAY, progress=lambda _: None)
    assert seen == names
    assert outcomes["disk"].startswith("failed: the system refused a file operation (/x)")
    assert outcomes["ours"].startswith("failed: an internal error (RuntimeError)")
    assert outcomes["input"] == "failed: input.csv: the file does not exist."
    assert outcomes["held"].startswith("written, but 3 rows were held back")
    assert outcomes["fine"] == "ok"
    assert main(["run", str(config)]) == 1
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    assert "fine: ok" in printed.out and "disk: failed" in printed.out


def test_the_exit_code_is_zero_only_when_every_job_succeeded(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, GOOD + "  - name: b\n    input: log.csv\n")
    monkeypatch.setattr(runner, "run", _fake_run({}, {}, []))
    assert main(["run", str(config)]) == 0
    monkeypatch.setattr(runner, "run", _fake_run({}, {"b": 1}, []))
    assert main(["run", str(config)]) == 1


def test_each_job_starts_in_the_folder_the_schedule_started_in(tmp_path: Path, monkeypatch) -> None:
    """papermill changes the process's working folder while a notebook runs; a job that
    leaves it changed (or removed) must not move the next job or the caller."""
    config = _config(tmp_path, GOOD + "  - name: b\n    input: log.csv\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    start = Path.cwd()
    seen: list[Path] = []

    def wander(spec, progress=print):
        seen.append(Path.cwd())
        gone = elsewhere / Path(spec.out).parent.name
        gone.mkdir()
        os.chdir(gone)
        gone.rmdir()  # the folder the job left the process in no longer exists
        return runner.ReportRun(Path(spec.out), [], 0)

    monkeypatch.setattr(runner, "run", wander)
    assert run_jobs(load_jobs(config), today=TODAY, progress=lambda _: None) == {
        "a": "ok", "b": "ok"
    }  # fmt: skip
    assert seen == [start, start] and Path.cwd() == start


def test_an_interrupt_stops_the_schedule(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, GOOD + "  - name: b\n    input: log.csv\n")
    seen: list[str] = []
    monkeypatch.setattr(runner, "run", _fake_run({"a": KeyboardInterrupt()}, {}, seen))
    assert main(["run", str(config)]) == 130
    assert seen == ["a"]


# ------------------------------------------------------------------------------ crontab


def _cron_line(text: str) -> str:
    lines = [line for line in text.splitlines() if "ypsi-audit run" in line and "date +" in line]
    assert len(lines) == 1, lines
    return lines[0].strip().lstrip("#").strip()


def _field(spec: str, value: int) -> bool:
    """Does one crontab time field match `value`? (*, lists, ranges; steps not used)."""
    if spec == "*":
        return True
    for part in spec.split(","):
        low, _, high = part.partition("-")
        if int(low) <= value <= int(high or low):
            return True
    return False


def _cron_fires(fields: list[str], day: date) -> bool:
    """Cron's day rule: with both day-of-month and day-of-week restricted, either matches."""
    _, _, dom, month, dow = fields
    weekday = day.isoweekday() % 7  # cron: 0 is Sunday
    if not _field(month, day.month):
        return False
    if dom != "*" and dow != "*":
        return _field(dom, day.day) or _field(dow, weekday)
    return _field(dom, day.day) and _field(dow, weekday)


def _guard_passes(command: str, weekday: int) -> bool:
    """Run the command's guard (before the first &&) in bash, with cron's % rule applied
    and `date +%u` answering `weekday` (1 Monday ... 7 Sunday)."""
    guard = command.split("&&")[0]
    assert re.search(r"(?<!\\)%", guard) is None  # an unescaped % would end the command
    guard = guard.replace("\\%", "%")
    fake = f'date() {{ [ "$1" = "+%u" ] && echo {weekday}; }}; '
    return subprocess.run(["bash", "-c", fake + guard], check=False).returncode == 0


def _fires(line: str, start: date) -> list[date]:
    fields = line.split(None, 5)
    guards = {weekday: _guard_passes(fields[5], weekday) for weekday in range(1, 8)}
    days = (start + timedelta(days=n) for n in range(366))
    return [d for d in days if _cron_fires(fields[:5], d) and guards[d.isoweekday()]]


def _first_mondays(start: date) -> list[date]:
    days = [start + timedelta(days=n) for n in range(366)]
    return [d for d in days if d.month in (9, 1, 5) and d.isoweekday() == 1 and d.day <= 7]


@pytest.mark.parametrize("source", [ROOT / "README.md", EXAMPLE])
def test_the_crontab_line_fires_only_on_first_mondays(source: Path) -> None:
    line = _cron_line(source.read_text(encoding="utf-8"))
    for start in (date(2025, 8, 1), date(2026, 8, 1), date(2027, 8, 1)):
        fired = _fires(line, start)
        assert fired == _first_mondays(start) and len(fired) == 3, fired
    assert "ypsi-audit run data/samples/example_schedule.yaml" in line


def test_the_old_crontab_line_fires_on_every_monday_too() -> None:
    """The model of cron above is not lenient: the README's former line fails it."""
    old = "0 7 1-7 9,1,5 1  true"
    fired = _fires(old, date(2025, 8, 1))
    assert len(fired) > 3 and set(_first_mondays(date(2025, 8, 1))) < set(fired)
