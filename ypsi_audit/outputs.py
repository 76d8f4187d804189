"""Where a run may write: never onto what it reads, never over a file it did not make.

The input is read-only to the tool. Before anything is written, every output path
(and every path a clean-up would remove) is resolved, symlinks included, and refused
when it is one of the run's inputs (the log, a mapping, a policy or schedule file) or
a hard link to one. A file that already sits at an output path is replaced, or removed
as stale, only when it carries the tool's marker: a manifest of ours beside it names it
with the SHA-256 it had when we wrote it. Anything else is left alone and the run stops
with one sentence saying why.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import YpsiError

TOOL = "ypsi-audit"
MARKER = "written_by"  # manifest field naming the tool; `files` maps names to SHA-256


class OutputError(YpsiError):
    """An output path that the tool refuses to write (exit code 2)."""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


@dataclass
class Inputs:
    """The files a run reads; no output may land on one of them."""

    paths: list[Path] = field(default_factory=list)

    @classmethod
    def of(cls, *paths: str | Path | None) -> Inputs:
        return cls([Path(p) for p in paths if p is not None])

    def is_input(self, target: Path) -> bool:
        """True when `target` resolves to, or is a hard link of, an input file."""
        resolved = target.resolve()
        identity = _identity(target)
        for source in self.paths:
            if source.resolve() == resolved:
                return True
            if identity is not None and _identity(source) == identity:
                return True
        return False


def manifest_files(manifest: Path) -> dict[str, str] | None:
    """The files a manifest of ours says it wrote ({name: sha256}), or None when the file
    is not such a manifest."""
    try:
        tree = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(tree, dict) or tree.get(MARKER) != TOOL:
        return None
    files = tree.get("files")
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def carries_marker(path: Path, manifest: Path) -> bool:
    """Whether `path` is a file our `manifest` names, unchanged since we wrote it."""
    if path == manifest:
        return manifest_files(manifest) is not None
    files = manifest_files(manifest)
    if not files or path.name not in files or not path.is_file():
        return False
    return file_sha256(path) == files[path.name]


def claim(targets: Iterable[tuple[Path, str]], inputs: Inputs, manifest: Path) -> None:
    """Check that every target may be written: not an input, not a folder, and either
    absent or a file our manifest names unchanged. Each target comes with the words that
    name it for the user ("--out audit.csv", "the quarantine file beside it").
    Raises OutputError otherwise."""
    for target, what in targets:
        if inputs.is_input(target):
            raise OutputError(
                f"{what} {target} is one of this run's input files; the input is never "
                "overwritten, so choose another output name."
            )
        if target.is_dir():
            raise OutputError(f"{what} {target} is a folder; give a file name.")
        if target.parent.exists() and not target.parent.is_dir():
            raise OutputError(f"{what} {target}: {target.parent} is not a folder.")
        if (target.exists() or target.is_symlink()) and not carries_marker(target, manifest):
            raise OutputError(
                f"{what} {target} already exists and was not written by {TOOL}, or was "
                "changed since; the tool never replaces a file it did not write, so move "
                "that file or choose another output name."
            )


def remove_stale(path: Path, inputs: Inputs, manifest: Path) -> bool:
    """Remove an earlier output of ours that this run does not write again (a quarantine
    file from a run that held rows back). Only a file carrying our marker goes."""
    if inputs.is_input(path) or path.is_symlink() or not carries_marker(path, manifest):
        return False
    os.unlink(path)
    return True
