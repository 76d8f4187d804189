"""Compile a policy's rule trees into one SQL query, for any dialect sqlglot writes.

Every condition becomes a nullable boolean: TRUE present, FALSE absent, NULL unknown.
SQL's AND, OR and NOT are Kleene logic on NULL, so `all`, `any` and `not` map straight
on; `first_recorded` is COALESCE. The rest follows `conditions.Leaf` word for word:

- a follow-up field left blank after its event was recorded false reads as "no":
  `COALESCE(field, NULLIF(parent, TRUE))`, the parent itself implied the same way;
- `is_not` counts a blank as "not" (`NOT COALESCE(test, FALSE)`), and its lenient
  reading, which tells "not done" from "not recorded", also requires a recorded value;
- ordinal codes compare by their level (a CASE giving the level's position);
- parameters are bound as literals, checked by the policy first.

The query is built as sqlglot expressions in five common table expressions (rules,
combined factors and criteria, outcome, recording requirements, then the output
columns) and written for a dialect at the end. The constructs that differ between
dialects are chosen here, not left to translation: the `;`-joined id lists (CONCAT_WS
skips NULLs in DuckDB, Spark and PostgreSQL, and sqlglot is told so; BigQuery has no
CONCAT_WS, so each id carries its separator in a CONCAT of never-NULL pieces and the
first is cut off; Snowflake's CONCAT_WS gives NULL and its ARRAY_TO_STRING an empty
entry for a NULL, so NULLs are removed with ARRAY_CONSTRUCT_COMPACT first), and
"is not true", written `NOT COALESCE(x, FALSE)` because sqlglot writes `x IS NOT TRUE`
as `NOT x` for Snowflake, where a blank would then stay unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from .. import contract, states
from ..conditions import Branch, Constant, Leaf, Node, Param
from ..policy import Policy, load_policy

DIALECTS = ("duckdb", "spark", "bigquery", "snowflake", "postgres")
INTERNAL_PREFIX = "ypsi_"  # internal columns of the query's intermediate steps
SEPARATOR = ";"
_COMPARE = {
    "less_than": exp.LT,
    "at_most": exp.LTE,
    "at_least": exp.GTE,
    "greater_than": exp.GT,
}
_TYPES = {
    "bool": "BOOLEAN",
    "int": "BIGINT",
    "date": "DATE",
    "category": "VARCHAR",
    "ordinal": "VARCHAR",
    "string": "VARCHAR",
}
# Derived values a recording rule may test, and the internal columns holding them.
_DERIVED = {
    "guidance_outcome": INTERNAL_PREFIX + "outcome",
    "experimental": INTERNAL_PREFIX + "experimental",
    "referral_criterion": INTERNAL_PREFIX + "criterion",
    "referred": INTERNAL_PREFIX + "referred",
}


def sql_type(kind: str) -> exp.DataType:
    """The SQL type of a contract column kind (as the input table should have it)."""
    return exp.DataType.build(_TYPES[kind])


def compile_policy(
    policy: str | Policy = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    *,
    dialect: str = "duckdb",
    table: str = "incidents",
    columns: Sequence[str] | None = None,
    repeat: Sequence[str] | None = None,
    with_states: bool = False,
    pretty: bool = True,
) -> str:
    """The query assessing `table` under the policy, as text in `dialect`.

    `columns` are the table's columns, in the order the output repeats them (default:
    every contract column); contract columns it lacks are read as blank, as `assess`
    reads a frame without them. `repeat` are the input columns the output repeats before
    its own (default: all of them). With `with_states`, every rule's state is added as a
    small integer column named as in `states.py`.
    """
    query = build_query(
        policy,
        params,
        dialect=dialect,
        table=table,
        columns=columns,
        repeat=repeat,
        with_states=with_states,
    )
    return query.sql(dialect=_check_dialect(dialect), pretty=pretty)


def build_query(
    policy: str | Policy = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    *,
    dialect: str = "duckdb",
    table: str | exp.Expression = "incidents",
    columns: Sequence[str] | None = None,
    repeat: Sequence[str] | None = None,
    with_states: bool = False,
) -> exp.Select:
    """The query as a sqlglot expression (see `compile_policy`)."""
    chosen = load_policy(policy)
    values = chosen.resolve_params(params)
    given = list(columns) if columns is not None else list(contract.COLUMN_NAMES)
    shown = list(repeat) if repeat is not None else None
    return _Builder(chosen, values, _check_dialect(dialect)).query(table, given, shown, with_states)


def _check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not '{dialect}'")
    return dialect


# ------------------------------------------------------------------------ expressions


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=not _plain(name))


def _plain(name: str) -> bool:
    return name.replace("_", "a").isalnum() and name[:1].isalpha() and name.islower()


def _alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, exp.to_identifier(name, quoted=not _plain(name)))


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _bool(value: bool) -> exp.Boolean:
    return exp.true() if value else exp.false()


def _not(value: exp.Expression) -> exp.Expression:
    return exp.not_(value, copy=False)


def _and(parts: Sequence[exp.Expression]) -> exp.Expression:
    return exp.and_(*parts, copy=False) if len(parts) > 1 else parts[0]


def _or(parts: Sequence[exp.Expression]) -> exp.Expression:
    return exp.or_(*parts, copy=False) if len(parts) > 1 else parts[0]


def _true(value: exp.Expression) -> exp.Expression:
    """Definitely true, blank as false: `value IS TRUE` in every dialect."""
    inner = value.copy()
    if isinstance(inner, exp.Connector | exp.Not | exp.Predicate):
        inner = exp.paren(inner, copy=False)
    return exp.Coalesce(this=inner, expressions=[exp.false()])


def _when(cases: Iterable[tuple[exp.Expression, exp.Expression]], default: Any = None) -> exp.Case:
    case = exp.Case()
    for condition, value in cases:
        case = case.when(condition, value, copy=False)
    return case.else_(default, copy=False) if default is not None else case


def _same(a: exp.Expression, b: exp.Expression) -> bool:
    return a is b or a.sql() == b.sql()


@dataclass(frozen=True)
class _Rule:
    """A rule's compiled condition: strict reading, lenient reading (blank counts done)."""

    strict: exp.Expression
    lenient: exp.Expression


class _Builder:
    def __init__(self, policy: Policy, params: Mapping[str, Any], dialect: str) -> None:
        self.policy = policy
        self.params = params
        self.dialect = dialect
        self.derived = False  # whether derived values may be named (recording rules)

    # ---------------------------------------------------------------- conditions

    def node(self, node: Node) -> _Rule:
        if isinstance(node, Constant):
            value = _bool(node.value)
            return _Rule(value, value)
        if isinstance(node, Branch):
            parts = [self.node(part) for part in node.parts]
            strict = self.combine(node.kind, [p.strict for p in parts])
            if all(_same(p.strict, p.lenient) for p in parts):
                return _Rule(strict, strict)
            return _Rule(strict, self.combine(node.kind, [p.lenient for p in parts]))
        return self.leaf(node)

    def combine(self, kind: str, parts: list[exp.Expression]) -> exp.Expression:
        parts = [p.copy() for p in parts]
        if kind == "all":
            return _and(parts)
        if kind == "any":
            return _or(parts)
        if kind == "not":
            return _not(parts[0])
        return exp.Coalesce(this=parts[0], expressions=parts[1:])  # first_recorded

    def leaf(self, leaf: Leaf) -> _Rule:
        if leaf.op == "is_not":
            hit = _true(self.test(leaf))
            strict = _not(hit)
            lenient = _not(exp.or_(hit.copy(), self.missing(leaf.column), copy=False))
            return _Rule(strict, lenient)
        if leaf.op == "is" and leaf.operand == "blank":
            return _Rule(self.missing(leaf.column), exp.false())
        value = self.test(leaf)
        return _Rule(value, value)

    def test(self, leaf: Leaf) -> exp.Expression:
        """The leaf as `is` would read it, a blank value unknown (`is_not` negates it)."""
        if leaf.operand == "blank":
            return self.missing(leaf.column)
        spec = self.spec(leaf.column)
        if spec.kind == "bool":
            value = self.tri(leaf.column)
            return value if leaf.operand is True else _not(value)
        if leaf.op in ("is", "is_not"):
            return exp.EQ(this=self.ref(leaf.column), expression=_text(leaf.operand))
        if leaf.op == "one_of":
            return exp.In(this=self.ref(leaf.column), expressions=[_text(c) for c in leaf.operand])
        operand = (
            self.params[leaf.operand.name] if isinstance(leaf.operand, Param) else leaf.operand
        )
        compare = _COMPARE[leaf.op]
        if spec.kind == "ordinal":
            level = spec.codes.index(operand)
            return compare(this=self.level(leaf.column), expression=exp.Literal.number(level))
        value: exp.Expression = self.ref(leaf.column)
        if leaf.minus is not None:
            value = exp.paren(exp.Sub(this=value, expression=self.ref(leaf.minus)), copy=False)
        return compare(this=value, expression=exp.Literal.number(int(operand)))

    def spec(self, column: str) -> contract.Column:
        if column in _DERIVED:
            if not self.derived:  # pragma: no cover - the policy loader refuses it
                raise ValueError(f"{column} is a derived value, usable in recording rules only")
            return contract.DERIVED[column]
        return contract.BY_NAME[column]

    def ref(self, column: str) -> exp.Column:
        return _col(_DERIVED.get(column, column) if self.derived else column)

    def tri(self, column: str) -> exp.Expression:
        """A yes/no column, a blank follow-up read as "no" where its event is false."""
        spec = contract.BY_NAME.get(column)
        if spec is None or spec.parent is None or (self.derived and column in _DERIVED):
            return self.ref(column)
        implied = exp.Nullif(this=self.tri(spec.parent), expression=exp.true())
        return exp.Coalesce(this=self.ref(column), expressions=[implied])

    def missing(self, column: str) -> exp.Expression:
        """Where the record itself is blank (before any follow-up is implied)."""
        return exp.Is(this=self.ref(column), expression=exp.null())

    def level(self, column: str) -> exp.Expression:
        codes = contract.BY_NAME[column].codes
        case = exp.Case(this=self.ref(column))
        for position, code in enumerate(codes):
            case = case.when(_text(code), exp.Literal.number(position), copy=False)
        return case

    def section(self, section: str, *, derived: bool = False) -> list[_Rule]:
        self.derived = derived
        try:
            return [self.node(rule.condition) for rule in self.policy.rules(section)]
        finally:
            self.derived = False

    # --------------------------------------------------------------------- query

    def query(
        self,
        table: str | exp.Expression,
        columns: list[str],
        repeat: list[str] | None,
        with_states: bool,
    ) -> exp.Select:
        p = INTERNAL_PREFIX
        policy = self.policy
        source = exp.to_table(table) if isinstance(table, str) else table
        given = set(columns)
        inputs = [_col(name) for name in columns] + [
            _alias(exp.cast(exp.null(), sql_type(spec.kind)), spec.name)
            for spec in contract.COLUMNS
            if spec.name not in given
        ]
        step0 = exp.select(*inputs).from_(source)

        factors = self.section("factors")
        criteria = self.section("experimental")
        referral = [self.node(policy.referral.referred), self.node(policy.referral.allowed)]
        step1 = [
            *(_alias(r.strict, f"{p}f{k}") for k, r in enumerate(factors)),
            *(_alias(r.strict, f"{p}e{k}") for k, r in enumerate(criteria)),
            _alias(referral[0].strict, f"{p}referred"),
            _alias(referral[1].strict, f"{p}allowed"),
        ]
        if policy.scope is not None:
            step1.append(_alias(self.node(policy.scope.condition).strict, f"{p}scope"))

        factor_cols = [_col(f"{p}f{k}") for k in range(len(factors))]
        criterion_cols = [_col(f"{p}e{k}") for k in range(len(criteria))]
        step2 = [
            _alias(_or(factor_cols) if factor_cols else exp.false(), f"{p}criterion"),
            _alias(_and(criterion_cols) if criterion_cols else exp.true(), f"{p}experimental"),
        ]
        criterion = _col(f"{p}criterion")
        outcome = _when(
            [
                (criterion, _text(contract.OUTCOMES[0])),
                (_not(criterion.copy()), _text(contract.OUTCOMES[1])),
            ],
            _text(contract.OUTCOMES[2]),
        )
        step3 = [_alias(outcome, f"{p}outcome")]

        recording = self.section("recording", derived=True)
        self.derived = True
        applies = [
            exp.true() if rule.applies is None else self.node(rule.applies).strict
            for rule in policy.recording
        ]
        self.derived = False
        lenient_names = []
        step4: list[exp.Expression] = []
        for k, (rule, apply) in enumerate(zip(recording, applies, strict=True)):
            step4.append(_alias(rule.strict, f"{p}g{k}"))
            if _same(rule.strict, rule.lenient):
                lenient_names.append(f"{p}g{k}")
            else:
                step4.append(_alias(rule.lenient, f"{p}l{k}"))
                lenient_names.append(f"{p}l{k}")
            if with_states:
                step4.append(_alias(apply, f"{p}a{k}"))

        outputs = self.outputs(
            len(factors),
            len(criteria),
            lenient_names,
            with_states,
            has_scope=policy.scope is not None,
        )
        names = (
            repeat
            if repeat is not None
            else [*columns, *(s.name for s in contract.COLUMNS if s.name not in given)]
        )
        steps = [("input", step0), ("rules", step1), ("combined", step2), ("judged", step3)]
        steps.append(("recorded", step4))
        query = exp.select(*[_col(n) for n in names], *outputs).from_(f"{p}recorded")
        previous = None
        for name, step in steps:
            body = (
                step
                if isinstance(step, exp.Select)
                else exp.select(exp.Star(), *step).from_(previous)
            )
            query = query.with_(f"{p}{name}", as_=body, copy=False)
            previous = f"{p}{name}"
        return query

    def outputs(
        self,
        n_factors: int,
        n_criteria: int,
        lenient: list[str],
        with_states: bool,
        has_scope: bool,
    ) -> list[exp.Expression]:
        p = INTERNAL_PREFIX
        policy = self.policy
        factor_ids = [rule.id for rule in policy.factors]
        gap_ids = [rule.id for rule in policy.recording]
        gaps = [_col(f"{p}g{k}") for k in range(len(gap_ids))]
        factors = [_col(f"{p}f{k}") for k in range(n_factors)]
        status = []
        for k, rule_id in enumerate(gap_ids):
            done = _true(_col(lenient[k]))
            status.append(
                _when(
                    [
                        (exp.and_(_true(gaps[k]), done, copy=False), _text(f"{rule_id}:not_done")),
                        (_true(gaps[k]), _text(f"{rule_id}:not_recorded")),
                    ]
                )
            )
        columns = [
            _alias(_text(policy.label), "policy"),
            _alias(_col(f"{p}outcome"), "guidance_outcome"),
            _alias(self.id_list([_true(f) for f in factors], factor_ids), "aggravating_factors"),
            _alias(self.id_list([_unknown(f) for f in factors], factor_ids), "unknown_factors"),
            _alias(_col(f"{p}experimental"), "experimental"),
            _alias(self.consistency(), "consistency"),
            _alias(self.id_list([_true(g) for g in gaps], gap_ids), "recording_gaps"),
            _alias(self.joined(status), "recording_gap_status"),
            _alias(self.id_list([_unknown(g) for g in gaps], gap_ids), "recording_unknown"),
        ]
        if with_states:
            columns += self.state_columns(n_factors, n_criteria, lenient, has_scope)
        return columns

    def consistency(self) -> exp.Expression:
        """The contract's table: guidance outcome by referred by allowed."""
        p = INTERNAL_PREFIX
        outcome, referred, allowed = _col(f"{p}outcome"), _col(f"{p}referred"), _col(f"{p}allowed")
        refer, handle = (_text(o) for o in contract.OUTCOMES[:2])

        def is_(outcome_code: exp.Expression, *more: exp.Expression) -> exp.Expression:
            return exp.and_(exp.EQ(this=outcome.copy(), expression=outcome_code), *more)

        def c(name: str) -> exp.Literal:
            return _text(name)

        return _when(
            [
                (exp.Is(this=referred.copy(), expression=exp.null()), c("no_decision")),
                (is_(refer, referred.copy()), c("consistent_referral")),
                (is_(refer.copy()), c("under_escalation")),
                (is_(handle, _not(referred.copy())), c("consistent_in_setting")),
                (is_(handle.copy(), allowed.copy()), c("discretionary_referral")),
                (is_(handle.copy(), _not(allowed.copy())), c("over_escalation")),
            ],
            c("unassessable"),
        )

    def state_columns(
        self, n_factors: int, n_criteria: int, lenient: list[str], has_scope: bool
    ) -> list[exp.Expression]:
        p = INTERNAL_PREFIX
        policy = self.policy
        out = []
        for k, rule in enumerate(policy.factors[:n_factors]):
            out.append(_alias(_tri_code(_col(f"{p}f{k}")), states.column("factors", rule.id)))
        for k, rule in enumerate(policy.experimental[:n_criteria]):
            out.append(_alias(_tri_code(_col(f"{p}e{k}")), states.column("experimental", rule.id)))
        for k, rule in enumerate(policy.recording):
            gap, soft, applies = _col(f"{p}g{k}"), _col(lenient[k]), _col(f"{p}a{k}")
            code = _when(
                [
                    (exp.and_(_true(gap), _true(soft)), _small(states.NOT_DONE)),
                    (_true(gap.copy()), _small(states.NOT_RECORDED)),
                    (exp.Is(this=gap.copy(), expression=exp.null()), _small(states.UNSETTLED)),
                    (_true(applies), _small(states.MET)),
                ],
                _small(states.NOT_APPLICABLE),
            )
            out.append(_alias(code, states.column("recording", rule.id)))
        out.append(_alias(_tri_code(_col(f"{p}experimental")), states.EXPERIMENTAL))
        out.append(_alias(_tri_code(_col(f"{p}referred")), states.REFERRED))
        out.append(_alias(_tri_code(_col(f"{p}allowed")), states.ALLOWED))
        if has_scope:
            out.append(_alias(_tri_code(_col(f"{p}scope")), states.IN_SCOPE))
        return out

    # ------------------------------------------------------------- id lists

    def id_list(self, conditions: list[exp.Expression], ids: list[str]) -> exp.Expression:
        """The ids whose condition holds, `;`-joined in policy order ('' when none)."""
        return self.joined([_when([(c, _text(i))]) for c, i in zip(conditions, ids, strict=True)])

    def joined(self, pieces: list[exp.Expression]) -> exp.Expression:
        """Join the non-NULL pieces with `;`, as each dialect can."""
        if not pieces:
            return _text("")
        separator = _text(SEPARATOR)
        if self.dialect == "bigquery":
            # No CONCAT_WS, and a NULL in ARRAY_TO_STRING's array is dropped by BigQuery
            # but kept as an empty entry by others reading the query: each piece carries
            # its own leading separator instead, and the first is cut off.
            led = [_led(piece) for piece in pieces]
            return exp.Substring(this=exp.Concat(expressions=led), start=exp.Literal.number(2))
        if self.dialect == "snowflake":
            compact = exp.Anonymous(this="ARRAY_CONSTRUCT_COMPACT", expressions=pieces)
            return exp.Anonymous(this="ARRAY_TO_STRING", expressions=[compact, separator])
        # coalesce=True: the pieces that are NULL are skipped (as these dialects do)
        return exp.ConcatWs(expressions=[separator, *pieces], coalesce=True)


def _led(piece: exp.Expression) -> exp.Expression:
    """`CASE WHEN c THEN 'id' END` as `CASE WHEN c THEN ';id' ELSE '' END`."""
    led = piece.copy()
    for when in led.args["ifs"]:
        when.set("true", _text(SEPARATOR + when.args["true"].this))
    return led.else_(_text(""), copy=False)


def _unknown(value: exp.Expression) -> exp.Expression:
    return exp.Is(this=value.copy(), expression=exp.null())


def _small(value: int) -> exp.Expression:
    return exp.cast(exp.Literal.number(value), exp.DataType.build("TINYINT"))


def _tri_code(value: exp.Expression) -> exp.Expression:
    """0 absent, 1 present, 2 unknown (`states.TRI`)."""
    return _when(
        [(value, _small(states.PRESENT)), (_not(value.copy()), _small(states.ABSENT))],
        _small(states.UNKNOWN),
    )
