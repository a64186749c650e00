"""Every code the panel writes has a label in kk, ru and en (issue 18): audit actions, the
record types they touch and their details' keys (found in the source by ``tests.audit_codes``),
the application timeline's entries; and the audit viewer turns an event into labelled text."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from dpa_panel.i18n import CATALOGS, LOCALES, tr
from dpa_panel.models import vocab
from dpa_panel.services import audit_view
from tests.audit_codes import collect
from tests.visible_codes import visible_code_tokens

FOUND = collect()


def test_the_collector_follows_every_action():
    assert not FOUND.unresolved, FOUND.unresolved
    # Sanity: the collector sees constants, variables, imported constants and dict lookups.
    expected = (
        "auth.session_started",
        "member.suspended",
        "retention.sweep_ran",
        "backup.restored",
        "application.duplicate_refused",
        "subject.unblocked",
    )
    for code in expected:
        assert code in FOUND.actions
    assert len(FOUND.actions) > 100


@pytest.mark.parametrize("locale", LOCALES)
def test_every_audit_action_entity_and_detail_has_a_label(locale):
    cat = CATALOGS[locale]
    missing = [f"audit_action.{a}" for a in FOUND.actions if f"audit_action.{a}" not in cat]
    missing += [f"audit_entity.{e}" for e in FOUND.entities if f"audit_entity.{e}" not in cat]
    missing += [f"audit_detail.{k}" for k in FOUND.detail_keys if f"audit_detail.{k}" not in cat]
    assert not missing, sorted(missing)


@pytest.mark.parametrize("locale", LOCALES)
def test_labels_are_not_codes(locale):
    cat = CATALOGS[locale]
    bad = {
        k: v for k, v in cat.items()
        if k.startswith(("audit_", "application_event.", "holiday_name.", "calendar_source.",
                         "settings.detail."))
        and visible_code_tokens(re.sub(r"\{\w+\}", "", v))
    }  # fmt: skip
    assert not bad, bad


@pytest.mark.parametrize("locale", LOCALES)
def test_every_timeline_entry_and_status_has_a_label(locale):
    cat = CATALOGS[locale]
    for kind in vocab.APPLICATION_EVENT_KINDS:
        assert cat[f"application_event.{kind}"]
    for kind in vocab.REQUEST_EVENT_KINDS:
        assert cat[f"request_event.{kind}"]
    for status in vocab.OUTBOX_STATUSES:
        assert cat[f"outbox.status.{status}"]
    for kind in vocab.CALENDAR_ENTRY_KINDS:
        assert cat[f"calendar.kind.{kind}"]


def _event(**kw):
    base = dict(id=7, actor_type="user", actor_id=1, action="application.status_changed",
                entity_type="membership_application", entity_id="12", client_ip="",
                details=json.dumps({"from": "in_review", "to": "approved", "fields": ["surname"],
                                    "has_end": False}))  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize("locale", LOCALES)
def test_an_event_reads_as_who_did_what_to_which_record(locale):
    cat = CATALOGS[locale]
    e = _event()
    staff = {1: ("dana", "compliance")}
    refs = {("membership_application", "12"): "A-2026-000012"}
    who = audit_view.actor_text(locale, e, staff)
    assert who == f"dana ({cat['role.compliance']})"
    label = cat["audit_action.application.status_changed"]
    assert audit_view.action_label(locale, e.action) == label
    assert audit_view.record_text(locale, e, refs) == (
        f"{cat['audit_entity.membership_application']} A-2026-000012"
    )
    details = audit_view.details_text(locale, e.details, e.entity_type)
    assert cat["application_status.in_review"] in details
    assert cat["application_status.approved"] in details
    assert cat["subject.surname"] in details and cat["audit.no"] in details
    assert "{" not in details and not visible_code_tokens(details)
    raw = {
        "source_ref": "disclosure:1",
        "filters": {"action": "auth.logout", "kind": ""},
        "view": "board",
        "page": 1,
        "status": "",
    }
    held = audit_view.details_text(locale, json.dumps(raw))
    assert cat["audit_entity.disclosure"] in held and cat["audit_action.auth.logout"] in held
    assert not visible_code_tokens(held) and "disclosure:1" not in held
    assert cat["pipeline.board"] in held and cat["role.board"] not in held
    assert f"{cat['audit_detail.status']}:" not in held  # empty values are left out
    listed = audit_view.details_text(locale, json.dumps({"filters": ["kind", "status"]}))
    assert cat["audit_detail.kind"] in listed and cat["audit_detail.status"] in listed
    # Without a reference the record is numbered; an unknown code never shows itself.
    assert "12" in audit_view.record_text(locale, _event(entity_type="data_subject"), {})
    assert audit_view.action_label(locale, "old.code") == cat["audit.unknown_action"]
    public = audit_view.actor_text(locale, _event(actor_type="public", actor_id=None), staff)
    assert public == cat["audit.actor_public"]


def test_action_filter_offers_labels_with_codes_as_values():
    options = audit_view.action_options("ru", ["auth.logout", "application.read"])
    assert {o["value"] for o in options} == {"auth.logout", "application.read"}
    assert all(not visible_code_tokens(o["label"]) for o in options)
    assert [o["label"] for o in options] == sorted(o["label"] for o in options)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_every_seeded_calendar_name_and_source_has_a_label(engine):
    from sqlalchemy import text

    from dpa_panel.services import calendar_labels

    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT DISTINCT name FROM holiday")).scalars())
        sources = set(conn.execute(text("SELECT DISTINCT source FROM holiday")).scalars())
        sources |= set(conn.execute(text("SELECT DISTINCT source FROM request_deadline")).scalars())
    assert names and sources
    assert names <= set(calendar_labels.NAMES), names - set(calendar_labels.NAMES)
    assert sources - {""} <= set(calendar_labels.SOURCES), sources - set(calendar_labels.SOURCES)
    for locale in LOCALES:
        shown = {calendar_labels.holiday_name(locale, n) for n in names}
        assert not any(" / " in n for n in shown)  # one language, not "Жаңа жыл / New Year"
        assert calendar_labels.holiday_name(locale, "Өз атауы") == "Өз атауы"  # typed: as is
    assert calendar_labels.holiday_name("ru", "Жаңа жыл / New Year") == "Новый год"


@pytest.mark.parametrize("locale", LOCALES)
def test_timeline_entries_say_who_did_what(locale):
    from datetime import UTC, datetime

    from dpa_panel.state.application_detail_state import timeline_entry

    cat = CATALOGS[locale]
    when = datetime(2026, 12, 2, 4, 48, tzinfo=UTC)

    def entry(kind, actor_id=None, text=""):
        event = SimpleNamespace(occurred_at=when, actor_id=actor_id, kind=kind, text=text,
                                from_status=None, to_status=None)  # fmt: skip
        return timeline_entry(event, {3: "aigerim"}, locale)

    submitted = entry("submitted")
    assert submitted["what"] == cat["application_event.submitted"]
    assert submitted["who"] == cat["application_event.by_applicant"]
    assigned = entry("assigned", 3, "dana")
    assert assigned["who"] == "aigerim"
    assert assigned["text"] == cat["application_event.assigned_to"].format(name="dana")
    assert entry("assigned", 3, "")["text"] == cat["application_event.unassigned"]
    edited = entry("edited", 3, "surname, postal_code")
    assert cat["subject.surname"] in edited["text"] and "postal_code" not in edited["text"]
    for kind in vocab.APPLICATION_EVENT_KINDS:
        e = entry(kind, 3, "x")
        shown = " ".join(v for k, v in e.items() if k not in ("kind", "from", "to"))
        assert e["what"] and e["who"] and not visible_code_tokens(shown)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_login_step_and_second_factor_values_read_as_words(locale):
    """The login events note the next step and the factor used; their coded values ("code",
    "totp") are shown as words, never as the code."""
    for key, values in (("next", ("code", "enrol", "codes")),
                        ("second_factor", ("totp", "recovery", "enrolled", "replay"))):  # fmt: skip
        for value in values:
            text = audit_view._value_text(locale, key, value, "staff_user")
            assert text == tr(locale, f"audit_value.{key}.{value}")
            assert text != value
