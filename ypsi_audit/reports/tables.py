"""The `tables/` folder: every count the pages rest on, ready for Excel and Power BI.

One CSV per declared table of the ledger, in long form (one row per cell): the
categories, the number of incidents as a number only, and a companion column saying why
a number is not given. `README.csv` names every table, its columns and their units;
`codes.csv` says every category code of the tables in plain English (a lookup for Excel
or Power BI: `over_escalation` is "referred where the guidance says the setting could
have resolved it", never a fault).
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
    dictionary.append(
        {
            "table": "codes.csv",
            "title": "Every category code of these tables in plain English",
            "column": "column, code, label",
            "meaning": "one row per code a table column holds, with what it means",
            "unit": "text",
        }
    )
    audience = "publication (protected figures)" if spec.publication else "internal"
    for row in dictionary:
        row["audience"] = audience
    write_table(pd.DataFrame(dictionary), folder / "README.csv")
    write_table(codes(ledger, spec.route), folder / "codes.csv")


def codes(ledger: Ledger, route: str) -> pd.DataFrame:
    """Each (column, code) the tables hold, once, with its plain-English label."""
    seen: dict[tuple[str, str], str] = {}
    for table in ledger.tables.values():
        for name, values in ((table.rows, table.shown.index), (table.cols, table.shown.columns)):
            if name is None:
                continue
            for value in values:
                code = "all" if value == TOTAL else str(value)
                seen.setdefault((_dimension(name), code), label(name, code, route))
    return pd.DataFrame(
        [{"column": c, "code": v, "label": text} for (c, v), text in seen.items()],
        columns=["column", "code", "label"],
    )


def label(dimension: str, code: str, route: str) -> str:
    """What a code of one table column means, in the words the pages use."""
    from .words import (
        NOT_RECORDED,
        POLICE_OUTCOMES,
        REQUIREMENT_STATES,
        consistency_labels,
        group_heading,
        outcome_labels,
    )

    if code == "all":
        return "all (the total)"
    if code == NOT_RECORDED:
        return "not recorded"
    kind, _, column = dimension.partition(":")
    known = {
        "outcome": outcome_labels(route),
        "consistency": consistency_labels(route),
        "police_outcome": POLICE_OUTCOMES,
        "requirement": REQUIREMENT_STATES,
    }.get(kind, {})
    if code in known:
        return known[code]
    if kind == "group":
        return group_heading(column, code)
    return code.replace("_", " ")


def _meaning(column: str, table) -> str:
    if column == "incidents":
        return "number of incidents in this cell (blank when not given)"
    if column == "not_given_because":
        return "why the number is not given (empty when it is)"
    if column == "scope":
        return "all incidents the table counts"
    return f"the incidents' {column.replace('_', ' ')} ('all' for the total)"
