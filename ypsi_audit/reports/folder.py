"""A report set is whole or absent.

A run builds its set in a private staging folder beside DIR (owner-only, marked as ours)
and, only when everything is written, moves it into place in one rename, replacing an
earlier set of ours. An exclusive lock on DIR stops a second run writing into the same
folder at the same time: it is refused with a clear message. A failed or interrupted run
removes its staging folder; one killed outright leaves a hidden `.partial` folder that
the next run into the same DIR removes. Nothing is ever written into DIR itself until the
set is finished, and a DIR holding files the tool did not write is never replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..errors import YpsiError
from ..outputs import MARKER, TOOL, Inputs, file_sha256

PARTIAL_MARK = ".ypsi-audit-partial"  # inside a staging folder: ours, safe to remove
MANIFEST = "manifest.json"


class FolderBusy(YpsiError):
    """Another run holds the lock on the output folder."""

    exit_code = 5


class FolderRefused(YpsiError):
    """The output folder cannot be replaced by a report set (exit 2)."""


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.ypsi-lock"


def set_files(folder: Path) -> dict[str, str]:
    """Every file under a folder (relative path -> SHA-256), the manifest left out."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in (MANIFEST, PARTIAL_MARK):
            found[path.relative_to(folder).as_posix()] = file_sha256(path)
    return found


def is_our_set(folder: Path) -> bool:
    """A folder that holds one complete report set of ours and nothing else: its manifest
    carries our marker and names every file in it with the hash it was written with."""
    try:
        tree = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    if not isinstance(tree, dict) or tree.get(MARKER) != TOOL:
        return False
    listed = tree.get("files")
    return isinstance(listed, dict) and set_files(folder) == listed


def check_target(out: Path, inputs: Inputs) -> None:
    """Refuse a DIR that is a file, holds an input, or holds files the tool did not write."""
    if out.exists() and not out.is_dir():
        raise FolderRefused(f"--out {out}: that is a file; give a folder for the report set.")
    if out.is_symlink():
        raise FolderRefused(f"--out {out}: that is a symbolic link; give a real folder.")
    resolved = out.resolve()
    for source in inputs.paths:
        if resolved == source.resolve() or resolved in source.resolve().parents:
            raise FolderRefused(
                f"--out {out}: the folder holds one of this run's inputs ({source.name}), and "
                "a finished report set replaces the whole folder; choose another folder."
            )
    if out.is_dir() and any(out.iterdir()) and not is_our_set(out):
        raise FolderRefused(
            f"--out {out}: the folder is not empty and is not a report set of ours (or a file "
            "in it was changed or added since); a report set replaces the whole folder, so "
            "choose an empty or new folder."
        )


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    import fcntl

    lock = _lock_path(out)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusy(
                f"--out {out}: another ypsi-audit run is writing this folder now; wait for it "
                "to finish, then run again."
            ) from None
        try:  # the lock file may have been removed and re-made by a run that just ended
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _remove_stale(out: Path) -> None:
    """Staging folders of ours left by a run that was killed (they carry our mark)."""
    for candidate in out.parent.glob(f".{out.name}.*.partial"):
        if (
            candidate.is_dir()
            and not candidate.is_symlink()
            and (candidate / PARTIAL_MARK).exists()
        ):
            shutil.rmtree(candidate, ignore_errors=True)
    for candidate in out.parent.glob(f".{out.name}.*.old"):
        if candidate.is_dir() and not candidate.is_symlink() and is_our_set(candidate):
            shutil.rmtree(candidate, ignore_errors=True)


class Staging:
    """The private folder a run writes its set into; `commit` moves it into place."""

    def __init__(self, out: Path, path: Path) -> None:
        self.out, self.path, self.committed = out, path, False

    def commit(self) -> None:
        (self.path / PARTIAL_MARK).unlink()
        old = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.{secrets.token_hex(4)}.old"
            os.rename(self.out, old)
        os.rename(self.path, self.out)
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def report_folder(out: str | Path, inputs: Inputs) -> Iterator[Staging]:
    """Lock DIR, stage the set beside it, and move it into place when the body succeeds."""
    target = Path(out)
    check_target(target, inputs)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(target):
        check_target(target, inputs)  # again, now that no other run can change it
        _remove_stale(target)
        path = target.parent / f".{target.name}.{secrets.token_hex(4)}.partial"
        path.mkdir(mode=0o700)
        (path / PARTIAL_MARK).write_text("ypsi-audit staging folder\n", encoding="utf-8")
        stage = Staging(target, path)
        try:
            yield stage
        finally:
            if not stage.committed:
                shutil.rmtree(path, ignore_errors=True)
