"""The analyst's explorer (`notebooks/explore.ipynb`): filter the incidents by setting,
academic year, term and kind of incident, and see the internal audience's tables and
charts follow.

It is for restricted internal use, as the internal report set is: every figure is the
true count, small ones included. Every number comes from a ledger of declared count
tables over the one incident frame the pages use (`pages.incident_frame`), with labels
from `words.py` and rule titles from the policy, so the explorer and the pages agree.
It writes nothing anywhere: the log is read and assessed in memory, and the tables and
charts exist only in the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import contract
from ..errors import YpsiError
from .ledger import TOTAL, Ledger
from .measures import UNDER_ESCALATION
from .words import CONSISTENCY_HEADINGS, REQUIREMENT_STATES, TERMS, outcome_labels

FILTERS = {
    "setting": "Settings",
    "year": "Academic years",
    "term": "Terms",
    "incident_type": "Kinds of incident",
}
INCIDENT_TYPES = {
    "image_sharing": "Image sharing",
    "online_sexual_contact": "Online sexual contact",
}
STATE_ORDER = ("met", "not_done", "not_recorded", "unsettled")


@dataclass
class View:
    """What one choice of filters shows: headline figures, tables and charts."""

    filters: dict[str, tuple[str, ...]]
    selected: int
    figures: pd.DataFrame  # label, value
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # caption -> table
    charts: dict[str, Any] = field(default_factory=dict)  # caption -> Altair chart


@dataclass
class Explorer:
    """An assessed log, ready to be filtered. Build it with `Explorer.open`."""

    log: Any  # AssessedLog
    spec: Any  # RunSpec
    incidents: pd.DataFrame

    @classmethod
    def open(cls, spec: Any = None, *, input: str | None = None) -> Explorer:
        """Gate and assess a log in memory: the run specification's (JSON or a RunSpec),
        the `input` given, or the shipped sample. Internal audience only."""
        from .. import resources
        from .assessed import AssessedLog
        from .spec import RunSpec

        if isinstance(spec, str):
            spec = RunSpec.from_json(spec)
        if spec is None:
            source = str(input or resources.sample_log())
            spec = RunSpec.build("report", input=source, out="(explored in the notebook only)")
        elif input is not None:
            spec = spec.with_(input=str(input))
        if spec.publication:
            raise YpsiError(
                "the explorer shows every figure, small ones included, so it is for the "
                "internal audience only; open it with an internal run specification."
            )
        return cls.of(AssessedLog.assess(spec), spec)

    @classmethod
    def of(cls, log: Any, spec: Any) -> Explorer:
        """An explorer over rows already assessed (with their rule states)."""
        from .pages import incident_frame

        incidents = incident_frame(log)
        kinds = log.frame["incident_type"].astype("string").fillna("not recorded")
        codes = [*contract.BY_NAME["incident_type"].codes, "not recorded"]
        incidents["incident_type"] = pd.Categorical(kinds.astype(str).to_numpy(), codes)
        return cls(log=log, spec=spec, incidents=incidents)

    # ------------------------------------------------------------------ filtering

    def choices(self) -> dict[str, list[tuple[str, str]]]:
        """For each filter, the (label, value) pairs it offers: only values the log has."""
        out: dict[str, list[tuple[str, str]]] = {}
        for name in FILTERS:
            column = self.incidents[name]
            present = set(column.astype(str).unique())
            order = [str(c) for c in column.cat.categories if str(c) in present]
            out[name] = [(_choice_label(name, value), value) for value in order]
        return out

    def mask(self, **filters: Sequence[str]) -> np.ndarray:
        """Incidents matching every filter; an empty filter lets everything through.
        The run's own period and settings come first."""
        keep = np.asarray(self.log.in_period(self.spec.period), dtype=bool).copy()
        if self.spec.settings:
            keep &= self.incidents["setting"].astype(str).isin(self.spec.settings).to_numpy()
        for name, values in filters.items():
            if name not in FILTERS:
                raise KeyError(f"no filter named {name}; the filters are {', '.join(FILTERS)}")
            if values:
                keep &= self.incidents[name].astype(str).isin(list(values)).to_numpy()
        return keep

    # ------------------------------------------------------------------ showing

    def view(self, **filters: Sequence[str]) -> View:
        """The tables and charts of the incidents the filters select."""
        where = self.mask(**filters)
        frame = self.incidents.copy()
        frame["period"] = _periods(frame)
        ledger = Ledger(frame, audience="internal")
        route = self.log.route
        chosen = {name: tuple(filters.get(name) or ()) for name in FILTERS}
        selected = ledger.count("selected", caption="incidents selected", where=where)
        decisions = ledger.table(
            "decisions_by_setting",
            caption="Decisions against the guidance, by setting",
            rows="setting",
            cols="consistency",
            where=where,
        )
        by_period = ledger.table(
            "outcome_by_term",
            caption="What the guidance says, by academic year and term",
            rows="period",
            cols="outcome",
            where=where,
        )
        referred = ledger.table(
            "referred", caption="Referred, as the policy counts it", cols="referred", where=where
        )
        gaps = ledger.table("gaps", caption="Incidents with a gap", cols="any_gap", where=where)
        requirements = {
            rule.title: ledger.table(
                f"requirement_{rule.id}",
                caption=rule.title,
                cols=f"requirement:{rule.id}",
                where=where,
            )
            for rule in self.log.policy.recording
        }
        figures = _figures(decisions, by_period, referred, gaps, route)
        view = View(chosen, int(selected.value or 0), figures)
        view.tables["Decisions against the guidance, by setting"] = _decision_table(decisions)
        view.tables["What the guidance says, by academic year and term"] = _outcome_table(
            by_period, route
        )
        view.tables["Recording and handling steps"] = _requirement_table(requirements)
        view.charts = _charts(view.tables, route)
        return view


def _choice_label(name: str, value: str) -> str:
    if name == "incident_type":
        return INCIDENT_TYPES.get(value, value.capitalize())
    if name == "term":
        return value.capitalize()
    return value


def _periods(frame: pd.DataFrame) -> pd.Categorical:
    """Academic year and term as one category, in calendar order."""
    years = [str(y) for y in frame["year"].cat.categories]
    terms = [*TERMS, "not recorded"]
    order = [f"{y} {t}" for y in years for t in terms]
    text = frame["year"].astype(str) + " " + frame["term"].astype(str)
    present = set(text.unique())
    return pd.Categorical(text.to_numpy(), categories=[p for p in order if p in present])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(figure: Any) -> int:
    return int(figure.value or 0)


def _figures(decisions: Any, by_period: Any, referred: Any, gaps: Any, route: str) -> pd.DataFrame:
    rows = [
        ("Incidents selected", decisions.value(TOTAL, TOTAL).text),
        (f"Referred to {route}", referred.value(TOTAL, "yes").text),
        (f"The guidance says refer to {route}", by_period.value(TOTAL, "refer_police").text),
        ("Not referred, though the guidance says refer",
         decisions.value(TOTAL, "under_escalation").text),
        (_sentence(UNDER_ESCALATION.label(route)),
         decisions.share(UNDER_ESCALATION.numerator, UNDER_ESCALATION.denominator).text),
        ("Incidents with at least one recording gap", gaps.value(TOTAL, "yes").text),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["What", "Number"])


def _decision_table(table: Any) -> pd.DataFrame:
    counts = table.frame().astype("Int64")
    counts = counts.loc[:, (counts.loc[TOTAL] > 0) | (counts.columns == TOTAL)]
    counts.columns = [CONSISTENCY_HEADINGS.get(c, c) for c in counts.columns]
    counts.index.name = "Setting"
    return counts


def _outcome_table(table: Any, route: str) -> pd.DataFrame:
    counts = table.frame().astype("Int64")
    labels = outcome_labels(route)
    counts.columns = [labels.get(c, c).capitalize() if c != TOTAL else c for c in counts.columns]
    counts.index.name = "Academic year and term"
    return counts


def _requirement_table(tables: dict[str, Any]) -> pd.DataFrame:
    rows = {}
    for title, table in tables.items():
        rows[title] = {REQUIREMENT_STATES[s]: _number(table.value(TOTAL, s)) for s in STATE_ORDER}
    columns = [REQUIREMENT_STATES[s] for s in STATE_ORDER]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    out.index.name = "Recording requirement"
    return out.astype("Int64")


def _charts(tables: dict[str, pd.DataFrame], route: str) -> dict[str, Any]:
    """Three charts of the tables above (Okabe-Ito colours)."""
    import altair as alt

    from .charts import OKABE_ITO

    decisions = tables["Decisions against the guidance, by setting"]
    long = (
        decisions.drop(index=TOTAL, errors="ignore")
        .drop(columns=TOTAL, errors="ignore")
        .reset_index()
        .melt(id_vars="Setting", var_name="Decision", value_name="Incidents")
    )
    long["Incidents"] = long["Incidents"].astype(float)
    by_setting = (
        alt.Chart(long, title="Decisions against the guidance, by setting")
        .mark_bar()
        .encode(
            x=alt.X("Setting:N", sort=None),
            y=alt.Y("Incidents:Q", stack=True),
            color=alt.Color("Decision:N", scale=alt.Scale(range=list(OKABE_ITO))),
            tooltip=["Setting", "Decision", "Incidents"],
        )
        .properties(width=560, height=260)
    )
    outcomes = tables["What the guidance says, by academic year and term"]
    over_time = (
        outcomes.drop(index=TOTAL, errors="ignore")
        .drop(columns=TOTAL, errors="ignore")
        .reset_index()
        .melt(id_vars="Academic year and term", var_name="Guidance", value_name="Incidents")
    )
    over_time["Incidents"] = over_time["Incidents"].astype(float)
    trend = (
        alt.Chart(over_time, title=f"What the guidance says (refer to {route} or not), by term")
        .mark_line(point=True)
        .encode(
            x=alt.X("Academic year and term:N", sort=None),
            y="Incidents:Q",
            color=alt.Color("Guidance:N", scale=alt.Scale(range=list(OKABE_ITO))),
            tooltip=["Academic year and term", "Guidance", "Incidents"],
        )
        .properties(width=560, height=240)
    )
    steps = tables["Recording and handling steps"]
    short = steps[REQUIREMENT_STATES["not_done"]] + steps[REQUIREMENT_STATES["not_recorded"]]
    gaps = pd.DataFrame({"Step": steps.index, "Incidents": short.astype(float).to_numpy()})
    recording = (
        alt.Chart(gaps, title="Steps not done or not recorded")
        .mark_bar(color=OKABE_ITO[3])
        .encode(y=alt.Y("Step:N", sort="-x"), x="Incidents:Q", tooltip=["Step", "Incidents"])
        .properties(width=480, height=30 * max(len(gaps), 1))
    )
    return {
        "Decisions against the guidance, by setting": by_setting,
        "What the guidance says, by term": trend,
        "Steps not done or not recorded": recording,
    }


# -------------------------------------------------------------------------- widgets


VEGA_LITE_MIME = "application/vnd.vegalite.v5+json"  # what JupyterLab 4 draws
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class Dashboard:
    """Four multiple-choice filters and the view they select, redrawn on every change.
    `widget` is what the notebook displays; `view` is the current View."""

    def __init__(self, explorer: Explorer) -> None:
        import ipywidgets as widgets

        self.explorer = explorer
        self.controls = {
            name: widgets.SelectMultiple(
                options=explorer.choices()[name],
                value=(),
                description=label,
                rows=min(6, max(2, len(explorer.choices()[name]))),
                style={"description_width": "initial"},
                layout=widgets.Layout(width="260px"),
            )
            for name, label in FILTERS.items()
        }
        self.note = widgets.HTML(
            "Choose one or more in each list (Ctrl or Cmd to pick several); none chosen means "
            "all. Internal use only: every figure is shown, small ones included."
        )
        self.output = widgets.Output()
        self.view: View | None = None
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.widget = widgets.VBox(
            [self.note, widgets.HBox(list(self.controls.values())), self.output]
        )
        self.update()

    def filters(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(control.value) for name, control in self.controls.items()}

    def _changed(self, _change: Any) -> None:
        self.update()

    def update(self) -> View:
        """Work out the view for the current filters and draw it into the output area."""
        self.view = self.explorer.view(**self.filters())
        self.output.clear_output(wait=True)
        with self.output:
            show(self.view)
        return self.view


def show(view: View) -> None:
    """Draw a view in the notebook: figures, then each table and chart.

    Charts go to JupyterLab as Vega-Lite specifications, which it draws itself (offline:
    its renderer ships with it). Rendering them to SVG in the kernel with vl-convert left
    the kernel stuck after the cell in about half the runs under papermill. JupyterLab's
    renderer is Vega-Lite 5; these simple charts are written so that it reads them (a
    test compiles each with Vega-Lite 5)."""
    from IPython.display import HTML, Markdown, display

    display(Markdown(f"**{view.selected:,} incidents selected.**"))
    display(HTML(view.figures.to_html(index=False, escape=True)))
    for caption, table in view.tables.items():
        display(Markdown(f"### {caption}"))
        display(HTML(table.to_html(escape=True, na_rep="")))
    for caption, chart in view.charts.items():
        bundle = {VEGA_LITE_MIME: lab_spec(chart), "text/plain": f"Chart: {caption}"}
        display(bundle, raw=True)


def lab_spec(chart: Any) -> dict[str, Any]:
    """A chart's specification as JupyterLab's Vega-Lite 5 renderer takes it."""
    spec = chart.to_dict()
    spec["$schema"] = VEGA_LITE_SCHEMA
    return spec


def dashboard(spec: Any = None, *, input: str | None = None) -> Dashboard:
    """The notebook's one call: open the log and display the filters and the view."""
    from IPython.display import display

    board = Dashboard(Explorer.open(spec, input=input))
    display(board.widget)
    return board
