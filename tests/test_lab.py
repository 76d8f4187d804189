"""`ypsi-audit lab`: JupyterLab gets copies of the notebooks in an owner-only folder outside
the repository, so that its autosave and checkpoints never write counts about children
into a clone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ypsi_audit import cli, lab, resources
from ypsi_audit.errors import YpsiError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_notebook_is_copied_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    copies = lab.prepare(folder)
    shipped = sorted(p.name for p in resources.notebook_dir().glob("*.ipynb"))
    assert [c.name for c in copies] == shipped and "explore.ipynb" in shipped
    assert mode(folder) == 0o700
    assert all(mode(c) == 0o600 for c in copies)
    for copy in copies:
        assert copy.read_bytes() == (resources.notebook_dir() / copy.name).read_bytes()


def test_the_analysts_own_copy_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    lab.prepare(folder)
    mine = folder / "explore.ipynb"
    mine.write_text("my own changes", encoding="utf-8")
    (folder / "fairness.ipynb").unlink()
    lab.prepare(folder)
    assert mine.read_text(encoding="utf-8") == "my own changes"
    assert (folder / "fairness.ipynb").exists()  # a missing one comes back


def test_the_shipped_folder_is_refused(tmp_path: Path) -> None:
    for inside in (resources.notebook_dir(), resources.notebook_dir() / "lab"):
        with pytest.raises(YpsiError, match="where the notebooks ship"):
            lab.prepare(inside)
    assert not (resources.notebook_dir() / "lab").exists()


def test_the_command_copies_without_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Path] = []
    monkeypatch.setattr(lab, "start", lambda folder: started.append(folder) or 0)
    assert cli.main(["lab", "--folder", str(tmp_path / "mine"), "--no-start"]) == 0
    count = len(list(resources.notebook_dir().glob("*.ipynb")))
    assert f"{count} notebooks in {tmp_path / 'mine'}" in capsys.readouterr().out
    assert started == []
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert cli.main(["lab"]) == 0
    assert started == [tmp_path / "data" / "ypsi-audit" / "lab"]
    assert (started[0] / "explore.ipynb").exists()
