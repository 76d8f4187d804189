"""The personal-data screen: every spelling it must catch, every contract value it must
leave alone, and its two engines (Python's re, Arrow's RE2) agreeing value for value."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ypsi_audit.privacy import (
    PERSONAL_COLUMN_HINTS,
    looks_like_name,
    looks_personal,
    normalise,
    normalise_array,
    personal_mask,
)

EMAIL, UPN, PHONE, POSTCODE, DOB = (
    "an e-mail address",
    "a unique pupil number",
    "a UK phone number",
    "a UK postcode",
    "a date of birth",
)

# Each spelling people write, and the kind the screen must name. Those marked "issue 11"
# all passed the screen before normalisation was added.
SPELLINGS = [
    ("jo.bloggs@school.sch.uk", EMAIL),
    ("contact: J.Smith+1@example.org please", EMAIL),
    ("jane\uff20example.com", EMAIL),  # issue 11: full-width @
    ("jane \uff20 example.com", EMAIL),
    ("jane at example dot com", EMAIL),  # issue 11: "at" and "dot"
    ("JANE AT EXAMPLE DOT CO DOT UK", EMAIL),
    ("jane(at)example(dot)com", EMAIL),
    ("jane [at] example [dot] com", EMAIL),
    ("jane_at_example_dot_com", EMAIL),  # code-shaped
    ("07700 900123", PHONE),
    ("07700900123", PHONE),
    ("07700-900-123", PHONE),
    ("+44 7700 900123", PHONE),
    ("+44 (0)1244 123456", PHONE),
    ("(01244) 123456", PHONE),
    ("020 7946 0018", PHONE),
    ("0300 123 4567", PHONE),
    ("00447700900123", PHONE),  # issue 11: 0044...
    ("0044 7700 900123", PHONE),
    ("+44 7700 900 123", PHONE),  # issue 11: +44 with spaces
    ("0 7700 900123", PHONE),  # issue 11: a space after the 0
    ("07700.900.123", PHONE),  # issue 11: dots
    ("\uff10\uff17\uff17\uff10\uff10\uff19\uff10\uff10\uff11\uff12\uff13", PHONE),
    ("CH1 2AB", POSTCODE),
    ("M1 1AE", POSTCODE),
    ("SW1A 1AA", POSTCODE),
    ("sw1a 1aa", POSTCODE),
    ("EC1A1BB", POSTCODE),
    ("lives near CH65 9HQ", POSTCODE),
    ("SW1A  1AA", POSTCODE),  # issue 11: two spaces
    ("SW1A-1AA", POSTCODE),  # issue 11: a dash
    ("SW1A\u00a01AA", POSTCODE),  # a no-break space
    ("sw1a_1aa", POSTCODE),
    ("A123456789012", UPN),
    ("h123456789012", UPN),
    ("A123 4567 8901 2", UPN),  # issue 11: spaces
    ("A 1234 5678 901 2", UPN),
    ("a123-456-789-012", UPN),
    ("13/04/2010", DOB),
    ("3.4.2010", DOB),
    ("2010-04-13", DOB),
    ("13/04/10", DOB),
    ("3 April 2010", DOB),
    ("12 March 2012", DOB),  # issue 11
    ("12032012", DOB),  # issue 11: day, month, year run together
    ("DOB 12/03/2012", DOB),  # issue 11
    ("d.o.b. 12.03.12", DOB),
    ("born 1 may 2012", DOB),
    ("12th of March 2012", DOB),
    ("March 12, 2012", DOB),
    ("12-Mar-2012", DOB),
    ("12 03 2012", DOB),
    ("12 / 03 / 2012", DOB),
]

# Contract values and identifiers the screen must never flag: a false alarm refuses a file.
HARMLESS = [
    "P01",
    "S01",
    "S1",
    "S10",
    "S01-A",
    "INC-000232",
    "inc_000233",
    "INC-2025-0001",
    "INC-20250312",
    "20250312",
    "CASE-0001",
    "X0000001",
    "I000",
    "T1",
    "E1",
    "G001",
    "secondary",
    "handled_in_setting",
    "refer_police",
    "consistent_in_setting",
    "adult_involved;wide_age_gap",
    "under_13",
    "2024-25",
    "15",
    "15.0",
    "100",
    "2025",
    "fifteen",
    "yes",
    "",
    "hello world",
    "at risk",
    "seen at school",
    "met at st. mary's",
    "Oakfield Primary",
    "14 March",
    "12345678",  # too short for a phone number
    "A12345678901",  # 11 digits: too short for a UPN
]


@pytest.mark.parametrize(("value", "kind"), SPELLINGS)
def test_each_spelling_is_named(value: str, kind: str) -> None:
    assert looks_personal(value) == kind


@pytest.mark.parametrize("value", HARMLESS)
def test_contract_values_and_codes_are_not_personal(value: str) -> None:
    assert looks_personal(value) is None


def test_none_is_not_personal() -> None:
    assert looks_personal(None) is None


def test_in_a_date_column_only_a_labelled_date_of_birth_counts() -> None:
    assert looks_personal("12/03/2012", date_column=True) is None  # an incident date
    assert looks_personal("12 March 2012", date_column=True) is None
    assert looks_personal("DOB 12/03/2012", date_column=True) == DOB
    assert looks_personal("jane@example.com", date_column=True) == EMAIL


def test_normalisation_gives_one_spelling() -> None:
    assert normalise("jane\uff20example.com") == "jane@example.com"
    assert normalise("jane at example dot com") == "jane@example.com"
    assert normalise("jane_at_example_dot_com") == "jane@example.com"
    assert normalise("SW1A\u00a0\u00a01AA") == "SW1A 1AA"
    assert normalise("07700\u2013900\u2013123") == "07700-900-123"
    assert normalise("INC-000232") == "INC-000232"


def test_mask_agrees_with_looks_personal_on_every_spelling() -> None:
    values = [v for v, _ in SPELLINGS] + HARMLESS + [None]
    series = pd.Series(values, dtype="string", index=range(10, 10 + len(values)), name="notes")
    mask = personal_mask(series)
    assert mask.tolist() == [v is not None and looks_personal(v) is not None for v in values]
    assert mask.dtype == bool
    assert mask.index.equals(series.index)
    assert mask.name == "notes"


def test_arrow_and_python_normalise_alike_on_every_spelling() -> None:
    values = [v for v, _ in SPELLINGS] + HARMLESS
    assert normalise_array(pa.array(values)).to_pylist() == [normalise(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(
                [*"aAtTdDoO0123456789 _-.@()[]\t", "\u00a0", "\u2013", "\uff20", "\uff11"]
            ),
            max_size=30,
        ),
        min_size=1,
        max_size=20,
    )
)
def test_arrow_and_python_engines_agree(values: list[str]) -> None:
    """The gate's expectations see Arrow's normalisation and pandas' matching; the screen
    sees Python's: they must give the same answer on anything."""
    normalised = normalise_array(pa.array(values)).to_pylist()
    assert normalised == [normalise(v) for v in values]
    mask = personal_mask(pd.Series(values, dtype="string")).tolist()
    assert mask == [looks_personal(v) is not None for v in values]


def test_mask_handles_object_categorical_and_empty_series() -> None:
    mixed = pd.Series([15, None, "jo@example.com", 1.5, True], dtype=object)
    assert personal_mask(mixed).tolist() == [False, False, True, False, False]
    categorical = pd.Series(pd.Categorical(["CH1 2AB", "x", None]))
    assert personal_mask(categorical).tolist() == [True, False, False]
    assert personal_mask(pd.Series([], dtype="string")).tolist() == []


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("JaneSmith", True),
        ("Jane_Smith", True),
        ("jane_smith", True),
        ("jane-smith", True),
        ("JaneMarySmith", True),
        ("janeSmith", True),
        ("P01", False),
        ("S01", False),
        ("INC-000232", False),
        ("OAK_PRI", False),  # a code in capitals
        ("Oakfield", False),  # one word: too common in codes to refuse
        ("ABC", False),
        ("X", False),
        ("INC-ABC", False),
    ],
)
def test_a_code_that_reads_as_a_name(code: str, name: bool) -> None:
    assert looks_like_name(code) is name


def test_column_hints_cover_the_obvious_names() -> None:
    for name in ("pupil_name", "surname", "dob", "date_of_birth", "upn", "postcode", "email"):
        assert name in PERSONAL_COLUMN_HINTS
    for name in ("phone", "mobile", "username", "notes", "narrative", "comments", "address"):
        assert name in PERSONAL_COLUMN_HINTS
    assert "incident_id" not in PERSONAL_COLUMN_HINTS
