"""Shape checks for personal data: what they catch, what they leave alone, and speed."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from ypsi_audit.privacy import PERSONAL_COLUMN_HINTS, looks_personal, personal_mask


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jo.bloggs@school.sch.uk", "an e-mail address"),
        ("contact: J.Smith+1@example.org please", "an e-mail address"),
        ("07700 900123", "a UK phone number"),
        ("07700900123", "a UK phone number"),
        ("07700-900-123", "a UK phone number"),
        ("+44 7700 900123", "a UK phone number"),
        ("+44 (0)1244 123456", "a UK phone number"),
        ("(01244) 123456", "a UK phone number"),
        ("020 7946 0018", "a UK phone number"),
        ("0300 123 4567", "a UK phone number"),
        ("CH1 2AB", "a UK postcode"),
        ("M1 1AE", "a UK postcode"),
        ("SW1A 1AA", "a UK postcode"),
        ("sw1a 1aa", "a UK postcode"),
        ("EC1A1BB", "a UK postcode"),
        ("lives near CH65 9HQ", "a UK postcode"),
        ("A123456789012", "a unique pupil number"),
        ("h123456789012", "a unique pupil number"),
        ("13/04/2010", "a date of birth"),
        ("3.4.2010", "a date of birth"),
        ("2010-04-13", "a date of birth"),
        ("13/04/10", "a date of birth"),
        ("3 April 2010", "a date of birth"),
    ],
)
def test_personal_shapes_are_named(value: str, kind: str) -> None:
    assert looks_personal(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "P01",
        "S01",
        "INC-2025-0001",
        "X0000001",
        "secondary",
        "handled_in_setting",
        "15",
        "15.0",
        "2025",
        "fifteen",
        "yes",
        "",
        "hello world",
        "12345678",  # too short for a phone number
        "A12345678901",  # 11 digits: too short for a UPN
    ],
)
def test_ordinary_values_are_not_personal(value: str) -> None:
    assert looks_personal(value) is None


def test_none_is_not_personal() -> None:
    assert looks_personal(None) is None  # type: ignore[arg-type]


def test_mask_agrees_with_looks_personal() -> None:
    values = [
        "jo@example.com",
        "07700 900123",
        "CH1 2AB",
        "A123456789012",
        "13/04/2010",
        "P01",
        "secondary",
        None,
    ]
    series = pd.Series(values, dtype="string", index=range(10, 18), name="notes")
    mask = personal_mask(series)
    assert mask.tolist() == [v is not None and looks_personal(v) is not None for v in values]
    assert mask.dtype == bool
    assert mask.index.equals(series.index)
    assert mask.name == "notes"


def test_mask_handles_object_categorical_and_empty_series() -> None:
    mixed = pd.Series([15, None, "jo@example.com", 1.5, True], dtype=object)
    assert personal_mask(mixed).tolist() == [False, False, True, False, False]
    categorical = pd.Series(pd.Categorical(["CH1 2AB", "x", None]))
    assert personal_mask(categorical).tolist() == [True, False, False]
    assert personal_mask(pd.Series([], dtype="string")).tolist() == []


def test_mask_on_a_million_repeated_values_is_fast() -> None:
    series = pd.Series(["P01", "secondary", "CH1 2AB", None] * 250_000, dtype="string")
    start = time.perf_counter()
    mask = personal_mask(series)
    elapsed = time.perf_counter() - start
    assert int(mask.sum()) == 250_000
    assert elapsed < 2.0


def test_mask_on_a_million_distinct_identifiers_is_fast() -> None:
    series = pd.Series([f"X{i:07d}" for i in range(1_000_000)], dtype="string")
    start = time.perf_counter()
    mask = personal_mask(series)
    elapsed = time.perf_counter() - start
    assert not mask.any()
    assert elapsed < 5.0


def test_column_hints_cover_the_obvious_names() -> None:
    for name in ("pupil_name", "surname", "dob", "date_of_birth", "upn", "postcode", "email"):
        assert name in PERSONAL_COLUMN_HINTS
    for name in ("phone", "mobile", "username", "notes", "narrative", "comments", "address"):
        assert name in PERSONAL_COLUMN_HINTS
    assert "incident_id" not in PERSONAL_COLUMN_HINTS
