"""`ypsi-audit run CONFIG.yaml`: the report jobs a trust runs every term, from cron.

A config lists jobs; each names its input, period, policy, parameters, settings and an
output folder pattern that may use {name}, {period} and {date}. A job that fails is
reported and the next one still runs; the exit code says whether all succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import InputError, YpsiError, did_you_mean

JOB_KEYS = (
    "name",
    "input",
    "out",
    "period",
    "policy",
    "params",
    "settings",
    "threshold",
    "suppression",
    "mapping",
)


@dataclass(frozen=True)
class Job:
    name: str
    input: str
    out: str
    period: str | None = None
    policy: str = "cheshire-quick-guide"
    params: dict[str, Any] | None = None
    settings: list[str] | None = None
    threshold: int = 5
    suppression: bool = True
    mapping: str | None = None

    def folder(self, today: date) -> Path:
        return Path(
            self.out.format(name=self.name, period=self.period or "all", date=today.isoformat())
        )


def load_jobs(path: str | Path) -> list[Job]:
    """Read and check a schedule file; paths in it are relative to the file."""
    import yaml

    shown = str(path)
    try:
        tree = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(shown, "the schedule file does not exist") from None
    except (OSError, yaml.YAMLError):
        raise InputError(shown, "the schedule file is not readable YAML") from None
    if not isinstance(tree, dict) or not isinstance(tree.get("jobs"), list) or not tree["jobs"]:
        raise InputError(shown, "a schedule needs a 'jobs' list")
    base = Path(path).resolve().parent
    jobs = []
    for number, body in enumerate(tree["jobs"], start=1):
        if not isinstance(body, dict):
            raise InputError(shown, f"job {number} must be a mapping")
        for key in body:
            if key not in JOB_KEYS:
                raise InputError(
                    shown,
                    f"job {number}: unknown key '{key}'",
                    hint=did_you_mean(str(key), JOB_KEYS),
                )
        for key in ("name", "input", "out"):
            if key not in body:
                raise InputError(shown, f"job {number} has no '{key}'")
        settings = body.get("settings")
        jobs.append(
            Job(
                name=str(body["name"]),
                input=str(base / str(body["input"])),
                out=str(base / str(body["out"])),
                period=None if body.get("period") is None else str(body["period"]),
                policy=str(body.get("policy", "cheshire-quick-guide")),
                params=dict(body.get("params") or {}),
                settings=[str(s) for s in settings] if settings else None,
                threshold=int(body.get("threshold", 5)),
                suppression=bool(body.get("suppression", True)),
                mapping=None if body.get("mapping") is None else str(base / str(body["mapping"])),
            )
        )
    return jobs


def run_jobs(
    jobs: list[Job], *, today: date | None = None, progress: Callable[[str], None] = print
) -> dict[str, str]:
    """Run every job; return each job's outcome ('ok', or why it failed)."""
    from .runner import run_report

    today = today or date.today()
    outcomes: dict[str, str] = {}
    for job in jobs:
        folder = job.folder(today)
        progress(f"Job {job.name}: {job.input} -> {folder}")
        try:
            run = run_report(
                job.input,
                folder,
                policy=job.policy,
                params=job.params,
                period=job.period,
                settings=job.settings,
                threshold=job.threshold,
                suppression=job.suppression,
                mapping=job.mapping,
                progress=progress,
            )
        except YpsiError as error:
            outcomes[job.name] = f"failed: {error}"
        else:
            failed = [n for n, s in run.statuses.items() if s["status"] != "ok"]
            outcomes[job.name] = "ok" if not failed else "failed: " + ", ".join(failed)
        progress(f"Job {job.name}: {outcomes[job.name]}")
    return outcomes
