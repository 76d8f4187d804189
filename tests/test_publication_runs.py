"""Whole publication runs attacked (issue 14): the real `report` command, as the command
line calls it, with `--audience publication` on small and large synthetic trusts, with and
without the generator's plants, checked from the folder it writes: the audit passed and
says so in the manifest, every page says it is the publication version, no table CSV
holds a count from 1 to 4, every setting of a 12-setting trust keeps its place on the
under-escalation funnel, and a run whose secret is refused (or whose pack the audit
refuses) leaves no pack at all and an earlier set as it was.

Each trust is run once per module (a run takes tens of seconds); the seeds are this
file's own."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from ypsi_audit import synth
from ypsi_audit.cli import main
from ypsi_audit.reports.pages.escalation_settings import (
    COULD_BE_ABOVE_PLACE,
    COULD_BE_WITHIN_PLACE,
    PLACES,
)

TODAY = date(2026, 12, 3)
PLANTS = {
    "bias": synth.BiasPlan("child_sen", "true", 0.2),
    "poor_recording": synth.RecordingPlan(("S01", "S02"), 0.6),
}
TRUSTS = {  # name -> (settings, years, plants, seed)
    "3x1+plants": (3, 1, True, 4031),
    "12x1": (12, 1, False, 4121),
    "12x3+plants": (12, 3, True, 4123),
    "40x3": (40, 3, False, 4403),
}
TWELVE = [name for name, (settings, *_) in TRUSTS.items() if settings == 12]
SMALL = range(1, 5)  # the counts a publication never shows
NOT_PLACED_EMPTY = "Not placed: none shown"


def _report(log: Path, out: Path, *more: str) -> int:
    """`ypsi-audit report LOG --out OUT --audience publication ...`, as the command line runs
    it; the exit code."""
    argv = ["report", str(log), "--out", str(out), "--audience", "publication", *more]
    return main(argv)


def _log(folder: Path, name: str) -> Path:
    settings, years, plants, seed = TRUSTS[name]
    frame = synth.generate(settings, years, seed, today=TODAY, **(PLANTS if plants else {}))
    return synth.write_log(frame, folder / f"{name}.csv")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("publication-logs")
    return {name: _log(folder, name) for name in TRUSTS}


@pytest.fixture(scope="module")
def runs(
    logs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, Path]]:
    """Every trust's publication run: its exit code and its report folder."""
    folder = tmp_path_factory.mktemp("publication-runs")
    done = {}
    for name, log in logs.items():
        out = folder / name
        # Each trust has its own secret, as a real one would: once a secret has published,
        # its draw of keys never moves, and these logs share incident ids.
        secret = _secret(folder, name)
        title = f"Synthetic trust {name}"
        done[name] = (_report(log, out, "--title", title, "--secret", str(secret)), out)
    return done


def _secret(folder: Path, name: str) -> Path:
    """A trust's own secret (made by the tool, in an owner-only folder it makes)."""
    return folder / "secrets" / name / "cell-key.secret"


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def _html_table(page: str, caption: str) -> list[dict[str, str]]:
    """The rows of the page's table with this caption, by column heading."""
    start = page.index(f"<caption>{html.escape(caption, quote=False)}</caption>")
    body = page[start : page.index("</table>", start)]
    rows = [
        [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    ]
    heading, *rest = rows
    return [dict(zip(heading, row, strict=True)) for row in rest]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", list(TRUSTS))
def test_the_run_passes_its_audit_and_says_so(name: str, runs: dict) -> None:
    code, out = runs[name]
    assert code == 0
    manifest = _manifest(out)
    disclosure = manifest["disclosure"]
    assert manifest["audience"] == disclosure["audience"] == "publication"
    assert disclosure["passed"] is True and disclosure["failures"] == 0
    assert disclosure["cells_published"] > 0
    assert disclosure["small_counts_could_each_be_at_least"] == 2
    assert "small_counts_protected" not in disclosure  # worked out from the true counts
    assert "narrowest_range_values" not in disclosure
    assert disclosure["method"] == "cell-key perturbation"
    assert not (out / "follow_up").exists()  # no incident-level lists in a publication
    assert manifest["rows"] is None  # exact row counts are counts of incidents


@pytest.mark.parametrize("name", list(TRUSTS))
def test_every_page_names_the_publication_audience(name: str, runs: dict) -> None:
    _, out = runs[name]
    pages = sorted(out.glob("*.html"))
    assert {p.stem for p in pages} >= {"index", *_manifest(out)["pages"]}
    foot = _manifest(out)["disclosure"]["foot"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.split("</title>")[0].endswith("(publication)"), page.name
        shown = re.sub(r"<style.*?</style>", "", text, flags=re.S)  # (both print banners)
        assert '<div class="page page-info">' in shown, page.name  # printed as publication
        assert "<strong>Publication version.</strong>" in shown, page.name
        assert " · publication version · " in shown, page.name
        assert "internal version" not in shown and "safeguarding team only" not in shown
        assert foot in text, page.name  # the audit's sentence at the foot of every page
    dictionary = out / "tables" / "README.csv"
    with dictionary.open(encoding="utf-8", newline="") as handle:
        audiences = {row["audience"] for row in csv.DictReader(handle)}
    assert audiences == {"publication (protected figures)"}


@pytest.mark.parametrize("name", list(TRUSTS))
def test_no_table_shows_a_count_from_1_to_4(name: str, runs: dict) -> None:
    _, out = runs[name]
    tables = out / "tables"
    with (tables / "README.csv").open(encoding="utf-8", newline="") as handle:
        dictionary = list(csv.DictReader(handle))
    counts: dict[str, set[str]] = {}
    for row in dictionary:
        if row["table"] not in ("README.csv", "codes.csv"):  # the dictionary and code labels
            counts.setdefault(row["table"], set())
            if row["unit"] == "incidents":
                counts[row["table"]].add(row["column"])
    files = {p.name for p in tables.glob("*.csv")} - {"README.csv", "codes.csv"}
    assert files == set(counts)  # every table is described, and only those written
    checked = 0
    for table, columns in counts.items():
        assert columns, f"{table} has no count column"
        with (tables / table).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert columns <= set(reader.fieldnames or ())
            for line, row in enumerate(reader, start=2):
                for column in columns:
                    value = row[column]
                    if value == "":
                        continue
                    assert float(value).is_integer(), (table, line, column)
                    assert int(float(value)) not in SMALL, (table, line, column, value)
                    checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", TWELVE)
def test_every_setting_keeps_its_place_on_the_funnel(name: str, runs: dict) -> None:
    """On a 12-setting trust every setting is placed on the under-escalation funnel, or
    shows the protected figure that says it has no such incidents: never a blank."""
    _, out = runs[name]
    page = (out / "escalation.html").read_text(encoding="utf-8")
    rows = _html_table(page, "Each setting's rates")
    settings = [r for r in rows if r["Setting"] != "All settings"]
    assert len(settings) == TRUSTS[name][0]
    rate = re.compile(r"^\d[\d,]* of \d[\d,]* \([^()]*%\)$")
    places = set(PLACES.values()) | {COULD_BE_ABOVE_PLACE}
    places |= {place + COULD_BE_WITHIN_PLACE for place in PLACES.values()}
    for row in settings:
        place, shown = row["On the funnel plot"], row["Not referred though advised"]
        assert shown, row
        if place in places:
            assert rate.match(shown), row
        else:
            assert place == NOT_PLACED_EMPTY and shown == "none shown", row
    placed = sum(r["On the funnel plot"] in places for r in settings)
    # A setting with 1 to 4 such incidents may be shown with none (cell-key shows 1 to 4 as
    # 0 or 5); it then says so. Most settings are placed, never a row of blanks.
    assert placed >= len(settings) * 3 // 4
    assert "rests on a number not shown" not in page


def test_the_secret_never_reaches_the_pack(runs: dict) -> None:
    for name, (_, out) in runs.items():
        secret = _secret(out.parent, name)
        key = secret.read_bytes()
        assert secret.with_name("cell-key.secret.draw").exists()  # published: draw kept
        for path in out.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert key not in data and key.hex().encode() not in data, path
                assert b"cell-key.secret" not in data, path


def test_a_refused_secret_writes_no_pack(logs: dict, tmp_path: Path, capsys) -> None:
    readable = tmp_path / "config" / "cell-key.secret"
    readable.parent.mkdir(mode=0o700)
    readable.write_bytes(os.urandom(32))
    readable.chmod(0o644)
    reports = tmp_path / "reports"
    reports.mkdir()
    out = reports / "pack"
    assert _report(logs["3x1+plants"], out, "--secret", str(readable)) == 2
    assert "can be read by other users" in capsys.readouterr().err
    assert not out.exists() and list(reports.iterdir()) == []
    inside = _report(logs["3x1+plants"], out, "--secret", str(out / "cell-key.secret"))
    assert inside == 2
    assert "inside the report folder" in capsys.readouterr().err
    assert not out.exists() and list(reports.iterdir()) == []


def test_a_refused_run_leaves_an_earlier_pack_as_it_was(
    logs: dict, runs: dict, tmp_path: Path, capsys
) -> None:
    _, earlier = runs["3x1+plants"]
    out = tmp_path / "pack"
    shutil.copytree(earlier, out)
    before = _snapshot(out)
    readable = tmp_path / "cell-key.secret"
    readable.write_bytes(os.urandom(32))
    readable.chmod(0o640)
    capsys.readouterr()
    assert _report(logs["3x1+plants"], out, "--secret", str(readable)) == 2
    assert "can be read by other users" in capsys.readouterr().err  # not refused as foreign
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell-key.secret", "pack"]


def test_a_pack_the_audit_refuses_writes_nothing(
    logs: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Every draw of keys refused (as if each pinned a count): exit 4, no pack."""
    from ypsi_audit.protection import publish
    from ypsi_audit.protection.audit import AuditReport

    def refusing(view, identities, truth, **options):
        failure = f"{view.cells[0].label} can be worked out exactly (planted)."
        return AuditReport(False, [failure], len(view.forms), 1, None, 0.0, 0)

    monkeypatch.setattr(publish, "audit", refusing)
    out = tmp_path / "pack"
    assert _report(logs["3x1+plants"], out) == 4
    assert "failed its disclosure check" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
