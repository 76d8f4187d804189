"""What a report page holds, and how each piece becomes HTML: escaped by default.

A page module builds a `Page`: named sections, each a list of blocks (a paragraph, a
table, a chart, a list, a callout). Every value is turned into text when the block is
made and escaped when it is rendered, so nothing from the input (a setting's name, a
code) can become markup. Charts are SVG drawn in the parent process and embedded as
`data:` images, which a browser never lets run code or fetch anything.

Pages travel from the runner to the notebooks as JSON (`to_json`/`from_json`); the
notebook shows one section per call (`show`).
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# **bold** is the only markup a paragraph may carry; everything else is escaped text.
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escape a sentence, then turn **x** into <strong>x</strong>."""
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(str(text), quote=True))


@dataclass
class Block:
    """One piece of a section. `kind` decides which of the other fields it uses."""

    kind: str  # "text", "table", "chart", "list", "callout", "figures"
    text: str = ""
    items: list[str] = field(default_factory=list)
    caption: str = ""
    columns: list[dict[str, str]] = field(default_factory=list)  # {"key", "label", "align"}
    rows: list[dict[str, str]] = field(default_factory=list)
    note: str = ""
    svg: str = ""
    alt: str = ""
    tone: str = "info"  # callouts: info, attention, restricted
    name: str = ""  # tables: the file name in tables/

    def render(self) -> str:
        if self.kind == "text":
            return f"<p>{inline(self.text)}</p>"
        if self.kind == "list":
            items = "".join(f"<li>{inline(i)}</li>" for i in self.items)
            return f"<ul>{items}</ul>"
        if self.kind == "callout":
            tone = self.tone if self.tone in ("info", "attention", "restricted") else "info"
            return f'<div class="callout callout-{tone}"><p>{inline(self.text)}</p></div>'
        if self.kind == "figures":  # a row of headline figures: "label: value" pairs
            cells = "".join(
                f'<div class="figure"><div class="figure-value">{html.escape(r["value"])}</div>'
                f'<div class="figure-label">{html.escape(r["label"])}</div></div>'
                for r in self.rows
            )
            return f'<div class="figures">{cells}</div>'
        if self.kind == "table":
            return self._table()
        if self.kind == "chart":
            data = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
            alt = html.escape(self.alt, quote=True)
            return (
                f'<figure class="chart"><img src="data:image/svg+xml;base64,{data}" alt="{alt}">'
                f"<figcaption>{inline(self.caption or self.alt)}</figcaption></figure>"
            )
        raise ValueError(f"unknown block kind {self.kind}")

    def _table(self) -> str:
        head = "".join(
            f'<th scope="col" class="{_align(c)}">{html.escape(c["label"])}</th>'
            for c in self.columns
        )
        body = []
        for row in self.rows:
            cells = []
            for k, column in enumerate(self.columns):
                value = html.escape(str(row.get(column["key"], "")))
                tag = 'th scope="row"' if k == 0 else "td"
                end = "th" if k == 0 else "td"
                cells.append(f'<{tag} class="{_align(column)}">{value}</{end}>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"<caption>{inline(self.caption)}</caption>" if self.caption else ""
        note = f'<p class="note">{inline(self.note)}</p>' if self.note else ""
        rows = (
            "".join(body)
            if body
            else (f'<tr><td colspan="{max(len(self.columns), 1)}">None.</td></tr>')
        )
        return (
            f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>{note}"
        )


def _align(column: dict[str, str]) -> str:
    return "num" if column.get("align") == "right" else "text"


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, **fields: Any) -> Block:
        block = Block(kind=kind, **fields)
        self.blocks.append(block)
        return block

    def say(self, text: str) -> None:
        self.add("text", text=text)

    def render(self) -> str:
        inner = "".join(block.render() for block in self.blocks)
        return f'<div class="section" id="{html.escape(self.id, quote=True)}">{inner}</div>'


@dataclass
class Headline:
    """What the front page says about a page: where things stand, and what to look at."""

    area: str
    status: str  # one sentence
    look_at: list[str] = field(default_factory=list)
    section: str = ""  # the anchor the front page links to
    attention: bool = False
    empty: bool = False  # the selection holds no incidents (as shown): nothing to review


@dataclass
class Page:
    name: str
    title: str
    intro: str
    sections: list[Section] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)

    def section(self, section_id: str, title: str = "") -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        made = Section(section_id, title)
        self.sections.append(made)
        return made

    def show(self, section_id: str) -> None:
        """Display one section in a notebook (the only call a notebook cell makes)."""
        from IPython.display import HTML, display

        display(HTML(self.section(section_id).render()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Page:
        data = json.loads(text)
        sections = [
            Section(s["id"], s["title"], [Block(**b) for b in s["blocks"]])
            for s in data.pop("sections")
        ]
        headlines = [Headline(**h) for h in data.pop("headlines")]
        return cls(**data, sections=sections, headlines=headlines)
