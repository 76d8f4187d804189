"""The `assess` and `validate` jobs as recipes: check, read, gate, assess, write, account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import YpsiError

OUTPUT_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class JobResult:
    """What a job prints and the exit code it ends with (0 all good, 1 rows held back)."""

    text: str
    exit_code: int


def validate_file(
    source: str | Path, *, mapping: str | Path | None = None, sheet: str | None = None
) -> JobResult:
    """Run the validation gate only and describe what it found."""
    gate = _gate(source, mapping, sheet)
    lines = [
        f"{source}: {gate.rows_read:,} rows read, {gate.rows_valid:,} valid, "
        f"{len(gate.quarantined):,} would be held back."
    ]
    if len(gate.failures):
        lines += ["Failed checks:", *gate.failure_lines()]
    else:
        lines.append("Every row passed every check.")
    return JobResult("\n".join(lines), 1 if len(gate.failures) else 0)


def assess_file(
    source: str | Path,
    out: str | Path,
    *,
    policy: str = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    sheet: str | None = None,
    mapping: str | Path | None = None,
    strict: bool = False,
) -> JobResult:
    """Gate, assess and write one log; rows that fail a check go to a quarantine file.

    The output, the quarantine file and the manifest are checked before the log is read
    (none may be an input, or a file the tool did not write) and are written as a set:
    all of them or none.
    """
    from .engine import assess
    from .manifest import dumps, input_record, new_manifest, policy_record
    from .outputs import Inputs, carries_marker, claim, file_sha256
    from .policy import load_policy
    from .validation import RefusedInput
    from .writing import staged, write_table_to

    chosen = load_policy(policy)
    values = chosen.resolve_params(params)  # a bad policy or parameter stops us before the data
    target = _check_output(out)
    quarantine = target.with_name(target.stem + ".quarantine.csv")
    manifest_path = target.with_name(target.stem + ".manifest.json")
    inputs = Inputs.of(source, mapping, chosen.path if Path(chosen.path).is_file() else None)
    claim(
        [
            (target, "--out"),
            (quarantine, "the quarantine file"),
            (manifest_path, "the manifest file"),
        ],
        inputs,
        manifest_path,
    )
    stale = quarantine.exists() and carries_marker(quarantine, manifest_path)
    gate = _gate(source, mapping, sheet)
    if strict and len(gate.failures):
        raise RefusedInput(
            str(source),
            f"{len(gate.quarantined):,} rows fail the validation "
            "checks and --strict makes that fatal; nothing was written",
            hint="run 'ypsi-audit validate' to see them",
        )
    assessed = assess(gate.frame, chosen, values)
    held_back = len(gate.failures) > 0
    files = [target, *([quarantine] if held_back else []), manifest_path]
    with staged(files) as temps:
        write_table_to(assessed, temps[target], target.suffix)
        if held_back:
            write_table_to(gate.quarantine_table(), temps[quarantine], ".csv")
        manifest = new_manifest(
            "assessment",
            input=input_record(source, mapping),
            policy=policy_record(chosen, values),
            rows={
                "read": gate.rows_read,
                "assessed": len(assessed),
                "quarantined": len(gate.quarantined),
            },
            validation=gate.summary()["failures_by_check"],
            output=str(target),
            quarantine=str(quarantine) if held_back else None,
            files={path.name: file_sha256(temps[path]) for path in files[:-1]},
        )
        temps[manifest_path].write_text(dumps(manifest), encoding="utf-8")
    if stale and not held_back:
        quarantine.unlink()  # ours, from an earlier run, and no longer true
    lines = [summarise(assessed, chosen.label)]
    if held_back:
        lines += [
            f"{len(gate.quarantined):,} rows were held back; see {quarantine}:",
            *gate.failure_lines(),
        ]
    lines += [f"Wrote {target} and {manifest_path}.", gate.reconciliation()]
    return JobResult("\n".join(lines), 1 if held_back else 0)


def load_checked_mapping(mapping: str | Path | None) -> Any:
    """The mapping file, checked against the contract, or None."""
    from .mapping import load_mapping

    return None if mapping is None else load_mapping(mapping)


def _gate(source: str | Path, mapping: str | Path | None, sheet: str | None) -> Any:
    from .validation import run_gate

    return run_gate(source, mapping=load_checked_mapping(mapping), sheet=sheet)


def _check_output(out: str | Path) -> Path:
    target = Path(out)
    if target.suffix.lower() not in OUTPUT_SUFFIXES:
        raise YpsiError(f"--out {out}: the output must end in .csv or .parquet.")
    if target.name.lower().endswith((".quarantine.csv", ".manifest.csv")):
        raise YpsiError(
            f"--out {out}: that name is kept for the files written beside an output; "
            "choose another."
        )
    return target


def summarise(assessed: Any, label: str) -> str:
    """A few lines a safeguarding lead can read at the terminal."""
    outcomes = assessed["guidance_outcome"].value_counts()
    consistency = assessed["consistency"].value_counts()

    def part(counts: Any, names: tuple[str, ...]) -> str:
        return ", ".join(f"{int(counts.get(name, 0)):,} {name}" for name in names)

    from . import contract

    gaps = int((assessed["recording_gaps"].astype(str) != "").sum())
    return "\n".join(
        [
            f"Assessed {len(assessed):,} incidents against {label}.",
            "Guidance: " + part(outcomes, contract.OUTCOMES) + ".",
            "Decisions: " + part(consistency, contract.CONSISTENCY) + ".",
            f"Incidents with at least one recording gap: {gaps:,}.",
        ]
    )
