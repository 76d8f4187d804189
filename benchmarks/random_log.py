"""Uniformly random incident rows for differential tests of the engines.

Unlike `ypsi_audit.synth`, which makes believable logs, these rows are meant to reach
every corner of the rules: every column is blank in about a fifth of the rows (the
required ones too, which the engines must still answer for), every code and level
appears, ages cover the contract's whole range so every threshold a parameter can set
is crossed, and follow-up fields are filled whatever their parent says (a blank
follow-up under a "no" is where the follow-up rule matters). Cross-field facts are not
kept: the engines must agree on rows the gate would hold back as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ypsi_audit import contract

BLANK_SHARE = 0.2


def random_frame(n: int, seed: int = 0, blank: float = BLANK_SHARE) -> pd.DataFrame:
    """`n` random rows in the contract's dtypes (as `load_incidents` gives them)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for spec in contract.COLUMNS:
        hole = rng.random(n) < blank
        if spec.kind == "bool":
            columns[spec.name] = pd.arrays.BooleanArray(rng.random(n) < 0.5, hole)
        elif spec.kind == "int":
            values = rng.integers(spec.low or 0, (spec.high or 99) + 1, n)
            if spec.name == "oldest_party_age":  # mostly children, as ages cluster
                values = np.where(rng.random(n) < 0.6, rng.integers(4, 18, n), values)
            columns[spec.name] = pd.arrays.IntegerArray(values.astype(np.int64), hole)
        elif spec.kind in ("category", "ordinal"):
            codes = rng.integers(0, len(spec.codes), n).astype(np.int8)
            codes[hole] = -1
            dtype = pd.CategoricalDtype(list(spec.codes), ordered=spec.kind == "ordinal")
            columns[spec.name] = pd.Categorical.from_codes(codes, dtype=dtype)
        elif spec.kind == "date":
            days = rng.integers(0, 3 * 365, n)
            stamps = np.datetime64("2022-09-01") + days.astype("timedelta64[D]")
            stamps = stamps.astype("datetime64[ns]")
            stamps[hole] = np.datetime64("NaT")
            columns[spec.name] = stamps
        else:
            prefix = "INC-" if spec.name == "incident_id" else "S"
            numbers = np.arange(n) if spec.name == "incident_id" else rng.integers(1, 40, n)
            text = pd.array([f"{prefix}{k:07d}" for k in numbers], dtype="string")
            if spec.name != "incident_id":
                text[hole] = pd.NA
            columns[spec.name] = text
    frame = pd.DataFrame(columns)
    frame.index = pd.RangeIndex(2, n + 2, name="row")
    return frame
