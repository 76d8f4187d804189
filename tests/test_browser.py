"""Every page of a report set, opened in real Chromium: nothing leaves the file, nothing
runs, every chart is drawn and described (issue 11 item 3).

The pages carry their own content-security policy (nothing external, no script, no form);
the test also aborts and counts every request that is not the file itself or a `data:`
image, records every console message (a policy violation is logged there) and checks the
document holds no script, no form and no event handler after it has loaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Run in the page after load: anything that could act or reach out.
LIVE_PARTS = """() => {
  const all = [...document.querySelectorAll('*')];
  const handlers = all.flatMap(el => [...el.attributes].filter(a => a.name.startsWith('on'))
    .map(a => el.tagName + '@' + a.name));
  return {
    scripts: document.scripts.length,
    forms: document.forms.length,
    frames: document.querySelectorAll('iframe,object,embed').length,
    styles: document.querySelectorAll('style').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
      .filter(h => !/^(#|[A-Za-z0-9_-]+\\.html(#.*)?$)/.test(h)),
    handlers,
    csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content || '',
    images: [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0,
      alt: i.getAttribute('alt') || '', src: i.getAttribute('src').slice(0, 26)})),
  };
}"""


def open_pages(folder: Path, names: list[str]) -> dict[str, dict]:
    """Open each page with every outside request aborted; what each page did."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: make test installs it"
    found = {}
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        for name in names:
            page = browser.new_page(java_script_enabled=True)
            outside: list[str] = []
            console: list[str] = []

            def block(route, request, outside=outside):
                if request.url.startswith(("file:", "data:")):
                    return route.continue_()
                outside.append(request.url)
                return route.abort()

            page.route("**/*", block)
            page.on("console", lambda message, console=console: console.append(message.text))
            page.goto((folder / f"{name}.html").as_uri())
            page.wait_for_load_state("load")
            found[name] = {
                "outside": outside,
                "console": console,
                "title": page.title(),
                "text": page.inner_text("body"),
                **page.evaluate(LIVE_PARTS),
            }
            page.close()
        browser.close()
    return found


def check(found: dict[str, dict]) -> None:
    for name, seen in found.items():
        assert seen["outside"] == [], (name, seen["outside"])
        assert seen["console"] == [], (name, seen["console"])  # CSP violations are logged
        assert seen["scripts"] == seen["forms"] == seen["frames"] == 0, name
        assert seen["handlers"] == [], (name, seen["handlers"])
        assert seen["styles"] == 1, name
        assert seen["links"] == [], (name, seen["links"])
        assert "default-src 'none'" in seen["csp"] and "script-src" not in seen["csp"], name
        for image in seen["images"]:
            assert image["ok"], (name, image)  # drawn
            assert image["src"].startswith("data:image/svg+xml"), (name, image)
            assert len(image["alt"]) > 20, (name, image)  # described in words
        assert seen["title"] and "Notebook" not in seen["title"], name
        assert ("Back to the front page" in seen["text"]) == (name != "index"), name


@pytest.mark.parametrize("audience", ["internal"])
def test_every_page_is_inert_and_offline(sample_report: Path, audience: str) -> None:
    names = ["index", *sorted(p.stem for p in sample_report.glob("*.html") if p.stem != "index")]
    assert len(names) >= 5
    found = open_pages(sample_report, names)
    check(found)
    charts = sum(len(seen["images"]) for seen in found.values())
    assert charts >= 6  # the pages draw their charts


def test_hostile_text_reaches_a_page_as_text(tmp_path: Path) -> None:
    """Markup in the one free-text option (the title) is shown, never run."""
    from ypsi_audit import resources
    from ypsi_audit.reports import pages
    from ypsi_audit.reports.runner import run
    from ypsi_audit.reports.spec import RunSpec

    hostile = '<svg onload=alert(1)><form action="//x"><style>@import url(//x)</style>'
    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out=str(tmp_path / "r"), title=hostile[:80]
    )
    original = dict(pages.REGISTRY)
    pages.REGISTRY.clear()
    pages.REGISTRY["data_quality"] = "data_quality"  # one page is enough to prove the shell
    try:
        run(spec, progress=lambda _: None)
    finally:
        pages.REGISTRY.clear()
        pages.REGISTRY.update(original)
    html = (tmp_path / "r" / "index.html").read_text()
    assert "<svg" not in html and "<form" not in html and "<style>@import" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html
    found = open_pages(tmp_path / "r", ["index", "data_quality"])
    check(found)
    assert "<svg onload=alert(1)>" in found["index"]["text"]


# A4 portrait less the stylesheet's 12 mm side margins, at the browser's 96 pixels per inch.
A4_PRINT_WIDTH = round((210 - 24) / 25.4 * 96)
# Anything wider than the page, and any table squeezed so far that a column is too narrow
# to read a four-digit number in (the stylesheet fits wide tables by narrowing columns).
WIDER_THAN_PAGE = """() => [
  ...[...document.querySelectorAll('table, figure, .figures, pre')]
    .filter(el => el.scrollWidth > document.documentElement.clientWidth + 1)
    .map(el => 'too wide: ' + (el.querySelector('caption')?.innerText || el.tagName)),
  ...[...document.querySelectorAll('table')]
    .filter(t => [...t.querySelectorAll('thead th')].some(th => th.clientWidth < 30))
    .map(t => 'squeezed: ' + (t.querySelector('caption')?.innerText || 'a table')),
].map(text => text.slice(0, 90))"""


def test_printed_on_a4_no_table_or_chart_is_cut(sample_report: Path) -> None:
    """With the print stylesheet at A4 width, nothing is wider than the page: no column of
    any table is lost when a page is printed or saved as PDF."""
    from playwright.sync_api import sync_playwright

    names = ["index", *sorted(p.stem for p in sample_report.glob("*.html") if p.stem != "index")]
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": A4_PRINT_WIDTH, "height": 1000})
        page.emulate_media(media="print")
        for name in names:
            page.goto((sample_report / f"{name}.html").as_uri())
            assert page.evaluate(WIDER_THAN_PAGE) == [], name
        browser.close()


def test_pdf_of_every_page(tmp_path: Path) -> None:
    """--pdf prints the front page and every page to A4 PDFs, offline."""
    from ypsi_audit import resources
    from ypsi_audit.cli import main

    out = tmp_path / "set"
    code = main(["report", str(resources.sample_log()), "--out", str(out), "--pdf",
                 "--period", "2024-25"])  # fmt: skip
    assert code == 0
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert pdfs == sorted(f"{p.stem}.pdf" for p in out.glob("*.html"))
    for pdf in out.glob("*.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and b"/MediaBox [0 0 594.95996 841.91998]" in data
    from pypdf import PdfReader

    pages = PdfReader(out / "escalation.pdf").pages
    assert len(pages) > 2
    for page in pages:  # the audience is said on every printed sheet, not the first only
        assert "For the safeguarding team only" in page.extract_text()
