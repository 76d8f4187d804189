"""Packed three-valued masks and the per-row codes built from them, eight rows at a time,
checked against the plain one-row-at-a-time definitions on random masks of every length
(a final byte only partly used is where such code goes wrong)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ypsi_audit import engine
from ypsi_audit.tristate import Tri, label_rows, row_bits

SIZES = st.integers(min_value=1, max_value=70)


def random_tri(rng: np.random.Generator, n: int) -> Tri:
    state = rng.integers(0, 3, n)  # 0 false, 1 true, 2 unknown
    value = Tri.of(state == 1, state == 0)
    # Negation and Kleene operations leave meaningless bits past the last row; make sure
    # every code path sees such masks.
    return ~(~value & Tri.constant(True, n)) if rng.random() < 0.5 else value


@settings(max_examples=60, deadline=None)
@given(n=SIZES, seed=st.integers(0, 2**32 - 1))
def test_choose_gives_each_row_the_code_of_its_state(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    value = random_tri(rng, n)
    got = value.choose(7, 11, 120)
    expected = np.where(value.t, 7, np.where(value.f, 11, 120))
    assert got.dtype == np.int8 and got.tolist() == expected.tolist()
    assert value.codes().tolist() == np.where(value.t, 1, np.where(value.f, 0, 2)).tolist()


@settings(max_examples=60, deadline=None)
@given(n=SIZES, k=st.integers(0, 16), seed=st.integers(0, 2**32 - 1))
def test_row_bits_put_mask_k_in_bit_k(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    masks = [rng.random(n) < 0.5 for _ in range(k)]
    got = row_bits([np.packbits(m, bitorder="little") for m in masks], n)
    expected = sum((m.astype(np.int64) << j for j, m in enumerate(masks)), np.zeros(n, np.int64))
    assert got.tolist() == expected.tolist()
    assert got.dtype == (np.uint8 if k <= 8 else np.uint16)


@settings(max_examples=60, deadline=None)
@given(n=SIZES, seed=st.integers(0, 2**32 - 1))
def test_label_rows_labels_disjoint_masks_and_leaves_the_rest_zero(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    which = rng.integers(0, 4, n)  # 0: no mask; 1..3: that mask
    values = {1: 5, 2: 127, 3: 64}
    choices = [(np.packbits(which == j, bitorder="little"), v) for j, v in values.items()]
    got = label_rows(choices, n)
    assert got.tolist() == [values.get(int(w), 0) for w in which]


def spelled(masks: list[np.ndarray], ids: list[str]) -> list[str]:
    rows = zip(*masks, strict=True)
    return [";".join(i for i, m in zip(ids, row, strict=True) if m) for row in rows]


@settings(max_examples=40, deadline=None)
@given(n=SIZES, k=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_id_lists_spell_each_row_and_list_only_what_occurs(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"rule_{j}" for j in range(k)]  # above 8 rules the other path is taken
    masks = [rng.random(n) < 0.3 for _ in range(k)]
    got = engine.id_lists([np.packbits(m, bitorder="little") for m in masks], ids, n)
    expected = spelled(masks, ids)
    assert list(got) == expected
    assert sorted(got.categories) == sorted(set(expected))


@settings(max_examples=40, deadline=None)
@given(n=SIZES, k=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_gap_status_says_not_done_or_not_recorded_for_each_gap(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"step_{j}" for j in range(k)]  # above 6 rules the other path is taken
    strict, lenient = [], []
    for _ in range(k):
        gap = rng.random(n) < 0.4
        done = gap & (rng.random(n) < 0.5)  # "not done" only where there is a gap
        strict.append(Tri.of(gap, ~gap))
        lenient.append(Tri.of(done, ~done))
    got = engine.gap_status(strict, lenient, ids)
    expected = [
        ";".join(
            f"{i}:{'not_done' if s.t[r] and soft.t[r] else 'not_recorded'}"
            for i, s, soft in zip(ids, strict, lenient, strict=True)
            if s.t[r]
        )
        for r in range(n)
    ]
    assert list(got) == expected
    assert isinstance(got, pd.Categorical)
    assert sorted(got.categories) == sorted(set(expected))
