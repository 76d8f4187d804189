"""Three-valued (Kleene) logic on whole columns at once, eight rows to a byte.

A `Tri` holds two bit masks: `t`, where a condition is known to hold, and `f`, where it
is known not to. Where neither is set the record cannot tell: unknown. Keeping the two
masks separately makes `and`, `or` and `not` two array operations each, with no per-row
Python and no chance of unknown quietly becoming false.

The masks are kept packed (`np.packbits`, little bit order: row i is bit i % 8 of byte
i // 8), so a million rows are 125 kB a mask instead of 1 MB: a policy evaluates a few
hundred of these operations, and on packed masks each touches an eighth of the memory
and stays in the processor's cache. Bits past the last row in the final byte carry no
meaning; everything that reads a mask unpacks exactly `n` rows. `t`, `f` and `unknown`
give plain boolean arrays for code that wants them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pack(mask: np.ndarray) -> np.ndarray:
    """A boolean array as packed bits (row i is bit i % 8 of byte i // 8)."""
    return np.packbits(mask, bitorder="little")


def unpack(bits: np.ndarray, n: int) -> np.ndarray:
    """Packed bits as a boolean array of `n` rows."""
    return np.unpackbits(bits, count=n, bitorder="little").view(bool)


# A packed mask unpacked to one 0/1 byte per row and read eight bytes at a time as a
# uint64 "lane". Arithmetic on lanes is byte-local as long as no byte leaves 0..255, so
# small per-row codes are built eight rows per operation, then viewed as bytes.
_ONES = np.full(8, 1, dtype=np.uint8).view(np.uint64)[0]  # every byte 1


def lanes(bits: np.ndarray) -> np.ndarray:
    """Packed bits as lanes: one uint64 per packed byte, each of its bytes 0 or 1."""
    return np.unpackbits(bits, bitorder="little").view(np.uint64)


def rows(lane_values: np.ndarray, n: int) -> np.ndarray:
    """Lanes back to one uint8 per row (the first `n` rows)."""
    return lane_values.view(np.uint8)[:n]


def label_rows(choices: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """One int8 per row: the value (0 to 127) of the packed mask set on that row, 0 where
    none is. The masks must be disjoint; eight rows are labelled per operation."""
    size = (n + 7) // 8
    out = np.zeros(size, dtype=np.uint64)
    for bits, value in choices:
        out |= lanes(bits[:size]) * np.uint64(value)  # 0/1 bytes times a byte-sized value
    return rows(out, n).view(np.int8)


def row_bits(packed: list[np.ndarray], n: int) -> np.ndarray:
    """Mask k as bit k of one integer per row: uint8 for up to 8 masks, uint16 up to 16."""
    if len(packed) > 16:
        raise ValueError("row_bits takes at most 16 masks")
    if not packed:
        return np.zeros(n, dtype=np.uint8)
    low = lanes(packed[0])
    for k, bits in enumerate(packed[1:8], start=1):
        low |= lanes(bits) << np.uint64(k)  # a 0/1 byte shifted by k < 8 stays in its byte
    if len(packed) <= 8:
        return rows(low, n)
    out = row_bits(packed[8:], n).astype(np.uint16)
    out <<= 8
    out |= rows(low, n)
    return out


@dataclass(frozen=True, slots=True)
class Tri:
    tp: np.ndarray  # known true, packed
    fp: np.ndarray  # known false, packed
    n: int  # rows

    @classmethod
    def of(cls, t: np.ndarray, f: np.ndarray) -> Tri:
        """From boolean masks of the rows known true and known false."""
        return cls(pack(t), pack(f), len(t))

    @classmethod
    def known(cls, mask: np.ndarray) -> Tri:
        """A definite answer on every row, from a boolean mask."""
        bits = pack(mask)
        return cls(bits, ~bits, len(mask))

    @classmethod
    def decided(cls, bits: np.ndarray, n: int) -> Tri:
        """A definite answer on every row, from packed bits."""
        return cls(bits, ~bits, n)

    @classmethod
    def constant(cls, value: bool | None, n: int) -> Tri:
        size = (n + 7) // 8
        t = np.full(size, 0xFF if value is True else 0, dtype=np.uint8)
        f = np.full(size, 0xFF if value is False else 0, dtype=np.uint8)
        return cls(t, f, n)

    @property
    def t(self) -> np.ndarray:
        return unpack(self.tp, self.n)

    @property
    def f(self) -> np.ndarray:
        return unpack(self.fp, self.n)

    @property
    def unknown(self) -> np.ndarray:
        return unpack(self.up, self.n)

    @property
    def up(self) -> np.ndarray:
        """Unknown, packed."""
        return ~(self.tp | self.fp)

    def __and__(self, other: Tri) -> Tri:
        return Tri(self.tp & other.tp, self.fp | other.fp, self.n)

    def __or__(self, other: Tri) -> Tri:
        return Tri(self.tp | other.tp, self.fp & other.fp, self.n)

    def __invert__(self) -> Tri:
        return Tri(self.fp, self.tp, self.n)

    def otherwise(self, other: Tri) -> Tri:
        """This value where it is known, else `other` (the contract's 'where blank')."""
        unknown = self.up
        return Tri(self.tp | (unknown & other.tp), self.fp | (unknown & other.fp), self.n)

    def codes(self) -> np.ndarray:
        """int8 codes per row: 0 known false, 1 known true, 2 unknown (`states.TRI`)."""
        return self.choose(1, 0, 2)

    def choose(self, if_true: int, if_false: int, if_unknown: int) -> np.ndarray:
        """One int8 per row: `if_true` where known true, `if_false` where known false,
        `if_unknown` elsewhere (each 0 to 127)."""
        known_false = self.fp & ~self.tp  # never both; made sure so the masks are disjoint
        return label_rows(
            [(self.tp, if_true), (known_false, if_false), (self.up, if_unknown)], self.n
        )

    def as_boolean(self):
        """The same answers as a pandas nullable `boolean` array (unknown is NA)."""
        import pandas as pd

        return pd.arrays.BooleanArray(self.t, self.unknown)


def all_of(parts: list[Tri]) -> Tri:
    """Kleene `and` of the parts, one pass over each mask."""
    if len(parts) == 1:
        return parts[0]
    t = parts[0].tp & parts[1].tp
    f = parts[0].fp | parts[1].fp
    for part in parts[2:]:
        t &= part.tp
        f |= part.fp
    return Tri(t, f, parts[0].n)


def any_of(parts: list[Tri]) -> Tri:
    """Kleene `or` of the parts, one pass over each mask."""
    if len(parts) == 1:
        return parts[0]
    t = parts[0].tp | parts[1].tp
    f = parts[0].fp & parts[1].fp
    for part in parts[2:]:
        t |= part.tp
        f &= part.fp
    return Tri(t, f, parts[0].n)
