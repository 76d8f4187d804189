"""Run every case of the hostile corpus (tests/hostile/corpus.yaml) through the CLI."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile.makers import make_file

from ypsi_audit.cli import main

CORPUS = Path(__file__).parent / "hostile" / "corpus.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def _written(folder: Path, before: dict[Path, bytes]) -> str:
    """Everything the run wrote: files that are new or whose bytes changed."""
    after = _files(folder)
    changed = [data for path, data in after.items() if before.get(path) != data]
    return "\n".join(data.decode("utf-8", errors="replace") for data in changed)


def _formula_cells(path: Path) -> list[str]:
    """Cells of a CSV file that a spreadsheet would read as a formula (a plain number is
    not one)."""
    with path.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    return [
        c
        for c in cells
        if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?\d+(\.\d+)?", c)
    ]


def test_case_ids_are_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_case(case: dict[str, Any], tmp_path: Path, capsys, monkeypatch) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    for relative, spec in (case.get("files") or {}).items():
        make_file(folder, relative, spec)
    before = {name: _digest(folder / name) for name in case.get("unchanged", [])}
    secrets = case.get("secret", [])
    given = _files(folder)
    monkeypatch.chdir(folder)
    code = main([str(a) for a in case["run"]])
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert code == case["exit"], said
    assert case["message"] in said
    assert "Traceback" not in said
    for name, digest in before.items():
        assert _digest(folder / name) == digest, f"{name} was changed"
    for name in case.get("absent", []):
        assert not (folder / name).exists(), f"{name} was written"
    for name in case.get("no_formula", []):
        assert not _formula_cells(folder / name), f"{name} holds a cell a spreadsheet would run"
    if secrets:
        written = _written(folder, given)
        for secret in secrets:
            assert secret not in said, f"{secret!r} was printed"
            assert secret not in written, f"{secret!r} was written to a file"
    assert os.getcwd() == str(folder)
