"""`make bench`: the toolkit's speed and memory on synthetic logs, against its targets.

For 10,000, 100,000 and 1,000,000 incidents: load CSV, load Parquet (beside pyarrow's
own read into pandas, its reference), validate (the whole gate from Parquet), assess,
and a 10-value parameter sweep of wide_age_gap_years 1..10 with the project's own
`ypsi_audit.impact.sweep` (which evaluates the rules that do not read the parameter
once), beside the naive sweep of one assess run per value. Each is measured in a fresh
process (benchmarks/worker.py): median wall time of repeated runs, incidents per second
and peak memory. `assess` is compared with a row-by-row version (benchmarks/rowwise.py)
and a hand-written NumPy kernel (benchmarks/kernel.py), both checked to agree with
`assess` before they are timed. `ypsi-audit report` on the shipped sample is timed too
(median of 3 fresh runs). The table is printed and saved to benchmarks/results/bench.json
with the date and machine. Generated logs are cached in benchmarks/results/data/
(ignored by git). `make bench` then runs benchmarks.engines (pandas, DuckDB and Polars
side by side) and benchmarks.report_set (the report set on a million incidents) in the
same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_assess import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATA = RESULTS / "data"
SIZES = (10_000, 100_000, 1_000_000)
WARMUP_SIZE = 1_000
TARGET_SIZE = 1_000_000
ROWWISE_LIMIT_S = 60.0  # longer than this and the row-by-row time is extrapolated
GB = 10**9
MIB = 2**20


@dataclass(frozen=True)
class Operation:
    name: str  # worker operation
    label: str
    suffix: str  # input file used
    repeats: int
    memory: bool = True


OPERATIONS = (
    Operation("load_csv", "load CSV", ".csv", 3),
    Operation("load_parquet", "load Parquet", ".parquet", 5),
    Operation("read_pyarrow", "pyarrow read into pandas (reference)", ".parquet", 5),
    Operation("validate", "validate (gate, Parquet)", ".parquet", 3),
    Operation("assess", "assess", ".parquet", 5),
    Operation("sweep", "sweep (impact.sweep, 10 values)", ".parquet", 5),
    Operation("sweep_naive", "sweep, naive (10 assess runs)", ".parquet", 3),
)
KERNEL = Operation("kernel", "NumPy kernel (b)", ".parquet", 5, memory=False)
# The engine doing only the kernel's job, to tell the engine's overhead from extra work.
ENGINE_FACTORS = Operation("engine_factors", "engine, factors + outcome", ".parquet", 5, False)


def rowwise_operation(size: int) -> Operation:
    return Operation("rowwise", "row-by-row (a)", ".parquet", 3 if size <= 10_000 else 1, False)


# ---------------------------------------------------------------------------- data


def log_path(size: int, suffix: str) -> Path:
    return DATA / f"synth-{size}-seed{size}{suffix}"


def ensure_logs(sizes: list[int]) -> None:
    """Generate each synthetic log once (seed = size) and reuse it on later runs."""
    DATA.mkdir(parents=True, exist_ok=True)
    for size in sorted({WARMUP_SIZE, *sizes}):
        csv, parquet = log_path(size, ".csv"), log_path(size, ".parquet")
        if csv.exists() and parquet.exists():
            continue
        print(f"generating {size:,} incidents ...", flush=True)
        worker(["generate", str(size), "--out", str(csv), str(parquet)], parse=False)


# ---------------------------------------------------------------------------- workers


def worker(args: list[str], parse: bool = True) -> dict[str, Any]:
    """Run benchmarks.worker in a fresh interpreter; stop everything if it fails."""
    command = [sys.executable, "-m", "benchmarks.worker", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark aborted: {' '.join(args[:2])} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1]) if parse else {}


def measure(op: Operation, size: int) -> dict[str, Any]:
    """One operation on one log size, in its own process."""
    args = [op.name, str(log_path(size, op.suffix)), "--repeats", str(op.repeats)]
    args += ["--warmup", str(log_path(WARMUP_SIZE, op.suffix))]
    if op.memory:
        args.append("--memory")
    print(f"  {op.label:<32} {size:>10,} ...", end="", flush=True)
    result = worker(args)
    median = statistics.median(result["times"])
    print(f" {median:.3f} s", flush=True)
    row = {
        "operation": op.name,
        "label": op.label,
        "incidents": size,
        "runs": len(result["times"]),
        "median_s": median,
        "incidents_per_s": size / median,
        "times_s": result["times"],
    }
    if "peak_bytes" in result:
        row.update(peak_mib=result["peak_bytes"] / MIB, memory_method=result["memory_method"])
    return row


def measure_rowwise(sizes: list[int]) -> list[dict[str, Any]]:
    """Time the row-by-row version; past ROWWISE_LIMIT_S extrapolate linearly instead."""
    rows: list[dict[str, Any]] = []
    for size in sizes:
        if rows:
            last = rows[-1]
            estimate = last["median_s"] * size / last["incidents"]
            if estimate > ROWWISE_LIMIT_S:
                note = f"extrapolated linearly from {last['incidents']:,}"
                rows.append(
                    {
                        **last,
                        "incidents": size,
                        "median_s": estimate,
                        "runs": 0,
                        "incidents_per_s": size / estimate,
                        "times_s": [],
                        "extrapolated": note,
                    }
                )
                print(f"  {'row-by-row (a)':<32} {size:>10,} ~{estimate:.0f} s ({note})")
                continue
        rows.append(measure(rowwise_operation(size), size))
    return rows


def help_time(runs: int = 10) -> dict[str, Any]:
    """`ypsi-audit --help` wall time in fresh processes (after one run to warm the disk)."""
    command = [str(Path(sys.executable).parent / "ypsi-audit"), "--help"]
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return {"runs": runs, "median_s": statistics.median(times), "times_s": times}


def report_on_sample(runs: int = 3) -> dict[str, Any]:
    """`ypsi-audit report` on the shipped sample, whole set written, in fresh processes."""
    from benchmarks.report_set import measure as measure_report

    sample = ROOT / "data" / "samples" / "sample_trust_log.csv"
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="ypsi-bench-") as folder:
            times.append(measure_report(sample, Path(folder) / "set")["wall_s"])
    median = statistics.median(times)
    print(f"  {'report on the sample':<32} {598:>10,} ... {median:.3f} s", flush=True)
    return {"runs": runs, "median_s": median, "times_s": times}


# ---------------------------------------------------------------------------- targets


def find(rows: list[dict[str, Any]], op: str, size: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["operation"] == op and r["incidents"] == size), None)


def comparisons(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size: assess against the row-by-row version (speed-up) and the kernel (overhead),
    and the engine's factors-and-outcome path alone against the kernel (like for like)."""
    out = []
    for size in sorted({r["incidents"] for r in rows if r["operation"] == "assess"}):
        time_of = {
            op: row["median_s"]
            for op in ("assess", "rowwise", "kernel", "engine_factors")
            if (row := find(rows, op, size))
        }
        entry: dict[str, Any] = {"incidents": size, "assess_s": time_of["assess"]}
        if "rowwise" in time_of:
            entry.update(
                rowwise_s=time_of["rowwise"], speedup=ratio(time_of["rowwise"], time_of["assess"])
            )
            entry["rowwise_note"] = find(rows, "rowwise", size).get("extrapolated", "measured")
        if "kernel" in time_of:
            entry.update(
                kernel_s=time_of["kernel"], overhead=ratio(time_of["assess"], time_of["kernel"])
            )
        if "kernel" in time_of and "engine_factors" in time_of:
            entry.update(
                engine_factors_s=time_of["engine_factors"],
                engine_overhead=ratio(time_of["engine_factors"], time_of["kernel"]),
            )
        out.append(entry)
    return out


@dataclass(frozen=True)
class Target:
    """A goal from the project's issue 7: `measured <compare> limit` must hold."""

    name: str
    compare: str  # "<", "<=" or ">="
    limit: float
    unit: str

    def met(self, measured: float | None) -> bool | None:
        if measured is None:
            return None
        return {"<": measured < self.limit, "<=": measured <= self.limit}.get(
            self.compare, measured >= self.limit
        )


TARGETS = (
    Target("assess 1,000,000", "<=", 1.0, "s"),
    Target("assess speed-up over row-by-row (a), 1,000,000", ">=", 50.0, "x"),
    Target("assess overhead over NumPy kernel (b), 1,000,000", "<=", 3.0, "x"),
    Target("assess peak memory, 1,000,000", "<", 1.5, "GB"),
    Target("validate 1,000,000", "<", 5.0, "s"),
    Target("load Parquet 1,000,000", "<", 1.0, "s"),
    Target("load CSV 1,000,000", "<", 5.0, "s"),
    Target("ypsi-audit --help", "<", 0.5, "s"),
    Target("assess s/incident, 1,000,000 over 100,000", "<=", 1.3, "x"),
    # issue 16
    Target("load Parquet / pyarrow read into pandas, 1,000,000", "<=", 1.5, "x"),
    Target("validate 1,000,000 (issue 16)", "<", 3.0, "s"),
    Target("report on the sample (598 incidents)", "<", 12.0, "s"),
)


def ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or bottom is None else top / bottom


def measured_for_targets(
    rows: list[dict[str, Any]], help_s: float, report_s: float | None = None
) -> list[float | None]:
    """What each of TARGETS measured, in the same order (None: not measured this run)."""

    def value(op: str, key: str = "median_s", size: int = TARGET_SIZE) -> float | None:
        row = find(rows, op, size)
        return None if row is None else row.get(key)

    assess = value("assess")
    peak = value("assess", "peak_mib")
    return [
        assess,
        ratio(value("rowwise"), assess),
        ratio(assess, value("kernel")),
        None if peak is None else peak * MIB / GB,
        value("validate"),
        value("load_parquet"),
        value("load_csv"),
        help_s,
        ratio(ratio(assess, TARGET_SIZE), ratio(value("assess", size=100_000), 100_000)),
        ratio(value("load_parquet"), value("read_pyarrow")),
        value("validate"),
        report_s,
    ]


def targets(
    rows: list[dict[str, Any]], help_s: float, report_s: float | None = None
) -> list[dict[str, Any]]:
    """Each target with what was measured and whether it is met (None: not measured)."""
    out = []
    measured_all = measured_for_targets(rows, help_s, report_s)
    for target, measured in zip(TARGETS, measured_all, strict=True):
        limit = f"{target.compare} {target.limit:g}{'' if target.unit == 'x' else ' '}{target.unit}"
        out.append(
            {
                "target": target.name,
                "limit": limit,
                "measured": measured,
                "unit": target.unit,
                "met": target.met(measured),
            }
        )
    rowwise = find(rows, "rowwise", TARGET_SIZE)
    if rowwise and "extrapolated" in rowwise:
        out[1]["note"] = "row-by-row time at 1,000,000 " + rowwise["extrapolated"]
    return out


# ---------------------------------------------------------------------------- report


def seconds(value: float) -> str:
    """Enough digits to show a sub-millisecond kernel and a minute-long loop alike."""
    return f"{value:.5f}" if value < 0.01 else f"{value:.3f}"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """First column left-aligned, the rest right-aligned, each as wide as it needs."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))


def operations_table(record: dict[str, Any]) -> None:
    rows = []
    for r in record["operations"]:
        rows.append(
            [
                r["label"],
                f"{r['incidents']:,}",
                str(r["runs"]) if r["runs"] else "est.",
                seconds(r["median_s"]),
                f"{r['incidents_per_s']:,.0f}",
                f"{r['peak_mib']:.1f}" if "peak_mib" in r else "-",
            ]
        )
    help_run = record["help"]
    runs, median = str(help_run["runs"]), seconds(help_run["median_s"])
    rows.append(["ypsi-audit --help", "-", runs, median, "-", "-"])
    print_table(["operation", "incidents", "runs", "median s", "incidents/s", "peak MiB"], rows)
    print("(sweeps: incidents/s counts each incident once for all 10 values; est.: extrapolated)")


def comparisons_table(record: dict[str, Any]) -> None:
    rows = []
    for c in record["comparisons"]:
        note = c.get("rowwise_note", "-")
        rows.append(
            [
                f"{c['incidents']:,}",
                seconds(c["assess_s"]),
                seconds(c["rowwise_s"]) if "rowwise_s" in c else "-",
                f"{c['speedup']:.0f}x" if "speedup" in c else "-",
                seconds(c["kernel_s"]) if "kernel_s" in c else "-",
                f"{c['overhead']:.1f}x" if "overhead" in c else "-",
                seconds(c["engine_factors_s"]) if "engine_factors_s" in c else "-",
                f"{c['engine_overhead']:.1f}x" if "engine_overhead" in c else "-",
                note,
            ]
        )
    header = ["incidents", "assess s", "(a) row-by-row s", "speed-up", "(b) kernel s"]
    header += ["assess / (b)", "engine factors+outcome s", "that / (b)", "(a) timing"]
    print_table(header, rows)


def targets_table(record: dict[str, Any]) -> None:
    rows = []
    for t in record["targets"]:
        shown = "-" if t["measured"] is None else f"{t['measured']:.3g} {t['unit']}"
        rows.append(
            [t["target"], t["limit"], shown, {True: "yes", False: "NO", None: "n/a"}[t["met"]]]
        )
    print_table(["target", "target", "measured", "met?"], rows)
    for t in record["targets"]:
        if "note" in t:
            print(f"note: {t['note']}")


def print_report(record: dict[str, Any]) -> None:
    print(f"\nypsi-audit benchmarks, {record['date']}; {record['machine']}")
    print(f"Medians of the runs shown. Peak memory: {record['memory_method']}.\n")
    operations_table(record)
    print("\nassess against (a) a row-by-row DataFrame.apply version and (b) a NumPy kernel")
    print("of the factors and outcome only; 'engine factors+outcome' is the engine on (b)'s job:")
    comparisons_table(record)
    print()
    targets_table(record)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--out", type=Path, default=RESULTS / "bench.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    ensure_logs(sizes)
    rows = [measure(op, size) for size in sizes for op in (*OPERATIONS, KERNEL, ENGINE_FACTORS)]
    rows += measure_rowwise(sizes)
    order = [op.name for op in (*OPERATIONS, KERNEL, ENGINE_FACTORS)] + ["rowwise"]
    rows.sort(key=lambda r: (order.index(r["operation"]), r["incidents"]))
    help_result = help_time()
    sample_report = report_on_sample()
    memory_methods = sorted({r["memory_method"] for r in rows if "memory_method" in r})
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "benchmark": "bench",
        "memory_method": "; ".join(memory_methods),
        "operations": rows,
        "help": help_result,
        "comparisons": comparisons(rows),
        "sample_report": sample_report,
        "targets": targets(rows, help_result["median_s"], sample_report["median_s"]),
        "total_s": time.perf_counter() - started,
    }
    print_report(record)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nsaved {args.out} ({record['total_s']:.0f} s in all)")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
