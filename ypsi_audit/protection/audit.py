"""The attacker's audit: can anything a publication shows be used to work out a small count?

This reads only what a pack publishes (each cell's form, every figure as shown, the
method's documentation) and the ledger's identities, never the code that chose what to
protect. It writes one integer programme per run:

- a variable for the true count behind every distinct set of incidents the ledger counts,
  a whole number of 0 or more;
- bounds from what is shown: an exact count fixes its variable; "<5" is 1 to 4; a "c"
  hidden to protect another is 5 or more; a perturbed count is any count the method's
  ptable can turn into the number shown; a rounded one is within half a base;
- every identity between cells (totals, the same incidents in two tables, this year
  within all years; `identities.py`);
- the same-set rule, for a method whose shown number is a fixed function of the
  incidents behind it (cell keys): where a whole and a part inside it are shown
  differently, the rest of the whole is at least 1. Only the containments written as
  identities are used; those `identities.py` leaves out are open to a reader using the
  rule;
- every figure that cannot be worked out again from the shown counts, taken at its word
  as a statement about the true counts (a rate times its denominator, to the precision
  printed); such a figure also fails the pack, because figures must come from the shown
  counts, and a statistic that cannot be written as a bound (kappa, a funnel position)
  fails it outright.

Then, for every cell whose true count is 1 to 4 (known here, because the audit runs
inside the publication run, never published), it finds with `scipy.optimize.milp`
(HiGHS) the smallest and largest values the programme allows. The pack fails if any is
pinned to one value, or to fewer values than the method promises, or if any shown count
is 1 to 4; each failure names the table and the cell.

To keep this to seconds, the ranges are first proven wide in bulk: a few solves push all
small cells down together, then up, and every integer solution found is a set of counts
consistent with everything published, so each cell's range covers at least the values
seen. Only cells not yet proven wide enough get their own pair of solves (exact minimum
and maximum), and so do the cells that may be the narrowest, until the narrowest range
is known exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .figures import evaluate, format_figure, rounding_half_width
from .identities import Identities
from .pack import HIDDEN, PublishedView, published_parts

__all__ = ["AuditReport", "audit", "shown_range"]

MAX_ROUNDS = 6  # bulk rounds widening the narrowest-looking cells
TIME_LIMIT = 60.0  # seconds for any one solve


@dataclass
class AuditReport:
    """The audit's verdict and the figures for the manifest and the page foot."""

    passed: bool
    failures: list[str]
    cells: int  # published cells
    protected: int  # cells whose true count is 1 to threshold - 1
    narrowest: int | None  # fewest values any of them can still take
    seconds: float
    solves: int
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)  # var -> proven range
    exact: set[int] = field(default_factory=set)  # vars whose range is min..max exactly
    threshold: int = 5  # the smallest count that may be shown
    promise: int = 1  # a small count's range is at least promise + 1 values
    complete: bool = True  # False: stopped at the first failure, others may be unnamed

    @property
    def guaranteed(self) -> int:
        """The fewest values any small count can still take, as the method promises and
        the audit checked: the figure a publication may state."""
        return self.promise + 1

    def manifest(self) -> dict[str, Any]:
        """The audit's figures a publication may carry. The exact number of small counts
        and the narrowest range found are worked out from the true counts (a reader who
        knew that exactly one cell could be as narrow as 2 values would learn that it is
        small), so they are told to the person running the tool instead (`private`)."""
        return {
            "passed": self.passed,
            "cells_published": self.cells,
            "small_counts_could_each_be_at_least": self.guaranteed,
            "failures": len(self.failures),
        }

    def private(self) -> dict[str, Any]:
        """Figures for the person running the tool, never written to a publication."""
        return {
            "small_counts_protected": self.protected,
            "narrowest_range_values": self.narrowest,
            "seconds": round(self.seconds, 3),
            "solves": self.solves,
        }

    def foot(self, earlier: int = 0) -> str:
        """One plain sentence for the foot of every published page (`earlier`: the trust's
        earlier publications this pack was also tested with)."""
        if not self.passed:
            return "This pack failed its disclosure check and must not be published."
        beside = (
            f", alongside the trust's {earlier} earlier publication{'s' if earlier > 1 else ''}"
            if earlier
            else ""
        )
        return (
            f"Disclosure check: all {self.cells:,} published counts, with their totals and "
            "percentages, were tested together the way someone trying to pick out a child "
            f"would{beside}; no true count from 1 to {self.threshold - 1} behind them can be "
            "worked out for certain (each could still be any of at least "
            f"{self.guaranteed} values)."
        )

    def joint_line(self, earlier: int) -> str:
        """The joint audit's exact figures, for the person running the tool."""
        least = (
            f"the narrowest could still be any of {self.narrowest} values"
            if self.narrowest
            else f"each could still be any of at least {self.guaranteed} values"
        )
        tested = (
            f"{self.protected:,} small counts over {self.cells:,} published cells tested, {least}"
            if self.protected
            else f"no small count behind {self.cells:,} published cells"
        )
        return (
            f"Together with the {earlier} earlier publication{'s' if earlier > 1 else ''}: "
            f"{tested} ({self.solves} solves, {self.seconds:.1f} s)."
        )

    def operator_line(self) -> str:
        """One line for the person running the tool, with the exact figures."""
        if self.passed and not self.protected:
            return (
                f"Disclosure check passed: no true count from 1 to {self.threshold - 1} "
                f"behind the pack ({self.solves} solves, {self.seconds:.1f} s). This stays "
                "with you; the pack states only the method's guarantee."
            )
        return (
            f"Disclosure check passed: {self.protected:,} true "
            f"count{'' if self.protected == 1 else 's'} from 1 to {self.threshold - 1} "
            "tested, the narrowest could still be any of "
            f"{self.narrowest} values ({self.solves} solves, {self.seconds:.1f} s). "
            "These figures stay with you; the pack states only the method's guarantee."
            if self.passed
            else "Disclosure check failed."
        )


def shown_range(
    form_status: str, value: int | None, document: dict[str, Any], threshold: int
) -> tuple[float, float]:
    """The true counts a published form allows, from the method's documentation."""
    if form_status == "exact":
        return float(value), float(value)  # type: ignore[arg-type]
    if form_status == "primary":
        return 1.0, float(threshold - 1)
    if form_status == "secondary":
        return float(threshold), np.inf
    if form_status == "suppressed":
        return 0.0, float(threshold - 1)
    if form_status in ("withheld", "derived"):
        return 0.0, np.inf
    if form_status == "rounded":
        half = int(document["base"]) // 2
        return float(max(0, value - half)), float(value + half)  # type: ignore[operator]
    if form_status == "perturbed":
        return _preimage(int(value), document)  # type: ignore[arg-type]
    raise ValueError(f"unknown status {form_status!r}")


def _preimage(shown: int, document: dict[str, Any]) -> tuple[float, float]:
    """The smallest and largest true counts the ptable turns into `shown`."""
    cache = document.setdefault("_preimage", {})
    if shown in cache:
        return cache[shown]
    table = _table(document)
    reach = _reach(document)
    possible = []
    for count in range(max(0, shown - reach), shown + reach + 1):
        if count == 0:
            if shown == 0:
                possible.append(0)
            continue
        if np.any(count + table[_row(count, document)] == shown):
            possible.append(count)
    if not possible:
        raise ValueError(f"no true count can be shown as {shown} under this ptable")
    cache[shown] = (float(min(possible)), float(max(possible)))
    return cache[shown]


def _table(document: dict[str, Any]) -> np.ndarray:
    """The document's ptable as an array, made once per audit (documents are copies)."""
    if "_table" not in document:
        document["_table"] = np.asarray(document["ptable"])
    return document["_table"]


def _reach(document: dict[str, Any]) -> int:
    """The largest move the document's ptable makes (a count below the threshold shown 0)."""
    if "_reach" not in document:
        document["_reach"] = int(np.abs(_table(document)).max())
    return document["_reach"]


def _row(count: int, document: dict[str, Any]) -> int:
    """The ptable row a true count reads (rows above `max_pcv` wrap, as ONS's do)."""
    if count <= document["max_pcv"]:
        return count
    return (count - 1) % document["wrap_period"] + document["wrap_from"]


def _same_key_counts(shown: list[tuple[int, dict[str, Any]]], low: int, high: int) -> list[int]:
    """The true counts from `low` to `high` that one cell key turns into every shown value
    at once (each value with the method document of the pack that showed it)."""
    possible = []
    for count in range(low, high + 1):
        if count == 0:
            if all(value == 0 for value, _ in shown):
                possible.append(0)
            continue
        fits = None
        for value, document in shown:
            match = count + _table(document)[_row(count, document)] == value
            fits = match if fits is None else fits & match
        if fits is not None and fits.any():
            possible.append(count)
    return possible


def _same_key_range(
    shown: list[tuple[int, dict[str, Any]]], low: float, high: float
) -> tuple[float, float]:
    """The true counts that one cell key could turn into every shown value at once.

    Packs of one trust share its cell keys, so the same incidents published under two
    thresholds were moved by one key read from two ptables: a count is possible only if a
    single key gives every shown value (the seventh outside attack: shown 7 at threshold
    5 and 0 at threshold 10 allows 5 or 6, where each alone allows 5 to 9). Checked for
    every count in [low, high], each shown range alone; the counts left have no gaps (a
    test checks every pair of thresholds from 5 to 12, and others), so the range is
    exact. If no count fits (keys that were not shared), the ranges alone stand."""
    possible = _same_key_counts(shown, int(low), int(high))
    if not possible:
        return low, high
    return float(min(possible)), float(max(possible))


def _cross_threshold_rows(
    identities: Identities,
    keyed: dict[int, dict[Any, tuple]],
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[list, list[tuple[int, int, int, int]]]:
    """The same-set rule across thresholds, for a whole and a part shown under different
    thresholds (within one threshold it is "shown differently", which `_same_set_rows`
    adds). If no single count under one key could give all their shown numbers, they are
    different incidents: whole - part >= 1 (a row). Otherwise they are either different
    incidents, or the same ones with a count from the few that one key allows, and where
    those few are narrower than the two ranges allow, the pair is returned as a link
    (whole, part, lowest, highest) for `_Solver` to hold as an either-or."""
    matrix = identities.matrix
    pairs = set()
    links = []
    for r in range(matrix.shape[0]):
        members = matrix.indices[matrix.indptr[r] : matrix.indptr[r + 1]]
        coefficients = matrix.data[matrix.indptr[r] : matrix.indptr[r + 1]]
        whole = members[coefficients == 1.0]
        if len(whole) != 1 or int(whole[0]) not in keyed:
            continue
        w = int(whole[0])
        mine = keyed[w]
        for part in members[coefficients == -1.0]:
            p = int(part)
            theirs = keyed.get(p)
            if not theirs or set(theirs) == set(mine) == {next(iter(mine))}:
                continue  # one threshold only: the within-threshold rule covers it
            shown = list(mine.values()) + list(theirs.values())
            high = max(value for value, _ in shown) + max(_reach(d) for _, d in shown)
            same = _same_key_counts(shown, 0, high)
            if not same:
                pairs.add((w, p))
            elif min(same) > max(lower[w], lower[p]) or max(same) < min(upper[w], upper[p]):
                links.append((w, p, min(same), max(same)))
    rows = []
    if pairs:
        n = len(pairs)
        at = (np.repeat(np.arange(n), 2), np.array(sorted(pairs)).ravel())
        block = sp.csr_matrix((np.tile([1.0, -1.0], n), at), shape=(n, identities.n_vars))
        rows = [(block, 1.0, np.inf)]
    return rows, sorted(set(links))


def _with_links(
    matrix: sp.csr_matrix,
    row_low: np.ndarray,
    row_high: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    links: list[tuple[int, int, int, int]],
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The programme with one 0/1 column z per link (whole w, part p, counts a..b):
    z = 0 means w >= p + 1; z = 1 means w = p with a <= w <= b. Big M is the largest
    finite bound (or the range's top) so the rows are idle on the other branch."""
    n_vars, k = len(lower), len(links)
    finite = upper[np.isfinite(upper)]
    big = float(max(finite.max() if finite.size else 0.0, max(b for *_, b in links))) + 1.0
    entries: list[tuple[int, int, float]] = []
    low: list[float] = []
    high: list[float] = []
    for i, (w, p, a, b) in enumerate(links):
        z = n_vars + i
        base = 4 * i
        entries += [(base, w, 1.0), (base, p, -1.0), (base, z, 1.0)]  # w - p + z >= 1
        entries += [(base + 1, w, 1.0), (base + 1, p, -1.0), (base + 1, z, big)]  # <= big
        entries += [(base + 2, w, 1.0), (base + 2, z, -float(a))]  # w - a z >= 0
        entries += [(base + 3, w, 1.0), (base + 3, z, big)]  # w + big z <= b + big
        low += [1.0, -np.inf, 0.0, -np.inf]
        high += [np.inf, big, np.inf, b + big]
    r, c, v = zip(*entries, strict=True)
    block = sp.csr_matrix((v, (r, c)), shape=(4 * k, n_vars + k))
    widened = sp.hstack([matrix, sp.csr_matrix((matrix.shape[0], k))]).tocsr()
    return (
        sp.vstack([widened, block]).tocsr(),
        np.concatenate([row_low, low]),
        np.concatenate([row_high, high]),
        np.concatenate([lower, np.zeros(k)]),
        np.concatenate([upper, np.ones(k)]),
    )


def audit(
    view: PublishedView,
    identities: Identities,
    truth_cells: np.ndarray,
    *,
    promise: int | None = None,
    narrowest: bool = True,
    stop_at_first: bool = False,
) -> AuditReport:
    """Attack the published view; see the module docstring. `narrowest=False` stops once
    every small count is proven wide enough, without finding the narrowest range (for the
    joint audit of many packs, where that search is the costly part and says nothing
    more about safety). `stop_at_first=True` stops at the first small count worked out
    (the pack is refused either way, and each single solve of a large joint programme
    can take a minute); the report is then `complete=False`."""
    start = time.perf_counter()
    threshold = view.threshold
    document = dict(view.document)
    promise = int(document.get("promise", 1)) if promise is None else promise
    promise = max(promise, 1)
    failures: list[str] = []
    n_vars = identities.n_vars
    var_of_cell = identities.var_of_cell
    lower = np.zeros(n_vars)
    upper = np.full(n_vars, np.inf)

    documents = {id(d): dict(d) for d in view.documents}  # copies: the lookups cache in them
    keyed: dict[int, dict[Any, tuple[int, dict[str, Any]]]] = {}  # var: threshold: shown
    for cell_id, form in enumerate(view.forms):
        cell = view.cells[cell_id]
        own = view.document_of(cell_id)
        read = documents.get(id(own), document)
        least = int(read.get("threshold", threshold))
        if form.value is not None and 1 <= form.value < least:
            failures.append(f"{cell.label} shows a count from 1 to {least - 1}.")
        low, high = shown_range(form.status, form.value, read, least)
        var = var_of_cell[cell_id]
        lower[var] = max(lower[var], low)
        upper[var] = min(upper[var], high)
        if form.status == "perturbed" and read.get("kind") == "cell-key":
            keyed.setdefault(var, {})[read.get("threshold")] = (int(form.value), read)
    for var, shown in keyed.items():
        if len(shown) > 1:  # the same incidents under two thresholds: one cell key
            lower[var], upper[var] = _same_key_range(list(shown.values()), lower[var], upper[var])

    truth = identities.truth.astype(float)
    if np.any(truth < lower) or np.any(truth > upper):
        bad = int(np.flatnonzero((truth < lower) | (truth > upper))[0])
        failures.append(
            f"{_name(view, identities, bad)} is shown in a way its method does not allow "
            "(the method's documented range is wrong)."
        )
        lower, upper = np.minimum(lower, truth), np.maximum(upper, truth)

    extra_rows, figure_failures = _figures(view, identities, truth)
    failures.extend(figure_failures)
    for cells in _same_set_groups(view):
        extra_rows.extend(_same_set_rows(view, identities, cells))
    links: list[tuple[int, int, int, int]] = []
    if len({t for shown in keyed.values() for t in shown}) > 1:
        crossed, links = _cross_threshold_rows(identities, keyed, lower, upper)
        extra_rows.extend(crossed)
    matrix = identities.matrix
    row_low = np.zeros(matrix.shape[0])
    row_high = np.where(identities.equal, 0.0, np.inf)
    if extra_rows:
        matrix = sp.vstack([matrix, *(rows for rows, _, _ in extra_rows)]).tocsr()
        row_low = np.concatenate([row_low, *(np.full(r.shape[0], lo) for r, lo, _ in extra_rows)])
        row_high = np.concatenate([row_high, *(np.full(r.shape[0], hi) for r, _, hi in extra_rows)])

    small = (identities.truth >= 1) & (identities.truth < threshold)
    targets = np.flatnonzero(small)
    n_protected = int(small[var_of_cell].sum())
    if links:
        solver = _Solver(*_with_links(matrix, row_low, row_high, lower, upper, links), n_vars)
    else:
        solver = _Solver(matrix, row_low, row_high, lower, upper)
    seen_low, seen_high = truth.copy(), truth.copy()

    # Bulk: integer solutions that push the cells not yet proven wide all down, then up.
    open_targets = targets[(upper[targets] - lower[targets]) >= promise]
    pending = open_targets[(seen_high[open_targets] - seen_low[open_targets]) < promise]
    while len(pending):  # until a round proves no more cells wide enough
        before = len(pending)
        for sign in (1.0, -1.0):
            weights = np.zeros(n_vars)
            weights[pending] = sign
            solution = solver.solve(weights)
            if solution is not None:
                seen_low = np.minimum(seen_low, solution)
                seen_high = np.maximum(seen_high, solution)
            pending = pending[(seen_high[pending] - seen_low[pending]) < promise]
        if len(pending) == before:
            break

    # Single cells: those not proven wide enough, then the candidates for the narrowest.
    exact: set[int] = set()

    def settle(var: int) -> None:
        """The exact range of one cell; each solve's solution is also a witness for
        every other cell (it often proves many of them wide, saving their solves)."""
        low, low_witness = solver.bound(var, 1.0)
        high, high_witness = solver.bound(var, -1.0)
        for witness in (low_witness, high_witness):
            if witness is not None:
                np.minimum(seen_low, witness, out=seen_low)
                np.maximum(seen_high, witness, out=seen_high)
        seen_low[var] = low if low is not None else seen_low[var]
        seen_high[var] = high if high is not None else seen_high[var]
        if low is not None and high is not None:
            exact.add(var)

    # The cells no witness moved first: a count that can be worked out is among them.
    widths = seen_high[targets] - seen_low[targets]
    complete = True
    for var in targets[np.argsort(widths, kind="stable")]:
        if seen_high[var] - seen_low[var] < promise:
            if failures and stop_at_first:
                complete = False
                break
            settle(int(var))
            if seen_high[var] - seen_low[var] < promise:
                width = int(seen_high[var] - seen_low[var])
                unsettled = "" if var in exact else " (the solver could not settle it in time)"
                what = (
                    "can be worked out exactly"
                    if width == 0
                    else f"can be narrowed to {width + 1} values, fewer than the method promises"
                )
                failures.append(f"{_name(view, identities, int(var))} {what}{unsettled}.")
    least_values = None
    if len(targets) and not failures and narrowest:
        # Widen the narrowest-looking cells in bulk, then settle them one by one.
        for _ in range(MAX_ROUNDS):
            widths = seen_high[targets] - seen_low[targets]
            unsettled = np.array([v not in exact for v in targets])
            if not unsettled.any():
                break
            least = widths[unsettled].min()
            chosen = targets[unsettled & (widths == least)]
            for sign in (1.0, -1.0):
                weights = np.zeros(n_vars)
                weights[chosen] = sign
                solution = solver.solve(weights)
                if solution is not None:
                    seen_low = np.minimum(seen_low, solution)
                    seen_high = np.maximum(seen_high, solution)
            if (seen_high[chosen] - seen_low[chosen]).max() == least:
                break  # none of them moved: what is left needs single solves
        widths = seen_high[targets] - seen_low[targets]
        best = min((widths[i] for i, v in enumerate(targets) if v in exact), default=np.inf)
        for i in np.argsort(widths, kind="stable"):
            if widths[i] >= best:
                break
            settle(int(targets[i]))
            widths[i] = seen_high[targets[i]] - seen_low[targets[i]]
            if targets[i] in exact:
                best = min(best, widths[i])
        least_values = int(min(best, widths.min())) + 1
    report = AuditReport(
        passed=not failures,
        failures=failures,
        cells=len(view.forms),
        protected=n_protected,
        narrowest=least_values,
        seconds=time.perf_counter() - start,
        solves=solver.solves,
        ranges={int(v): (int(seen_low[v]), int(seen_high[v])) for v in targets},
        exact=exact,
        threshold=threshold,
        promise=promise,
        complete=complete,
    )
    return report


class _Solver:
    """The one programme, solved again and again with different objectives."""

    def __init__(
        self, matrix: sp.csr_matrix, row_low: np.ndarray, row_high: np.ndarray,
        lower: np.ndarray, upper: np.ndarray, counts: int | None = None,
    ) -> None:  # fmt: skip
        self.constraints = LinearConstraint(matrix, row_low, row_high) if matrix.shape[0] else ()
        self.bounds = Bounds(lower, upper)
        self.integrality = np.ones(len(lower))
        # The count variables come first; any columns after them are the either-or
        # switches of `_with_links`, never seen by the caller.
        self.counts = len(lower) if counts is None else counts
        self.solves = 0

    def _run(self, weights: np.ndarray) -> Any:
        self.solves += 1
        full = np.zeros(len(self.integrality))
        full[: self.counts] = weights
        return milp(
            full,
            constraints=self.constraints,
            integrality=self.integrality,
            bounds=self.bounds,
            options={"time_limit": TIME_LIMIT, "presolve": True},
        )

    def solve(self, weights: np.ndarray) -> np.ndarray | None:
        """Any integer solution found (optimal or not): a witness."""
        result = self._run(weights)
        return None if result.x is None else np.rint(result.x[: self.counts])

    def bound(self, var: int, sign: float) -> tuple[float | None, np.ndarray | None]:
        """The exact minimum (sign 1) or maximum (sign -1) of one variable, None if the
        solver stopped before proving it; and any integer solution found, as a witness."""
        weights = np.zeros(self.counts)
        weights[var] = sign
        result = self._run(weights)
        witness = None if result.x is None else np.rint(result.x[: self.counts])
        if result.status != 0 or witness is None:
            return None, witness
        return float(witness[var]), witness


def _figures(
    view: PublishedView, identities: Identities, truth: np.ndarray
) -> tuple[list, list[str]]:
    """Check every figure against the shown counts; one that does not follow from them
    fails the pack, and a rate also bounds the true counts as a reader would take it."""
    cell_index = {cell: i for i, cell in enumerate(view.cells)}

    def shown(cell: Any) -> float | None:
        form = view.forms[cell_index[cell]]
        return None if form.value is None or form.status in HIDDEN else float(form.value)

    parts = published_parts(view.figures, shown)
    again: dict[str, float | None] = {}
    rows: list = []
    failures: list[str] = []
    for name, spec in view.figures.items():
        value = evaluate(spec, shown, again.__getitem__, parts.__getitem__)
        again[name] = value
        if format_figure(spec, value) == view.figure_texts[name]:
            continue
        failures.append(f"figure {name} does not follow from the published counts.")
        published = view.figure_values.get(name)
        if spec.kind == "rate" and published is not None:
            half = rounding_half_width(spec)
            row = np.zeros(identities.n_vars)
            for cell in spec.part:
                row[identities.var_of_cell[cell_index[cell]]] += 1.0
            whole = np.zeros(identities.n_vars)
            for cell in spec.whole:
                whole[identities.var_of_cell[cell_index[cell]]] += 1.0
            # part - (p + h) * whole <= 0 and part - (p - h) * whole >= 0
            above = row - (published + half) * whole
            below = row - (published - half) * whole
            if above @ truth <= 1e-9 and below @ truth >= -1e-9:  # it is about the true counts
                rows.append((sp.csr_matrix(above), -np.inf, 0.0))
                rows.append((sp.csr_matrix(below), 0.0, np.inf))
    return rows, failures


def _same_set_groups(view: PublishedView) -> list[np.ndarray]:
    """The cells within which the same-set rule holds: those published with one method
    that documents `same_set_same_value` and the same ptable (packs made with another
    threshold show the same incidents differently, so the rule does not reach across)."""
    n = len(view.forms)
    if view.pack_of_cell is None:
        return [np.arange(n)] if view.document.get("same_set_same_value") else []
    groups: dict[tuple, list[int]] = {}
    for number, document in enumerate(view.documents):
        if not document.get("same_set_same_value"):
            continue
        key = (
            document.get("kind"), document.get("threshold"),
            np.asarray(document.get("ptable", ())).tobytes(),
        )  # fmt: skip
        groups.setdefault(key, []).append(number)
    pack_of_cell = np.asarray(view.pack_of_cell)
    return [np.flatnonzero(np.isin(pack_of_cell, numbers)) for numbers in groups.values()]


def _same_set_rows(view: PublishedView, identities: Identities, cells: np.ndarray) -> list:
    """A method that documents `same_set_same_value` (cell keys: the shown number is a
    fixed function of the incidents in a cell) shows the same incidents the same way, so
    a cell shown differently from a cell inside it holds other incidents too: for every
    relation "whole >= or = its parts", each part shown differently from the whole gives
    whole - part >= 1. Without this a shown 0 beside a total and a part that differ reads
    as 0 to 4 when it is 1 to 4 (the third outside attack, 2026-12-03)."""
    shown = np.full(identities.n_vars, np.nan)
    for cell_id in cells:
        form = view.forms[cell_id]
        if form.status == "perturbed" and form.value is not None:
            shown[identities.var_of_cell[cell_id]] = form.value
    matrix = identities.matrix  # csr: one row per relation
    wholes: list[int] = []
    parts: list[int] = []
    for r in range(matrix.shape[0]):
        members = matrix.indices[matrix.indptr[r] : matrix.indptr[r + 1]]
        coefficients = matrix.data[matrix.indptr[r] : matrix.indptr[r + 1]]
        whole = members[coefficients == 1.0]
        inside = members[coefficients == -1.0]
        if len(whole) != 1 or len(inside) + 1 != len(members) or np.isnan(shown[whole[0]]):
            continue
        differ = inside[~np.isnan(shown[inside]) & (shown[inside] != shown[whole[0]])]
        wholes.extend([int(whole[0])] * len(differ))
        parts.extend(differ.tolist())
    if not wholes:
        return []
    pairs = sorted(set(zip(wholes, parts, strict=True)))
    n = len(pairs)
    rows = np.repeat(np.arange(n), 2)
    columns = np.array(pairs).ravel()
    values = np.tile([1.0, -1.0], n)
    block = sp.csr_matrix((values, (rows, columns)), shape=(n, identities.n_vars))
    return [(block, 1.0, np.inf)]


def _name(view: PublishedView, identities: Identities, var: int) -> str:
    cells = np.flatnonzero(identities.var_of_cell == var)
    label = view.cells[int(cells[0])].label
    others = len(cells) - 1
    return label + (
        f" (and {others} other published cells counting the same incidents)" if others else ""
    )
