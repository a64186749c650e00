"""Checking and cleaning form input: phones, e-mails, free text, the whole application form.

Pure functions: no database is involved, so these tests do not need the ``engine`` fixture.
"""

from __future__ import annotations

import pytest

from dpa_panel.i18n import LOCALES, tr
from dpa_panel.models import vocab
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import (
    APPLICATION_FIELDS,
    clean_text,
    normalise_kz_phone,
    validate_application_fields,
    validate_email,
)
from tests.pipeline_helpers import form


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (701) 123-45-67", "+77011234567"),
        ("+7 701 123 45 67", "+77011234567"),
        ("87011234567", "+77011234567"),
        ("77011234567", "+77011234567"),
        ("7011234567", "+77011234567"),
        ("+7-701-123-4567", "+77011234567"),
        ("+7 (747) 000.11.22", "+77470001122"),
        ("  8 777 555 44 33  ", "+77775554433"),
        ("8(727)2501234", "+77272501234"),  # Almaty landline
        ("+7 (7172) 55-66-77", "+77172556677"),  # Astana landline
        ("+7 600 000 00 00", "+76000000000"),
        # refused
        ("+1 202 555 0123", None),
        ("+7 495 123 45 67", None),  # Moscow: Russia's part of +7
        ("8 916 123 45 67", None),
        ("8 700 123", None),
        ("+7 701 123 45 678", None),
        ("701123456", None),
        ("8 701 ABC 45 67", None),
        ("телефон", None),
        ("+7 701 123 45 67 доб. 5", None),
        ("++7 701 123 45 67", None),
        ("7+701 123 45 67", None),
        ("+8 701 123 45 67", None),
        ("9 701 123 45 67", None),
        ("٨٧٠١١٢٣٤٥٦٧", None),  # non-ASCII digits
        ("", None),
        (None, None),
    ],
)
def test_phone_spellings(raw, expected):
    assert normalise_kz_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aigul@mail.kz", "aigul@mail.kz"),
        ("  Aigul.Serik@Mail.KZ ", "Aigul.Serik@mail.kz"),
        ("a+tag@sub.example.com", "a+tag@sub.example.com"),
        ("o'neil@example.org", "o'neil@example.org"),
        ("info@медиа.қаз", "info@медиа.қаз"),
        ("info@xn--80aswg.xn--p1ai", "info@xn--80aswg.xn--p1ai"),
        ("", None),
        ("aigul", None),
        ("aigul@", None),
        ("@mail.kz", None),
        ("aigul@mail", None),
        ("aigul@@mail.kz", None),
        ("ai gul@mail.kz", None),
        (".aigul@mail.kz", None),
        ("ai..gul@mail.kz", None),
        ("aigul@-mail.kz", None),
        ("aigul@mail..kz", None),
        ("aigul@mail.k", None),
        ("aigul@mail.kz1", None),
        ("айгүл@mail.kz", None),  # local part must be ASCII
        ("<script>@mail.kz", None),
        ("a" * 65 + "@mail.kz", None),
        ("a@" + "b" * 250 + ".kz", None),
    ],
)
def test_email(raw, expected):
    assert validate_email(raw) == expected


def test_email_length_limit_is_254():
    def address(last_label: int) -> str:
        return f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * last_label}.kz"

    assert len(address(58)) == 254 and validate_email(address(58)) == address(58)
    assert len(address(59)) == 255 and validate_email(address(59)) is None


@pytest.mark.parametrize(
    ("raw", "multiline", "value", "error"),
    [
        ("  Ахметова  ", False, "Ахметова", None),
        ("", False, "", "field.required"),
        ("   \t ", False, "", "field.required"),
        ("Ахме\x00това", False, "Ахме\x00това", "field.control_chars"),
        ("line\nbreak", False, "line\nbreak", "field.line_break"),
        ("tab\tinside", False, "tab\tinside", "field.control_chars"),
        ("bell\x07", False, "bell\x07", "field.control_chars"),
        ("del\x7f", False, "del\x7f", "field.control_chars"),
        ("c1\x85char", True, "c1\x85char", "field.control_chars"),
        ("one\r\ntwo\rthree\n\tfour", True, "one\ntwo\nthree\n\tfour", None),
        ("escape\x1b[31m", True, "escape\x1b[31m", "field.control_chars"),
    ],
)
def test_clean_text_control_characters(raw, multiline, value, error):
    assert clean_text(raw, 100, required=True, multiline=multiline) == (value, error)


def test_clean_text_keeps_html_as_typed():
    typed = '<b>Редактор</b> & <script>alert("x")</script>'
    assert clean_text(typed, 200, required=True) == (typed, None)
    values, errors = validate_application_fields(form(position=typed, other_info=typed))
    assert not errors
    assert values["position"] == typed and values["other_info"] == typed


def test_clean_text_lengths():
    assert clean_text("я" * 100, 100, required=True) == ("я" * 100, None)
    assert clean_text("я" * 101, 100, required=True)[1] == "field.too_long"
    assert clean_text("  " + "я" * 100 + "  ", 100, required=True)[1] is None  # stripped first
    assert clean_text(None, 10, required=False) == ("", None)


def test_valid_form_is_cleaned():
    values, errors = validate_application_fields(form(email="Aigul@MAIL.KZ", patronymic="  "))
    assert errors == {}
    assert set(values) == set(APPLICATION_FIELDS)
    assert values["phone"] == "+77011234567"
    assert values["email"] == "Aigul@mail.kz"
    assert values["patronymic"] is None
    assert values["experience_years"] == 7


def test_every_invalid_field_is_reported_at_once():
    raw = form(
        surname="",
        first_name="Я" * 101,
        phone="+1 202 555 0123",
        email="not-an-email",
        workplace="",
        workplace_category="space_agency",
        position="x\x00",
        position_level="",
        education_level="phd",
        education="e" * 1001,
        experience_years="7.5",
        experience="e" * 2001,
        other_info="o" * 2001,
    )
    _, errors = validate_application_fields(raw)
    assert errors == {
        "surname": "field.required",
        "first_name": "field.too_long",
        "phone": "field.phone_invalid",
        "email": "field.email_invalid",
        "workplace": "field.required",
        "workplace_category": "field.choice_invalid",
        "position": "field.control_chars",
        "position_level": "field.required",
        "education_level": "field.choice_invalid",
        "education": "field.too_long",
        "experience_years": "field.number_invalid",
        "experience": "field.too_long",
        "other_info": "field.too_long",
    }


def test_missing_fields_count_as_empty_and_unknown_keys_are_ignored():
    values, errors = validate_application_fields({"surname": "Ким", "is_admin": "1"})
    assert "is_admin" not in values
    assert errors["first_name"] == "field.required"
    assert errors["phone"] == "field.required" and errors["email"] == "field.required"
    for optional in ("patronymic", "education", "experience_years", "experience", "other_info"):
        assert optional not in errors


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("", None, None),
        ("0", 0, None),
        (" 80 ", 80, None),
        ("81", "81", "field.number_invalid"),
        ("-1", "-1", "field.number_invalid"),
        ("five", "five", "field.number_invalid"),
        ("１０", "１０", "field.number_invalid"),  # full-width digits
    ],
)
def test_experience_years(raw, value, error):
    values, errors = validate_application_fields(form(experience_years=raw))
    assert values["experience_years"] == value
    assert errors.get("experience_years") == error


@pytest.mark.parametrize(
    ("field", "codes"),
    [
        ("workplace_category", vocab.WORKPLACE_CATEGORIES),
        ("position_level", vocab.POSITION_LEVELS),
        ("education_level", vocab.EDUCATION_LEVELS),
    ],
)
def test_choices_accept_exactly_the_vocabulary(field, codes):
    for code in codes:
        assert field not in validate_application_fields(form(**{field: code}))[1]
    assert validate_application_fields(form(**{field: "MEDIA"}))[1][field] == (
        "field.choice_invalid"
    )


def test_error_keys_exist_in_every_catalog():
    keys = {
        "form.has_errors",
        "field.required",
        "field.too_long",
        "field.control_chars",
        "field.phone_invalid",
        "field.email_invalid",
        "field.choice_invalid",
        "field.number_invalid",
    }
    for locale in LOCALES:
        for key in keys:
            assert tr(locale, key)
    assert "+7 701 123 45 67" in tr("en", "field.phone_invalid")


def test_validation_failed_carries_every_error():
    failed = ValidationFailed({"email": "field.email_invalid", "phone": "field.phone_invalid"})
    assert isinstance(failed, ServiceError)
    assert failed.key == "form.has_errors"
    assert failed.field == "email"
    assert failed.errors == {"email": "field.email_invalid", "phone": "field.phone_invalid"}
