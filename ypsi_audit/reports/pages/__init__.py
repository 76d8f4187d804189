"""The report pages: each a module that builds its tables, charts and sentences.

A page module has `NAME`, `TITLE`, `INTRO`, `SECTIONS` (the ids its notebook shows, in
order) and `build(ctx) -> Page`. It reads the assessed incidents and the run
specification from `ctx` and gets every number through `ctx.ledger`. A new page is a
module here, a notebook in `notebooks/` and one line in `REGISTRY`. A module may also
have `follow_up(log, spec, folder)`, which writes incident-level lists for the
safeguarding leads (internal audience only, never into a page).

Building is done in the parent process for all pages at once (`build_pages`), so the
ledger sees every table before anything is composed: for a publication, a first pass
declares the tables, the whole ledger is protected and audited, and a second pass
composes the pages from the protected figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import import_module
from typing import Any

import numpy as np
import pandas as pd

from ... import contract, states
from ..assessed import AssessedLog
from ..ledger import Ledger
from ..page import Page
from ..spec import RunSpec
from ..words import NOT_RECORDED

# page name -> module in this package; the order is the front page's order
REGISTRY: dict[str, str] = {
    "escalation": "escalation",
    "recording": "recording",
    "fairness": "fairness",
    "data_quality": "data_quality",
}
IMPACT_PAGES = {"impact": "impact"}


def module(name: str) -> Any:
    found = {**REGISTRY, **IMPACT_PAGES}.get(name)
    if found is None:
        raise KeyError(f"no page named {name}")
    return import_module(f"{__name__}.{found}")


@dataclass
class Context:
    """What a page builder works from."""

    log: AssessedLog
    spec: RunSpec
    ledger: Ledger
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def current(self) -> np.ndarray:
        """The incidents of the chosen period (all incidents when none was chosen)."""
        return self.log.in_period(self.spec.period)

    @property
    def incidents(self) -> pd.DataFrame:
        return self.ledger.incidents

    @property
    def route(self) -> str:
        return self.log.route

    def add_category(self, name: str, values: Any, categories: Sequence[str]) -> None:
        """Add an incident category a table may count by (e.g. the outcome under another
        policy). Only before the ledger is protected: the audit must see it."""
        if name in self.ledger.incidents.columns:
            return
        if self.ledger.protected:
            raise RuntimeError(f"category {name} must be added before the ledger is protected")
        self.ledger.incidents[name] = pd.Categorical(
            np.asarray(values, dtype=object), categories=list(categories)
        )

    def chart(self, chart: Any) -> str:
        """An Altair chart as SVG, drawn here (the notebooks never import Altair)."""
        import vl_convert as vlc

        return vlc.vegalite_to_svg(chart.to_json())


def _tri_labels(codes: np.ndarray, words: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), list(words))


def incident_frame(log: AssessedLog) -> pd.DataFrame:
    """One row per assessed incident, every column a category a table may count by.

    Blank values are a category of their own ("not recorded"), so every table's cells
    add up to its incidents.
    """
    frame = log.frame
    n = len(frame)

    def category(values: pd.Series, order: Sequence[str]) -> pd.Categorical:
        text = values.astype("string").fillna(NOT_RECORDED).astype(str)
        return pd.Categorical(text, categories=list(dict.fromkeys([*order, NOT_RECORDED])))

    years = log.year.fillna(NOT_RECORDED).astype(str)
    terms = log.term.fillna(NOT_RECORDED).astype(str)
    columns: dict[str, Any] = {
        "setting": pd.Categorical(frame["setting_id"].astype(str)),
        "year": pd.Categorical(years, categories=sorted(set(years))),
        "term": pd.Categorical(terms, categories=["autumn", "spring", "summer", NOT_RECORDED]),
        "consistency": pd.Categorical(
            frame["consistency"].astype(str), categories=list(contract.CONSISTENCY)
        ),
        "outcome": pd.Categorical(
            frame["guidance_outcome"].astype(str), categories=list(contract.OUTCOMES)
        ),
        "referred": _tri_labels(log.tri(states.REFERRED), ("no", "yes", NOT_RECORDED)),
        "decision": category(frame["decision"], contract.BY_NAME["decision"].codes),
        "police_outcome": category(
            frame["police_outcome"], contract.BY_NAME["police_outcome"].codes
        ),
        "experimental": _tri_labels(log.tri(states.EXPERIMENTAL), ("no", "yes", NOT_RECORDED)),
    }
    if log.has_scope:
        columns["in_scope"] = _tri_labels(log.tri(states.IN_SCOPE), ("no", "yes", NOT_RECORDED))
    for rule in log.policy.factors:
        columns[f"factor:{rule.id}"] = _tri_labels(log.state("factors", rule.id), states.TRI)
    gaps = np.zeros(n, dtype=bool)
    for rule in log.policy.recording:
        codes = log.state("recording", rule.id)
        columns[f"requirement:{rule.id}"] = _tri_labels(codes, states.REQUIREMENT)
        gaps |= np.isin(codes, states.SHORT)
    columns["any_gap"] = pd.Categorical(np.where(gaps, "yes", "no"), categories=["yes", "no"])
    for name in ("child_sex", "child_sen", "child_ethnicity_group", "child_looked_after",
                 "child_disadvantaged"):  # fmt: skip
        columns[f"group:{name}"] = _groups(frame, name)
    for name in _factor_fields(log):
        blank = frame[name].isna().to_numpy() if name in frame.columns else np.ones(n, bool)
        columns[f"blank:{name}"] = pd.Categorical(
            np.where(blank, "yes", "no"), categories=["yes", "no"]
        )
    return pd.DataFrame(columns, index=frame.index)


def _groups(frame: pd.DataFrame, column: str) -> pd.Categorical:
    spec = contract.BY_NAME[column]
    values = frame[column]
    if spec.kind == "bool":
        flags = values.astype("boolean")
        text = np.where(flags.fillna(False).to_numpy(bool), "yes", "no").astype(object)
        text[flags.isna().to_numpy()] = NOT_RECORDED
        return pd.Categorical(text, categories=["yes", "no", NOT_RECORDED])
    text = values.astype("string").fillna(NOT_RECORDED).astype(str)
    return pd.Categorical(text, categories=[*spec.codes, NOT_RECORDED])


def _factor_fields(log: AssessedLog) -> list[str]:
    """The contract columns the policy's factors read, in contract order."""
    used: set[str] = set()
    for rule in log.policy.factors:
        used |= rule.condition.columns()
    return [c.name for c in contract.COLUMNS if c.name in used]


def build_pages(
    log: AssessedLog,
    spec: RunSpec,
    names: Sequence[str],
    *,
    protect: Any = None,
    decoy_seed: int = 0,
) -> tuple[dict[str, Page], Ledger]:
    """Every named page from one ledger. With `protect` (publication), the tables are
    declared in a first pass, protected (and audited) whole, and the pages composed from
    the protected figures in a second pass."""
    ledger = Ledger(incident_frame(log), audience=spec.audience, threshold=spec.threshold)
    extra: dict[str, Any] = {}
    if protect is not None:
        for name in names:
            module(name).build(Context(log, spec, ledger, extra))
        ledger.publish_with(protect)
        # From here on a page may only read the ledger: the rows are a decoy, so a number
        # worked out from the data directly would come out wrong (and tests compare two).
        log = decoy(log, decoy_seed)
        ledger.incidents = decoy_frame(ledger.incidents, decoy_seed)
        extra = {}
    pages = {name: module(name).build(Context(log, spec, ledger, extra)) for name in names}
    return pages, ledger


def decoy_frame(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same columns and categories with every column shuffled on its own."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {name: frame[name].to_numpy()[rng.permutation(len(frame))] for name in frame.columns},
        index=frame.index,
    ).astype(frame.dtypes.to_dict())


def decoy(log: AssessedLog, seed: int) -> AssessedLog:
    shuffled = decoy_frame(log.frame, seed)
    shuffled.attrs = dict(log.frame.attrs)
    return AssessedLog(frame=shuffled, policy=log.policy, params=log.params, gate=log.gate)
