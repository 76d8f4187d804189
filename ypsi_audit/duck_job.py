"""`assess --engine duckdb`: read, check, assess and write a log of any size in DuckDB.

The recipe is the pandas job's (`assessing.assess_file`), with the rows kept in DuckDB,
which spills to a temporary folder beyond its memory limit:

1. Open the log (Parquet, or CSV in UTF-8 with comma, semicolon or tab) and match its
   header to the contract (case and spaces ignored; unknown or missing columns refuse
   the file as the gate does). Row numbers are those a spreadsheet shows (header row 1).
2. Read each column into its contract type. Identifiers are checked in SQL (code shape,
   names). Every other column has few distinct values: each is read once by the
   toolkit's own parser (`parsing.parse`, the pandas engine's), so a value is read, or
   refused, exactly as there; typed Parquet columns (yes/no, whole numbers, dates) are
   taken as they are. The typed rows go into a table of the temporary database.
3. Run the gate's expectations (`expectations/*.json`) as SQL (`sql/gate.py`): rows
   failing a check are held back with their row numbers and reasons; a value shaped
   like personal data refuses the whole file. The personal-data patterns read the
   normalised text, with the normalising replacements done in SQL; Unicode NFKC is not
   needed there because an identifier that is not a plain ASCII code is refused first.
4. Assess the valid rows with the compiled policy (`sql/compiler.py`) straight into the
   output file, then write the quarantine file and the manifest, all or none.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlglot import exp

from . import contract
from .assessing import JobResult, _check_output
from .duck import DEFAULT_MEMORY_LIMIT, connect, copy_to
from .errors import InputError, YpsiError, closest
from .policy import load_policy
from .sql import compile_policy
from .sql.gate import TABLE_LEVEL, Untranslatable, failing

PARQUET = (".parquet", ".pq")
TEXT = (".csv", ".tsv", ".txt")
INLINE_LIMIT = 64  # distinct values read with a CASE; more go through a joined table
MAX_SHOWN = 10
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


@dataclass
class _Column:
    """How one contract column is read: its typed expression, blank test and problems."""

    name: str
    typed: exp.Expression
    blank: exp.Expression
    problem: exp.Expression | None = None  # index into `problems`, NULL where readable
    problems: list[tuple[str, str]] = field(default_factory=list)  # (check, reason)
    joins: list[tuple[str, str]] = field(default_factory=list)  # (table, raw column)


def header_key(text: object) -> str:
    """A header as the contract spells names: 'Incident ID' -> 'incident_id'."""
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


def assess_file(
    source: str | Path,
    out: str | Path,
    *,
    policy: str = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    strict: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
    today: date | None = None,
    with_states: bool = False,
) -> JobResult:
    """Gate, assess and write one log in DuckDB; rows that fail a check are held back.

    With `with_states`, every rule's state column is written too (as `assess` adds them
    with `with_states=True`; the resolved policy is in the manifest)."""
    from .manifest import dumps, input_record, new_manifest, policy_record
    from .outputs import Inputs, carries_marker, claim, file_sha256
    from .validation import RefusedInput
    from .writing import staged

    chosen = load_policy(policy)
    values = chosen.resolve_params(params)
    target = _check_output(out)
    quarantine = target.with_name(target.stem + ".quarantine.csv")
    manifest_path = target.with_name(target.stem + ".manifest.json")
    inputs = Inputs.of(source, chosen.path if Path(chosen.path).is_file() else None)
    claim(
        [
            (target, "--out"),
            (quarantine, "the quarantine file"),
            (manifest_path, "the manifest file"),
        ],
        inputs,
        manifest_path,
    )
    stale = quarantine.exists() and carries_marker(quarantine, manifest_path)
    with tempfile.TemporaryDirectory(prefix="ypsi-duckdb-") as scratch:
        con = connect(memory_limit, scratch, threads, database=Path(scratch) / "work.duckdb")
        try:
            gate = _Gate(con, Path(source), today or date.today())
            gate.run()
            if strict and gate.held:
                raise RefusedInput(
                    str(source),
                    f"{gate.held:,} rows fail the validation checks and --strict makes "
                    "that fatal; nothing was written",
                    hint="run 'ypsi-audit validate' to see them",
                )
            query = compile_policy(
                chosen,
                values,
                table="ypsi_valid",
                columns=list(contract.COLUMN_NAMES),
                repeat=list(contract.COLUMN_NAMES),
                with_states=with_states,
                pretty=False,
            )
            held_back = gate.held > 0
            files = [target, *([quarantine] if held_back else []), manifest_path]
            with staged(files) as temps:
                copy_to(con, query, temps[target], target.suffix)
                if held_back:
                    copy_to(con, gate.quarantine_query(), temps[quarantine], ".csv")
                counts = _counts(con, temps[target], target.suffix)
                manifest = new_manifest(
                    "assessment",
                    input=input_record(source, None),
                    policy=policy_record(chosen, values),
                    rows={
                        "read": gate.rows_read,
                        "assessed": counts["n"],
                        "quarantined": gate.held,
                    },
                    validation=gate.by_check(),
                    output=str(target),
                    quarantine=str(quarantine) if held_back else None,
                    files={path.name: file_sha256(temps[path]) for path in files[:-1]},
                    engine={
                        "name": "duckdb",
                        "version": _duckdb_version(),
                        "memory_limit": memory_limit,
                        "not_checked": gate.not_checked,
                    },
                )
                if with_states:  # what `engine.saved_policy` rebuilds the policy from
                    from .engine import policy_attr

                    manifest["resolved_policy"] = policy_attr(chosen, values)
                temps[manifest_path].write_text(dumps(manifest), encoding="utf-8")
            lines = [_summary(counts, chosen.label)]
            if held_back:
                lines += [f"{gate.held:,} rows were held back; see {quarantine}:", *gate.lines()]
            for kind in gate.not_checked:
                lines.append(f"Not checked in DuckDB: expectations of type {kind}.")
            lines += [
                f"Wrote {target} and {manifest_path}.",
                f"Rows read {gate.rows_read:,} = assessed {counts['n']:,} + "
                f"quarantined {gate.held:,}.",
            ]
        except _duckdb_error() as error:
            if os.environ.get("YPSI_DEBUG"):
                raise
            raise InputError(
                str(source),
                f"DuckDB could not read or process it ({type(error).__name__})",
                hint="check that it is a Parquet file or a UTF-8 CSV file, or run with "
                "--engine pandas",
            ) from None
        finally:
            con.close()
    if stale and not held_back:
        quarantine.unlink()
    return JobResult("\n".join(lines), 1 if held_back else 0)


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


def _duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _counts(con: Any, path: Path, suffix: str) -> dict[str, Any]:
    reader = "read_parquet" if suffix.lower() == ".parquet" else "read_csv"
    source = f"{reader}('{_q(str(path))}')"
    if reader == "read_csv":
        source = f"read_csv('{_q(str(path))}', all_varchar=true, header=true)"
    rows = con.execute(
        f"SELECT guidance_outcome, consistency, COALESCE(recording_gaps, '') <> '' AS gap, "
        f"count(*) FROM {source} GROUP BY ALL"
    ).fetchall()
    out: dict[str, Any] = {"n": 0, "outcome": {}, "consistency": {}, "gaps": 0}
    for outcome, consistency, gap, n in rows:
        out["n"] += n
        out["outcome"][outcome] = out["outcome"].get(outcome, 0) + n
        out["consistency"][consistency] = out["consistency"].get(consistency, 0) + n
        out["gaps"] += n if gap else 0
    return out


def _summary(counts: dict[str, Any], label: str) -> str:
    def part(found: dict[str, int], names: Sequence[str]) -> str:
        return ", ".join(f"{found.get(name, 0):,} {name}" for name in names)

    return "\n".join(
        [
            f"Assessed {counts['n']:,} incidents against {label}.",
            "Guidance: " + part(counts["outcome"], contract.OUTCOMES) + ".",
            "Decisions: " + part(counts["consistency"], contract.CONSISTENCY) + ".",
            f"Incidents with at least one recording gap: {counts['gaps']:,}.",
        ]
    )


def _q(text: str) -> str:
    return text.replace("'", "''")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------ gate


class _Gate:
    """Read the log into a typed table and hold back the rows that fail a check."""

    def __init__(self, con: Any, path: Path, today: date) -> None:
        self.con = con
        self.path = path
        self.shown = str(path)
        self.today = today
        self.rows_read = 0
        self.held = 0
        self.not_checked: list[str] = []

    def run(self) -> None:
        names, types = self.open()
        positions = self.match(names)
        columns = [self.column(spec, positions.get(spec.name), types) for spec in contract.COLUMNS]
        self.typed(columns)
        self.con.execute(
            "CREATE TABLE ypsi_failures (row BIGINT, incident_id VARCHAR, column_name VARCHAR, "
            "check_id VARCHAR, reason VARCHAR, ord INTEGER)"
        )
        self.parse_failures(columns)
        self.checks()
        self.con.execute(
            "UPDATE ypsi_typed SET ypsi_held = TRUE "
            "WHERE ypsi_row IN (SELECT row FROM ypsi_failures)"
        )
        self.held = self.scalar("SELECT count(DISTINCT row) FROM ypsi_failures")
        self.con.execute("CREATE VIEW ypsi_valid AS SELECT * FROM ypsi_typed WHERE NOT ypsi_held")

    def scalar(self, query: str) -> Any:
        return self.con.execute(query).fetchone()[0]

    # -------------------------------------------------------------- the file

    def open(self) -> tuple[list[str], dict[str, str]]:
        suffix = self.path.suffix.lower()
        if not self.path.is_file():
            raise InputError(
                self.shown, "the file does not exist", hint="check the path and the name"
            )
        if self.path.stat().st_size == 0:
            raise InputError(
                self.shown, "the file is empty", hint="export the log again with its header row"
            )
        if suffix in PARQUET:
            source = f"read_parquet('{_q(self.shown)}', file_row_number=true)"
            described = self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            names = [
                r[0] for r in described if r[0] not in ("file_row_number", "__index_level_0__")
            ]
            listed = ", ".join(_ident(n) for n in names)
            self.con.execute(
                "CREATE VIEW ypsi_raw AS SELECT file_row_number + 2 AS ypsi_row, "
                f"{listed} FROM {source}"
            )
        elif suffix in TEXT:
            delimiter, names = self.header()
            self.con.execute(
                f"CREATE TABLE ypsi_text AS SELECT * FROM read_csv('{_q(self.shown)}', "
                f"all_varchar=true, header=true, delim='{_q(delimiter)}', quote='\"', "
                "escape='\"', normalize_names=false, null_padding=true)"
            )
            found = [r[0] for r in self.con.execute("DESCRIBE ypsi_text").fetchall()]
            if len(found) != len(names):
                raise InputError(
                    self.shown, "the header and the rows have different numbers of columns"
                )
            renames = ", ".join(
                f"{_ident(f)} AS {_ident(n)}" for f, n in zip(found, names, strict=True)
            )
            self.con.execute(
                f"CREATE VIEW ypsi_raw AS SELECT rowid + 2 AS ypsi_row, {renames} FROM ypsi_text"
            )
        else:
            raise InputError(
                self.shown,
                "the DuckDB engine reads .parquet and .csv files only",
                hint="use --engine pandas for spreadsheets, or save the log as CSV or Parquet",
            )
        types = dict(
            self.con.execute("SELECT column_name, column_type FROM (DESCRIBE ypsi_raw)").fetchall()
        )
        return names, types

    def header(self) -> tuple[str, list[str]]:
        """The delimiter (the commonest of comma, semicolon and tab in the header line)
        and the header names, read from the first line."""
        with open(self.path, "rb") as handle:
            first = handle.readline(1 << 20)
        try:
            line = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InputError(
                self.shown,
                "the DuckDB engine reads CSV files in UTF-8 only",
                hint="save it again as CSV UTF-8, or run with --engine pandas",
            ) from None
        delimiter = max((",", ";", "\t"), key=line.count)
        names = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        return delimiter, names

    def match(self, names: list[str]) -> dict[str, str]:
        positions: dict[str, str] = {}
        unknown = []
        for number, written in enumerate(names, start=1):
            key = header_key(written)
            if key in positions:
                raise InputError(
                    self.shown, f"the header names {key} twice", hint="delete or rename one of them"
                )
            if key not in contract.BY_NAME:
                unknown.append((number, key))
                continue
            positions[key] = written
        if unknown:
            from .validation import RefusedInput

            named = []
            for number, key in unknown:
                best = closest(key, contract.COLUMN_NAMES)
                named.append(f"column {number}" + (f" (is it {best}?)" if best else ""))
            raise RefusedInput(
                self.shown,
                f"{', '.join(named)}: the file has columns the data contract does not know, "
                "which is how names and notes slip into an anonymised log; the whole file is "
                "refused",
                hint="remove them or correct their header",
            )
        missing = [name for name in contract.REQUIRED if name not in positions]
        if missing:
            raise InputError(
                self.shown,
                f"the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing",
                hint="add the column or correct its header name",
            )
        return positions

    # ---------------------------------------------------------- reading values

    def column(self, spec: contract.Column, written: str | None, types: dict[str, str]) -> _Column:
        from .sql import sql_type

        if written is None:
            null = exp.cast(exp.null(), sql_type(spec.kind))
            return _Column(spec.name, null, exp.true())
        raw = exp.column(written, quoted=True)
        kind = types[written].upper()
        if spec.name == "incident_id" or (spec.kind == "string" and kind != "VARCHAR"):
            return self.identifier(spec, raw)
        is_null = exp.Is(this=raw.copy(), expression=exp.null())
        if (spec.kind == "bool" and kind == "BOOLEAN") or (
            spec.kind == "int" and kind in _INTEGER_TYPES
        ):
            return _Column(spec.name, exp.cast(raw, sql_type(spec.kind)), is_null)
        if spec.kind == "date" and (kind == "DATE" or kind.startswith("TIMESTAMP")):
            return self.typed_date(spec, raw, is_null)
        return self.distinct(spec, written, raw)

    def identifier(self, spec: contract.Column, raw: exp.Expression) -> _Column:
        """Identifiers: trimmed text; a value that is not a code, or reads as a name,
        refuses the file (it may be personal data), as `parsing` does."""
        from .mapping import CODE
        from .privacy import NAME_REGEX

        text = exp.Trim(this=exp.cast(raw, exp.DataType.build("VARCHAR")))
        blank = exp.Coalesce(
            this=exp.EQ(this=text.copy(), expression=exp.Literal.string("")),
            expressions=[exp.true()],
        )
        code = exp.RegexpLike(
            this=text.copy(), expression=exp.Literal.string("^(?:" + CODE.pattern + ")$")
        )
        named = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(NAME_REGEX))
        for check, bad in (("not_a_code", exp.not_(code)), ("looks_like_a_name", named)):
            hit = exp.and_(exp.not_(blank.copy()), bad)
            rows = self.con.execute(
                f"SELECT ypsi_row FROM ypsi_raw WHERE {hit.sql('duckdb')} "
                f"ORDER BY 1 LIMIT {MAX_SHOWN + 1}"
            ).fetchall()
            if rows:
                raise self.refusal(spec.name, check, [r[0] for r in rows], hit)
        typed = exp.If(this=blank.copy(), true=exp.null(), false=text.copy())
        return _Column(spec.name, typed, blank)

    def refusal(self, column: str, check: str, rows: list[int], hit: exp.Expression) -> YpsiError:
        from .validation import RefusedInput

        total = self.scalar(f"SELECT count(*) FROM ypsi_raw WHERE {hit.sql('duckdb')}")
        shown = ", ".join(str(r) for r in rows[:MAX_SHOWN])
        more = f" and {total - MAX_SHOWN:,} more" if total > MAX_SHOWN else ""
        what = {
            "not_a_code": "values that are not pseudonymous codes (letters, digits, - and _, "
            "at most 32 characters)",
            "looks_like_a_name": "values that read as a person's name",
            "personal_data": "values shaped like personal data",
        }.get(check, "values that cannot be accepted")
        return RefusedInput(
            self.shown,
            f"column {column} holds {what} (row{'s' if total != 1 else ''} {shown}{more}); "
            "they are not shown, the whole file is refused and nothing is written",
            hint="replace them with pseudonymous codes, or remove them, and run again",
        )

    def typed_date(
        self, spec: contract.Column, raw: exp.Expression, is_null: exp.Expression
    ) -> _Column:
        from .parsing import MAX_YEAR, MIN_YEAR

        value = exp.cast(raw, exp.DataType.build("DATE"))
        year = exp.Year(this=value.copy())
        outside = exp.or_(
            exp.LT(this=year, expression=exp.Literal.number(MIN_YEAR)),
            exp.GT(this=year.copy(), expression=exp.Literal.number(MAX_YEAR)),
        )
        reason = (
            f"In column {spec.name}, a date has a year outside {MIN_YEAR} to {MAX_YEAR}; "
            "correct the year."
        )
        problem = exp.If(this=outside, true=exp.Literal.number(0))
        typed = exp.If(this=outside.copy(), true=exp.null(), false=value.copy())
        return _Column(spec.name, typed, is_null, problem, [("impossible_date", reason)])

    def distinct(self, spec: contract.Column, written: str, raw: exp.Column) -> _Column:
        """Each distinct raw value read once by the toolkit's parser (`parsing.parse`)."""
        from .parsing import REFUSING_CHECKS, check_id, filled, parse, subject
        from .sql import sql_type

        found = [
            r[0]
            for r in self.con.execute(
                f"SELECT DISTINCT {raw.sql('duckdb')} FROM ypsi_raw"
            ).fetchall()
        ]
        found = [v for v in found if v is not None]
        problems: list[tuple[str, str]] = []
        entries = []  # (raw, typed value, problem index, blank)
        for value in found:
            parsed = parse(value, spec, False)
            index = None
            if parsed[1] is not None:
                check = check_id(spec, value, parsed) or parsed[1]
                detail = (parsed[2] or "").replace("{subject}", subject(value))
                if check in REFUSING_CHECKS:
                    hit = exp.EQ(this=raw.copy(), expression=_literal(value))
                    rows = self.con.execute(
                        f"SELECT ypsi_row FROM ypsi_raw WHERE {hit.sql('duckdb')} "
                        f"ORDER BY 1 LIMIT {MAX_SHOWN + 1}"
                    ).fetchall()
                    raise self.refusal(spec.name, check, [r[0] for r in rows], hit)
                problems.append((check, f"In column {spec.name}, {detail}."))
                index = len(problems) - 1
            entries.append((value, parsed[0], index, not filled(value)))
        target = sql_type(spec.kind)
        is_null = exp.Is(this=raw.copy(), expression=exp.null())
        if len(entries) <= INLINE_LIMIT:
            typed = exp.Case(this=raw.copy())
            problem = exp.Case(this=raw.copy())
            blank_case = exp.Case(this=raw.copy())
            for value, parsed_value, index, blank in entries:
                key = _literal(value)
                typed = typed.when(key, exp.cast(_literal(parsed_value), target))
                if index is not None:
                    problem = problem.when(key.copy(), exp.Literal.number(index))
                if blank:
                    blank_case = blank_case.when(key.copy(), exp.true())
            typed = (
                typed.else_(exp.cast(exp.null(), target))
                if entries
                else exp.cast(exp.null(), target)
            )
            blanks = any(b for *_, b in entries)
            blank = exp.or_(is_null, blank_case.else_(exp.false())) if blanks else is_null
            problem_expr = problem if problems else None
            return _Column(spec.name, typed, blank, problem_expr, problems)
        table = f"ypsi_map_{spec.name}"
        import pyarrow as pa

        keys = [v for v, *_ in entries]
        key_array = pa.array([str(v) for v in keys], pa.string())
        mapped = pa.table(
            {
                "raw": key_array,
                "value": pa.array(
                    [None if p is None else str(p) for _, p, _, _ in entries], pa.string()
                ),
                "problem": pa.array([i for _, _, i, _ in entries], pa.int32()),
                "blank": pa.array([b for *_, b in entries], pa.bool_()),
            }
        )
        self.con.register(f"{table}_arrow", mapped)
        self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_arrow")
        self.con.unregister(f"{table}_arrow")
        ref = lambda name: exp.column(name, table=table)  # noqa: E731
        typed = exp.cast(ref("value"), target)
        blank = exp.or_(is_null, exp.Coalesce(this=ref("blank"), expressions=[exp.false()]))
        return _Column(
            spec.name,
            typed,
            blank,
            ref("problem") if problems else None,
            problems,
            [(table, written)],
        )

    # ------------------------------------------------------------ typed table

    def typed(self, columns: list[_Column]) -> None:
        selects = ["ypsi_raw.ypsi_row"]
        joins = []
        for k, col in enumerate(columns):
            selects.append(f"{col.typed.sql('duckdb')} AS {_ident(col.name)}")
            if col.problem is not None:
                selects.append(f"{col.problem.sql('duckdb')} AS ypsi_p{k}")
            for table, written in col.joins:
                joins.append(
                    f"LEFT JOIN {table} ON {table}.raw = "
                    f"CAST(ypsi_raw.{_ident(written)} AS VARCHAR)"
                )
        every_blank = exp.and_(*[c.blank for c in columns])
        query = (
            f"SELECT {', '.join(selects)}, FALSE AS ypsi_held, "
            f"{every_blank.sql('duckdb')} AS ypsi_blank "
            f"FROM ypsi_raw {' '.join(joins)}"
        )
        # Scans and filters keep the file's order; after a join, order by row number.
        order = " ORDER BY ypsi_row" if joins else ""
        self.con.execute(
            f"CREATE TABLE ypsi_typed AS SELECT * EXCLUDE (ypsi_blank) FROM ({query}) "
            f"WHERE NOT ypsi_blank{order}"
        )
        self.rows_read = self.scalar("SELECT count(*) FROM ypsi_typed")
        self.problem_columns = [(k, c) for k, c in enumerate(columns) if c.problem is not None]

    def parse_failures(self, columns: list[_Column]) -> None:
        for k, col in self.problem_columns:
            listing = pa_problem_table(col.problems)
            self.con.register("ypsi_problem_list", listing)
            self.con.execute(
                "INSERT INTO ypsi_failures "
                "SELECT t.ypsi_row, t.incident_id, ?, p.check_id, p.reason, ? "
                f"FROM ypsi_typed t JOIN ypsi_problem_list p ON p.problem = t.ypsi_p{k}",
                [col.name, k],
            )
            self.con.unregister("ypsi_problem_list")

    # ------------------------------------------------------------ expectations

    def checks(self) -> None:
        from .privacy import REPLACEMENTS
        from .validation import RefusedInput, load_checks

        def normalised(column: exp.Expression) -> exp.Expression:
            text: exp.Expression = column
            for find, to in REPLACEMENTS:
                text = exp.Anonymous(
                    this="regexp_replace",
                    expressions=[
                        text,
                        exp.Literal.string(find),
                        exp.Literal.string(to),
                        exp.Literal.string("gi"),
                    ],
                )
            return text

        for order, check in enumerate(load_checks(), start=100):
            config = check.config
            if config["type"] in TABLE_LEVEL:
                if config["type"] == "expect_table_row_count_to_be_between":
                    low = config["kwargs"].get("min_value") or 0
                    high = config["kwargs"].get("max_value")
                    if self.rows_read < low or (high is not None and self.rows_read > high):
                        raise RefusedInput(self.shown, check.reason)
                continue  # the columns were matched against the contract when opened
            try:
                condition = failing(
                    config, "ypsi_typed", self.today, normalised if check.personal else lambda e: e
                )
            except (Untranslatable, KeyError):
                self.not_checked.append(f"{config['type']} ({check.check})")
                continue
            where = condition.sql("duckdb")
            if check.personal:
                rows = self.con.execute(
                    f"SELECT ypsi_row FROM ypsi_typed WHERE {where} "
                    f"ORDER BY 1 LIMIT {MAX_SHOWN + 1}"
                ).fetchall()
                if rows:
                    total = self.scalar(f"SELECT count(*) FROM ypsi_typed WHERE {where}")
                    shown = ", ".join(str(r[0]) for r in rows[:MAX_SHOWN])
                    more = f" and {total - MAX_SHOWN:,} more" if total > MAX_SHOWN else ""
                    raise RefusedInput(
                        self.shown,
                        f"column {check.column} holds values shaped like personal data "
                        f"(row{'s' if total != 1 else ''} {shown}{more}); the whole file is "
                        "refused and nothing is written",
                        hint="replace them with pseudonymous codes, or remove them, and run again",
                    )
                continue
            self.con.execute(
                "INSERT INTO ypsi_failures SELECT ypsi_row, incident_id, ?, ?, ?, ? "
                f"FROM ypsi_typed WHERE {where}",
                [check.column, check.check, check.reason.rstrip(".") + ".", order],
            )

    # ---------------------------------------------------------------- reports

    def quarantine_query(self) -> str:
        """One row per held-back row: row, incident_id, checks and reasons in order."""
        return (
            "WITH c AS (SELECT row, check_id, min(ord) AS o FROM ypsi_failures GROUP BY ALL), "
            "r AS (SELECT row, reason, min(ord) AS o FROM ypsi_failures GROUP BY ALL), "
            "i AS (SELECT row, any_value(incident_id) AS incident_id FROM ypsi_failures "
            "GROUP BY row) "
            "SELECT i.row, i.incident_id, "
            "(SELECT string_agg(check_id, ';' ORDER BY o) FROM c WHERE c.row = i.row) AS checks, "
            "(SELECT string_agg(reason, ' ' ORDER BY o) FROM r WHERE r.row = i.row) AS reason "
            "FROM i ORDER BY i.row"
        )

    def groups(self) -> list[tuple[str, str, int, list[int]]]:
        return self.con.execute(
            "SELECT check_id, reason, count(DISTINCT row), "
            f"list_sort(list_distinct(list(row)))[1:{MAX_SHOWN}], min(row) AS first, min(ord) "
            "FROM ypsi_failures GROUP BY check_id, reason ORDER BY first, min(ord)"
        ).fetchall()

    def lines(self) -> list[str]:
        out = []
        for check, reason, n, rows, *_ in self.groups():
            shown = ", ".join(str(r) for r in rows)
            more = f" and {n - MAX_SHOWN} more" if n > MAX_SHOWN else ""
            noun = "row" if n == 1 else "rows"
            out.append(f"- {reason.rstrip('.')} [{check}]: {n:,} {noun} ({noun} {shown}{more})")
        return out

    def by_check(self) -> list[dict[str, Any]]:
        return [{"check": c, "reason": r, "n_rows": n} for c, r, n, *_ in self.groups()]


def pa_problem_table(problems: list[tuple[str, str]]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "problem": pa.array(range(len(problems)), pa.int32()),
            "check_id": pa.array([c for c, _ in problems], pa.string()),
            "reason": pa.array([r for _, r in problems], pa.string()),
        }
    )


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    return exp.Literal.string(str(value))
