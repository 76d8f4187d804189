"""What a report notebook calls: one page, opened from the run specification.

Run by `ypsi-audit report`, the page was built in the parent process (the notebook's
kernel never imports pandas' heavy friends or Altair) and the notebook only shows its
sections. Opened by hand in JupyterLab with `spec = None`, the page is built here, on the
shipped sample, for the internal audience; nothing is written anywhere.
"""

from __future__ import annotations

from pathlib import Path

from .page import Page

PAGES_FOLDER = "pages"


def page_file(work: str | Path, name: str) -> Path:
    return Path(work) / PAGES_FOLDER / f"{name}.json"


def open_page(name: str, spec: str | None = None, *, input: str | None = None) -> Page:
    """The page `name` of the run `spec` (JSON), or of the shipped sample (or `input`)."""
    if spec:
        from .spec import RunSpec

        run = RunSpec.from_json(spec)
        return Page.from_json(page_file(run.work, name).read_text(encoding="utf-8"))
    return build_here(name, input)


def build_here(name: str, input: str | None = None) -> Page:
    from .. import resources
    from .assessed import AssessedLog
    from .pages import IMPACT_PAGES, build_pages
    from .spec import RunSpec

    source = input or str(resources.sample_log())
    command = "impact" if name in IMPACT_PAGES else "report"
    spec = RunSpec.build(command, input=source, out="(shown in the notebook only)")
    log = AssessedLog.assess(spec)
    pages, _ = build_pages(log, spec, [name])
    return pages[name]
