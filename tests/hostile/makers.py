"""Make the files a hostile case needs, in the case's own folder.

A file spec in corpus.yaml is one of:

    {copy: NAME}                         a fixture: tests/data/NAME or tests/hostile/files/NAME
    {text: "..."}                        exactly this text (UTF-8)
    {csv_edit: NAME, set: [[ROW, COLUMN, VALUE], ...]}
                                         a CSV fixture with cells replaced; ROW counts data
                                         rows from 1, COLUMN is a header name
    {make: FUNCTION, ...}                a function below, given the spec's other keys
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FIXTURES = (HERE / "files", HERE.parent / "data")


def fixture(name: str) -> Path:
    for folder in FIXTURES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no fixture named {name}")


def make_file(folder: Path, relative: str, spec: Any) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, str):
        spec = {"text": spec}
    if "copy" in spec:
        path.write_bytes(fixture(spec["copy"]).read_bytes())
    elif "text" in spec:
        path.write_bytes(spec["text"].encode("utf-8"))
    elif "csv_edit" in spec:
        path.write_text(_csv_edit(fixture(spec["csv_edit"]), spec["set"]), encoding="utf-8")
    elif "make" in spec:
        MAKERS[spec["make"]](path, **{k: v for k, v in spec.items() if k != "make"})
    else:
        raise ValueError(f"unknown file spec for {relative}: {spec}")
    if spec.get("mode") is not None:
        os.chmod(path, int(str(spec["mode"]), 8))
    return path


def _csv_edit(source: Path, edits: list[list[Any]]) -> str:
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header = rows[0]
    for row, column, value in edits:
        rows[int(row)][header.index(column)] = str(value)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _symlink(path: Path, *, to: str) -> None:
    os.symlink(path.parent / to, path)


def _hardlink(path: Path, *, to: str) -> None:
    os.link(path.parent / to, path)


def _folder(path: Path) -> None:
    path.mkdir()


MAKERS: dict[str, Callable[..., None]] = {
    "symlink": _symlink,
    "hardlink": _hardlink,
    "folder": _folder,
}
