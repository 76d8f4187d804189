"""Protection for the report pages' own ledger (`ypsi_audit.reports.ledger.Ledger`).

The pages declare count tables of at most two dimensions (`rows` × `cols`, a `where`
mask, orders, totals) and hand the whole ledger to a `protect` callable before composing
anything (`Ledger.publish_with`). `protector(keys)` is that callable: it declares the
same tables on this package's ledger, perturbs every cell with cell keys, has the
attacker's audit attack the whole pack (drawing the keys again if the noise happened to
pin a count), and returns, for every table, the numbers to show (NaN where hidden) and
the marks a page prints instead. The audit's figures for the manifest and the page foot
(`summary`, one plain sentence) are left in the pages' ledger's `audit` dictionary; the
draw of keys that passed goes only to `on_pass` (it is kept beside the secret, never in
a pack). A pack that no draw makes safe raises `DisclosureError` (exit code 4), naming
the table and the cell.

The pages' ledger counts only incidents whose values are among a table's orders (others
are left out of that table); the same is done here, so both count the same incidents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .cellkey import CellKey
from .joint import PackRecord, joint_audit, record_of
from .ledger import Ledger
from .pack import THRESHOLD
from .publish import MAX_DRAWS, DisclosureError, protect_with
from .register import fingerprint

__all__ = ["PAGES_DETERMINE", "protector", "shadow_ledger"]

_OUTSIDE = "\x00outside"  # a label no order holds: the incident is not counted
TOTAL = "Total"
# The data contract's fixed links between the pages' columns: a consistency code says
# what the guidance said (the attacker knows the contract; used only where it holds).
PAGES_DETERMINE = {"consistency": ("outcome",)}


def protector(
    keys: Callable[[int], np.ndarray],
    *,
    first_draw: int = 0,
    max_draws: int = MAX_DRAWS,
    threshold: int = THRESHOLD,
    on_pass: Callable[[int], None] | None = None,
    earlier: Sequence[PackRecord] = (),
    meta: dict[str, str] | None = None,
) -> Callable[[Any], dict[str, tuple[pd.DataFrame, pd.DataFrame]]]:
    """The `protect` callable for `reports.ledger.Ledger.publish_with`: `keys(draw)`
    gives one record key (64 bits) per row of the pages' incident frame, e.g.
    `lambda draw: record_keys(incident_ids, load_secret(path), draw)`; draws from
    `first_draw` on, at most `max_draws` of them (1 once the trust has published), are
    tried; `on_pass(draw)` is told which draw passed the audit. `earlier` are the
    records of the trust's earlier publications: a pack that passes on its own is then
    audited together with them (`joint.joint_audit`) and refused if that fails. The
    record of the pack (`meta` added) is left in the pages' ledger's `record`, for the
    run to keep in the register once the pack is written."""

    def protect(pages_ledger: Any) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
        ledger = shadow_ledger(pages_ledger)
        done = protect_with(
            ledger,
            lambda draw: CellKey(keys(draw), threshold=threshold),
            first_draw=first_draw,
            max_draws=max_draws,
        )
        record = record_of(
            ledger, keys(done.draw), done.pack.forms, done.pack.document,
            {**(meta or {}), "draw": str(done.draw)},
        )  # fmt: skip
        line = done.report.operator_line()
        same = fingerprint(record)  # the same pack made again adds nothing to check
        others = [r for r in earlier if r.meta.get("id") != same]
        if others:
            together = joint_audit([*others, record])
            if not together.passed:
                raise DisclosureError(
                    together.failures, 1, together=len(others),
                    thresholds=[*(int(r.document.get("threshold", THRESHOLD)) for r in others),
                                threshold],
                )  # fmt: skip
            line += " " + together.joint_line(len(others))
        foot = done.report.foot(len(others))
        pages_ledger.audit_line = line
        pages_ledger.record = record
        pages_ledger.audit = {
            **done.report.manifest(),
            "earlier_publications_checked_with": len(others),
            "method": done.pack.method_name,
            "note": done.pack.note,
            "foot": foot,
            "summary": f"{done.pack.note} {foot}",
        }
        if on_pass is not None:
            on_pass(done.draw)
        return {
            name: _frames(done.pack, name, table) for name, table in pages_ledger.tables.items()
        }

    return protect


def shadow_ledger(pages_ledger: Any) -> Ledger:
    """This package's ledger with the pages' tables declared on it, name for name."""
    incidents = pages_ledger.incidents
    used = sorted({c for t in pages_ledger.tables.values() for c in (t.rows, t.cols) if c})
    frame = pd.DataFrame(
        {column: _labels(incidents[column]) for column in used}, index=incidents.index
    )
    ledger = Ledger(frame, determines=PAGES_DETERMINE)
    for name, table in pages_ledger.tables.items():
        by = [d for d in (table.rows, table.cols) if d]
        orders = {table.rows: table.row_order} if table.rows else {}
        if table.cols:
            orders[table.cols] = table.col_order
        mask = (
            np.ones(len(frame), dtype=bool)
            if table.where is None
            else np.asarray(table.where, bool)
        )
        for dim in by:
            mask = mask & frame[dim].isin(orders[dim]).to_numpy()
        ledger.counts(name, by, mask, margins=bool(table.margins), values=orders)
    return ledger


def _labels(values: pd.Series) -> np.ndarray:
    text = values.astype("string").fillna(_OUTSIDE)
    return text.to_numpy(dtype=object)


def _frames(pack: Any, name: str, table: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The numbers to show and the marks, in the shape of the pages' table."""
    shown = pd.DataFrame(np.nan, index=table.true.index, columns=table.true.columns)
    marks = pd.DataFrame("", index=table.true.index, columns=table.true.columns)
    for row in table.true.index:
        for col in table.true.columns:
            key = {}
            if table.rows and row != TOTAL:
                key[table.rows] = str(row)
            if table.cols and col != TOTAL:
                key[table.cols] = str(col)
            published = pack.count(name, **key)
            if published.value is None:
                marks.at[row, col] = published.text
            else:
                shown.at[row, col] = published.value
    return shown, marks
