"""When the trust's one set of cell keys happens to let a small count be worked out, hide
the few shown counts the attacker's proof rests on, rather than drawing new keys.

Cell-key noise is random, so now and then (about one pack in four on the trusts measured)
the published numbers, taken together, leave a small count one possible value: a total
shown two below its true value beside parts shown two above theirs. Drawing the keys
again would mend that pack, but a reader who has two packs about the same incidents under
different keys can average their noise away (an outside attack pinned 39 of 268 small
counts that way). So the keys never change: every pack a trust publishes uses the same
keys, and where the audit pins a count, the counts its proof rests on are withheld
(shown as "c", saying nothing of their size) and the audit runs again.

Which counts: the attacker's proof that a count is pinned is, in the linear relaxation of
the audit's programme, the set of published bounds the smallest and the largest value
lean on (the duals of the two solves). Hiding every count one side of the proof leans on
breaks that proof (the side with fewer counts, then smaller ones, so headline totals stay
shown where they can); the audit then looks for another. Where the relaxation leaves room and
only whole numbers pin the count, the count itself and the shown counts summed with it
are withheld. Withholding only ever takes information away, so each round leaves the
attacker no more than the last, and the loop ends when the audit passes or nothing is
left to withhold (then the run refuses, exit code 4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog

from .audit import published_bounds
from .identities import Identities
from .pack import Form, Method, PublishedView

__all__ = ["Withholding", "proof"]

NOTE = (
    " A few counts are not shown (c): with the others, they would let a small number be worked out."
)


class Withholding:
    """`inner`'s forms, with every cell of the withheld variables shown as "c"."""

    def __init__(self, inner: Method, var_of_cell: np.ndarray, withheld: set[int]) -> None:
        self.inner = inner
        self.name = inner.name
        self.var_of_cell = var_of_cell
        self.withheld = frozenset(withheld)

    def protect(self, ledger: Any) -> list[Form]:
        forms = self.inner.protect(ledger)
        hidden = Form("withheld")
        return [
            hidden if int(var) in self.withheld else form
            for form, var in zip(forms, self.var_of_cell, strict=True)
        ]

    def document(self) -> dict[str, Any]:
        return self.inner.document()

    def note(self) -> str:
        return self.inner.note() + (NOTE if self.withheld else "")


def proof(
    view: PublishedView, identities: Identities, var: int, fixed: set[int] | None = None
) -> set[int]:
    """The shown variables to withhold so that the attacker's proof that `var` is pinned
    no longer holds (see the module docstring); `fixed` ones (shown by an earlier pack)
    are never chosen, since hiding them now would hide nothing."""
    lower, upper = published_bounds(view, identities)
    shown = _shown_vars(view, identities)
    if fixed:
        shown[list(fixed)] = False
    matrix = identities.matrix.tocsr()
    equal = identities.equal
    equalities, inequalities = matrix[equal], matrix[~equal]
    sides: list[set[int]] = []
    ends: list[float] = []
    for sign in (1.0, -1.0):
        cost = np.zeros(identities.n_vars)
        cost[var] = sign
        result = linprog(
            cost,
            A_ub=-inequalities if inequalities.shape[0] else None,
            b_ub=np.zeros(inequalities.shape[0]) if inequalities.shape[0] else None,
            A_eq=equalities if equalities.shape[0] else None,
            b_eq=np.zeros(equalities.shape[0]) if equalities.shape[0] else None,
            bounds=list(zip(lower, upper, strict=True)),
            method="highs",
        )
        if result.status != 0:
            return _neighbours(matrix, equal, var, shown)
        ends.append(sign * result.fun)
        # A bound the proof leans on: any upper bound, or a lower bound above 0 (a
        # withheld count is still 0 or more, so a proof resting on 0 survives hiding it).
        leans = (np.abs(result.upper.marginals) > 1e-9) | (
            (np.abs(result.lower.marginals) > 1e-9) & (lower > 0)
        )
        sides.append({int(v) for v in np.flatnonzero(leans & shown)})
    usable = [side for side in sides if side]
    if ends[1] - ends[0] >= 1 or not usable:  # whole numbers pin it, not the relaxation
        return _neighbours(matrix, equal, var, shown)
    # The side with fewest counts to withhold, and of those the smaller counts: headline
    # totals stay shown where a proof can be broken without them.
    truth = identities.truth
    return min(usable, key=lambda side: (len(side), sum(int(truth[v]) for v in side)))


def _shown_vars(view: PublishedView, identities: Identities) -> np.ndarray:
    """Variables with at least one cell that shows a number."""
    shown = np.zeros(identities.n_vars, dtype=bool)
    for cell_id, form in enumerate(view.forms):
        if form.value is not None:
            shown[identities.var_of_cell[cell_id]] = True
    return shown


def _neighbours(matrix: Any, equal: np.ndarray, var: int, shown: np.ndarray) -> set[int]:
    """`var` and every shown variable summed with it."""
    columns = matrix.tocsc()
    rows = columns.indices[columns.indptr[var] : columns.indptr[var + 1]]
    found = {var} if shown[var] else set()
    for row in rows[equal[rows]]:
        members = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        found.update(int(m) for m in members if shown[m])
    return found
