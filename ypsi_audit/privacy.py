"""Spot values and column names that look like personal data.

The incident log must be anonymised, so the toolkit refuses to repeat a value that looks
like a name-free identifier of a person (e-mail, phone number, postcode, pupil number,
date of birth) in error messages and reports, and can flag such values in text columns.
These are shape checks, not proof: a false alarm only means a value is not echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import resources

# Column names that suggest a log carries personal data or free text it should not.
PERSONAL_COLUMN_HINTS: frozenset[str] = frozenset(
    {
        "pupil_name",
        "child_name",
        "student_name",
        "name",
        "full_name",
        "first_name",
        "forename",
        "last_name",
        "surname",
        "dob",
        "date_of_birth",
        "birth_date",
        "upn",
        "pupil_number",
        "address",
        "home_address",
        "postcode",
        "post_code",
        "email",
        "e_mail",
        "email_address",
        "phone",
        "telephone",
        "phone_number",
        "mobile",
        "mobile_number",
        "username",
        "user_name",
        "notes",
        "description",
        "narrative",
        "comments",
        "comment",
    }
)

SUITE = resources.expectation_suite("personal_data")


def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The shapes of personal data, read from the personal-data expectation suite so the
    gate and the message-masking can never disagree. Most specific first."""
    meta = json.loads(SUITE.read_text(encoding="utf-8"))["meta"]
    return tuple((p["kind"], re.compile(p["regex"], re.IGNORECASE)) for p in meta["patterns"])


PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = _patterns()
# All shapes in one expression; written without look-arounds or \s so that Arrow's RE2
# engine runs it (as pandas does for the GX suite) at C speed.
COMBINED = "(?i)" + "|".join(f"(?:{p.pattern})" for _, p in PATTERNS)


def looks_personal(text: str) -> str | None:
    """Name the kind of personal data `text` is shaped like, or None if it looks harmless."""
    if text is None:
        return None
    value = str(text)
    for kind, pattern in PATTERNS:
        if pattern.search(value):
            return kind
    return None


def personal_mask(series: pd.Series) -> pd.Series:
    """True where a value looks like personal data; each distinct value is checked once."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(np.zeros(len(series), dtype=bool), index=series.index, name=series.name)
    text = _arrow_text(uniques)
    hit = pc.fill_null(pc.match_substring_regex(text, COMBINED), False).to_numpy(
        zero_copy_only=False
    )
    lookup = np.append(hit, False)  # code -1 (missing) picks the final False
    return pd.Series(lookup[codes], index=series.index, name=series.name)


def _arrow_text(uniques: Any) -> pa.Array:
    """Distinct values as an Arrow string array (non-text values by their str())."""
    try:
        return pa.array(uniques, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([str(v) for v in uniques], type=pa.string())
