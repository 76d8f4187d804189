"""The engines side by side: the pandas engine (`assess`), the compiled SQL run by
DuckDB over a frame, and `assess --engine duckdb` from a file, on random rows of both
shipped policies with default and changed parameters.

    .venv/bin/python -m benchmarks.differential [--rows 1000000] [--seed 7]

Prints, per policy and parameter set, the rows compared and the columns that differ
(none, or the run fails with the first differing rows). The test suite runs the same
comparison on 100,000 rows (tests/test_sql_differential.py); this script is for sizes
CI has no time for.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.random_log import random_frame
from ypsi_audit import contract, states
from ypsi_audit.engine import assess

# Parameter sets every differential run covers: the defaults, and changed values that
# move every threshold a parameter sets (UKCIS fixes its thresholds: defaults only).
CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("cheshire-quick-guide", {}),
    (
        "cheshire-quick-guide",
        {
            "under_age": 11,
            "adult_age": 21,
            "sexual_content_from": "semi_nude",
            "wider_distribution_from": "shared_widely",
            "wide_age_gap_years": 5,
        },
    ),
    ("cheshire-quick-guide", {"under_age": 16, "sexual_content_from": "none"}),
    ("ukcis-2024", {}),
)


def comparable(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns as plain text, blanks as None, so engines' dtypes do not matter."""
    out = {}
    for name in columns:
        series = frame[name]
        if (
            name == "experimental"
            or pd.api.types.is_bool_dtype(series.dtype)
            or str(series.dtype) == "boolean"
        ):
            values = series.astype("boolean").map({True: "true", False: "false"})
        elif states.is_state(name):
            values = series.astype("Int64").astype("string")
        else:
            values = series.astype("string")
        out[name] = values.astype(object).where(values.notna(), None).to_numpy()
    return pd.DataFrame(out)


def differences(
    expected: pd.DataFrame, got: pd.DataFrame, columns: list[str] | None = None
) -> dict[str, int]:
    """{column: rows that differ} between two assessed frames, row by row."""
    columns = columns or list(contract.OUTPUT_COLUMNS)
    if len(expected) != len(got):
        return {"(row count)": abs(len(expected) - len(got))}
    a, b = comparable(expected, columns), comparable(got, columns)
    found = {}
    for name in columns:
        left, right = a[name].to_numpy(), b[name].to_numpy()
        differ = ~((left == right) | (pd.isna(left) & pd.isna(right)))
        if differ.any():
            found[name] = int(differ.sum())
    return found


def first_difference(expected: pd.DataFrame, got: pd.DataFrame, column: str) -> str:
    a = comparable(expected, [column])[column].to_numpy()
    b = comparable(got, [column])[column].to_numpy()
    k = int(np.flatnonzero(a != b)[0])
    return f"row {k}: pandas {a[k]!r}, other {b[k]!r}"


def run(rows: int, seed: int, through_files: bool = True) -> bool:
    from ypsi_audit import duck

    frame = random_frame(rows, seed)
    columns = [*contract.OUTPUT_COLUMNS]
    ok = True
    for policy, params in CASES:
        start = time.perf_counter()
        expected = assess(frame, policy, params, with_states=True)
        pandas_s = time.perf_counter() - start
        start = time.perf_counter()
        got = duck.assess_frame(frame, policy, params, with_states=True)
        duck_s = time.perf_counter() - start
        state_columns = [c for c in expected.columns if states.is_state(c)]
        found = differences(expected, got, columns + state_columns)
        label = f"{policy} {params or '(defaults)'}"
        print(
            f"{label}: {rows:,} rows; pandas {pandas_s:.2f} s, SQL in DuckDB {duck_s:.2f} s; "
            f"differences: {found or 'none'}"
        )
        if through_files:
            with tempfile.TemporaryDirectory() as folder:
                source = Path(folder) / "log.parquet"
                frame.reset_index(drop=True).to_parquet(source)
                target = Path(folder) / "out.parquet"
                duck.assess_parquet_unchecked(source, target, policy, params)
                from_file = pd.read_parquet(target)
            file_found = differences(expected.reset_index(drop=True), from_file, columns)
            print(f"  file to file in DuckDB: differences: {file_found or 'none'}")
            found.update({f"file:{k}": v for k, v in file_found.items()})
        for column in found:
            if not column.startswith("file:"):
                print("  first:", column, first_difference(expected, got, column))
        ok &= not found
    return ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sys.exit(0 if run(args.rows, args.seed) else 1)


if __name__ == "__main__":
    main()
