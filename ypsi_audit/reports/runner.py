"""`ypsi-audit report` and `impact`: one run specification in, one whole report set out.

The recipe (`run`): lock the output folder and stage the set beside it; gate and assess
the log once; build every page in this process from one ledger (for a publication:
protect it and audit it as an attacker would, or stop); run each page's notebook with
papermill, which only shows the sections built here; turn each into an inert page; write
the front page, the tables, the case lists for the safeguarding leads (internal only)
and the manifest; move the finished set into place. A failure anywhere leaves nothing in
the output folder: the run ends with one sentence saying what failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import resources
from ..errors import YpsiError
from .spec import RunSpec

Progress = Callable[[str], None]


class NotebookFailed(YpsiError):
    """A report notebook failed: nothing was written to the output folder (exit 3)."""

    exit_code = 3


@dataclass
class ReportRun:
    out_dir: Path
    pages: list[str] = field(default_factory=list)
    quarantined: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)


def page_names(spec: RunSpec) -> list[str]:
    from .pages import IMPACT_PAGES, REGISTRY

    return list(IMPACT_PAGES) if spec.command == "impact" else list(REGISTRY)


def run(spec: RunSpec, progress: Progress = print) -> ReportRun:
    """Produce the whole report set `spec` describes, or nothing."""
    from ..outputs import Inputs
    from .folder import report_folder

    inputs = Inputs.of(spec.input, spec.mapping, *_policy_files(spec))
    with report_folder(spec.out, inputs) as stage:
        log, gate = _assess(spec, progress)
        from ..manifest import sha256

        spec = spec.with_(work="work", input_sha256=sha256(spec.input))
        work = stage.path / "work"
        (work / "pages").mkdir(parents=True, mode=0o700)
        names = page_names(spec)
        progress("Building the pages ...")
        pages, ledger, audit = _build(log, spec, names)
        if ledger.audit_line:
            progress(ledger.audit_line)
        for name, page in pages.items():
            _write(work / "pages" / f"{name}.json", page.to_json())
        versions = _versions()
        report_id = spec.report_id(versions)
        shells = _shells(spec, pages, report_id, audit)
        _run_notebooks(names, spec, stage.path, shells, progress)
        from .front import front_page

        _write(stage.path / "index.html", front_page(spec, pages, shells["index"]))
        from .tables import write_tables

        write_tables(ledger, stage.path / "tables", spec)
        if not spec.publication:
            _follow_up(log, spec, names, stage.path)
        if spec.pdf:
            from .pdf import write_pdfs

            progress("Printing the pages to PDF ...")
            write_pdfs(stage.path, ["index", *names])
        shutil.rmtree(work)
        manifest = _manifest(spec, gate, report_id, versions, audit, stage.path, len(log.frame))
        if ledger.keep is not None:
            ledger.keep()  # first: a pack published but unregistered would go unchecked
        stage.commit()
    progress(f"Wrote the report set to {spec.out}.")
    return ReportRun(Path(spec.out), names, int(gate.get("rows_quarantined", 0)), manifest)


# ---------------------------------------------------------------------------- steps


def _policy_files(spec: RunSpec) -> list[str]:
    return [
        ref.given
        for ref in (spec.policy, spec.compare_with)
        if ref is not None and Path(ref.given).is_file()
    ]


def absent_settings(absent: Sequence[str], source: str) -> str:
    """A note for settings asked for that the log has no incident of (often a typing
    slip: the report for them is empty)."""
    names = ", ".join(absent)
    one = len(absent) == 1
    return (
        f"Note: {'setting' if one else 'settings'} {names} {'has' if one else 'have'} no "
        f"assessed incident in {source}; check the code{'' if one else 's'} given to "
        f"--settings (the pages for {'it' if one else 'them'} say there is nothing to review)."
    )


def _assess(spec: RunSpec, progress: Progress) -> tuple[Any, dict[str, Any]]:
    from .assessed import AssessedLog

    progress(f"Checking and assessing {spec.input} ...")
    log = AssessedLog.assess(spec)
    if log.absent:
        progress(absent_settings(log.absent, spec.input))
    return log, log.gate


def _build(log: Any, spec: RunSpec, names: Sequence[str]) -> tuple[dict, Any, dict]:
    from .pages import build_pages

    protect = None
    if spec.publication:
        from .protect import protector

        protect = protector(spec, log)
    pages, ledger = build_pages(log, spec, names, protect=protect)
    return pages, ledger, dict(ledger.audit)


FOLLOW_UP = "follow_up"  # the folder of incident-level lists for the safeguarding leads


def _follow_up(log: Any, spec: RunSpec, names: Sequence[str], folder: Path) -> None:
    """Incident-level lists for the safeguarding leads, in their own folder of the set:
    internal audience only, never in a page."""
    from .pages import module

    for name in names:
        write = getattr(module(name), "follow_up", None)
        if write is not None:
            target = folder / FOLLOW_UP
            target.mkdir(exist_ok=True, mode=0o700)
            write(log, spec, target)


def _write(path: Path, text: str) -> None:
    from ..writing import write_text

    write_text(text, path)


def _versions() -> dict[str, str]:
    from ..manifest import versions

    return versions()


def _shells(spec: RunSpec, pages: dict, report_id: str, audit: dict) -> dict[str, Any]:
    from .front import shell_for

    return {name: shell_for(spec, name, pages, report_id, audit) for name in ["index", *pages]}


def _run_notebooks(
    names: Sequence[str], spec: RunSpec, folder: Path, shells: dict, progress: Progress
) -> None:
    """Run the notebooks two at a time (the machine has two cores) and export each."""
    with kernel_folder() as kernels, ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {
            name: pool.submit(_run_one, name, spec, folder, shells[name], kernels, progress)
            for name in names
        }
        errors = [job.exception() for job in jobs.values() if job.exception() is not None]
    if errors:
        raise errors[0]


def _run_one(
    name: str, spec: RunSpec, folder: Path, shell: Any, kernels: Path, progress: Progress
) -> None:
    import papermill as pm

    from .html import notebook_page

    executed = folder / f"{name}.ipynb"
    progress(f"Running the {name.replace('_', ' ')} notebook ...")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        pm.execute_notebook(
            str(resources.notebook_dir() / f"{name}.ipynb"),
            str(executed),
            parameters={"spec": _kernel_spec(spec)},
            progress_bar=False,
            kernel_name="python3",
            log_output=False,
            kernel_manager_class=local_kernel_manager(kernels, folder),
        )
    except pm.PapermillExecutionError as error:
        kept = _keep_failed(executed, spec)
        raise NotebookFailed(
            f"the {name.replace('_', ' ')} report failed in cell {error.exec_count} "
            f"({error.ename}); nothing was written to {spec.out}; the failed notebook is "
            f"{kept}."
        ) from None
    normalise_notebook(executed)
    _write(folder / f"{name}.html", notebook_page(executed, shell))
    progress(f"  {name.replace('_', ' ')} page done")


def _kernel_spec(spec: RunSpec) -> str:
    """The spec as a notebook gets it: where things are on this machine left out (the
    kernel needs only the work folder), so identical runs give identical notebooks."""
    return spec.with_(input=Path(spec.input).name, out="", mapping=None).to_json()


def _keep_failed(executed: Path, spec: RunSpec) -> Path:
    out = Path(spec.out)
    keep = out.parent / f".{out.name}.failed" / executed.name
    keep.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if executed.exists():
        shutil.copyfile(executed, keep)
        os.chmod(keep, 0o600)
    return keep


def normalise_notebook(path: Path) -> None:
    """Identical runs give identical notebooks: no timings, no random cell ids."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    tree.get("metadata", {}).pop("papermill", None)
    for number, cell in enumerate(tree.get("cells", [])):
        cell["id"] = (
            cell.get("id")
            if cell.get("id") and "injected" not in str(cell.get("metadata", {}).get("tags", []))
            else f"cell-{number}"
        )
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
    _write(path, json.dumps(tree, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def kernel_folder() -> Iterator[Path]:
    """A private folder for the kernels' IPC files, removed whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="ypsi-kernels-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def local_kernel_manager(folder: Path, cwd: Path) -> type:
    """A kernel manager that talks to its kernel over local IPC files, not TCP ports:
    nothing about a report run listens on, or connects to, a network address. The kernel
    starts in `cwd` (the staging folder), set for that kernel alone: papermill's own `cwd`
    changes the whole process's folder, which two notebooks run at once would race over."""
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(Path(tempfile.mkdtemp(dir=folder)) / "kernel")

        async def start_kernel(self, **kwargs: Any) -> None:
            kwargs["cwd"] = str(cwd)
            await super().start_kernel(**kwargs)

    return LocalKernelManager


def _manifest(
    spec: RunSpec,
    gate: dict[str, Any],
    report_id: str,
    versions: dict[str, str],
    audit: dict[str, Any],
    folder: Path,
    assessed: int,
) -> dict[str, Any]:
    from ..manifest import dumps, new_manifest
    from .folder import MANIFEST, set_files

    manifest = new_manifest(
        spec.command,
        report_id=report_id,
        pages=list(page_names(spec)),
        audience=spec.audience,
        title=spec.title,
        input=_input_record(spec),
        policy=_ref(spec.policy),
        compare_with=_ref(spec.compare_with) if spec.compare_with else None,
        period=spec.period,
        settings=list(spec.settings) if spec.settings else None,
        sweep=None if not spec.sweep else {"parameter": spec.sweep[0], "values": spec.sweep[1]},
        disclosure={"audience": spec.audience, "threshold": spec.threshold, **audit},
        engine={"name": spec.engine}
        | ({"memory_limit": spec.memory_limit} if spec.engine == "duckdb" else {}),
        # Exact row counts are themselves counts of incidents: a publication's only
        # counts are the protected ones on its pages (an outside attack pinned a count
        # of 4 from a per-setting pack's exact "assessed").
        rows=None
        if spec.publication
        else {
            "read": int(gate.get("rows_read", 0)),
            "assessed": assessed,
            "quarantined": int(gate.get("rows_quarantined", 0)),
        },
        files=set_files(folder),
    )
    manifest["versions"] = versions
    _write(folder / MANIFEST, dumps(manifest))
    return manifest


def _ref(ref: Any) -> dict[str, Any]:
    return {
        "given": ref.given,
        "label": ref.label,
        "sha256": ref.digest,
        "parameters": dict(ref.parameters),
        "document": dict(ref.document),
    }


def main_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def _input_record(spec: RunSpec) -> dict[str, Any]:
    """The log and mapping read. A publication names them by file name only: the folder
    they sit in on the trust's machine (often a user's name) is nobody else's business."""
    path, mapping = spec.input, spec.mapping
    if spec.publication:
        path = Path(path).name
        mapping = None if mapping is None else Path(mapping).name
    return {"path": path, "sha256": spec.input_sha256, "mapping": mapping}
