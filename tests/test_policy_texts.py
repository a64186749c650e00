"""The shipped policy texts: Kazakh is the customer's original; renderings keep its structure."""

from __future__ import annotations

import re
from pathlib import Path

from dpa_panel.services.policy_texts import load_edition, text_sha256

SHARED_KK = Path(__file__).resolve().parents[2] / "shared" / "policy" / "privacy-policy.kk.txt"


def _clause_numbers(text: str) -> list[str]:
    return re.findall(r"^(\d+\.(?:\d+\.)?)\s", text, flags=re.M)


def test_renderings_keep_every_clause_number():
    edition = load_edition("v1")
    kk = _clause_numbers(edition.texts["kk"])
    assert len(kk) >= 20
    assert _clause_numbers(edition.texts["ru"]) == kk
    assert _clause_numbers(edition.texts["en"]) == kk
    bullets = edition.texts["kk"].count("●")
    assert edition.texts["ru"].count("●") == bullets == edition.texts["en"].count("●")


def test_hash_ignores_line_ending_style_only():
    assert text_sha256("a\nb\n") == text_sha256("a\r\nb\r\n") == text_sha256("a\nb")
    assert text_sha256("a\nb") != text_sha256("a\nc")


def test_shipped_kazakh_text_is_the_policy_from_shared_when_present():
    if not SHARED_KK.exists():  # shared/ sits beside the repo in CI and in development
        import pytest

        pytest.skip(f"{SHARED_KK} not present")
    assert text_sha256(load_edition("v1").texts["kk"]) == text_sha256(
        SHARED_KK.read_text(encoding="utf-8")
    )
