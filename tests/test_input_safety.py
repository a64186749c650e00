"""Hidden characters and hand-made payloads (issue 15, hole 6).

The public form's handler is callable by any browser with any JSON. Bidi controls, zero-width
characters and line separators must not be stored in names; a dict, list or number where text
is expected must be refused with a message in the user's language and nothing stored — tested
on the validator, through the real ``ApplyState.submit`` handler, and on officer fields that
share the validator.
"""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from dpa_panel.db import session_scope
from dpa_panel.i18n import LOCALES, tr
from dpa_panel.models import Consent, DataSubject, MembershipApplication
from dpa_panel.services import applications
from dpa_panel.services import disclosures as ds
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import (
    BIDI_CONTROLS,
    ZERO_WIDTH,
    clean_text,
    form_flag,
    validate_application_fields,
)
from tests.handler_call import run_handler
from tests.pipeline_helpers import form, make_staff, submit

INVISIBLE = sorted(BIDI_CONTROLS | ZERO_WIDTH)
NEW_KEYS = ("field.invisible_chars", "field.line_break", "field.not_text", "apply.bad_input")


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}"


# --- the validator ---------------------------------------------------------------------------


def test_the_listed_characters_are_all_there():
    expected = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
                0x200E, 0x200F, 0x061C, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}  # fmt: skip
    assert {ord(c) for c in INVISIBLE} == expected


@pytest.mark.parametrize("ch", INVISIBLE, ids=_name)
@pytest.mark.parametrize("multiline", [False, True])
def test_invisible_characters_are_refused(ch, multiline):
    value, error = clean_text(f"Али{ch}ева", 100, required=True, multiline=multiline)
    assert error == "field.invisible_chars" and value == f"Али{ch}ева"


@pytest.mark.parametrize("ch", ["\u00ad", "\u180e", "\U000e0001", "\u206a"], ids=_name)
def test_every_other_format_character_is_refused_too(ch):
    assert unicodedata.category(ch) == "Cf"
    assert clean_text(f"a{ch}b", 100, required=True)[1] == "field.invisible_chars"


@pytest.mark.parametrize("ch", ["\u2028", "\u2029", "\n", "\r", "\x85", "\x0b"], ids=_name)
def test_line_breaks_are_refused_in_one_line_fields(ch):
    assert clean_text(f"Ахметова{ch}Айгүл", 100, required=True)[1] == "field.line_break"


def test_multi_line_text_keeps_line_breaks_as_newlines():
    value, error = clean_text("one\u2028two\u2029three\r\nfour", 100, required=False,
                              multiline=True)  # fmt: skip
    assert (value, error) == ("one\ntwo\nthree\nfour", None)


def test_text_is_nfc_normalised():
    decomposed = "Баи\u0306ке Сеи\u0306ітқали Ё".replace("Ё", "Е\u0308")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    value, error = clean_text(decomposed, 100, required=True)
    assert error is None and value == "Байке Сейітқали Ё"
    assert value == unicodedata.normalize("NFC", value)
    # Kazakh letters are single code points already and stay as typed.
    assert clean_text("Әлия Ғұмар Өмірқұл Үкібай Ңң Һһ Іі", 100, required=True)[1] is None


@pytest.mark.parametrize("raw", [{"$gt": ""}, ["a", "b"], 7, 7.5, True, b"bytes"], ids=repr)
def test_a_value_that_is_not_text_is_refused(raw):
    assert clean_text(raw, 100, required=False) == ("", "field.not_text")
    values, errors = validate_application_fields(form(surname=raw, experience_years=raw))
    assert errors == {"surname": "field.not_text", "experience_years": "field.not_text"}
    assert values["surname"] == ""  # never its Python spelling


def test_none_is_empty():
    assert clean_text(None, 10, required=True) == ("", "field.required")
    values, errors = validate_application_fields(form(surname=None, patronymic=None))
    assert errors == {"surname": "field.required"} and values["patronymic"] is None


def test_checkbox_values():
    assert [form_flag(v) for v in ("on", True, None, "", False, "true")] == [
        True, True, False, False, False, True,
    ]  # fmt: skip
    for odd in ([], {}, 1, ["on"]):
        assert form_flag(odd) is None


def test_messages_exist_in_three_languages():
    for key in NEW_KEYS:
        texts = {locale: tr(locale, key) for locale in LOCALES}
        assert len(set(texts.values())) == len(LOCALES), key  # kk is not a copy of ru
        assert all(text and text != key for text in texts.values())


# --- the public form's handler ---------------------------------------------------------------


def _counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (DataSubject, MembershipApplication, Consent)
        )


def _submit(payload, locale: str = "en"):
    """Call the real ``ApplyState.submit`` (its guard included) on a fresh anonymous tab."""
    from reflex.state import State

    import dpa_panel.dpa_panel  # noqa: F401  (registers the app's states)
    from dpa_panel.state.apply_state import ApplyState

    root = State(_reflex_internal_init=True)
    state = root.get_substate(ApplyState.get_full_name().split(".")[1:])
    state.locale = locale
    run_handler(ApplyState.submit.fn(state, payload))
    return state


def _payload(**overrides) -> dict:
    return {**form(), "consent_application_review": "on", **overrides}


#: (field, value) pairs from issue 15's report and around it.
BAD_FIELDS = [
    ("surname", {"$gt": ""}, "field.not_text"),
    ("first_name", ["a", "b"], "field.not_text"),
    ("experience_years", 7, "field.not_text"),
    ("workplace", None, "field.required"),
    ("surname", "Али\u202eвоН", "field.invisible_chars"),
    ("first_name", "Ай\u200bгүл", "field.invisible_chars"),
    ("patronymic", "Серік\ufeffқызы", "field.invisible_chars"),
    ("position", "Редактор\u2028Бас редактор", "field.line_break"),
    ("workplace", "ЖШС\u2066«Дала»\u2069", "field.invisible_chars"),
    ("other_info", "ok\u202e", "field.invisible_chars"),
]


@pytest.mark.parametrize(("field", "value", "key"), BAD_FIELDS, ids=lambda v: repr(v)[:20])
def test_the_handler_refuses_bad_fields_and_stores_nothing(engine, field, value, key):
    before = _counts(engine)
    for locale in LOCALES:
        state = _submit(_payload(**{field: value}), locale)
        assert state.reference == ""
        assert state.errors == {field: tr(locale, key)}
        assert state.form_error == tr(locale, "form.has_errors")
    assert _counts(engine) == before


@pytest.mark.parametrize(
    "payload",
    [
        ["surname", "Ахметова"],
        "surname=Ахметова",
        _payload(consent_application_review=["on"]),
        _payload(consent_informing={"$ne": None}),
        _payload(consent_feedback=1),
    ],
    ids=["list", "string", "consent-list", "consent-dict", "consent-number"],
)
def test_the_handler_refuses_a_payload_no_form_sends(engine, payload):
    before = _counts(engine)
    state = _submit(payload, "kk")
    assert state.form_error == tr("kk", "apply.bad_input") and state.reference == ""
    assert _counts(engine) == before


def test_a_clean_submission_through_the_handler_is_stored_in_nfc(engine):
    state = _submit(_payload(surname="Сеи\u0306ітқали", consent_informing=True))
    assert state.form_error == "" and state.reference.startswith("A-")
    with session_scope(engine) as s:
        subject = s.scalars(select(DataSubject)).one()
        assert subject.surname == "Сейітқали"
        purposes = set(s.scalars(select(Consent.purpose_code)))
    assert purposes == {"application_review", "informing"}


# --- officers' fields share the validator ----------------------------------------------------


def test_officer_edits_refuse_the_same_characters_and_values(engine):
    staff = Actor.user(make_staff(engine, "staff1", "staff"))
    app_id = submit(engine)
    with session_scope(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
    cases = {
        "surname": ("Али\u202eвоН", "field.invisible_chars"),
        "first_name": ("Ай\u2028гүл", "field.line_break"),
        "position": ({"$gt": ""}, "field.not_text"),
        "workplace": (["a"], "field.not_text"),
    }
    for name, (value, key) in cases.items():
        with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
            applications.update_subject(s, staff, subject_id, {name: value})
        assert failed.value.errors == {name: key}
    with session_scope(engine) as s:
        assert s.get(DataSubject, subject_id).surname == "Ахметова"


def test_disclosure_register_fields_refuse_hidden_characters(engine):
    officer = Actor.user(make_staff(engine, "officer", "compliance"))
    app_id = submit(engine)
    with session_scope(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
    base = dict(kind="authority", body_type="law_enforcement", body_name="ҚР ІІМ",
                request_number="1/2", request_date="2026-01-05", received_via="post",
                legal_basis="Заң", legal_article="11-бап", answer_due_on="2026-01-15",
                requested_categories=["identity"], subject_ids=[subject_id])  # fmt: skip
    for name, value, key in [
        ("body_name", "ҚР\u202eМІІ", "field.invisible_chars"),
        ("request_number", "1/2\u2028", "field.line_break"),
        ("legal_article", "11\u200b-бап", "field.invisible_chars"),
        ("body_department", ["x"], "field.not_text"),
    ]:
        if name == "request_number":
            value = "1\u20282"  # in the middle: stripping would hide a trailing one
        with pytest.raises((ValidationFailed, ServiceError)) as failed, session_scope(engine) as s:
            ds.create_disclosure(s, officer, ds.DisclosureForm(**{**base, name: value}))
        errors = getattr(failed.value, "errors", {})
        assert errors.get(name) == key, (name, errors)
