"""The assessed incidents a report is about, read once, with the policy that judged them.

`AssessedLog` holds the rows `evaluate` produced (every rule's state as a small integer
column) and the resolved policy they carry. Pages never evaluate a rule again, never
parse the `;`-joined text and never look a policy up by id: they read states from here.
`incidents()` gives the one incident-level frame of plain categories that every published
count is drawn from (the ledger's raw material).
"""

from __future__ import annotations

import json
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

    # ------------------------------------------------------------------ building

    @classmethod
    def assess(cls, spec: RunSpec) -> AssessedLog:
        """Gate and assess the spec's input once (used when no runner did it: a notebook
        opened by hand, a test)."""
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
    def of(
        cls, frame: pd.DataFrame, gate: dict[str, Any], spec: RunSpec | None = None
    ) -> AssessedLog:
        from ..engine import saved_policy

        policy, params = saved_policy(frame)
        if spec is not None and spec.settings:
            frame = frame[frame["setting_id"].astype(str).isin(spec.settings).to_numpy()]
        return cls(frame=frame, policy=policy, params=params, gate=gate)

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
