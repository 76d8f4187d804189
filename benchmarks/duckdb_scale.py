"""`assess --engine duckdb` on a 20-million-incident Parquet log within a 4 GB memory limit.

    .venv/bin/python -m benchmarks.duckdb_scale [--rows 20000000] [--memory-limit 4GB]

The log is a synthetic million-incident log (`ypsi-audit synth`, seed 1000000) repeated
with fresh incident ids, plus one row in every 50,000 made invalid (so the gate has work
to do). The job runs in a fresh process, as a user would run it; wall time and the
process's peak resident memory (all of it: Python, the libraries and DuckDB) are
recorded. Then a sample of 200,000 rows spread over
the whole file is assessed by the pandas engine and compared, column by column, with
the DuckDB output at the same rows. Results go to benchmarks/results/duckdb_scale.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_assess import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATA = RESULTS / "data"
SAMPLE = 200_000


def build_log(rows: int) -> Path:
    import duckdb

    from ypsi_audit.synth import generate, write_log

    target = DATA / f"scale-{rows}.parquet"
    if target.exists():
        return target
    DATA.mkdir(parents=True, exist_ok=True)
    base = DATA / "scale-base-1000000.parquet"
    if not base.exists():
        write_log(generate(12, 3, 1_000_000, n=1_000_000), base)
    copies = -(-rows // 1_000_000)
    partial = target.with_name(target.name + ".partial")
    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'")
    con.execute(
        f"""COPY (
          SELECT b.* EXCLUDE (ordinal) REPLACE (
            'B' || c.range || '-' || b.incident_id AS incident_id,
            CASE WHEN (c.range * 1000000 + b.ordinal) % 50000 = 7 THEN 150
                 ELSE b.youngest_child_age END AS youngest_child_age
          )
          FROM (SELECT *, row_number() OVER () AS ordinal FROM read_parquet('{base}')) b,
               range({copies}) c
          ORDER BY c.range, b.ordinal
          LIMIT {rows}
        ) TO '{partial}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"""
    )
    con.close()
    partial.rename(target)  # a stopped build leaves no half-written log behind
    return target


def run_job(source: Path, out: Path, memory_limit: str) -> dict:
    """The CLI job in a fresh process (`--child`), its wall time and peak memory."""
    for stale in out.parent.glob(out.stem + "*"):
        stale.unlink()
    command = [sys.executable, "-m", "benchmarks.duckdb_scale", "--child", str(source), str(out)]
    command += ["--memory-limit", memory_limit]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    print(done.stdout)
    lines = done.stdout.strip().splitlines()
    if done.returncode not in (0, 1) or not lines:
        print(done.stderr)
        raise SystemExit(f"the job failed with exit code {done.returncode}")
    measured = json.loads(lines[-1])
    return {"seconds": round(seconds, 1), **measured}


def child(source: str, out: str, memory_limit: str) -> None:
    """Run `ypsi-audit assess --engine duckdb` here, the peak measured from a reset
    high-water mark (a spawned process inherits its parent's `ru_maxrss`)."""
    from benchmarks.worker import PeakMemory
    from ypsi_audit.cli import main as cli

    memory = PeakMemory()
    memory.start()
    code = cli(
        ["assess", source, "--out", out, "--engine", "duckdb", "--memory-limit", memory_limit]
    )
    peak = memory.stop() + memory.baseline
    record = {"exit_code": code, "peak_rss_bytes": peak, "memory_method": memory.method}
    print(json.dumps(record))
    sys.exit(code)


def compare_sample(source: Path, out: Path, rows: int) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from benchmarks.differential import differences
    from ypsi_audit.engine import assess
    from ypsi_audit.loading import load_incidents

    step = rows // SAMPLE
    wanted = np.arange(0, rows, step)[:SAMPLE]
    sample_path = DATA / "scale-sample.parquet"
    table = pq.read_table(source).take(wanted)
    pq.write_table(table, sample_path)
    frame = load_incidents(sample_path)
    valid = frame[(frame["youngest_child_age"].fillna(4) <= 17)]
    expected = assess(valid).reset_index(drop=True)
    output = pq.read_table(out, columns=["incident_id", "guidance_outcome"]).column(0)
    ids = pd.Index(output.to_pandas())
    positions = ids.get_indexer(valid["incident_id"].to_numpy())
    assert (positions >= 0).all(), "a sampled valid row is missing from the output"
    got = pq.read_table(out).take(positions).to_pandas()
    found = differences(expected, got)
    return {"sample_rows": len(valid), "differences": found}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "OUT"))
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, args.memory_limit)
    source = build_log(args.rows)
    out = DATA / f"scale-{args.rows}-assessed.parquet"
    job = run_job(source, out, args.memory_limit)
    sample = compare_sample(source, out, args.rows)
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "rows": args.rows,
        "input_bytes": source.stat().st_size,
        "memory_limit": args.memory_limit,
        **job,
        **sample,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "duckdb_scale.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    if sample["differences"]:
        raise SystemExit("the DuckDB engine and the pandas engine differ on the sample")


if __name__ == "__main__":
    main()
