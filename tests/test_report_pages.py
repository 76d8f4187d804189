"""The report set, end to end: papermill runs, offline pages checked in real Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit.reports.html import outside_references
from ypsi_audit.reports.runner import REPORTS, run_report

SAMPLE = Path(__file__).parent.parent / "data" / "samples" / "sample_trust_log.csv"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    messages: list[str] = []
    run = run_report(SAMPLE, out, progress=messages.append)
    assert run.ok, run.statuses
    assert any("Running the escalation report" in m for m in messages)
    return out


def test_every_report_writes_its_files(report_set: Path) -> None:
    for name in REPORTS:
        assert (report_set / f"{name}.ipynb").is_file()
        page = (report_set / f"{name}.html").read_text()
        assert outside_references(page) == []
        assert "<script" not in page.lower()
        assert 'class="dataframe"' not in page and "&lt;NA&gt;" not in page  # no raw frames
        assert len(page) < 5_000_000
    tables = sorted((report_set / "tables").glob("*.csv"))
    assert len(tables) >= 8
    for table in tables:
        frame = pd.read_csv(table, dtype=str, keep_default_na=False)
        counts = [c for c in frame.columns if c.startswith("n_")]
        if not counts:  # a table of estimates only: no whole numbers under another name
            whole = [c for c in frame.columns if frame[c].str.fullmatch(r"\d+").all()]
            assert not whole, f"{table.name}: counts {whole} not named n_..."
        for column in counts:  # hidden counts are 'c'; no count from 1 to 4 is published
            values = frame[column][frame[column] != "c"]
            assert not values.astype(float).between(1, 4).any(), (table.name, column)
    cases = pd.read_csv(report_set / "cases_for_review_trust_lead.csv")
    assert cases["Priority"].iloc[0] == 1 and cases["Priority"].is_monotonic_increasing
    assert (report_set / "cases_for_review_trust_lead.xlsx").is_file()
    manifest = json.loads((report_set / "manifest.json").read_text())
    assert (
        manifest["rows"]["read"] == manifest["rows"]["assessed"] + manifest["rows"]["quarantined"]
    )
    assert manifest["policy"]["label"] == "cheshire-quick-guide@2"
    assert all(s["status"] == "ok" for s in manifest["notebooks"].values())
    assert len(manifest["input"]["sha256"]) == 64


def test_no_incident_ids_reach_a_page(report_set: Path) -> None:
    ids = pd.read_csv(SAMPLE, usecols=["incident_id"])["incident_id"].tolist()
    for name in REPORTS:
        page = (report_set / f"{name}.html").read_text()
        assert not [i for i in ids if i in page]


def test_pages_render_offline_in_chromium(report_set: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: .ci/run installs it"
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        for name in REPORTS:
            page = browser.new_page()
            outside: list[str] = []

            def block(route, request, outside=outside):
                if request.url.startswith(("file:", "data:")):
                    return route.continue_()
                outside.append(request.url)
                return route.abort()

            page.route("**/*", block)
            page.goto((report_set / f"{name}.html").as_uri())
            page.wait_for_load_state("load")
            assert outside == [], (name, outside)
            charts = page.locator("figure.ypsi-chart svg")
            assert charts.count() >= 1, name
            for index in range(charts.count()):  # each chart has drawn marks and a text
                svg = charts.nth(index)
                assert svg.locator("path, rect, circle, line, text").count() > 5
                label = svg.locator("xpath=..").get_attribute("aria-label")
                assert label and len(label) > 20
            text = page.inner_text("body")
            assert "Summary." in text and "Error loading" not in text
            page.screenshot(path=str(report_set / f"{name}.png"), full_page=True)
            page.close()
        browser.close()


def test_same_input_same_tables_byte_for_byte(report_set: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert run_report(SAMPLE, again, progress=lambda _: None).ok
    first = sorted(p.name for p in (report_set / "tables").glob("*.csv"))
    assert first == sorted(p.name for p in (again / "tables").glob("*.csv"))
    for name in first:
        assert (report_set / "tables" / name).read_bytes() == (again / "tables" / name).read_bytes()


def test_a_failing_notebook_keeps_its_partial_output(tmp_path: Path, monkeypatch) -> None:
    import nbformat as nbf

    from ypsi_audit.reports import runner

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.metadata["language_info"] = {"name": "python"}
    parameters = nbf.v4.new_code_cell("threshold = 5")
    parameters.metadata["tags"] = ["parameters"]
    book.cells = [
        parameters,
        nbf.v4.new_code_cell("print('first part done')"),
        nbf.v4.new_code_cell("raise ValueError('the analysis broke')"),
    ]
    nbf.write(book, notebooks / "broken.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
    run = run_report(SAMPLE, tmp_path / "out", reports=("broken",), progress=lambda _: None)
    status = run.statuses["broken"]
    assert not run.ok and status["status"] == "failed" and status["error"] == "ValueError"
    partial = (tmp_path / "out" / "broken.ipynb").read_text()
    assert "first part done" in partial and "the analysis broke" in partial
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert '"status": "failed"' in manifest


def test_no_suppression_is_recorded_and_announced(tmp_path: Path) -> None:
    run = run_report(SAMPLE, tmp_path, suppression=False, progress=lambda _: None)
    assert run.ok, run.statuses  # every notebook also runs with nothing hidden
    for name in REPORTS:
        assert "small numbers are NOT hidden" in (tmp_path / f"{name}.html").read_text()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["disclosure"] == {"suppression": False, "threshold": None}
    for table in (tmp_path / "tables").glob("*.csv"):
        values = pd.read_csv(table, dtype=str).filter(like="n_").to_numpy().ravel().tolist()
        assert "c" not in values, table.name
