"""The assessed incidents a report is about, read once, with the policy that judged them.

`AssessedLog` holds the rows `evaluate` produced (every rule's state as a small integer
column) and the resolved policy they carry. Pages never evaluate a rule again, never
parse the `;`-joined text and never look a policy up by id: they read states from here.
`incidents()` gives the one incident-level frame of plain categories that every published
count is drawn from (the ledger's raw material).

With `spec.engine == "duckdb"` the gate and the policy run inside DuckDB, out of core
within the spec's memory limit (`duck_job.assess_file`); the assessed rows are then read
back into the frame the pandas engine gives (same columns and dtypes, the same resolved
policy in `frame.attrs`), with the gate's summary taken from the DuckDB job's manifest.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import contract, states
from ..stats import academic_year, term
from .spec import RunSpec

ASSESSED = "assessed.parquet"
GATE = "gate.json"


@dataclass
class AssessedLog:
    frame: pd.DataFrame  # every assessed row (all periods), states included
    policy: Any  # the Policy that made the states
    params: dict[str, Any]
    gate: dict[str, Any] = field(default_factory=dict)  # the gate's summary
    absent: tuple[str, ...] = ()  # settings asked for (--settings) with no assessed row

    # ------------------------------------------------------------------ building

    @classmethod
    def assess(cls, spec: RunSpec) -> AssessedLog:
        """Gate and assess the spec's input once (used when no runner did it: a notebook
        opened by hand, a test)."""
        if spec.engine == "duckdb":
            return cls.assess_in_duckdb(spec)
        from ..assessing import load_checked_mapping
        from ..engine import assess
        from ..validation import run_gate

        gate = run_gate(spec.input, mapping=load_checked_mapping(spec.mapping), sheet=spec.sheet)
        policy = spec.policy.policy()
        frame = assess(gate.frame, policy, spec.policy.parameters, with_states=True)
        summary = {**gate.summary(), "reconciliation": gate.reconciliation()}
        summary.pop("source", None)
        return cls.of(frame, summary, spec)

    @classmethod
    def assess_in_duckdb(cls, spec: RunSpec) -> AssessedLog:
        """Gate and assess in DuckDB into a private folder (removed whatever happens), then
        read the assessed rows back as the pandas engine gives them."""
        import pyarrow.parquet as pq

        from ..duck_job import assess_file

        policy = spec.policy.policy()
        with tempfile.TemporaryDirectory(prefix="ypsi-report-duckdb-") as folder:
            target = Path(folder) / ASSESSED  # mkdtemp: the owner's only (mode 700)
            assess_file(
                spec.input,
                target,
                policy=policy,
                params=spec.policy.parameters,
                memory_limit=spec.memory_limit,
                with_states=True,
            )
            manifest = json.loads(
                target.with_name(target.stem + ".manifest.json").read_text(encoding="utf-8")
            )
            table = pq.read_table(target)
        frame = duck_frame(table, policy, spec.policy.parameters, source=spec.input)
        return cls.of(frame, duck_gate(manifest), spec)

    @classmethod
    def of(
        cls, frame: pd.DataFrame, gate: dict[str, Any], spec: RunSpec | None = None
    ) -> AssessedLog:
        from ..engine import saved_policy

        policy, params = saved_policy(frame)
        absent: tuple[str, ...] = ()
        if spec is not None and spec.settings:
            ids = frame["setting_id"].astype(str)
            absent = tuple(s for s in spec.settings if not ids.eq(s).any())
            frame = frame[ids.isin(spec.settings).to_numpy()]
        return cls(frame=frame, policy=policy, params=params, gate=gate, absent=absent)

    def save(self, folder: Path) -> None:
        from ..writing import write_table, write_text

        write_table(self.frame, folder / ASSESSED, index=True)
        write_text(json.dumps(self.gate, indent=2, default=str), folder / GATE)

    @classmethod
    def load(cls, folder: str | Path) -> AssessedLog:
        folder = Path(folder)
        frame = pd.read_parquet(folder / ASSESSED)
        gate = json.loads((folder / GATE).read_text(encoding="utf-8"))
        return cls.of(frame, gate)

    # ------------------------------------------------------------------ reading

    @cached_property
    def year(self) -> pd.Series:
        return academic_year(self.frame["reported_on"])

    @cached_property
    def term(self) -> pd.Series:
        return term(self.frame["reported_on"])

    def in_period(self, period: str | None) -> np.ndarray:
        """Rows reported in the academic year (every row when no period is chosen)."""
        if not period:
            return np.ones(len(self.frame), dtype=bool)
        return (self.year == period).fillna(False).to_numpy(dtype=bool)

    def years(self) -> list[str]:
        return sorted(str(y) for y in self.year.dropna().unique())

    def state(self, section: str, rule_id: str) -> np.ndarray:
        return self.frame[states.column(section, rule_id)].to_numpy(dtype=np.int8)

    def tri(self, name: str) -> np.ndarray:
        """A three-valued state column such as `states.REFERRED` (0, 1, 2)."""
        return self.frame[name].to_numpy(dtype=np.int8)

    def codes(self, column: str, codes: tuple[str, ...]) -> np.ndarray:
        """A categorical column as positions in `codes` (-1 blank)."""
        values = self.frame[column].astype(pd.CategoricalDtype(list(codes)))
        return np.asarray(values.cat.codes)

    def rule_title(self, section: str, rule_id: str) -> str:
        for rule in self.policy.rules(section):
            if rule.id == rule_id:
                return rule.title
        raise KeyError(rule_id)

    @property
    def route(self) -> str:
        return self.policy.referral.route

    @property
    def has_scope(self) -> bool:
        return self.policy.scope is not None

    def consistency(self) -> np.ndarray:
        return self.codes("consistency", contract.CONSISTENCY)

    def outcome(self) -> np.ndarray:
        return self.codes("guidance_outcome", contract.OUTCOMES)


# ------------------------------------------------------------------------------ DuckDB


def duck_frame(table: Any, policy: Any, params: Any, *, source: str = "") -> pd.DataFrame:
    """The DuckDB job's assessed rows (an Arrow table) in the pandas engine's dtypes:
    contract columns as `parsing.build` makes them, output columns as `duck.typed_outputs`,
    and the resolved policy in `frame.attrs` as `engine.output_frame` puts it. The index is
    a plain range (the pages match rows by position, never by input row number)."""
    import pyarrow as pa

    from ..duck import typed_outputs
    from ..engine import policy_attr

    columns: dict[str, Any] = {}
    for column in contract.COLUMNS:
        columns[column.name] = _contract_array(column, table.column(column.name), pa)
    frame = pd.DataFrame(columns, copy=False)
    rest = [name for name in table.column_names if name not in contract.BY_NAME]
    outputs = typed_outputs(table.select(rest).to_pandas(), policy)
    frame = pd.concat([frame, outputs], axis=1)
    frame.attrs = {
        "source": str(source),
        states.POLICY_ATTR: policy_attr(policy, policy.resolve_params(params)),
    }
    return frame


def _contract_array(column: contract.Column, values: Any, pa: Any) -> Any:
    """One contract column as the pandas engine types it."""
    if column.kind in ("category", "ordinal"):
        dtype = pd.CategoricalDtype(list(column.codes), ordered=column.kind == "ordinal")
        encoded = values.cast(pa.string()).dictionary_encode().combine_chunks()
        position = {code: i for i, code in enumerate(column.codes)}
        lookup = np.array(
            [position.get(v, -1) for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int32
        )
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return pd.Categorical.from_codes(lookup[indices], dtype=dtype, validate=False)
    if column.kind == "bool":
        return pd.BooleanDtype().__from_arrow__(values.cast(pa.bool_()))
    if column.kind == "int":
        return pd.Int64Dtype().__from_arrow__(values.cast(pa.int64()))
    if column.kind == "date":
        stamps = values.cast(pa.timestamp("ns"))
        return stamps.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return pd.arrays.ArrowStringArray(values.cast(pa.string()))


def duck_gate(manifest: dict[str, Any]) -> dict[str, Any]:
    """The gate's summary (as `GateResult.summary` gives it) from the DuckDB job's
    manifest: its row counts and the failures by check."""
    rows = manifest["rows"]
    read, valid, held = int(rows["read"]), int(rows["assessed"]), int(rows["quarantined"])
    return {
        "rows_read": read,
        "rows_valid": valid,
        "rows_quarantined": held,
        "failures_by_check": [
            {"check": f["check"], "reason": f["reason"], "n_rows": int(f["n_rows"])}
            for f in manifest.get("validation") or []
        ],
        "reconciliation": f"Rows read {read:,} = assessed {valid:,} + quarantined {held:,}.",
    }
