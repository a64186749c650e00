"""Privacy-policy editions shipped with the panel, and the hashing rule for policy texts.

The Kazakh text is authoritative (the customer's original); Russian and English are our
renderings. Shipped edition files are frozen once a migration has loaded them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

TEXT_DIR = Path(__file__).resolve().parent.parent / "policy_texts"

#: Editions shipped as files: label -> effective date (clause "Күшіне ену күні").
SHIPPED_EDITIONS = {"v1": date(2025, 5, 27)}

LANGUAGES = ("kk", "ru", "en")


def text_sha256(text: str) -> str:
    """SHA-256 of a text as UTF-8 with normalised line endings (so CRLF copies hash the same)."""
    normalised = text.replace("\r\n", "\n").strip() + "\n"
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Edition:
    label: str
    effective_date: date
    texts: dict[str, str]

    def as_row(self) -> dict:
        """Column values for a ``policy_version`` row."""
        return {
            "label": self.label,
            "effective_date": self.effective_date,
            "text_kk": self.texts["kk"],
            "text_ru": self.texts["ru"],
            "text_en": self.texts["en"],
            "sha256": text_sha256(self.texts["kk"]),
            "sha256_ru": text_sha256(self.texts["ru"]),
            "sha256_en": text_sha256(self.texts["en"]),
            "created_at": datetime.now(UTC),
        }


def load_edition(label: str) -> Edition:
    """Read a shipped edition's three texts from ``policy_texts/<label>.<lang>.txt``."""
    texts = {
        lang: (TEXT_DIR / f"{label}.{lang}.txt").read_text(encoding="utf-8") for lang in LANGUAGES
    }
    return Edition(label=label, effective_date=SHIPPED_EDITIONS[label], texts=texts)


def text_blocks(text: str) -> list[dict[str, str]]:
    """Split a policy text into display blocks: ``title``, ``heading``, ``item``, ``para``.

    The shipped texts are plain lines: the first is the title, ``N. `` starts a section,
    ``●`` a list item. Rendering them as structure (not one pre-formatted blob) keeps the
    page readable on a phone.
    """
    blocks: list[dict[str, str]] = []
    for index, raw in enumerate(line.strip() for line in text.replace("\r\n", "\n").split("\n")):
        if not raw:
            continue
        if index == 0:
            kind = "title"
        elif re.match(r"^\d+\.\s", raw):
            kind = "heading"
        elif raw.startswith("●"):
            kind, raw = "item", raw.lstrip("● ").strip()
        else:
            kind = "para"
        blocks.append({"kind": kind, "text": raw})
    return blocks
