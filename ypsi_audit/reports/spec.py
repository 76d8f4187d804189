"""One frozen run specification: everything a report run needs, built once.

The command line (`report`, `impact`) or a schedule job builds a `RunSpec`; the runner,
every page module and every notebook read that one object (notebooks get it as a single
JSON parameter). The policies in it are resolved: their documents and parameter values,
not ids to look up again, so a custom policy file works exactly like a shipped one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import YpsiError

Audience = Literal["internal", "publication"]
AUDIENCES: tuple[str, ...] = ("internal", "publication")
Engine = Literal["pandas", "duckdb"]
ENGINES: tuple[str, ...] = ("pandas", "duckdb")
DEFAULT_MEMORY_LIMIT = "4GB"  # as `duck.DEFAULT_MEMORY_LIMIT` (not imported: it loads DuckDB)
MIN_THRESHOLD = 5  # the smallest count a publication may show; 1 to 4 never leave
MAX_THRESHOLD = 50
PERIOD = re.compile(r"(\d{4})-(\d{2})")
TITLE_LIMIT = 80


class SpecError(YpsiError):
    """An option or schedule field that cannot make a run (exit code 2)."""


@dataclass(frozen=True)
class PolicyRef:
    """A resolved policy: its document and parameter values, and how the user named it."""

    given: str
    label: str
    digest: str
    document: Mapping[str, Any]
    parameters: Mapping[str, Any]

    @classmethod
    def resolve(cls, given: str, params: Mapping[str, Any] | None = None) -> PolicyRef:
        from ..policy import load_policy

        policy = load_policy(given)
        values = policy.resolve_params(params)
        return cls(given, policy.label, policy.digest, dict(policy.document), values)

    def policy(self) -> Any:
        """The Policy object, rebuilt from the document (never reloaded by id)."""
        from ..policy import Policy

        return Policy.from_document(self.document, self.given)

    def describe(self) -> str:
        """The policy's title, with any parameter the trust changed from the file's default."""
        policy = self.policy()
        changed = {k: v for k, v in self.parameters.items() if v != policy.parameters[k].default}
        words = policy.title
        if changed:
            words += " (with " + ", ".join(f"{k} = {v}" for k, v in changed.items()) + ")"
        return words


@dataclass(frozen=True)
class RunSpec:
    """A report or impact run, frozen. `out` is the folder the finished set lands in."""

    command: Literal["report", "impact"]
    input: str
    out: str
    policy: PolicyRef
    compare_with: PolicyRef | None = None  # the other policy (report: a section; impact: --to)
    audience: Audience = "internal"
    threshold: int = MIN_THRESHOLD
    title: str = ""
    period: str | None = None
    settings: tuple[str, ...] | None = None
    mapping: str | None = None
    sheet: str | None = None
    pdf: bool = False
    sweep: tuple[str, tuple[str, ...]] | None = None  # impact: a parameter and its values
    input_sha256: str = ""
    work: str = ""  # set by the runner: the private folder holding the assessed rows
    extra: Mapping[str, Any] = field(default_factory=dict)
    # publication: the trust's cell-key secret file (None: the default, see reports/protect);
    # where it lives is never written into a report set (left out of `to_dict`)
    secret: str | None = None
    # how the log is gated and assessed: in memory (pandas) or out of core (DuckDB, within
    # `memory_limit`); the answers are the same, so neither is part of the stable report id
    engine: Engine = "pandas"
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        command: Literal["report", "impact"],
        *,
        input: str | Path,
        out: str | Path,
        policy: str = "cheshire-quick-guide",
        params: Mapping[str, Any] | None = None,
        compare_with: str | None = None,
        compare_params: Mapping[str, Any] | None = None,
        audience: str = "internal",
        threshold: int | None = None,
        title: str | None = None,
        period: str | None = None,
        settings: Sequence[str] | str | None = None,
        mapping: str | Path | None = None,
        sheet: str | None = None,
        pdf: bool = False,
        sweep: str | None = None,
        secret: str | Path | None = None,
        engine: str = "pandas",
        memory_limit: str | None = None,
    ) -> RunSpec:
        """Check every option and resolve the policies; raise SpecError (one sentence)."""
        engine = check_engine(engine)
        limit = check_memory_limit(memory_limit)
        check_engine_input(engine, mapping=mapping, sheet=sheet)
        chosen = PolicyRef.resolve(policy, params)
        other = None
        if compare_with is not None or (command == "impact" and compare_params):
            other = PolicyRef.resolve(compare_with or policy, compare_params)
        else:  # impact with nothing named (a notebook opened by hand): the other shipped one
            other = _default_comparison(chosen)
        swept = None
        if sweep:
            from ..impact import parse_sweep

            name, values = parse_sweep(sweep)
            policy_object = chosen.policy()
            checked = [policy_object.resolve_params({name: v})[name] for v in values]
            swept = (name, tuple(str(v) for v in checked))
        return cls(
            command=command,
            input=str(input),
            out=str(out),
            policy=chosen,
            compare_with=other,
            audience=check_audience(audience),
            threshold=check_threshold(threshold),
            title=check_title(title),
            period=check_period(period),
            settings=check_settings(settings),
            mapping=None if mapping is None else str(mapping),
            sheet=sheet,
            pdf=bool(pdf),
            sweep=swept,
            secret=None if secret is None else str(secret),
            engine=engine,
            memory_limit=limit,
        )

    def with_(self, **changes: Any) -> RunSpec:
        return replace(self, **changes)

    # ------------------------------------------------------------------ reading

    @property
    def publication(self) -> bool:
        return self.audience == "publication"

    @property
    def route(self) -> str:
        """How the policy in use names a referral: 'the police', 'the police or ...'."""
        return str(self.policy.document.get("referral", {}).get("route", "the police"))

    def report_id(self, versions: Mapping[str, str]) -> str:
        """A reference that is the same for the same input, options and software: pages
        carry it, so identical runs give identical pages."""
        material = json.dumps(
            {"spec": self.to_dict(stable=True), "versions": dict(versions)}, sort_keys=True
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:12]

    # ------------------------------------------------------------------ JSON

    def to_dict(self, *, stable: bool = False) -> dict[str, Any]:
        """Plain data; `stable` leaves out where the files are (not what the run means)."""
        data = asdict(self)
        data.pop("secret", None)  # where the secret lives stays on this machine
        if stable:  # the engine changes how the rows are assessed, never the answers
            for key in ("input", "out", "work", "mapping", "engine", "memory_limit"):
                data.pop(key, None)
            for ref in ("policy", "compare_with"):
                if data.get(ref):
                    data[ref].pop("given", None)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str | Mapping[str, Any]) -> RunSpec:
        data = json.loads(text) if isinstance(text, str) else dict(text)
        data["policy"] = PolicyRef(**data["policy"])
        if data.get("compare_with"):
            data["compare_with"] = PolicyRef(**data["compare_with"])
        if data.get("settings") is not None:
            data["settings"] = tuple(data["settings"])
        if data.get("sweep") is not None:
            name, values = data["sweep"]
            data["sweep"] = (name, tuple(values))
        return cls(**data)


# ---------------------------------------------------------------------------- checks


def check_audience(audience: str) -> Audience:
    if audience not in AUDIENCES:
        raise SpecError(
            f"audience '{audience}' is not one of internal (every figure, for the safeguarding "
            "team) or publication (protected, for boards and anything shared)."
        )
    return audience  # type: ignore[return-value]


def check_threshold(threshold: Any) -> int:
    if threshold is None:
        return MIN_THRESHOLD
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise SpecError(
            f"threshold must be a whole number from {MIN_THRESHOLD} to {MAX_THRESHOLD}."
        )
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise SpecError(
            f"threshold {threshold} is outside {MIN_THRESHOLD} to {MAX_THRESHOLD}: counts from "
            "1 to 4 are never published, so the threshold cannot be lower."
        )
    return threshold


def check_engine(engine: Any) -> Engine:
    if engine is None or engine == "":
        return "pandas"
    if engine not in ENGINES:
        raise SpecError(
            f"engine '{str(engine)[:20]}' is not one of pandas (in memory, the default) or "
            "duckdb (CSV or Parquet logs of any size, out of core)."
        )
    return engine  # type: ignore[return-value]


def check_memory_limit(limit: Any) -> str:
    """DuckDB's memory limit, written like 4GB or 500MB (checked whatever the engine)."""
    if limit is None or limit == "":
        return DEFAULT_MEMORY_LIMIT
    from ..sizes import checked_size

    try:
        return checked_size(str(limit))
    except ValueError:
        raise SpecError(
            f"memory limit '{str(limit)[:20]}' is not a size; write it like 4GB or 500MB."
        ) from None


def check_engine_input(engine: str, *, mapping: Any = None, sheet: Any = None) -> None:
    """The DuckDB engine reads the contract's own CSV or Parquet: no mapping, no sheet."""
    if engine != "duckdb":
        return
    for option, value in (("mapping", mapping), ("sheet", sheet)):
        if value:
            raise SpecError(
                f"the {option} option works with the pandas engine only; leave it out, or use "
                "the pandas engine."
            )


def check_title(title: Any) -> str:
    if title is None:
        return ""
    if not isinstance(title, str):
        raise SpecError("the title must be a piece of text, such as the trust's name.")
    text = " ".join(title.split())
    if len(text) > TITLE_LIMIT:
        raise SpecError(f"the title is longer than {TITLE_LIMIT} characters; shorten it.")
    from ..privacy import looks_personal

    if looks_personal(text):
        raise SpecError("the title looks like it holds personal data; give the trust's name.")
    return text


def check_period(period: Any) -> str | None:
    if period is None or period == "":
        return None
    text = str(period).strip()
    match = PERIOD.fullmatch(text)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise SpecError(f"period '{text[:20]}' is not an academic year; write it like 2024-25.")
    return text


def check_settings(settings: Sequence[str] | str | None) -> tuple[str, ...] | None:
    if settings is None or settings == "":
        return None
    items = settings.split(",") if isinstance(settings, str) else list(settings)
    codes = []
    for item in items:
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise SpecError("settings must be setting codes such as S01,S02.")
        code = str(item).strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
            raise SpecError(
                "settings must be setting codes (letters, digits, '-' and '_'), such as S01,S02."
            )
        codes.append(code)
    if not codes:
        return None
    return tuple(dict.fromkeys(codes))


def _default_comparison(chosen: PolicyRef) -> PolicyRef | None:
    """The first other shipped policy, for a report's comparison section (None when the
    package ships only one)."""
    from ..policy import available_policies

    in_use = chosen.document.get("id")
    others = [p for p in available_policies() if p != in_use]
    return PolicyRef.resolve(others[0]) if others else None
