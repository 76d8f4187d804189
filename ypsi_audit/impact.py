"""What a change of policy would have meant for past incidents: the evaluations.

`compare` evaluates the same incidents under two policies (or one policy with two sets of
parameters) with the ordinary engine, so every state matches each policy's own
assessment row by row; `Comparison.change` says which way each incident's answer moves.
`sweep_points` evaluates one policy across values of one parameter and re-evaluates only
the rules that read it; `sweep` counts outcomes and judgements per value (the benchmarks
time it). The impact page (`reports/pages/impact.py`) turns these into published figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import contract
from .conditions import Record
from .engine import (
    HANDLE,
    INSUFFICIENT,
    REFER,
    ColumnReader,
    Evaluation,
    consistency_codes,
    evaluate,
    guidance_outcome,
)
from .errors import PolicyError, YpsiError
from .policy import Policy, load_policy
from .tristate import Tri, any_of

MAX_SWEEP_VALUES = 20  # one row of a printed table and one point of a chart per value

# How an incident's answer moves from the current policy to the proposed one.
CHANGES = (
    "unchanged",
    "handle_to_refer",
    "undecided_to_refer",
    "refer_to_handle",
    "refer_to_undecided",
    "handle_to_undecided",
    "undecided_to_handle",
)


def _change_table() -> np.ndarray:
    """Change code by [current outcome][proposed outcome] (positions in contract.OUTCOMES)."""
    code = {name: k for k, name in enumerate(CHANGES)}
    table = np.zeros((3, 3), dtype=np.int8)  # the diagonal: unchanged
    table[HANDLE, REFER] = code["handle_to_refer"]
    table[INSUFFICIENT, REFER] = code["undecided_to_refer"]
    table[REFER, HANDLE] = code["refer_to_handle"]
    table[REFER, INSUFFICIENT] = code["refer_to_undecided"]
    table[HANDLE, INSUFFICIENT] = code["handle_to_undecided"]
    table[INSUFFICIENT, HANDLE] = code["undecided_to_handle"]
    return table


CHANGE_TABLE = _change_table()


@dataclass(frozen=True)
class Comparison:
    """Two evaluations of the same rows: the policy in use and the proposed one."""

    current: Evaluation
    proposed: Evaluation

    @property
    def n(self) -> int:
        return self.current.n

    def change(self) -> np.ndarray:
        """Each incident's move as a position in CHANGES."""
        return CHANGE_TABLE[self.current.outcome, self.proposed.outcome]

    def changed(self) -> np.ndarray:
        return self.current.outcome != self.proposed.outcome


def compare(
    frame: pd.DataFrame,
    current: str | Policy,
    proposed: str | Policy,
    current_params: Mapping[str, Any] | None = None,
    proposed_params: Mapping[str, Any] | None = None,
) -> Comparison:
    """Evaluate the same incidents under both policies (each with its own parameters)."""
    return Comparison(
        evaluate(frame, current, current_params), evaluate(frame, proposed, proposed_params)
    )


# ------------------------------------------------------------------------------ sweeps


def parse_sweep(text: str) -> tuple[str, list[str]]:
    """NAME=V1,V2,... or NAME=LOW..HIGH (whole numbers) into a name and its values
    (repeats dropped, at most MAX_SWEEP_VALUES)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise YpsiError(f"--sweep {text}: write NAME=V1,V2,... or NAME=LOW..HIGH.")
    if ".." in values:
        low, _, high = values.partition("..")
        try:
            start, stop = int(low), int(high)
        except ValueError:
            raise YpsiError(f"--sweep {text}: a range takes whole numbers, e.g. 1..10.") from None
        if stop < start:
            raise YpsiError(f"--sweep {text}: the range must rise, e.g. 1..10.")
        items = [str(v) for v in range(start, min(stop, start + MAX_SWEEP_VALUES) + 1)]
    else:
        items = list(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
    if len(items) > MAX_SWEEP_VALUES:
        raise YpsiError(
            f"--sweep {text[:60]}: a sweep shows at most {MAX_SWEEP_VALUES} values on a page; "
            "give fewer values or a shorter range."
        )
    if not items:
        raise YpsiError(f"--sweep {text}: write NAME=V1,V2,... or NAME=LOW..HIGH.")
    return name.strip(), items


@dataclass(frozen=True)
class SweepPoint:
    """One value of the swept parameter and what the policy says with it."""

    value: Any
    outcome: np.ndarray  # positions in contract.OUTCOMES
    consistency: np.ndarray  # positions in contract.CONSISTENCY


def sweep_points(
    frame: pd.DataFrame,
    policy: str | Policy,
    name: str,
    values: Sequence[Any],
    params: Mapping[str, Any] | None = None,
) -> Iterator[SweepPoint]:
    """The policy's outcome and consistency for each value of one parameter (the other
    parameters as `params` give them). Rules that do not read the parameter are
    evaluated once; only those that do are evaluated again for each value."""
    chosen = load_policy(policy)
    base = chosen.resolve_params(params)
    if name not in chosen.parameters:
        chosen.resolve_params({name: values[0] if len(values) else ""})  # raises with a hint
    checked = [chosen.resolve_params({name: v})[name] for v in values]
    if not checked:
        raise PolicyError(chosen.path, f"--sweep {name} needs at least one value")
    n = len(frame)
    record = Record(ColumnReader(frame), n, base)
    moving = [r for r in chosen.factors if name in r.condition.params()]
    steady = [r.condition.evaluate(record) for r in chosen.factors if r not in moving]
    fixed = any_of(steady) if steady else Tri.constant(False, n)
    referral = chosen.referral
    referral_moves = name in referral.referred.params() | referral.allowed.params()
    referred = allowed = None
    for value in checked:
        record.params[name] = value
        outcome = guidance_outcome([fixed, *(r.condition.evaluate(record) for r in moving)], n)
        if referral_moves or referred is None:
            referred = referral.referred.evaluate(record)
            allowed = referral.allowed.evaluate(record)
        yield SweepPoint(value, outcome, consistency_codes(outcome, referred, allowed))


def sweep(
    frame: pd.DataFrame,
    policy: str | Policy,
    name: str,
    values: Sequence[Any],
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Outcome and consistency counts for each value of one parameter, with the rates
    `reports.measures` defines (the same definitions the pages use)."""
    from .reports.measures import GUIDANCE_REFER, RESOLVABLE_REFERRED, UNDER_ESCALATION

    chosen = load_policy(policy)
    default = chosen.parameters[name].default if name in chosen.parameters else None
    rows = []
    for point in sweep_points(frame, chosen, name, values, params):
        outcomes = np.bincount(point.outcome, minlength=len(contract.OUTCOMES))
        judged = np.bincount(point.consistency, minlength=len(contract.CONSISTENCY))
        counts = {
            **{c: int(outcomes[k]) for k, c in enumerate(contract.OUTCOMES)},
            **{c: int(judged[k]) for k, c in enumerate(contract.CONSISTENCY)},
        }
        row = {
            "value": point.value,
            "default": point.value == default,
            "n_incidents": len(frame),
            "n_refer": counts["refer_police"],
            "n_handle": counts["handle_in_setting"],
            "n_insufficient": counts["insufficient_information"],
            **{f"n_{c}": counts[c] for c in contract.CONSISTENCY},
        }
        for measure in (GUIDANCE_REFER, UNDER_ESCALATION, RESOLVABLE_REFERRED):
            top = sum(counts[c] for c in measure.numerator)
            bottom = sum(counts[c] for c in measure.denominator)
            row[f"rate_{measure.name}"] = top / bottom if bottom else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
