"""The policy run inside DuckDB: over a frame in memory, or file to file out of core.

`assess_frame` gives the same frame `engine.assess` gives (same columns, dtypes and
index), computed by the compiled query (`ypsi_audit.sql`) in DuckDB. `assess_parquet_unchecked`
streams a typed Parquet log through the query into a Parquet or CSV file without the
gate: for benchmarks and differential checks. The whole `assess --engine duckdb` job
(read, gate, assess, write, account) is `ypsi_audit.duckjob.assess_file`.

A connection is opened with a memory limit and a temporary folder, so DuckDB spills
to disk instead of failing when a log does not fit in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from . import contract, states
from .engine import policy_attr
from .policy import DEFAULT_POLICY, Policy, load_policy
from .sizes import checked_size
from .sql import compile_policy

DEFAULT_MEMORY_LIMIT = "4GB"
_FRAME = "ypsi_frame"


def connect(
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    temp_directory: str | Path | None = None,
    threads: int | None = None,
    database: str | Path = ":memory:",
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that spills to `temp_directory` beyond `memory_limit`, keeps
    rows in their input order, and never reaches the network (no extension is loaded)."""
    connection = duckdb.connect(
        str(database),
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    connection.execute(f"SET memory_limit = '{checked_size(memory_limit)}'")
    folder = Path(temp_directory) if temp_directory else Path(tempfile.gettempdir())
    connection.execute(f"SET temp_directory = '{_quoted(str(folder))}'")
    connection.execute("SET preserve_insertion_order = true")
    connection.execute("SET enable_progress_bar = false")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    return connection


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def assess_frame(
    frame: pd.DataFrame,
    policy: str | Policy = DEFAULT_POLICY,
    params: Mapping[str, Any] | None = None,
    *,
    with_states: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """`engine.assess`, computed by the compiled query in DuckDB (same output frame)."""
    chosen = load_policy(policy)
    values = chosen.resolve_params(params)
    own = connection is None
    con = connection or connect()
    try:
        present = [c for c in contract.COLUMN_NAMES if c in frame.columns]
        view = frame[present].reset_index(drop=True)
        con.register(_FRAME, _for_duckdb(view))  # handed over as Arrow: no copy per value
        query = compile_policy(
            chosen, values, table=_FRAME, columns=present, repeat=[], with_states=with_states
        )
        result = _arrow(con.sql(query))
        con.unregister(_FRAME)
    finally:
        if own:
            con.close()
    added = typed_outputs(result.to_pandas(), chosen)
    added.index = frame.index
    out = pd.concat([frame, added], axis=1)
    if with_states:
        out.attrs = {**frame.attrs, states.POLICY_ATTR: policy_attr(chosen, values)}
    return out


def _arrow(cursor: Any) -> Any:
    """The result as a pyarrow Table."""
    return cursor.to_arrow_table()


def _for_duckdb(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table (categories as dictionary-encoded text), which DuckDB
    scans in place; a pandas frame of categories would be converted value by value."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def typed_outputs(result: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The query's output columns in the dtypes `engine.assess` gives them."""
    out: dict[str, Any] = {}
    for name in result.columns:
        series = result[name]
        if name in (
            "policy",
            "aggravating_factors",
            "unknown_factors",
            "recording_gaps",
            "recording_gap_status",
            "recording_unknown",
        ):
            out[name] = series.astype("category")
        elif name == "guidance_outcome":
            out[name] = pd.Categorical(series, categories=list(contract.OUTCOMES))
        elif name == "consistency":
            out[name] = pd.Categorical(series, categories=list(contract.CONSISTENCY))
        elif name == "experimental":
            out[name] = series.astype("boolean")
        elif states.is_state(name):
            out[name] = series.to_numpy(dtype=np.int8)
        else:
            out[name] = series
    return pd.DataFrame(out, index=result.index)


def assess_parquet_unchecked(
    source: str | Path,
    target: str | Path,
    policy: str | Policy = DEFAULT_POLICY,
    params: Mapping[str, Any] | None = None,
    *,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    with_states: bool = False,
) -> None:
    """Stream a contract-typed Parquet log through the query into Parquet (or CSV),
    without the gate: for measurements and differential checks on data already valid."""
    con = connect(memory_limit)
    try:
        columns = _parquet_columns(con, source)
        present = [c for c in columns if c in contract.BY_NAME]
        table = f"read_parquet('{_quoted(str(source))}')"
        query = compile_policy(
            policy,
            params,
            table="ypsi_source",
            columns=present,
            repeat=columns,
            with_states=with_states,
        )
        con.execute(f"CREATE VIEW ypsi_source AS SELECT * FROM {table}")
        copy_to(con, query, target)
    finally:
        con.close()


def _parquet_columns(con: duckdb.DuckDBPyConnection, source: str | Path) -> list[str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{_quoted(str(source))}')").fetchall()
    return [r[0] for r in rows if r[0] != "__index_level_0__"]


def copy_to(
    con: duckdb.DuckDBPyConnection, query: str, target: str | Path, suffix: str | None = None
) -> None:
    """Write a query's rows to Parquet or CSV (by `suffix`, else the file's extension)."""
    kind = (suffix or Path(target).suffix).lower()
    options = "FORMAT parquet, COMPRESSION zstd" if kind == ".parquet" else "FORMAT csv, HEADER"
    con.execute(f"COPY ({query}) TO '{_quoted(str(target))}' ({options})")


__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "assess_frame",
    "assess_parquet_unchecked",
    "connect",
    "copy_to",
    "typed_outputs",
]
