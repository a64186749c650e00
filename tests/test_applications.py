"""The application pipeline: the state machine, processing, staff lists (the public
submission: ``test_submission.py``).

Every test runs on SQLite and PostgreSQL through the ``engine`` fixture.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlmodel import Session

from dpa_panel import demo, settings
from dpa_panel.db import session_scope
from dpa_panel.models import (
    ApplicationEvent,
    AuditEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
)
from dpa_panel.models.vocab import APPLICATION_STATUSES
from dpa_panel.services import applications
from dpa_panel.services.applications import (
    TRANSITIONS,
    ApplicationQuery,
    allowed_transitions,
)
from dpa_panel.services.errors import ServiceError, ValidationFailed
from tests.pipeline_helpers import (
    audit_events,
    fetch,
    make_staff,
    move,
    row_counts,
    set_subject_status,
    submit,
    verify,
)

ALMATY = ZoneInfo(settings.DISPLAY_TZ)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# --- the state machine -----------------------------------------------------------------------


def test_transition_table_is_the_specified_one():
    assert TRANSITIONS == {
        "submitted": ("in_review", "rejected", "withdrawn"),
        "in_review": ("info_requested", "approved", "rejected", "withdrawn"),
        "info_requested": ("in_review", "rejected", "withdrawn"),
        "approved": (),
        "rejected": (),
        "withdrawn": (),
    }
    assert set(TRANSITIONS) == set(APPLICATION_STATUSES)
    assert allowed_transitions("approved") == () and allowed_transitions("bogus") == ()


def test_every_pair_of_statuses(engine, staff):
    """All 6 x 6 (from, to) pairs: legal ones succeed and are recorded, the rest change nothing."""
    outcomes = {}
    for source in APPLICATION_STATUSES:
        for target in APPLICATION_STATUSES:
            app_id = submit(engine)
            move(engine, app_id, source, staff)
            before = row_counts(engine)
            try:
                with session_scope(engine) as s:
                    applications.change_status(s, staff, app_id, target, reason="Себебі / причина")
                outcomes[(source, target)] = True
            except ServiceError as err:
                assert err.key == "application.illegal_transition", (source, target, err.key)
                assert row_counts(engine) == before
                assert fetch(engine, MembershipApplication, app_id).status == source
                outcomes[(source, target)] = False
                continue
            app = fetch(engine, MembershipApplication, app_id)
            assert app.status == target
            with Session(engine) as s:
                event = s.scalars(
                    select(ApplicationEvent)
                    .where(ApplicationEvent.application_id == app_id)
                    .order_by(ApplicationEvent.id.desc())
                ).first()
            assert (event.kind, event.from_status, event.to_status) == (
                "status_changed",
                source,
                target,
            )
            assert event.actor_id == staff.user_id and event.text == "Себебі / причина"
            audit = audit_events(engine, "application.status_changed")[-1]
            assert json.loads(audit.details) == {"from": source, "to": target}
            assert audit.entity_id == str(app_id)
    expected = {
        (s, t): t in TRANSITIONS[s] for s in APPLICATION_STATUSES for t in APPLICATION_STATUSES
    }
    assert outcomes == expected
    assert verify(engine).ok


def test_unknown_application_and_unknown_status(engine, staff):
    with pytest.raises(ServiceError, match="application.not_found"), session_scope(engine) as s:
        applications.change_status(s, staff, 999_999, "in_review")
    app_id = submit(engine)
    with pytest.raises(ServiceError, match="application.illegal_transition"):
        with session_scope(engine) as s:
            applications.change_status(s, staff, app_id, "deleted")


def test_rejection_needs_a_reason_and_info_request_may_carry_one(engine, staff):
    app_id = submit(engine)
    before = row_counts(engine)
    for reason in ("", "   \n "):
        with pytest.raises(ServiceError) as err, session_scope(engine) as s:
            applications.change_status(s, staff, app_id, "rejected", reason=reason)
        assert (err.value.key, err.value.field) == ("application.reason_required", "reason")
    with pytest.raises(ServiceError) as err, session_scope(engine) as s:
        applications.change_status(s, staff, app_id, "rejected", reason="x\x00")
    assert (err.value.key, err.value.field) == ("field.control_chars", "reason")
    assert row_counts(engine) == before

    move(engine, app_id, "in_review", staff)
    question = "Жұмыс орнынан анықтама жіберіңіз.\nПришлите справку."
    with session_scope(engine) as s:
        applications.change_status(s, staff, app_id, "info_requested", reason=question)
        applications.change_status(s, staff, app_id, "in_review")
    with session_scope(engine) as s:
        detail = applications.read_application(s, staff, app_id)
    asked = [e for e in detail.timeline if e.to_status == "info_requested"]
    assert asked[0].text == question
    assert detail.application.reason == "" and detail.application.decided_at is None


def test_decisions_and_closing_times(engine, staff):
    decided_at = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    rejected, withdrawn, approved = submit(engine), submit(engine), submit(engine)
    with session_scope(engine) as s:
        applications.change_status(
            s, staff, rejected, "rejected", reason="Толық емес", now=decided_at
        )
        applications.change_status(s, staff, withdrawn, "withdrawn", now=decided_at)
        applications.change_status(s, staff, approved, "in_review", now=decided_at)
        applications.change_status(s, staff, approved, "approved", now=decided_at)
    r = fetch(engine, MembershipApplication, rejected)
    assert (r.decision, r.decided_at, r.closed_at, r.reason) == (
        "rejected",
        decided_at,
        decided_at,
        "Толық емес",
    )
    w = fetch(engine, MembershipApplication, withdrawn)
    assert (w.decision, w.decided_at, w.closed_at) == (None, None, decided_at)
    a = fetch(engine, MembershipApplication, approved)
    assert (a.decision, a.decided_at, a.closed_at) == ("approved", decided_at, None)


def test_approval_creates_the_member(engine, staff):
    app_id = submit(engine)
    move(engine, app_id, "in_review", staff)
    # 20:00 UTC on 31 December is already 1 January in Almaty.
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        applications.change_status(s, staff, app_id, "approved", now=now)
    with Session(engine) as s:
        app = s.get(MembershipApplication, app_id)
        member = s.scalars(select(Member).where(Member.subject_id == app.subject_id)).one()
    assert member.membership_number == "PRMA-2027-000001"
    assert member.since == date(2027, 1, 1)
    assert (member.status, member.application_id, member.ended_at) == ("active", app_id, None)
    created = audit_events(engine, "member.created")[-1]
    assert created.entity_id == str(member.id)
    assert json.loads(created.details) == {"application_id": app_id}


def test_approval_refused_when_subject_already_in_register(engine, staff):
    app_id = submit(engine)
    move(engine, app_id, "in_review", staff)
    subject_id = fetch(engine, MembershipApplication, app_id).subject_id
    with session_scope(engine) as s:
        s.add(
            Member(
                subject_id=subject_id, membership_number="PRMA-2020-000001", since=date(2020, 1, 1)
            )
        )
    with pytest.raises(ServiceError, match="application.already_member"):
        with session_scope(engine) as s:
            applications.change_status(s, staff, app_id, "approved")
    assert fetch(engine, MembershipApplication, app_id).status == "in_review"


def test_twenty_approvals_get_consecutive_unique_numbers(engine, staff):
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    ids = [submit(engine) for _ in range(20)]
    for app_id in ids:
        move(engine, app_id, "approved", staff, now=now)
    with Session(engine) as s:
        numbers = list(s.scalars(select(Member.membership_number).order_by(Member.id)))
    assert numbers == [f"PRMA-2026-{n:06d}" for n in range(1, 21)]
    assert all(re.fullmatch(r"PRMA-\d{4}-\d{6}", n) for n in numbers)


def test_numbers_continue_after_demo_members_of_the_same_year(engine, staff):
    demo.seed_subjects(engine, 60, now=NOW)
    with Session(engine) as s:
        highest = s.scalar(
            select(func.max(Member.membership_number)).where(
                Member.membership_number.like("PRMA-2026-%")
            )
        )
    app_id = submit(engine)
    move(engine, app_id, "approved", staff, now=NOW)
    with Session(engine) as s:
        number = s.scalars(
            select(Member.membership_number).where(Member.application_id == app_id)
        ).one()
    expected = int(highest[-6:]) + 1 if highest else 1
    assert number == f"PRMA-2026-{expected:06d}"


def test_concurrent_approvals_get_distinct_numbers(engine, staff):
    threads_n = 4
    ids = [submit(engine) for _ in range(threads_n * 2)]
    for app_id in ids:
        move(engine, app_id, "in_review", staff)
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(batch: list[int]) -> None:
        try:
            start.wait()
            for app_id in batch:
                with session_scope(engine) as s:
                    applications.change_status(s, staff, app_id, "approved")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    batches = [ids[i::threads_n] for i in range(threads_n)]
    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Session(engine) as s:
        numbers = list(s.scalars(select(Member.membership_number)))
    year = datetime.now(ALMATY).year
    assert sorted(numbers) == [f"PRMA-{year}-{n:06d}" for n in range(1, threads_n * 2 + 1)]
    assert verify(engine).ok


def test_same_application_approved_twice_concurrently_yields_one_member(engine, staff):
    app_id = submit(engine)
    move(engine, app_id, "in_review", staff)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        start.wait()
        try:
            with session_scope(engine) as s:
                applications.change_status(s, staff, app_id, "approved")
            outcomes.append("ok")
        except ServiceError as err:
            outcomes.append(err.key)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == ["application.illegal_transition", "ok"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1


# --- assignment, notes, edits, detail --------------------------------------------------------


def test_assign_and_staff_choices(engine, staff):
    admin_id = make_staff(engine, "boss", "admin")
    make_staff(engine, "gulnar", "compliance")
    make_staff(engine, "gone", "staff", active=False)
    make_staff(engine, "board1", "board")
    with Session(engine) as s:
        choices = applications.staff_choices(s)
    assert choices == [(staff.user_id, "aizhan"), (admin_id, "boss")]

    app_id = submit(engine)
    with session_scope(engine) as s:
        applications.assign(s, staff, app_id, admin_id)
    assert fetch(engine, MembershipApplication, app_id).assignee_id == admin_id
    for username in ("gulnar", "gone", "board1"):
        with Session(engine) as s:
            bad_id = s.scalar(
                text("SELECT id FROM staff_user WHERE username = :u"), {"u": username}
            )
        with pytest.raises(ServiceError) as err, session_scope(engine) as s:
            applications.assign(s, staff, app_id, bad_id)
        assert err.value.key == "application.bad_assignee"
    with pytest.raises(ServiceError, match="application.bad_assignee"), session_scope(engine) as s:
        applications.assign(s, staff, app_id, 999_999)
    with session_scope(engine) as s:
        applications.assign(s, staff, app_id, None)
    assert fetch(engine, MembershipApplication, app_id).assignee_id is None
    events = audit_events(engine, "application.assigned")
    assert [json.loads(e.details) for e in events] == [
        {"from": None, "to": admin_id},
        {"from": admin_id, "to": None},
    ]
    # Assigning to the current assignee changes nothing and records nothing.
    with session_scope(engine) as s:
        applications.assign(s, staff, app_id, None)
    assert len(audit_events(engine, "application.assigned")) == 2


def test_notes_and_the_timeline(engine, staff):
    app_id = submit(engine)
    note = "Телефон арқылы сөйлестік.\nПерезвонить в понедельник."
    with session_scope(engine) as s:
        applications.assign(s, staff, app_id, staff.user_id)
        event = applications.add_note(s, staff, app_id, note)
        applications.change_status(s, staff, app_id, "in_review")
    assert event.kind == "note" and event.text == note
    for bad, key in (
        ("", "field.required"),
        ("я" * 2001, "field.too_long"),
        ("x\x1b", "field.control_chars"),
    ):
        with pytest.raises(ServiceError) as err, session_scope(engine) as s:
            applications.add_note(s, staff, app_id, bad)
        assert (err.value.key, err.value.field) == (key, "text")
    audit = audit_events(engine, "application.note_added")
    assert len(audit) == 1 and "Телефон" not in audit[0].details
    assert json.loads(audit[0].details) == {"event_id": event.id}

    with session_scope(engine) as s:
        detail = applications.read_application(s, staff, app_id)
    kinds = [e.kind for e in detail.timeline]
    assert kinds == ["submitted", "assigned", "note", "status_changed"]
    assert [e.id for e in detail.timeline] == sorted(e.id for e in detail.timeline)
    assert detail.timeline[1].text == "aizhan"
    assert detail.usernames == {staff.user_id: "aizhan"}
    assert detail.assignee_username == "aizhan"
    assert detail.allowed == ("info_requested", "approved", "rejected", "withdrawn")
    assert detail.member is None
    assert [c.purpose_code for c in detail.consents] == ["application_review"]
    read = audit_events(engine, "application.read")[-1]
    assert (read.entity_type, read.entity_id, read.actor_id) == (
        "membership_application",
        str(app_id),
        staff.user_id,
    )


def test_detail_lists_consents_newest_first(engine, staff):
    app_id = submit(engine, consents=("application_review", "informing"))
    subject_id = fetch(engine, MembershipApplication, app_id).subject_id
    with engine.begin() as conn:
        conn.execute(
            update(Consent)
            .where(Consent.purpose_code == "application_review")
            .values(granted_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    with session_scope(engine) as s:
        detail = applications.read_application(s, staff, app_id)
    assert [c.purpose_code for c in detail.consents] == ["informing", "application_review"]
    assert all(c.subject_id == subject_id for c in detail.consents)
    with pytest.raises(ServiceError, match="application.not_found"), session_scope(engine) as s:
        applications.read_application(s, staff, 999_999)


def test_update_subject_audits_field_names_only(engine, staff):
    app_id = submit(engine, surname="Ахметова", phone="87011234567", email="old.addr@mail.kz")
    subject_id = fetch(engine, MembershipApplication, app_id).subject_id
    old = fetch(engine, DataSubject, subject_id)
    changes = {
        "surname": "Серікбаева",
        "phone": "+7 777 555 44 33",
        "email": "New.Addr@Inbox.KZ",
        "first_name": "Айгүл",  # unchanged
        "experience_years": "7",  # unchanged ("7" == 7)
        "patronymic": "Серікқызы",  # unchanged
    }
    with session_scope(engine) as s:
        changed = applications.update_subject(s, staff, subject_id, changes, application_id=app_id)
    assert changed == ["surname", "phone", "email"]
    new = fetch(engine, DataSubject, subject_id)
    assert (new.surname, new.phone, new.email) == (
        "Серікбаева",
        "+77775554433",
        "New.Addr@inbox.kz",
    )
    assert new.updated_at > old.updated_at
    assert "серікбаева" in new.search_text and "ахметова" not in new.search_text

    event = audit_events(engine, "subject.updated")[-1]
    assert json.loads(event.details) == {"fields": ["surname", "phone", "email"]}
    values = [old.surname, old.phone, old.email, new.surname, new.phone, new.email, "Серікбаева"]
    with Session(engine) as s:
        all_details = " ".join(s.scalars(select(AuditEvent.details)))
    for value in values:
        assert value not in all_details and value.lower() not in all_details.lower()
    with Session(engine) as s:
        edited = s.scalars(select(ApplicationEvent).where(ApplicationEvent.kind == "edited")).one()
    assert edited.text == "surname, phone, email" and edited.actor_id == staff.user_id

    # Searching finds the new spelling.
    with Session(engine) as s:
        rows, total = applications.list_applications(s, ApplicationQuery(search="СЕРІКБАЕВА"))
    assert total == 1 and rows[0].id == app_id

    # No real change: nothing written.
    before = row_counts(engine)
    with session_scope(engine) as s:
        assert applications.update_subject(s, staff, subject_id, {"surname": " Серікбаева "}) == []
    assert row_counts(engine) == before

    # Invalid values: every error, nothing stored.
    with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
        applications.update_subject(
            s, staff, subject_id, {"phone": "123", "email": "nope", "surname": "Жаңа"}
        )
    assert failed.value.errors == {"phone": "field.phone_invalid", "email": "field.email_invalid"}
    assert fetch(engine, DataSubject, subject_id).surname == "Серікбаева"
    assert row_counts(engine) == before

    with pytest.raises(ValueError), session_scope(engine) as s:
        applications.update_subject(s, staff, subject_id, {"status": "destroyed"})
    with pytest.raises(ServiceError, match="subject.not_found"), session_scope(engine) as s:
        applications.update_subject(s, staff, 999_999, {"surname": "Ким"})
    other = submit(engine)
    with pytest.raises(ServiceError, match="application.not_found"), session_scope(engine) as s:
        applications.update_subject(s, staff, subject_id, {"surname": "Ким"}, application_id=other)


def test_edit_form_sent_back_whole_only_checks_what_was_touched(engine, staff):
    app_id = submit(engine)
    subject_id = fetch(engine, MembershipApplication, app_id).subject_id
    legacy = "«Дала\tМедиа» ЖШС"  # a tab: refused in a single-line field today
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE data_subject SET workplace = :w WHERE id = :i"),
            {"w": legacy, "i": subject_id},
        )
    subject = fetch(engine, DataSubject, subject_id)
    sent_back = {
        name: "" if getattr(subject, name) is None else str(getattr(subject, name))
        for name in applications.APPLICATION_FIELDS
    }
    sent_back["surname"] = "Жаңа"
    sent_back["phone"] = "8 701 123 45 67"  # same number, other spelling: no change
    with session_scope(engine) as s:
        assert applications.update_subject(s, staff, subject_id, sent_back) == ["surname"]
    assert fetch(engine, DataSubject, subject_id).workplace == legacy
    sent_back["workplace"] = legacy + " x"
    with pytest.raises(ValidationFailed) as failed, session_scope(engine) as s:
        applications.update_subject(s, staff, subject_id, sent_back)
    assert failed.value.errors == {"workplace": "field.control_chars"}


def test_search_text_follows_any_orm_change(engine):
    """A safety net for future code paths (e.g. destruction overwriting the fields)."""
    app_id = submit(engine, surname="Әбілқасымова", email="a.b@mail.kz")
    subject_id = fetch(engine, MembershipApplication, app_id).subject_id
    with session_scope(engine) as s:
        subject = s.get(DataSubject, subject_id)
        subject.surname, subject.email = "[жойылды]", "destroyed@invalid.kz"
    text_now = fetch(engine, DataSubject, subject_id).search_text
    assert "әбілқасымова" not in text_now and "a.b@mail.kz" not in text_now
    assert text_now.startswith("[жойылды]\n")


def test_blocked_subject_is_hidden_and_cannot_be_processed(engine, staff):
    visible = submit(engine, surname="Көрінетін")
    hidden = submit(engine, surname="Жасырын")
    hidden_subject = fetch(engine, MembershipApplication, hidden).subject_id
    for status in ("blocked", "destroyed"):
        set_subject_status(engine, hidden_subject, status)
        with Session(engine) as s:
            rows, total = applications.list_applications(s, ApplicationQuery())
            counts = applications.status_counts(s, ApplicationQuery())
            board = applications.board_columns(s, ApplicationQuery())
            found, found_total = applications.list_applications(
                s, ApplicationQuery(search="жасырын")
            )
        assert [r.id for r in rows] == [visible] and total == 1
        assert counts["submitted"] == 1
        assert [r.id for r in board["submitted"]] == [visible]
        assert (found, found_total) == ([], 0)
        for action in (
            lambda s: applications.read_application(s, staff, hidden),
            lambda s: applications.change_status(s, staff, hidden, "in_review"),
            lambda s: applications.assign(s, staff, hidden, staff.user_id),
            lambda s: applications.add_note(s, staff, hidden, "note"),
            lambda s: applications.update_subject(s, staff, hidden_subject, {"surname": "X"}),
        ):
            with (
                pytest.raises(ServiceError, match="subject.not_active"),
                session_scope(engine) as s,
            ):
                action(s)


# --- lists -----------------------------------------------------------------------------------


@pytest.fixture
def seeded(engine):
    """300 demo applications (all statuses, two years) plus a few with known names."""
    demo.seed_staff(engine)
    demo.seed_subjects(engine, 300, now=NOW)
    return engine


def _all_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text(
                    "SELECT a.id, a.reference, a.submitted_at, a.status, a.assignee_id, "
                    "s.surname, s.first_name, s.patronymic, s.email, s.workplace "
                    "FROM membership_application a JOIN data_subject s ON s.id = a.subject_id"
                )
            ).mappings()
        ]


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ids(engine, q: ApplicationQuery) -> tuple[list[int], int]:
    with Session(engine) as s:
        rows, total = applications.list_applications(s, q)
    return [r.id for r in rows], total


def test_search_matches_names_email_workplace_and_reference(seeded, staff):
    engine = seeded
    target = submit(
        engine,
        surname="Фёдорова",
        first_name="Ақмарал",
        patronymic="Ерланқызы",
        email="Akmaral.F@Example.KZ",
        workplace="Telegraf Qazaqstan 100% медиа_тобы",
    )
    reference = fetch(engine, MembershipApplication, target).reference
    for term in (
        "фёдорова",
        "ФЕДОРОВА",  # ё and е are one letter for the search
        "ақмарал",
        "АҚМАРАЛ",
        "ерланқызы",
        "akmaral.f@example",
        "EXAMPLE.KZ",
        "telegraf qazaq",
        "100%",  # LIKE wildcards are matched literally
        "медиа_тобы",
        reference.lower(),
        reference[-6:],
        f"  {reference}  ",
    ):
        ids, total = _ids(engine, ApplicationQuery(search=term))
        assert target in ids, term
        assert total == len(ids) or total > len(ids), term
    for term in ("100%медиа", "медиа%тобы", "x_y", "zzzz-no-such", "ахметова\nсерік"):
        ids, _ = _ids(engine, ApplicationQuery(search=term))
        assert target not in ids, term


def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "").casefold().replace("ё", "е")


def test_search_agrees_with_python(seeded):
    engine = seeded
    rows = _all_rows(engine)
    for term in ("ов", "айгүл", "GMAIL", "медиа", "a-2026-0001", "2025", "ким", "ё"):
        folded = _fold(term)
        expected = {
            r["id"]
            for r in rows
            if any(
                folded in _fold(r[name])
                for name in ("surname", "first_name", "patronymic", "email", "workplace")
            )
            or folded.upper() in r["reference"]
        }
        found, page, total = set(), 1, None
        while True:
            ids, total = _ids(engine, ApplicationQuery(search=term, page=page, page_size=200))
            if not ids:
                break
            found |= set(ids)
            page += 1
        assert found == expected, term
        assert total == len(expected), term


def _python_filter(rows, *, status="", assignee_id=None, unassigned=False, start=None, end=None):
    out = []
    for r in rows:
        at = _aware(r["submitted_at"])
        if status and r["status"] != status:
            continue
        if unassigned and r["assignee_id"] is not None:
            continue
        if assignee_id is not None and r["assignee_id"] != assignee_id:
            continue
        if start and at < start:
            continue
        if end and at >= end:
            continue
        out.append(r)
    return out


def test_filters_sorts_and_pages_agree_with_python(seeded):
    engine = seeded
    rows = _all_rows(engine)
    staff_ids = sorted({r["assignee_id"] for r in rows if r["assignee_id"] is not None})
    assert staff_ids, "the demo assigns picked-up applications to staff"
    day_from, day_to = date(2026, 3, 1), date(2026, 6, 30)
    start = datetime(2026, 3, 1, tzinfo=ALMATY).astimezone(UTC)
    end = datetime(2026, 7, 1, tzinfo=ALMATY).astimezone(UTC)
    cases = [
        (ApplicationQuery(), {}),
        (ApplicationQuery(status="approved"), {"status": "approved"}),
        (ApplicationQuery(status="in_review"), {"status": "in_review"}),
        (ApplicationQuery(assignee_id=staff_ids[0]), {"assignee_id": staff_ids[0]}),
        (ApplicationQuery(unassigned=True), {"unassigned": True}),
        (
            ApplicationQuery(date_from=day_from, date_to=day_to, status="rejected"),
            {"start": start, "end": end, "status": "rejected"},
        ),
        (ApplicationQuery(date_from=day_from), {"start": start}),
        (ApplicationQuery(date_to=day_to), {"end": end}),
    ]
    for q, flt in cases:
        expected = _python_filter(rows, **flt)
        newest = sorted(expected, key=lambda r: (_aware(r["submitted_at"]), r["id"]), reverse=True)
        ids, total = _ids(engine, q)
        assert total == len(expected), q
        assert ids == [r["id"] for r in newest[:50]], q

    approved = _python_filter(rows, status="approved")
    oldest = sorted(approved, key=lambda r: (_aware(r["submitted_at"]), r["id"]))
    assert _ids(engine, ApplicationQuery(status="approved", sort="submitted_asc"))[0] == [
        r["id"] for r in oldest[:50]
    ]
    # Letters of other alphabets sort by the database's collation: compare with its own ORDER BY.
    with engine.connect() as conn:
        by_name = (
            conn.execute(
                text(
                    "SELECT a.id FROM membership_application a JOIN data_subject s "
                    "ON s.id = a.subject_id WHERE a.status = 'approved' "
                    "ORDER BY s.surname, s.first_name, a.id LIMIT 60 OFFSET 50"
                )
            )
            .scalars()
            .all()
        )
    assert _ids(engine, ApplicationQuery(status="approved", sort="surname", page=2, page_size=50))[
        0
    ] == list(by_name[:50])

    order = {s: i for i, s in enumerate(APPLICATION_STATUSES)}
    by_status = sorted(
        rows, key=lambda r: (order[r["status"]], -_aware(r["submitted_at"]).timestamp(), -r["id"])
    )
    assert _ids(engine, ApplicationQuery(sort="status", page_size=100))[0] == [
        r["id"] for r in by_status[:100]
    ]
    assert _ids(engine, ApplicationQuery(sort="nonsense"))[0] == _ids(engine, ApplicationQuery())[0]


def test_pagination(seeded):
    engine = seeded
    everything, total = [], None
    page = 1
    while True:
        ids, t = _ids(engine, ApplicationQuery(page=page, page_size=40))
        total = t if total is None else total
        assert t == total
        if not ids:
            break
        everything += ids
        page += 1
    assert len(everything) == len(set(everything)) == total == 300
    assert page == 9  # 8 full-or-partial pages, the ninth is past the end
    assert len(_ids(engine, ApplicationQuery(page_size=10_000))[0]) == applications.MAX_PAGE_SIZE
    assert (
        _ids(engine, ApplicationQuery(page=0, page_size=5))[0]
        == _ids(engine, ApplicationQuery(page=1, page_size=5))[0]
    )
    assert _ids(engine, ApplicationQuery(search="no-such-person", page=3)) == ([], 0)


def test_row_content(seeded, staff):
    engine = seeded
    app_id = submit(
        engine, surname="Ким", first_name="Дмитрий", patronymic="", email="d.kim@mail.kz"
    )
    with session_scope(engine) as s:
        applications.assign(s, staff, app_id, staff.user_id)
    with Session(engine) as s:
        rows, _ = applications.list_applications(s, ApplicationQuery(search="d.kim@"))
    (row,) = rows
    app = fetch(engine, MembershipApplication, app_id)
    assert row == applications.ApplicationRow(
        id=app_id,
        reference=app.reference,
        submitted_at=app.submitted_at,
        status="submitted",
        surname="Ким",
        first_name="Дмитрий",
        patronymic=None,
        email="d.kim@mail.kz",
        workplace="«Дала Медиа» ЖШС",
        assignee_username="aizhan",
        subject_id=app.subject_id,
    )


def test_status_counts_match_a_python_count(seeded):
    engine = seeded
    rows = _all_rows(engine)
    blocked = rows[0]
    with engine.begin() as conn:
        subject_id = conn.execute(
            text("SELECT subject_id FROM membership_application WHERE id = :i"),
            {"i": blocked["id"]},
        ).scalar_one()
    set_subject_status(engine, subject_id, "blocked")
    rows = [r for r in rows if r["id"] != blocked["id"]]
    start = datetime(2026, 1, 1, tzinfo=ALMATY).astimezone(UTC)
    for q, flt in (
        (ApplicationQuery(), {}),
        (ApplicationQuery(status="approved"), {}),  # the status filter is ignored
        (ApplicationQuery(date_from=date(2026, 1, 1)), {"start": start}),
        (ApplicationQuery(unassigned=True), {"unassigned": True}),
    ):
        expected = dict.fromkeys(APPLICATION_STATUSES, 0)
        for r in _python_filter(rows, **flt):
            expected[r["status"]] += 1
        with Session(engine) as s:
            assert applications.status_counts(s, q) == expected, q
    with Session(engine) as s:
        counts = applications.status_counts(s, ApplicationQuery(search="zzzz-nobody"))
    assert counts == dict.fromkeys(APPLICATION_STATUSES, 0)


def test_board_columns_newest_first_per_status(seeded):
    engine = seeded
    rows = _all_rows(engine)
    for search in ("", "а"):
        with Session(engine) as s:
            board = applications.board_columns(s, ApplicationQuery(search=search), per_column=7)
            counts = applications.status_counts(s, ApplicationQuery(search=search))
        assert list(board) == list(APPLICATION_STATUSES)
        for status, column in board.items():
            assert len(column) == min(7, counts[status])
            assert all(r.status == status for r in column)
            keys = [(r.submitted_at, r.id) for r in column]
            assert keys == sorted(keys, reverse=True)
        if not search:
            for status, column in board.items():
                expected = sorted(
                    (r for r in rows if r["status"] == status),
                    key=lambda r: (_aware(r["submitted_at"]), r["id"]),
                    reverse=True,
                )[:7]
                assert [r.id for r in column] == [r["id"] for r in expected]
