"""Spot values and column names that look like personal data.

The incident log must be anonymised, so the toolkit refuses to repeat a value that looks
like a name-free identifier of a person (e-mail, phone number, postcode, pupil number,
date of birth) in error messages and reports, and can flag such values in text columns.
These are shape checks, not proof: a false alarm only means a value is not echoed.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A UPN is a check letter and 12 characters: 11 digits and a digit (or a letter for a
# temporary UPN).
_UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\d{11}[0-9A-Za-z](?![A-Za-z0-9])")
# 07 mobiles and 01/02/03 landlines: 10 or 11 digits with a leading 0, or +44 without it;
# spaces, dashes and brackets round the area code are allowed between digits.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[\s\-]?(?:\(0\)[\s\-]?)?|\(?0)[1237](?:[\s\-)]{0,2}\d){8,9}(?!\d)"
)
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\s+\d{{4}})(?!\d)",
    re.IGNORECASE,
)

# Most specific first: an e-mail address may contain digits shaped like a phone number.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an e-mail address", _EMAIL),
    ("a unique pupil number", _UPN),
    ("a UK phone number", _PHONE),
    ("a UK postcode", _POSTCODE),
    ("a date of birth", _DATE),
)

# All shapes in one pass, for the vectorised mask (case does not matter to any of them).
_ANY = re.compile("|".join(f"(?:{p.pattern})" for _, p in PATTERNS), re.IGNORECASE)
# A necessary condition for _ANY that Arrow's own regex engine can test quickly (no
# look-arounds), so Python's regex only runs on the few values that might match.
_MAYBE = (
    r"(?i)@|[a-z]\d{11}|(?:\D*\d){9}|\d\s?[a-z]{2}|\d[/.\-]\d"
    rf"|\d\s+{_MONTHS}"
)


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
    """True where a value looks like personal data; checks each distinct value only once.

    Logs repeat the same few values many times, so the regexes run on the unique values
    and the answer is broadcast back to every row.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(np.zeros(len(series), dtype=bool), index=series.index, name=series.name)
    text = _arrow_text(uniques)
    maybe = pc.match_substring_regex(text, _MAYBE).to_numpy(zero_copy_only=False)
    hit = np.zeros(len(text), dtype=bool)
    where = np.flatnonzero(maybe)
    if where.size:
        candidates = pd.Series(text.take(pa.array(where)).to_pylist(), dtype=object)
        hit[where] = candidates.str.contains(_ANY, na=False).to_numpy(dtype=bool)
    lookup = np.append(hit, False)  # code -1 (missing) picks the final False
    return pd.Series(lookup[codes], index=series.index, name=series.name)


def _arrow_text(uniques: Any) -> pa.Array:
    """Distinct values as an Arrow string array (non-text values by their str())."""
    try:
        return pa.array(uniques, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([str(v) for v in uniques], type=pa.string())
