"""The gate's expectations (the Great Expectations suites in `expectations/`) as SQL.

Each row-level expectation becomes a condition that holds on the rows that fail it, so
a database can count and list them without the rows ever leaving it. The expectation
types the suites use are translated here; any other type is reported as not checked
by `untranslatable`, never passed silently. Table-level checks (the row count, the
columns) are answered by the caller, which knows the file's header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlglot import exp

TABLE_LEVEL = ("expect_table_row_count_to_be_between", "expect_table_columns_to_match_set")
_OPERATORS = {"==": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


class Untranslatable(ValueError):
    """An expectation this module cannot write as SQL."""


def literal(value: Any, today: date) -> exp.Expression:
    """A JSON value of a suite as SQL; `{"$PARAMETER": "today"}` is the run's date."""
    if isinstance(value, dict) and value.get("$PARAMETER") == "today":
        value = today
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise Untranslatable(f"a value of type {type(value).__name__}")


def condition(tree: Any, today: date) -> exp.Expression:
    """GX's structured row_condition: comparisons, joined by and / or."""
    if not isinstance(tree, dict):
        raise Untranslatable("a row_condition written as a query string")
    kind = tree.get("type")
    if kind == "comparison" and tree.get("operator") in _OPERATORS:
        column = exp.column(tree["column"]["name"])
        return _OPERATORS[tree["operator"]](
            this=column, expression=literal(tree["parameter"], today)
        )
    if kind in ("and", "or") and isinstance(tree.get("conditions"), list):
        parts = [condition(part, today) for part in tree["conditions"]]
        return exp.and_(*parts) if kind == "and" else exp.or_(*parts)
    raise Untranslatable(f"a row_condition of type {kind}")


def failing(
    config: dict[str, Any],
    table: str,
    today: date,
    text: Callable[[exp.Expression], exp.Expression] = lambda e: e,
) -> exp.Expression:
    """A condition true on exactly the rows of `table` that fail the expectation.

    `text` rewrites a column before a regular expression reads it (the personal-data
    patterns read the normalised text). Raises Untranslatable for what it cannot write.
    """
    kind = config["type"]
    kwargs = dict(config.get("kwargs") or {})
    if kwargs.get("mostly") not in (None, 1, 1.0):
        raise Untranslatable("'mostly' below 1")
    row_condition = kwargs.pop("row_condition", None)
    kwargs.pop("condition_parser", None)
    fails = _row_check(kind, kwargs, table, today, text)
    if row_condition is not None:
        fails = exp.and_(condition(row_condition, today), fails)
    return fails


def _row_check(
    kind: str,
    kwargs: dict[str, Any],
    table: str,
    today: date,
    text: Callable[[exp.Expression], exp.Expression],
) -> exp.Expression:
    column = exp.column(kwargs["column"]) if "column" in kwargs else None
    present = exp.Not(this=exp.Is(this=column, expression=exp.null())) if column else None
    if kind == "expect_column_values_to_not_be_null":
        return exp.Is(this=column, expression=exp.null())
    if kind == "expect_column_values_to_be_unique":
        repeated = (
            exp.select(column.copy())
            .from_(table)
            .where(present.copy())
            .group_by(column.copy())
            .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
        )
        return exp.In(this=column.copy(), query=repeated.subquery())
    if kind == "expect_column_values_to_be_between":
        outside = []
        if kwargs.get("min_value") is not None:
            low = literal(kwargs["min_value"], today)
            cls = exp.LTE if kwargs.get("strict_min") else exp.LT
            outside.append(cls(this=column.copy(), expression=low))
        if kwargs.get("max_value") is not None:
            high = literal(kwargs["max_value"], today)
            cls = exp.GTE if kwargs.get("strict_max") else exp.GT
            outside.append(cls(this=column.copy(), expression=high))
        if not outside:
            raise Untranslatable("a range with neither end")
        return exp.and_(present, exp.or_(*outside))
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = [literal(v, today) for v in kwargs["value_set"]]
        found = exp.In(this=column.copy(), expressions=values)
        if kind == "expect_column_values_to_not_be_in_set":
            return exp.and_(present, found)
        return exp.and_(present, exp.Not(this=found))
    if kind in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        found = exp.RegexpLike(
            this=text(column.copy()), expression=exp.Literal.string(kwargs["regex"])
        )
        if kind == "expect_column_values_to_not_match_regex":
            return exp.and_(present, found)
        return exp.and_(present, exp.Not(this=found))
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = exp.column(kwargs["column_A"]), exp.column(kwargs["column_B"])
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        if ignore not in ("either_value_is_missing", "both_values_are_missing"):
            raise Untranslatable(f"ignore_row_if {ignore}")
        cls = exp.GTE if kwargs.get("or_equal") else exp.GT
        holds = exp.Coalesce(this=cls(this=a, expression=b), expressions=[exp.false()])
        known = [exp.Not(this=exp.Is(this=c.copy(), expression=exp.null())) for c in (a, b)]
        if ignore == "either_value_is_missing":
            return exp.and_(*known, exp.Not(this=holds))
        return exp.and_(exp.or_(*known), exp.Not(this=holds))
    raise Untranslatable(f"the expectation type {kind}")


def untranslatable(configs: Iterable[dict[str, Any]], today: date) -> list[str]:
    """The expectation types among `configs` that cannot be written as SQL here."""
    found = []
    for config in configs:
        if config["type"] in TABLE_LEVEL:
            continue
        try:
            failing(config, "t", today)
        except (Untranslatable, KeyError):
            found.append(config["type"])
    return found
