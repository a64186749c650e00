"""The PDF font stack and text rules shared by every document (issue 18).

* **Font stack.** DejaVu Sans (regular and bold: Kazakh, Russian, English letters, «», №, ₸,
  dashes, many symbols and some emoji) first; DejaVu Math TeX Gyre, DejaVu Serif and DejaVu
  Sans Mono as fpdf2 fallback fonts for the symbols DejaVu Sans lacks. All four ship in the
  Debian package ``fonts-dejavu-core`` / ``fonts-dejavu-extra``; only DejaVu Sans is required,
  a missing fallback only narrows the covered set.
* **No character silently vanishes** (decision 18-documents-2). ``clean`` runs on every string
  before it is written: a tab becomes four spaces, CR/LF become one line break, the soft
  hyphen (an invisible hyphenation hint) is dropped, and every other character that no font
  of the stack has — an emoji outside DejaVu's set, a control character — is written as a
  visible, deterministic token ``[U+1F916 ROBOT FACE]`` (code point and Unicode name). The
  original text stays untouched in the stored data and in the JSON report.
* **Dates** in documents: ``format_moment`` gives ``20.03.2026 14:05 (UTC+05:00, Алматы)`` —
  Almaty time with the offset, so a reader elsewhere knows which clock it is.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from dpa_panel.i18n import tr

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_PATH = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD_PATH = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT_PACKAGE = "fonts-dejavu-core"
#: Fallback fonts (family name, file), in the order fpdf2 tries them for a missing glyph.
FALLBACK_FONTS: tuple[tuple[str, Path], ...] = (
    ("DejaVuMath", FONT_DIR / "DejaVuMathTeXGyre.ttf"),
    ("DejaVuSerif", FONT_DIR / "DejaVuSerif.ttf"),
    ("DejaVuMono", FONT_DIR / "DejaVuSansMono.ttf"),
)
FAMILY = "DejaVu"
TAB = "    "
#: Dropped on purpose: an invisible hyphenation hint (fpdf2 consumes it as one anyway).
DROPPED = frozenset({"\u00ad"})


def _require_font() -> None:
    path = FONT_PATH
    if not Path(path).exists():
        raise RuntimeError(f"PDF font {path} is missing: install the Debian package {FONT_PACKAGE}")


def stack_paths() -> list[Path]:
    """The fonts of the stack that are installed (DejaVu Sans first)."""
    return [FONT_PATH] + [p for _name, p in FALLBACK_FONTS if p.exists()]


@lru_cache(maxsize=4)
def _coverage(paths: tuple[str, ...]) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for path in paths:
        font = TTFont(path, lazy=True)
        covered.update(font.getBestCmap() or {})
        font.close()
    return frozenset(covered)


def covered() -> frozenset[int]:
    """Every code point some font of the installed stack has a glyph for."""
    return _coverage(tuple(str(p) for p in stack_paths()))


def token(char: str) -> str:
    """The visible stand-in of a character no font covers: ``[U+1F916 ROBOT FACE]``."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"[{code} {name}]" if name else f"[{code}]"


def clean(text: object) -> str:
    """``text`` as a document writes it (see the module docstring): nothing vanishes."""
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", TAB)
    have = covered()
    out = []
    for char in value:
        if char in DROPPED:
            continue
        if char == "\n" or (ord(char) in have and unicodedata.category(char) != "Cc"):
            out.append(char)
        else:
            out.append(token(char))
    return "".join(out)


# --- dates -----------------------------------------------------------------------------------


def _aware(value: datetime | str) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_moment(value: datetime | str | None, language: str) -> str:
    """``20.03.2026 14:05 (UTC+05:00, Алматы)``; empty for None/""."""
    if value in (None, ""):
        return ""
    from dpa_panel.i18n.formatting import to_local

    local = to_local(_aware(value))
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{local.strftime('%d.%m.%Y %H:%M')} ({offset}, {tr(language, 'doc.almaty')})"


def format_day(value: date | datetime | str | None) -> str:
    """``20.03.2026`` (a moment: its Almaty date); empty for None/""."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else (
            date.fromisoformat(value))  # fmt: skip
    if isinstance(value, datetime):
        from dpa_panel.i18n.formatting import to_local

        value = to_local(_aware(value)).date()
    return value.strftime("%d.%m.%Y")


# --- the document builder --------------------------------------------------------------------


class Document:
    """An A4 PDF with the stack loaded; every string goes through ``clean``.

    ``written`` keeps every cleaned string in order (tests compare it with the extracted
    text); ``appendix`` starts the labelled technical-evidence part on a new page.

    The PDF disclosure package (layout 2) is built with this class and must rebuild byte for
    byte: a change to how text is cleaned, wrapped or placed here changes those bytes (a test
    pins them) — give the package a new layout instead."""

    def __init__(self, *, title: str = "", creation: datetime | None = None,
                 orientation: str = "P") -> None:  # fmt: skip
        from fpdf import FPDF

        _require_font()
        pdf = FPDF(orientation=orientation, format="A4")
        pdf.set_creator("DPA Panel")
        if creation is not None:
            from datetime import UTC

            pdf.set_producer("DPA Panel")
            pdf.set_creation_date(_aware(creation).astimezone(UTC).replace(microsecond=0))
        if title:
            pdf.set_title(clean(title))
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_font(FAMILY, "", str(FONT_PATH))
        pdf.add_font(FAMILY, "B", str(FONT_BOLD_PATH if FONT_BOLD_PATH.exists() else FONT_PATH))
        fallbacks = []
        for name, path in FALLBACK_FONTS:
            if path.exists():
                pdf.add_font(name, "", str(path))
                fallbacks.append(name)
        if fallbacks:
            pdf.set_fallback_fonts(fallbacks, exact_match=False)
        pdf.add_page()
        pdf.set_font(FAMILY, "", 10)
        self.pdf = pdf
        self.written: list[str] = []
        self.appendix_written: list[str] = []
        self._in_appendix = False

    def write(self, text: object, *, size: float = 10, bold: bool = False,
              height: float | None = None, indent: float = 0) -> None:  # fmt: skip
        """One paragraph, wrapped at spaces (a word wider than the line at characters).

        The lines are measured here and written with ``cell``: fpdf2's ``multi_cell`` costs
        about three times as much, which a 1,000-act export felt."""
        from fpdf.enums import XPos, YPos

        value = clean(text)
        (self.appendix_written if self._in_appendix else self.written).append(value)
        pdf = self.pdf
        pdf.set_font(FAMILY, "B" if bold else "", size)
        width = pdf.epw - indent
        for line in self._wrap(value, width):
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(width, height or size * 0.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _wrap(self, value: str, width: float) -> list[str]:
        """Greedy wrapping: each word measured once (fpdf2 parses the string on every
        measurement), a word wider than the line split at the longest prefix that fits."""
        measure = self.pdf.get_string_width
        space = measure(" ")
        lines: list[str] = []
        for paragraph in value.split("\n"):
            if measure(paragraph) <= width:
                lines.append(paragraph)
                continue
            current: str | None = None
            used = 0.0
            for word in paragraph.split(" "):
                size = measure(word) if word else 0.0
                if current is not None and used + space + size <= width:
                    current, used = f"{current} {word}", used + space + size
                    continue
                if current is not None:
                    lines.append(current)
                while size > width:
                    lo, hi = 1, len(word)  # the longest prefix that fits (at least 1 char)
                    while lo < hi:
                        mid = (lo + hi + 1) // 2
                        lo, hi = (mid, hi) if measure(word[:mid]) <= width else (lo, mid - 1)
                    lines.append(word[:lo])
                    word = word[lo:]
                    size = measure(word)
                current, used = word, size
            lines.append(current or "")
        return lines

    def operator(self, lines) -> None:
        for line in lines:
            self.write(line, size=9, height=4.5)
        self.space(4)

    def title(self, text: str) -> None:
        self.write(text, size=15, bold=True, height=8)

    def heading(self, text: str) -> None:
        self.space(2)
        self.write(text, size=12, bold=True, height=7)

    def subheading(self, text: str) -> None:
        self.write(text, size=10, bold=True, height=5.5)

    def field(self, label: str, value: object, *, indent: float = 0) -> None:
        if value in (None, ""):
            return
        self.write(f"{label}: {value}", size=9, height=4.5, indent=indent)

    def space(self, height: float = 2) -> None:
        self.pdf.ln(height)

    def appendix(self, title: str, note: str = "") -> None:
        self.pdf.add_page()
        self._in_appendix = True
        self.title(title)
        if note:
            self.write(note, size=9, height=4.5)
        self.space(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
