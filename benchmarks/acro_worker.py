"""Run ACRO (SACRO output checking) on the ledger's tables, in ACRO's own environment.

ACRO 1.0 needs pandas 2.3.3 or older and the project runs on pandas 3, so ACRO lives in a
separate virtual environment (`make bench-disclosure` makes it as `.venv-acro`) and this
script, which imports nothing from the project, runs there. It reads a JSON request on
standard input:

    {"threshold": 5, "mode": "suppress" | "round",
     "tables": [{"name": ..., "by": [...], "values": [[...], ...], "rows": [[...], ...]}]}

where `rows` holds each incident's labels (one list per incident the table counts), and
writes {"name": [count or null for every base cell, in row-major order of `values`]} to
standard output. Each table is one `ACRO.crosstab` call with ACRO's default risk appetite
except the threshold: in "suppress" mode ACRO blanks every cell below the threshold
(zeros too, as its default `zeros_are_disclosive` says) and works the totals out from the
rest; in "round" mode it rounds every cell to a multiple of 5.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import warnings

import numpy as np
import pandas as pd


def main() -> None:
    request = json.load(sys.stdin)
    from acro import ACRO

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    mode = request["mode"]
    results = {}
    with contextlib.redirect_stdout(io.StringIO()):
        acro = ACRO(suppress=mode == "suppress") if mode == "suppress" else ACRO(mitigation="round")
        acro.config["safe_threshold"] = int(request["threshold"])
        for table in request["tables"]:
            results[table["name"]] = _crosstab(acro, table)
    json.dump(results, sys.stdout)


def _crosstab(acro, table: dict) -> list:
    # ACRO writes its redaction as a pandas query: plain column names only.
    by, values = [f"d{i}" for i in range(len(table["by"]))], table["values"]
    grid = [len(v) for v in values]
    size = int(np.prod(grid)) if grid else 1
    rows = table["rows"]
    if not rows:
        return [0] * size  # no incidents: every cell is an empty count
    frame = pd.DataFrame(rows, columns=by) if by else pd.DataFrame({"_": ["n"] * len(rows)})
    for dim, labels in zip(by, values, strict=True):
        frame[dim] = pd.Categorical(frame[dim], categories=labels)
    constant = pd.Series(pd.Categorical(["n"] * len(frame), categories=["n"]), name="_n")
    if len(by) == 0:
        index, columns = [constant.rename("_i")], constant
    elif len(by) == 1:
        index, columns = [frame[by[0]]], constant
    else:
        index, columns = [frame[d] for d in by[:-1]], frame[by[-1]]
    result = acro.crosstab(index, columns)
    out = []
    for combo in np.ndindex(*grid) if grid else [()]:
        labels = [values[d][i] for d, i in enumerate(combo)]
        if len(by) == 0:
            key, col = ("n",), "n"
        elif len(by) == 1:
            key, col = (labels[0],), "n"
        else:
            key, col = tuple(labels[:-1]), labels[-1]
        try:
            value = result.loc[key if len(key) > 1 else key[0], col]
        except KeyError:
            value = np.nan
        out.append(None if pd.isna(value) else round(float(value)))
    return out


if __name__ == "__main__":
    main()
