"""Where the time of `assess` and of the validation gate goes: `python -m benchmarks.breakdown`.

`make bench` says whether a target is missed; this says why. It times the stages of each
operation on a cached benchmark log (run `make bench` first) and prints the functions
cProfile charges the most time to. Stages are timed without the profiler, which slows
the Python-heavy parts more than the NumPy ones.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from benchmarks.run import WARMUP_SIZE, log_path


def median_time(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def show(stages: list[tuple[str, float]], total: float) -> None:
    width = max(len(name) for name, _ in stages)
    for name, seconds in stages:
        print(f"  {name:<{width}}  {seconds:8.4f} s  {100 * seconds / total:5.1f}%")


def profile(run: Callable[[], Any], top: int) -> None:
    """The functions with the most time of their own (not of what they call)."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def assess_stages(size: int, repeats: int) -> tuple[list[tuple[str, float]], float]:
    """assess = read columns + factors/outcome + the rest of evaluate + spelling out."""
    from benchmarks import kernel
    from ypsi_audit.engine import ColumnReader, assess, evaluate
    from ypsi_audit.loading import load_incidents
    from ypsi_audit.policy import load_policy

    frame = load_incidents(log_path(size, ".parquet"))
    policy = load_policy()
    factors_only = dataclasses.replace(policy, experimental=(), recording=())
    columns = sorted({c for rule in policy.factors for c in rule.condition.columns()})
    assess(frame.head(100))
    arrays = kernel.prepare(frame)
    total = median_time(lambda: assess(frame), repeats)
    whole = median_time(lambda: evaluate(frame), repeats)
    factor_part = median_time(lambda: evaluate(frame, factors_only), repeats)
    reading = median_time(lambda: [ColumnReader(frame)(c) for c in columns], repeats)
    print(
        f"NumPy kernel (b), for scale: {median_time(lambda: kernel.kernel(arrays), repeats):.4f} s"
    )
    return [
        ("read the factor columns into arrays", reading),
        ("factors + outcome on those arrays", factor_part - reading),
        ("experimental + recording rules (both readings)", whole - factor_part),
        ("spell out 5 explanation columns, consistency", total - whole),
    ], total


def gate_stages(size: int, repeats: int) -> tuple[list[tuple[str, float]], float]:
    """run_gate = read the file + all GX suites + the rest; then each suite on its own."""
    from ypsi_audit import validation

    path = log_path(size, ".parquet")
    validation.run_gate(log_path(WARMUP_SIZE, ".parquet"))
    total = median_time(lambda: validation.run_gate(path), repeats)
    reading = median_time(lambda: validation.read_incidents(path), repeats)
    gx_frame = validation._for_gx(validation.read_incidents(path).frame)  # what GX is given
    gx = median_time(lambda: validation.validate_frame(gx_frame), repeats)
    stages = [
        ("read Parquet into contract dtypes", reading),
        ("GX: every suite (validate_frame)", gx),
        ("the rest: total minus the above (noisy difference)", total - reading - gx),
    ]
    for suite in sorted(validation.EXPECTATIONS_DIR.glob("*.json")):
        with tempfile.TemporaryDirectory() as folder:
            shutil.copy(suite, folder)
            validation.validate_frame(gx_frame.head(100), directory=folder)  # warm up
            seconds = median_time(
                lambda f=folder: validation.validate_frame(gx_frame, directory=f), repeats
            )
        stages.append((f"  GX suite {suite.stem} alone (own GX context)", seconds))
    return stages, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top", type=int, default=15, help="profile lines to show")
    parser.add_argument("--what", choices=("assess", "validate", "both"), default="both")
    args = parser.parse_args(argv)
    if args.what in ("assess", "both"):
        stages, total = assess_stages(args.size, args.repeats)
        print(f"assess, {args.size:,} incidents: {total:.3f} s (median of {args.repeats})")
        show(stages, total)
        from ypsi_audit.engine import assess
        from ypsi_audit.loading import load_incidents

        frame = load_incidents(log_path(args.size, ".parquet"))
        profile(lambda: assess(frame), args.top)
    if args.what in ("validate", "both"):
        stages, total = gate_stages(args.size, args.repeats)
        print(f"validate, {args.size:,} incidents: {total:.3f} s (median of {args.repeats})")
        show(stages, total)
        from ypsi_audit.validation import run_gate

        profile(lambda: run_gate(log_path(args.size, ".parquet")), args.top)


if __name__ == "__main__":
    main()
