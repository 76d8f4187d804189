"""`--pdf`: each page printed to an A4 PDF by the headless Chromium the browser tests use."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import YpsiError

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def browser() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise YpsiError(
        "--pdf needs Chromium, which is not installed; install Debian's chromium package "
        "(make chromium does it) or leave out --pdf."
    )


def write_pdfs(folder: Path, names: list[str]) -> None:
    """folder/NAME.pdf for each folder/NAME.html, printed offline."""
    command = browser()
    with tempfile.TemporaryDirectory(prefix="ypsi-chromium-") as profile:
        for name in names:
            page = folder / f"{name}.html"
            target = folder / f"{name}.pdf"
            result = subprocess.run(
                [
                    command,
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    f"--print-to-pdf={target}",
                    page.resolve().as_uri(),
                ],
                capture_output=True,
                timeout=180,
                check=False,
            )
            if result.returncode != 0 or not target.is_file():
                raise YpsiError(f"Chromium could not print {page.name} to PDF.")
            target.chmod(0o600)
