"""The consent ledger: may_process, recording, withdrawal effects, matrix, mailing list,
policy editions. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import (
    AuditEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
)
from dpa_panel.services import consent
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.consent import CONSENT_PURPOSES, MatrixQuery
from dpa_panel.services.errors import ServiceError, ValidationFailed
from tests.pipeline_helpers import make_staff, move, set_subject_status, submit

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STATES = ("never", "granted", "withdrawn", "renewed")
STATUSES = ("active", "blocked", "destruction_due")


@pytest.fixture
def staff(engine) -> Actor:
    return Actor.user(make_staff(engine, "dana", "compliance"), "10.0.0.9")


_n = iter(range(1, 10_000))


def bare_subject(engine, surname: str = "Сейтқали") -> int:
    """A subject with no consent at all (as if entered from a paper register)."""
    with session_scope(engine) as s:
        n = next(_n)
        subject = DataSubject(
            surname=surname,
            first_name="Ерлан",
            phone="+77011234567",
            email=f"erlan.{n}@example.kz",
            workplace="Qazaq Media",
            position="Editor",
            language="ru",
        )
        s.add(subject)
        s.flush()
        return subject.id


def grant(engine, actor, subject_id, purpose, **kw) -> int:
    with session_scope(engine) as s:
        kw.setdefault("channel", "in_person")
        c = consent.record_consent(
            s, actor, subject_id, purpose, language="kk", text=f"Келісемін: {purpose}", **kw
        )
        return c.id


def withdraw(engine, actor, subject_id, purpose, **kw):
    with session_scope(engine) as s:
        kw.setdefault("channel", "email")
        kw.setdefault("evidence", "letter of 30.11.2026, mailbox folder 7")
        return consent.withdraw(s, actor, subject_id, purpose, **kw)


def put_in_state(engine, actor, subject_id, purpose, state) -> None:
    ground = {"retained_ground": "test: keep"}
    if state in ("granted", "withdrawn", "renewed"):
        grant(engine, actor, subject_id, purpose)
    if state in ("withdrawn", "renewed"):
        withdraw(engine, actor, subject_id, purpose, **ground)
    if state == "renewed":
        grant(engine, actor, subject_id, purpose)


def set_status(engine, subject_id, status) -> None:
    if status == "blocked":
        set_subject_status(engine, subject_id, "blocked")
    elif status == "destruction_due":
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE data_subject SET destruction_due_at = :d WHERE id = :i"),
                {"d": datetime.now(UTC) - timedelta(minutes=1), "i": subject_id},
            )


def subject_of(engine, app_id) -> int:
    with Session(engine) as s:
        return s.get(MembershipApplication, app_id).subject_id


# --- may_process and its SQL twin ------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("state", STATES)
def test_may_process_every_purpose_state_and_status(engine, staff, state, status):
    subjects = {}
    for purpose in CONSENT_PURPOSES:
        sid = bare_subject(engine)
        put_in_state(engine, staff, sid, purpose, state)
        set_status(engine, sid, status)
        subjects[purpose] = sid
    with Session(engine) as s:
        for purpose, sid in subjects.items():
            expected = status == "active" and state in ("granted", "renewed")
            assert consent.may_process(s, sid, purpose) is expected, (purpose, state, status)
            via_sql = s.scalar(
                select(DataSubject.id).where(
                    DataSubject.id == sid, consent.processable_subjects_clause(purpose)
                )
            )
            assert (via_sql is not None) is expected, (purpose, state, status, "sql")
            # Statistics: counted unless blocked, destroyed or due for destruction.
            assert consent.may_process(s, sid, "statistics") is (status == "active")
            expected_state = {"never": "never", "withdrawn": "withdrawn"}.get(state, "granted")
            assert consent.current_states(s, sid)[purpose] == expected_state
        assert consent.may_process(s, subjects["informing"], "no_such_purpose") is False


def test_destroyed_subject_is_never_processable(engine, staff):
    sid = bare_subject(engine)
    grant(engine, staff, sid, "informing")
    set_subject_status(engine, sid, "destroyed")
    with Session(engine) as s:
        for purpose in (*CONSENT_PURPOSES, "statistics"):
            assert consent.may_process(s, sid, purpose) is False


def test_sql_clause_agrees_with_may_process_over_a_mix(engine, staff):
    ids = []
    for i, (state, status) in enumerate((st, ss) for st in STATES for ss in STATUSES):
        sid = bare_subject(engine)
        put_in_state(engine, staff, sid, CONSENT_PURPOSES[i % 4], state)
        put_in_state(engine, staff, sid, CONSENT_PURPOSES[(i + 1) % 4], STATES[i % 4])
        set_status(engine, sid, status)
        ids.append(sid)
    destroyed = bare_subject(engine)
    grant(engine, staff, destroyed, "informing")
    set_subject_status(engine, destroyed, "destroyed")
    ids.append(destroyed)
    with Session(engine) as s:
        for purpose in (*CONSENT_PURPOSES, "statistics"):
            by_sql = set(
                s.scalars(
                    select(DataSubject.id).where(consent.processable_subjects_clause(purpose))
                )
            )
            by_python = {sid for sid in ids if consent.may_process(s, sid, purpose)}
            assert by_sql == by_python, purpose
            assert by_python, purpose  # the mix holds processable subjects for each purpose
            # The clause also works on any subject-id column (e.g. consent.subject_id).
            via_column = set(
                s.scalars(
                    select(Consent.subject_id).where(
                        consent.processable_subjects_clause(
                            purpose, subject_id_column=Consent.subject_id
                        )
                    )
                )
            )
            assert via_column <= by_python


# --- recording -------------------------------------------------------------------------------


def test_record_consent_stores_evidence_hash_and_edition(engine, staff):
    sid = bare_subject(engine)
    received = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        c = consent.record_consent(
            s, staff, sid, "informing", channel="paper", language="ru",
            text="Согласен получать новости", evidence_ref="PAPER-2026-17",
            evidence_received_at=received, evidence_text="signed form, archive box 3",
        )  # fmt: skip
        cid = c.id
    with Session(engine) as s:
        row = s.get(Consent, cid)
        assert row.channel == "paper" and row.evidence_ref == "PAPER-2026-17"
        assert row.evidence_received_at == received
        assert row.recorded_by_id == staff.user_id
        assert len(row.consent_text_sha256) == 64
        assert row.policy_version_id is not None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "consent.recorded")).one()
        details = json.loads(event.details)
        assert details["purpose"] == "informing" and details["policy"] == "v1"
        assert "Согласен" not in event.details and "PAPER" not in event.details


@pytest.mark.parametrize("channel", ["paper", "email"])
def test_paper_and_email_need_evidence(engine, staff, channel):
    sid = bare_subject(engine)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.record_consent(
            s, staff, sid, "informing", channel=channel, language="kk", text="Келісемін"
        )
    assert err.value.key == "consent.evidence_required"
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.record_consent(
            s, staff, sid, "informing", channel=channel, language="kk", text="Келісемін",
            evidence_ref="REF-1",
        )  # fmt: skip
    assert err.value.key == "consent.evidence_required"
    assert err.value.field == "evidence_received_at"
    grant(engine, staff, sid, "informing")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.withdraw(s, staff, sid, "informing", channel=channel, evidence="")
    assert err.value.key == "consent.evidence_required"


def test_record_refusals(engine, staff):
    sid = bare_subject(engine)
    cases = [
        ("statistics", {}, "consent.statistics_not_asked"),
        ("nonsense", {}, "consent.unknown_purpose"),
        ("informing", {"channel": "fax"}, "consent.bad_channel"),
        ("informing", {"policy_version_id": 999}, "consent.bad_policy_version"),
    ]
    for purpose, extra, key in cases:
        kw = {"channel": "in_person", **extra}
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            consent.record_consent(s, staff, sid, purpose, language="kk", text="x", **kw)
        assert err.value.key == key
    with session_scope(engine) as s, pytest.raises(ValidationFailed):
        consent.record_consent(s, staff, sid, "informing", channel="in_person", language="kk",
                               text="  ")  # fmt: skip
    grant(engine, staff, sid, "informing")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.record_consent(
            s, staff, sid, "informing", channel="in_person", language="kk", text="x"
        )
    assert err.value.key == "consent.already_granted"
    set_subject_status(engine, sid, "blocked")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.record_consent(
            s, staff, sid, "feedback", channel="in_person", language="kk", text="x"
        )
    assert err.value.key == "subject.not_active"


# --- withdrawal ------------------------------------------------------------------------------


def test_withdrawing_review_withdraws_open_applications(engine, staff):
    app_id = submit(engine, consents=("application_review", "informing"))
    sid = subject_of(engine, app_id)
    move(engine, app_id, "in_review", staff)
    outcome = withdraw(engine, staff, sid, "application_review")
    assert outcome.withdrawn_application_ids == [app_id]
    assert outcome.still_granted == ["informing"]
    assert outcome.destruction_scheduled is False
    with Session(engine) as s:
        app = s.get(MembershipApplication, app_id)
        assert app.status == "withdrawn" and app.closed_at is not None
        assert s.get(DataSubject, sid).destruction_due_at is None
        assert consent.may_process(s, sid, "application_review") is False
        assert consent.may_process(s, sid, "informing") is True
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.withdraw(s, staff, sid, "application_review", channel="in_person", evidence="")
    assert err.value.key == "consent.not_granted"


def test_withdrawing_register_ends_membership_and_schedules_destruction(engine, staff):
    app_id = submit(engine, consents=("application_review", "member_register"))
    sid = subject_of(engine, app_id)
    move(engine, app_id, "approved", staff)
    first = withdraw(engine, staff, sid, "application_review")
    assert first.withdrawn_application_ids == [] and not first.destruction_scheduled
    outcome = withdraw(engine, staff, sid, "member_register")
    with Session(engine) as s:
        member = s.scalars(select(Member).where(Member.subject_id == sid)).one()
        assert outcome.ended_member_id == member.id
        assert member.status == "ended" and member.ended_at is not None
        assert outcome.destruction_scheduled is True
        assert s.get(DataSubject, sid).destruction_due_at is not None
        for purpose in (*CONSENT_PURPOSES, "statistics"):
            assert consent.may_process(s, sid, purpose) is False
        event = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "consent.withdrawn")
            .order_by(AuditEvent.id.desc())
        ).first()
        details = json.loads(event.details)
        assert details["purpose"] == "member_register"
        assert details["scheduled_destruction"] is True
        assert "letter" not in event.details
        assert verify_chain(s).ok


def test_informing_and_feedback_withdrawal_has_no_other_effect(engine, staff):
    app_id = submit(engine, consents=("application_review", "informing", "feedback"))
    sid = subject_of(engine, app_id)
    for purpose in ("informing", "feedback"):
        outcome = withdraw(engine, staff, sid, purpose)
        assert outcome.withdrawn_application_ids == [] and outcome.ended_member_id is None
        assert outcome.destruction_scheduled is False
    with Session(engine) as s:
        assert s.get(MembershipApplication, app_id).status == "submitted"


def test_retained_ground_prevents_scheduling(engine, staff):
    sid = bare_subject(engine)
    grant(engine, staff, sid, "feedback")
    ground = "Law on accounting: kept 5 years"
    outcome = withdraw(engine, staff, sid, "feedback", retained_ground=ground)
    assert outcome.destruction_scheduled is False and outcome.retained_ground == ground
    with Session(engine) as s:
        assert s.get(DataSubject, sid).destruction_due_at is None
        row = s.scalars(select(Consent).where(Consent.subject_id == sid)).one()
        assert row.withdrawal_retained_ground == ground
        assert row.withdrawal_channel == "email" and row.withdrawn_at is not None


def test_renewed_consent_is_a_new_row_and_cancels_scheduled_destruction(engine, staff):
    sid = bare_subject(engine)
    grant(engine, staff, sid, "informing")
    assert withdraw(engine, staff, sid, "informing").destruction_scheduled
    grant(engine, staff, sid, "informing")
    with Session(engine) as s:
        rows = list(
            s.scalars(select(Consent).where(Consent.subject_id == sid).order_by(Consent.id))
        )
        assert len(rows) == 2
        assert rows[0].withdrawn_at is not None and rows[1].withdrawn_at is None
        assert s.get(DataSubject, sid).destruction_due_at is None
        history = consent.consent_history(s, sid)
        assert [h.consent.id for h in history] == [rows[1].id, rows[0].id]
        assert all(h.policy_label == "v1" for h in history)


def test_blocked_subject_cannot_withdraw_until_unblocked(engine, staff):
    sid = bare_subject(engine)
    grant(engine, staff, sid, "informing")
    set_subject_status(engine, sid, "blocked")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        consent.withdraw(s, staff, sid, "informing", channel="in_person", evidence="")
    assert err.value.key == "subject.not_active"


# --- matrix, counts, mailing list ------------------------------------------------------------


def test_withdrawn_never_shows_as_granted(engine, staff):
    a = bare_subject(engine, "Әбенова")
    grant(engine, staff, a, "informing")
    withdraw(engine, staff, a, "informing", retained_ground="keep")
    b = bare_subject(engine, "Бекова")
    grant(engine, staff, b, "informing")
    c = bare_subject(engine, "Ванина")
    put_in_state(engine, staff, c, "informing", "renewed")
    set_subject_status(engine, c, "blocked")
    d = bare_subject(engine, "Гаевая")
    set_subject_status(engine, d, "destroyed")
    with Session(engine) as s:
        assert consent.current_states(s, a)["informing"] == "withdrawn"
        rows, total = consent.consent_matrix(s, MatrixQuery())
        assert total == 3 and {r.subject_id for r in rows} == {a, b, c}
        by_id = {r.subject_id: r for r in rows}
        assert by_id[a].states == {
            "application_review": "never",
            "member_register": "never",
            "informing": "withdrawn",
            "feedback": "never",
        }
        assert by_id[b].states["informing"] == "granted"
        assert by_id[c].states["informing"] == "granted" and by_id[c].status == "blocked"
        rows, total = consent.consent_matrix(s, MatrixQuery(purpose="informing", state="granted"))
        assert {r.subject_id for r in rows} == {b, c} and total == 2
        rows, total = consent.consent_matrix(s, MatrixQuery(purpose="informing", state="withdrawn"))
        assert [r.subject_id for r in rows] == [a]
        rows, total = consent.consent_matrix(s, MatrixQuery(state="never", purpose="feedback"))
        assert total == 3
        rows, total = consent.consent_matrix(s, MatrixQuery(search="әбен"))
        assert [r.subject_id for r in rows] == [a]
        rows, total = consent.consent_matrix(s, MatrixQuery(page=2, page_size=2))
        assert total == 3 and len(rows) == 1
        counts = consent.purpose_counts(s)
        assert counts["informing"] == {"granted": 2, "withdrawn": 1, "never": 0}
        assert counts["feedback"] == {"granted": 0, "withdrawn": 0, "never": 3}
        mailing = list(consent.mailing_list(s))
    assert [email for _, email, _url in mailing] == [_email(engine, b)]
    assert mailing[0][2].startswith("http") and "/api/unsubscribe/" in mailing[0][2]
    assert mailing[0][0] == "Бекова Ерлан"
    out = io.StringIO()
    assert consent.write_mailing_csv(mailing, out) == 1
    assert out.getvalue().splitlines()[0] == "full_name,email,unsubscribe_url"


def _email(engine, sid) -> str:
    with Session(engine) as s:
        return s.get(DataSubject, sid).email


def test_mailing_list_streams_in_batches(engine, staff, monkeypatch):
    monkeypatch.setattr(consent, "MAILING_BATCH", 2)
    ids = [bare_subject(engine) for _ in range(5)]
    for sid in ids:
        grant(engine, staff, sid, "informing")
    withdraw(engine, staff, ids[2], "informing", retained_ground="keep")
    with Session(engine) as s:
        emails = [e for _, e, _url in consent.mailing_list(s)]
    assert emails == [_email(engine, i) for i in ids if i != ids[2]]


# --- policy editions -------------------------------------------------------------------------


def test_policy_version_added_and_older_version_counts(engine, staff):
    a = bare_subject(engine, "Алиева")
    grant(engine, staff, a, "informing")
    grant(engine, staff, a, "feedback")
    b = bare_subject(engine, "Борисова")
    grant(engine, staff, b, "feedback")
    withdraw(engine, staff, b, "feedback", retained_ground="keep")
    with Session(engine) as s:
        before = {c.id: c.policy_version_id for c in s.scalars(select(Consent))}
    texts = {"text_kk": "Саясат v2", "text_ru": "Политика v2", "text_en": "Policy v2"}
    with session_scope(engine) as s:
        v2 = consent.add_policy_version(
            s, staff, label="v2", effective_date=date(2026, 12, 1), **texts
        )
        v2_id = v2.id
        assert len(v2.sha256) == 64 and v2.sha256 != v2.sha256_ru
    for label, eff, extra, field_name, key in [
        ("v2", date(2026, 12, 2), {}, "label", "policy.label_exists"),
        ("", date(2026, 12, 2), {}, "label", "policy.label_required"),
        ("v3", date(2026, 11, 1), {}, "effective_date", "policy.effective_before_latest"),
        ("v3", date(2026, 12, 2), {"text_ru": " "}, "text_ru", "field.required"),
    ]:
        with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            consent.add_policy_version(
                s, staff, label=label, effective_date=eff, **{**texts, **extra}
            )
        assert err.value.errors[field_name] == key
    c = bare_subject(engine, "Волкова")
    with session_scope(engine) as s:
        consent.record_consent(
            s, staff, c, "informing", channel="in_person", language="kk", text="x",
            policy_version_id=v2_id,
        )  # fmt: skip
    with Session(engine) as s:
        after = {c.id: c.policy_version_id for c in s.scalars(select(Consent))}
        assert {k: after[k] for k in before} == before  # no consent was moved
        assert consent.older_version_consents(s) == {"v1": 2, "v2": 1}
        rows, total = consent.subjects_on_older_versions(s, 1, 50, today=date(2026, 12, 5))
        assert total == 1 and [r.subject_id for r in rows] == [a]
        assert rows[0].labels == ["v1"]
        # Before v2 takes effect, v1 is in force and nobody is on an older edition.
        assert consent.subjects_on_older_versions(s, 1, 50, today=date(2026, 11, 30))[1] == 0
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "policy.version_added")
        ).one()
        assert json.loads(event.details) == {"label": "v2", "effective_date": "2026-12-01"}
