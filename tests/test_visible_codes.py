"""``visible_code_tokens``: finds codes in visible text, leaves people's text alone."""

from __future__ import annotations

import pytest

from tests.visible_codes import visible_code_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("02.12.26, 04:48 · admin · auth.session_started", ["auth.session_started"]),
        ("membership_application 238", ["membership_application"]),
        ('{"fields":["surname"]} timeline.note', ["timeline.note"]),
        ("Жою (sweep) retention.sweep_ran", ["retention.sweep_ran"]),
        ("Run `dpa-panel doctor` for more", ["`dpa-panel doctor`"]),
        ("status: in_review, then info_requested", ["in_review", "info_requested"]),
        ("audit.read and audit.read again", ["audit.read"]),
        ("Entity: data_subject.", ["data_subject"]),
        ("(application_status.approved)", ["application_status.approved"]),
    ],
)
def test_codes_are_found(text, tokens):
    assert visible_code_tokens(text) == tokens


@pytest.mark.parametrize(
    "text",
    [
        "Write to dpo@pr-media.kz or first.last_name@example.com.",
        "See https://adilet.zan.kz/rus/docs/Z1300000094_ and www.example.kz/a_b",
        "Download report_2026.pdf, members_export.xlsx or audit_trail.csv",
        "Version 1.2.3, v2.0, build 2026.12.06",
        "e.g. the form; i.e. the member. Т.е. заявка, т.б.",
        "Жеке деректер — Персональные данные — Personal data",
        "Host panel.example.kz is up. 3.5 MB used.",
        "A–Z, 10:45, 06.12.2026, +7 701 123 45 67, SHA-256, PR-агенттік",
        "The reference is APP-2026-000123.",
        "Chrome 131 on Linux x86_64",
        "",
    ],
)
def test_people_text_is_left_alone(text):
    assert visible_code_tokens(text) == []


def test_order_and_uniqueness():
    assert visible_code_tokens("b_c ab.cd b_c x_y") == ["b_c", "ab.cd", "x_y"]


def test_words_people_chose_are_not_codes_when_allowed():
    """A username such as ``dana.new`` is shown as typed: allowed by name, still a code
    otherwise — and the allowance covers only that word."""
    text = "dana.new changed auth.session_started"
    assert visible_code_tokens(text) == ["dana.new", "auth.session_started"]
    assert visible_code_tokens(text, {"dana.new"}) == ["auth.session_started"]
