"""`make bench-engines`: the pandas engine, DuckDB (the compiled SQL) and Polars (the same
rules as Polars expressions) side by side, in memory and Parquet to Parquet.

    .venv/bin/python -m benchmarks.engines [--sizes 100000,1000000,10000000]

Logs are the synthetic million-incident log repeated with fresh ids (as
`benchmarks/duckdb_scale.py` makes them), cut to each size. Every measurement runs in
a fresh process: in memory, the frame is loaded first and `assess` (or its equivalent)
is timed alone; Parquet to Parquet times reading, assessing and writing. The gate is
not part of either. Times are medians (3 runs, 1 at 10 million); peak memory is the
process's peak resident set above what it held when the timed work began (the kernel's
high-water mark reset there, as `benchmarks/worker.py` does), so in memory it leaves
out the input frame, and Parquet to Parquet it counts everything the job holds. Before
timing, each engine's answers are checked against `assess` on the first 100,000 rows.
Results go to benchmarks/results/engines.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_assess import machine
from benchmarks.duckdb_scale import RESULTS, build_log
from benchmarks.worker import PeakMemory

ENGINES = ("pandas", "duckdb", "polars")
MODES = ("memory", "parquet")
POLICY = "cheshire-quick-guide"


def worker(engine: str, mode: str, source: str, repeats: int) -> dict:
    """One engine, one mode, in this process: the times and the peak memory."""
    import pandas as pd
    import polars as pl

    from benchmarks.polars_engine import assess_lazy, from_pandas
    from ypsi_audit import duck
    from ypsi_audit.engine import assess
    from ypsi_audit.loading import load_incidents

    times = []
    if mode == "memory":
        frame = load_incidents(source)
        polars_frame = from_pandas(frame) if engine == "polars" else None
        run = {
            "pandas": lambda: assess(frame, POLICY),
            "duckdb": lambda: duck.assess_frame(frame, POLICY),
            "polars": lambda: assess_lazy(polars_frame.lazy(), POLICY).collect(),
        }[engine]
    else:
        folder = tempfile.mkdtemp()
        target = str(Path(folder) / "out.parquet")

        def run_pandas() -> None:
            assess(load_incidents(source), POLICY).to_parquet(target, index=False)

        def run_polars() -> None:
            assess_lazy(pl.scan_parquet(source), POLICY).sink_parquet(target)

        run = {
            "pandas": run_pandas,
            "duckdb": lambda: duck.assess_parquet_unchecked(source, target, POLICY),
            "polars": run_polars,
        }[engine]
    pd.DataFrame()  # imports settled before the baseline
    memory = PeakMemory()
    memory.start()
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {
        "median_s": statistics.median(times),
        "runs": times,
        "peak_bytes": memory.stop(),
        "memory_method": memory.method,
    }


def check(source: Path) -> None:
    """Each engine gives assess's answers on the first 100,000 rows before any timing."""
    import polars as pl

    from benchmarks.differential import differences
    from benchmarks.polars_engine import assess_lazy, from_pandas
    from ypsi_audit import duck
    from ypsi_audit.engine import assess
    from ypsi_audit.loading import load_incidents

    frame = load_incidents(source).iloc[:100_000]
    expected = assess(frame, POLICY)
    got = assess_lazy(from_pandas(frame).lazy(), POLICY).collect().to_pandas()
    got.index = frame.index
    found = {
        "duckdb": differences(expected, duck.assess_frame(frame, POLICY)),
        "polars": differences(expected, got),
    }
    if any(found.values()):
        raise SystemExit(f"engines differ from assess: {found}")
    del pl


def measure(engine: str, mode: str, source: Path, repeats: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.engines", "--worker", engine, mode, str(source)]
    command += ["--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"median_s": None, "runs": [], "peak_bytes": None, "error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "MODE", "SOURCE"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeats)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        source = build_log(size)
        if size == sizes[0]:
            check(source)
        for mode in MODES:
            for engine in ENGINES:
                found = measure(engine, mode, source, 3 if size <= 1_000_000 else 1)
                rows.append({"size": size, "mode": mode, "engine": engine, **found})
                if found["median_s"] is None:
                    print(f"{size:>11,} {mode:8} {engine:7} failed: {found['error']}", flush=True)
                    continue
                print(
                    f"{size:>11,} {mode:8} {engine:7} {found['median_s']:8.3f} s "
                    f"{found['peak_bytes'] / 2**20:8.0f} MiB",
                    flush=True,
                )
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "policy": POLICY,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engines.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
