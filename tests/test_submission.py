"""The public form's submission (``services/submission.py``): one transaction, consents, the
edition in force, refusals (duplicates, the per-address rate limit).

Every test runs on SQLite and PostgreSQL through the ``engine`` fixture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.i18n import LOCALES, tr
from dpa_panel.models import (
    ApplicationEvent,
    AuditEvent,
    Consent,
    DataSubject,
    MembershipApplication,
    PolicyVersion,
)
from dpa_panel.services import applications, submission
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.policy_texts import text_sha256
from dpa_panel.services.submission import REFUSAL_AUDIT_ACTIONS
from tests.pipeline_helpers import (
    audit_events,
    form,
    move,
    row_counts,
    submit,
    verify,
)

ALMATY = ZoneInfo(settings.DISPLAY_TZ)


def test_submit_stores_everything_in_one_transaction(engine):
    before = row_counts(engine)
    with session_scope(engine) as s:
        app = submission.submit_application(
            s,
            form(email="Aigul.Test@Mail.KZ", phone="+7 (747) 000-11-22"),
            {"application_review", "member_register", "informing"},
            language="ru",
            client_ip="203.0.113.7",
        )
        app_id, returned_reference = app.id, app.reference
    after = row_counts(engine)
    assert after["data_subject"] - before["data_subject"] == 1
    assert after["membership_application"] - before["membership_application"] == 1
    assert after["consent"] - before["consent"] == 3
    assert after["application_event"] - before["application_event"] == 1
    assert after["audit_event"] - before["audit_event"] == 1

    with Session(engine) as s:
        app = s.get(MembershipApplication, app_id)
        subject = s.get(DataSubject, app.subject_id)
        consents = list(s.scalars(select(Consent).where(Consent.subject_id == subject.id)))
        event = s.scalars(select(ApplicationEvent)).one()
        policy = s.scalars(select(PolicyVersion).where(PolicyVersion.label == "v1")).one()
    year = app.submitted_at.astimezone(ALMATY).year
    assert app.reference == f"A-{year}-{app.id:06d}" == returned_reference  # what the form shows
    assert app.status == "submitted" and app.language == "ru" and app.closed_at is None
    assert subject.language == "ru" and subject.status == "active"
    assert subject.phone == "+77470001122" and subject.email == "Aigul.Test@mail.kz"
    assert "ахметова" in subject.search_text and "aigul.test@mail.kz" in subject.search_text
    assert {c.purpose_code for c in consents} == {
        "application_review",
        "member_register",
        "informing",
    }
    for c in consents:
        assert c.channel == "web_form" and c.language == "ru"
        assert c.policy_version_id == policy.id
        # Issue 17: the catalog sentence plus the evidence (operator, duration, transfer).
        assert c.consent_text.startswith(tr("ru", f"consent.sentence.{c.purpose_code}"))
        assert tr("ru", "consent.evidence.no_transfer") in c.consent_text
        assert c.consent_text_sha256 == text_sha256(c.consent_text)
        assert c.withdrawn_at is None and c.recorded_by_id is None
    assert (event.kind, event.to_status, event.actor_id) == ("submitted", "submitted", None)
    audit = audit_events(engine, "application.submitted")[-1]
    assert (audit.actor_type, audit.actor_id, audit.client_ip) == ("public", None, "203.0.113.7")
    assert (audit.entity_type, audit.entity_id) == ("membership_application", str(app_id))
    assert "Ахметова" not in audit.details and "mail.kz" not in audit.details.lower()
    assert verify(engine).ok


def test_submissions_and_other_writers_draw_application_ids_from_one_counter(engine):
    """On PostgreSQL the submission draws its application's id in the subject's INSERT
    (issue 19); an application written the ordinary way in between (e.g. by the import)
    must neither collide with it nor break the reference <-> id link."""

    def submit() -> MembershipApplication:
        with session_scope(engine) as s:
            return submission.submit_application(
                s, form(), {"application_review"}, language="kk", client_ip="203.0.113.70"
            )

    first = submit()
    with session_scope(engine) as s:
        other = MembershipApplication(reference="A-IMPORT-1", subject_id=first.subject_id)
        s.add(other)
        s.flush()
        other_id = other.id
    second = submit()
    assert first.id < other_id < second.id
    with Session(engine) as s:
        rows = s.execute(select(MembershipApplication.id, MembershipApplication.reference)).all()
        stored = dict(rows)
    assert stored[first.id] == first.reference and stored[second.id] == second.reference
    assert second.reference.endswith(f"-{second.id:06d}")


def test_a_failure_later_in_the_transaction_leaves_nothing(engine):
    before = row_counts(engine)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        submission.submit_application(
            s, form(), {"application_review"}, language="kk", client_ip="203.0.113.8"
        )
        raise RuntimeError("the caller fails after the service")
    assert row_counts(engine) == before
    assert verify(engine).ok


def test_invalid_input_stores_nothing(engine):
    before = row_counts(engine)
    with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
        submission.submit_application(
            s,
            form(surname="", phone="+1 202 555 0123", email="x@"),
            {"application_review"},
            language="kk",
            client_ip="203.0.113.9",
        )
    assert failed.value.key == "form.has_errors"
    assert failed.value.errors == {
        "surname": "field.required",
        "phone": "field.phone_invalid",
        "email": "field.email_invalid",
    }
    assert row_counts(engine) == before


def test_review_consent_is_required(engine):
    before = row_counts(engine)
    for consents in (set(), {"member_register", "informing"}):
        with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
            submission.submit_application(
                s, form(), consents, language="kk", client_ip="203.0.113.10"
            )
        assert failed.value.errors == {
            "consent_application_review": "apply.review_consent_required"
        }
    # Reported together with the field errors, so the form shows everything at once.
    with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
        submission.submit_application(
            s, form(surname=""), set(), language="kk", client_ip="203.0.113.10"
        )
    assert set(failed.value.errors) == {"surname", "consent_application_review"}
    assert row_counts(engine) == before
    for locale in LOCALES:
        assert tr(locale, "apply.review_consent_required")


def test_only_purposes_the_form_asks_for_are_stored(engine):
    app_id = submit(
        engine, consents=("application_review", "statistics", "feedback", "no_such_purpose")
    )
    with Session(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
        codes = set(s.scalars(select(Consent.purpose_code).where(Consent.subject_id == subject_id)))
        assert (
            s.scalar(
                select(func.count())
                .select_from(Consent)
                .where(Consent.purpose_code == "statistics")
            )
            == 0
        )
    assert codes == {"application_review", "feedback"}


def test_no_policy_in_force_refuses(engine):
    with pytest.raises(ServiceError) as err, session_scope(engine) as s:
        submission.submit_application(
            s,
            form(),
            {"application_review"},
            language="kk",
            client_ip="203.0.113.11",
            now=datetime(2025, 1, 1, 12, tzinfo=UTC),  # before v1 took effect
        )
    assert err.value.key == "apply.no_policy"


def _refused(engine, raw, ip) -> ServiceError:
    """Submit like the public form's state does: refusal -> rollback -> audit on its own."""
    try:
        with session_scope(engine) as s:
            submission.submit_application(
                s, raw, {"application_review"}, language="kk", client_ip=ip
            )
    except ServiceError as err:
        if err.key in REFUSAL_AUDIT_ACTIONS:
            with session_scope(engine) as s:
                submission.record_refusal(s, REFUSAL_AUDIT_ACTIONS[err.key], ip)
        return err
    raise AssertionError("expected a refusal")


def test_duplicate_open_application_is_refused_until_the_first_closes(engine, staff):
    first = submit(engine, email="Dana.Kim@mail.kz")
    before = row_counts(engine)
    err = _refused(engine, form(email="DANA.KIM@MAIL.KZ"), "203.0.113.20")
    assert err.key == "apply.duplicate" and err.field == "" and err.params == {}
    after = row_counts(engine)
    assert after["data_subject"] == before["data_subject"]
    assert after["audit_event"] == before["audit_event"] + 1  # the refusal survived
    refusal = audit_events(engine, "application.duplicate_refused")[-1]
    assert refusal.client_ip == "203.0.113.20" and refusal.entity_id == ""
    assert refusal.details == "{}"
    for locale in LOCALES:  # the message says nothing about the other application
        message = tr(locale, "apply.duplicate")
        assert "A-20" not in message and "{" not in message

    # in review, information requested: still open
    move(engine, first, "info_requested", staff)
    assert _refused(engine, form(email="dana.kim@mail.kz"), "203.0.113.21").key == (
        "apply.duplicate"
    )
    with session_scope(engine) as s:
        applications.change_status(s, staff, first, "rejected", reason="Талаптарға сай емес")
    second = submit(engine, email="dana.kim@mail.kz")
    assert second != first
    assert verify(engine).ok


def test_rate_limit_per_client_ip(engine, monkeypatch):
    monkeypatch.delenv("DPA_APPLY_RATE_LIMIT", raising=False)
    assert settings.apply_rate_limit_per_hour() == 5
    for _ in range(4):
        submit(engine, ip="192.0.2.50")
    # A refused duplicate counts too (probing e-mail addresses is limited as well).
    taken = submit(engine, ip="192.0.2.99", email="taken@mail.kz")
    assert taken
    assert _refused(engine, form(email="taken@mail.kz"), "192.0.2.50").key == "apply.duplicate"
    before = row_counts(engine)
    err = _refused(engine, form(), "192.0.2.50")
    assert err.key == "apply.rate_limited"
    after = row_counts(engine)
    assert after["data_subject"] == before["data_subject"]
    assert after["audit_event"] == before["audit_event"] + 1
    assert audit_events(engine, "application.rate_limited")[-1].client_ip == "192.0.2.50"
    # Another client is not affected.
    assert submit(engine, ip="192.0.2.51")
    # The window is one hour: move this client's events back in time and it may submit again.
    with engine.begin() as conn:
        conn.execute(
            update(AuditEvent)
            .where(AuditEvent.client_ip == "192.0.2.50")
            .values(occurred_at=datetime.now(UTC) - timedelta(hours=1, minutes=1))
        )
    assert submit(engine, ip="192.0.2.50")


def test_the_rate_limit_reads_its_own_index_however_busy_the_hour(engine):
    """Decision 19-submit-3: the count of an address's submissions in the last hour is read
    from the partial index ``ix_audit_rate_limit`` (the address's own entries), not from
    every audit event of the hour. The statement checked is the one the form executes."""
    from sqlalchemy import event

    from dpa_panel.services import audit

    submit(engine, ip="192.0.2.70")
    with engine.begin() as conn:  # a busy hour in the office: 3,000 staff events
        audit.append_many(conn, Actor.user(1, "10.0.0.5"), "subject.view", "subject",
                          [(i, None) for i in range(3000)])  # fmt: skip
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "count(*)" in statement and "client_ip" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        submit(engine, ip="192.0.2.70")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) == 1
    statement, parameters = captured[0]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(r[-1])
                for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
        else:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters))  # fmt: skip
    assert "ix_audit_rate_limit" in plan, plan
    assert "ix_audit_occurred" not in plan and "ix_audit_action" not in plan, plan


def test_rate_limit_is_configurable(engine, monkeypatch):
    monkeypatch.setenv("DPA_APPLY_RATE_LIMIT", "1")
    submit(engine, ip="192.0.2.60")
    assert _refused(engine, form(), "192.0.2.60").key == "apply.rate_limited"


def test_the_form_names_the_edition_its_submission_records_after_almaty_midnight(
    engine, staff, monkeypatch
):
    """At 20:30 UTC it is already the next day in Almaty: an edition in force from that
    Almaty day is the one the form names, the one /privacy shows by default and the one the
    submission records (the form and the page used to read the UTC or server date)."""
    from reflex.state import State

    import dpa_panel.dpa_panel  # noqa: F401  (registers the app's states)
    from dpa_panel.services import consent
    from dpa_panel.state import apply_state, privacy_state
    from tests.handler_call import run_handler

    day = date(2027, 3, 1)
    with session_scope(engine) as s:
        consent.add_policy_version(
            s, staff, label="v-almaty", effective_date=day,
            text_kk="Саясат", text_ru="Политика", text_en="Policy",
        )  # fmt: skip
    moment = datetime(2027, 2, 28, 20, 30, tzinfo=UTC)  # 01:30 on 1 March in Almaty
    monkeypatch.setattr(apply_state, "utcnow", lambda: moment)
    monkeypatch.setattr(privacy_state, "utcnow", lambda: moment)
    root = State(_reflex_internal_init=True)
    state = root.get_substate(apply_state.ApplyState.get_full_name().split(".")[1:])
    run_handler(apply_state.ApplyState.load.fn(state))
    assert state.policy_label == "v-almaty"
    page = root.get_substate(privacy_state.PrivacyState.get_full_name().split(".")[1:])
    run_handler(privacy_state.PrivacyState.load.fn(page))
    assert page.label == "v-almaty"
    with session_scope(engine) as s:
        application = submission.submit_application(
            s, form(), {"application_review"}, language="kk", client_ip="192.0.2.9", now=moment
        )
        recorded = s.scalar(
            select(PolicyVersion.label)
            .join(Consent, Consent.policy_version_id == PolicyVersion.id)
            .join(MembershipApplication, MembershipApplication.subject_id == Consent.subject_id)
            .where(MembershipApplication.id == application.id)
        )
    assert recorded == "v-almaty"
