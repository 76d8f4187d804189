"""Three-valued (Kleene) logic on whole columns at once.

A `Tri` holds two boolean NumPy arrays: `t`, where a condition is known to hold, and
`f`, where it is known not to. Where neither is set the record cannot tell: unknown.
Keeping the two masks separately makes `and`, `or` and `not` two array operations each,
with no per-row Python and no chance of unknown quietly becoming false.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Tri:
    t: np.ndarray  # known true
    f: np.ndarray  # known false

    @classmethod
    def known(cls, mask: np.ndarray) -> Tri:
        """A definite answer on every row."""
        return cls(mask, ~mask)

    @classmethod
    def constant(cls, value: bool | None, n: int) -> Tri:
        t = np.full(n, value is True)
        f = np.full(n, value is False)
        return cls(t, f)

    @property
    def unknown(self) -> np.ndarray:
        return ~(self.t | self.f)

    def __and__(self, other: Tri) -> Tri:
        return Tri(self.t & other.t, self.f | other.f)

    def __or__(self, other: Tri) -> Tri:
        return Tri(self.t | other.t, self.f & other.f)

    def __invert__(self) -> Tri:
        return Tri(self.f, self.t)

    def otherwise(self, other: Tri) -> Tri:
        """This value where it is known, else `other` (the contract's 'where blank')."""
        unknown = self.unknown
        return Tri(self.t | (unknown & other.t), self.f | (unknown & other.f))

    def as_boolean(self):
        """The same answers as a pandas nullable `boolean` array (unknown is NA)."""
        import pandas as pd

        return pd.arrays.BooleanArray(self.t.copy(), self.unknown)


def all_of(parts: list[Tri]) -> Tri:
    out = parts[0]
    for part in parts[1:]:
        out = out & part
    return out


def any_of(parts: list[Tri]) -> Tri:
    out = parts[0]
    for part in parts[1:]:
        out = out | part
    return out
