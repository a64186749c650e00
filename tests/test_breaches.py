"""Issue 17: the organisation profile (BIN check, e-mail, responsible person, placeholders,
documents) and the breach register (deadline on the Kazakhstan calendar, refusals that change
nothing, notifications, reminders through the one outbox, closure, exports, the subject's
report). SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import AuditEvent, DataSubject, OutboxMessage, StaffUser
from dpa_panel.services import breach_documents, breaches, consent, org_profile, requests
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from tests.pipeline_helpers import make_staff
from tests.test_requests import _pdf_text

GOOD_BIN = "180240005439"  # check digit 9: sum(d*w, w=1..11) = 163, 163 % 11 = 9
#: Friday 20 March 2026, 16:30 Almaty: Nauryz (Sat 21, Sun 22, Mon 23) moves days off to
#: Tue 24 and Wed 25, so one working day after detection is Thursday 26 March.
FRIDAY = datetime(2026, 3, 20, 11, 30, tzinfo=UTC)
_n = itertools.count()


@pytest.fixture
def admin(engine) -> Actor:
    return Actor.user(make_staff(engine, "aliya", "admin"))


@pytest.fixture
def officer(engine) -> Actor:
    uid = make_staff(engine, "dana", "compliance")
    with engine.begin() as conn:
        conn.execute(text("UPDATE staff_user SET email = 'dana@assoc.kz', language = 'ru' "
                          "WHERE id = :i"), {"i": uid})  # fmt: skip
    return Actor.user(uid)


PROFILE = {
    "name_kk": "Мамандар Ассоциациясы", "name_ru": "Ассоциация специалистов",
    "name_en": "Association of Specialists", "bin": GOOD_BIN, "address": "Алматы, Абай 1",
    "dp_email": "privacy@assoc.kz", "responsible_contact": "+7 701 000 00 00",
    "authority_name": "МЦРИАП РК", "authority_contact": "kense@mdai.gov.kz",
}  # fmt: skip


def fill_profile(engine, actor, **overrides):
    with session_scope(engine) as s:
        org_profile.update_profile(
            s, actor, {**PROFILE, "responsible_user_id": str(actor.user_id), **overrides}
        )


def subject(engine, language="kk", email=True) -> int:
    with session_scope(engine) as s:
        n = next(_n)
        row = DataSubject(
            surname="Сейтқали", first_name=f"Ерлан{n}", phone="+77011234567",
            email=f"erlan.{n}@example.kz" if email else "", workplace="Qazaq Media",
            position="Editor", language=language,
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            for t in ("organisation_profile", "breach", "breach_subject", "outbox_message",
                      "policy_version", "data_inventory")
        }  # fmt: skip


# --- organisation profile -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, ok",
    [(GOOD_BIN, True), ("180240005434", False), ("18024000543", False), ("18024000543a", False),
     ("000000000000", True), ("１８０２４０００５４３９", False)],
)  # fmt: skip
def test_bin_check_digit(value, ok):
    assert org_profile.bin_is_valid(value) is ok


def test_bin_second_weights_when_the_first_sum_gives_ten():
    # digits chosen so that sum(d*w, 1..11) % 11 == 10 and the second weights give 4
    base = "00000000001"  # 1*11 = 11 -> 0 ... search one deterministically
    found = None
    for n in range(10**5):
        body = f"{n:011d}"
        first = sum(int(d) * w for d, w in zip(body, range(1, 12), strict=True)) % 11
        if first == 10:
            second = sum(int(d) * w for d, w in zip(body, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2],
                                                        strict=True)) % 11  # fmt: skip
            if second < 10:
                found = body + str(second)
                break
    assert found and found != base
    assert org_profile.bin_is_valid(found)
    assert not org_profile.bin_is_valid(found[:-1] + str((int(found[-1]) + 1) % 10))


@pytest.mark.parametrize(
    "override, field, key",
    [({"bin": "180240005434"}, "bin", "profile.bad_bin"),
     ({"dp_email": "privacy at assoc"}, "dp_email", "profile.bad_email"),
     ({"responsible_user_id": "999999"}, "responsible_user_id", "profile.bad_responsible")],
)  # fmt: skip
def test_bad_profile_changes_nothing(engine, admin, override, field, key):
    before = snapshot(engine)
    with pytest.raises(ValidationFailed) as err:
        fill_profile(engine, admin, **override)
    assert err.value.errors[field] == key
    assert snapshot(engine) == before


def test_profile_saved_audited_and_complete(engine, admin):
    with Session(engine) as s:
        assert "dp_email" in org_profile.missing_fields(s)
    fill_profile(engine, admin)
    with Session(engine) as s:
        assert org_profile.missing_fields(s) == []
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "profile.updated")).one()
        assert "dp_email" in event.details and "bin" in event.details
        lines = org_profile.document_header(s, "ru")
    assert lines[0] == "Ассоциация специалистов"
    assert f"БИН: {GOOD_BIN}" in lines and any("privacy@assoc.kz" in x for x in lines)


def test_placeholders_filled_for_display_and_stored_text_unchanged(engine, admin):
    fill_profile(engine, admin)
    with Session(engine) as s:
        edition = consent.policy.edition_by_label(s, "v1")
        stored = (edition.text_kk, edition.sha256)
        profile = org_profile.public_profile(s)
        for lang, raw in (("kk", edition.text_kk), ("ru", edition.text_ru),
                          ("en", edition.text_en)):  # fmt: skip
            shown, count = org_profile.fill_placeholders(raw, profile, lang)
            assert count == 2 and "privacy@assoc.kz" in shown and "[" not in shown
        edition = consent.policy.edition_by_label(s, "v1")
        assert (edition.text_kk, edition.sha256) == stored


def test_edition_with_an_unfillable_placeholder_cannot_take_force(engine, admin):
    texts = {"text_kk": "Хат: [эл. пошта]", "text_ru": "Письмо: [эл. почта]",
             "text_en": "Write to [e-mail]"}  # fmt: skip
    before = snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:  # profile empty
        consent.add_policy_version(s, admin, label="v2", effective_date=date(2026, 12, 1),
                                   **texts)  # fmt: skip
    assert err.value.key == "policy.unfilled_placeholder"
    assert "[эл. пошта]" in tr("kk", err.value.key, **err.value.params)
    assert snapshot(engine) == before
    fill_profile(engine, admin)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.add_policy_version(s, admin, label="v2", effective_date=date(2026, 12, 1),
                                   **{**texts, "text_en": "Phone [phone number]"})  # fmt: skip
    assert err.value.params["placeholders"] == "[phone number]"
    with session_scope(engine) as s:
        consent.add_policy_version(s, admin, label="v2", effective_date=date(2026, 12, 1),
                                   **texts)  # fmt: skip


# --- breach register -------------------------------------------------------------------------

BREACH = {
    "detected_at": "20.03.2026 16:30", "detected_by": "Дана (комплаенс)",
    "description": "Ноутбук с выгрузкой реестра украден", "data_categories": "ФИО, телефон",
    "subjects_estimate": "40", "systems": "Ноутбук", "cause": "Кража",
    "containment": "Пароли сменены", "risk_assessment": "Высокий",
}  # fmt: skip


def record(engine, actor, now=FRIDAY + timedelta(minutes=5), **overrides) -> int:
    with session_scope(engine) as s:
        return breaches.record_breach(s, actor, {**BREACH, **overrides}, now=now).id


def test_friday_before_nauryz_is_due_on_thursday(engine, officer):
    bid = record(engine, officer)
    with Session(engine) as s:
        b = breaches.get_breach(s, bid)
        assert b.reference == "BR-2026-0001"
        assert b.detected_at == FRIDAY and b.due_date == date(2026, 3, 26)
        cd = breaches.countdown(s, b, FRIDAY + timedelta(hours=1))
        # 17:30 Fri -> 00:00 Fri 27 March Almaty: 6 days 6.5 h
        assert cd.hours_left == 150 and not cd.overdue and cd.working_days_left == 1
        late = breaches.countdown(s, b, datetime(2026, 3, 27, 1, 0, tzinfo=UTC))
        assert late.overdue and late.hours_left == -6  # 06:00 on the 27th


def test_deadline_is_configurable(engine, officer, monkeypatch):
    monkeypatch.setenv("DPA_BREACH_NOTIFY_WORKING_DAYS", "2")
    bid = record(engine, officer)
    with Session(engine) as s:
        assert breaches.get_breach(s, bid).due_date == date(2026, 3, 27)


@pytest.mark.parametrize(
    "override, field, key",
    [({"detected_at": "20.03.2026 17:00"}, "detected_at", "breach.detected_in_future"),
     ({"detected_at": "2026-03-20"}, "detected_at", "breach.bad_time"),
     ({"detected_at": "31.02.2026 10:00"}, "detected_at", "breach.bad_time"),
     ({"description": " "}, "description", "field.required"),
     ({"subjects_estimate": "-3"}, "subjects_estimate", "breach.bad_estimate")],
)  # fmt: skip
def test_bad_breach_changes_nothing(engine, officer, override, field, key):
    before = snapshot(engine)
    with pytest.raises(ValidationFailed) as err:
        record(engine, officer, now=FRIDAY, **override)  # 16:30 Almaty is "now"
    assert err.value.errors[field] == key
    assert snapshot(engine) == before


def test_detection_reminder_through_the_outbox_in_each_language(engine, officer, admin):
    fill_profile(engine, admin)  # the responsible person is the admin (no e-mail: skipped)
    bid = record(engine, officer)
    with Session(engine) as s:
        mails = s.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == breaches.REMINDER_PURPOSE)).all()  # fmt: skip
    assert [m.recipient for m in mails] == ["dana@assoc.kz"]
    assert "BR-2026-0001" in mails[0].subject and "26.03.2026" in mails[0].body
    assert mails[0].subject == tr("ru", "mail.breach.detected.subject", reference="BR-2026-0001")
    assert f"/breaches/{bid}" in mails[0].body


def test_due_and_overdue_reminders_once_each_until_notified(engine, officer):
    bid = record(engine, officer)
    thursday = datetime(2026, 3, 26, 4, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        assert breaches.queue_breach_reminders(s, now=FRIDAY + timedelta(hours=2)) == 0
        assert breaches.queue_breach_reminders(s, now=thursday) == 1
        assert breaches.queue_breach_reminders(s, now=thursday + timedelta(hours=3)) == 0
        assert breaches.queue_breach_reminders(s, now=thursday + timedelta(days=1)) == 1
    with session_scope(engine) as s:
        breaches.record_authority_notification(
            s, officer, bid, sent_at="27.03.2026 10:00", channel="e_government",
            reference="ЖТ-123", now=thursday + timedelta(days=1, hours=2))  # fmt: skip
        assert breaches.queue_breach_reminders(s, now=thursday + timedelta(days=3)) == 0
    with Session(engine) as s:
        kinds = sorted(k.split(":")[2] for k in s.scalars(select(OutboxMessage.dedupe_key)))
        assert kinds == ["detected", "due_today", "overdue"]
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "breach.authority_notified")).one()  # fmt: skip
        assert json.loads(event.details)["late"] is True


@pytest.mark.parametrize(
    "sent_at, channel, key",
    [("20.03.2026 16:00", "email", "breach.notified_before_detection"),
     ("21.03.2026 10:00", "email", "breach.notified_in_future"),
     ("20.03.2026 18:00", "fax", "breach.bad_channel")],
)  # fmt: skip
def test_bad_notification_changes_nothing(engine, officer, sent_at, channel, key):
    bid = record(engine, officer)
    before = snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        breaches.record_authority_notification(
            s, officer, bid, sent_at=sent_at, channel=channel, reference="",
            now=FRIDAY + timedelta(hours=3))  # fmt: skip
    assert key in err.value.errors.values()
    assert snapshot(engine) == before


def test_subjects_notified_by_email_and_letter_then_closed(engine, officer, admin):
    fill_profile(engine, admin)
    bid = record(engine, officer)
    kk, ru_no_mail = subject(engine, "kk"), subject(engine, "ru", email=False)
    before = snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        breaches.add_subject(s, officer, bid, 987654)
    assert err.value.key == "breach.unknown_subject" and snapshot(engine) == before
    with session_scope(engine) as s:
        breaches.add_subject(s, officer, bid, kk)
        breaches.add_subject(s, officer, bid, ru_no_mail)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        breaches.notify_subject(s, officer, bid, ru_no_mail, "email")
    assert err.value.key == "breach.no_subject_email"
    with session_scope(engine) as s:
        breaches.notify_subject(s, officer, bid, kk, "email", now=FRIDAY + timedelta(hours=1))
        breaches.notify_subject(s, officer, bid, ru_no_mail, "letter")
        with pytest.raises(ServiceError) as err:
            breaches.notify_subject(s, officer, bid, kk, "email")
        assert err.value.key == "breach.subject_already_notified"
    with Session(engine) as s:
        letter = s.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == breaches.LETTER_PURPOSE)).one()  # fmt: skip
        assert letter.subject.startswith("Мамандар Ассоциациясы:")
        assert "privacy@assoc.kz" in letter.body and "ФИО, телефон" in letter.body
        b = breaches.get_breach(s, bid)
        pdf = breach_documents.letter_pdf(s, b, s.get(DataSubject, ru_no_mail))
        body = _pdf_text(pdf)
        assert "Ассоциация специалистов" in body and "Уважаемый" in body
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        breaches.close_breach(s, officer, bid, "Шифровать ноутбуки")
    assert err.value.key == "breach.close_needs_notification"
    with session_scope(engine) as s:
        breaches.record_authority_notification(
            s, officer, bid, sent_at="20.03.2026 18:00", channel="email", reference="",
            now=FRIDAY + timedelta(hours=3))  # fmt: skip
        breaches.close_breach(s, officer, bid, "Шифровать ноутбуки")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        breaches.add_subject(s, officer, bid, subject(engine))
    assert err.value.key == "breach.closed"
    with Session(engine) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("breach.%")).order_by(AuditEvent.id)))  # fmt: skip
    assert actions == ["breach.recorded", "breach.subject_added", "breach.subject_added",
                       "breach.subject_notified", "breach.subject_notified",
                       "breach.authority_notified", "breach.closed"]  # fmt: skip


def test_notice_pdf_in_kazakh_and_russian_with_the_operator(engine, officer, admin):
    fill_profile(engine, admin)
    bid = record(engine, officer)
    sid = subject(engine)
    with session_scope(engine) as s:
        breaches.add_subject(s, officer, bid, sid)
    with Session(engine) as s:
        b = breaches.get_breach(s, bid)
        people = breach_documents.linked_people(s, b)
        assert people == [f"Сейтқали {s.get(DataSubject, sid).first_name}, +77011234567"]
        kk = _pdf_text(breach_documents.notice_pdf(s, b, "kk", people))
        ru = _pdf_text(breach_documents.notice_pdf(s, b, "ru", people))
        assert people[0] in kk and people[0] in ru
    assert tr("kk", "breach.notice.title") in kk and "Мамандар Ассоциациясы" in kk
    assert tr("ru", "breach.notice.title") in ru and "Ассоциация специалистов" in ru
    for text_ in (kk, ru):
        assert GOOD_BIN in text_ and "МЦРИАП РК" in text_ and "20.03.2026 16:30" in text_
        assert "Ноутбук с выгрузкой реестра украден" in text_


def test_reading_the_affected_people_is_audited_and_report_lists_the_incident(engine, officer):
    bid = record(engine, officer)
    sid = subject(engine)
    with session_scope(engine) as s:
        breaches.add_subject(s, officer, bid, sid)
    with session_scope(engine) as s:
        people = breaches.affected(s, officer, bid)
        assert [p.subject_id for p in people] == [sid]
        report = requests.subject_report(s, officer, sid)
    assert [b["reference"] for b in report["breaches"]] == ["BR-2026-0001"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "breach.viewed")) == 1  # fmt: skip


def test_register_export_rows_have_labels(engine, officer):
    record(engine, officer)
    with Session(engine) as s:
        rows = [breach_documents.export_row(b, "ru") for b in breach_documents.iter_register(s)]
        header = breach_documents.export_header("ru")
        pdf = breach_documents.register_pdf(s, "kk")
    assert header[0] == "Номер" and rows[0][0] == "BR-2026-0001"
    assert "Открыто" in rows[0] and "open" not in rows[0]
    assert "BR-2026-0001" in _pdf_text(pdf)


def test_profile_responsible_gets_the_reminders_too(engine, officer):
    boss = make_staff(engine, "boss", "admin")
    with engine.begin() as conn:
        conn.execute(text("UPDATE staff_user SET email = 'boss@assoc.kz' WHERE id = :i"),
                     {"i": boss})  # fmt: skip
    fill_profile(engine, Actor.user(boss))
    record(engine, officer)
    with Session(engine) as s:
        recipients = sorted(s.scalars(select(OutboxMessage.recipient)))
        assert recipients == ["boss@assoc.kz", "dana@assoc.kz"]
        assert s.get(StaffUser, boss).role == "admin"


def test_notify_command_sends_breach_reminders_to_a_real_smtp_server(
    db_url, engine, officer, monkeypatch, capsys
):
    """``dpa-panel notify`` queues the overdue reminder and delivers both through the outbox."""
    from dpa_panel import cli
    from tests.smtp_server import start_smtp

    record(engine, officer)  # due 26.03.2026: long overdue today
    server = start_smtp()
    try:
        monkeypatch.setenv("DPA_SMTP_URL", server.url())
        assert cli.main(["notify"]) == 0
        out = capsys.readouterr().out
        assert "breach reminders: 1 queued" in out
        subjects = sorted(m.message["Subject"] for m in server.messages)
        assert [m.envelope_to for m in server.messages] == [["dana@assoc.kz"]] * 2
        assert subjects == sorted([
            tr("ru", "mail.breach.detected.subject", reference="BR-2026-0001"),
            tr("ru", "mail.breach.overdue.subject", reference="BR-2026-0001"),
        ])  # fmt: skip
        assert cli.main(["notify"]) == 0 and len(server.messages) == 2  # once each
    finally:
        server.stop()


def test_retention_beyond_five_years_needs_a_cited_legal_ground(engine, admin):
    """Clause 4.4: at most 1,826 days unless a legal ground is entered with the rule."""
    from dpa_panel.models import RetentionRule
    from dpa_panel.services import retention

    def rule():
        with Session(engine) as s:
            r = s.get(RetentionRule, "member_register")
            return r.period_days, r.source

    before = rule()
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        retention.update_rule(s, admin, "member_register", period_days=3650)
    assert err.value.key == "retention.over_policy_limit" and err.value.params["max"] == 1826
    assert rule() == before
    with session_scope(engine) as s:
        retention.update_rule(s, admin, "member_register", period_days=1826)
    ground = "Закон РК «Об Национальном архивном фонде» ст. 10 (пример)"
    with session_scope(engine) as s:
        retention.update_rule(s, admin, "member_register", period_days=3650, legal_ground=ground)
    assert rule() == (3650, ground)


def test_consent_sentence_carries_operator_duration_and_transfer_and_is_kept(engine, admin):
    """Issue 17 item 4: the stored sentence names the operator and BIN, the duration from the
    purpose's retention rule and the transfer rule; a later profile change leaves it as given."""
    from dpa_panel.models import Consent, MembershipApplication
    from dpa_panel.services import consent_text
    from tests.pipeline_helpers import submit

    fill_profile(engine, admin)
    with Session(engine) as s:
        shown = consent_text.form_sentences(s)
    app_id = submit(engine, consents=("application_review", "informing"))
    with Session(engine) as s:
        sid = s.get(MembershipApplication, app_id).subject_id
        stored = {c.purpose_code: c for c in s.scalars(
            select(Consent).where(Consent.subject_id == sid))}  # fmt: skip
    review = stored["application_review"].consent_text
    assert review == shown["kk"]["application_review"]  # the form shows what is stored
    assert review.startswith(tr("kk", "consent.sentence.application_review"))
    assert f"Мамандар Ассоциациясы, БСН {GOOD_BIN}" in review
    assert tr("kk", "consent.evidence.after.application_closed", days=1826) in review
    assert tr("kk", "consent.evidence.no_transfer") in review
    assert tr("kk", "consent.evidence.until_withdrawn") in stored["informing"].consent_text
    fill_profile(engine, admin, name_kk="Жаңа атау")
    with Session(engine) as s:
        assert s.get(Consent, stored["application_review"].id).consent_text == review
        assert "Жаңа атау" in consent_text.consent_sentence(s, "application_review", "kk")


def test_data_inventory_approved_by_the_responsible_person_and_reapproval(engine, admin,
                                                                        officer):  # fmt: skip
    """Issue 17 item 3: generated from the schema and settings, approved only by the
    responsible person (who, when, SHA-256), marked for re-approval when a rule changes."""
    from dpa_panel.services import data_inventory, retention

    fill_profile(engine, admin)  # the admin is the responsible person
    with Session(engine) as s:
        assert data_inventory.status(s).needs_approval and data_inventory.latest(s) is None
    before = snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        data_inventory.approve(s, officer)
    assert err.value.key == "inventory.not_responsible" and snapshot(engine) == before
    with session_scope(engine) as s:
        first = data_inventory.approve(s, admin)
        assert (first.version, first.approved_by_id) == (1, admin.user_id)
    with Session(engine) as s:
        assert not data_inventory.status(s).needs_approval
        row = data_inventory.latest(s)
        content = json.loads(row.content)
        assert "phone" in content["categories"] and "third_party" in content["recipients"]
        # lines wrap anywhere in a PDF: compare with the whitespace squeezed out
        texts = {lang: "".join(_pdf_text(data_inventory.pdf(s, row, lang)).split())
                 for lang in ("kk", "ru", "en")}  # fmt: skip

    def squeezed(value: str) -> str:
        return "".join(value.split())

    for lang, text_ in texts.items():
        assert squeezed(tr(lang, "inventory.title")) in text_ and row.sha256 in text_
        assert GOOD_BIN in text_ and squeezed(tr(lang, "inventory.storage")) in text_
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        data_inventory.approve(s, admin)
    assert err.value.key == "inventory.already_approved"
    with session_scope(engine) as s:
        retention.update_rule(s, admin, "informing", period_days=30)
    with Session(engine) as s:
        assert data_inventory.status(s).needs_approval
    with session_scope(engine) as s:
        assert data_inventory.approve(s, admin).version == 2
    with Session(engine) as s:
        assert not data_inventory.status(s).needs_approval
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "inventory.approved")) == 2  # fmt: skip


def test_subject_report_pdf_is_headed_by_the_operator(engine, officer, admin):
    """With the profile filled, the subject report PDF starts with the operator block (its
    lines come before the first heading, so the PDF must have its font set before them)."""
    fill_profile(engine, admin)
    sid = subject(engine)
    with session_scope(engine) as s:
        report = requests.subject_report(s, officer, sid)
        header = org_profile.document_header(s, "kk")
    assert report["operator"], "the report carries the operator block"
    text = _pdf_text(requests.report_pdf(report, "kk"))
    assert header[0] in text
    assert text.index(header[0]) < text.index(tr("kk", "report.title"))
