"""Protect a ledger for publication and prove it safe, or refuse.

`protect` is what a publication run calls: it perturbs every cell with the trust's
cell keys, has the attacker's audit attack the whole pack, and returns the pack only if
the audit passes. Cell-key noise is random, so once in a while it lands so that the
published numbers, taken together, leave a small count only one possible value (say a
total shown two below its true value beside a part shown two above it). The audit finds
that, and the counts its proof rests on are withheld (`withhold.py`) until it passes. The
keys themselves never change: a reader who had two packs about the same incidents under
two sets of keys could average the noise away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import YpsiError
from .audit import AuditReport, audit
from .cellkey import CellKey, record_keys
from .ledger import Ledger
from .pack import Form, Method, Pack
from .withhold import Withholding, proof

__all__ = ["DisclosureError", "Protected", "protect", "protect_with"]

MAX_ROUNDS = 12  # rounds of withholding before the run refuses


class DisclosureError(YpsiError):
    """The publication pack failed its disclosure check: nothing may be written."""

    exit_code = 4

    def __init__(self, failures: Sequence[str], rounds: int) -> None:
        self.failures = list(failures)
        first = (self.failures[0] if self.failures else "the audit failed").rstrip(".")
        more = len(self.failures) - 1
        others = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(
            f"the publication pack failed its disclosure check after {rounds} round(s) of "
            f"withholding counts: {first}{others}. No publication pack was written; publish "
            "less detail (a higher --threshold, or fewer --settings, or one --period), or "
            "report this to the toolkit's maintainers."
        )


@dataclass(frozen=True)
class Protected:
    pack: Pack
    report: AuditReport
    draw: int  # the draw of keys used (always the trust's one draw)
    withheld: int  # counts (distinct sets of incidents) withheld to pass the audit
    rounds: int  # audits run
    withheld_vars: frozenset[int] = frozenset()  # which (the identities' variables)


def protect(
    ledger: Ledger,
    incident_ids: Sequence[Any],
    secret: bytes,
    *,
    draw: int = 0,
    max_rounds: int = MAX_ROUNDS,
) -> Protected:
    """The ledger perturbed with cell keys and passed by the audit (see the module
    docstring); raises `DisclosureError` naming the table and cell when withholding cannot
    make it pass."""
    return protect_with(
        ledger, lambda d: CellKey(record_keys(incident_ids, secret, d)),
        draw=draw, max_rounds=max_rounds,
    )  # fmt: skip


def protect_with(
    ledger: Ledger,
    method: Callable[[int], Method],
    *,
    draw: int = 0,
    max_rounds: int = MAX_ROUNDS,
    withheld: set[int] | None = None,
    fixed: set[int] | None = None,
) -> Protected:
    """As `protect`, with the method given by `method(draw)` (cell-key perturbation with
    that draw's record keys): protect, audit, withhold what a failed audit's proofs rest
    on, and audit again. `withheld` variables are withheld from the start and `fixed` ones
    are never withheld (earlier packs withheld or showed them; `memory.py`)."""
    identities = ledger.identities()
    inner = _Remembered(method(draw))
    fixed = set(fixed or ()) - set(withheld or ())
    withheld = set(withheld or ())
    failures: list[str] = []
    for rounds in range(1, max_rounds + 1):
        pack = ledger.publish(Withholding(inner, identities.var_of_cell, withheld))
        view = pack.for_audit()
        report = audit(view, identities, ledger.true_counts)
        if report.passed:
            return Protected(pack, report, draw, len(withheld), rounds, frozenset(withheld))
        failures = report.failures
        pinned = [v for v, (low, high) in report.ranges.items() if high - low < 1]
        more = set().union(*(proof(view, identities, v, fixed) for v in pinned)) - withheld
        if not more:
            break
        withheld |= more
    raise DisclosureError(failures, rounds)


class _Remembered:
    """A method whose forms are worked out once (cell keys give the same forms every
    time; only what is withheld changes between rounds)."""

    def __init__(self, inner: Method) -> None:
        self.inner = inner
        self.name = inner.name
        self._forms: list[Form] | None = None

    def protect(self, ledger: Ledger) -> list[Form]:
        if self._forms is None:
            self._forms = self.inner.protect(ledger)
        return self._forms

    def document(self) -> dict[str, Any]:
        return self.inner.document()

    def note(self) -> str:
        return self.inner.note()
