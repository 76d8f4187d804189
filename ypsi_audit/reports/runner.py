"""`ypsi-audit report`: run every report notebook on one log and publish the results.

The recipe: check the policy; gate and assess the log once; save the assessed rows for
the notebooks (in the output folder, owner-only); run each notebook with papermill;
turn each into an offline HTML page; write the case list for follow-up and the
manifest. A notebook that fails keeps its partial output, the others still run, and the
command ends non-zero naming the notebook and the cell.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import resources

NOTEBOOK_DIR = resources.notebook_dir()
REPORTS: tuple[str, ...] = ("data_quality", "escalation", "recording", "fairness")


@dataclass
class ReportRun:
    out_dir: Path
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantined: int = 0

    @property
    def ok(self) -> bool:
        return all(s["status"] == "ok" for s in self.statuses.values())


def run_report(
    source: str | Path,
    out_dir: str | Path,
    *,
    policy: str = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    period: str | None = None,
    settings: Sequence[str] | None = None,
    threshold: int = 5,
    suppression: bool = True,
    mapping: str | Path | None = None,
    reports: Sequence[str] = REPORTS,
    progress: Callable[[str], None] = print,
) -> ReportRun:
    """Produce the report set for one log under `out_dir`."""
    from ..assessing import load_checked_mapping
    from ..engine import assess
    from ..manifest import dumps, input_record, new_manifest, policy_record
    from ..policy import load_policy
    from ..validation import run_gate
    from ..writing import write_table, write_text
    from .cases import cases_for_review

    chosen = load_policy(policy)
    values = chosen.resolve_params(params)
    out = Path(out_dir)
    progress(f"Checking {source} ...")
    gate = run_gate(source, mapping=load_checked_mapping(mapping))
    assessed = assess(gate.frame, chosen, values, with_states=True)
    work = out / "work"
    write_table(assessed, work / "assessed.parquet", index=True)
    write_text(
        json.dumps(
            {**gate.summary(), "reconciliation": gate.reconciliation()}, indent=2, default=str
        ),
        work / "gate.json",
    )
    parameters = {
        "assessed_path": str((work / "assessed.parquet").resolve()),
        "gate_path": str((work / "gate.json").resolve()),
        "tables_dir": str((out / "tables").resolve()),
        "input_name": Path(source).name,
        "period": period,
        "policy": chosen.label,
        "params": values,
        "settings": list(settings) if settings else None,
        "threshold": threshold if suppression else 0,
    }
    run = ReportRun(out, quarantined=len(gate.quarantined))
    for name in reports:
        run.statuses[name] = _run_notebook(name, out, parameters, suppression, progress)
    cases = cases_for_review(assessed, settings=settings)
    write_table(cases, out / "cases_for_review.csv")
    write_table(cases, out / "cases_for_review.xlsx")
    manifest = new_manifest(
        "report",
        input=input_record(source, mapping),
        policy=policy_record(chosen, values),
        period=period,
        settings=list(settings) if settings else None,
        disclosure={"suppression": suppression, "threshold": threshold if suppression else None},
        rows={
            "read": gate.rows_read,
            "assessed": len(assessed),
            "quarantined": len(gate.quarantined),
        },
        notebooks=run.statuses,
    )
    write_text(dumps(manifest), out / "manifest.json")
    return run


def _run_notebook(
    name: str,
    out: Path,
    parameters: dict[str, Any],
    suppression: bool,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Execute one notebook and export its page; never raise for a failing cell."""
    import papermill as pm

    from ..writing import write_text
    from .html import notebook_to_html

    source = NOTEBOOK_DIR / f"{name}.ipynb"
    executed = out / f"{name}.ipynb"
    progress(f"Running the {name.replace('_', ' ')} report ...")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        pm.execute_notebook(
            str(source),
            str(executed),
            parameters=parameters,
            cwd=str(NOTEBOOK_DIR),
            progress_bar=False,
            kernel_name="python3",
            log_output=False,
            kernel_manager_class=_local_kernel_manager(),
        )
    except pm.PapermillExecutionError as error:
        progress(f"  failed: {name} cell {error.exec_count} raised {error.ename}: {error.evalue}")
        return {
            "status": "failed",
            "cell": error.exec_count,
            "error": error.ename,
            "message": str(error.evalue)[:300],
            "notebook": str(executed),
        }
    banner = "" if suppression else _NO_SUPPRESSION_BANNER
    page = out / f"{name}.html"
    write_text(notebook_to_html(executed, banner=banner), page)
    progress(f"  wrote {page}")
    return {"status": "ok", "notebook": str(executed), "html": str(page)}


def _local_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over local IPC files, not TCP ports:
    nothing about a report run listens on, or connects to, a network address."""
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            # the IPC files live in a private temporary folder, not beside the notebooks
            self.ip = os.path.join(tempfile.mkdtemp(prefix="ypsi-kernel-"), "kernel")

    return LocalKernelManager


_NO_SUPPRESSION_BANNER = (
    '<div role="alert" style="background:#fde7e9;border:2px solid #b00020;padding:12px;'
    'margin:12px;font:16px sans-serif"><strong>Restricted: small numbers are NOT hidden in '
    "this report.</strong> It was made with --no-suppression for internal use only and must "
    "not be shared outside the safeguarding team.</div>"
)


def main_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
