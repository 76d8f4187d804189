"""The analyst's explorer (issue 15 item 7): filters by setting, academic year, term and
kind of incident; figures that agree with an independent count; plain English; internal
audience only; and the notebook runs under papermill from a copy of the notebooks folder
without writing a single file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import run_notebook

from ypsi_audit import contract, resources, states, synth
from ypsi_audit.engine import assess
from ypsi_audit.errors import YpsiError
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.explore import FILTERS, Dashboard, Explorer
from ypsi_audit.reports.ledger import TOTAL
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.reports.words import CONSISTENCY_HEADINGS, REQUIREMENT_STATES


def _explorer(policy: str = "cheshire-quick-guide", **options) -> Explorer:
    spec = RunSpec.build("report", input="log.csv", out="out", policy=policy, **options)
    frame = synth.generate(5, 3, seed=21, today=pd.Timestamp("2025-08-31").date())
    rows = assess(frame, spec.policy.policy(), spec.policy.parameters, with_states=True)
    return Explorer.of(AssessedLog.of(rows, {}, spec), spec)


@pytest.fixture(scope="module", params=["cheshire-quick-guide", "ukcis-2024"])
def explorer(request) -> Explorer:
    return _explorer(request.param)


def _raw(explorer: Explorer, **filters: list[str]) -> pd.DataFrame:
    """The rows the filters select, worked out here from the log's own columns."""
    frame = explorer.log.frame
    month = frame["reported_on"].dt.month
    start = frame["reported_on"].dt.year - (month < 9)
    year = start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)
    term = np.select([month >= 9, month >= 5], ["autumn", "summer"], default="spring")
    values = {
        "setting": frame["setting_id"].astype(str),
        "year": year,
        "term": pd.Series(term, index=frame.index),
        "incident_type": frame["incident_type"].astype(str),
    }
    keep = pd.Series(True, index=frame.index)
    for name, chosen in filters.items():
        keep &= values[name].isin(chosen)
    return frame[keep]


FILTER_CASES = [
    {},
    {"setting": ["S02"]},
    {"year": ["2023-24"], "term": ["spring", "summer"]},
    {"setting": ["S01", "S03"], "year": ["2024-25"], "incident_type": ["image_sharing"]},
    {"incident_type": ["online_sexual_contact"], "term": ["autumn"]},
]


@pytest.mark.parametrize("filters", FILTER_CASES, ids=str)
def test_figures_agree_with_an_independent_count(explorer: Explorer, filters: dict) -> None:
    view = explorer.view(**filters)
    rows = _raw(explorer, **filters)
    assert view.selected == len(rows) > 0
    figures = dict(zip(view.figures["What"], view.figures["Number"], strict=True))
    route = explorer.log.route
    consistency = rows["consistency"].astype(str)
    under = int((consistency == "under_escalation").sum())
    assert figures["Not referred, though the guidance says refer"] == f"{under:,}"
    refer = int((rows["guidance_outcome"].astype(str) == "refer_police").sum())
    assert figures[f"The guidance says refer to {route}"] == f"{refer:,}"
    gaps = int((rows["recording_gaps"].astype("string").fillna("") != "").sum())
    assert figures["Incidents with at least one recording gap"] == f"{gaps:,}"
    table = view.tables["Decisions against the guidance, by setting"]
    for setting, group in rows.groupby(rows["setting_id"].astype(str)):
        for code, heading in CONSISTENCY_HEADINGS.items():
            expected = int((group["consistency"].astype(str) == code).sum())
            assert (table.at[setting, heading] if heading in table else 0) == expected
    assert table.at[TOTAL, TOTAL] == len(rows)
    steps = view.tables["Recording and handling steps"]
    for rule in explorer.log.policy.recording:
        codes = rows[states.column("recording", rule.id)].to_numpy()
        for state in ("met", "not_done", "not_recorded", "unsettled"):
            expected = int((codes == states.REQUIREMENT.index(state)).sum())
            assert steps.at[rule.title, REQUIREMENT_STATES[state]] == expected


def test_choices_offer_only_what_the_log_holds(explorer: Explorer) -> None:
    choices = explorer.choices()
    assert list(choices) == list(FILTERS)
    assert [v for _, v in choices["setting"]] == sorted(explorer.log.frame["setting_id"].unique())
    assert [v for _, v in choices["year"]] == explorer.log.years()
    assert [label for label, _ in choices["term"]] == ["Autumn", "Spring", "Summer"]
    assert {label for label, _ in choices["incident_type"]} <= {
        "Image sharing",
        "Online sexual contact",
    }


def test_the_run_period_and_settings_come_first() -> None:
    explorer = _explorer(period="2024-25", settings="S01,S04")
    view = explorer.view()
    rows = _raw(explorer, year=["2024-25"], setting=["S01", "S04"])
    assert view.selected == len(rows) > 0
    assert explorer.view(year=["2023-24"]).selected == 0


def test_no_internal_id_is_shown(explorer: Explorer) -> None:
    view = explorer.view(year=["2024-25"])
    text = json.dumps(
        {
            "figures": view.figures.astype(str).to_numpy().tolist(),
            "tables": [
                [str(t.index.name), *map(str, t.index), *map(str, t.columns)]
                for t in view.tables.values()
            ],
            "charts": [chart.to_dict() for chart in view.charts.values()],
        }
    )
    ids = [rule.id for section in ("factors", "experimental", "recording")
           for rule in explorer.log.policy.rules(section) if "_" in rule.id]  # fmt: skip
    for word in [*ids, *contract.CONSISTENCY, *contract.OUTCOMES, "not_done", "not_recorded"]:
        assert word not in text, word
    assert explorer.log.route in text


def test_the_dashboard_redraws_on_every_change(explorer: Explorer) -> None:
    board = Dashboard(explorer)
    assert board.view is not None and board.view.selected == len(explorer.log.frame)
    setting = board.controls["setting"].options[1][1]
    board.controls["setting"].value = (setting,)
    assert board.view.filters["setting"] == (setting,)
    assert board.view.selected == len(_raw(explorer, setting=[setting]))
    board.controls["term"].value = ("summer",)
    assert board.view.selected == len(_raw(explorer, setting=[setting], term=["summer"]))
    board.controls["setting"].value = ()
    assert board.view.selected == len(_raw(explorer, term=["summer"]))


def test_charts_are_specifications_jupyterlab_draws(explorer: Explorer) -> None:
    """JupyterLab 4 draws Vega-Lite 5 itself; each chart must compile under Vega-Lite 5
    and carry that schema (no chart is rendered in the kernel)."""
    import vl_convert as vlc

    from ypsi_audit.reports.explore import VEGA_LITE_MIME, VEGA_LITE_SCHEMA, lab_spec

    assert VEGA_LITE_MIME == "application/vnd.vegalite.v5+json"
    charts = explorer.view().charts
    assert charts
    for chart in charts.values():
        spec = lab_spec(chart)
        assert spec["$schema"] == VEGA_LITE_SCHEMA
        compiled = vlc.vegalite_to_vega(spec, vl_version="5.20")
        assert compiled["marks"], "a chart that draws nothing"


def test_a_publication_is_refused() -> None:
    spec = RunSpec.build("report", input="log.csv", out="out", audience="publication")
    with pytest.raises(YpsiError, match="internal audience only"):
        Explorer.open(spec.to_json())


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_the_notebook_runs_from_a_copy_and_writes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "notebooks"
    shutil.copytree(resources.notebook_dir(), copy)
    watched = [copy, resources.notebook_dir(), resources.notebook_dir().parent / "reports"]
    before = [_snapshot(folder) for folder in watched]
    executed = tmp_path / "executed" / "explore.ipynb"
    executed.parent.mkdir()
    run_notebook(copy / "explore.ipynb", executed, cwd=copy)
    assert [_snapshot(folder) for folder in watched] == before
    assert sorted(p.name for p in executed.parent.iterdir()) == ["explore.ipynb"]
    cells = {cell["id"]: cell for cell in json.loads(executed.read_text())["cells"]}
    board = cells["dashboard"]["outputs"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in board)
    last = "".join(cells["python"]["outputs"][0]["data"]["text/plain"])
    assert "Incidents selected" in last and "598" in last  # the shipped sample
    assert not [o for c in cells.values() for o in c.get("outputs", []) if o.get("ename")]
