"""Every heading in the panel names its level (guide rule 9, issue 18's accessible pages).

Radix's ``rx.heading`` renders ``<h1>`` unless told otherwise, so a heading written without
``as_`` silently adds an h1 to its page. The requests and retention pages once showed their
counts that way: five h1 elements, "0, 0, 0, 67%", in a screen reader's list of headings, and a
browser test that looked for the page's one h1 found five. A figure is text; a heading says
which level it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

PANEL = Path(__file__).resolve().parent.parent / "dpa_panel"


def _headings_without_level(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "heading"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "rx"
        and not any(keyword.arg == "as_" for keyword in node.keywords)
    ]


def test_every_heading_names_its_level():
    offenders = [
        f"{path.relative_to(PANEL.parent)}:{line}"
        for path in sorted(PANEL.rglob("*.py"))
        for line in _headings_without_level(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, "rx.heading without as_ (renders an h1):\n" + "\n".join(offenders)


def test_the_scanner_finds_a_heading_without_a_level():
    """The scan above must be able to fail."""
    tree = ast.parse('rx.heading("7", size="6")\nrx.heading(t("x.title"), as_="h2")')
    assert _headings_without_level(tree) == [1]
