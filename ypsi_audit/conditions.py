"""The condition language of policy files: parse, check against the contract, evaluate.

A condition is a small YAML tree. Branches combine conditions; leaves test one column:

    all: [...]            every part holds (Kleene and)
    any: [...]            some part holds (Kleene or)
    not: {...}            the part does not hold
    first_recorded: [...] the first part the record can decide; later parts only where
                          the earlier ones are unknown ("the flag, or where blank, ...")
    always: true|false    a constant (a referral every policy allows, say)

    column: NAME          a contract column (or, in recording rules, a derived value)
    minus: NAME           optional, whole-number columns: test NAME's value subtracted
    <operator>: OPERAND   exactly one of the operators below

Operators, and what a blank value gives:

    is: VALUE             true / false / a code / blank        blank: unknown (except `is: blank`)
    is_not: VALUE         recorded as something else, or blank  blank: counts as "not" (definite)
    one_of: [CODES]       the code is one of these             blank: unknown
    less_than, at_most,   compare a whole number or a level    blank: unknown
    at_least, greater_than

An operand may be a literal or `{param: NAME}`, a parameter declared by the policy.
`is_not` is the only operator for which a blank is an answer; recording requirements
use it because a step that was not written down was not shown to be done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import contract
from .errors import PolicyError, closest
from .tristate import Tri, all_of, any_of, pack

BRANCHES = ("all", "any", "not", "first_recorded")
OPERATORS = ("is", "is_not", "one_of", "less_than", "at_most", "at_least", "greater_than")
COMPARISONS = {
    "less_than": np.less,
    "at_most": np.less_equal,
    "at_least": np.greater_equal,
    "greater_than": np.greater,
}
LEAF_KEYS = ("column", "minus", *OPERATORS)


@dataclass(frozen=True)
class Param:
    name: str


@dataclass(frozen=True)
class ParamSpec:
    """A policy parameter: a whole number in a range, or a level of an ordinal column."""

    name: str
    type: str  # "int" or "level"
    default: Any
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    of: str | None = None  # for levels: the ordinal column whose codes are allowed
    fixed: str | None = None  # why the guidance fixes it (law, say): not a trust's choice

    def check(self, value: Any, where: str) -> Any:
        """Return the value in canonical form, or raise PolicyError saying what is allowed."""
        if self.type == "int":
            try:
                if isinstance(value, bool | float | list | dict):
                    raise ValueError
                number = int(str(value).strip())
            except ValueError:
                raise PolicyError(
                    where, f"parameter {self.name} must be a whole number, not '{value}'"
                ) from None
            low = self.minimum if self.minimum is not None else -(10**9)
            high = self.maximum if self.maximum is not None else 10**9
            if not low <= number <= high:
                raise PolicyError(
                    where, f"parameter {self.name} must be between {low} and {high}, not {number}"
                )
            return number
        levels = contract.BY_NAME[self.of].codes
        text = str(value).strip().lower()
        if text not in levels:
            suggestion = closest(text, levels)
            hint = (
                f"did you mean '{suggestion}'?" if suggestion else "use one of " + ", ".join(levels)
            )
            raise PolicyError(where, f"parameter {self.name} cannot be '{value}'; {hint}")
        return text


@dataclass(frozen=True)
class Leaf:
    column: str
    op: str
    operand: Any
    minus: str | None = None

    def evaluate(self, ctx: Record, lenient: bool = False) -> Tri:
        """The test on every row; `lenient` counts a blank as done (see `evaluate_both`)."""
        strict, soft = self.evaluate_both(ctx)
        return soft if lenient else strict

    def evaluate_both(self, ctx: Record) -> tuple[Tri, Tri]:
        """(strict, lenient): the same Tri twice unless a blank decides the test.

        Lenient counts a blank as done, so recording rules can tell a step recorded as
        not done from one not recorded: `is_not` fires only on a recorded other value,
        and `is: blank` never holds.
        """
        if self.op == "is_not":
            hit = self._test(ctx).tp
            soft = ~(hit | ctx.blank(self.column))
            return Tri.decided(~hit, ctx.n), Tri.decided(soft, ctx.n)
        if self.op == "is" and self.operand == "blank":
            return Tri.decided(ctx.blank(self.column), ctx.n), Tri.constant(False, ctx.n)
        value = self._test(ctx)
        return value, value

    def _test(self, ctx: Record) -> Tri:
        """The test with a blank value unknown; `is_not` is tested as `is` (and negated
        by `evaluate_both`)."""
        if self.operand == "blank":
            return Tri.decided(ctx.blank(self.column), ctx.n)
        kind = ctx.kind(self.column)
        if kind == "bool":
            value = ctx.tri(self.column)
            return value if self.operand is True else ~value
        if self.op in ("is", "is_not", "one_of"):
            wanted = [self.operand] if self.op in ("is", "is_not") else list(self.operand)
            codes, levels = ctx.codes(self.column)
            hit = _code_in(codes, [levels.index(w) for w in wanted])
            return Tri.of(hit, ~hit & (codes >= 0))
        compare = COMPARISONS[self.op]
        operand = ctx.resolve(self.operand)
        if kind == "ordinal":
            codes, levels = ctx.codes(self.column)
            known = codes >= 0
            hit = compare(codes, levels.index(operand))
        else:
            values, known = ctx.ints(self.column)
            if self.minus is not None:
                other, other_known = ctx.ints(self.minus)
                values, known = values - other, known & other_known
            hit = compare(values, operand)
        return Tri.of(hit & known, ~hit & known)

    def columns(self) -> set[str]:
        return {self.column} | ({self.minus} if self.minus else set())

    def params(self) -> set[str]:
        """The policy parameters this test reads (so a sweep knows what to redo)."""
        return {self.operand.name} if isinstance(self.operand, Param) else set()


@dataclass(frozen=True)
class Branch:
    kind: str
    parts: tuple[Node, ...]

    def evaluate(self, ctx: Record, lenient: bool = False) -> Tri:
        return self.combine([p.evaluate(ctx, lenient) for p in self.parts])

    def evaluate_both(self, ctx: Record) -> tuple[Tri, Tri]:
        """(strict, lenient) as for `Leaf.evaluate_both`, each leaf tested once; the
        lenient answer is combined separately only where some part differs."""
        pairs = [p.evaluate_both(ctx) for p in self.parts]
        strict = self.combine([s for s, _ in pairs])
        if all(s is soft for s, soft in pairs):
            return strict, strict
        return strict, self.combine([soft for _, soft in pairs])

    def combine(self, values: list[Tri]) -> Tri:
        """The branch's answer from its parts' answers."""
        if self.kind == "all":
            return all_of(values)
        if self.kind == "any":
            return any_of(values)
        if self.kind == "not":
            return ~values[0]
        out = values[0]
        for value in values[1:]:
            out = out.otherwise(value)
        return out

    def columns(self) -> set[str]:
        return set().union(*(p.columns() for p in self.parts))

    def params(self) -> set[str]:
        return set().union(*(p.params() for p in self.parts))


@dataclass(frozen=True)
class Constant:
    """`always: true` or `always: false`: the same definite answer on every row."""

    value: bool

    def evaluate(self, ctx: Record, lenient: bool = False) -> Tri:
        return Tri.constant(self.value, ctx.n)

    def evaluate_both(self, ctx: Record) -> tuple[Tri, Tri]:
        value = self.evaluate(ctx)
        return value, value

    def columns(self) -> set[str]:
        return set()

    def params(self) -> set[str]:
        return set()


Node = Leaf | Branch | Constant


def _code_in(codes: np.ndarray, wanted: list[int]) -> np.ndarray:
    """Where the codes are one of `wanted`: a comparison per code (blank, -1, never
    matches), much cheaper than np.isin's sort on small integer codes."""
    hit = codes == wanted[0]
    for code in wanted[1:]:
        hit |= codes == code
    return hit


class Record:
    """The columns of one frame as NumPy arrays, converted once and shared by all rules."""

    def __init__(
        self,
        arrays: Callable[[str], Any],
        n: int,
        params: Mapping[str, Any],
        derived: Mapping[str, Any] | None = None,
    ) -> None:
        self._arrays = (
            arrays  # column name -> Tri (booleans) | ("codes", codes) | ("int", v, known)
        )
        self.n = n
        self.params = dict(params)
        self.derived = dict(derived or {})
        self._cache: dict[str, Any] = {}
        self._implied: dict[str, Tri] = {}

    def kind(self, column: str) -> str:
        spec = contract.BY_NAME.get(column) or contract.DERIVED[column]
        return spec.kind

    def _get(self, column: str) -> Any:
        if column in self.derived:
            return self.derived[column]
        if column not in self._cache:
            self._cache[column] = self._arrays(column)
        return self._cache[column]

    def tri(self, column: str) -> Tri:
        if column in self._implied:
            return self._implied[column]
        tri = self._get(column)
        spec = contract.BY_NAME.get(column)
        if spec is not None and spec.parent is not None:
            # A follow-up left blank after its event did not happen is a "no".
            tri = Tri(tri.tp, tri.fp | (self.tri(spec.parent).fp & tri.up), tri.n)
        self._implied[column] = tri
        return tri

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        value = self._get(column)
        spec = contract.BY_NAME.get(column) or contract.DERIVED[column]
        return value[1], list(spec.codes)

    def ints(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        value = self._get(column)
        return value[1], value[2]

    def blank(self, column: str) -> np.ndarray:
        """Packed: where the record itself is blank (before any follow-up is implied)."""
        kind = self.kind(column)
        if kind == "bool":
            return self._get(column).up
        if kind in ("category", "ordinal"):
            return pack(self.codes(column)[0] < 0)
        return pack(~self.ints(column)[1])

    def resolve(self, operand: Any) -> Any:
        return self.params[operand.name] if isinstance(operand, Param) else operand


# ---------------------------------------------------------------------------- parsing


def parse(
    tree: Any,
    *,
    path: str,
    rule: str,
    params: Mapping[str, ParamSpec],
    allow_derived: bool = False,
    definitions: Mapping[str, Any] | None = None,
) -> Node:
    """Turn a YAML condition into nodes, checking every name against the contract.

    `{use: NAME}` stands for a named definition shared between policies, parsed here as
    if it were written in place, so it is checked against this policy's parameters.
    """
    return _Parser(path, rule, params, allow_derived, definitions or {}).node(tree)


class _Parser:
    def __init__(
        self,
        path: str,
        rule: str,
        params: Mapping[str, ParamSpec],
        allow_derived: bool,
        definitions: Mapping[str, Any],
    ) -> None:
        self.path, self.rule, self.params = path, rule, params
        self.definitions = definitions
        self.using: list[str] = []
        self.columns = dict(contract.BY_NAME)
        if allow_derived:
            self.columns.update(contract.DERIVED)

    def fail(self, problem: str) -> PolicyError:
        return PolicyError(self.path, problem, rule=self.rule)

    def suggest(self, word: Any, choices: Any, what: str) -> PolicyError:
        best = closest(str(word), choices)
        hint = f"; did you mean '{best}'?" if best else ""
        return self.fail(f"unknown {what} '{word}'{hint}")

    def node(self, tree: Any) -> Node:
        if not isinstance(tree, dict) or not tree:
            raise self.fail("a condition must be a mapping such as {column: ..., is: true}")
        if "use" in tree:
            return self.use(tree)
        if "always" in tree:
            if len(tree) != 1 or not isinstance(tree["always"], bool):
                raise self.fail("'always' stands alone and takes true or false")
            return Constant(tree["always"])
        branch = [k for k in tree if k in BRANCHES]
        if branch:
            return self.branch(tree, branch[0])
        if "column" in tree:
            return self.leaf(tree)
        key = next(iter(tree))
        raise self.suggest(key, (*BRANCHES, *LEAF_KEYS, "always"), "operator")

    def use(self, tree: dict) -> Node:
        name = tree["use"]
        if len(tree) != 1:
            raise self.fail("'use' stands alone: {use: NAME}")
        if name not in self.definitions:
            raise self.suggest(name, self.definitions, "shared definition")
        if name in self.using:
            raise self.fail(f"shared definition {name} refers to itself")
        self.using.append(name)
        try:
            return self.node(self.definitions[name])
        finally:
            self.using.pop()

    def branch(self, tree: dict, kind: str) -> Branch:
        if len(tree) != 1:
            extra = next(k for k in tree if k != kind)
            raise self.fail(f"'{kind}' cannot be combined with '{extra}' in one condition")
        body = tree[kind]
        if kind == "not":
            return Branch(kind, (self.node(body),))
        if not isinstance(body, list) or not body:
            raise self.fail(f"'{kind}' needs a non-empty list of conditions")
        return Branch(kind, tuple(self.node(part) for part in body))

    def leaf(self, tree: dict) -> Leaf:
        for key in tree:
            if key not in LEAF_KEYS:
                raise self.suggest(key, (*BRANCHES, *LEAF_KEYS), "operator")
        ops = [k for k in tree if k in OPERATORS]
        if len(ops) != 1:
            raise self.fail(f"column {tree['column']} needs exactly one operator, found {len(ops)}")
        column, op, operand = str(tree["column"]), ops[0], tree[ops[0]]
        spec = self.column(column)
        minus = tree.get("minus")
        if minus is not None:
            other = self.column(str(minus))
            if spec.kind != "int" or other.kind != "int":
                raise self.fail(f"'minus' works only between whole-number columns, not {column}")
        operand = self.operand(spec, op, operand)
        return Leaf(column, op, operand, None if minus is None else str(minus))

    def column(self, name: str) -> contract.Column:
        if name not in self.columns:
            raise self.suggest(name, self.columns, "column")
        return self.columns[name]

    def operand(self, spec: contract.Column, op: str, operand: Any) -> Any:
        if op in ("is", "is_not"):
            if operand == "blank":
                return operand
            if spec.kind == "bool":
                if not isinstance(operand, bool):
                    raise self.fail(f"{spec.name} is true/false; '{op}' takes true, false or blank")
                return operand
            return self.code(spec, operand)
        if op == "one_of":
            if spec.kind not in ("category", "ordinal") or not isinstance(operand, list):
                raise self.fail(
                    f"'one_of' takes a list of codes of a category column ({spec.name})"
                )
            return tuple(self.code(spec, item) for item in operand)
        # comparisons
        if spec.kind not in ("int", "ordinal"):
            raise self.fail(f"'{op}' compares numbers or levels; {spec.name} is {spec.kind}")
        if isinstance(operand, dict):
            name = operand.get("param")
            if set(operand) != {"param"} or name not in self.params:
                raise self.suggest(name, self.params, "parameter")
            param = self.params[name]
            if spec.kind == "ordinal" and (param.type != "level" or param.of != spec.name):
                raise self.fail(f"parameter {name} is not a level of {spec.name}")
            if spec.kind == "int" and param.type != "int":
                raise self.fail(f"parameter {name} is not a whole number")
            return Param(name)
        if spec.kind == "ordinal":
            return self.code(spec, operand)
        if isinstance(operand, bool) or not isinstance(operand, int):
            raise self.fail(f"'{op}' on {spec.name} needs a whole number, not '{operand}'")
        return operand

    def code(self, spec: contract.Column, value: Any) -> str:
        if spec.kind not in ("category", "ordinal") or value not in spec.codes:
            if spec.kind not in ("category", "ordinal"):
                raise self.fail(f"{spec.name} has no codes; cannot test it against '{value}'")
            raise self.suggest(value, spec.codes, f"code for {spec.name}")
        return str(value)
