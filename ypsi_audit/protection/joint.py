"""The audit of a new publication together with everything the trust published before.

One pack can pass its own audit and still give a small count away beside another pack of
the same incidents: a setting's own pack and the trust's pack, this year's pack and last
year's, the same report run on a log that has grown. A reader holding both has one
integer programme over both, and so must the audit.

A `PackRecord` is what a publication counted and showed: every table's declaration (its
dimensions, values, totals and the incidents it counts, as a mask), each incident's
labels for the columns the tables use, each incident's record key (an HMAC under the
trust's secret, never its id) and every cell's published form. Records are kept beside
the secret (`register.py`), never in a pack.

`joint_audit(records)` rebuilds one ledger over the union of their incidents, matched by
record key: each pack's tables are declared on it, counting only that pack's incidents,
so `identities.py` finds what a reader would link across packs (the same incidents in two
packs are one variable; a setting's pack lies inside the trust's pack, cell by cell).
Every cell keeps the form it was published with, read with its own pack's documented
method; then `audit.audit` attacks the whole. Figures are left out: a figure that passed
its own pack's audit is worked out from that pack's shown counts and says nothing more.

An incident whose labels differ between two logs (a record corrected between runs) keeps
each pack's labels apart (a column `setting_id#2`), so no relation the data does not
support is credited; identical sets of incidents are still joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audit import AuditReport, audit
from .ledger import Ledger
from .pack import Form, PublishedView

__all__ = ["OUTSIDE", "PackRecord", "TableRecord", "joint_audit", "joint_ledger", "record_of"]

OUTSIDE = "\x00outside"  # the label of an incident a pack does not count by this column


@dataclass(frozen=True)
class TableRecord:
    """One declared table of a published pack."""

    name: str
    by: tuple[str, ...]
    values: dict[str, tuple[str, ...]]
    margins: bool
    mask: np.ndarray  # (incidents of the pack,) bool: the incidents it counts


@dataclass(frozen=True)
class PackRecord:
    """What one publication counted and showed (see the module docstring)."""

    keys: np.ndarray  # (n,) uint64 record keys
    columns: dict[str, np.ndarray]  # column -> (n,) labels (object)
    tables: list[TableRecord]
    forms: list[Form]  # every cell, in the order of the ledger the tables rebuild
    document: dict[str, Any]  # the method's documentation, as the audit reads it
    determines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)  # when, title, folder

    @property
    def n(self) -> int:
        return len(self.keys)

    def ledger(self) -> Ledger:
        """The pack's own ledger, rebuilt (its cells in the order of `forms`)."""
        import pandas as pd

        frame = pd.DataFrame(dict(self.columns))
        ledger = Ledger(frame, determines=self.determines)
        for table in self.tables:
            ledger.counts(
                table.name, table.by, table.mask, margins=table.margins, values=table.values
            )
        return ledger


def record_of(
    ledger: Ledger,
    keys: np.ndarray,
    forms: Sequence[Form],
    document: dict[str, Any],
    meta: dict[str, str] | None = None,
) -> PackRecord:
    """The record of a ledger published with `forms` (its tables must be plain counts)."""
    if ledger.families:
        raise ValueError("a pack record holds plain count tables only")
    columns = {
        column: np.asarray(ledger.frame[column], dtype=object) for column in ledger.frame.columns
    }
    tables = [
        TableRecord(
            spec.name,
            spec.by,
            {dim: spec.values[i] for i, dim in enumerate(spec.by)},
            spec.margins,
            np.asarray(spec.mask, dtype=bool),
        )
        for spec in ledger.tables.values()
    ]
    return PackRecord(
        np.asarray(keys, dtype=np.uint64),
        columns,
        tables,
        list(forms),
        {k: v for k, v in document.items() if not k.startswith("_")},
        dict(ledger.determines),
        dict(meta or {}),
    )


def joint_ledger(records: Sequence[PackRecord]) -> tuple[Ledger, list[Form], np.ndarray]:
    """One ledger over every record's incidents with every record's tables (the last
    record's under their own names, earlier ones named after their pack); the forms of
    its cells; and, per cell, the number of the record it was published in."""
    import pandas as pd

    all_keys = np.concatenate([r.keys for r in records]) if records else np.zeros(0, np.uint64)
    union, inverse = np.unique(all_keys, return_inverse=True)
    starts = np.cumsum([0, *(r.n for r in records)])
    columns: dict[str, np.ndarray] = {}
    variants: dict[str, list[str]] = {}
    renamed: list[dict[str, str]] = []
    for k, record in enumerate(records):
        where = inverse[starts[k] : starts[k + 1]]
        names = {}
        for column, labels in record.columns.items():
            names[column] = _place(columns, variants, column, labels, where, len(union), k)
        renamed.append(names)
    determines: dict[str, set[str]] = {}
    for record, names in zip(records, renamed, strict=True):
        for column, fixed in record.determines.items():
            if column in names:
                determines.setdefault(names[column], set()).update(
                    names[c] for c in fixed if c in names
                )
    ledger = Ledger(
        pd.DataFrame(columns, index=pd.RangeIndex(len(union))),
        determines={c: tuple(sorted(f)) for c, f in determines.items()},
    )
    last = len(records) - 1
    for k, (record, names) in enumerate(zip(records, renamed, strict=True)):
        where = inverse[starts[k] : starts[k + 1]]
        for table in record.tables:
            mask = np.zeros(len(union), dtype=bool)
            mask[where[table.mask]] = True
            ledger.counts(
                table.name if k == last else _earlier_name(table.name, record, k),
                tuple(names[d] for d in table.by),
                mask,
                margins=table.margins,
                values={names[d]: v for d, v in table.values.items()},
            )
    forms: list[Form] = [f for r in records for f in r.forms]
    pack_of_cell = np.repeat(np.arange(len(records)), [len(r.forms) for r in records])
    if len(forms) != len(ledger.true_counts):
        raise ValueError("a pack record's forms do not match its tables")
    return ledger, forms, pack_of_cell


def joint_audit(records: Sequence[PackRecord], *, stop_at_first: bool = True) -> AuditReport:
    """Attack the last record's pack together with all the records before it. A refusal
    names the first count found (`stop_at_first`): solves over many packs take up to a
    minute each, and one count found is enough to refuse."""
    ledger, forms, pack_of_cell = joint_ledger(records)
    documents = tuple(r.document for r in records)
    threshold = max(int(d.get("threshold", 5)) for d in documents)
    view = PublishedView(
        list(ledger.cell_list), forms, {}, {}, {}, dict(documents[-1]), threshold,
        documents=documents, pack_of_cell=pack_of_cell,
    )  # fmt: skip
    return audit(
        view, ledger.identities(), ledger.true_counts, narrowest=False, stop_at_first=stop_at_first
    )


def _place(
    columns: dict[str, np.ndarray],
    variants: dict[str, list[str]],
    column: str,
    labels: np.ndarray,
    where: np.ndarray,
    size: int,
    k: int,
) -> str:
    """The union column that holds this pack's labels of `column`: the first variant
    that agrees with them on every incident already labelled, else a new one."""
    for name in variants.get(column, []):
        held = columns[name][where]
        known = held != OUTSIDE
        if np.array_equal(held[known], labels[known]):
            columns[name][where] = labels
            return name
    name = column if column not in columns else f"{column}#{k + 1}"
    columns[name] = np.full(size, OUTSIDE, dtype=object)
    columns[name][where] = labels
    variants.setdefault(column, []).append(name)
    return name


def _earlier_name(name: str, record: PackRecord, k: int) -> str:
    when = record.meta.get("written", "")[:10]
    title = record.meta.get("folder", "")
    what = ", ".join(p for p in (title, when) if p) or f"number {k + 1}"
    return f"{name} in the pack published earlier ({what})".replace("/", "-")
