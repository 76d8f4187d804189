"""`ypsi-audit impact`: what changing policy (or its parameters) would have meant.

The recipe: check both sides' policies and parameters; gate the log once; compare the
two assessments incident by incident (and sweep a parameter if asked); save the
comparison for the impact notebook; run it; write the flipped incidents to follow-up
files (never into the page) and the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .runner import ReportRun, _run_notebook


def run_impact(
    source: str | Path,
    out_dir: str | Path,
    *,
    before: str,
    after: str | None = None,
    before_params: Mapping[str, Any] | None = None,
    after_params: Mapping[str, Any] | None = None,
    sweep: str | None = None,
    settings: Sequence[str] | None = None,
    threshold: int = 5,
    suppression: bool = True,
    mapping: str | Path | None = None,
    progress: Callable[[str], None] = print,
) -> ReportRun:
    from ..assessing import load_checked_mapping
    from ..impact import compare, flipped_cases, parse_sweep
    from ..impact import sweep as run_sweep
    from ..manifest import dumps, input_record, new_manifest, policy_record
    from ..policy import load_policy
    from ..validation import run_gate
    from ..writing import write_table, write_text

    old = load_policy(before)
    new = load_policy(after or before)
    old_values = old.resolve_params(before_params)
    new_values = new.resolve_params(after_params)
    swept = parse_sweep(sweep) if sweep else None
    if swept:
        old.resolve_params({swept[0]: swept[1][0]})  # an unknown name fails before the data
    out = Path(out_dir)
    progress(f"Checking {source} ...")
    gate = run_gate(source, mapping=load_checked_mapping(mapping))
    frame = gate.frame
    if settings:
        frame = frame[frame["setting_id"].isin(list(settings)).to_numpy()]
    comparison = compare(frame, old, new, old_values, new_values)
    work = out / "work"
    write_table(comparison, work / "comparison.parquet")
    sweep_path = None
    if swept:
        progress(f"Sweeping {swept[0]} over {len(swept[1])} values ...")
        table = run_sweep(frame, old, swept[0], swept[1], old_values)
        sweep_path = work / "sweep.parquet"
        write_table(table, sweep_path)
    parameters = {
        "comparison_path": str((work / "comparison.parquet").resolve()),
        "sweep_path": None if sweep_path is None else str(sweep_path.resolve()),
        "sweep_name": swept[0] if swept else None,
        "before": _describe(old, old_values),
        "after": _describe(new, new_values),
        "tables_dir": str((out / "tables").resolve()),
        "input_name": Path(source).name,
        "threshold": threshold if suppression else 0,
    }
    run = ReportRun(out, quarantined=len(gate.quarantined))
    run.statuses["impact"] = _run_notebook("impact", out, parameters, suppression, progress)
    flips = flipped_cases(comparison)
    write_table(flips, out / "flipped_incidents.csv")
    write_table(flips, out / "flipped_incidents.xlsx")
    manifest = new_manifest(
        "impact",
        input=input_record(source, mapping),
        before=policy_record(old, old_values),
        after=policy_record(new, new_values),
        sweep=None if not swept else {"parameter": swept[0], "values": swept[1]},
        settings=list(settings) if settings else None,
        disclosure={"suppression": suppression, "threshold": threshold if suppression else None},
        rows={
            "read": gate.rows_read,
            "assessed": len(frame),
            "quarantined": len(gate.quarantined),
            "flipped": len(flips),
        },
        notebooks=run.statuses,
    )
    write_text(dumps(manifest), out / "manifest.json")
    return run


def _describe(policy: Any, values: Mapping[str, Any]) -> str:
    """A policy and the parameters that differ from its defaults, for page headings."""
    changed = {k: v for k, v in values.items() if v != policy.parameters[k].default}
    if not changed:
        return policy.label
    return policy.label + " with " + ", ".join(f"{k}={v}" for k, v in changed.items())
