"""What a protected ledger publishes: each cell's shown value and symbol, and the figures.

A protection method turns every cell of the ledger into a `Form`: how it is shown (its
status) and the number shown, if any. The statuses are the vocabulary the audit reads,
each with a documented range for the true count behind it:

| status | page shows | the true count is |
|---|---|---|
| exact | the count | that count |
| perturbed | a count with cell-key noise | any count the method's ptable can turn into it |
| rounded | a multiple of the base | within half a base of it |
| derived | a total worked out from other shown counts | unknown (it says nothing new) |
| primary | `<5` | 1 to threshold − 1 |
| secondary | `c` | threshold or more (a cell hidden to protect another) |
| suppressed | `c` | 0 to threshold − 1 (a small count or a zero, as ACRO hides them) |
| withheld | `c` | unknown (nothing is said) |

Figures are then worked out from the shown values only (`figures.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from .figures import FigureSpec, evaluate, format_figure
from .ledger import FLAG, Cell, Ledger

if TYPE_CHECKING:
    from .identities import Identities

__all__ = [
    "HIDDEN",
    "SHOWN",
    "STATUSES",
    "Exact",
    "Form",
    "Method",
    "Pack",
    "Published",
    "PublishedView",
]

SHOWN = ("exact", "perturbed", "rounded", "derived")
HIDDEN = ("primary", "secondary", "suppressed", "withheld")
STATUSES = SHOWN + HIDDEN
THRESHOLD = 5  # the project's rule: no published count from 1 to 4


@dataclass(frozen=True)
class Form:
    """How one cell is published: its status and the number shown (None when hidden)."""

    status: str
    value: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if (self.value is None) != (self.status in HIDDEN):
            raise ValueError(
                f"a {self.status} cell {'has no' if self.status in HIDDEN else 'needs a'} value"
            )


@dataclass(frozen=True)
class Published:
    """A published figure or count as a page uses it: the value (None when not shown), the
    text to print, and the status (for counts) or kind (for figures)."""

    value: float | None
    text: str
    status: str

    @property
    def shown(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.text


class Method(Protocol):
    """A protection method: a form for every cell of the ledger, and its documentation."""

    name: str

    def protect(self, ledger: Ledger) -> list[Form]: ...

    def document(self) -> dict[str, Any]:
        """What a reader is told about the method: enough to bound a true count from a
        shown one (the audit reads nothing else about it)."""
        ...

    def note(self) -> str:
        """One plain-English sentence for the foot of every page."""
        ...


@dataclass(frozen=True)
class PublishedView:
    """Exactly what the audit may read: the cells' forms, the figures as shown and the
    method's documentation, with the ledger's cells for naming them."""

    cells: list[Cell]
    forms: list[Form]
    figures: dict[str, FigureSpec]
    figure_values: dict[str, float | None]
    figure_texts: dict[str, str]
    document: dict[str, Any]
    threshold: int = THRESHOLD
    # Several packs audited together (`joint.py`): each pack's documentation, and the
    # pack each cell was published in; empty when every cell is read with `document`.
    documents: tuple[dict[str, Any], ...] = ()
    pack_of_cell: Any = None

    def document_of(self, cell_id: int) -> dict[str, Any]:
        """The documentation of the method the cell was published with."""
        if self.pack_of_cell is None:
            return self.document
        return self.documents[int(self.pack_of_cell[cell_id])]


@dataclass
class Pack:
    """A published ledger: what every page, table, sentence and chart may cite."""

    ledger: Ledger
    method_name: str
    forms: list[Form]
    document: dict[str, Any]
    note: str
    figure_values: dict[str, float | None] = field(default_factory=dict)
    figure_texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, ledger: Ledger, method: Method) -> Pack:
        forms = method.protect(ledger)
        if len(forms) != len(ledger.cell_list):
            raise ValueError(
                f"{method.name} returned {len(forms)} forms for {len(ledger.cell_list)} cells"
            )
        pack = cls(ledger, method.name, forms, method.document(), method.note())
        pack._work_out_figures()
        return pack

    # ------------------------------------------------------------------ reading

    @property
    def audience(self) -> str:
        return "internal" if self.method_name == "none" else "publication"

    def value(self, ref: Cell | str) -> Published:
        """A published count (a `Cell`) or figure (its name)."""
        if isinstance(ref, Cell):
            form = self.forms[self.ledger.cell_id(ref)]
            return Published(_number(form), count_text(form), form.status)
        if ref not in self.figure_texts:
            raise KeyError(f"no figure {ref!r} is declared")
        spec = self.ledger.figures[ref]
        return Published(self.figure_values[ref], self.figure_texts[ref], spec.kind)

    def count(self, table: str, **key: str) -> Published:
        """Shorthand for `value(ledger.cell(table, **key))`."""
        return self.value(self.ledger.cell(table, **key))

    def table(self, name: str, *, for_file: bool = False) -> pd.DataFrame:
        """A declared table as published: one row per cell (its totals labelled "Total"),
        the dimension columns, `n` (the number shown, blank when hidden), `text` (what a
        page prints; in files every hidden count is "c") and `status`."""
        ledger = self.ledger
        members = (
            [(f, f"{name}/{f}") for f in ledger.families[name]]
            if name in ledger.families
            else [(None, name)]
        )
        rows = []
        for flag, table in members:
            spec = ledger.tables[table]
            for cell_id, cell in enumerate(ledger.cell_list):
                if cell.table != table:
                    continue
                form = self.forms[cell_id]
                row: dict[str, Any] = {} if flag is None else {FLAG: flag}
                row.update({dim: cell.get(dim) for dim in spec.by})
                text = count_text(form)
                row.update(
                    n=_number(form), text="c" if for_file and form.status in HIDDEN else text
                )
                row["status"] = form.status
                rows.append(row)
        out = pd.DataFrame(rows)
        out["n"] = pd.array(out["n"], dtype="Int64")
        return out

    def figures(self) -> pd.DataFrame:
        """Every declared figure with its published value and text."""
        return pd.DataFrame(
            [
                {"figure": name, "kind": spec.kind, "value": self.figure_values[name],
                 "text": self.figure_texts[name]}
                for name, spec in self.ledger.figures.items()
            ]
        )  # fmt: skip

    def published(self) -> dict[str, Any]:
        """What may leave the safeguarding team, as plain data: every count's text and
        status and every figure's text, the method's name and its note. No true count and
        no relation between cells is in it."""
        return {
            "audience": self.audience,
            "method": self.method_name,
            "note": self.note,
            "counts": {
                cell.label: {"text": count_text(form), "status": form.status}
                for cell, form in zip(self.ledger.cell_list, self.forms, strict=True)
            },
            "figures": dict(self.figure_texts),
        }

    def for_audit(self) -> PublishedView:
        return PublishedView(
            list(self.ledger.cell_list),
            list(self.forms),
            dict(self.ledger.figures),
            dict(self.figure_values),
            dict(self.figure_texts),
            dict(self.document),
            int(self.document.get("threshold", THRESHOLD)),
        )

    def identities(self) -> Identities:
        return self.ledger.identities()

    # ------------------------------------------------------------------ internals

    def _work_out_figures(self) -> None:
        values: dict[str, float | None] = {}
        parts: dict[str, tuple[float | None, float | None]] = {}
        cell_value = self._cell_value
        for name, spec in self.ledger.figures.items():
            if spec.kind == "rate":
                parts[name] = (_total(spec.part, cell_value), _total(spec.whole, cell_value))
            value = evaluate(spec, cell_value, values.__getitem__, parts.__getitem__)
            values[name] = value
            self.figure_values[name] = value
            self.figure_texts[name] = format_figure(spec, value)

    def _cell_value(self, cell: Cell) -> float | None:
        return _number(self.forms[self.ledger.cell_id(cell)])


class Exact:
    """No protection: the true counts, for the internal audience only."""

    name = "none"

    def protect(self, ledger: Any) -> list[Form]:
        return [Form("exact", int(v)) for v in ledger.true_counts]

    def document(self) -> dict[str, Any]:
        return {"kind": "none", "promise": 0}

    def note(self) -> str:
        return "Exact counts, for the safeguarding team only: not for publication."


def published_parts(
    figures: Mapping[str, FigureSpec], cell_value: Any
) -> dict[str, tuple[float | None, float | None]]:
    """Each rate's published numerator and denominator (for funnel positions)."""
    return {
        name: (_total(spec.part, cell_value), _total(spec.whole, cell_value))
        for name, spec in figures.items()
        if spec.kind == "rate"
    }


def _total(cells: tuple[Cell, ...], cell_value: Any) -> float | None:
    values = [cell_value(c) for c in cells]
    return None if any(v is None for v in values) else float(sum(values))


def _number(form: Form) -> float | None:
    return None if form.value is None else float(form.value)


def count_text(form: Form, threshold: int = THRESHOLD) -> str:
    """What a page prints for a count: the number, "<5" for a small one, "c" otherwise."""
    if form.value is not None:
        return f"{form.value:,}"
    return f"<{threshold}" if form.status == "primary" else "c"
