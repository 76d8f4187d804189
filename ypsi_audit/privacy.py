"""Spot values and column names that look like personal data.

The incident log must be anonymised, so the toolkit refuses a file holding a value
shaped like a name-free identifier of a person (e-mail, phone number, postcode, pupil
number, date of birth) where it should hold a code, and never repeats such a value.
People write these many ways (a full-width @, "jane at example dot com", `0044 7700
900123`, `SW1A-1AA`, `12 March 2012`), so a value is first normalised (Unicode NFKC, one
kind of space, one kind of dash, "at" and "dot" as @ and .) and the patterns are matched
on that. Normalisation and patterns live in `expectations/personal_data.json`, read by
both this screen and the validation gate's expectations, which are handed the same
normalised text, so the two cannot disagree.

These are shape checks, not proof. They are run on text that should hold a code (the
identifiers, answer keys, and values that could not be read as their column's type),
never on values read as what they should be: an incident date is a date, an age a
number.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Shape:
    kind: str  # what it looks like, for messages: "a UK postcode"
    pattern: re.Pattern[str]
    date_like: bool = False  # a bare date: personal in a code, not in a date column


def _suite_meta() -> dict[str, Any]:
    return json.loads(SUITE.read_text(encoding="utf-8"))["meta"]


_META = _suite_meta()
SHAPES: tuple[Shape, ...] = tuple(
    Shape(p["kind"], re.compile(p["regex"], re.IGNORECASE), p.get("labelled") is False)
    for p in _META["patterns"]
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((s.kind, s.pattern) for s in SHAPES)
# All shapes in one expression, as the suite's expectations hold it; written without
# look-arounds, \s, \b or \d so that Arrow's RE2 and Python's re read it alike.
COMBINED = "(?i)" + "|".join(f"(?:{s.pattern.pattern})" for s in SHAPES)
# The shapes that still count in a date column (a labelled date of birth, an e-mail...).
NOT_DATES = "(?i)" + "|".join(f"(?:{s.pattern.pattern})" for s in SHAPES if not s.date_like)
REPLACEMENTS: tuple[tuple[str, str], ...] = tuple(
    (step["find"], step["with"]) for step in _META["normalise"]["replace"]
)
_COMPILED = tuple((re.compile(find, re.IGNORECASE), to) for find, to in REPLACEMENTS)
_ANY_REPLACEMENT = "(?i)" + "|".join(f"(?:{find})" for find, _ in REPLACEMENTS)
# A code-shaped identifier that reads as a person's name (JaneSmith, Jane_Smith).
NAME_KIND: str = _META["identifier_name"]["kind"]
NAME_REGEX: str = _META["identifier_name"]["regex"]
NAME_PATTERN = re.compile(NAME_REGEX)


def normalise(text: str) -> str:
    """One spelling of a value for the patterns: NFKC, then the suite's replacements."""
    value = unicodedata.normalize("NFKC", str(text))
    for pattern, to in _COMPILED:
        value = pattern.sub(to, value)
    return value


def normalise_array(values: Any) -> pa.Array:
    """`normalise` on an Arrow string array, at C speed: most values (codes such as
    INC-0000123) need no replacement, so only those that do are rewritten."""
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(text.type):
        text = text.cast(pa.string())
    if len(text) == 0:
        return text
    text = pc.utf8_normalize(text, form="NFKC")
    need = pc.fill_null(pc.match_substring_regex(text, _ANY_REPLACEMENT), False)
    if not pc.any(need).as_py():
        return text
    part = pc.filter(text, need)
    for find, to in REPLACEMENTS:
        part = pc.replace_substring_regex(part, "(?i)" + find, to)
    return pc.replace_with_mask(text, need, part)


def looks_personal(text: str | None, *, date_column: bool = False) -> str | None:
    """Name the kind of personal data `text` is shaped like, or None if it looks harmless.

    In a date column a bare date is what the column holds, so only labelled dates of
    birth ("DOB 12/03/2012") and the other shapes count there.
    """
    if text is None:
        return None
    value = normalise(text)
    for shape in SHAPES:
        if date_column and shape.date_like:
            continue
        if shape.pattern.search(value):
            return shape.kind
    return None


def looks_like_name(code: str) -> bool:
    """Whether a code-shaped identifier reads as a person's name (JaneSmith, jane_smith)."""
    return NAME_PATTERN.fullmatch(str(code)) is not None


def personal_mask(series: pd.Series) -> pd.Series:
    """True where a value looks like personal data; each distinct value is checked once."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(np.zeros(len(series), dtype=bool), index=series.index, name=series.name)
    hit = pc.fill_null(
        pc.match_substring_regex(normalise_array(_arrow_text(uniques)), COMBINED), False
    )
    lookup = np.append(hit.to_numpy(zero_copy_only=False), False)  # code -1 picks False
    return pd.Series(lookup[codes], index=series.index, name=series.name)


def _arrow_text(uniques: Any) -> pa.Array:
    """Distinct values as an Arrow string array (non-text values by their str())."""
    try:
        return pa.array(uniques, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([str(v) for v in uniques], type=pa.string())
