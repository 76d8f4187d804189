"""Secondary suppression over all linked tables at once, in the manner of tau-argus.

Every count from 1 to 4 is hidden and shown as "<5" (primary suppression). Then as few
other counts as possible are hidden as "c" (secondary suppression) so that none of the
small ones can be worked out from what is left, across every table of the ledger:

1. A mixed-integer programme (`scipy.optimize.milp`, HiGHS) chooses which counts of 5 or
   more to hide, at least cost (each hidden count costs 1, a little more the larger it
   is), so that every relation between cells that holds a hidden small count holds at
   least one other hidden count (a small count alone in a sum would be the total minus
   the rest).
2. The attacker's audit (`audit.py`) then attacks the result as a whole. Where it can
   still pin a small count (bounds carried through several relations), the programme is
   told to hide at least one more count near it, and at least one of the shown counts
   the attacker's proof rests on (read from the duals of the attack's linear
   relaxation: a pin through a chain of tables, such as a grand total less two margins,
   involves no sum the small count is in), and both steps run again. After half the
   allowed rounds, counts already hidden stay hidden, so the rounds cannot trade one
   hidden count for another for ever; if they still do not settle, every count is hidden.

This is the "hide, attack, hide more" loop of tau-argus's optimal method, with a simpler
cut: the true optimum over every pattern is not proven, only that each round's pattern
is the cheapest one that meets every requirement found so far.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .audit import audit
from .pack import THRESHOLD, Form, PublishedView

__all__ = ["Suppression"]

MAX_ROUNDS = 40


class Suppression:
    """Primary and MILP-chosen secondary suppression (see the module docstring)."""

    name = "secondary suppression"

    def __init__(self, threshold: int = THRESHOLD, *, small_symbol: bool = False) -> None:
        self.threshold = threshold
        self.small_symbol = small_symbol  # "<5" for small counts, else "c" for every hidden one
        self.rounds = 0
        self.converged = False
        self.audit_seconds = 0.0

    def protect(self, ledger: Any) -> list[Form]:
        identities = ledger.identities()
        truth = identities.truth
        primary = (truth >= 1) & (truth < self.threshold)
        candidate = ~primary  # any other count, zeros too: "c" says nothing of its size
        matrix = identities.matrix.tocsr()
        equal = identities.equal
        cuts: list[np.ndarray] = []
        hidden = primary.copy()
        self.audit_seconds = 0.0
        for self.rounds in range(1, MAX_ROUNDS + 1):
            # After half the rounds, what is hidden stays hidden: the cheapest pattern can
            # otherwise trade one proof's count for another's round after round.
            keep = hidden & candidate if self.rounds > MAX_ROUNDS // 2 else None
            chosen = _choose(matrix, equal, primary, candidate, truth, cuts, keep)
            hidden = primary | chosen
            forms = self._forms(ledger, identities.var_of_cell, hidden, primary)
            view = PublishedView(
                list(ledger.cell_list), forms, {}, {}, {}, self.document(), self.threshold
            )
            started = time.perf_counter()
            report = audit(view, identities, ledger.true_counts)
            self.audit_seconds += time.perf_counter() - started
            narrow = [v for v, (low, high) in report.ranges.items() if high - low < 1]
            if not narrow:
                self.converged = True
                return forms
            for var in narrow:
                cuts.extend(_near(matrix, equal, var, hidden, candidate))
                proof = _certificate(matrix, equal, truth, hidden, candidate, var)
                if proof is not None:
                    cuts.append(proof)
        return self._forms(ledger, identities.var_of_cell, hidden | candidate, primary)

    def _forms(
        self, ledger: Any, var_of_cell: np.ndarray, hidden: np.ndarray, primary: np.ndarray
    ) -> list[Form]:
        truth = ledger.true_counts
        forms = []
        for cell, var in enumerate(var_of_cell):
            if primary[var] and self.small_symbol:
                forms.append(Form("primary"))
            elif hidden[var] and self.small_symbol:
                forms.append(Form("secondary"))
            elif hidden[var]:
                forms.append(Form("withheld"))
            else:
                forms.append(Form("exact", int(truth[cell])))
        return forms

    def document(self) -> dict[str, Any]:
        return {"kind": "suppression", "threshold": self.threshold, "promise": 1}

    def note(self) -> str:
        if self.small_symbol:
            return (
                f"Counts from 1 to {self.threshold - 1} are shown as <{self.threshold}; other "
                "counts are hidden as c where they would let a small one be worked out; rates "
                "resting on a hidden count are not shown."
            )
        return (
            f"Counts from 1 to {self.threshold - 1} are not shown (c), nor are other counts "
            "that would let one be worked out; rates resting on a hidden count are not shown."
        )


def _choose(
    matrix: sp.csr_matrix,
    equal: np.ndarray,
    primary: np.ndarray,
    candidate: np.ndarray,
    truth: np.ndarray,
    cuts: list[np.ndarray],
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """The cheapest set of candidates to hide so that no sum (an equality between cells)
    holds exactly one hidden cell, and every cut (a set of which one must be hidden) is
    met: the classic rule of cell suppression, over every table at once."""
    n = len(truth)
    cand = np.flatnonzero(candidate)
    position = np.full(n, -1)
    position[cand] = np.arange(len(cand))
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    lows: list[float] = []
    k = 0
    for r in np.flatnonzero(equal):
        members = matrix.indices[matrix.indptr[r] : matrix.indptr[r + 1]]
        small = int(primary[members].sum())
        others = members[candidate[members]]
        if small == 1:  # a small count alone in a sum: hide another of its cells
            rows.extend([k] * len(others))
            cols.extend(position[others])
            data.extend([1.0] * len(others))
            lows.append(1.0)
            k += 1
        elif small == 0 and len(others) > 1:
            # a count hidden to protect another must not be alone in a sum either:
            # hidden(c) <= the other hidden cells of the sum
            for c in others:
                rows.extend([k] * len(others))
                cols.extend(position[others])
                data.extend([-1.0 if o == c else 1.0 for o in others])
                lows.append(0.0)
                k += 1
    for cut in cuts:
        members = cut[candidate[cut]]
        rows.extend([k] * len(members))
        cols.extend(position[members])
        data.extend([1.0] * len(members))
        lows.append(1.0)
        k += 1
    if not len(cand):
        return np.zeros(n, dtype=bool)
    scale = max(float(truth[cand].max()), 1.0)
    cost = 1.0 + truth[cand] / (10.0 * scale)
    constraints = ()
    if k:
        a = sp.csr_matrix((np.asarray(data), (rows, cols)), shape=(k, len(cand)))
        constraints = LinearConstraint(a, np.asarray(lows), np.inf)
    result = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(len(cand)),
        bounds=Bounds(0 if keep is None else keep[cand].astype(float), 1),
        options={"time_limit": 120.0},
    )
    chosen = np.zeros(n, dtype=bool)
    if result.x is None:
        chosen[cand] = True  # nothing found in time: hide every candidate (safe, wasteful)
        return chosen
    chosen[cand] = result.x > 0.5
    return chosen


def _certificate(
    matrix: sp.csr_matrix,
    equal: np.ndarray,
    truth: np.ndarray,
    hidden: np.ndarray,
    candidate: np.ndarray,
    var: int,
) -> np.ndarray | None:
    """The shown counts the attacker's proof that `var` is pinned rests on (one of them
    must be hidden), read from the duals of the attack's linear relaxation: the counts
    whose published value bounds the smallest or the largest value `var` can take. None
    when the relaxation does not pin `var` (integrality does) or the proof rests on
    nothing that can be hidden; `_near`'s cuts are used then."""
    lower = np.where(hidden, 0.0, truth.astype(float))
    upper = np.where(hidden, np.inf, truth.astype(float))
    bounds = list(zip(lower, upper, strict=True))
    equalities, inequalities = matrix[equal], matrix[~equal]
    zeros_eq, zeros_ub = np.zeros(equalities.shape[0]), np.zeros(inequalities.shape[0])
    used = np.zeros(len(truth), dtype=bool)
    ends = []
    for sign in (1.0, -1.0):
        cost = np.zeros(len(truth))
        cost[var] = sign
        result = linprog(
            cost,
            A_ub=-inequalities if inequalities.shape[0] else None,
            b_ub=zeros_ub if inequalities.shape[0] else None,
            A_eq=equalities if equalities.shape[0] else None,
            b_eq=zeros_eq if equalities.shape[0] else None,
            bounds=bounds,
            method="highs",
        )
        if result.status != 0:
            return None
        ends.append(sign * result.fun)
        # A count the proof holds down from above, or up from a true count above 0 (a
        # hidden count may still be 0, so a proof resting on a 0 from below survives).
        used |= np.abs(result.upper.marginals) > 1e-9
        used |= (np.abs(result.lower.marginals) > 1e-9) & (truth > 0)
    if ends[1] - ends[0] >= 1:  # the relaxation leaves room: integrality pins it
        return None
    shown = np.flatnonzero(used & candidate & ~hidden)
    return shown if len(shown) else None


def _near(
    matrix: sp.csr_matrix, equal: np.ndarray, var: int, hidden: np.ndarray, candidate: np.ndarray
) -> list[np.ndarray]:
    """For a small count the attacker could still pin: in every sum it is part of, one more
    of the counts still shown must be hidden; and so in every sum holding a hidden count of
    those sums, which could otherwise be worked out and so is as good as shown (one cut
    per sum)."""
    columns = matrix.tocsc()

    def sums(v: int) -> np.ndarray:
        rows = columns.indices[columns.indptr[v] : columns.indptr[v + 1]]
        return rows[equal[rows]]

    cuts = []
    first = sums(var)
    seen = set(first.tolist())
    rows = list(first)
    for row in first:
        members = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        for other in members[hidden[members] & candidate[members]]:
            for more in sums(int(other)):
                if more not in seen:
                    seen.add(more)
                    rows.append(more)
    for row in rows:
        members = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        shown = members[candidate[members] & ~hidden[members]]
        if len(shown):
            cuts.append(shown)
    if not cuts:
        cuts.append(np.flatnonzero(candidate & ~hidden))
    return cuts
