"""Find internal codes in text a person sees: ``auth.session_started``, ``membership_application``.

A code is an identifier made for the program: a snake_case word (letters and digits joined by
``_``) or a dotted lowercase name (``audit.read``, ``timeline.note``). Text on a screen must
show its label from the catalog instead. Not codes: e-mail addresses, web addresses and host
names, file names (``report.pdf``), version numbers (``1.2.3``, ``v1.2``), abbreviations such
as "e.g." and "i.e.". Anything between backticks (Markdown code, as in an English check detail
pasted from a command-line tool) is reported too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Removed before scanning: what looks like a code but is meant for people.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_FILE_EXTENSIONS = (
    "pdf", "csv", "xlsx", "xls", "txt", "png", "jpg", "jpeg", "svg", "json", "md", "docx",
    "doc", "zip", "sql", "gz", "tar", "dump", "html", "py", "log", "ini", "toml", "yaml", "yml",
    "conf", "service", "db", "sqlite", "odt", "ods", "rtf", "xml",
)  # fmt: skip
_TOP_LEVEL_DOMAINS = (
    "kz", "ru", "com", "org", "net", "io", "gov", "edu", "info", "local", "localhost", "test",
    "example", "internal", "uk", "de", "eu",
)  # fmt: skip
_FILE = re.compile(
    r"(?<![\w.])[\w-]+(?:\.[\w-]+)*\.(?:" + "|".join(_FILE_EXTENSIONS) + r")\b", re.IGNORECASE
)
_HOST = re.compile(
    r"(?<![\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:" + "|".join(_TOP_LEVEL_DOMAINS) + r")\b"
)
#: Words that look like codes but are what a person reads (a browser's platform, "x86_64").
_NOT_CODES = {"x86_64"}
_BACKTICKED = re.compile(r"`([^`\n]{1,80})`")

#: snake_case: ASCII lowercase words joined by underscores (``membership_application``).
_SNAKE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])(?!\.\w)")
#: dotted: two or more ASCII identifiers, each of two characters at least (``auth.logout``,
#: ``timeline.status_changed``); one-letter parts are abbreviations ("e.g.", "i.e.").
_DOTTED = re.compile(
    r"(?<![\w.@/-])[a-z][a-z0-9_]+(?:\.[a-z][a-z0-9_]+)+(?![\w@/-])(?!\.\w)"
)


def visible_code_tokens(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Every code-like token in ``text``, in order of appearance (each once).

    ``allowed``: words people chose that only look like codes — staff usernames such as
    ``dana.new`` are shown as typed, so a scan passes the usernames it knows of."""
    allowed = set(allowed)
    found: list[str] = []

    def add(token: str) -> None:
        if token not in found:
            found.append(token)

    for match in _BACKTICKED.finditer(text):
        add("`" + match.group(1) + "`")
    cleaned = _URL.sub(" ", text)
    cleaned = _EMAIL.sub(" ", cleaned)
    cleaned = _FILE.sub(" ", cleaned)
    cleaned = _HOST.sub(" ", cleaned)
    hits = [(m.start(), m.group(0)) for m in _DOTTED.finditer(cleaned)]
    dotted_spans = [(m.start(), m.end()) for m in _DOTTED.finditer(cleaned)]
    for m in _SNAKE.finditer(cleaned):
        if not any(a <= m.start() < b for a, b in dotted_spans):
            hits.append((m.start(), m.group(0)))
    for _, token in sorted(hits):
        if token not in _NOT_CODES and token not in allowed:
            add(token)
    return found
