"""The Spark SQL the compiler writes, run by PySpark in local mode (a real distributed
engine: the same query runs on a cluster), gives `assess`'s answers on 100,000 random
rows under both shipped policies and with changed parameters.

Java comes from the Makefile (`make java`, which `make test` runs first). One Spark
session serves the whole module; ANSI mode is left on, as Spark 4 has it by default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.differential import CASES, differences
from benchmarks.random_log import random_frame
from ypsi_audit import contract, duck, states
from ypsi_audit.engine import assess
from ypsi_audit.sql import compile_policy

ROWS = 100_000


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("ypsi-audit-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.local.dir", str(scratch))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_frame(ROWS, seed=2026)


@pytest.fixture(scope="module")
def incidents(spark: Any, frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The random rows as a Spark table with the contract's SQL types."""
    path = tmp_path_factory.mktemp("log") / "incidents.parquet"
    pq.write_table(arrow_table(frame), path)
    spark.read.parquet(str(path)).createOrReplaceTempView("incidents")
    return "incidents"


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    fields = {
        "bool": pa.bool_(),
        "int": pa.int64(),
        "date": pa.date32(),
        "category": pa.string(),
        "ordinal": pa.string(),
        "string": pa.string(),
    }
    columns = {}
    for spec in contract.COLUMNS:
        series = frame[spec.name]
        if spec.kind == "date":
            columns[spec.name] = pa.array(series.dt.date, type=pa.date32())
        elif spec.kind in ("category", "ordinal", "string"):
            columns[spec.name] = pa.array(series.astype(object).where(series.notna(), None))
        else:
            columns[spec.name] = pa.array(series, type=fields[spec.kind], from_pandas=True)
    return pa.table(columns)


@pytest.mark.parametrize(("policy", "params"), CASES)
def test_spark_answers_as_assess(
    spark: Any, incidents: str, frame: pd.DataFrame, policy: str, params: dict[str, Any]
) -> None:
    query = compile_policy(
        policy, params, dialect="spark", table=incidents, repeat=["incident_id"], with_states=True
    )
    result = spark.sql(query).toArrow().to_pandas()
    assert len(result) == ROWS
    # Spark keeps no row order: line its rows up with the input by incident_id.
    result = result.set_index("incident_id").loc[frame["incident_id"].to_numpy()]
    got = duck.typed_outputs(result.reset_index(drop=True), None)
    got.index = frame.index
    expected = assess(frame, policy, params, with_states=True)
    columns = [*contract.OUTPUT_COLUMNS, *(c for c in expected.columns if states.is_state(c))]
    assert differences(expected, got, columns) == {}
    # the rows reach every outcome and judgement, so the agreement means something
    assert got["guidance_outcome"].nunique() >= 2
    assert got["consistency"].nunique() >= 4
    assert got["recording_gap_status"].str.contains(":not_done").any()
    assert got["recording_gap_status"].str.contains(":not_recorded").any()


def test_spark_reads_the_tables_types(spark: Any, incidents: str) -> None:
    types = dict(spark.table(incidents).dtypes)
    assert types["adult_involved"] == "boolean"
    assert types["youngest_child_age"] == "bigint"
    assert types["reported_on"] == "date"
    assert Path(spark.sparkContext._conf.get("spark.local.dir")).exists()
