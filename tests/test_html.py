"""The page shell and its sanitiser: escaping by default, an allow-list, and a check that
refuses any page that could run code or reach outside itself (issue 11 item 3)."""

from __future__ import annotations

import pytest

from ypsi_audit.reports.html import Shell, UnsafePage, check_page, sanitise, unsafe_parts, wrap
from ypsi_audit.reports.page import Block, Section, inline

SHELL = Shell(
    title="Test page",
    heading="Trust · every year",
    banner="**For the team only.**",
    banner_tone="restricted",
    links=[("index.html", "Front page"), ("escalation.html", "Escalation")],
    foot="Made by ypsi-audit.",
)

# What a hostile setting name, file name or notebook output could try.
PAYLOADS = [
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    '<form action="//evil.example/"><button>go</button></form>',
    "<style>body{background:url(//evil.example/x.png)}</style>",
    "<style>@import url(//evil.example/a.css);</style>",
    '<img src="https://evil.example/x.png">',
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">link</a>',
    '<a href="//evil.example/">link</a>',
    '<a href="https://evil.example/">link</a>',
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(//evil.example/x)">x</div>',
    '<object data="https://evil.example/x.swf"></object>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitiser_leaves_nothing_live(payload: str) -> None:
    clean = sanitise(f"<p>before</p>{payload}<p>after</p>")
    page = wrap(clean, SHELL)
    assert unsafe_parts(page) == []
    lowered = clean.lower()
    for bad in ("onload", "ontoggle", "onerror", "<form", "<style", "<script", "<iframe",
                "javascript:", "evil.example", "<meta", "<base", "<link", "style="):  # fmt: skip
        assert bad not in lowered, (payload, clean)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_check_refuses_a_page_that_skipped_the_sanitiser(payload: str) -> None:
    with pytest.raises(UnsafePage):
        check_page(wrap(f"<p>x</p>{payload}", SHELL))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_blocks_escape_every_value(payload: str) -> None:
    section = Section("s", "S")
    section.say(f"Setting {payload} did this")
    section.add("table", caption=payload, columns=[{"key": "a", "label": payload}],
                rows=[{"a": payload}])  # fmt: skip
    section.add("list", items=[payload])
    html = section.render()
    assert "<" + payload[1:] not in html
    assert unsafe_parts(wrap(html, SHELL)) == []


def test_our_own_blocks_survive_the_sanitiser() -> None:
    section = Section("settings", "Settings")
    section.say("**Two** settings stand out.")
    section.add("table", caption="Counts", columns=[{"key": "a", "label": "A", "align": "right"}],
                rows=[{"a": "12"}])  # fmt: skip
    section.add("chart", svg="<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>",
                alt="A bar chart of something meaningful")  # fmt: skip
    rendered = section.render()
    assert sanitise(rendered) == rendered
    assert "<strong>Two</strong>" in rendered and 'src="data:image/svg+xml;base64,' in rendered


def test_inline_allows_bold_only() -> None:
    assert inline("**a** <b>b</b>") == "<strong>a</strong> &lt;b&gt;b&lt;/b&gt;"


def test_a_page_names_no_outside_address_and_no_other_stylesheet() -> None:
    page = wrap("<p>ok</p>", SHELL)
    assert unsafe_parts(page) == []
    assert unsafe_parts(page.replace("</style>", "</style><style>p{}</style>"))
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    block = Block(kind="chart", svg="<svg/>", alt="a")
    assert 'src="data:image/svg+xml;base64,' in block.render()
