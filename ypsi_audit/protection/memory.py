"""What earlier publications showed and withheld, so that later packs stay consistent.

Cell keys make a set of incidents show the same number in every pack, which is what makes
comparing packs useless to an attacker. Withholding (`withhold.py`) breaks that promise
unless it is remembered: an outside attack combined a trust's whole pack, where one
setting's count was withheld because it would have let a small count be pinned, with
that setting's own pack, where the same count was shown, and pinned it. So the trust's
machine keeps, beside the secret, a fingerprint of every set of incidents any pack has
shown or withheld:

- a set withheld once is withheld in every later pack;
- a set shown once cannot be withheld later (hiding it again would hide nothing), so a
  later pack's audit must break its proof with other counts, or refuse;
- an empty cell is never withheld: every empty cell of every table has the same (empty)
  set of incidents, and a 0 shown in one pack would undo hiding one in another.

A set's fingerprint is the sum, modulo 2**64, of a 64-bit HMAC of each of its incidents'
ids under the trust's secret: the same incidents give the same fingerprint in any table
of any pack, nobody without the secret can tell which incidents it stands for, and it is
worked out for every cell in one pass like a cell key. The file holds fingerprints only,
one per line ("shown" or "withheld"), owner-only, never in a pack.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Memory", "incident_prints", "set_prints"]

_LABEL = b"ypsi-audit set fingerprint "


def incident_prints(incident_ids: Sequence[Any], secret: bytes) -> np.ndarray:
    """Each incident's 64-bit fingerprint (an HMAC of its id under the secret)."""
    ids = pd.Series(incident_ids, dtype="string").fillna("")
    codes, uniques = pd.factorize(ids)
    prints = np.fromiter(
        (
            int.from_bytes(
                hmac.new(secret, _LABEL + str(u).encode("utf-8"), hashlib.sha256).digest()[:8],
                "little",
            )
            for u in uniques
        ),
        dtype=np.uint64,
        count=len(uniques),
    )
    return prints[codes]


def set_prints(ledger: Any, var_of_cell: np.ndarray, prints: np.ndarray) -> np.ndarray:
    """The fingerprint of every variable (distinct set of incidents) of the ledger."""
    per_cell = np.zeros(len(var_of_cell), dtype=np.uint64)
    offset = 0
    for view in ledger.views:
        inside = view.index >= 0
        sums = np.zeros(view.size, dtype=np.uint64)
        np.add.at(sums, view.index[inside], prints[inside])  # wraps modulo 2**64
        per_cell[view.offset : view.offset + view.size] = sums
        offset = view.offset + view.size
    assert offset == len(var_of_cell), "every cell belongs to one view"
    out = np.zeros(int(var_of_cell.max()) + 1 if len(var_of_cell) else 0, dtype=np.uint64)
    out[var_of_cell] = per_cell
    return out


class Memory:
    """The fingerprints of sets earlier packs showed and withheld (see the module
    docstring); `path` is a file beside the trust's secret."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.shown: set[int] = set()
        self.withheld: set[int] = set()
        self._read()

    def _read(self) -> None:
        try:
            lines = self.path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{self.path} cannot be read ({error})") from None
        for number, line in enumerate(lines, start=1):
            kind, _, value = line.partition(" ")
            if kind not in ("shown", "withheld") or len(value) != 16:
                raise ValueError(f"{self.path} line {number} is not a set fingerprint")
            try:
                (self.shown if kind == "shown" else self.withheld).add(int(value, 16))
            except ValueError:
                raise ValueError(f"{self.path} line {number} is not a set fingerprint") from None

    def recall(self, ledger: Any, prints: np.ndarray) -> tuple[set[int], set[int]]:
        """The ledger's variables to withhold from the start (earlier packs withheld their
        sets) and those never to withhold (earlier packs showed them, or they are empty)."""
        fingerprints = set_prints(ledger, ledger.identities().var_of_cell, prints)
        withheld: set[int] = set()
        fixed: set[int] = set()
        for var, value in enumerate(fingerprints.tolist()):
            if value == 0:  # no incidents: an empty cell in any table is never withheld
                fixed.add(var)
            elif value in self.withheld:
                withheld.add(var)
            elif value in self.shown:
                fixed.add(var)
        return withheld, fixed

    def remember(self, ledger: Any, prints: np.ndarray, withheld: Collection[int]) -> None:
        """Keep what a pack that passed its audit shows and withholds."""
        fingerprints = set_prints(ledger, ledger.identities().var_of_cell, prints)
        hidden = np.zeros(len(fingerprints), dtype=bool)
        hidden[list(withheld)] = True
        self.record(shown=fingerprints[~hidden], withheld=fingerprints[hidden])

    def record(self, shown: np.ndarray, withheld: np.ndarray) -> None:
        """Add a published pack's sets and rewrite the file (owner-only, whole or not at
        all)."""
        from ..writing import write_text

        self.withheld |= {int(v) for v in withheld}
        self.shown |= {int(v) for v in shown} - self.withheld
        lines = [f"withheld {v:016x}" for v in sorted(self.withheld)]
        lines += [f"shown {v:016x}" for v in sorted(self.shown)]
        write_text("\n".join(lines) + "\n", self.path)
        os.chmod(self.path, 0o600)
