"""Parsing raw values: identifiers are codes, answer keys are contract values, a formula
without a saved value is a problem, and a value that cannot be read is never repeated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ypsi_audit import contract
from ypsi_audit.contract import Column
from ypsi_audit.mapping import SettingsRegister, register_key
from ypsi_audit.parsing import UNCALCULATED, convert

INCIDENT = contract.BY_NAME["incident_id"]
SETTING = contract.BY_NAME["setting_id"]

IDENTIFIERS = {
    # value: check id, or None when it is a code
    "P01": None,
    "INC-000232": None,
    "inc_000233": None,
    "S01": None,
    "X" * 32: None,
    "OAK_PRI": None,
    "Oakfield": None,
    "X" * 33: "not_a_code",
    "Jane Smith": "not_a_code",
    "jane@example.com": "not_a_code",
    "INC 0001": "not_a_code",
    "café-1": "not_a_code",
    "JaneSmith": "looks_like_a_name",
    "Jane_Smith": "looks_like_a_name",
    "jane-smith": "looks_like_a_name",
}


def register(*entries: tuple[str, str]) -> SettingsRegister:
    lookup = {}
    for name, code in entries:
        lookup[register_key(name)] = code
        lookup[register_key(code)] = code
    return SettingsRegister("trust_mapping.yaml", tuple(entries), lookup)


def kept(conv) -> list[object]:
    """The column's values, blank as None."""
    return [None if pd.isna(v) else v for v in conv.array]


def problems(conv) -> dict[int, str]:
    return dict(zip(conv.positions.tolist(), conv.checks.tolist(), strict=True))


@pytest.mark.parametrize("column", [INCIDENT, SETTING])
def test_identifiers_must_be_codes_whether_read_as_arrow_or_as_cells(column: Column) -> None:
    values = [*IDENTIFIERS, None, "  "]
    expected = {i: c for i, c in enumerate(IDENTIFIERS.values()) if c is not None}
    arrow = convert(pa.chunked_array([pa.array(values)]), column, excel=False)
    cells = convert(np.array(values, dtype=object), column, excel=True)
    for conv in (arrow, cells):
        assert problems(conv) == expected
        read = kept(conv)
        for i, value in enumerate(IDENTIFIERS):
            assert read[i] == (value if expected.get(i) is None else None)
        assert read[-2:] == [None, None]
    assert arrow.reasons.tolist() == cells.reasons.tolist()
    for reason, value in zip(arrow.reasons, [v for v, c in IDENTIFIERS.items() if c], strict=True):
        assert value not in reason
        assert reason.startswith(f"In column {column.name}, a value of {len(value)} character")


def test_a_register_turns_names_into_codes_and_refuses_the_rest() -> None:
    known = register(("Oakfield Primary School", "S01"), ("St Mary's High", "S02"))
    values = ["Oakfield Primary School", " OAKFIELD  primary school", "s02", "S1", "Jane Smith"]
    conv = convert(pa.chunked_array([pa.array(values)]), SETTING, excel=False, register=known)
    assert kept(conv) == ["S01", "S01", "S02", None, None]
    assert problems(conv) == {3: "not_in_settings_register", 4: "not_in_settings_register"}
    assert "listed under settings: in trust_mapping.yaml" in conv.reasons[0]
    assert "Jane Smith" not in " ".join(conv.reasons)


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("expected_outcome", "refer_police", "refer_police"),
        ("expected_outcome", "Refer_Police", "refer_police"),
        ("expected_consistency", "discretionary_referral", "discretionary_referral"),
        ("expected_consistency", "under_escalation", "under_escalation"),
        ("expected_experimental", "TRUE", "true"),
        ("expected_experimental", "false", "false"),
        ("expected_factors", "adult_involved;wide_age_gap", "adult_involved;wide_age_gap"),
        ("expected_gaps", "under_13", "under_13"),
        ("expected_notes", "rule_1;rule_2", "rule_1;rule_2"),
        ("expected_outcome", "Jane Smith", None),
        ("expected_consistency", "jane@example.com", None),
        ("expected_experimental", "yes", None),
        ("expected_factors", "Jane_Smith", None),
        ("expected_factors", "adult involved", None),
        ("expected_gaps", "under_13;", None),
    ],
)
def test_answer_keys_hold_contract_values_only(name: str, value: str, read: str | None) -> None:
    conv = convert(np.array([value, None], dtype=object), Column(name, "string"), excel=False)
    assert kept(conv) == [read, None]
    if read is None:
        assert conv.checks.tolist() == ["not_an_answer_key_value"]
        assert value not in conv.reasons[0]
    else:
        assert conv.positions.size == 0


def test_a_formula_without_a_saved_value_is_a_problem_in_any_column() -> None:
    for name in ("decision", "youngest_child_age", "adult_involved", "incident_id"):
        column = contract.BY_NAME[name]
        conv = convert(np.array([UNCALCULATED, None], dtype=object), column, excel=True)
        assert conv.checks.tolist() == ["formula_without_value"]
        assert conv.reasons[0].startswith(f"In column {name}, the cell holds a formula whose")
        assert not conv.is_blank(np.array([0]))[0]  # never a blank


def test_reasons_name_a_mapped_column_by_the_users_own_header() -> None:
    column = contract.BY_NAME["decision"]
    label = "decision (your column 'Police informed?')"
    conv = convert(np.array(["maybe"], dtype=object), column, excel=False, label=label)
    assert conv.reasons[0].startswith(f"In column {label}, a value of 5 characters is not")


@pytest.mark.parametrize("start", [0, 3, 9])
def test_typed_booleans_come_from_the_bits_at_any_offset(start: int) -> None:
    """A typed Arrow boolean column is read from its bit buffers; a slice of an array
    starts part-way through a byte, and a blank's value bit is never taken as a value."""
    values = [True, None, False, True, None, True, False, True, True, None, False, True]
    array = pa.array(values, pa.bool_()).slice(start)
    got = convert(pa.chunked_array([array]), contract.BY_NAME["adult_involved"], excel=False)
    assert got.positions.size == 0
    expected = values[start:]
    assert list(got.array) == [pd.NA if v is None else v for v in expected]
    assert got.is_blank(np.arange(len(expected))).tolist() == [v is None for v in expected]
    assert not got.array._data[got.array._mask].any()
