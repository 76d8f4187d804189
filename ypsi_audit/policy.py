"""Policies as versioned YAML files, checked against the data contract before any data.

A policy names its parameters (with defaults and allowed values; a parameter the
guidance fixes in law is declared `fixed` with the reason) and three lists of rules:
aggravating factors, experimental (low-risk) criteria and recording requirements. Every
rule has an id, a title, a plain-English description, the section of the guidance it
comes from, and a condition in the language of `conditions.py`.

A policy also says what counts as a referral (`referral:`): which records show the
setting referred, how pages name the route ("the police", "the police or children's
social care"), and which referrals the guidance allows where no factor requires one.
Optionally it says which incidents the guidance is written for (`scope:`).

A loaded policy keeps its whole document, shared definitions included, so everything
downstream works from the content that made the answers, never from an id looked up
again: `Policy.from_document` rebuilds it exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from . import contract, resources
from .conditions import Node, ParamSpec, parse
from .errors import PolicyError, closest

POLICY_DIR = resources.policy_dir()
DEFAULT_POLICY = "cheshire-quick-guide"

SHARED_DIR = resources.shared_dir()
TOP_KEYS = (
    "id",
    "version",
    "title",
    "source",
    "summary",
    "outcome_rule",
    "uses",
    "definitions",
    "parameters",
    "referral",
    "scope",
    "factors",
    "experimental",
    "recording",
)
REQUIRED_TOP = (
    "id",
    "version",
    "title",
    "source",
    "parameters",
    "referral",
    "factors",
    "experimental",
    "recording",
)
RULE_KEYS = ("id", "title", "guide", "description", "when", "applies")
PARAM_KEYS = ("type", "default", "min", "max", "of", "description", "fixed")
REFERRAL_KEYS = ("route", "referred_when", "allowed_when", "allowed_because")
SCOPE_KEYS = ("title", "outside", "description", "when")
SECTIONS = ("factors", "experimental", "recording")
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    description: str
    guide: str
    condition: Node
    # Recording requirements only: the incidents the requirement is about (all when None),
    # so a report can say how many it applied to, not just how many fell short.
    applies: Node | None = None


@dataclass(frozen=True)
class Referral:
    """What the policy counts as a referral, and which referrals it allows unprompted."""

    route: str  # how pages name it: "the police", "the police or children's social care"
    referred: Node  # three-valued: the record shows a referral / no referral / cannot tell
    allowed: Node  # a referral no factor requires is still the guidance's (the DSL's) choice
    allowed_because: str


@dataclass(frozen=True)
class Scope:
    """The incidents a guidance is written for; pages show the others separately."""

    title: str  # e.g. "incidents with an image"
    outside: str  # e.g. "incidents without an image"
    description: str
    condition: Node


@dataclass(frozen=True)
class Policy:
    id: str
    version: str
    title: str
    source: str
    path: str
    parameters: Mapping[str, ParamSpec]
    referral: Referral
    factors: tuple[Rule, ...]
    experimental: tuple[Rule, ...]
    recording: tuple[Rule, ...]
    summary: str = ""
    scope: Scope | None = None
    # the file's content with its shared definitions inlined: what made the answers
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        """How outputs name the policy: id@version."""
        return f"{self.id}@{self.version}"

    @property
    def digest(self) -> str:
        """SHA-256 of the document, so a manifest names the content, not only the id."""
        text = json.dumps(self.document, sort_keys=True, ensure_ascii=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_document(cls, document: Mapping[str, Any], path: str = "(saved policy)") -> Policy:
        """Rebuild a policy from the document a loaded one carries (a run's saved rows)."""
        return _build(dict(document), path, shared=False)

    def rules(self, section: str) -> tuple[Rule, ...]:
        return getattr(self, section)

    def defaults(self) -> dict[str, Any]:
        return {name: spec.default for name, spec in self.parameters.items()}

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults with the given overrides, each checked against its declaration."""
        values = self.defaults()
        for name, value in (overrides or {}).items():
            if name not in self.parameters:
                best = closest(name, self.parameters)
                hint = f"; did you mean '{best}'?" if best else ""
                known = ", ".join(self.parameters) or "none"
                raise PolicyError(
                    self.path, f"policy {self.id} has no parameter '{name}'{hint} (it has {known})"
                )
            spec = self.parameters[name]
            if spec.fixed and spec.check(value, self.path) != spec.default:
                raise PolicyError(
                    self.path,
                    f"policy {self.id} fixes {name} at {spec.default}: {spec.fixed} A trust "
                    "that reads it otherwise writes its own policy file: copy this file, give "
                    "it a new id, change the value there and pass the file wherever a policy "
                    "is asked for (--policy, or --from and --to)",
                )
            values[name] = spec.check(value, self.path)
        return values


def available_policies() -> list[str]:
    """Ids of the policies shipped with the package."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


def load_policy(policy: str | Path | Policy = DEFAULT_POLICY) -> Policy:
    """A policy by shipped id, or from a YAML file of the user's own."""
    if isinstance(policy, Policy):
        return policy
    return _load(str(policy))


@cache
def _load(name: str) -> Policy:
    path = _locate(name)
    return _build(_read_yaml(path), str(path))


def _read_yaml(path: Path) -> Any:
    """The file through the project's safe loader: a size limit, an alias budget, and one
    line naming the file, line and column for a syntax error (exit 2)."""
    from .yamlfile import load_yaml

    return load_yaml(path, what="policy file")


def _locate(name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise PolicyError(name, "no such policy file")
        return candidate
    shipped = POLICY_DIR / f"{name}.yaml"
    if ID.fullmatch(name) and shipped.is_file():
        return shipped
    ids = available_policies()
    best = closest(name, ids)
    hint = f"did you mean '{best}'?" if best else "shipped policies: " + ", ".join(ids)
    raise PolicyError(name, f"no policy with this id or path; {hint}")


def _build(tree: Any, path: str, *, shared: bool = True) -> Policy:
    if not isinstance(tree, dict):
        raise PolicyError(path, "a policy file must be a YAML mapping with id, version, ...")
    _check_keys(tree, TOP_KEYS, path, None, "top-level key")
    for key in REQUIRED_TOP:
        if key not in tree:
            raise PolicyError(path, f"the policy has no '{key}'")
    for key in ("id", "version", "title", "source"):
        if not isinstance(tree[key], str | int) or isinstance(tree[key], bool):
            raise PolicyError(path, f"'{key}' must be a piece of text")
    if not ID.fullmatch(str(tree["id"])):
        raise PolicyError(path, "'id' may hold lower-case letters, digits, '.', '-' and '_'")
    params = _parameters(tree["parameters"] or {}, path)
    definitions = _definitions(tree.get("definitions") or {}, path)
    if shared:
        definitions = {**_shared_definitions(tree.get("uses") or [], path), **definitions}
    elif tree.get("uses"):
        raise PolicyError(path, "a saved policy carries its definitions; it has no 'uses'")
    sections = {
        section: _rules(tree[section] or [], path, params, section, definitions)
        for section in SECTIONS
    }
    seen: set[str] = set()
    for rules in sections.values():
        for rule in rules:
            if rule.id in seen:
                raise PolicyError(path, "the id is used twice", rule=rule.id)
            seen.add(rule.id)
    if not sections["factors"]:
        raise PolicyError(path, "the policy lists no factors")
    document = {k: v for k, v in tree.items() if k != "uses"}
    document["definitions"] = definitions
    return Policy(
        id=str(tree["id"]),
        version=str(tree["version"]),
        title=str(tree["title"]).strip(),
        source=" ".join(str(tree["source"]).split()),
        path=path,
        parameters=params,
        referral=_referral(tree["referral"], path, params, definitions),
        scope=_scope(tree.get("scope"), path, params, definitions),
        summary=" ".join(str(tree.get("summary", "")).split()),
        document=json.loads(json.dumps(document, default=str)),
        **sections,
    )


def _check_keys(
    tree: dict, allowed: tuple[str, ...], path: str, rule: str | None, what: str
) -> None:
    for key in tree:
        if key not in allowed:
            best = closest(str(key), allowed)
            hint = f"; did you mean '{best}'?" if best else ""
            raise PolicyError(path, f"unknown {what} '{key}'{hint}", rule=rule)


def _text(body: dict, key: str, path: str, where: str, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None:
        if required:
            raise PolicyError(path, f"needs '{key}'", rule=where)
        return ""
    if not isinstance(value, str):
        raise PolicyError(path, f"'{key}' must be a piece of text", rule=where)
    return " ".join(value.split())


def _parameters(tree: Any, path: str) -> dict[str, ParamSpec]:
    if not isinstance(tree, dict):
        raise PolicyError(path, "'parameters' must map each name to its type and default")
    specs: dict[str, ParamSpec] = {}
    for name, body in tree.items():
        where = f"parameter {name}"
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise PolicyError(path, "a parameter name is lower-case letters, digits and _")
        if not isinstance(body, dict):
            raise PolicyError(path, "needs a type and a default", rule=where)
        _check_keys(body, PARAM_KEYS, path, where, "key")
        kind = body.get("type")
        if kind not in ("int", "level"):
            raise PolicyError(path, "type must be 'int' or 'level'", rule=where)
        of = body.get("of")
        if kind == "level":
            column = contract.BY_NAME.get(str(of))
            if column is None or column.kind != "ordinal":
                ordinals = [c.name for c in contract.COLUMNS if c.kind == "ordinal"]
                best = closest(str(of), ordinals)
                hint = f"; did you mean '{best}'?" if best else ""
                raise PolicyError(
                    path, f"'of' must name an ordinal column, not '{of}'{hint}", rule=where
                )
        for bound in ("min", "max"):
            value = body.get(bound)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise PolicyError(path, f"'{bound}' must be a whole number", rule=where)
        spec = ParamSpec(
            name=name,
            type=kind,
            default=None,
            description=_text(body, "description", path, where, required=False),
            minimum=body.get("min"),
            maximum=body.get("max"),
            of=None if of is None else str(of),
            fixed=_text(body, "fixed", path, where, required=False) or None,
        )
        if "default" not in body:
            raise PolicyError(path, "has no default", rule=where)
        specs[name] = replace(spec, default=spec.check(body["default"], path))
    return specs


def _definitions(tree: Any, path: str) -> dict[str, Any]:
    if not isinstance(tree, dict) or not all(isinstance(k, str) for k in tree):
        raise PolicyError(path, "'definitions' must map names to conditions")
    return dict(tree)


def _shared_definitions(names: Any, path: str) -> dict[str, Any]:
    """Named conditions from the shared files a policy `uses` (policies/shared/NAME.yaml)."""
    if not isinstance(names, list):
        raise PolicyError(path, "'uses' must list shared definition files")
    known = sorted(p.stem for p in SHARED_DIR.glob("*.yaml"))
    found: dict[str, Any] = {}
    for name in names:
        if not isinstance(name, str) or name not in known:
            best = closest(str(name), known) if isinstance(name, str) else None
            hint = f"; did you mean '{best}'?" if best else f" (there are: {', '.join(known)})"
            raise PolicyError(path, f"'uses' names no shared definitions file of ours{hint}")
        tree = _read_yaml(SHARED_DIR / f"{name}.yaml") or {}
        if not isinstance(tree, dict):
            raise PolicyError(str(SHARED_DIR / f"{name}.yaml"), "must hold 'definitions'")
        found.update(_definitions(tree.get("definitions") or {}, path))
    return found


def _condition(
    body: Any,
    path: str,
    where: str,
    params: Mapping[str, ParamSpec],
    definitions: Mapping[str, Any],
    *,
    derived: bool = False,
) -> Node:
    return parse(
        body,
        path=path,
        rule=where,
        params=params,
        allow_derived=derived,
        definitions=definitions,
    )


def _referral(
    body: Any, path: str, params: Mapping[str, ParamSpec], definitions: Mapping[str, Any]
) -> Referral:
    where = "referral"
    if not isinstance(body, dict):
        raise PolicyError(path, "'referral' must say route, referred_when and allowed_when")
    _check_keys(body, REFERRAL_KEYS, path, where, "key")
    for key in ("referred_when", "allowed_when"):
        if key not in body:
            raise PolicyError(path, f"needs '{key}'", rule=where)
    return Referral(
        route=_text(body, "route", path, where),
        referred=_condition(body["referred_when"], path, where, params, definitions),
        allowed=_condition(body["allowed_when"], path, where, params, definitions),
        allowed_because=_text(body, "allowed_because", path, where),
    )


def _scope(
    body: Any, path: str, params: Mapping[str, ParamSpec], definitions: Mapping[str, Any]
) -> Scope | None:
    if body is None:
        return None
    where = "scope"
    if not isinstance(body, dict) or "when" not in body:
        raise PolicyError(path, "'scope' must give a title, outside, description and when")
    _check_keys(body, SCOPE_KEYS, path, where, "key")
    return Scope(
        title=_text(body, "title", path, where),
        outside=_text(body, "outside", path, where),
        description=_text(body, "description", path, where),
        condition=_condition(body["when"], path, where, params, definitions),
    )


def _rules(
    tree: Any,
    path: str,
    params: dict[str, ParamSpec],
    section: str,
    definitions: dict[str, Any] | None = None,
) -> tuple[Rule, ...]:
    if not isinstance(tree, list):
        raise PolicyError(path, f"'{section}' must be a list of rules")
    rules = []
    for index, body in enumerate(tree, start=1):
        if not isinstance(body, dict) or "id" not in body:
            raise PolicyError(path, f"rule {index} of '{section}' has no id")
        rule_id = body["id"]
        if not isinstance(rule_id, str) or not NAME.fullmatch(rule_id):
            raise PolicyError(
                path, f"rule {index} of '{section}': an id is lower-case letters, digits and _"
            )
        _check_keys(body, RULE_KEYS, path, rule_id, "key")
        for key in ("title", "description", "when"):
            if key not in body:
                raise PolicyError(path, f"the rule has no '{key}'", rule=rule_id)
        recording = section == "recording"
        condition = _condition(
            body["when"], path, rule_id, params, definitions or {}, derived=recording
        )
        applies = None
        if "applies" in body:
            if not recording:
                raise PolicyError(
                    path, "only recording requirements may say when they apply", rule=rule_id
                )
            applies = _condition(
                body["applies"], path, rule_id, params, definitions or {}, derived=True
            )
        rules.append(
            Rule(
                id=rule_id,
                title=_text(body, "title", path, rule_id),
                description=_text(body, "description", path, rule_id),
                guide=_text(body, "guide", path, rule_id, required=False),
                condition=condition,
                applies=applies,
            )
        )
    return tuple(rules)
