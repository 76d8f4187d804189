"""`make bench-disclosure`: the protection methods measured against each other.

On the shipped sample and on synthetic trusts of 3 to 40 settings over 1 to 3 years, with
and without the generator's plants (a bias against children with special educational
needs and two settings that record poorly), the representative ledger
(`ypsi_audit.protection.representative`: the tables the report pages publish) is
protected by each method and attacked by the audit (`ypsi_audit.protection.audit`):

- `cell-key`: the project's cell-key perturbation (`ypsi_audit.protection.cellkey`);
- `suppression`: MILP secondary suppression over every table at once, every hidden count
  shown as "c" (`ypsi_audit.protection.suppression`);
- `acro-suppress`, `acro-round`: ACRO 1.0 (SACRO output checking, `acro` on PyPI) on each
  table, blanking cells under 5 or rounding to 5, run in its own environment by
  `benchmarks/acro_worker.py` because ACRO needs pandas 2.

For each: counts shown and hidden (and how many are shown as their true count), derived
figures shown and withheld, how many settings a reader can place on each funnel and how
many land where the exact figures put them, the mean error of the per-setting rates
shown, the audit's verdict (counts shown from 1 to 4, small counts pinned, the narrowest
range) and the time to protect and to audit (suppression: with its rounds of "hide,
attack, hide more" and whether they converged). The record, with the date, the machine
and its load averages (it is shared), goes to benchmarks/results/disclosure_eval.json.

It also checks the cell-key lookup step against ONS's own package
(`cell-key-perturbation` 3.1, `create_perturbed_table`) on every level of every table
of the sample ledger, with ONS's cell keys and the same ptable (the product's cell keys
differ from ONS's on purpose; see `ypsi_audit.protection.cellkey`).

Evaluation-only dependencies: `cell-key-perturbation==3.1.0` (in the project's venv) and
`acro==1.0.2` (in `.venv-acro`, pandas 2.3.3); `make bench-disclosure` installs both. The
product depends on neither.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_assess import machine
from ypsi_audit import assess, load_incidents, synth
from ypsi_audit.protection import CellKey, Exact, audit
from ypsi_audit.protection.cellkey import record_keys
from ypsi_audit.protection.identities import _project
from ypsi_audit.protection.ledger import Ledger
from ypsi_audit.protection.pack import HIDDEN, Form
from ypsi_audit.protection.publish import protect
from ypsi_audit.protection.representative import representative
from ypsi_audit.protection.suppression import Suppression

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "disclosure_eval.json"
SAMPLE = ROOT / "data" / "samples" / "sample_trust_log.csv"
ACRO_PYTHON = Path(os.environ.get("ACRO_PYTHON", ROOT / ".venv-acro" / "bin" / "python"))
METHODS = ("cell-key", "suppression", "acro-suppress", "acro-round")
SETTINGS = (3, 8, 12, 20, 40)
YEARS = (1, 2, 3)
FUNNELS = ("referral_position", "under_escalation_position", "over_escalation_position",
           "gap_position")  # fmt: skip
RATES = ("referral_rate", "under_escalation_rate", "over_escalation_rate", "gap_rate")
KEY_SEED = 20261202  # record keys for the ONS check
SECRET = b"evaluation secret, never a trust's"  # a real run uses the trust's own secret


class Given:
    """A method whose forms were worked out elsewhere (ACRO's output)."""

    def __init__(self, name: str, forms: list[Form], document: dict[str, Any]) -> None:
        self.name, self.forms, self._document = name, forms, document

    def protect(self, ledger: Ledger) -> list[Form]:
        return self.forms

    def document(self) -> dict[str, Any]:
        return self._document

    def note(self) -> str:
        return self.name


def trusts(quick: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "sample", "settings": 12, "years": 3, "plants": True}]
    sizes = ((3, 1), (12, 3), (40, 3)) if quick else [(s, y) for s in SETTINGS for y in YEARS]
    for settings, years in sizes:
        for plants in (False, True):
            name = f"{settings}x{years}{'+plants' if plants else ''}"
            out.append({"name": name, "settings": settings, "years": years, "plants": plants})
    return out


def assessed(trust: dict[str, Any]) -> Any:
    if trust["name"] == "sample":
        log = load_incidents(SAMPLE)
    else:
        plants = {}
        if trust["plants"]:
            poor = ("S01", "S02") if trust["settings"] >= 2 else ("S01",)
            plants = {
                "bias": synth.BiasPlan("child_sen", "true", 0.2),
                "poor_recording": synth.RecordingPlan(poor, 0.6),
            }
        seed = 1000 * trust["settings"] + 10 * trust["years"] + int(trust["plants"])
        log = synth.generate(trust["settings"], trust["years"], seed, **plants)
    return assess(log, with_states=True)


def measure(
    ledger: Ledger, method: Any, exact: Any, method_name: str, ids: Any = None
) -> dict[str, Any]:
    """Protect, audit and compare with the exact figures (cell-key: the first draw of
    keys as it comes, then `publish.protect`, which draws again until the audit passes)."""
    started = time.perf_counter()
    pack = ledger.publish(method)
    protect_s = time.perf_counter() - started
    report = audit(pack.for_audit(), ledger.identities(), ledger.true_counts)
    first = {}
    if ids is not None:
        first = {"first_draw_leaks": len(report.failures),
                 "first_draw_audit_seconds": round(report.seconds, 3)}  # fmt: skip
        started = time.perf_counter()
        done = protect(ledger, ids, SECRET)
        protect_s = time.perf_counter() - started
        pack, report = done.pack, done.report
        first["draws_refused"] = done.failed_draws
    statuses = [f.status for f in pack.forms]
    hidden = sum(s in HIDDEN for s in statuses)
    truth = ledger.true_counts
    as_true = sum(f.value == truth[i] for i, f in enumerate(pack.forms) if f.status not in HIDDEN)
    figures = pack.figure_values
    settings = ledger.values("decisions_by_setting", "setting_id")
    placed, agree = {}, {}
    for family in FUNNELS:
        names = [f"{family}[{s}]" for s in settings]
        shown = [n for n in names if figures[n] is not None]
        placed[family] = len(shown)
        agree[family] = sum(figures[n] == exact.figure_values[n] for n in shown)
    errors = [
        abs(figures[f"{rate}[{s}]"] - exact.figure_values[f"{rate}[{s}]"]) * 100
        for rate in RATES
        for s in settings
        if figures[f"{rate}[{s}]"] is not None and exact.figure_values[f"{rate}[{s}]"] is not None
    ]
    flagged_exact = sum(
        exact.figure_values[f"under_escalation_position[{s}]"] == 2 for s in settings
    )
    flagged = sum(figures[f"under_escalation_position[{s}]"] == 2 for s in settings)
    return {
        "method": method_name,
        "cells": len(statuses),
        "cells_shown": len(statuses) - hidden,
        "cells_hidden": hidden,
        "cells_derived": sum(s == "derived" for s in statuses),  # ACRO's totals: sums of shown
        "cells_as_true": int(as_true),  # shown as their true count
        "figures": len(figures),
        "figures_shown": sum(v is not None for v in figures.values()),
        "figures_lost": sum(
            v is None and exact.figure_values[k] is not None for k, v in figures.items()
        ),
        "settings": len(settings),
        "settings_placed": placed,
        "positions_as_exact": agree,
        "under_escalation_flagged_998": {"exact": int(flagged_exact), "published": int(flagged)},
        "rate_error_points_mean": round(float(np.mean(errors)), 2) if errors else None,
        "rate_error_points_max": round(float(np.max(errors)), 2) if errors else None,
        "audit": {**report.manifest(), **report.private()},
        "leaks": [f for f in report.failures if "shows a count" not in f],
        "shown_1_to_4": sum("shows a count" in f for f in report.failures),
        "protect_seconds": round(protect_s, 3),
        "audit_seconds": round(report.seconds, 3),
        **first,
        **({"rounds": method.rounds, "converged": method.converged}
           if isinstance(method, Suppression) else {}),
    }  # fmt: skip


def acro_forms(ledger: Ledger, mode: str) -> tuple[list[Form], float]:
    """ACRO's output for every table's base cells; the totals ACRO prints are sums of the
    cells it shows, so they say nothing more and count as withheld here."""
    tables = []
    for name, spec in ledger.tables.items():
        rows = spec.codes[spec.mask]
        labels = [[spec.values[d][c] for d, c in enumerate(row)] for row in rows.tolist()]
        if not spec.by:
            labels = [[] for _ in range(int(spec.mask.sum()))]
        tables.append({"name": name, "by": list(spec.by), "values": [list(v) for v in spec.values],
                       "rows": labels})  # fmt: skip
    request = json.dumps({"threshold": 5, "mode": mode, "tables": tables})
    started = time.perf_counter()
    done = subprocess.run(
        [str(ACRO_PYTHON), str(ROOT / "benchmarks" / "acro_worker.py")],
        input=request, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    result = json.loads(done.stdout)
    forms: list[Form] = []
    base: dict[str, Any] = {}
    for view in ledger.views:
        spec = ledger.tables[view.table]
        if len(view.dims) == len(spec.by):
            base[view.table] = view
            for value in result[view.table]:
                if value is None:
                    forms.append(Form("suppressed"))
                else:
                    forms.append(Form("exact" if mode == "suppress" else "rounded", int(value)))
            continue
        # ACRO's totals: the sum of the cells it shows (rounded again in "round" mode).
        cells = np.array([0 if v is None else v for v in result[view.table]], dtype=float)
        sums = np.bincount(_project(base[view.table], view), weights=cells, minlength=view.size)
        if mode == "round":
            sums = np.round(sums / 5) * 5
        forms.extend(Form("derived", int(v)) for v in sums)
    return forms, seconds


def ons_check(ledger: Ledger, keys: np.ndarray) -> dict[str, Any]:
    """Our lookup step (`cellkey.perturb`: perturbation cell value, ptable, noise) against
    ONS's `create_perturbed_table` on every level of every table, fed ONS's own cell keys
    (8-bit record keys summed mod 256) and the same ptable. The product's cell keys differ
    from ONS's on purpose (a mixed 64-bit sum, after the third outside attack), so what
    is compared is everything else."""
    import pandas as pd
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table

    from ypsi_audit.protection.cellkey import default_ptable, perturb, ptable_frame

    table = default_ptable()
    ptable = ptable_frame(table)
    truth = ledger.true_counts
    compared = mismatched = 0
    for view in ledger.views:
        spec = ledger.tables[view.table]
        dims = [spec.by[d] for d in view.dims]
        chosen = spec.mask
        if not chosen.any():
            continue
        inside = view.index >= 0
        ons_keys = np.zeros(view.size, dtype=np.int64)
        np.add.at(ons_keys, view.index[inside], keys[inside])
        ours = perturb(truth[view.offset : view.offset + view.size], ons_keys % 256, table)
        data = pd.DataFrame(index=pd.RangeIndex(int(chosen.sum())))
        for i, d in enumerate(view.dims):
            data[f"d{i}"] = np.asarray(spec.values[d], dtype=object)[spec.codes[chosen, d]]
        tab_vars = list(data.columns) or ["all"]
        if not dims:
            data["all"] = "all"
        data["record_key"] = keys[chosen]
        with contextlib.redirect_stdout(io.StringIO()):
            out = create_perturbed_table(data, ptable, [], tab_vars, "record_key", threshold=0)
        for _, row in out.iterrows():
            key = {spec.by[d]: row[f"d{i}"] for i, d in enumerate(view.dims)}
            cell = ledger.cell_id(ledger.cell(view.table, **key)) - view.offset
            compared += 1
            mismatched += int(ours[cell] != int(row["count"]))
    return {"cells_compared": compared, "mismatched": mismatched}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few trusts only")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--suppression-upto",
        type=int,
        default=40,
        help="run suppression only on trusts of at most this many settings",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)  # fmt: skip
    methods = [m for m in args.methods.split(",") if m]
    if "cell-key" in methods and importlib.util.find_spec("cell_key_perturbation") is None:
        print(
            "ONS's cell-key-perturbation is missing (the check against it ends the run): "
            "run make bench-disclosure, or pip install cell-key-perturbation==3.1.0."
        )
        return 2
    if any(m.startswith("acro") for m in methods) and not ACRO_PYTHON.exists():
        print(f"ACRO's environment {ACRO_PYTHON} is missing: run make bench-disclosure.")
        return 2
    records: list[dict[str, Any]] = []
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    for trust in trusts(args.quick):
        frame = assessed(trust)
        ledger = representative(frame)
        identities_started = time.perf_counter()
        ledger.identities()
        derive_s = time.perf_counter() - identities_started
        exact = ledger.publish(Exact())
        base = {"trust": trust["name"], "incidents": ledger.n, "settings": trust["settings"],
                "years": trust["years"], "plants": trust["plants"],
                "small_cells": int(((ledger.true_counts >= 1) & (ledger.true_counts < 5)).sum()),
                "identities": ledger.identities().n_relations,
                "identities_seconds": round(derive_s, 3)}  # fmt: skip
        for name in methods:
            if name == "suppression" and trust["settings"] > args.suppression_upto:
                continue
            if name == "cell-key":
                ids = frame["incident_id"].to_numpy()
                row = measure(ledger, CellKey(record_keys(ids, SECRET)), exact, name, ids)
            elif name == "suppression":
                row = measure(ledger, Suppression(), exact, name)
            else:
                mode = name.split("-", 1)[1]
                forms, seconds = acro_forms(ledger, mode)
                document = {"kind": "acro", "base": 5, "promise": 1}
                row = measure(ledger, Given(name, forms, document), exact, name)
                row["protect_seconds"] = round(seconds, 3)
            records.append(base | row)
            print(_line(records[-1]), flush=True)
    ons = None
    if "cell-key" in methods:
        sample = representative(assessed(trusts(True)[0]))
        ons = ons_check(sample, np.random.default_rng(KEY_SEED).integers(0, 256, sample.n))
    output = {
        "date": started_at.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_1_5_15_min": {
            "start": [round(x, 2) for x in load_at_start],
            "end": [round(x, 2) for x in os.getloadavg()],
        },
        "minutes": round((datetime.now(UTC) - started_at).total_seconds() / 60, 1),
        "ons_package_check": ons,
        "records": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, indent=1) + "\n", encoding="utf-8")
    print(f"ONS package check: {ons}")
    print(f"Wrote {args.out}")
    return 0


def _line(r: dict[str, Any]) -> str:
    placed = r["settings_placed"]["under_escalation_position"]
    return (
        f"{r['trust']:>14} {r['method']:>14}: shown {r['cells_shown']:>5}/{r['cells']:<5} "
        f"figures lost {r['figures_lost']:>4}/{r['figures']:<4} under-esc placed {placed:>2}/"
        f"{r['settings']:<2} err {r['rate_error_points_mean']} leaks {len(r['leaks'])} "
        f"shown1-4 {r['shown_1_to_4']} narrowest {r['audit']['narrowest_range_values']} "
        f"protect {r['protect_seconds']}s audit {r['audit_seconds']}s"
        + (
            f" first-draw leaks {r['first_draw_leaks']} refused {r['draws_refused']}"
            if "first_draw_leaks" in r
            else ""
        )
        + (f" rounds {r['rounds']} converged {r['converged']}" if "rounds" in r else "")
    )


if __name__ == "__main__":
    sys.exit(main())
