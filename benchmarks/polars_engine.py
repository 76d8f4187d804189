"""The policy as Polars expressions, written the way the SQL compiler writes it.

For the engine comparison only (`benchmarks/engines.py`): the same rule trees become
Polars expressions, where `&`, `|` and `~` on nullable booleans are Kleene logic too.
The output columns are those of the contract; it is checked against `assess` before
it is timed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ypsi_audit import contract
from ypsi_audit.conditions import Branch, Constant, Leaf, Node, Param
from ypsi_audit.policy import Policy, load_policy

_DERIVED = {
    "guidance_outcome": "_outcome",
    "experimental": "_experimental",
    "referral_criterion": "_criterion",
    "referred": "_referred",
}
_COMPARE = {
    "less_than": "lt",
    "at_most": "le",
    "at_least": "ge",
    "greater_than": "gt",
}


class _Compiler:
    def __init__(self, params: Mapping[str, Any], derived: bool = False) -> None:
        self.params = params
        self.derived = derived

    def ref(self, column: str) -> pl.Expr:
        return pl.col(_DERIVED[column] if self.derived and column in _DERIVED else column)

    def tri(self, column: str) -> pl.Expr:
        spec = contract.BY_NAME.get(column)
        if spec is None or spec.parent is None:
            return self.ref(column)
        parent = self.tri(spec.parent)
        return pl.coalesce(self.ref(column), pl.when(parent.not_()).then(False))

    def both(self, node: Node) -> tuple[pl.Expr, pl.Expr]:
        if isinstance(node, Constant):
            return pl.lit(node.value), pl.lit(node.value)
        if isinstance(node, Branch):
            parts = [self.both(p) for p in node.parts]
            return self.combine(node.kind, [s for s, _ in parts]), self.combine(
                node.kind, [soft for _, soft in parts]
            )
        return self.leaf(node)

    def combine(self, kind: str, parts: list[pl.Expr]) -> pl.Expr:
        if kind == "not":
            return parts[0].not_()
        if kind == "first_recorded":
            return pl.coalesce(parts)
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if kind == "all" else (out | part)
        return out

    def leaf(self, leaf: Leaf) -> tuple[pl.Expr, pl.Expr]:
        missing = self.ref(leaf.column).is_null()
        if leaf.op == "is_not":
            hit = self.test(leaf).fill_null(False)
            return hit.not_(), (hit | missing).not_()
        if leaf.op == "is" and leaf.operand == "blank":
            return missing, pl.lit(False)
        value = self.test(leaf)
        return value, value

    def test(self, leaf: Leaf) -> pl.Expr:
        if leaf.operand == "blank":
            return self.ref(leaf.column).is_null()
        spec = contract.BY_NAME.get(leaf.column) or contract.DERIVED[leaf.column]
        if spec.kind == "bool":
            value = self.tri(leaf.column)
            return value if leaf.operand is True else value.not_()
        if leaf.op in ("is", "is_not"):
            return self.ref(leaf.column) == leaf.operand
        if leaf.op == "one_of":
            return self.ref(leaf.column).is_in(list(leaf.operand))
        operand = (
            self.params[leaf.operand.name] if isinstance(leaf.operand, Param) else leaf.operand
        )
        if spec.kind == "ordinal":
            mapping = {code: k for k, code in enumerate(spec.codes)}
            value = self.ref(leaf.column).replace_strict(
                mapping, default=None, return_dtype=pl.Int8
            )
            return getattr(value, _COMPARE[leaf.op])(spec.codes.index(operand))
        value = self.ref(leaf.column)
        if leaf.minus is not None:
            value = value - self.ref(leaf.minus)
        return getattr(value, _COMPARE[leaf.op])(int(operand))


def _joined(conditions: list[pl.Expr], ids: list[str]) -> pl.Expr:
    if not conditions:
        return pl.lit("")
    pieces = [
        pl.when(c.fill_null(False)).then(pl.lit(i)) for c, i in zip(conditions, ids, strict=True)
    ]
    return pl.concat_str(pieces, separator=";", ignore_nulls=True)


def assess_lazy(
    frame: pl.LazyFrame, policy: str | Policy, params: Mapping[str, Any] | None = None
) -> pl.LazyFrame:
    """The input rows with the contract's output columns added (policy order ids)."""
    chosen = load_policy(policy)
    values = chosen.resolve_params(params)
    plain = _Compiler(values)
    factors = [plain.both(r.condition)[0] for r in chosen.factors]
    criteria = [plain.both(r.condition)[0] for r in chosen.experimental]
    referred = plain.both(chosen.referral.referred)[0]
    allowed = plain.both(chosen.referral.allowed)[0]
    names = frame.collect_schema().names()
    step = frame.with_columns(
        *(f.alias(f"_f{k}") for k, f in enumerate(factors)),
        *(c.alias(f"_e{k}") for k, c in enumerate(criteria)),
        referred.alias("_referred"),
        allowed.alias("_allowed"),
    )
    fs = [pl.col(f"_f{k}") for k in range(len(factors))]
    crit = fs[0]
    for f in fs[1:]:
        crit = crit | f
    exp_ = pl.lit(True)
    for k in range(len(criteria)):
        exp_ = exp_ & pl.col(f"_e{k}")
    step = step.with_columns(crit.alias("_criterion"), exp_.alias("_experimental"))
    outcome = (
        pl.when(pl.col("_criterion"))
        .then(pl.lit("refer_police"))
        .when(pl.col("_criterion").not_())
        .then(pl.lit("handle_in_setting"))
        .otherwise(pl.lit("insufficient_information"))
    )
    step = step.with_columns(outcome.alias("_outcome"))
    recorder = _Compiler(values, derived=True)
    gaps = [recorder.both(r.condition) for r in chosen.recording]
    step = step.with_columns(
        *(g.alias(f"_g{k}") for k, (g, _) in enumerate(gaps)),
        *(soft.alias(f"_l{k}") for k, (_, soft) in enumerate(gaps)),
    )
    o, r, a = pl.col("_outcome"), pl.col("_referred"), pl.col("_allowed")
    consistency = (
        pl.when(r.is_null())
        .then(pl.lit("no_decision"))
        .when((o == "refer_police") & r)
        .then(pl.lit("consistent_referral"))
        .when(o == "refer_police")
        .then(pl.lit("under_escalation"))
        .when((o == "handle_in_setting") & r.not_())
        .then(pl.lit("consistent_in_setting"))
        .when((o == "handle_in_setting") & a)
        .then(pl.lit("discretionary_referral"))
        .when((o == "handle_in_setting") & a.not_())
        .then(pl.lit("over_escalation"))
        .otherwise(pl.lit("unassessable"))
    )
    factor_ids = [r.id for r in chosen.factors]
    gap_ids = [r.id for r in chosen.recording]
    g = [pl.col(f"_g{k}") for k in range(len(gap_ids))]
    soft = [pl.col(f"_l{k}") for k in range(len(gap_ids))]
    status = [
        pl.when(g[k].fill_null(False) & soft[k].fill_null(False))
        .then(pl.lit(f"{i}:not_done"))
        .when(g[k].fill_null(False))
        .then(pl.lit(f"{i}:not_recorded"))
        for k, i in enumerate(gap_ids)
    ]
    out = step.with_columns(
        pl.lit(chosen.label).alias("policy"),
        pl.col("_outcome").alias("guidance_outcome"),
        _joined(fs, factor_ids).alias("aggravating_factors"),
        _joined([f.is_null() for f in fs], factor_ids).alias("unknown_factors"),
        pl.col("_experimental").alias("experimental"),
        consistency.alias("consistency"),
        _joined(g, gap_ids).alias("recording_gaps"),
        pl.concat_str(status, separator=";", ignore_nulls=True).alias("recording_gap_status"),
        _joined([x.is_null() for x in g], gap_ids).alias("recording_unknown"),
    )
    return out.select(*names, *contract.OUTPUT_COLUMNS)


def from_pandas(frame: Any) -> pl.DataFrame:
    """A contract-typed pandas frame as Polars (categories as text)."""
    import pandas as pd

    plain = frame.assign(
        **{
            name: frame[name].astype("string")
            for name in frame.columns
            if isinstance(frame[name].dtype, pd.CategoricalDtype)
        }
    )
    return pl.from_pandas(plain.reset_index(drop=True))
