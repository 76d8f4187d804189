"""The policy compiled to SQL: one query that assesses a table of incidents where it is.

`compile_policy` turns a loaded policy (its parsed rule trees, parameters bound) into a
query for DuckDB, Spark, BigQuery, Snowflake or PostgreSQL. SQL's NULL is the policy
language's "not recorded", and SQL's AND, OR and NOT on NULL are Kleene logic, so each
condition becomes one boolean expression whose NULL means unknown.
"""

from __future__ import annotations

from .compiler import (
    DIALECTS,
    INTERNAL_PREFIX,
    build_query,
    compile_policy,
    sql_type,
)

__all__ = ["DIALECTS", "INTERNAL_PREFIX", "build_query", "compile_policy", "sql_type"]
