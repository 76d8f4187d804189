"""The `assess` job as a recipe: check the policy, read the log, assess, write, account."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import YpsiError

OUTPUT_SUFFIXES = (".csv", ".parquet")


def assess_file(
    source: str | Path,
    out: str | Path,
    *,
    policy: str = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    sheet: str | None = None,
) -> str:
    """Assess one log file and write the results; return a short plain-English summary."""
    from .engine import assess
    from .loading import load_incidents
    from .manifest import dumps, new_manifest, sha256
    from .policy import load_policy
    from .writing import write_table, write_text

    chosen = load_policy(policy)
    values = chosen.resolve_params(params)  # a bad policy or parameter stops us before the data
    target = _check_output(source, out)
    frame = load_incidents(source, sheet=sheet)
    assessed = assess(frame, chosen, values)
    write_table(assessed, target)
    manifest = new_manifest(
        "assessment",
        input={"path": str(source), "sha256": sha256(source)},
        policy={
            "id": chosen.id,
            "version": chosen.version,
            "label": chosen.label,
            "file": chosen.path,
            "parameters": values,
        },
        rows={"read": len(frame), "assessed": len(assessed)},
        output=str(target),
    )
    manifest_path = target.with_name(target.stem + ".manifest.json")
    write_text(dumps(manifest), manifest_path)
    return summarise(assessed, chosen.label, target, manifest_path)


def _check_output(source: str | Path, out: str | Path) -> Path:
    target = Path(out)
    if target.suffix.lower() not in OUTPUT_SUFFIXES:
        raise YpsiError(f"--out {out}: the output must end in .csv or .parquet.")
    if Path(source).exists() and target.exists() and target.resolve() == Path(source).resolve():
        raise YpsiError(f"--out {out}: that is the input file; the input is never overwritten.")
    return target


def summarise(assessed: Any, label: str, target: Path, manifest_path: Path) -> str:
    """A few lines a safeguarding lead can read at the terminal."""
    n = len(assessed)
    outcomes = assessed["guidance_outcome"].value_counts()
    consistency = assessed["consistency"].value_counts()

    def part(counts: Any, names: tuple[str, ...]) -> str:
        return ", ".join(f"{int(counts.get(name, 0)):,} {name}" for name in names)

    gaps = int((assessed["recording_gaps"].astype(str) != "").sum())
    return "\n".join(
        [
            f"Assessed {n:,} incidents against {label}.",
            "Guidance: "
            + part(outcomes, ("refer_police", "handle_in_setting", "insufficient_information"))
            + ".",
            "Decisions: "
            + part(
                consistency,
                (
                    "consistent_referral",
                    "consistent_in_setting",
                    "under_escalation",
                    "over_escalation",
                    "no_decision",
                    "unassessable",
                ),
            )
            + ".",
            f"Incidents with at least one recording gap: {gaps:,}.",
            f"Wrote {target} and {manifest_path}.",
        ]
    )
