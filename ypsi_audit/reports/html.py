"""Executed notebook -> one self-contained HTML page that works with no network.

nbconvert's lab template links require.js, MathJax and mermaid from CDNs. Our pages
draw charts as inline SVG and need no JavaScript at all, so every script is removed and
the page is checked to reference nothing outside itself.
"""

from __future__ import annotations

import re
from pathlib import Path

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["'](?!#|data:)([^"']+)["']""", re.I)


def notebook_to_html(path: str | Path, *, banner: str = "") -> str:
    """The notebook's outputs and narrative, without code cells, prompts or scripts."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.require_js_url = ""
    exporter.mathjax_url = ""
    exporter.mermaid_js_url = ""
    body, _ = exporter.from_notebook_node(nbformat.read(str(path), as_version=4))
    body = _SCRIPT.sub("", body)
    if banner:
        body = re.sub(r"(<body[^>]*>)", r"\1" + banner, body, count=1)
    outside = outside_references(body)
    if outside:
        raise RuntimeError(f"{path}: the page would load {outside[0]} from outside the file")
    return body


def outside_references(html: str) -> list[str]:
    """Every src/href that would make a browser fetch something beyond the page itself."""
    return [ref for ref in _OUTSIDE.findall(html)]
