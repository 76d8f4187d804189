"""One benchmark operation in a fresh process: `python -m benchmarks.worker OP INPUT ...`.

`run.py` starts one of these per operation and size so each peak-memory figure belongs
to that operation alone, and prints one JSON object on stdout. The child imports what it
needs, loads its input, warms up on a small log, then measures.

Peak memory is the process's peak resident set (RSS) above its baseline. The baseline is
taken after imports, warm-up and loading the input, with the kernel's high-water mark
reset there (Linux /proc/self/clear_refs) so a peak reached while loading is not counted.
The peak is read from VmHWM in /proc/self/status rather than `ru_maxrss`: on Linux a
spawned child's `ru_maxrss` starts at its parent's peak (the exec inherits it) and no
reset clears it. Without /proc we fall back to `ru_maxrss`, and without `resource` to
tracemalloc (Python and NumPy allocations only); the JSON names the method used.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SWEEP_PARAM = "wide_age_gap_years"
SWEEP_VALUES = range(1, 11)
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


# ------------------------------------------------------------------------------ memory


def release_memory() -> None:
    """Hand freed memory back to the OS so the baseline is what is really in use."""
    gc.collect()
    import pyarrow

    pyarrow.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _status_kib(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _ru_maxrss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS bytes, Linux KiB


class PeakMemory:
    """Peak memory of the code run between `start` and `stop`, by the best method here."""

    def __init__(self) -> None:
        self.method = ""
        self.baseline = 0

    def start(self) -> None:
        release_memory()
        try:
            CLEAR_REFS.write_text("5")  # reset the peak RSS to the current RSS
            rss = _status_kib("VmRSS")
            hwm = _status_kib("VmHWM")
            if rss is not None and hwm is not None and hwm <= rss + 1024:
                self.method = "peak RSS (VmHWM, reset after imports + input load)"
                self.baseline = rss * 1024
                return
        except OSError:
            pass
        try:
            self.baseline = _ru_maxrss_bytes()
            self.method = "peak RSS (ru_maxrss after imports + input load; may understate)"
        except ImportError:
            import tracemalloc

            tracemalloc.start()
            self.method = "tracemalloc (Python and NumPy allocations only)"

    def stop(self) -> int:
        """Bytes above the baseline at the peak."""
        if self.method.startswith("tracemalloc"):
            import tracemalloc

            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return peak
        if "VmHWM" in self.method:
            return (_status_kib("VmHWM") or 0) * 1024 - self.baseline
        return _ru_maxrss_bytes() - self.baseline


# -------------------------------------------------------------------------- operations


def _load(path: str) -> Any:
    from ypsi_audit.loading import load_incidents

    return load_incidents(path)


def setup(op: str, path: str, warmup: str) -> Callable[[], Any]:
    """Import, load the input and warm up; return the operation to measure."""
    if op in ("load_csv", "load_parquet"):
        _load(warmup)
        return lambda: _load(path)
    if op == "read_pyarrow":  # the reference for load_parquet: pyarrow's own read into pandas
        import pyarrow.parquet as pq

        pq.read_table(warmup).to_pandas()
        return lambda: pq.read_table(path).to_pandas()
    if op == "validate":
        from ypsi_audit.validation import run_gate

        run_gate(warmup)  # GX import and context: paid once per session, not per log
        return lambda: run_gate(path)
    frame = _load(path)
    if op in ("assess", "sweep", "sweep_naive", "rowwise"):
        return _assess_like(op, frame)
    if op == "kernel":
        return _kernel(frame)
    if op == "engine_factors":
        return _engine_factors(frame)
    raise SystemExit(f"unknown operation {op}")


def _assess_like(op: str, frame: Any) -> Callable[[], Any]:
    from ypsi_audit.engine import assess

    assess(frame.head(100))  # warm up: policy parse and caches
    if op == "assess":
        return lambda: assess(frame)
    if op == "sweep":
        return _sweep(frame)
    if op == "sweep_naive":
        return lambda: [assess(frame, params={SWEEP_PARAM: v}) for v in SWEEP_VALUES]
    from benchmarks import rowwise

    wrong = rowwise.mismatches(frame, expected=assess(frame))
    if len(wrong):
        abort(f"the row-by-row version disagrees with assess on {len(wrong)} rows:\n{wrong.head()}")
    return lambda: rowwise.assess_rowwise(frame)


def _sweep(frame: Any) -> Callable[[], Any]:
    """The project's sweep (`ypsi_audit.impact.sweep`: rules that do not read the swept
    parameter are evaluated once), checked first against one assess run per value."""
    from ypsi_audit.engine import assess
    from ypsi_audit.impact import sweep
    from ypsi_audit.policy import DEFAULT_POLICY

    def run() -> Any:
        return sweep(frame, DEFAULT_POLICY, SWEEP_PARAM, list(SWEEP_VALUES))

    table = run()
    for row in table.itertuples():
        assessed = assess(frame, params={SWEEP_PARAM: row.value})
        outcome = assessed["guidance_outcome"].value_counts()
        judged = assessed["consistency"].value_counts()
        if (row.n_refer, row.n_insufficient, row.n_under_escalation) != (
            outcome["refer_police"],
            outcome["insufficient_information"],
            judged["under_escalation"],
        ):
            abort(f"the sweep disagrees with assess at {SWEEP_PARAM}={row.value}")
    return run


def _kernel(frame: Any) -> Callable[[], Any]:
    from benchmarks import kernel

    wrong = kernel.mismatches(frame)
    if wrong:
        abort("the NumPy kernel disagrees with assess: " + "; ".join(wrong))
    arrays = kernel.prepare(frame)  # conversion is outside the timed region by design
    kernel.kernel(arrays)
    return lambda: kernel.kernel(arrays)


def _engine_factors(frame: Any) -> Callable[[], Any]:
    """The engine on the kernel's job alone: a policy with only the factors (and outcome).

    Unlike the kernel it still reads its columns from the frame, inside the timed region.
    """
    import dataclasses

    import numpy as np

    from ypsi_audit.engine import assess, evaluate
    from ypsi_audit.policy import load_policy

    factors_only = dataclasses.replace(load_policy(), experimental=(), recording=())
    expected = np.asarray(assess(frame)["guidance_outcome"].cat.codes)
    if not (evaluate(frame, factors_only).outcome == expected).all():
        abort("the factors-only policy gives other outcomes than assess")
    return lambda: evaluate(frame, factors_only)


def abort(message: str) -> None:
    print(f"ABORT: {message}", file=sys.stderr)
    raise SystemExit(3)


def measure(run: Callable[[], Any], repeats: int, memory: bool) -> dict[str, Any]:
    """Wall times of `repeats` runs; the first also gives the peak memory when asked."""
    peak = PeakMemory()
    if memory:
        peak.start()
    start = time.perf_counter()
    result = run()
    times = [time.perf_counter() - start]
    out: dict[str, Any] = {}
    if memory:
        out.update(peak_bytes=peak.stop(), memory_method=peak.method)
    del result
    for _ in range(repeats - 1):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        del result
    return {"times": times, **out}


def generate(size: int, csv_path: str, parquet_path: str) -> None:
    """Write a synthetic log of `size` incidents (seed = size) as CSV and Parquet."""
    from ypsi_audit.synth import generate as synth
    from ypsi_audit.synth import write_log

    frame = synth(seed=size, n=size)
    write_log(frame, csv_path)
    write_log(frame, parquet_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("op")
    parser.add_argument("input", help="the log to measure on (or, for generate, a size)")
    parser.add_argument("--warmup", help="a small log to warm up on")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    parser.add_argument("--out", nargs=2, help="generate: the CSV and Parquet paths")
    args = parser.parse_args(argv)
    if args.op == "generate":
        generate(int(args.input), *args.out)
        return
    run = setup(args.op, args.input, args.warmup or args.input)
    print(json.dumps(measure(run, args.repeats, args.memory)))


if __name__ == "__main__":
    main()
