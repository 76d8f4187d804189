"""`ypsi-audit run CONFIG.yaml`: the report jobs a trust runs every term, from cron.

A schedule is configuration, and configuration is input: it is read with the project's
safe YAML loader and checked field by field before any job runs, with one-line errors
naming the file, the job and the field (exit code 2). Paths stay where they belong: every
job writes under the schedule's `reports:` folder (relative to the schedule file), job
names are plain codes, and an output pattern may use only {name}, {period} and {date}.

    reports: ../../reports          # every job's report set goes somewhere under here
    jobs:
      - name: whole-trust           # letters, digits, '-' and '_'
        input: sample_trust_log.csv # relative to this file
        period: 2024-25
        out: "{name}/{period}"      # under reports:; the default
        engine: duckdb              # optional: a log larger than memory (CSV or Parquet)
        memory_limit: 4GB           # optional: what DuckDB may use before spilling to disk

Each job becomes one `RunSpec` (`RunSpec.build("report", ...)`) and runs on its own: a job
that fails for any reason is reported in one line and the next one still runs. The exit
code is 0 only when every job wrote its report set with every row assessed.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import YpsiError, did_you_mean

TOP_KEYS = ("reports", "jobs")
JOB_KEYS = (
    "name",
    "input",
    "out",
    "period",
    "policy",
    "params",
    "settings",
    "audience",
    "threshold",
    "title",
    "mapping",
    "sheet",
    "pdf",
    "compare_with",
    "secret",
    "engine",
    "memory_limit",
)
REQUIRED = ("name", "input")
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
PATTERN_FIELDS = ("name", "period", "date")
DEFAULT_OUT = "{name}/{period}"
DEFAULT_POLICY = "cheshire-quick-guide"
TEXT_LIMIT = 500  # a path, a policy id or a sheet name is never longer


class ScheduleError(YpsiError):
    """A schedule file that cannot be used as written (exit code 2): the message names
    the file, the job and the field."""

    def __init__(self, path: str, problem: str, *, job: str | None = None, key: str = "") -> None:
        self.path = path
        self.job = job
        self.key = key
        self.problem = problem
        where = path
        if job is not None:
            where += f", {job}"
        if key:
            where += f", field {key}"
        super().__init__(f"{where}: {problem}".rstrip(".") + ".")


@dataclass(frozen=True)
class Job:
    """One checked job: everything `RunSpec.build` needs, paths already resolved."""

    name: str
    input: str
    out: str  # the output pattern, relative to `reports`
    reports: str  # the schedule's reports folder (absolute)
    source: str = ""  # the schedule file, for messages
    options: Mapping[str, Any] = field(default_factory=dict)

    def folder(self, today: date) -> Path:
        """Where this job's report set goes on `today`; refused when it would leave the
        schedule's reports folder (a symbolic link inside it is followed)."""
        return _folder(self, today)

    def spec(self, today: date) -> Any:
        """The job's run specification (policies resolved, every option checked)."""
        from .spec import RunSpec

        return RunSpec.build("report", input=self.input, out=self.folder(today), **self.options)


def load_jobs(path: str | Path, *, today: date | None = None) -> list[Job]:
    """Read and check a schedule file. Raises ScheduleError (or the loader's YamlFileError)
    for the first problem found; nothing runs unless the whole file is sound."""
    from ..yamlfile import load_yaml

    shown = str(path)
    tree = load_yaml(path, what="schedule")
    if not isinstance(tree, dict):
        raise ScheduleError(
            shown, "a schedule is a reports: folder and a jobs: list; see the example schedule"
        )
    for key in tree:
        if key not in TOP_KEYS:
            raise ScheduleError(
                shown,
                f"unknown key '{_shown(key)}'; {did_you_mean(_shown(key), TOP_KEYS)}",
                key=_shown(key),
            )
    base = Path(path).resolve().parent
    reports = _reports(shown, tree.get("reports"), base)
    jobs_tree = tree.get("jobs")
    if not isinstance(jobs_tree, list) or not jobs_tree:
        raise ScheduleError(shown, "a schedule needs a jobs: list with at least one job")
    today = today or date.today()
    jobs = [
        _job(shown, number, body, base, reports, today)
        for number, body in enumerate(jobs_tree, start=1)
    ]
    _check_unique(shown, jobs, today)
    return jobs


def run_jobs(
    jobs: list[Job], *, today: date | None = None, progress: Callable[[str], None] = print
) -> dict[str, str]:
    """Run every job, whatever happens to the ones before it; return each job's outcome:
    'ok', or one sentence saying what went wrong."""
    from .runner import run

    today = today or date.today()
    outcomes: dict[str, str] = {}
    home = os.getcwd()
    for job in jobs:
        progress(f"Job {job.name}: starting.")
        try:
            done = run(job.spec(today), progress=progress)
        except YpsiError as error:
            outcomes[job.name] = f"failed: {error}"
        except OSError as error:
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            outcomes[job.name] = (
                f"failed: the system refused a file operation{where}: "
                f"{error.strerror or type(error).__name__}; check the path, its permissions "
                "and the free disk space."
            )
        except Exception as error:  # a defect of ours must not stop the jobs after it
            if os.environ.get("YPSI_DEBUG"):
                raise
            outcomes[job.name] = (
                f"failed: an internal error ({type(error).__name__}) stopped this job; run it "
                "again with YPSI_DEBUG=1 to see the details, and report it."
            )
        else:
            held = int(done.quarantined)
            outcomes[job.name] = (
                "ok"
                if not held
                else f"written, but {held} rows were held back (see its data quality page)"
            )
        finally:
            # a job leaves the process where it started (papermill changes the working
            # folder while a notebook runs), so the next job, and the caller, start there too
            _return_to(home)
        progress(f"Job {job.name}: {outcomes[job.name]}")
    return outcomes


def _return_to(home: str) -> None:
    try:
        here: str | None = os.getcwd()
    except FileNotFoundError:  # the folder it was left in is gone
        here = None
    if here != home:
        os.chdir(home)


# ---------------------------------------------------------------------------- checking


def _shown(value: Any) -> str:
    """A key as written (configuration, so safe to repeat), shortened."""
    text = str(value)
    return (
        text
        if len(text) <= 40 and text.isprintable()
        else text[:40].encode("ascii", "backslashreplace").decode("ascii")
    )


def _reports(path: str, value: Any, base: Path) -> Path:
    if value is None:
        raise ScheduleError(
            path,
            "a schedule needs a reports: folder (relative to the schedule file) that every "
            "job's output goes under",
            key="reports",
        )
    text = _text(path, None, "reports", value)
    return (base / text).resolve()


def _text(path: str, job: str | None, key: str, value: Any) -> str:
    numbers_too = key == "sheet"  # a sheet may be called 2024
    if not isinstance(value, str) and not (
        numbers_too and isinstance(value, int) and not isinstance(value, bool)
    ):
        raise ScheduleError(path, f"{key} must be a piece of text", job=job, key=key)
    text = str(value).strip()
    if not text:
        raise ScheduleError(path, f"{key} is empty", job=job, key=key)
    if len(text) > TEXT_LIMIT or not text.isprintable():
        raise ScheduleError(
            path,
            f"{key} is longer than {TEXT_LIMIT} characters or holds control characters",
            job=job,
            key=key,
        )
    return text


def _job(path: str, number: int, body: Any, base: Path, reports: Path, today: date) -> Job:
    label = f"job {number}"
    if not isinstance(body, dict):
        raise ScheduleError(path, "each job must be a set of name: value lines", job=label)
    name = body.get("name")
    if isinstance(name, str) and NAME.fullmatch(name):
        label = f"job '{name}'"
    for key in body:
        if key not in JOB_KEYS:
            raise ScheduleError(
                path,
                f"unknown key '{_shown(key)}'; {did_you_mean(_shown(key), JOB_KEYS)}",
                job=label,
                key=_shown(key),
            )
    for key in REQUIRED:
        if body.get(key) is None:
            raise ScheduleError(path, f"every job needs {key}:", job=label, key=key)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ScheduleError(
            path,
            "a job name is 1 to 64 letters, digits, '-' and '_' (it becomes part of a folder name)",
            job=label,
            key="name",
        )
    checked = _Fields(path, label, body)
    options: dict[str, Any] = {
        "policy": checked.text("policy", DEFAULT_POLICY),
        "params": checked.params(),
        "compare_with": checked.text("compare_with"),
        "audience": checked.spec_field("audience", "check_audience", "internal"),
        "threshold": checked.spec_field("threshold", "check_threshold"),
        "title": checked.spec_field("title", "check_title"),
        "period": checked.spec_field("period", "check_period"),
        "settings": checked.spec_field("settings", "check_settings"),
        "sheet": checked.text("sheet"),
        "pdf": checked.flag("pdf"),
        "engine": checked.spec_field("engine", "check_engine"),
        "memory_limit": checked.spec_field("memory_limit", "check_memory_limit"),
    }
    checked.engine_input(options["engine"])
    mapping = checked.text("mapping")
    if mapping is not None:
        options["mapping"] = str(base / mapping)
    secret = checked.text("secret")  # the cell-key secret file, relative to this file
    if secret is not None:
        options["secret"] = str(base / Path(secret).expanduser())
    out = checked.pattern("out", DEFAULT_OUT)
    job = Job(
        name=name,
        input=str(base / checked.text("input")),
        out=out,
        reports=str(reports),
        source=path,
        options={k: v for k, v in options.items() if v is not None},
    )
    _folder(job, today)  # the pattern stays inside reports:
    return job


@dataclass
class _Fields:
    """Checks of one job's fields, each error naming the file, the job and the field."""

    path: str
    job: str
    body: Mapping[str, Any]

    def fail(self, key: str, problem: str) -> ScheduleError:
        return ScheduleError(self.path, problem, job=self.job, key=key)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.body.get(key)
        if value is None:
            return default
        return _text(self.path, self.job, key, value)

    def flag(self, key: str) -> bool:
        value = self.body.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, f"{key} must be true or false")
        return value

    def params(self) -> dict[str, Any] | None:
        value = self.body.get("params")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail("params", "params must be name: value lines, one per parameter")
        for name, item in value.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise self.fail("params", f"'{_shown(name)}' is not a parameter name")
            if isinstance(item, dict | list) or item is None:
                raise self.fail("params", f"{name} must be a single value such as 3 or nude")
        return dict(value)

    def spec_field(self, key: str, check: str, default: Any = None) -> Any:
        """A field checked by the same function the command line uses (`spec.py`), so a
        schedule can never ask for what the command refuses (a threshold of 0, say)."""
        from . import spec

        value = self.body.get(key, default)
        if value is None:
            return None
        if key == "settings" and not isinstance(value, str | list):
            raise self.fail(key, "settings must be a list of setting codes such as [S01, S02]")
        if key in ("period", "title", "audience", "engine", "memory_limit") and not isinstance(
            value, str
        ):
            raise self.fail(key, f"{key} must be a piece of text{_example(key)}")
        try:
            return getattr(spec, check)(value)
        except spec.SpecError as error:
            raise self.fail(key, str(error)) from None

    def engine_input(self, engine: str | None) -> None:
        """The DuckDB engine takes no mapping: and no sheet: (as on the command line)."""
        from . import spec

        for key in ("mapping", "sheet"):
            try:
                spec.check_engine_input(engine or "pandas", **{key: self.body.get(key)})
            except spec.SpecError as error:
                raise self.fail(key, str(error)) from None

    def pattern(self, key: str, default: str) -> str:
        """An output folder pattern: relative, no '..', only the documented fields."""
        text = self.text(key, default) or default
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError:
            raise self.fail(key, "a { or } is not closed; write {{ or }} for a brace") from None
        for _, field_name, spec, conversion in parts:
            if field_name is None:
                continue
            if field_name not in PATTERN_FIELDS or spec or conversion:
                raise self.fail(
                    key,
                    f"'{{{_shown(field_name)}}}' is not allowed; an output pattern may use only "
                    "{name}, {period} and {date}",
                )
        pieces = Path(text.replace("\\", "/")).parts
        if "\\" in text or Path(text).is_absolute() or ".." in pieces:
            raise self.fail(
                key,
                "an output pattern is a folder under reports: (no '..', no leading '/' and no "
                "backslash)",
            )
        return text


def _example(key: str) -> str:
    return {
        "period": " such as 2024-25",
        "audience": ": internal or publication",
        "engine": ": pandas or duckdb",
        "memory_limit": " such as 4GB",
    }.get(key, "")


def _folder(job: Job, today: date) -> Path:
    period = job.options.get("period") or "all"
    relative = job.out.format(name=job.name, period=period, date=today.isoformat())
    root = Path(job.reports)
    target = root / relative
    resolved = target.resolve()
    if resolved == root.resolve() or root.resolve() not in resolved.parents:
        raise ScheduleError(
            job.source,
            "the output folder must be inside the schedule's reports: folder, not the folder "
            "itself (a report set replaces the whole folder it is written to)",
            job=f"job '{job.name}'",
            key="out",
        )
    return target


def _check_unique(path: str, jobs: list[Job], today: date) -> None:
    names: set[str] = set()
    folders: dict[Path, str] = {}
    for job in jobs:
        if job.name in names:
            raise ScheduleError(
                path, "two jobs have this name; give each its own", job=f"job '{job.name}'"
            )
        names.add(job.name)
        folder = job.folder(today).resolve()
        for other, owner in folders.items():
            if folder == other or other in folder.parents or folder in other.parents:
                raise ScheduleError(
                    path,
                    f"writes into the same folder as job '{owner}' (or one inside it); put "
                    "{name} in out:",
                    job=f"job '{job.name}'",
                    key="out",
                )
        folders[folder] = job.name
