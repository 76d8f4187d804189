"""The seven Cheshire factors and the outcome as a hand-written NumPy kernel.

This is comparison (b) of `make bench`: the fastest plain NumPy a programmer would
write for the same rules, on arrays converted from the frame beforehand (`prepare`,
not timed). Only `kernel` is timed, so the toolkit's overhead over it is the price of
reading a policy file, building explanations and the output frame. It covers the
factors and the outcome only: `assess` does more, and the report says so.
`tests/test_benchmarks.py` proves it agrees with the engine exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.rowwise import CONTENT_LEVELS, DEFAULTS, DISTRIBUTIONS, FACTORS

Arrays = dict[str, np.ndarray]
Tri = tuple[np.ndarray, np.ndarray]  # (known present, known absent)
FLAGS = (
    "adult_involved",
    "multiple_victims",
    "in_relationship",
    "content_violent_or_atypical",
    "threats_or_coercion",
    "harassment",
    "grooming_or_exploitation_suspected",
)
AGES = ("youngest_child_age", "oldest_party_age")
LEVELS = {"content_level": CONTENT_LEVELS, "distribution": DISTRIBUTIONS}
REFER, HANDLE, INSUFFICIENT = 0, 1, 2  # positions in ypsi_audit.contract.OUTCOMES


def prepare(frame: pd.DataFrame) -> Arrays:
    """Plain arrays: values plus a `_known` mask per flag and age, codes (-1 blank) per level."""
    arrays: Arrays = {}
    for column in FLAGS:
        series = frame[column]
        arrays[column] = series.to_numpy(dtype=bool, na_value=False)
        arrays[column + "_known"] = series.notna().to_numpy()
    for column in AGES:
        series = frame[column]
        arrays[column] = series.to_numpy(dtype=np.int64, na_value=0)
        arrays[column + "_known"] = series.notna().to_numpy()
    for column, levels in LEVELS.items():
        codes = pd.Categorical(frame[column], categories=levels).codes
        arrays[column] = np.asarray(codes, dtype=np.int8)
    return arrays


def _flag(a: Arrays, column: str) -> Tri:
    value, known = a[column], a[column + "_known"]
    return value & known, ~value & known


def factors(a: Arrays, params: Mapping[str, Any] = DEFAULTS) -> list[Tri]:
    """Each factor as (present, absent) masks; neither set means unknown (Kleene logic)."""
    young, young_known = a["youngest_child_age"], a["youngest_child_age_known"]
    old, old_known = a["oldest_party_age"], a["oldest_party_age_known"]
    content, dist = a["content_level"], a["distribution"]

    under = young < params["under_age"]
    adult_t, adult_f = _flag(a, "adult_involved")
    blank_flag = ~a["adult_involved_known"] & old_known
    of_age = old >= params["adult_age"]
    multiple_t, multiple_f = _flag(a, "multiple_victims")
    wide = dist >= DISTRIBUTIONS.index(params["wider_distribution_from"])
    sexual = content >= CONTENT_LEVELS.index(params["sexual_content_from"])
    violent_t, violent_f = _flag(a, "content_violent_or_atypical")
    threat_t, threat_f = _flag(a, "threats_or_coercion")
    harass_t, harass_f = _flag(a, "harassment")
    rel_t, rel_f = _flag(a, "in_relationship")
    ages_known = young_known & old_known
    gap = (old - young) >= params["wide_age_gap_years"]
    return [
        (under & young_known, ~under & young_known),
        (adult_t | (blank_flag & of_age), adult_f | (blank_flag & ~of_age)),
        (multiple_t | wide, multiple_f & (dist >= 0) & ~wide),
        (sexual | violent_t, (content >= 0) & ~sexual & violent_f),
        (threat_t | harass_t, threat_f & harass_f),
        _flag(a, "grooming_or_exploitation_suspected"),
        (rel_t & ages_known & gap, rel_f | (ages_known & ~gap)),
    ]


def kernel(a: Arrays, params: Mapping[str, Any] = DEFAULTS) -> np.ndarray:
    """Outcome codes: refer if any factor is present, else insufficient if any is unknown."""
    found = factors(a, params)
    present = found[0][0].copy()
    absent = found[0][1].copy()
    for t, f in found[1:]:
        present |= t
        absent &= f
    outcome = np.full(len(present), INSUFFICIENT, dtype=np.int8)
    outcome[absent] = HANDLE
    outcome[present] = REFER
    return outcome


def mismatches(frame: pd.DataFrame) -> list[str]:
    """Every way the kernel disagrees with the engine on this frame (empty: honest).

    Compares the outcome with `assess` and each factor's present/absent masks with the
    engine's own evaluation.
    """
    from ypsi_audit.engine import assess, evaluate

    a = prepare(frame)
    problems = []
    expected = np.asarray(assess(frame)["guidance_outcome"].cat.codes, dtype=np.int8)
    differ = np.flatnonzero(kernel(a) != expected)
    if differ.size:
        problems.append(f"outcome differs on {differ.size} rows, first positions {differ[:5]}")
    engine = evaluate(frame).factors
    for name, (t, f), tri in zip(FACTORS, factors(a), engine, strict=True):
        bad = np.flatnonzero((t != tri.t) | (f != tri.f))
        if bad.size:
            problems.append(f"{name} differs on {bad.size} rows, first positions {bad[:5]}")
    return problems
