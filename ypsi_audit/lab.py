"""`ypsi-audit lab`: the notebooks in JupyterLab, in a private folder of their own.

JupyterLab saves an open notebook by itself every couple of minutes, outputs included,
and keeps checkpoints beside it. Opened where they ship (in a clone of the repository),
the notebooks would be rewritten there with true counts about children, readable by
anyone who can read the clone. So the lab gets copies in an owner-only folder outside
the repository; what JupyterLab writes stays there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import resources
from .errors import YpsiError


def default_folder() -> Path:
    """Beside the user's other application data (`$XDG_DATA_HOME`, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ypsi-audit" / "lab"


def prepare(folder: str | Path) -> list[Path]:
    """Copy each shipped notebook into `folder` (made owner-only) unless a copy is there
    already: the analyst's own changes are never overwritten. Returns the copies."""
    target = Path(folder).expanduser().resolve()
    source = resources.notebook_dir().resolve()
    if target == source or source in target.parents:
        raise YpsiError(
            f"{target}: that is where the notebooks ship; choose a folder outside it, "
            "so that what JupyterLab saves stays private."
        )
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target, 0o700)
    copies = []
    for notebook in sorted(source.glob("*.ipynb")):
        copy = target / notebook.name
        if not copy.exists():
            shutil.copyfile(notebook, copy)
            os.chmod(copy, 0o600)
        copies.append(copy)
    return copies


def start(folder: Path) -> int:
    """JupyterLab on this machine only, opened in `folder`."""
    command = [
        sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
        "--ServerApp.ip=127.0.0.1",
    ]  # fmt: skip
    return subprocess.call(command, cwd=folder)
