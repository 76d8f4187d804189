"""The `tables/` folder: every count the pages rest on, ready for Excel and Power BI.

One CSV per declared table of the ledger, in long form (one row per cell): the
categories, the number of incidents as a number only, and a companion column saying why
a number is not given. `README.csv` names every table, its columns and their units.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .ledger import TOTAL, Ledger
from .spec import RunSpec


def long_form(table) -> pd.DataFrame:
    rows = []
    for r in table.shown.index:
        for c in table.shown.columns:
            value = table.shown.at[r, c]
            mark = table.marks.at[r, c]
            rows.append(
                {
                    _dimension(table.rows): "all" if r == TOTAL else r,
                    _dimension(table.cols): "all" if c == TOTAL else c,
                    "incidents": None if pd.isna(value) else round(value),
                    "not_given_because": "" if not pd.isna(value) else (mark or "withheld"),
                }
            )
    frame = pd.DataFrame(rows)
    frame["incidents"] = frame["incidents"].astype("Int64")
    return frame


def _dimension(name: str | None) -> str:
    return "scope" if name is None else name.replace(":", "_")


def write_tables(ledger: Ledger, folder: Path, spec: RunSpec) -> None:
    from ..writing import write_table

    dictionary = []
    for name, table in ledger.tables.items():
        frame = long_form(table)
        write_table(frame, folder / f"{name}.csv")
        for column in frame.columns:
            dictionary.append(
                {
                    "table": f"{name}.csv",
                    "title": table.caption,
                    "column": column,
                    "meaning": _meaning(column, table),
                    "unit": "incidents" if column == "incidents" else "text",
                }
            )
    dictionary.append(
        {
            "table": "README.csv",
            "title": "This data dictionary",
            "column": "table, title, column, meaning, unit",
            "meaning": "one row per column of every table in this folder",
            "unit": "text",
        }
    )
    audience = "publication (protected figures)" if spec.publication else "internal"
    for row in dictionary:
        row["audience"] = audience
    write_table(pd.DataFrame(dictionary), folder / "README.csv")


def _meaning(column: str, table) -> str:
    if column == "incidents":
        return "number of incidents in this cell (blank when not given)"
    if column == "not_given_because":
        return "why the number is not given (empty when it is)"
    if column == "scope":
        return "all incidents the table counts"
    return f"the incidents' {column.replace('_', ' ')} ('all' for the total)"
