"""Executed notebook -> one self-contained, inert HTML page that prints on A4.

The notebook's outputs and narrative are exported without code (nbconvert's `basic`
template: a fragment, no scripts, no CDN links), then passed through a strict allow-list
sanitiser (nh3): only the tags and attributes our pages use, no event handlers, no
forms, no `<style>` or `style=`, links only within the report, images only as `data:`
SVG or PNG. The fragment is placed in our own page shell, whose content-security policy
forbids everything external and every script, and whose stylesheet is ours alone.
`check_page` proves the result before it is written.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TAGS = frozenset(
    {
        "a", "abbr", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "figcaption",
        "figure", "h1", "h2", "h3", "h4", "h5", "hr", "img", "li", "ol", "p", "section",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul", "blockquote", "pre",
    }
)  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "id"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
}
DATA_IMAGE = re.compile(r"data:image/(?:svg\+xml|png);base64,[A-Za-z0-9+/=]+")
LOCAL_LINK = re.compile(r"(?:#[A-Za-z0-9_\-.:]*|[A-Za-z0-9_\-]+\.html(?:#[A-Za-z0-9_\-.:]*)?)")

CSS = """
:root{--ink:#1b1b1b;--muted:#505a5f;--line:#b1b4b6;--blue:#1d70b8;--amber:#fff7bf;--red:#d4351c}
*{box-sizing:border-box}
body{font:16px/1.5 "Helvetica Neue",Arial,sans-serif;color:var(--ink);margin:0;background:#fff}
.page{max-width:980px;margin:0 auto;padding:16px 24px 48px}
nav.crumbs{font-size:14px;margin:0 0 8px}
nav.crumbs a{color:var(--blue)}
nav.pages{font-size:14px;border-bottom:1px solid var(--line);padding:0 0 8px;margin:0 0 16px}
nav.pages a{color:var(--blue);margin-right:14px}
h1{font-size:30px;line-height:1.2;margin:8px 0 4px}
h2{font-size:23px;margin:32px 0 8px;padding-top:8px;border-top:2px solid var(--line)}
h3{font-size:19px;margin:20px 0 6px}
p,li{max-width:46em}
.meta{color:var(--muted);font-size:14px;margin:0 0 16px}
.callout{border-left:6px solid var(--blue);background:#f3f2f1;padding:10px 14px;margin:12px 0}
.callout-attention{border-color:#f47738;background:var(--amber)}
.callout-restricted{border-color:var(--red);background:#fbe9e7}
.callout p{margin:0}
.table-wrap{overflow-x:auto;margin:8px 0 4px}
table{border-collapse:collapse;font-size:14px;margin:0 0 4px}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border:1px solid var(--line);padding:4px 8px;vertical-align:top}
thead th{background:#f3f2f1}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
th.text,td.text{text-align:left}
.note{color:var(--muted);font-size:13px;margin:2px 0 14px}
figure.chart{margin:10px 0 22px}
figure.chart img{max-width:100%;height:auto}
figure.chart figcaption{color:var(--muted);font-size:13px;max-width:46em}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0 16px}
.figure{border:1px solid var(--line);padding:8px 12px;min-width:150px}
.figure-value{font-size:24px;font-weight:bold}
.figure-label{font-size:13px;color:var(--muted)}
.area{border:1px solid var(--line);padding:10px 14px;margin:10px 0}
.area-attention{border-left:6px solid #f47738}
.area h2{border-top:none;margin-top:4px;padding-top:0}
footer{margin-top:36px;border-top:1px solid var(--line);padding-top:8px;color:var(--muted);
font-size:13px}
@page{size:A4;margin:14mm 12mm}
@page restricted{@top-center{content:"For the safeguarding team only: not for publication or \
forwarding";font:8pt Arial,sans-serif;color:#d4351c}}
@page info{@top-center{content:"Publication version: counts may be adjusted, small numbers \
never shown (see the foot of the page)";font:8pt Arial,sans-serif;color:#505a5f}}
.page-restricted{page:restricted}
.page-info{page:info}
@media print{
  body{font-size:11pt}
  .page{max-width:none;padding:0}
  nav.pages{display:none}
  h2{break-before:auto;break-after:avoid}
  h3{break-after:avoid}
  .section{break-inside:auto}
  figure.chart{break-inside:avoid}
  figure.chart img{max-height:120mm}
  .table-wrap{overflow:visible}
  table{width:100%;table-layout:fixed;font-size:8.5pt;break-inside:auto}
  th,td{padding:2px 4px;overflow-wrap:anywhere;word-break:break-word;hyphens:auto}
  thead{display:table-header-group}
  tr{break-inside:avoid}
  .figure{min-width:0}
  a{color:inherit;text-decoration:none}
}
""".strip()


@dataclass(frozen=True)
class Shell:
    """What frames every page: title, audience banner, links, and the foot."""

    title: str  # the page's own title
    heading: str  # e.g. the trust's name and period, under the title
    banner: str  # audience banner text (may carry **bold**)
    banner_tone: str
    links: Sequence[tuple[str, str]]  # (file name, label) of every page, front page first
    foot: str
    robots: str = "noindex, nofollow"
    front: bool = False  # the front page itself: no link back to it


def css_hash() -> str:
    return base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")


def content_policy() -> str:
    """Nothing external, no script, no form, no frame; only our stylesheet and data images."""
    return (
        "default-src 'none'; img-src data:; "
        f"style-src 'sha256-{css_hash()}'; base-uri 'none'; form-action 'none'"
    )


def notebook_fragment(path: str | Path) -> str:
    """The notebook's outputs and Markdown as an HTML fragment, without code or prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.anchor_link_text = ""
    body, _ = exporter.from_notebook_node(nbformat.read(str(path), as_version=4))
    return body


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        return value if tag == "img" and DATA_IMAGE.fullmatch(value) else None
    if attribute == "href":
        return value if LOCAL_LINK.fullmatch(value) else None
    if attribute in ("id", "class"):
        return value if re.fullmatch(r"[A-Za-z0-9_\- .:]{1,120}", value) else None
    return value


def sanitise(fragment: str) -> str:
    """Keep only the tags and attributes our pages use; drop everything else."""
    import nh3

    return nh3.clean(
        fragment,
        tags=set(TAGS),
        clean_content_tags={"script", "style", "template", "noscript", "iframe", "object"},
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=_filter,
        strip_comments=True,
        link_rel=None,
        url_schemes={"data"},
    )


def wrap(fragment: str, shell: Shell) -> str:
    """Our page shell around a sanitised fragment."""
    nav = "".join(
        f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a>'
        for href, label in shell.links
    )
    from .page import inline

    tone = shell.banner_tone if shell.banner_tone in ("info", "restricted") else "info"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{content_policy()}">'
        f'<meta name="robots" content="{html.escape(shell.robots, quote=True)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(shell.title)}</title><style>{CSS}</style></head>"
        f'<body><div class="page page-{tone}">'
        + (
            ""
            if shell.front
            else '<nav class="crumbs"><a href="index.html">Back to the front page</a></nav>'
        )
        + f'<nav class="pages">{nav}</nav>'
        f'<div class="callout callout-{tone}"><p>{inline(shell.banner)}</p></div>'
        f'<p class="meta">{inline(shell.heading)}</p>'
        f"<main>{fragment}</main>"
        f"<footer><p>{inline(shell.foot)}</p></footer>"
        "</div></body></html>\n"
    )


def notebook_page(path: str | Path, shell: Shell) -> str:
    """The whole page for one executed notebook, sanitised and checked."""
    page = wrap(sanitise(notebook_fragment(path)), shell)
    check_page(page, str(path))
    return page


# ---------------------------------------------------------------------------- checks

_TAG = re.compile(r"<\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>", re.S)
_ATTR = re.compile(r"""([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
HEAD_TAGS = frozenset({"html", "head", "meta", "title", "style"})
BODY_SHELL_TAGS = frozenset({"body", "nav", "main", "footer"})
META = frozenset({"charset", "content-security-policy", "robots", "referrer", "viewport"})


class UnsafePage(RuntimeError):
    """A page that could run code or reach outside itself: never written."""


def check_page(page: str, where: str = "the page") -> None:
    """Every tag on the allow-list, no event handler, no outside reference, one style
    block (ours) and nothing in it that loads anything. Raises UnsafePage."""
    problems = unsafe_parts(page)
    if problems:
        raise UnsafePage(f"{where}: {problems[0]}")


def unsafe_parts(page: str) -> list[str]:
    """What in a page could act or reach outside it. Text never counts: only tags and
    attributes can (escaped text such as "&lt;style&gt;" is just text)."""
    problems = []
    head, marker, body = page.partition("</head>")
    if not marker:
        return ["the page has no head"]
    styles = re.findall(r"<style[^>]*>(.*?)</style>", page, re.S | re.I)
    if styles != [CSS]:
        problems.append("a style block other than the page's own")
    for name, attrs in _TAG.findall(head):
        tag = name.lower()
        if tag not in HEAD_TAGS:
            problems.append(f"tag <{tag}> in the head")
        if tag == "meta":
            named = dict(_attributes(attrs))
            kind = named.get(
                "http-equiv", named.get("name", "charset" if "charset" in named else "")
            )
            if kind.lower() not in META:
                problems.append(f"a meta tag of kind '{kind}'")
    for name, attrs in _TAG.findall(body):
        tag = name.lower()
        if tag not in TAGS and tag not in BODY_SHELL_TAGS:
            problems.append(f"tag <{tag}> is not allowed")
        for attr, value in _attributes(attrs):
            if attr.startswith("on"):
                problems.append(f"event handler {attr} on <{tag}>")
            if attr in ("src", "href", "action", "formaction", "srcset", "poster", "xlink:href",
                        "data", "background", "ping"):  # fmt: skip
                if tag == "img" and attr == "src" and DATA_IMAGE.fullmatch(value):
                    continue
                if tag == "a" and attr == "href" and LOCAL_LINK.fullmatch(value):
                    continue
                problems.append(f"{attr} on <{tag}> leads outside the page")
            if attr == "style":
                problems.append(f"a style attribute on <{tag}>")
    return problems


def _attributes(text: str) -> list[tuple[str, str]]:
    return [
        (attr.lower(), next((v for v in values if v), "")) for attr, *values in _ATTR.findall(text)
    ]
