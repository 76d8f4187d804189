"""Protect a ledger for publication and prove it safe, or refuse.

`protect` is what a publication run calls: it perturbs every cell with the trust's
cell keys, has the attacker's audit attack the whole pack, and returns the pack only if
the audit passes. Cell-key noise is random, so once in a while it lands so that the
published numbers, taken together, leave a small count only one possible value (say a
total shown two below its true value beside a part shown two above it).

What happens then depends on whether the trust has published before. Before its first
publication, the keys may be drawn afresh from the same secret (draw 1, 2, ...) until
the audit passes: nothing has been published, so no reader has another draw to compare
with, and the draw that passed is kept for ever. After that the kept draw is the only
one (`max_draws=1`): two packs about the same incidents under two draws could be
averaged (an outside attack pinned 39 of 268 small counts that way), and hiding the
counts a pin rests on tells a reader which value the hidden count would have shown (a
second outside attack read true counts of 1 from such gaps). So a later pack the audit
refuses is not published at all: exit code 4, naming the table and the cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import YpsiError
from .audit import AuditReport, audit
from .cellkey import CellKey, record_keys
from .ledger import Ledger
from .pack import Method, Pack

__all__ = ["DisclosureError", "Protected", "protect", "protect_with"]

MAX_DRAWS = 20  # draws a first publication may try (a large trust can need several)


class DisclosureError(YpsiError):
    """The publication pack failed its disclosure check: nothing may be written."""

    exit_code = 4

    def __init__(
        self,
        failures: Sequence[str],
        draws: int,
        *,
        together: int = 0,
        thresholds: Sequence[int] = (),
    ) -> None:
        """`thresholds`: the thresholds of the earlier packs and then this one's, given
        when they differ (the same incidents under two thresholds narrow each count)."""
        self.failures = list(failures)
        first = (self.failures[0] if self.failures else "the audit failed").rstrip(".")
        more = len(self.failures) - 1
        others = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        if together:
            advice = (
                f"it passed on its own, but read together with the trust's {together} earlier "
                f"publication{'s' if together > 1 else ''} it would give a small count away; "
                "publish a grouping of incidents that no earlier pack counted (such as an "
                "academic year that has ended, with --period, if no earlier pack covered it: "
                "a pack of all years covers every year) or keep this one for the "
                "safeguarding team."
            ) + _threshold_advice(thresholds)
        elif draws > 1:
            advice = (
                "publish less detail (a higher --threshold, or fewer --settings, or one "
                "--period), or report this to the toolkit's maintainers."
            )
        else:
            advice = (
                "this trust has published before, so its keys cannot be drawn again (two "
                "draws could be averaged); publish a different grouping (the whole trust, or "
                "another --period or --settings) or keep this one for the safeguarding team."
            )
        super().__init__(
            f"the publication pack failed its disclosure check after {draws} draw(s) of cell "
            f"keys: {first}{others}. No publication pack was written; {advice}"
        )


def _threshold_advice(thresholds: Sequence[int]) -> str:
    """Why a threshold that differs from the earlier packs' matters: one cell key moves
    the same incidents under both thresholds, so the two shown numbers together allow
    fewer true counts than either alone."""
    if len(set(thresholds)) < 2:
        return ""
    *earlier, this = thresholds
    shown = " and ".join(str(t) for t in sorted(set(earlier)))
    return (
        f" The trust's earlier packs used --threshold {shown} and this one {this}: the same "
        "incidents shown under two thresholds narrow what each count can be, so keep every "
        "pack at one threshold."
    )


@dataclass(frozen=True)
class Protected:
    pack: Pack
    report: AuditReport
    draw: int  # which draw of the keys passed (keep it beside the secret)
    failed_draws: int  # draws the audit refused before this one


def protect(
    ledger: Ledger,
    incident_ids: Sequence[Any],
    secret: bytes,
    *,
    first_draw: int = 0,
    max_draws: int = MAX_DRAWS,
) -> Protected:
    """The ledger perturbed with cell keys and passed by the audit (see the module
    docstring); raises `DisclosureError` naming the table and cell when no draw passes."""
    return protect_with(
        ledger, lambda draw: CellKey(record_keys(incident_ids, secret, draw)),
        first_draw=first_draw, max_draws=max_draws,
    )  # fmt: skip


def protect_with(
    ledger: Ledger,
    method: Callable[[int], Method],
    *,
    first_draw: int = 0,
    max_draws: int = MAX_DRAWS,
) -> Protected:
    """As `protect`, with the method of each draw given by `method(draw)` (cell-key
    perturbation with that draw's record keys)."""
    identities = ledger.identities()
    failures: list[str] = []
    for attempt in range(max_draws):
        draw = first_draw + attempt
        pack = ledger.publish(method(draw))
        last = attempt == max_draws - 1  # a draw that will be drawn again only needs a no
        report = audit(pack.for_audit(), identities, ledger.true_counts, stop_at_first=not last)
        if report.passed:
            return Protected(pack, report, draw, attempt)
        failures = report.failures
    raise DisclosureError(failures, max_draws)
