"""The front page (`index.html`) and the frame every page shares.

The front page is generated from the same figures as the pages: each page module gives
headlines (where things stand, what to look at, which section to open), and the front
page lays them out per area, attention first, with links. Nothing on it is written by
hand.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from .html import Shell, check_page, wrap
from .page import Page, inline
from .spec import RunSpec
from .words import no_incidents

INTERNAL_BANNER = (
    "**For the safeguarding team only.** This page holds small numbers about children. Do "
    "not publish it, forward it or share it outside the team."
)
PUBLICATION_BANNER = (
    "**Publication version.** Counts may be adjusted a little and small numbers are never "
    "shown; before it was written, the whole pack was tested the way someone trying to pick "
    "out a child would test it. See the foot of the page for how, and what the test found."
)


def _period(spec: RunSpec) -> str:
    return f"academic year {spec.period}" if spec.period else "every academic year in the log"


def heading(spec: RunSpec, report_id: str) -> str:
    parts = [spec.title or "Incident log audit", _period(spec), f"made {date.today():%-d %B %Y}"]
    parts.append(_judged(spec))
    parts.append("internal version" if not spec.publication else "publication version")
    parts.append(f"report reference {report_id}")
    return " · ".join(parts)


def _judged(spec: RunSpec, *, labels: bool = False) -> str:
    def name(ref: Any) -> str:
        version = ref.document.get("version")
        return ref.describe() + (f", version {version}" if labels and version else "")

    if spec.command == "impact" and spec.compare_with is not None:
        return f"comparing {name(spec.policy)} with {name(spec.compare_with)}"
    return f"judged against {name(spec.policy)}"


def shell_for(
    spec: RunSpec, name: str, pages: dict[str, Page], report_id: str, audit: dict[str, Any]
) -> Shell:
    titles = {n: p.title for n, p in pages.items()}
    page_title = "Front page" if name == "index" else titles[name]
    trust = spec.title or "Incident log audit"
    links = [("index.html", "Front page"), *((f"{n}.html", t) for n, t in titles.items())]
    return Shell(
        title=f"{page_title} – {trust}" + (" (publication)" if spec.publication else ""),
        heading=heading(spec, report_id),
        banner=PUBLICATION_BANNER if spec.publication else INTERNAL_BANNER,
        banner_tone="info" if spec.publication else "restricted",
        links=links,
        foot=foot(spec, report_id, audit),
        robots="noindex, nofollow" if not spec.publication else "noindex",
        front=name == "index",
    )


def foot(spec: RunSpec, report_id: str, audit: dict[str, Any]) -> str:
    text = (
        f"Made by ypsi-audit from an anonymised incident log, {_judged(spec, labels=True)}. "
        f"Report reference {report_id}; the "
        "manifest beside this page records the input file's fingerprint, the policy and "
        "every setting that made these figures."
    )
    if spec.publication and audit:
        text += " " + str(audit.get("summary", ""))
    return text


def front_page(spec: RunSpec, pages: dict[str, Page], shell: Shell) -> str:
    """The front page: where things stand in each area and what to look at next."""
    trust = html.escape(spec.title or "Incident log audit")
    headlines = [(name, h) for name, page in pages.items() for h in page.headlines]
    empty = bool(headlines) and all(h.empty for _, h in headlines)
    blocks = [
        f"<h1>{trust}</h1>",
        f"<p>{inline(_opening(spec, empty=empty))}</p>",
    ]
    attention = [item for item in headlines if item[1].attention]
    if attention:
        names = ", ".join(html.escape(h.area.lower()) for _, h in attention)
        blocks.append(
            f'<div class="callout callout-attention"><p><strong>Look first at:</strong> '
            f"{names}.</p></div>"
        )
    for name, item in sorted(headlines, key=lambda pair: not pair[1].attention):
        link = f"{name}.html" + (f"#{item.section}" if item.section else "")
        tone = " area-attention" if item.attention else ""
        look = "".join(f"<li>{inline(text)}</li>" for text in item.look_at)
        blocks.append(
            f'<div class="area{tone}"><h2>{html.escape(item.area)}</h2>'
            f"<p>{inline(item.status)}</p>"
            + (f"<ul>{look}</ul>" if look else "")
            + f'<p><a href="{html.escape(link, quote=True)}">Open the '
            f"{html.escape(pages[name].title.lower())} page</a></p></div>"
        )
    blocks.append("<h2>Every page</h2><ul>")
    for name, page in pages.items():
        blocks.append(
            f'<li><a href="{name}.html">{html.escape(page.title)}</a>: {inline(page.intro)}</li>'
        )
    blocks.append("</ul>")
    page = wrap("".join(blocks), shell)
    check_page(page, "the front page")
    return page


def _opening(spec: RunSpec, *, empty: bool = False) -> str:
    """What the report shows, and where to start; when every page found no incidents in
    the selection, that instead, plainly."""
    what = (
        "how a change of policy would have judged past incidents"
        if spec.command == "impact"
        else f"how settings handled incidents against {spec.policy.describe()}"
    )
    start = (
        no_incidents(spec, where="in this report")
        if empty
        else "Start with the areas marked below."
    )
    return f"This report shows {what}, for {_period(spec)}. {start}"
