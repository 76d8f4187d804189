"""A report set is whole or absent, owner-only, and the same for the same input
(issue 11 items 5 and 10)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ypsi_audit import resources
from ypsi_audit.cli import main
from ypsi_audit.outputs import Inputs
from ypsi_audit.reports.folder import FolderRefused, check_target, is_our_set

SAMPLE = str(resources.sample_log())


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_set_is_ours_and_whole(sample_report: Path) -> None:
    assert is_our_set(sample_report)
    manifest = json.loads((sample_report / "manifest.json").read_text())
    listed = set(manifest["files"])
    present = set(_files(sample_report)) - {"manifest.json"}
    assert listed == present
    for name in ("index.html", "escalation.html", "recording.html", "fairness.html",
                 "data_quality.html", "tables/README.csv"):  # fmt: skip
        assert name in listed
    assert not any(name.startswith("work/") for name in listed)  # incident rows stay private
    assert manifest["written_by"] == "ypsi-audit" and manifest["audience"] == "internal"


def test_identical_runs_give_identical_files(sample_report: Path, tmp_path: Path) -> None:
    from conftest import _run

    again = _run(tmp_path / "again")
    first, second = _files(sample_report), _files(again)
    assert set(first) == set(second)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == ["manifest.json"], differ
    one = json.loads(first["manifest.json"])
    two = json.loads(second["manifest.json"])
    for key in ("run_id", "created_utc", "input", "out"):
        one.pop(key, None)
        two.pop(key, None)
    assert one == two  # only the run id, the time and where files were differ


def test_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "set"
    code = (
        "import os, sys; os.umask(0); from ypsi_audit.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "report", SAMPLE, "--out", str(out), "--period", "2024-25"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "set"]
    assert leftovers == [], leftovers  # no kernel folder, no partial set, no lock


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "set"
    lock = tmp_path / ".set.ypsi-lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        code = main(["report", SAMPLE, "--out", str(out)])
    assert code == 5
    assert "another ypsi-audit run is writing this folder now" in capsys.readouterr().err
    assert not out.exists()


def test_a_failed_run_leaves_nothing_and_an_earlier_set_intact(
    sample_report: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import shutil

    out = tmp_path / "set"
    shutil.copytree(sample_report, out)
    before = _files(out)
    from ypsi_audit.reports.pages import data_quality

    def broken(ctx: object) -> None:  # a page that fails half way
        raise RuntimeError("boom")

    monkeypatch.setattr(data_quality, "build", broken)
    code = main(["report", SAMPLE, "--out", str(out)])
    assert code == 70  # an internal error, said in one line
    assert "internal error (RuntimeError)" in capsys.readouterr().err
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["set"]


def test_a_killed_run_leaves_no_report_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "set"
    process = subprocess.Popen(
        [sys.executable, "-m", "ypsi_audit.cli", "report", SAMPLE, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".set.*.partial/work/pages/*.json")):
        time.sleep(0.2)
    assert list(tmp_path.glob(".set.*.partial")), "the run never started staging"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not out.exists()  # nothing that looks like a report
    assert main(["report", SAMPLE, "--out", str(out), "--period", "2024-25"]) == 0
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ypsi-kernels"))
    assert left == ["set"], left


def test_a_folder_of_someone_else_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FolderRefused, match="not a report set of ours"):
        check_target(out, Inputs.of(SAMPLE))
    inside = tmp_path / "holds"
    inside.mkdir()
    log = inside / "log.csv"
    log.write_bytes(Path(SAMPLE).read_bytes())
    with pytest.raises(FolderRefused, match="holds one of this run's inputs"):
        check_target(inside, Inputs.of(log))
    with pytest.raises(FolderRefused, match="that is a file"):
        check_target(log, Inputs.of(SAMPLE))


# ---------------------------------------------------------------------------- no incidents


def _exact(ledger) -> dict:
    """A publication's protection that shows every count as it is (the wording, not the
    noise, is under test; the real protection is tested in test_protect.py)."""
    import pandas as pd

    return {
        name: (t.true.astype(float), pd.DataFrame("", index=t.true.index, columns=t.true.columns))
        for name, t in ledger.tables.items()
    }


def _front_and_pages(**options) -> tuple[str, dict]:
    """The front page (HTML) and every page of a report, built as a run builds them."""
    from ypsi_audit.reports.assessed import AssessedLog
    from ypsi_audit.reports.front import front_page, shell_for
    from ypsi_audit.reports.pages import REGISTRY, build_pages
    from ypsi_audit.reports.spec import RunSpec

    spec = RunSpec.build("report", input=SAMPLE, out="-", **options)
    log = AssessedLog.assess(spec)
    protect = _exact if spec.publication else None
    pages, _ = build_pages(log, spec, list(REGISTRY), protect=protect)
    shell = shell_for(spec, "index", pages, "test", {})
    return front_page(spec, pages, shell), pages


ZERO_OF_ZERO = re.compile(r"\b0 of 0\b|cannot decide 0\b|would refer 0\b|against 0\b|logged 0\b")


@pytest.mark.parametrize(
    "options",
    [
        {"period": "2030-31"},
        {"settings": "S99"},
        {"period": "2030-31", "audience": "publication"},
    ],
    ids=["empty-period", "unknown-setting", "empty-period-publication"],
)
def test_a_selection_without_incidents_says_so_plainly(options: dict) -> None:
    """No "0 of 0": the front page and every page's summary say there is nothing to
    review, beside figures that are all 0; a publication says none are *shown* (a count
    from 1 to 4 is published as 0 or 5)."""
    front, pages = _front_and_pages(**options)
    if options.get("audience") == "publication":
        said = "No incidents are shown for this selection (a count from 1 to 4 is shown as 0 or 5)"
    else:
        said = "There are no incidents for this selection"
    assert f"{said}, so there is nothing to review in this report." in front
    assert "Start with the areas marked below" not in front
    assert not ZERO_OF_ZERO.search(front), ZERO_OF_ZERO.search(front)
    for name, page in pages.items():
        summary = page.section("summary")
        sentences = " ".join(b.text for b in summary.blocks if b.kind == "text")
        assert f"{said}, so there is nothing to review on this page." in sentences, name
        assert not ZERO_OF_ZERO.search(sentences), (name, sentences)
        for block in summary.blocks:  # every figure beside the sentence is nothing
            if block.kind == "figures":
                values = {r["value"] for r in block.rows}
                assert values <= {"0", "none", "none shown", "0 of 40"}, (name, values)
        for headline in page.headlines:
            assert headline.empty and not headline.attention and not headline.look_at, name
            assert headline.status.startswith(said), (name, headline.status)
            assert headline.status in front
    comparison = " ".join(
        b.text for b in pages["escalation"].section("comparison").blocks if b.kind == "text"
    )
    assert f"{said}, so there is nothing to review in this comparison." in comparison
    assert not ZERO_OF_ZERO.search(comparison), comparison
    context = "Figures below from other academic years, if any, are there only as context."
    for name in ("escalation", "recording"):  # these two show other years as context
        texts = " ".join(b.text for b in pages[name].section("summary").blocks)
        assert (context in texts) == bool(options.get("period")), name


def test_a_selection_with_incidents_reads_as_before() -> None:
    front, pages = _front_and_pages(period="2023-24")
    assert "Start with the areas marked below." in front
    assert "nothing to review" not in front
    assert not any(h.empty for page in pages.values() for h in page.headlines)
    for page in pages.values():
        assert "nothing to review" not in " ".join(b.text for b in page.section("summary").blocks)


def test_a_publication_total_shown_as_0_beside_a_part_shown_as_5_is_not_called_empty() -> None:
    """Cell-key noise can show a total of 1 to 4 as 0 and a part of it as 5: then "no
    incidents" would contradict the figure beside it, so the figures are said as they are."""
    import pandas as pd

    from ypsi_audit.reports.ledger import TOTAL

    bumped = {
        ("referrals_by_term", TOTAL, "yes"),
        ("recording_gaps_by_setting", TOTAL, "yes"),
        ("incidents_by_outcome", TOTAL, "insufficient_information"),
    }

    def zero_but_parts(ledger) -> dict:
        out = {}
        for name, t in ledger.tables.items():
            shown = pd.DataFrame(0.0, index=t.true.index, columns=t.true.columns)
            for table, row, col in bumped:
                if table == name:
                    shown.at[row, col] = 5.0
            out[name] = (shown, pd.DataFrame("", index=t.true.index, columns=t.true.columns))
        return out

    from ypsi_audit.reports.assessed import AssessedLog
    from ypsi_audit.reports.front import front_page, shell_for
    from ypsi_audit.reports.pages import REGISTRY, build_pages
    from ypsi_audit.reports.spec import RunSpec

    spec = RunSpec.build("report", input=SAMPLE, out="-", audience="publication")
    log = AssessedLog.assess(spec)
    pages, _ = build_pages(log, spec, list(REGISTRY), protect=zero_but_parts)
    front = front_page(spec, pages, shell_for(spec, "index", pages, "test", {}))
    assert "Start with the areas marked below." in front
    for name in ("escalation", "recording", "data_quality"):
        summary = " ".join(b.text for b in pages[name].section("summary").blocks)
        assert "nothing to review" not in summary, name
        assert not pages[name].headlines[0].empty, name
    recording = " ".join(b.text for b in pages["recording"].section("summary").blocks)
    assert "The number of incidents is shown as 0" in recording
    assert "There are no incidents" not in recording
    assert pages["fairness"].headlines[0].empty  # every count it rests on is shown as 0
