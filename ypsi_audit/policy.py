"""Policies as versioned YAML files, checked against the data contract before any data.

A policy names its parameters (with defaults and allowed values) and three lists of
rules: aggravating factors, experimental (low-risk) criteria and recording requirements.
Every rule has an id, a title, a plain-English description, the section of the guidance
it comes from, and a condition in the language of `conditions.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    "parameters",
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
    "factors",
    "experimental",
    "recording",
)
RULE_KEYS = ("id", "title", "guide", "description", "when", "applies")
PARAM_KEYS = ("type", "default", "min", "max", "of", "description")
SECTIONS = ("factors", "experimental", "recording")


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
class Policy:
    id: str
    version: str
    title: str
    source: str
    path: str
    parameters: Mapping[str, ParamSpec]
    factors: tuple[Rule, ...]
    experimental: tuple[Rule, ...]
    recording: tuple[Rule, ...]
    summary: str = ""

    @property
    def label(self) -> str:
        """How outputs name the policy: id@version."""
        return f"{self.id}@{self.version}"

    def defaults(self) -> dict[str, Any]:
        return {name: spec.default for name, spec in self.parameters.items()}

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults with the given overrides, each checked against its declaration."""
        values = self.defaults()
        for name, value in (overrides or {}).items():
            if name not in self.parameters:
                best = closest(name, self.parameters)
                hint = f"; did you mean '{best}'?" if best else ""
                known = ", ".join(self.parameters)
                raise PolicyError(
                    self.path, f"policy {self.id} has no parameter '{name}'{hint} (it has {known})"
                )
            values[name] = self.parameters[name].check(value, self.path)
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
    try:
        import yaml

        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(str(path), f"cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" near line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(str(path), f"is not valid YAML{line}") from None
    return _build(tree, str(path))


def _locate(name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise PolicyError(name, "no such policy file")
        return candidate
    shipped = POLICY_DIR / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    ids = available_policies()
    best = closest(name, ids)
    hint = f"did you mean '{best}'?" if best else "shipped policies: " + ", ".join(ids)
    raise PolicyError(name, f"no policy with this id or path; {hint}")


def _build(tree: Any, path: str) -> Policy:
    if not isinstance(tree, dict):
        raise PolicyError(path, "a policy file must be a YAML mapping with id, version, ...")
    _check_keys(tree, TOP_KEYS, path, None, "top-level key")
    for key in REQUIRED_TOP:
        if key not in tree:
            raise PolicyError(path, f"the policy has no '{key}'")
    params = _parameters(tree["parameters"] or {}, path)
    definitions = _shared_definitions(tree.get("uses") or [], path)
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
    return Policy(
        id=str(tree["id"]),
        version=str(tree["version"]),
        title=str(tree["title"]),
        source=str(tree["source"]),
        path=path,
        parameters=params,
        summary=str(tree.get("summary", "")),
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


def _parameters(tree: Any, path: str) -> dict[str, ParamSpec]:
    if not isinstance(tree, dict):
        raise PolicyError(path, "'parameters' must map each name to its type and default")
    specs: dict[str, ParamSpec] = {}
    for name, body in tree.items():
        where = f"parameter {name}"
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
        spec = ParamSpec(
            name=str(name),
            type=kind,
            default=None,
            description=str(body.get("description", "")).strip(),
            minimum=body.get("min"),
            maximum=body.get("max"),
            of=None if of is None else str(of),
        )
        if "default" not in body:
            raise PolicyError(path, "has no default", rule=where)
        specs[str(name)] = replace(spec, default=spec.check(body["default"], path))
    return specs


def _shared_definitions(names: Any, path: str) -> dict[str, Any]:
    """Named conditions from the shared files a policy `uses` (policies/shared/NAME.yaml)."""
    import yaml

    if not isinstance(names, list):
        raise PolicyError(path, "'uses' must list shared definition files")
    found: dict[str, Any] = {}
    for name in names:
        file = SHARED_DIR / f"{name}.yaml"
        if not file.is_file():
            known = sorted(p.stem for p in SHARED_DIR.glob("*.yaml"))
            best = closest(str(name), known)
            hint = f"; did you mean '{best}'?" if best else ""
            raise PolicyError(path, f"no shared definitions named '{name}'{hint}")
        tree = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        found.update(tree.get("definitions") or {})
    return found


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
        rule_id = str(body["id"])
        _check_keys(body, RULE_KEYS, path, rule_id, "key")
        for key in ("title", "description", "when"):
            if key not in body:
                raise PolicyError(path, f"the rule has no '{key}'", rule=rule_id)
        condition = parse(
            body["when"],
            path=path,
            rule=rule_id,
            params=params,
            allow_derived=section == "recording",
            definitions=definitions,
        )
        applies = None
        if "applies" in body:
            if section != "recording":
                raise PolicyError(
                    path, "only recording requirements may say when they apply", rule=rule_id
                )
            applies = parse(
                body["applies"],
                path=path,
                rule=rule_id,
                params=params,
                allow_derived=True,
                definitions=definitions,
            )
        rules.append(
            Rule(
                id=rule_id,
                title=str(body["title"]).strip(),
                description=" ".join(str(body["description"]).split()),
                guide=str(body.get("guide", "")).strip(),
                condition=condition,
                applies=applies,
            )
        )
    return tuple(rules)
