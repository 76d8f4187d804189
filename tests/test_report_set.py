"""A report set is whole or absent, owner-only, and the same for the same input
(issue 11 items 5 and 10)."""

from __future__ import annotations

import fcntl
import json
import os
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
