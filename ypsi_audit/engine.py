"""Assess every incident of a log against a policy, all rows at once.

The recipe: read the columns the policy needs into NumPy arrays once; evaluate each
factor as three-valued masks; derive the outcome and the experimental flag; settle
whether the setting referred (as the policy counts a referral) and whether the guidance
allows a referral no factor requires; judge the decision's consistency; check the
recording requirements. `evaluate` keeps every rule's state as small integer codes
(`states.py`) with the policy that made them; `assess` spells the answers out as the
contract's `;`-joined ids. An id list is a categorical whose code is the row's bits (one
bit a rule, eight rows set per operation on the packed masks), spelled once per
combination, not per row, so a million rows cost a handful of string joins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from . import contract, states
from .conditions import Record
from .errors import InputError
from .policy import DEFAULT_POLICY, Policy, load_policy
from .tristate import Tri, all_of, any_of, label_rows, pack, row_bits, unpack

REFER, HANDLE, INSUFFICIENT = range(3)  # positions in contract.OUTCOMES
_C = {name: code for code, name in enumerate(contract.CONSISTENCY)}


def _consistency_table() -> np.ndarray:
    """Consistency code by [guidance outcome][referred][allowed], each state 0 absent,
    1 present, 2 unknown: the data contract's table, spelled out once."""
    table = np.full((3, 3, 3), _C["no_decision"], dtype=np.int8)  # referral unknown
    table[REFER, states.PRESENT, :] = _C["consistent_referral"]
    table[REFER, states.ABSENT, :] = _C["under_escalation"]
    table[HANDLE, states.ABSENT, :] = _C["consistent_in_setting"]
    table[HANDLE, states.PRESENT, states.PRESENT] = _C["discretionary_referral"]
    table[HANDLE, states.PRESENT, states.ABSENT] = _C["over_escalation"]
    table[HANDLE, states.PRESENT, states.UNKNOWN] = _C["unassessable"]
    table[INSUFFICIENT, states.PRESENT, :] = _C["unassessable"]
    table[INSUFFICIENT, states.ABSENT, :] = _C["unassessable"]
    return table


CONSISTENCY_TABLE = _consistency_table()
_CONSISTENCY_FLAT = CONSISTENCY_TABLE.ravel()


def consistency_codes(outcome: np.ndarray, referred: Tri, allowed: Tri) -> np.ndarray:
    """Consistency positions from the outcome and the two referral states: one lookup in
    the flattened table (outcome * 9 + referred * 3 + allowed, all under 27)."""
    index = outcome * np.int8(9)
    index += referred.codes() * np.int8(3)
    index += allowed.codes()
    return np.take(_CONSISTENCY_FLAT, index)


@dataclass(frozen=True)
class Evaluation:
    """Every rule of a policy evaluated on every row: the engine's raw answers."""

    policy: Policy
    params: dict[str, Any]
    factors: list[Tri]
    outcome: np.ndarray  # positions in contract.OUTCOMES
    experimental_criteria: list[Tri]
    experimental: Tri
    referred: Tri
    allowed: Tri
    consistency: np.ndarray  # positions in contract.CONSISTENCY
    recording: list[Tri]  # a gap where true
    recording_lenient: list[Tri]  # a gap even when blanks count as done: "not done"
    applies: list[Tri]  # the requirement is about the incident
    scope: Tri | None  # the incident is of the kind the guidance is written for

    @property
    def n(self) -> int:
        return len(self.outcome)

    def requirement_codes(self) -> list[np.ndarray]:
        """Per requirement, int8 codes of `states.REQUIREMENT`: not done where a step was
        recorded as not done, not recorded where only blanks make the gap, unsettled
        where the record cannot say, met where it applies and holds, else not applicable."""
        columns = []
        for strict, lenient, applies in zip(
            self.recording, self.recording_lenient, self.applies, strict=True
        ):
            unsettled = strict.up
            choices = [
                (applies.tp & ~(strict.tp | unsettled), states.MET),
                (strict.tp & lenient.tp, states.NOT_DONE),
                (strict.tp & ~lenient.tp, states.NOT_RECORDED),
                (unsettled, states.UNSETTLED),
            ]
            columns.append(label_rows(choices, self.n))
        return columns

    def states(self, index: pd.Index | None = None) -> pd.DataFrame:
        """Every rule's state as an int8 column (names and codes in `states.py`)."""
        columns: dict[str, np.ndarray] = {}
        for section, values in (
            ("factors", self.factors),
            ("experimental", self.experimental_criteria),
        ):
            for rule, value in zip(self.policy.rules(section), values, strict=True):
                columns[states.column(section, rule.id)] = tri_codes(value)
        codes = self.requirement_codes()
        for rule, code in zip(self.policy.recording, codes, strict=True):
            columns[states.column("recording", rule.id)] = code
        columns[states.EXPERIMENTAL] = tri_codes(self.experimental)
        columns[states.REFERRED] = tri_codes(self.referred)
        columns[states.ALLOWED] = tri_codes(self.allowed)
        if self.scope is not None:
            columns[states.IN_SCOPE] = tri_codes(self.scope)
        return pd.DataFrame(columns, index=index)


def tri_codes(value: Tri) -> np.ndarray:
    """A Tri as int8 codes: 0 absent, 1 present, 2 unknown."""
    return value.choose(states.PRESENT, states.ABSENT, states.UNKNOWN)


def evaluate(
    frame: pd.DataFrame,
    policy: str | Policy = DEFAULT_POLICY,
    params: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Evaluate factors, outcome, criteria, referral, consistency and recording once."""
    policy = load_policy(policy)
    values = policy.resolve_params(params)
    n = len(frame)
    record = Record(ColumnReader(frame), n, values)
    factors = [rule.condition.evaluate(record) for rule in policy.factors]
    criterion = _any(factors, n)
    outcome = guidance_outcome(factors, n, criterion)
    criteria = [rule.condition.evaluate(record) for rule in policy.experimental]
    experimental = _all(criteria, n)
    referred = policy.referral.referred.evaluate(record)
    allowed = policy.referral.allowed.evaluate(record)
    consistency = consistency_codes(outcome, referred, allowed)
    record.derived["guidance_outcome"] = ("codes", outcome)
    record.derived["experimental"] = experimental
    record.derived["referral_criterion"] = criterion
    record.derived["referred"] = referred
    # Each recording rule is evaluated once for both readings of a blank.
    both = [rule.condition.evaluate_both(record) for rule in policy.recording]
    applies = [
        Tri.constant(True, n) if rule.applies is None else rule.applies.evaluate(record)
        for rule in policy.recording
    ]
    scope = policy.scope.condition.evaluate(record) if policy.scope is not None else None
    return Evaluation(
        policy=policy,
        params=values,
        factors=factors,
        outcome=outcome,
        experimental_criteria=criteria,
        experimental=experimental,
        referred=referred,
        allowed=allowed,
        consistency=consistency,
        recording=[strict for strict, _ in both],
        recording_lenient=[lenient for _, lenient in both],
        applies=applies,
        scope=scope,
    )


def assess(
    frame: pd.DataFrame,
    policy: str | Policy = DEFAULT_POLICY,
    params: Mapping[str, Any] | None = None,
    *,
    with_states: bool = False,
) -> pd.DataFrame:
    """Return the frame with the contract's output columns added, row order unchanged.

    `policy` is a shipped policy id, a path to a policy YAML file, or a loaded Policy;
    `params` overrides the policy's parameter defaults and is checked against them.
    With `with_states`, every rule's state column is added too and the resolved policy
    (its document and parameters) travels in `frame.attrs` (and so in a Parquet file's
    metadata): what the reports read.
    """
    return output_frame(frame, evaluate(frame, policy, params), with_states=with_states)


def output_frame(frame: pd.DataFrame, ev: Evaluation, *, with_states: bool = False) -> pd.DataFrame:
    """The assess output of one evaluation (see `assess`)."""
    factor_ids = [rule.id for rule in ev.policy.factors]
    gap_ids = [rule.id for rule in ev.policy.recording]
    out = frame.assign(
        policy=pd.Categorical.from_codes(np.zeros(len(frame), np.int8), [ev.policy.label]),
        guidance_outcome=pd.Categorical.from_codes(ev.outcome, contract.OUTCOMES),
        aggravating_factors=id_lists([f.tp for f in ev.factors], factor_ids, ev.n),
        unknown_factors=id_lists([f.up for f in ev.factors], factor_ids, ev.n),
        experimental=ev.experimental.as_boolean(),
        consistency=pd.Categorical.from_codes(ev.consistency, contract.CONSISTENCY),
        recording_gaps=id_lists([g.tp for g in ev.recording], gap_ids, ev.n),
        recording_gap_status=gap_status(ev.recording, ev.recording_lenient, gap_ids),
        recording_unknown=id_lists([g.up for g in ev.recording], gap_ids, ev.n),
    )
    if not with_states:
        return out
    out = pd.concat([out, ev.states(frame.index)], axis=1)
    out.attrs = {**frame.attrs, states.POLICY_ATTR: policy_attr(ev.policy, ev.params)}
    return out


def policy_attr(policy: Policy, params: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved policy as plain data: its document, parameters, label and digest."""
    return {
        "label": policy.label,
        "path": policy.path,
        "digest": policy.digest,
        "document": dict(policy.document),
        "parameters": dict(params),
    }


def saved_policy(frame: pd.DataFrame) -> tuple[Policy, dict[str, Any]]:
    """The policy and parameters an assessed frame was made with (from `frame.attrs`)."""
    saved = frame.attrs.get(states.POLICY_ATTR)
    if not saved:
        raise ValueError("these rows carry no policy: assess them with with_states=True")
    return Policy.from_document(saved["document"], saved.get("path", "")), dict(saved["parameters"])


def rule_states(
    frame: pd.DataFrame,
    policy: str | Policy = DEFAULT_POLICY,
    params: Mapping[str, Any] | None = None,
    section: str = "factors",
) -> pd.DataFrame:
    """One column per rule of a section, each `present`, `absent` or `unknown`.

    For recording requirements `present` means the requirement is not met (a gap).
    """
    ev = evaluate(frame, policy, params)
    values = {
        "factors": ev.factors,
        "experimental": ev.experimental_criteria,
        "recording": ev.recording,
    }[section]
    columns = {
        rule.id: pd.Categorical.from_codes(tri_codes(value), states.TRI)
        for rule, value in zip(ev.policy.rules(section), values, strict=True)
    }
    return pd.DataFrame(columns, index=frame.index)


def guidance_outcome(factors: Sequence[Tri], n: int, combined: Tri | None = None) -> np.ndarray:
    """refer_police if any factor is present, else insufficient_information if any is
    unknown, else handle_in_setting: the Kleene `or` of the factors, spelled out."""
    if combined is None:
        combined = _any(factors, n)
    return combined.choose(REFER, HANDLE, INSUFFICIENT)


def _any(parts: Sequence[Tri], n: int) -> Tri:
    return any_of(list(parts)) if parts else Tri.constant(False, n)


def _all(parts: Sequence[Tri], n: int) -> Tri:
    return all_of(list(parts)) if parts else Tri.constant(True, n)


MAX_RULES = 31  # per policy section
SPELL_ALL_UP_TO = 8  # rules: every combination is spelled out in advance
SPELL_STATUS_UP_TO = 6  # recording rules: every gap status (3 ** 6 = 729) spelled in advance


def id_lists(packed: Sequence[np.ndarray], ids: Sequence[str], n: int) -> pd.Categorical:
    """`;`-joined ids of the (packed) masks set on each row, in policy order.

    Rows are reduced to one integer of bits. With few rules, that integer is already the
    code into every possible spelling (made once per list of ids); with more, the
    distinct integers are found and spelled out once.
    """
    _check_size(ids)
    if len(ids) <= SPELL_ALL_UP_TO:
        return _categorical(row_bits(list(packed), n), _every_list(tuple(ids)))
    codes, uniques = _factorize(_pack([unpack(bits, n) for bits in packed]))
    return pd.Categorical.from_codes(codes, _spell(uniques.tolist(), ids), validate=False)


def gap_status(strict: Sequence[Tri], lenient: Sequence[Tri], ids: Sequence[str]) -> pd.Categorical:
    """`id:not_done` where a step was recorded as not done, `id:not_recorded` where the
    gap comes only from blanks; one entry for each gap, in the order of recording_gaps."""
    _check_size(ids)
    gaps = [g.tp for g in strict]
    not_done = [g.tp & soft.tp for g, soft in zip(strict, lenient, strict=True)]
    n = strict[0].n if strict else 0
    if len(ids) <= SPELL_STATUS_UP_TO:  # bit k: gap, bit k + len: not done
        bits = row_bits([*gaps, *not_done], n)
        digits, labels = _every_status(tuple(ids))
        return _categorical(np.take(digits, bits), labels)
    codes, uniques = _factorize(_pack([unpack(b, n) for b in (*gaps, *not_done)]))
    labels = [_status_label(_digits(u, len(ids)), ids) for u in uniques.tolist()]
    return pd.Categorical.from_codes(codes, labels, validate=False)


def _categorical(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    """Codes into every possible spelling, as a categorical of the spellings that occur
    (so a value count or a Parquet dictionary lists no combination nobody has)."""
    seen = np.zeros(len(labels), dtype=bool)
    seen[codes] = True
    used = np.flatnonzero(seen)
    narrow = np.int8 if len(used) <= 127 else np.int16
    renumber = np.full(len(labels), -1, dtype=narrow)
    renumber[used] = np.arange(len(used), dtype=narrow)
    kept = [labels[k] for k in used.tolist()]
    return pd.Categorical.from_codes(np.take(renumber, codes), kept, validate=False)


@cache
def _every_list(ids: tuple[str, ...]) -> tuple[str, ...]:
    """The spelling of every combination of `ids`, indexed by its bits."""
    return tuple(_spell(range(1 << len(ids)), ids))


def _spell(values: Iterable[int], ids: Sequence[str]) -> list[str]:
    return [";".join(i for k, i in enumerate(ids) if (u >> k) & 1) for u in values]


@cache
def _every_status(ids: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Every gap status as base-3 digits (0 no gap, 1 not recorded, 2 not done, rule k
    the k-th digit) with its spelling; and, for each pattern of bits (gaps, then not
    done), the number of its status. Not done never comes without its gap."""
    width = len(ids)
    labels = tuple(_status_label(_base3(u, width), ids) for u in range(3**width))
    gaps = np.arange(1 << (2 * width)) & ((1 << width) - 1)
    done = (np.arange(1 << (2 * width)) >> width) & gaps
    number = np.zeros_like(gaps)
    for k in range(width):
        number += 3**k * (((gaps >> k) & 1) + ((done >> k) & 1))
    return number.astype(np.int16), labels


def _base3(u: int, width: int) -> list[int]:
    return [(u // 3**k) % 3 for k in range(width)]


def _digits(u: int, width: int) -> list[int]:
    """A pattern of bits (gaps, then not done) as one state per rule (as `_base3`)."""
    return [((u >> k) & 1) + ((u >> (k + width)) & 1) for k in range(width)]


def _status_label(states_: Sequence[int], ids: Sequence[str]) -> str:
    names = {1: "not_recorded", 2: "not_done"}
    return ";".join(f"{i}:{names[s]}" for i, s in zip(ids, states_, strict=True) if s)


def _check_size(ids: Sequence[str]) -> None:
    if len(ids) > MAX_RULES:
        raise ValueError(f"a policy section may have at most {MAX_RULES} rules")


def _pack(masks: Sequence[np.ndarray]) -> np.ndarray:
    """Mask k as bit k of one unsigned integer per row, in the narrowest dtype that fits
    (every array made here is fresh memory, so a narrow one is a fast one)."""
    if not masks:
        return np.zeros(0, dtype=np.uint8)
    dtype = np.min_scalar_type((1 << len(masks)) - 1)
    bits = masks[0].astype(dtype)
    for k, mask in enumerate(masks[1:], start=1):
        bits |= np.left_shift(mask, k, dtype=dtype)
    return bits


def _factorize(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values, as `pd.factorize(bits, sort=True)`; by
    counting when the values are small enough to count (at most 16 bits)."""
    if bits.dtype.itemsize > 2:
        return pd.factorize(bits, sort=True)
    uniques = np.flatnonzero(np.bincount(bits, minlength=1))
    lookup = np.zeros(int(uniques[-1]) + 1 if len(uniques) else 1, dtype=np.int64)
    lookup[uniques] = np.arange(len(uniques))
    codes = lookup.astype(np.min_scalar_type(-len(uniques) - 1))  # signed, narrowest
    return np.take(codes, bits), uniques


class ColumnReader:
    """Turns a frame's columns into the arrays the conditions need, one column at a time.

    Frames from `load_incidents` already have the contract's dtypes and take the fast
    path. A column the frame lacks is read as entirely blank (not recorded).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        self.source = str(frame.attrs.get("source", "the input"))

    def __call__(self, column: str) -> tuple:
        spec = contract.BY_NAME[column]
        if column not in self.frame.columns:
            return self._blank(spec.kind)
        series = self.frame[column]
        if spec.kind == "bool":
            return _bool_tri(self._normalised(series, spec, "boolean"))
        if spec.kind in ("category", "ordinal"):
            return ("codes", self._codes(series, spec))
        if spec.kind in ("date", "string"):  # a condition may only ask whether it is blank
            return ("int", np.zeros(self.n, dtype=np.int64), series.notna().to_numpy())
        values = self._normalised(series, spec, "Int64").array
        return ("int", np.asarray(values._data, dtype=np.int64), ~np.asarray(values._mask))

    def _blank(self, kind: str) -> tuple:
        empty = np.zeros(self.n, dtype=bool)
        if kind == "bool":
            return Tri.constant(None, self.n)
        if kind == "int":
            return ("int", np.zeros(self.n, dtype=np.int64), empty)
        return ("codes", np.full(self.n, -1, dtype=np.int16))

    def _normalised(self, series: pd.Series, spec: contract.Column, dtype: str) -> pd.Series:
        if str(series.dtype) == dtype:
            return series
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
            return series.astype(dtype)
        from .loading import normalise_column

        return normalise_column(series, spec, source=self.source, strict=True)

    def _codes(self, series: pd.Series, spec: contract.Column) -> np.ndarray:
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == list(spec.codes):
            return np.asarray(series.cat.codes)
        from .loading import normalise_column

        normal = normalise_column(series, spec, source=self.source, strict=True)
        codes = np.asarray(normal.cat.codes)
        if ((codes < 0) & normal.notna().to_numpy()).any():  # pragma: no cover - guard
            raise InputError(self.source, "has a code the contract does not know", column=spec.name)
        return codes


def _bool_tri(series: pd.Series) -> Tri:
    """A nullable boolean column as a Tri, packed before any per-row work is done."""
    array = series.array
    value, blank = pack(np.asarray(array._data)), pack(np.asarray(array._mask))
    return Tri(value & ~blank, ~(value | blank), len(series))
