"""Benchmark `assess` and the validation gate on synthetic logs: median wall time,
incidents per second, peak memory.

Run with `make bench`. Speed is measured here, never asserted in unit tests. The table is
printed and saved to benchmarks/results/assess.json with the date and machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from ypsi_audit.engine import assess
from ypsi_audit.policy import load_policy
from ypsi_audit.synth import generate

RESULTS = Path(__file__).parent / "results"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, {cpu}, Python {platform.python_version()}"


def time_assess(frame, repeats: int) -> list[float]:
    policy = load_policy("cheshire-quick-guide")
    assess(frame.head(100), policy)  # warm up imports and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        assess(frame, policy)
        times.append(time.perf_counter() - start)
    return times


def peak_memory(frame) -> int:
    """Bytes allocated at the peak of one assess call, beyond the input frame."""
    tracemalloc.start()
    assess(frame, "cheshire-quick-guide")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def time_gate(frame, repeats: int) -> list[float]:
    """The whole validation gate (read Parquet, screen, GX suites), GX already imported."""
    import tempfile

    from ypsi_audit.synth import write_log
    from ypsi_audit.validation import run_gate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.parquet"
        write_log(frame, path)
        run_gate(path)  # warm up: GX import and context
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            gate = run_gate(path)
            times.append(time.perf_counter() - start)
            assert gate.rows_valid == len(frame)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        frame = generate(seed=size, n=size)
        times = time_assess(frame, args.repeats)
        median = statistics.median(times)
        gate = statistics.median(time_gate(frame, max(1, args.repeats // 2)))
        rows.append(
            {
                "incidents": size,
                "median_s": round(median, 4),
                "incidents_per_s": round(size / median),
                "peak_mib": round(peak_memory(frame) / 2**20, 1),
                "validate_s": round(gate, 3),
                "runs": args.repeats,
            }
        )
    print(
        f"assess (cheshire-quick-guide@2) and validate (the whole gate, from Parquet), "
        f"medians; {machine()}"
    )
    print(
        f"{'incidents':>10} {'assess s':>9} {'incidents/s':>12} {'peak MiB':>9} {'validate s':>11}"
    )
    for row in rows:
        print(
            f"{row['incidents']:>10,} {row['median_s']:>9.3f} {row['incidents_per_s']:>12,} "
            f"{row['peak_mib']:>9.1f} {row['validate_s']:>11.2f}"
        )
    RESULTS.mkdir(exist_ok=True)
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "benchmark": "assess",
        "rows": rows,
    }
    (RESULTS / "assess.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
