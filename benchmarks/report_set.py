"""One-off measurement of the full report set: `python -m benchmarks.report_set`.

Times `ypsi-audit report LOG --out DIR` on the 1,000,000-incident synthetic log of
`make bench` (generated there, or here if missing) in a fresh process, and records the
size of every HTML page written under DIR, against issue 4's targets: the whole set in
under 3 minutes, each page under 5 MB. The report set is whatever notebooks exist when
this runs, so the result names them and carries the date. Saved to
benchmarks/results/report_set.json; DIR is a temporary folder unless --out is given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_assess import machine
from benchmarks.run import RESULTS, ROOT, TARGET_SIZE, ensure_logs, log_path

LIMIT_S = 180.0
PAGE_LIMIT_BYTES = 5 * 10**6
# Exit codes of `ypsi-audit report` that still mean a complete set was written.
WRITTEN = {0: "all written", 1: "some rows held back; reports still written"}


def measure(source: Path, out: Path) -> dict[str, Any]:
    """Run the report command once and describe what it wrote."""
    command = [str(Path(sys.executable).parent / "ypsi-audit"), "report", str(source)]
    command += ["--out", str(out)]
    print("running:", " ".join(command), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in WRITTEN:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"ypsi-audit report failed (exit {done.returncode})")
    pages = [
        {
            "page": str(page.relative_to(out)),
            "bytes": page.stat().st_size,
            "met": page.stat().st_size < PAGE_LIMIT_BYTES,
        }
        for page in sorted(out.rglob("*.html"))
    ]
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": f"ypsi-audit report {shown(source)} --out DIR",
        "incidents": TARGET_SIZE,
        "exit_code": done.returncode,
        "exit_meaning": WRITTEN[done.returncode],
        "notebooks_present": notebooks,
        "wall_s": seconds,
        "wall_target_s": LIMIT_S,
        "wall_met": seconds < LIMIT_S,
        "page_target_bytes": PAGE_LIMIT_BYTES,
        "pages": pages,
        "pages_met": bool(pages) and all(p["met"] for p in pages),
    }


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def show(record: dict[str, Any]) -> None:
    print(f"\nfull report set, {record['incidents']:,} incidents, {record['date']}")
    print(f"{record['machine']}; exit {record['exit_code']} ({record['exit_meaning']})")
    met = "yes" if record["wall_met"] else "NO"
    print(f"wall time {record['wall_s']:.1f} s (target < {LIMIT_S:.0f} s: {met})")
    width = max((len(p["page"]) for p in record["pages"]), default=4)
    for page in record["pages"]:
        flag = "" if page["met"] else "  over 5 MB"
        print(f"  {page['page']:<{width}}  {page['bytes'] / 10**6:7.2f} MB{flag}")
    if not record["pages"]:
        print("  no HTML page was written")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, help="log to report on (default: 1M Parquet)")
    parser.add_argument("--out", type=Path, help="folder for the report set (default: temp)")
    parser.add_argument("--save", type=Path, default=RESULTS / "report_set.json")
    args = parser.parse_args(argv)
    source = args.input
    if source is None:
        ensure_logs([TARGET_SIZE])
        source = log_path(TARGET_SIZE, ".parquet")
    source = source.resolve()
    if args.out is not None:
        record = measure(source, args.out.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="ypsi-report-bench-") as folder:
            record = measure(source, Path(folder))
    show(record)
    args.save.parent.mkdir(parents=True, exist_ok=True)
    args.save.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nsaved {args.save}")


if __name__ == "__main__":
    main()
