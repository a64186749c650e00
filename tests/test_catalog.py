"""The message catalog is complete in kk/ru/en, and components show no text that bypasses it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from dpa_panel.i18n import CATALOGS, LOCALES, tr
from dpa_panel.models import vocab

PACKAGE = Path(__file__).resolve().parents[1] / "dpa_panel"
UI_DIRS = [PACKAGE / "components", PACKAGE / "pages"]

# Keyword arguments whose string value a user can see or hear.
VISIBLE_KWARGS = {
    "placeholder",
    "title",
    "aria_label",
    "alt",
    "label",
    "content",
    "text",
    "description",
    "tooltip",
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_locale_has_every_key():
    keys = {loc: set(CATALOGS[loc]) for loc in LOCALES}
    union = set().union(*keys.values())
    for loc in LOCALES:
        assert not union - keys[loc], f"{loc} lacks {sorted(union - keys[loc])}"


def test_no_empty_messages_and_same_placeholders():
    for key in CATALOGS["en"]:
        expected = _placeholders(CATALOGS["en"][key])
        for loc in LOCALES:
            assert CATALOGS[loc][key].strip(), f"{loc}:{key} is empty"
            assert _placeholders(CATALOGS[loc][key]) == expected, f"{loc}:{key} placeholders"


def test_kazakh_is_not_a_copy_of_russian():
    # A few words are spelled alike (e.g. "Бакалавриат"); phrases of 3+ words must not be.
    same = [
        k
        for k in CATALOGS["kk"]
        if CATALOGS["kk"][k] == CATALOGS["ru"][k] and len(CATALOGS["kk"][k].split()) >= 3
    ]
    assert not same, same


@pytest.mark.parametrize(
    ("vocabulary", "codes"),
    [
        ("purpose", vocab.PURPOSES),
        ("subject_status", vocab.SUBJECT_STATUSES),
        ("application_status", vocab.APPLICATION_STATUSES),
        ("member_status", vocab.MEMBER_STATUSES),
        ("consent_channel", vocab.CONSENT_WITHDRAWAL_CHANNELS),
        ("role", vocab.ROLES),
        ("education_level", vocab.EDUCATION_LEVELS),
        ("workplace_category", vocab.WORKPLACE_CATEGORIES),
        ("position_level", vocab.POSITION_LEVELS),
        ("request_kind", vocab.REQUEST_KINDS),
        ("request_status", vocab.REQUEST_STATUSES),
        ("request_channel", vocab.REQUEST_CHANNELS),
        ("consent_state", ("granted", "withdrawn", "never")),
        ("disclosure.kind", vocab.DISCLOSURE_KINDS),
        ("disclosure.body_type", vocab.DISCLOSURE_BODY_TYPES),
        ("disclosure.status", vocab.DISCLOSURE_STATUSES),
        ("disclosure.channel", vocab.DISCLOSURE_CHANNELS_IN + vocab.DISCLOSURE_CHANNELS_OUT),
        ("disclosure.format", vocab.DISCLOSURE_FORMATS),
    ],
)
def test_every_code_has_a_label(vocabulary, codes):
    for code in codes:
        for loc in LOCALES:
            assert tr(loc, f"{vocabulary}.{code}")


def _ui_files() -> list[Path]:
    return sorted(p for d in UI_DIRS for p in d.rglob("*.py"))


def _is_rx_call(node: ast.Call) -> bool:
    """rx.text(...), rx.select.item(...), rx.el.span(...): anything reached through ``rx``."""
    func = node.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id == "rx"


def _visible_literals(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_rx_call(node)):
            continue
        candidates = [a for a in node.args]
        candidates += [kw.value for kw in node.keywords if kw.arg in VISIBLE_KWARGS]
        for value in candidates:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                if re.search(r"[^\W\d_]", value.value):  # contains a letter
                    found.append((value.lineno, value.value))
            elif isinstance(value, ast.JoinedStr):
                found.append((value.lineno, "<f-string>"))
    return found


# rx.icon("name"), rx.color("gray", 5)...: identifiers, not text; these calls are exempt.
NON_TEXT_CALLS = {"icon", "color", "breakpoints", "redirect"}


def _without_non_text_calls(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in NON_TEXT_CALLS:
                node.args = []
    return tree


def test_components_show_no_literal_text():
    offenders = []
    for path in _ui_files():
        tree = _without_non_text_calls(ast.parse(path.read_text(encoding="utf-8")))
        offenders += [f"{path.name}:{line}: {text!r}" for line, text in _visible_literals(tree)]
    assert not offenders, "user-visible literals bypass the catalog:\n" + "\n".join(offenders)


def test_literal_scanner_catches_a_literal():
    """The scanner above must be able to fail."""
    tree = ast.parse('rx.button("Save", on_click=x)\nrx.input(placeholder="Name")\nrx.icon("x")')
    assert [t for _, t in _visible_literals(_without_non_text_calls(tree))] == ["Save", "Name"]


def test_every_key_used_in_components_exists():
    used = set()
    for path in _ui_files():
        if path.name == "i18n.py":  # defines t() itself
            continue
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_.]+)\"", path.read_text(encoding="utf-8")))
    assert used, "expected the UI to use t(...)"
    missing = sorted(k for k in used if k not in CATALOGS["kk"])
    assert not missing, missing
