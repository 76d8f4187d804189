"""Small helpers shared by the tests: build contract-typed frames from plain records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ypsi_audit import contract

BASE: dict[str, Any] = {
    "incident_id": "T1",
    "setting_id": "S01",
    "incident_type": "image_sharing",
    "reported_on": "2025-03-03",
}


def frame_of(
    records: Iterable[Mapping[str, Any]], *, base: Mapping[str, Any] = BASE
) -> pd.DataFrame:
    """A frame in the contract's dtypes; fields a record leaves out are blank."""
    rows = [{**base, **record} for record in records]
    columns: dict[str, Any] = {}
    for spec in contract.COLUMNS:
        values = [row.get(spec.name) for row in rows]
        if spec.kind == "bool":
            columns[spec.name] = pd.array(values, dtype="boolean")
        elif spec.kind in ("category", "ordinal"):
            columns[spec.name] = pd.Categorical(
                values, categories=spec.codes, ordered=spec.kind == "ordinal"
            )
        elif spec.kind == "int":
            columns[spec.name] = pd.array(values, dtype="Int64")
        elif spec.kind == "date":
            columns[spec.name] = pd.to_datetime(pd.Series(values, dtype="object"))
        else:
            columns[spec.name] = pd.array(values, dtype="string")
    return pd.DataFrame(columns)


# Every Cheshire factor recorded as absent: a case the guidance leaves to the setting.
NO_FACTORS: dict[str, Any] = {
    "youngest_child_age": 15,
    "oldest_party_age": 15,
    "adult_involved": False,
    "multiple_victims": False,
    "in_relationship": True,
    "content_level": "nude",
    "content_violent_or_atypical": False,
    "distribution": "between_parties",
    "threats_or_coercion": False,
    "harassment": False,
    "grooming_or_exploitation_suspected": False,
}


NOTEBOOK_TIMEOUT_S = 600  # a cell that hangs fails the test instead of stalling the suite


def run_notebook(
    source: Path, target: Path, cwd: Path, parameters: dict[str, Any] | None = None
) -> None:
    """Execute a notebook as a report run does: its kernel over local IPC files (no TCP
    port to race for), started in `cwd`, with a time limit per cell."""
    import papermill as pm

    from ypsi_audit.reports.runner import kernel_folder, local_kernel_manager

    with kernel_folder() as kernels:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=parameters or {},
            progress_bar=False,
            kernel_name="python3",
            log_output=False,
            execution_timeout=NOTEBOOK_TIMEOUT_S,
            kernel_manager_class=local_kernel_manager(kernels, cwd),
        )
