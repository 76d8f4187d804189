"""The validation gate: prove a log is what the contract says before any row is assessed.

The recipe (`run_gate`): read the file into contract dtypes (values that cannot be read
become failures, never blanks); refuse the whole file when it carries columns the
contract does not know or anything shaped like personal data; validate every row with
the Great Expectations suites in `expectations/`; hold back each row that fails a check,
and every row of an incident_id that appears more than once. Failures come back as a
frame with fixed columns (row, incident_id, column, check, reason) and every row read is
either valid or quarantined.

The suites are the single source of the validation rules: each expectation carries its
check id and a plain-English reason in its `meta`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from . import contract, resources
from .errors import InputError, closest
from .loading import LoadResult, read_incidents
from .mapping import CODE_RULE, ColumnMapping
from .parsing import ANSWER_KEY_PREFIX, REFUSING_CHECKS

EXPECTATIONS_DIR = resources.expectations_dir()
FAILURE_COLUMNS = ("row", "incident_id", "column", "check", "reason")
# Answer-key columns of hand-worked cases (expected_outcome, ...; ANSWER_KEY_PREFIX) are
# allowed beside the contract's columns, hold contract values only, and are never assessed.
MAX_ROWS_SHOWN = 10
# Every failing row's index label (COMPLETE), but not GX's query string spelling them
# all out again, which costs one more pass over the rows per check.
RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}


class RefusedInput(InputError):
    """The whole file is refused: nothing is assessed and nothing is written."""


@dataclass(frozen=True)
class Check:
    """One expectation of a suite file, with the names a report shows."""

    suite: str
    check: str
    reason: str
    config: dict[str, Any]
    personal: bool = False

    @property
    def column(self) -> str | None:
        kwargs = self.config["kwargs"]
        return kwargs.get("column") or kwargs.get("column_A")


@dataclass
class GateResult:
    """What the gate found: the valid rows, every failure, and the reconciliation."""

    source: str
    rows_read: int
    frame: pd.DataFrame  # valid rows only, in file order
    failures: pd.DataFrame  # FAILURE_COLUMNS, one row per failed check per row
    extra_columns: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> pd.Index:
        return pd.Index(self.failures["row"].unique(), name="row")

    @property
    def rows_valid(self) -> int:
        return len(self.frame)

    def summary(self) -> dict[str, Any]:
        """A small structure reports can render: counts, and failures per check."""
        by_check = (
            self.failures.groupby(["check", "reason"], sort=False)["row"]
            .nunique()
            .reset_index(name="n_rows")
        )
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "rows_quarantined": len(self.quarantined),
            "failures_by_check": by_check.to_dict("records"),
        }

    def quarantine_table(self) -> pd.DataFrame:
        """One row per held-back input row: its row number, id, checks and reasons."""
        grouped = self.failures.groupby("row", sort=True)
        return pd.DataFrame(
            {
                "row": grouped["row"].first().astype("int64"),
                "incident_id": grouped["incident_id"].first(),
                "checks": grouped["check"].agg(lambda s: ";".join(dict.fromkeys(s))),
                "reason": grouped["reason"].agg(lambda s: " ".join(dict.fromkeys(s))),
            }
        ).reset_index(drop=True)

    def failure_lines(self, limit: int = MAX_ROWS_SHOWN) -> list[str]:
        """Each failed check in plain English with its row count and first row numbers."""
        lines = []
        for (check, reason), rows in self.failures.groupby(["check", "reason"], sort=False)["row"]:
            unique = sorted(set(int(r) for r in rows))
            shown = ", ".join(str(r) for r in unique[:limit])
            more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
            noun = "row" if len(unique) == 1 else "rows"
            lines.append(
                f"- {reason.rstrip('.')} [{check}]: {len(unique):,} {noun} ({noun} {shown}{more})"
            )
        return lines

    def reconciliation(self) -> str:
        return (
            f"Rows read {self.rows_read:,} = assessed {self.rows_valid:,} + "
            f"quarantined {len(self.quarantined):,}."
        )


# ----------------------------------------------------------------------------- recipe


def run_gate(
    path: str | Path,
    *,
    mapping: ColumnMapping | None = None,
    sheet: str | int | None = None,
    today: date | None = None,
) -> GateResult:
    """Read, screen and validate one log file; raise RefusedInput for a file-level problem."""
    loaded = read_incidents(path, sheet=sheet, mapping=mapping)
    refuse_personal_values(loaded)
    answer_keys = [c for c in loaded.extra_columns if c.startswith(ANSWER_KEY_PREFIX)]
    results = validate_frame(_for_gx(loaded.frame.drop(columns=answer_keys)), today=today)
    refuse_file_level_failures(loaded, results)
    failures = pd.concat(
        [_parse_failures(loaded), _row_failures(loaded, results)], ignore_index=True
    )
    failures = failures.sort_values(["row"], kind="stable").reset_index(drop=True)
    valid = loaded.frame.drop(index=failures["row"].unique())
    return GateResult(str(path), len(loaded.frame), valid, failures, loaded.extra_columns)


def refuse_personal_values(loaded: LoadResult) -> None:
    """Refuse the file when a value may be personal data: an identifier that is not a
    code (or not in the settings register), an answer key that is not a contract value,
    an unreadable value shaped like personal data. Nothing refused is repeated."""
    from .privacy import personal_mask

    hits = loaded.problems[loaded.problems["check"].isin(REFUSING_CHECKS)]
    if len(hits):
        column, check = str(hits["column"].iloc[0]), str(hits["check"].iloc[0])
        same = hits[(hits["column"] == column) & (hits["check"] == check)]
        raise _refusal(loaded, column, check, same["row"])
    for column in loaded.extra_columns:
        mask = personal_mask(loaded.frame[column]).to_numpy()
        if mask.any():
            raise _personal(loaded.path, loaded.label(column), loaded.frame.index[mask])


def refuse_file_level_failures(loaded: LoadResult, results: list[tuple[Check, Any]]) -> None:
    for check, result in results:
        if result.success:
            continue
        if check.personal:
            rows = _rows(result, loaded.frame)
            raise _personal(loaded.path, loaded.label(check.column or ""), rows)
        if check.check == "only_contract_columns":
            raise _unknown_columns(loaded, check, result)
        if check.config["type"].startswith("expect_table") or not check.column:
            raise RefusedInput(loaded.path, check.reason)


def _unknown_columns(loaded: LoadResult, check: Check, result: Any) -> RefusedInput:
    """Name the columns the contract does not know by their number in the file, never by
    their header (a header row can be a row of data), with the closest contract name."""
    from .privacy import PERSONAL_COLUMN_HINTS

    details = result.result.get("details", {}).get("mismatched", {})
    columns = [str(c) for c in details.get("unexpected", [])]
    columns.sort(key=lambda c: loaded.numbers.get(c, 0))
    named = []
    for column in columns:
        number = loaded.numbers.get(column)
        where = f"column {number}" if number is not None else "a column"
        if column in PERSONAL_COLUMN_HINTS:  # our own word: naming it reveals nothing
            named.append(f"{where} (a {column} column)")
        elif (best := closest(column, contract.COLUMN_NAMES)) is not None:
            named.append(f"{where} (is it {best}?)")
        else:
            named.append(where)
    listed = ", ".join(named)
    return RefusedInput(
        loaded.path,
        f"{listed}: {check.reason}",
        hint="remove them, correct their header, or drop them with a --mapping file",
    )


def _refusal(loaded: LoadResult, column: str, check: str, rows: Iterable[int]) -> RefusedInput:
    """One sentence per kind of refused value: column, rows, why, what to do."""
    label = loaded.label(column)
    shown = _row_list(rows)
    withheld = "they are not shown, the whole file is refused and nothing is written"
    register = loaded.register or "a mapping file"
    if check == "personal_data":
        return _personal(loaded.path, label, rows)
    if check == "not_in_settings_register":
        return RefusedInput(
            loaded.path,
            f"column {label} holds values that are neither a name nor a code listed under "
            f"settings: in {register} ({shown}); such a value may be a typo (S1 for S01) "
            f"or personal data, so {withheld}",
            hint=f"add each setting to settings: in {register} with its code, or correct "
            "the values",
        )
    if check == "not_an_answer_key_value":
        return RefusedInput(
            loaded.path,
            f"column {label} holds values that are not contract values ({shown}); an "
            "answer-key column holds outcome or consistency codes, rule ids joined by ; "
            f"or true/false, and anything else may be personal data, so {withheld}",
            hint="correct them, or remove the column",
        )
    what = "setting code" if column == "setting_id" else "pseudonymous code"
    if check == "looks_like_a_name":
        problem = (
            f"column {label} holds values that read as a person's name ({shown}); "
            f"{column} must be a {what}, so {withheld}"
        )
    else:
        problem = (
            f"column {label} holds values that are not {what}s ({shown}): a {what} is "
            f"{CODE_RULE}, and a value of another shape may be personal data, so {withheld}"
        )
    if column == "setting_id":
        hint = (
            f"use the settings' codes, or list each setting's name with its code under "
            f"settings: in {register} (give it with --mapping)"
        )
    else:
        hint = "give each incident a pseudonymous code such as INC-0001"
    return RefusedInput(loaded.path, problem, hint=hint)


def _row_list(rows: Iterable[int]) -> str:
    rows = sorted({int(r) for r in rows})
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    more = f" and {len(rows) - MAX_ROWS_SHOWN} more" if len(rows) > MAX_ROWS_SHOWN else ""
    return f"row{'s' if len(rows) != 1 else ''} {shown}{more}"


def _personal(path: str, column: str, rows: Iterable[int]) -> RefusedInput:
    return RefusedInput(
        path,
        f"column {column} holds values shaped like personal data ({_row_list(rows)}); "
        "the whole file is refused and nothing is written",
        hint="replace them with pseudonymous codes, or remove them, and run again",
    )


# ----------------------------------------------------------------- Great Expectations


@cache
def load_checks(directory: str | Path = EXPECTATIONS_DIR) -> tuple[Check, ...]:
    """Every expectation of every suite file, in file order, each with its check id."""
    checks: list[Check] = []
    files = sorted(Path(directory).glob("*.json"))
    if not files:
        raise InputError(str(directory), "no expectation suites were found")
    for path in files:
        tree = json.loads(path.read_text(encoding="utf-8"))
        for number, config in enumerate(tree["expectations"], start=1):
            meta = config.get("meta") or {}
            if "check" not in meta or "reason" not in meta:
                raise InputError(
                    str(path), f"expectation {number} needs meta.check and meta.reason"
                )
            if any(c.check == meta["check"] for c in checks):
                raise InputError(str(path), f"check id {meta['check']} is used twice")
            if meta.get("column_set_from_contract"):
                # The contract's columns are written once, in contract.py.
                kwargs = {**config["kwargs"], "column_set": list(contract.COLUMN_NAMES)}
                config = {**config, "kwargs": kwargs}
            checks.append(
                Check(
                    tree["name"],
                    meta["check"],
                    meta["reason"],
                    config,
                    bool(meta.get("personal_data")),
                )
            )
    return tuple(checks)


def validate_frame(
    frame: pd.DataFrame, *, today: date | None = None, directory: str | Path = EXPECTATIONS_DIR
) -> list[tuple[Check, Any]]:
    """Run every suite through GX on the frame; return (check, result) pairs in order.

    Each suite file is loaded whole (so an expectation GX cannot read refuses the file),
    but GX is run once per set of columns read (`_runs`), not once per file: what costs
    time at a million rows is GX copying and hashing the data it is handed, not the
    number of checks.
    """
    gx = _quiet_gx()
    checks = load_checks(str(directory))
    for suite_name in dict.fromkeys(c.suite for c in checks):
        _build_suite(suite_name, [c for c in checks if c.suite == suite_name], directory)

    context = gx.get_context(mode="ephemeral")
    _silence(context)
    batch = (
        context.data_sources.add_pandas("incidents")
        .add_dataframe_asset("log")
        .add_batch_definition_whole_dataframe("all rows")
    )
    stamp = pd.Timestamp(today or date.today())
    by_id: dict[str, Any] = {}
    for number, mine in enumerate(_runs(checks), start=1):
        name = f"run {number}"
        data, twinned = _batch(frame, mine)
        suite = context.suites.add(_build_suite(name, mine, directory, twinned))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        run = definition.run(
            batch_parameters={"dataframe": data},
            expectation_parameters={"today": stamp},
            result_format=RESULT_FORMAT,
        )
        found = {r.expectation_config.meta["check"]: r for r in run.results}
        if set(found) != {c.check for c in mine}:
            raise RuntimeError(f"{name} ({_suites(mine)}): GX did not report every check")
        by_id.update(found)
    results: list[tuple[Check, Any]] = []
    for check in checks:  # GX does not keep the suite's order; match by check id
        _raise_if_broken(check, by_id[check.check])
        results.append((check, by_id[check.check]))
    return results


def _runs(checks: Iterable[Check]) -> list[list[Check]]:
    """The checks grouped into GX validation runs, in file order: one run per set of
    columns read (see `_reads`), table-level checks together on the whole frame.

    GX copies every column of its batch each time it fetches the rows of a column check
    (to drop blanks, or rows a row_condition or ignore_row_if leaves out), several times
    per check, and hashes every batch it is handed; so each check is given only the
    columns it reads, and checks that read the same columns share one batch.
    """
    groups: dict[tuple[str, ...] | None, list[Check]] = {}
    for check in checks:
        groups.setdefault(_reads(check), []).append(check)
    return list(groups.values())


# A personal-data check reads its column's normalised text. When normalising changes a
# value (rarely, in codes), the text is handed to GX as a twin column beside the column
# itself, so that the check still shares its batch with the column's other checks.
NORMALISED = "__normalised"


def _gx_config(check: Check, twinned: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The expectation as GX is given it: a personal-data check on its column's twin when
    the batch has one."""
    column = check.column
    if not check.personal or column not in twinned:
        return check.config
    kwargs = {**check.config["kwargs"], "column": column + NORMALISED}
    return {**check.config, "kwargs": kwargs}


def _batch(frame: pd.DataFrame, checks: list[Check]) -> tuple[pd.DataFrame, frozenset[str]]:
    """The columns a run reads, plus a normalised twin (exactly as privacy.normalise) of
    each column a personal-data check reads whose normalised text differs; and the names
    of the columns given a twin."""
    view = frame[_columns_for(checks, frame)]
    personal = list(dict.fromkeys(c.column for c in checks if c.personal and c.column))
    if not personal:
        return view, frozenset()
    import pyarrow.compute as pc

    from .privacy import normalise_array

    twins = {}
    for name in personal:
        raw = pa.array(view[name].astype("string").array)
        normalised = normalise_array(raw)
        if not pc.all(pc.fill_null(pc.equal(raw, normalised), True)).as_py():
            twins[name + NORMALISED] = pd.arrays.ArrowStringArray(pa.chunked_array([normalised]))
    twinned = frozenset(name.removesuffix(NORMALISED) for name in twins)
    return (view.assign(**twins) if twins else view), twinned


def _suites(checks: Iterable[Check]) -> str:
    return ", ".join(dict.fromkeys(c.suite for c in checks))


def _build_suite(
    name: str, checks: list[Check], directory: str | Path, twinned: frozenset[str] = frozenset()
) -> Any:
    """A GX suite of the checks' configs, refusing any expectation GX would drop."""
    _quiet_gx()
    from great_expectations.core import ExpectationSuite

    configs = [_gx_config(c, twinned) for c in checks]
    try:
        suite = ExpectationSuite(name=name, expectations=configs)
    except Exception as error:  # GX raises several types for an unknown expectation
        raise InputError(
            f"{directory}/{_suites(checks)}.json",
            f"an expectation could not be loaded ({type(error).__name__})",
            hint="check each expectation's type and kwargs",
        ) from None
    if len(suite.expectations) != len(configs):
        raise InputError(
            f"{directory}/{_suites(checks)}.json",
            f"only {len(suite.expectations)} of {len(configs)} expectations loaded",
        )
    return suite


def _raise_if_broken(check: Check, result: Any) -> None:
    """An expectation that errored proves nothing: stop rather than pass the rows."""
    info = result.exception_info or {}
    raised = (
        info.get("raised_exception")
        if "raised_exception" in info
        else any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
    )
    if raised:
        raise RuntimeError(f"validation check {check.check} ({check.suite}) could not run")


def _quiet_gx() -> Any:
    """GX, imported without a word: it probes optional back ends (Spark and others) when
    imported, and one installed beside it may print warnings that would break the
    one-line message the command line promises."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    for name in ("great_expectations", "great_expectations.core", "posthog"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # GX imports Spark when it can. Our checks never use Spark, and PySpark, installed for
    # the Spark engine's tests, can end the process outright when imported from a script
    # without a file (it takes that for a doctest run): GX is told it is not there.
    blocked = "pyspark" not in sys.modules
    if blocked:
        sys.modules["pyspark"] = None  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
    finally:
        if blocked and sys.modules.get("pyspark", False) is None:
            del sys.modules["pyspark"]
    _skip_batch_fingerprint()
    return gx


def _skip_batch_fingerprint() -> None:
    """GX hashes every pandas batch under 1 GB it is handed (an MD5 "fingerprint" kept
    only in the result's metadata, which the gate never reads): a third of the gate's
    time at a million rows. Its own switch is the size limit; set to 0, no batch is
    hashed. The checks and their results are not touched."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _silence(context: Any) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.analytics_enabled = False


def _for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as GX handles fastest: a plain index of row numbers (GX reports index
    labels), and whole numbers as floats (GX compares nullable integers one by one)."""
    view = frame.rename_axis(None)
    ints = [c for c in view.columns if str(view[c].dtype) == "Int64"]
    return view.astype({c: "float64" for c in ints}) if ints else view


def _columns_for(checks: list[Check], frame: pd.DataFrame) -> list[str]:
    """The columns of the frame a run reads: all of them if any check needs the table."""
    names: set[str] = set()
    for check in checks:
        reads = _reads(check)
        if reads is None:
            return list(frame.columns)
        names.update(reads)
    return [c for c in frame.columns if c in names]


def _reads(check: Check) -> tuple[str, ...] | None:
    """The columns a check reads, sorted; None for a table-level check or a row_condition
    GX cannot take apart (a query string), which read the whole table."""
    kwargs = check.config["kwargs"]
    condition = kwargs.get("row_condition")
    if check.config["type"].startswith("expect_table") or isinstance(condition, str):
        return None
    names = {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
    names.update(kwargs.get("column_list") or [])
    return tuple(sorted(names | _condition_columns(condition)))


def _condition_columns(condition: Any) -> set[str]:
    """Columns named in GX's structured row_condition ({"column": {"name": ...}}, nested
    under and/or conditions)."""
    if isinstance(condition, list):
        return set().union(*(_condition_columns(part) for part in condition))
    if not isinstance(condition, dict):
        return set()
    found = set().union(*(_condition_columns(value) for value in condition.values()))
    column = condition.get("column")
    if isinstance(column, dict) and isinstance(column.get("name"), str):
        found.add(column["name"])
    return found


# -------------------------------------------------------------------------- failures


def _rows(result: Any, frame: pd.DataFrame) -> list[int]:
    found = result.result.get("unexpected_index_list") or []
    return [int(r["row"] if isinstance(r, dict) else r) for r in found]


def _parse_failures(loaded: LoadResult) -> pd.DataFrame:
    problems = loaded.problems
    ids = loaded.frame["incident_id"].reindex(problems["row"].to_numpy())
    return pd.DataFrame(
        {
            "row": problems["row"].astype("int64").to_numpy(),
            "incident_id": ids.to_numpy(dtype=object),
            "column": problems["column"].to_numpy(dtype=object),
            "check": problems["check"].to_numpy(dtype=object),
            "reason": problems["reason"].to_numpy(dtype=object),
        },
        columns=list(FAILURE_COLUMNS),
    )


def _row_failures(loaded: LoadResult, results: list[tuple[Check, Any]]) -> pd.DataFrame:
    parts = []
    for check, result in results:
        if result.success:
            continue
        rows = _rows(result, loaded.frame)
        if not rows:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "row": pd.array(rows, dtype="int64"),
                    "incident_id": loaded.frame["incident_id"].reindex(rows).to_numpy(dtype=object),
                    "column": check.column,
                    "check": check.check,
                    "reason": check.reason.rstrip(".") + ".",
                },
                columns=list(FAILURE_COLUMNS),
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in FAILURE_COLUMNS})
    return pd.concat(parts, ignore_index=True)
