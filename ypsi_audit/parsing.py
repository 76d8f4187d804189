"""Parse raw cell values into the contract's types: yes/no, whole numbers, dates, codes,
identifiers and answer keys.

A reader (`readers.py`, `xlsx.py`) hands on raw columns; `convert` turns one into its
contract dtype. Each distinct value is parsed once and broadcast back, so a million-row
log converts in seconds. A value that cannot be read never becomes "unknown" silently:
it comes back as a problem (position, check id, reason), because an audit that quietly
loses a "yes" would under-count.

A value that could not be read is never repeated in a reason: it may be a name or a note
typed into the wrong column. A reason says the column, the kind of problem and the
value's length ("a value of 10 characters is not a yes/no value").

Identifiers carry no names: `incident_id` must be a pseudonymous code (letters, digits,
`-` and `_`, at most 32 characters) and `setting_id` a code of that form or, when the
mapping file has a settings register, a listed name or code (names become codes). A
code-shaped value that reads as a person's name (JaneSmith, jane_smith) is refused as
well. `expected_*` answer-key columns hold contract values only.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import contract, privacy
from .contract import Column
from .errors import did_you_mean
from .mapping import CODE, CODE_RULE, IDENTIFIERS, SettingsRegister

# datetime64[ns] can only hold these years.
MIN_YEAR, MAX_YEAR = 1678, 2261
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
ANSWER_KEY_PREFIX = "expected_"
# Checks that make the whole file unusable: the value may be personal data.
REFUSING_CHECKS = frozenset(
    {
        "personal_data",
        "not_a_code",
        "looks_like_a_name",
        "not_in_settings_register",
        "not_an_answer_key_value",
    }
)
ANSWER_KEY_CODES: dict[str, frozenset[str]] = {
    "expected_outcome": frozenset(contract.OUTCOMES),
    "expected_consistency": frozenset({*contract.CONSISTENCY, "discretionary_referral"}),
    "expected_experimental": frozenset({"true", "false"}),
}
# The answer keys of the public vignettes; an expected_* column of another name is named
# in messages only by its number, since its header is the file's own.
KNOWN_ANSWER_KEYS = frozenset(
    {*ANSWER_KEY_CODES, "expected_factors", "expected_unknown", "expected_gaps"}
)
# Other answer keys list rule ids: lower-case letters, digits and _, joined by ';'.
ID_LIST = re.compile(r"[a-z0-9_]+(?:;[a-z0-9_]+)*")
CODE_PATTERN = "^" + CODE.pattern + "$"

ParseResult = tuple[Any, str | None, str | None]  # value, check id, detail with {subject}


class Uncalculated:
    """A spreadsheet formula whose result was never saved: not blank, not readable."""

    _instance: Uncalculated | None = None

    def __new__(cls) -> Uncalculated:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<formula without a saved value>"


UNCALCULATED = Uncalculated()


@dataclass
class Converted:
    """One column in its contract dtype, where its cells were blank, and its problems."""

    array: Any
    is_blank: Callable[[np.ndarray], np.ndarray]
    positions: np.ndarray
    checks: np.ndarray
    reasons: np.ndarray


def is_answer_key(name: str) -> bool:
    return name.startswith(ANSWER_KEY_PREFIX)


# ------------------------------------------------------------------------------ columns


def convert(
    values: Any,
    column: Column,
    excel: bool,
    *,
    register: SettingsRegister | None = None,
    label: str | None = None,
) -> Converted:
    """One raw column to its contract dtype, with the problems of unreadable values.

    `register` is the mapping file's settings register (for setting_id); `label` is how
    reasons name the column (the contract name, with the user's own header when a
    mapping renamed it).
    """
    label = label or column.name
    if column.kind == "string" and _is_arrow_text(values) and not _needs_register(column, register):
        return _arrow_strings(values, column, label)
    if column.kind == "bool" and _is_arrow_bool(values):
        return _arrow_bools(values)
    codes, uniques = factorize(values)
    parsed = [parse(u, column, excel, register) for u in uniques]
    blank_u = np.append(np.array([not filled(u) for u in uniques], dtype=bool), True)
    positions, checks, reasons = _issues(codes, uniques, parsed, column, label, register)
    return Converted(
        array=build(column, codes, [p[0] for p in parsed]),
        is_blank=lambda pos: blank_u[codes[pos]],
        positions=positions,
        checks=checks,
        reasons=reasons,
    )


def _needs_register(column: Column, register: SettingsRegister | None) -> bool:
    return column.name == "setting_id" and register is not None


def _is_arrow_text(values: Any) -> bool:
    return isinstance(values, pa.ChunkedArray) and (
        pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    )


def _is_arrow_bool(values: Any) -> bool:
    return isinstance(values, pa.ChunkedArray) and pa.types.is_boolean(values.type)


def _arrow_strings(values: pa.ChunkedArray, column: Column, label: str) -> Converted:
    """Text columns stay in Arrow: trim, blank to NA, no Python per value. Identifiers
    are checked here too (a million distinct incident ids), at C speed."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.fill_null(pc.equal(trimmed, ""), True)
    cleaned = pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)
    if isinstance(cleaned, pa.ChunkedArray) and cleaned.num_chunks == 0:
        cleaned = pa.chunked_array([pa.array([], pa.string())])
    mask = blank.to_numpy() if len(blank) else np.zeros(0, dtype=bool)
    positions = np.empty(0, dtype=np.intp)
    checks = np.empty(0, dtype=object)
    reasons = np.empty(0, dtype=object)
    if column.name in IDENTIFIERS and len(cleaned):
        not_code = _flag(pc.invert(pc.match_substring_regex(cleaned, CODE_PATTERN)))
        named = _flag(pc.match_substring_regex(cleaned, privacy.NAME_REGEX)) & ~not_code
        bad = not_code | named
        if bad.any():
            positions = np.flatnonzero(bad)
            lengths = pc.utf8_length(cleaned).to_numpy(zero_copy_only=False)[positions]
            checks = np.where(not_code[positions], "not_a_code", "looks_like_a_name").astype(object)
            reasons = np.array(
                [
                    _reason(label, _IDENTIFIER_DETAIL[c], _length_subject(int(n)))
                    for c, n in zip(checks, lengths, strict=True)
                ],
                dtype=object,
            )
            cleaned = pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), cleaned)
    return Converted(
        array=pd.arrays.ArrowStringArray(_chunked(cleaned)),
        is_blank=lambda pos: mask[pos],
        positions=positions,
        checks=checks,
        reasons=reasons,
    )


def _arrow_bools(values: pa.ChunkedArray) -> Converted:
    """A typed boolean column (Parquet) needs no parsing: its value bits and validity
    bits are unpacked straight from Arrow's buffers, with no per-row lookup."""
    whole = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    validity, bits = whole.buffers()
    mask = ~_bits(validity, whole) if validity is not None else np.zeros(len(whole), bool)
    data = _bits(bits, whole) & ~mask  # a blank's value bit means nothing: keep it False
    none = np.empty(0, dtype=object)
    return Converted(
        array=pd.arrays.BooleanArray(data, mask),
        is_blank=lambda pos: mask[pos],
        positions=np.empty(0, dtype=np.intp),
        checks=none,
        reasons=none,
    )


def _bits(buffer: pa.Buffer, array: pa.Array) -> np.ndarray:
    """One of an Arrow array's bit buffers as a boolean per row (its offset honoured)."""
    start, n = array.offset, len(array)
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, count=start + n, bitorder="little")[start:].view(bool)


def _flag(mask: Any) -> np.ndarray:
    """A boolean Arrow result as numpy, null (a blank value) as False."""
    filled_mask = pc.fill_null(mask, False)
    if isinstance(filled_mask, pa.ChunkedArray):
        filled_mask = filled_mask.combine_chunks()
    return filled_mask.to_numpy(zero_copy_only=False)


def _chunked(values: Any) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def build(column: Column, codes: np.ndarray, values: list[Any]) -> Any:
    """Broadcast parsed distinct values to every row; the sentinel at -1 is unknown."""
    known = np.append(np.array([v is not None for v in values], dtype=bool), False)
    if column.kind == "bool":
        lookup = np.append(np.array([bool(v) for v in values], dtype=bool), False)
        return pd.arrays.BooleanArray(lookup[codes], ~known[codes])
    if column.kind == "int":
        lookup = np.append(np.array([v or 0 for v in values], dtype=np.int64), 0)
        return pd.arrays.IntegerArray(lookup[codes], ~known[codes])
    if column.kind in ("category", "ordinal"):
        dtype = pd.CategoricalDtype(list(column.codes), ordered=column.kind == "ordinal")
        index = {code: i for i, code in enumerate(column.codes)}
        lookup = np.array([index.get(v, -1) for v in values] + [-1], dtype=np.int32)
        return pd.Categorical.from_codes(lookup[codes], dtype=dtype, validate=False)
    if column.kind == "date":
        stamps = [np.datetime64(v, "ns") if v is not None else np.datetime64("NaT") for v in values]
        lookup = np.array([*stamps, np.datetime64("NaT")], dtype="datetime64[ns]")
        return lookup[codes]
    text = pa.array(values, type=pa.string())
    taken = text.take(pa.array(codes, mask=codes < 0)) if len(codes) else pa.array([], pa.string())
    return pd.arrays.ArrowStringArray(taken)


def _issues(
    codes: np.ndarray,
    uniques: list[Any],
    parsed: list[ParseResult],
    column: Column,
    label: str,
    register: SettingsRegister | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, check ids and reasons of the rows holding an unreadable value."""
    bad = [i for i, p in enumerate(parsed) if p[1] is not None]
    if not bad:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object), np.empty(0, dtype=object)
    flag = np.zeros(len(uniques) + 1, dtype=bool)
    flag[bad] = True
    checks = np.full(len(uniques) + 1, None, dtype=object)
    reasons = np.full(len(uniques) + 1, None, dtype=object)
    for i in bad:
        checks[i] = check_id(column, uniques[i], parsed[i])
        detail = (parsed[i][2] or "").replace("{register}", _register_name(register))
        reasons[i] = _reason(label, detail, subject(uniques[i]))
    positions = np.flatnonzero(flag[codes])
    return positions, checks[codes[positions]], reasons[codes[positions]]


# ------------------------------------------------------------------------------ values


def factorize(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct values, so each is parsed once."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_null(values.type):
            return np.full(len(values), -1, dtype=np.intp), []
        if pa.types.is_boolean(values.type):
            return _bool_codes(values), [False, True]
        if not pa.types.is_dictionary(values.type):
            try:
                values = values.dictionary_encode()
            except pa.ArrowNotImplementedError:  # nested or exotic types: go through Python
                return factorize(np.array([_hashable(v) for v in values.to_pylist()], object))
        if values.num_chunks == 0:
            return np.empty(0, dtype=np.intp), []
        dictionary = values.chunk(0).dictionary.to_pylist()
        parts = [_indices(chunk.indices) for chunk in values.chunks]
        return np.concatenate(parts), dictionary
    codes, uniques = pd.factorize(np.ascontiguousarray(values, dtype=object))
    return codes, list(uniques)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, Hashable) else str(value)


def _bool_codes(values: pa.ChunkedArray) -> np.ndarray:
    """A typed boolean column is already factorised: false 0, true 1, missing -1."""
    codes = pc.fill_null(values, False).to_numpy().astype(np.int8)
    if values.null_count:
        codes[values.is_null().to_numpy()] = -1
    return codes


def _indices(indices: pa.Array) -> np.ndarray:
    """Dictionary indices as numpy, -1 where the value is missing."""
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return indices.to_numpy(zero_copy_only=False)


def filled(value: Any) -> bool:
    """Whether a raw cell holds anything at all (blank cells are simply not recorded)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _is_unknown_word(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    word = " ".join(value.lower().split())
    return word in contract.UNKNOWN_WORDS or word.replace(" ", "_") in contract.UNKNOWN_WORDS


def parse(
    value: Any, column: Column, excel: bool, register: SettingsRegister | None = None
) -> ParseResult:
    """One distinct raw value to its contract value; blank and 'unknown' are unknown."""
    if not filled(value):
        return None, None, None
    if value is UNCALCULATED:
        return None, "formula_without_value", _UNCALCULATED
    if isinstance(value, decimal.Decimal):  # Parquet decimals
        value = float(value)
    if column.kind == "string":
        if column.name in IDENTIFIERS:
            return _parse_identifier(as_text(value) or "", column, register)
        if is_answer_key(column.name):
            return _parse_answer_key(as_text(value) or "", column.name)
        return as_text(value), None, None
    if _is_unknown_word(value):
        return None, None, None
    if column.kind == "bool":
        return _parse_bool(value)
    if column.kind == "int":
        return _parse_int(value, column)
    if column.kind == "date":
        return _parse_date(value, excel)
    return _parse_code(value, column)


_RECORD = "or leave it blank if it was not recorded"
_UNCALCULATED = (
    "{subject} holds a formula whose result was never saved in the workbook; open it in "
    "Excel, let it calculate and save it again (or paste the values in place of the "
    "formulas)"
)
_IDENTIFIER_DETAIL = {
    "not_a_code": f"{{subject}} is not a pseudonymous code ({CODE_RULE})",
    "looks_like_a_name": "{subject} reads as a person's name; use a pseudonymous code",
    "not_in_settings_register": (
        "{subject} is neither a setting's name nor a code listed under settings: in "
        "{register}; add the setting there with its code, or correct the value"
    ),
}


def _parse_identifier(text: str, column: Column, register: SettingsRegister | None) -> ParseResult:
    """A code (incident or setting), or a setting's listed name, which becomes its code."""
    if column.name == "setting_id" and register is not None:
        code = register.code_for(text)
        if code is None:
            return None, "not_in_settings_register", _IDENTIFIER_DETAIL["not_in_settings_register"]
        return code, None, None
    if not CODE.fullmatch(text):
        return None, "not_a_code", _IDENTIFIER_DETAIL["not_a_code"]
    if privacy.looks_like_name(text):
        return None, "looks_like_a_name", _IDENTIFIER_DETAIL["looks_like_a_name"]
    return text, None, None


def _parse_answer_key(text: str, name: str) -> ParseResult:
    """Answer keys of hand-worked cases hold contract values only, never free text."""
    allowed = ANSWER_KEY_CODES.get(name)
    if allowed is not None:
        word = text.lower()
        if word in allowed:
            return word, None, None
        listed = ", ".join(sorted(allowed))
        return None, "not_an_answer_key_value", f"{{subject}} is not one of {listed}"
    if ID_LIST.fullmatch(text):
        return text, None, None
    detail = "{subject} is not a list of rule ids (lower-case letters, digits and _, joined by ;)"
    return None, "not_an_answer_key_value", detail


def _parse_bool(value: Any) -> ParseResult:
    if isinstance(value, bool | np.bool_):
        return bool(value), None, None
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value), None, None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in contract.TRUE_WORDS:
            return True, None, None
        if word in contract.FALSE_WORDS:
            return False, None, None
    detail = "{subject} is not a yes/no value; write true or false (yes/no, y/n and 1/0 work)"
    return None, "unreadable_bool", f"{detail}, {_RECORD}"


_INT = re.compile(r"[+-]?\d+(?:\.0*)?")


def _parse_int(value: Any, column: Column) -> ParseResult:
    number = _whole_number(value)
    if number is not None and abs(number) < 2**63:
        return number, None, None
    what = "age" if "age" in column.name else "number"
    detail = f"{{subject}} is not a whole number; write the {what} in digits, {_RECORD}"
    return None, "unreadable_int", detail


def _whole_number(value: Any) -> int | None:
    """15, 15.0 and '15.0' are 15; true/false, 15.5 and 'fifteen' are not numbers."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    return None


_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}", re.ASCII)
_DMY = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}", re.ASCII)
_DMY2 = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{2}}){_TIME}", re.ASCII)
_UNREADABLE_DATE = (
    "{subject} is not a date this tool can read; write it as YYYY-MM-DD or DD/MM/YYYY "
    f"(day first), {_RECORD}"
)


def _parse_date(value: Any, excel: bool) -> ParseResult:
    """ISO or day-first text, datetime cells, and Excel serial numbers in XLSX only."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, bool | np.bool_):
        return None, "unreadable_date", _UNREADABLE_DATE
    if isinstance(value, numbers.Real) and excel:
        return _excel_serial(float(value))
    if not isinstance(value, str):
        return None, "unreadable_date", _UNREADABLE_DATE
    text = value.strip()
    if match := _YMD.fullmatch(text):
        return _checked_date(int(match[1]), int(match[3]), int(match[4]))
    if match := _DMY.fullmatch(text):
        return _checked_date(int(match[4]), int(match[3]), int(match[1]))
    if _DMY2.fullmatch(text):
        detail = "{subject} has a two-digit year; write the year in full, as DD/MM/YYYY"
        return None, "unreadable_date", f"{detail} or YYYY-MM-DD"
    return None, "unreadable_date", _UNREADABLE_DATE


def _checked_date(year: int, month: int, day: int) -> ParseResult:
    if not MIN_YEAR <= year <= MAX_YEAR:
        detail = f"{{subject}} has a year outside {MIN_YEAR} to {MAX_YEAR}; correct the year"
        return None, "impossible_date", detail
    try:
        return dt.date(year, month, day), None, None
    except ValueError:
        detail = "{subject} is not a real calendar date (dates are read day first, DD/MM/YYYY)"
        return None, "impossible_date", f"{detail}; correct the day or the month"


def _excel_serial(serial: float) -> ParseResult:
    """An Excel date number (days since 1899-12-30), as a date cell formatted as General."""
    if not math.isfinite(serial) or not 1 <= serial <= EXCEL_MAX_SERIAL:
        return None, "unreadable_date", _UNREADABLE_DATE
    day = EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))
    return _checked_date(day.year, day.month, day.day)


def _parse_code(value: Any, column: Column) -> ParseResult:
    key = code_key(as_text(value) or "")
    if key in column.codes:
        return key, None, None
    detail = (
        f"{{subject}} is not a code this column allows ({did_you_mean(key, column.codes)}); "
        f"use one of its codes, {_RECORD}"
    )
    return None, "unknown_code", detail


def code_key(text: object) -> str:
    """Header or code as the contract spells it: 'Incident ID' -> 'incident_id'."""
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


def as_text(value: Any) -> str | None:
    """A raw value as trimmed text (typed cells too), or None when blank."""
    if not filled(value) or value is UNCALCULATED:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        has_time = (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
        return value.isoformat() if has_time else value.date().isoformat()
    text = str(value).strip()
    return text or None


# ------------------------------------------------------------------------------ reasons


def reason_prefix(label: str) -> str:
    return f"In column {label}, "


def check_id(column: Column, value: Any, parsed: ParseResult) -> str | None:
    """The parse check, or `personal_data` when the unreadable value is shaped like it
    (a bare date in a date column is just a date)."""
    if parsed[1] is None:
        return None
    if parsed[1] in REFUSING_CHECKS or parsed[1] == "formula_without_value":
        return parsed[1]
    if privacy.looks_personal(as_text(value), date_column=column.kind == "date"):
        return "personal_data"
    return parsed[1]


def subject(value: Any) -> str:
    """How a reason names a value it could not read: by its length, never its content."""
    if value is UNCALCULATED:
        return "the cell"
    return _length_subject(len(as_text(value) or ""))


def _length_subject(n: int) -> str:
    return f"a value of {n:,} character{'s' if n != 1 else ''}"


def _reason(label: str, detail: str, subject_text: str) -> str:
    return f"{reason_prefix(label)}{detail.replace('{subject}', subject_text)}."


def _register_name(register: SettingsRegister | None) -> str:
    return register.path if register is not None else "the mapping file"
