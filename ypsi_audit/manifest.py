"""Provenance for every output: which input, policy version and parameters made it.

Like a policy engine's decision log, the manifest lets anyone trace a published number
back to the exact file (by its SHA-256), the policy id@version and the parameter values,
and the library versions that computed it.
"""

from __future__ import annotations

import json
import platform
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = (
    "ypsi-audit",
    "pandas",
    "numpy",
    "pyarrow",
    "pyyaml",
    "great-expectations",
    "papermill",
    "nbconvert",
    "altair",
    "vl-convert-python",
)


def sha256(path: str | Path) -> str:
    from .outputs import file_sha256

    return file_sha256(path)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def new_manifest(kind: str, **fields: Any) -> dict[str, Any]:
    """A manifest skeleton: run id, UTC time, versions, then the caller's fields."""
    from .outputs import MARKER, TOOL

    return {
        MARKER: TOOL,
        "kind": kind,
        "run_id": uuid.uuid4().hex[:12],
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        **fields,
    }


def input_record(source: str | Path, mapping: str | Path | None = None) -> dict[str, Any]:
    """Which file was read (by content, not only by name) and how its columns were mapped."""
    return {
        "path": str(source),
        "sha256": sha256(source),
        "mapping": None if mapping is None else str(mapping),
    }


def policy_record(policy: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The policy id@version, its file and every parameter value that made the answers."""
    return {
        "id": policy.id,
        "version": policy.version,
        "label": policy.label,
        "file": policy.path,
        "parameters": values,
    }


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n"
