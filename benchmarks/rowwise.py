"""The Cheshire quick guide written row by row, the way an analyst would in a notebook.

This is comparison (a) of `make bench`: one Python function per incident, applied with
`DataFrame.apply(axis=1)`. It computes everything the contract's `assess` columns say
(the seven factors with unknown handling, the outcome, experimental, consistency and
recording gaps) so the toolkit's speed-up over it is a like-for-like number.
`tests/test_benchmarks.py` proves it agrees with `assess` exactly; `run.py` checks again
on the benchmark data before timing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

# The policy's parameter defaults (ypsi_audit/policies/cheshire-quick-guide.yaml).
DEFAULTS: dict[str, Any] = {
    "under_age": 13,
    "adult_age": 18,
    "sexual_content_from": "sexual_act",
    "wider_distribution_from": "shared_with_others",
    "wide_age_gap_years": 3,
}
CONTENT_LEVELS = ("none", "suggestive", "semi_nude", "nude", "sexual_act")
DISTRIBUTIONS = ("between_parties", "shared_with_others", "shared_widely")
FACTORS = (
    "under_13",
    "adult_involved",
    "multiple_victims_or_wider_distribution",
    "sexual_content",
    "threats_coercion_harassment",
    "grooming_or_exploitation",
    "wide_age_gap",
)
OUTPUT_COLUMNS = (
    "guidance_outcome",
    "aggravating_factors",
    "unknown_factors",
    "experimental",
    "consistency",
    "recording_gaps",
)
CONSISTENCY = {
    ("refer_police", "referred_police"): "consistent_referral",
    ("refer_police", "handled_in_setting"): "under_escalation",
    ("handle_in_setting", "referred_police"): "over_escalation",
    ("handle_in_setting", "handled_in_setting"): "consistent_in_setting",
}


def value(row: pd.Series, column: str) -> Any:
    """The cell, or None when it was left blank (pandas gives NA or NaN for those)."""
    cell = row.get(column)
    return None if cell is None or pd.isna(cell) else cell


def flag(row: pd.Series, column: str) -> bool | None:
    """A yes/no field as True, False or None (not recorded)."""
    cell = value(row, column)
    return None if cell is None else bool(cell)


def kleene_or(*parts: bool | None) -> bool | None:
    """True if any part is true, False only if every part is known false."""
    if any(p is True for p in parts):
        return True
    return False if all(p is False for p in parts) else None


def kleene_and(*parts: bool | None) -> bool | None:
    """False if any part is false, True only if every part is known true."""
    if any(p is False for p in parts):
        return False
    return True if all(p is True for p in parts) else None


def kleene_not(part: bool | None) -> bool | None:
    return None if part is None else not part


def at_least(row: pd.Series, column: str, levels: tuple[str, ...], threshold: str) -> bool | None:
    level = value(row, column)
    return None if level is None else levels.index(level) >= levels.index(threshold)


def factors(row: pd.Series, p: Mapping[str, Any]) -> dict[str, bool | None]:
    """The seven aggravating factors, each True, False or None (cannot tell)."""
    youngest = value(row, "youngest_child_age")
    oldest = value(row, "oldest_party_age")
    adult = flag(row, "adult_involved")
    if adult is None and oldest is not None:
        adult = oldest >= p["adult_age"]
    gap = None if youngest is None or oldest is None else oldest - youngest
    return {
        "under_13": None if youngest is None else youngest < p["under_age"],
        "adult_involved": adult,
        "multiple_victims_or_wider_distribution": kleene_or(
            flag(row, "multiple_victims"),
            at_least(row, "distribution", DISTRIBUTIONS, p["wider_distribution_from"]),
        ),
        "sexual_content": kleene_or(
            at_least(row, "content_level", CONTENT_LEVELS, p["sexual_content_from"]),
            flag(row, "content_violent_or_atypical"),
        ),
        "threats_coercion_harassment": kleene_or(
            flag(row, "threats_or_coercion"), flag(row, "harassment")
        ),
        "grooming_or_exploitation": flag(row, "grooming_or_exploitation_suspected"),
        "wide_age_gap": kleene_and(
            flag(row, "in_relationship"),
            None if gap is None else gap >= p["wide_age_gap_years"],
        ),
    }


def outcome(found: Mapping[str, bool | None]) -> str:
    if any(v is True for v in found.values()):
        return "refer_police"
    if any(v is None for v in found.values()):
        return "insufficient_information"
    return "handle_in_setting"


def experimental(row: pd.Series) -> bool | None:
    """Every low-risk criterion of the guide; unknown where a blank could decide it."""
    motivation = value(row, "motivation")
    distribution = value(row, "distribution")
    return kleene_and(
        flag(row, "consensual"),
        None if motivation is None else motivation in ("romantic", "attention_seeking"),
        kleene_not(flag(row, "high_risk_vulnerability")),
        kleene_not(flag(row, "persistent_contact")),
        flag(row, "contact_age_appropriate"),
        None if distribution is None else distribution == "between_parties",
    )


def consistency(guidance: str, decision: str | None, sent_to_staff: bool | None = False) -> str:
    """The contract's table: a referral without a factor follows the guide where an image
    was sent to staff (the guide tells staff to report it), and cannot be judged where
    the record does not say."""
    if decision is None:
        return "no_decision"
    if (guidance, decision) == ("handle_in_setting", "referred_police"):
        if sent_to_staff is None:
            return "unassessable"
        return "discretionary_referral" if sent_to_staff else "over_escalation"
    return CONSISTENCY.get((guidance, decision), "unassessable")


def not_true(row: pd.Series, *columns: str) -> bool:
    """Some step is recorded as not done or not recorded at all: not shown to be done."""
    return any(flag(row, c) is not True for c in columns)


def recording_gaps(row: pd.Series, guidance: str, low_risk: bool | None) -> list[str]:
    """Recording requirements of the quick guide that the record does not show met."""
    decision = value(row, "decision")
    gaps = []
    if decision is None:
        gaps.append("decision_not_recorded")
    if not_true(row, "rationale_recorded"):
        gaps.append("rationale_not_recorded")
    if flag(row, "image_viewed") is True and not_true(
        row, "viewing_authorised", "viewing_witnessed", "viewing_recorded"
    ):
        gaps.append("viewing_safeguards")
    if flag(row, "device_returned") is True and (
        not_true(row, "parents_contacted_before_return", "images_deleted_before_return")
        or not_true(row, "deletion_recorded")
        or guidance != "handle_in_setting"
        or low_risk is not True
    ):
        gaps.append("device_return_safeguards")
    if flag(row, "image_sent_to_staff") is True and not_true(
        row, "staff_copy_deleted", "staff_reported_to_manager", "staff_reported_to_police"
    ):
        gaps.append("staff_copy_handling")
    if (
        flag(row, "parents_disagreed") is True
        and decision == "handled_in_setting"
        and not_true(row, "parents_told_can_report", "rationale_recorded")
    ):
        gaps.append("parent_disagreement")
    return gaps


def assess_row(row: pd.Series, params: Mapping[str, Any] = DEFAULTS) -> tuple:
    """One incident: outcome, `;`-joined factor ids, experimental, consistency, gaps."""
    found = factors(row, params)
    guidance = outcome(found)
    low_risk = experimental(row)
    return (
        guidance,
        ";".join(k for k, v in found.items() if v is True),
        ";".join(k for k, v in found.items() if v is None),
        low_risk,
        consistency(guidance, value(row, "decision"), flag(row, "image_sent_to_staff")),
        ";".join(recording_gaps(row, guidance, low_risk)),
    )


def assess_rowwise(frame: pd.DataFrame, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The contract's assessment columns for every row, one Python call per row."""
    values = {**DEFAULTS, **(params or {})}
    answers = frame.apply(assess_row, axis=1, args=(values,))
    return pd.DataFrame(answers.tolist(), columns=list(OUTPUT_COLUMNS), index=frame.index)


def as_text(assessed: pd.DataFrame) -> pd.DataFrame:
    """The compared columns as plain text (experimental true/false/blank) for comparing."""
    out = {}
    for column in OUTPUT_COLUMNS:
        series = assessed[column].astype(object)
        if column == "experimental":
            series = series.map(lambda v: "" if v is None or pd.isna(v) else str(bool(v)).lower())
        out[column] = series.astype(str)
    return pd.DataFrame(out, index=assessed.index)


def mismatches(frame: pd.DataFrame, expected: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows where this version and `assess` disagree on any compared column (none: honest).

    `expected` is `assess(frame)` when the caller already has it.
    """
    if expected is None:
        from ypsi_audit.engine import assess

        expected = assess(frame)
    ours = as_text(assess_rowwise(frame))
    theirs = as_text(expected)
    differ = (ours != theirs).any(axis=1)
    return pd.concat(
        [ours[differ].add_suffix("_rowwise"), theirs[differ].add_suffix("_assess")], axis=1
    )
