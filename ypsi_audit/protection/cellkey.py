"""Cell-key perturbation, the method of the Office for National Statistics (Census 2021).

Each incident gets a record key that never changes (here an HMAC of its incident id
under a secret kept by the trust, so the same incident always has the same key and
nobody without the secret can work keys out). A cell's key (0-255) is worked out from
the keys of the incidents in it (see below). A lookup table, the ptable, says for each
true count and cell key how much to add. So the noise looks random but is fixed: the same cell,
whichever table it appears in and however often it is published, always shows the same
number, and subtracting two tables that differ by one incident gives the difference of
two noisy numbers, not the incident.

This follows ONS's `cell-key-perturbation` package (version 3.1,
`create_perturbed_table`) step for step but one: ONS's cell key is the sum of 8-bit
record keys mod 256, so the key of a total is the sum of its parts' keys, and an outside
attack (2026-12-03) that knew this and the ptable solved the keys and counts of linked
tables together and pinned small counts (12 in one 8-setting pack; 0 when it could not
use the keys' sums). Here each incident's record key is 64 bits of an HMAC, a cell's key
is the 64-bit sum of its incidents' record keys passed through a mixing function
(splitmix64's finaliser) and cut to 0-255: still the same key for the same incidents in
any table, but the key of a total says nothing about its parts'. Counts above 750 use
the ptable's rows 501-750 again (pcv = (count − 1) mod 250 + 501); the noise is the
ptable's `pvalue` for (pcv, ckey); empty cells stay 0. The package itself is not used at
run time because it tabulates one grouping of microdata per call and prints to standard
output, while the ledger needs keys for any cell, margins included, in one pass; the
evaluation (`benchmarks/disclosure_eval.py`) checks that `perturb`, given ONS's cell
keys, gives the package's numbers on every table.

The ptable shipped with ONS's package (`ptable_10_5_rule.csv`) is not perturbation but
deterministic rounding (counts under 10 removed, the rest rounded to 5), and the Census
2021 ptable is not public, so the project has its own, built for the run's threshold t
(5 unless a publication asks for more; t = 5 below):

- a count from 1 to 4 is shown as 5 with probability count/5 and as 0 otherwise, so no
  count from 1 to 4 is ever shown and totals stay right on average;
- a count of 5 or more moves by −2 to +2 for 250 of the 256 keys (−1, 0 and +1 most
  often: 51, 102 and 51 keys; ±2: 23 keys each), by ±3 for 2 keys each way and by ±4 for
  1 key each way; a move that would take it below 5 is no move, so counts of 5 to 8 are
  shown a little high on average (by 0.42, 0.22, 0.04 and 0.02) and from 9 up the moves
  average 0.

A reader who knows this table learns from a shown 0 that the count is 0 to 4, from a
shown 5 that it is 1 to 9, and from a shown v ≥ 6 that it is within 4 of v. With a
threshold t, read t for 5 and t − 1 for 4 throughout.

Why the rare wide moves. An attacker bounds a small count x by a total T and the rest R
shown beside it (x = T − R). With moves of at most 2, T shown 2 low and R shown 2 high
(one key in ten each, so one pair in 100) left x = 1 as the only value, and a pack of some
hundreds of such pairs was pinned in most draws. Widening the possible moves to 4 while
keeping almost all the weight within 2 means the bound is only that tight when both
cells take a move of 4 the opposite way, one pair in 65,536; the published counts are
almost as close to the truth as before. What the audit rules out is certainty, not a good
guess: in that same pattern (a total 2 low beside the rest 2 high, about one pair in 124)
a reader who knows the ptable's weights and takes every value from 1 to 4 as equally
likely beforehand would put about 85% on 1. The same-set rule (the same incidents always
show the same number, so a total shown differently from one of its parts has other
incidents in it) is part of the attacker's audit (`audit.py`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .pack import THRESHOLD, Form

__all__ = [
    "KEY_RANGE",
    "CellKey",
    "cell_keys",
    "default_ptable",
    "load_secret",
    "mix",
    "pcv",
    "perturb",
    "ptable_frame",
    "record_keys",
    "true_range",
]

KEY_RANGE = 256  # record and cell keys 0..255, as ONS
MAX_PCV = 750  # ptable rows, reused above 750 as ONS does
WRAP_FROM, WRAP_PERIOD = 501, 250
# Noise for counts at or above the threshold, in 256ths of the keys: (step, weight). Most
# counts move by 2 or less; moves of 3 and 4 are rare but possible, so a reader can never
# rule them out (see the module docstring). A move that would take a count below the
# threshold is no move.
_NOISE = ((-4, 1), (-3, 2), (-2, 23), (-1, 51), (0, 102), (1, 51), (2, 23), (3, 2), (4, 1))
_ROTATE = 97  # each count reads the cell keys from its own starting point


def default_ptable(threshold: int = THRESHOLD) -> np.ndarray:
    """The project's ptable as an array: `table[pcv, ckey]` is the noise added to a count
    whose perturbation cell value is `pcv` (row 0, for empty cells, is all zero). No count
    from 1 to `threshold` − 1 is ever shown."""
    if not THRESHOLD <= threshold <= MAX_PCV // 2:
        raise ValueError(f"a ptable needs a threshold from {THRESHOLD} to {MAX_PCV // 2}")
    table = np.zeros((MAX_PCV + 1, KEY_RANGE), dtype=np.int64)
    keys = np.arange(KEY_RANGE)
    for count in range(1, MAX_PCV + 1):
        position = (keys + _ROTATE * count) % KEY_RANGE
        if count < threshold:
            up = position < round(KEY_RANGE * count / threshold)
            table[count] = np.where(up, threshold - count, -count)
            continue
        steps = np.array([step for step, _ in _NOISE])
        weights = np.array([weight for _, weight in _NOISE])
        below = count + steps < threshold
        weights[steps == 0] += weights[below].sum()
        weights[below] = 0
        chosen = np.searchsorted(np.cumsum(weights), position, side="right")
        table[count] = steps[chosen]
    return table


@functools.lru_cache(maxsize=8)
def _ptable(threshold: int) -> np.ndarray:
    return default_ptable(threshold)


@functools.lru_cache(maxsize=4096)
def true_range(shown: int, threshold: int = THRESHOLD) -> tuple[int, int]:
    """The smallest and largest true counts this method can show as `shown`: all that a
    reader who knows the ptable learns from one published count (0: 0 to t - 1; t: 1 to
    t + 4; above t: within 4 of it and never below t). Pages use it to say only what holds
    for every true count behind the figures they show."""
    table = _ptable(threshold)
    reach = int(np.abs(table).max())
    possible = [0] if shown == 0 else []
    for count in range(max(1, shown - reach), shown + reach + 1):
        if np.any(count + table[int(pcv(np.array([count]))[0])] == shown):
            possible.append(count)
    if not possible:
        raise ValueError(f"no true count is shown as {shown} by this method")
    return min(possible), max(possible)


def ptable_frame(table: np.ndarray | None = None) -> pd.DataFrame:
    """The ptable in ONS's file layout (columns pcv, ckey, pvalue; pcv 1..750)."""
    table = default_ptable() if table is None else table
    pcvs, ckeys = np.meshgrid(np.arange(1, MAX_PCV + 1), np.arange(KEY_RANGE), indexing="ij")
    return pd.DataFrame({"pcv": pcvs.ravel(), "ckey": ckeys.ravel(), "pvalue": table[1:].ravel()})


def pcv(counts: np.ndarray) -> np.ndarray:
    """ONS's perturbation cell value: the count, or for counts above 750 a row 501-750."""
    counts = np.asarray(counts, dtype=np.int64)
    wrapped = (counts - 1) % WRAP_PERIOD + WRAP_FROM
    return np.where(counts <= MAX_PCV, counts, wrapped)


def record_keys(incident_ids: Sequence[Any], secret: bytes, draw: int = 0) -> np.ndarray:
    """Each incident's record key (64 bits): the first 8 bytes of HMAC-SHA256 of its id
    under the trust's secret. The same id always gets the same key; without the secret the
    keys cannot be worked out. `draw` > 0 gives a fresh, independent set of keys (see
    `publish.protect`)."""
    if len(secret) < 16:
        raise ValueError("the cell-key secret must be at least 16 bytes")
    if draw:
        secret = hmac.new(secret, f"draw {draw}".encode(), hashlib.sha256).digest()
    ids = pd.Series(incident_ids, dtype="string").fillna("")
    codes, uniques = pd.factorize(ids)
    keys = np.fromiter(
        (
            int.from_bytes(
                hmac.new(secret, str(u).encode("utf-8"), hashlib.sha256).digest()[:8], "little"
            )
            for u in uniques
        ),
        dtype=np.uint64,
        count=len(uniques),
    )
    return keys[codes]


def load_secret(path: str | Path) -> bytes:
    """The trust's cell-key secret from `path`, made (32 random bytes, owner-only) the first
    time. Keep the file: a new secret gives every cell new noise, and a reader who sees the
    same table published twice with different noise can average it away."""
    target = Path(path)
    if target.exists():
        data = target.read_bytes()
        if len(data) < 16:
            raise ValueError(f"{target} does not hold a cell-key secret (too short)")
        return data
    target.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_bytes(32)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(temp, target)  # never replace a secret another run made meanwhile
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return target.read_bytes()


def cell_keys(index: np.ndarray, size: int, keys: np.ndarray) -> np.ndarray:
    """The cell key (0-255) of every cell of one level: its incidents' 64-bit record keys
    summed (mod 2**64) and mixed, so the same incidents always give the same key and a
    total's key is not its parts' keys added up."""
    inside = index >= 0
    sums = np.zeros(size, dtype=np.uint64)
    np.add.at(sums, index[inside], np.asarray(keys, dtype=np.uint64)[inside])
    return mix(sums)


def perturb(counts: np.ndarray, ckeys: np.ndarray, ptable: np.ndarray) -> np.ndarray:
    """ONS's lookup step: each count plus the ptable's noise for its perturbation cell
    value and cell key; empty cells stay 0. (The step this module shares with ONS's
    package unchanged; `benchmarks/disclosure_eval.py` checks it against the package.)"""
    counts = np.asarray(counts, dtype=np.int64)
    return np.where(counts > 0, counts + ptable[pcv(counts), ckeys], 0)


def mix(sums: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on 64-bit sums, cut to a cell key of 0-255."""
    z = np.asarray(sums, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z % np.uint64(KEY_RANGE)).astype(np.int64)


class CellKey:
    """Cell-key perturbation of every cell of a ledger (see the module docstring)."""

    name = "cell-key perturbation"

    def __init__(
        self, keys: np.ndarray, ptable: np.ndarray | None = None, *, threshold: int = THRESHOLD
    ) -> None:
        self.keys = np.asarray(keys)
        if self.keys.size and self.keys.dtype != np.uint64:
            if self.keys.dtype.kind not in "iu" or self.keys.min() < 0:
                raise ValueError("record keys must be whole numbers of 0 or more")
            self.keys = self.keys.astype(np.uint64)
        self.threshold = threshold
        self.ptable = (
            default_ptable(threshold) if ptable is None else np.asarray(ptable, dtype=np.int64)
        )

    @classmethod
    def for_incidents(cls, incident_ids: Sequence[Any], secret: bytes) -> CellKey:
        return cls(record_keys(incident_ids, secret))

    def protect(self, ledger: Any) -> list[Form]:
        if len(self.keys) != ledger.n:
            raise ValueError("one record key per incident is needed")
        truth = ledger.true_counts
        forms: list[Form] = []
        for view in ledger.views:
            counts = truth[view.offset : view.offset + view.size]
            shown = perturb(counts, cell_keys(view.index, view.size, self.keys), self.ptable)
            forms.extend(Form("perturbed", int(v)) for v in shown)
        return forms

    def document(self) -> dict[str, Any]:
        return {
            "kind": "cell-key",
            "ptable": self.ptable,
            "max_pcv": MAX_PCV,
            "wrap_from": WRAP_FROM,
            "wrap_period": WRAP_PERIOD,
            "promise": 1,
            "threshold": self.threshold,
            "same_set_same_value": True,  # the same incidents always show the same number
        }

    def note(self) -> str:
        t = self.threshold
        return (
            "Every count is adjusted a little with the Office for National Statistics' "
            f"cell-key method to make it hard to pick out a child: a count from 1 to {t - 1} "
            f"is shown as 0 or {t}, any other count is usually shown up to 2 higher or lower "
            "than it is (rarely up to 4), and the same incidents are always shown the same "
            "way. So a total can differ a little from the sum of its parts, and percentages "
            "are worked out from the counts shown."
        )
