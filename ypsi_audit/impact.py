"""What a change of policy would have meant for past incidents.

`compare` assesses the same incidents under two policies (or one policy with two sets
of parameters) with the ordinary engine, so every number matches the two assessments
row by row. `sweep` evaluates one policy across values of one parameter; rules that do
not read the parameter are evaluated once, not once per value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import contract
from .conditions import Record
from .engine import CONSISTENCY_TABLE, ColumnReader, _any, assess, guidance_outcome, tri_codes
from .errors import PolicyError, YpsiError
from .policy import Policy, load_policy
from .stats import academic_year

KEEP = ("incident_id", "setting_id", "reported_on", "decision")


def compare(
    frame: pd.DataFrame,
    before: str | Policy,
    after: str | Policy,
    before_params: Mapping[str, Any] | None = None,
    after_params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per incident: outcome, factors and consistency under each side, and
    whether the outcome flips."""
    old = assess(frame, before, before_params)
    new = assess(frame, after, after_params)
    out = pd.DataFrame(
        {c: frame[c].to_numpy() for c in KEEP if c in frame.columns}, index=frame.index
    )
    for side, table in (("before", old), ("after", new)):
        for column in ("guidance_outcome", "aggravating_factors", "consistency"):
            out[f"{column}_{side}"] = table[column].astype(str).to_numpy()
    out["flipped"] = out["guidance_outcome_before"] != out["guidance_outcome_after"]
    out["academic_year"] = academic_year(out["reported_on"]).to_numpy()
    return out


def outcome_crosstab(comparison: pd.DataFrame) -> pd.DataFrame:
    """Outcome before (rows) against outcome after (columns), as n_ counts."""
    table = pd.crosstab(
        pd.Categorical(comparison["guidance_outcome_before"], contract.OUTCOMES),
        pd.Categorical(comparison["guidance_outcome_after"], contract.OUTCOMES),
        dropna=False,
    )
    table.columns = [f"n_after_{c}" for c in table.columns]
    table.index = [str(i) for i in table.index]
    return table.rename_axis("outcome_before").reset_index()


def flips_by_reason(comparison: pd.DataFrame) -> pd.DataFrame:
    """How many incidents flip, grouped by what each policy found present."""
    flipped = comparison[comparison["flipped"]]
    table = (
        flipped.groupby(
            [
                "guidance_outcome_before",
                "guidance_outcome_after",
                "aggravating_factors_before",
                "aggravating_factors_after",
            ],
            sort=False,
        )
        .size()
        .reset_index(name="n_incidents")
    )
    for side in ("before", "after"):
        column = f"aggravating_factors_{side}"
        table[column] = table[column].replace("", "(none)")
    return table.sort_values("n_incidents", ascending=False, kind="stable").reset_index(drop=True)


def referral_volume(comparison: pd.DataFrame, by: str) -> pd.DataFrame:
    """Incidents the guidance sends to the police under each side, by setting or year."""
    before = comparison["guidance_outcome_before"] == "refer_police"
    after = comparison["guidance_outcome_after"] == "refer_police"
    table = (
        pd.DataFrame(
            {
                by: comparison[by].astype(str).to_numpy(),
                "n_incidents": 1,
                "n_refer_before": before.to_numpy(),
                "n_refer_after": after.to_numpy(),
            }
        )
        .groupby(by, sort=True)
        .sum()
        .reset_index()
    )
    table["change"] = table["n_refer_after"] - table["n_refer_before"]
    return table


def consistency_change(comparison: pd.DataFrame) -> pd.DataFrame:
    """How the settings' actual decisions would be judged under each side."""
    before = comparison["consistency_before"].value_counts()
    after = comparison["consistency_after"].value_counts()
    table = pd.DataFrame(
        {
            "judgement": list(contract.CONSISTENCY),
            "n_before": [int(before.get(c, 0)) for c in contract.CONSISTENCY],
            "n_after": [int(after.get(c, 0)) for c in contract.CONSISTENCY],
        }
    )
    table["change"] = table["n_after"] - table["n_before"]
    return table


def flipped_cases(comparison: pd.DataFrame) -> pd.DataFrame:
    """Incident ids whose guidance outcome would change: for follow-up files only."""
    columns = [
        "incident_id",
        "setting_id",
        "reported_on",
        "decision",
        "guidance_outcome_before",
        "guidance_outcome_after",
        "aggravating_factors_before",
        "aggravating_factors_after",
        "consistency_before",
        "consistency_after",
    ]
    return comparison.loc[comparison["flipped"], columns].reset_index(drop=True)


# ------------------------------------------------------------------------------ sweeps


def parse_sweep(text: str) -> tuple[str, list[str]]:
    """NAME=V1,V2,... or NAME=LOW..HIGH (whole numbers) into a name and its values."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise YpsiError(f"--sweep {text}: write NAME=V1,V2,... or NAME=LOW..HIGH.")
    if ".." in values:
        low, _, high = values.partition("..")
        try:
            start, stop = int(low), int(high)
        except ValueError:
            raise YpsiError(f"--sweep {text}: a range takes whole numbers, e.g. 1..10.") from None
        if stop < start or stop - start > 1000:
            raise YpsiError(f"--sweep {text}: the range must rise and hold at most 1,000 values.")
        return name.strip(), [str(v) for v in range(start, stop + 1)]
    return name.strip(), [v.strip() for v in values.split(",") if v.strip()]


def sweep(
    frame: pd.DataFrame,
    policy: str | Policy,
    name: str,
    values: Sequence[Any],
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Referral and consistency counts for each value of one parameter."""
    chosen = load_policy(policy)
    base = chosen.resolve_params(params)
    if name not in chosen.parameters:
        chosen.resolve_params({name: values[0] if values else ""})  # raises with a hint
    checked = [chosen.resolve_params({**base, name: v})[name] for v in values]
    if not checked:
        raise PolicyError(chosen.path, f"--sweep {name} needs at least one value")
    n = len(frame)
    record = Record(ColumnReader(frame), n, base)
    moving = [r for r in chosen.factors if name in r.condition.params()]
    fixed = _any([r.condition.evaluate(record) for r in chosen.factors if r not in moving], n)
    referral = chosen.referral
    referral_moves = name in referral.referred.params() | referral.allowed.params()
    rows = []
    for value in checked:
        record.params[name] = value
        outcome = guidance_outcome([fixed, *(r.condition.evaluate(record) for r in moving)], n)
        if referral_moves or not rows:
            referred = tri_codes(referral.referred.evaluate(record))
            allowed = tri_codes(referral.allowed.evaluate(record))
        judged = np.bincount(
            CONSISTENCY_TABLE[outcome, referred, allowed], minlength=len(contract.CONSISTENCY)
        )
        counts = np.bincount(outcome, minlength=3)
        rows.append(
            {
                "value": value,
                "default": value == chosen.parameters[name].default,
                "n_incidents": n,
                "n_refer": int(counts[0]),
                "n_insufficient": int(counts[2]),
                **{f"n_{c}": int(judged[i]) for i, c in enumerate(contract.CONSISTENCY)},
            }
        )
    table = pd.DataFrame(rows)
    decided = table[
        [
            "n_consistent_referral",
            "n_consistent_in_setting",
            "n_under_escalation",
            "n_over_escalation",
            "n_discretionary_referral",
        ]
    ].sum(axis=1)
    table["rate_refer"] = table["n_refer"] / table["n_incidents"].where(table["n_incidents"] > 0)
    # a referral the guidance allows without a factor agrees with the guidance
    table["rate_consistent"] = (
        table["n_consistent_referral"]
        + table["n_consistent_in_setting"]
        + table["n_discretionary_referral"]
    ) / decided.where(decided > 0)
    table["rate_under_escalation"] = table["n_under_escalation"] / decided.where(decided > 0)
    table["rate_over_escalation"] = table["n_over_escalation"] / decided.where(decided > 0)
    return table
