"""Data-subject requests: lifecycle, deadlines, identity, counts, blocking, destruction hand-over
and the subject report (every stored value appears in it). SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import (
    ApplicationEvent,
    AuditEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    RequestEvent,
    SubjectRequest,
)
from dpa_panel.services import applications, consent, requests, subject_report
from dpa_panel.services.applications import ApplicationQuery
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.errors import ServiceError, ValidationFailed
from tests.pipeline_helpers import make_staff, move, submit

RECEIVED = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday 10:00 Almaty
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def staff(engine) -> Actor:
    return Actor.user(make_staff(engine, "dana", "compliance"), "10.0.0.9")


def subject_of(engine, app_id) -> int:
    with Session(engine) as s:
        return s.get(MembershipApplication, app_id).subject_id


def new_request(engine, actor, kind="access", received_at=RECEIVED, **kw) -> int:
    with session_scope(engine) as s:
        r = requests.create_request(
            s, actor, kind=kind, received_at=received_at, channel="email",
            requester="Ахметова Айгүл", contact="aigul@mail.kz", now=kw.pop("now", NOW), **kw,
        )  # fmt: skip
        return r.id


def get_request(engine, request_id) -> SubjectRequest:
    with Session(engine) as s:
        return s.get(SubjectRequest, request_id)


# --- lifecycle -------------------------------------------------------------------------------


def test_create_request_reference_due_date_and_audit(engine, staff):
    rid = new_request(engine, staff, details="Хочу знать, какие данные хранятся")
    r = get_request(engine, rid)
    assert re.fullmatch(r"R-2026-\d{6}", r.reference) and r.reference.endswith(f"{rid:06d}")
    assert r.status == "received" and r.due_date == date(2026, 11, 26)  # +3 working days
    assert r.created_by_id == staff.user_id
    with Session(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "request.created")).one()
        assert json.loads(event.details)["kind"] == "access"
        assert "Ахметова" not in event.details and "mail.kz" not in event.details


def test_create_request_refusals(engine, staff):
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        requests.create_request(
            s, staff, kind="gossip", received_at=NOW + timedelta(days=1), channel="fax",
            requester=" ", contact="", purpose_code="nope", now=NOW,
        )  # fmt: skip
    assert err.value.errors == {
        "kind": "request.bad_kind",
        "channel": "request.bad_channel",
        "requester": "field.required",
        "contact": "field.required",
        "received_at": "request.received_in_future",
        "purpose_code": "request.bad_purpose",
    }
    with session_scope(engine) as s, pytest.raises(ServiceError) as e2:
        requests.create_request(
            s, staff, kind="access", received_at=RECEIVED, channel="email", requester="X",
            contact="x@y.kz", subject_id=987654, now=NOW,
        )  # fmt: skip
    assert e2.value.key == "subject.not_found"


def test_lifecycle_identity_answer_and_refusal(engine, staff):
    sid = subject_of(engine, submit(engine))
    rid = new_request(engine, staff, kind="rectification")
    # Rectification counts from receipt (issue 16): Monday + 1 working day, kept on verification.
    assert get_request(engine, rid).due_date == date(2026, 11, 24)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.change_request_status(s, staff, rid, "in_progress", now=NOW)
    assert err.value.key == "request.verify_identity_first"
    with session_scope(engine) as s:
        requests.change_request_status(s, staff, rid, "identity_check", now=NOW)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.change_request_status(s, staff, rid, "answered", answer="done", now=NOW)
    assert err.value.key == "request.illegal_transition"
    verified = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday
    with session_scope(engine) as s:
        requests.verify_identity(s, staff, rid, subject_id=sid, method="ID card", now=verified)
    r = get_request(engine, rid)
    assert (r.status, r.subject_id, r.identity_verified_by_id) == (
        "in_progress",
        sid,
        staff.user_id,
    )
    assert r.identity_method == "ID card" and r.due_date == date(2026, 11, 24)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.change_request_status(s, staff, rid, "answered", answer=" ", now=verified)
    assert err.value.key == "request.answer_required"
    with session_scope(engine) as s:
        requests.change_request_status(s, staff, rid, "answered", answer="Исправлено", now=verified)
    r = get_request(engine, rid)
    assert r.status == "answered" and r.answer == "Исправлено" and r.answered_at == verified
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.change_request_status(s, staff, rid, "refused", refusal_reason="x", now=NOW)
    assert err.value.key == "request.illegal_transition"

    other = new_request(engine, staff, kind="complaint")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.change_request_status(s, staff, other, "refused", now=NOW)
    assert err.value.key == "request.reason_required"
    with session_scope(engine) as s:
        requests.change_request_status(
            s, staff, other, "refused", refusal_reason="Не подтверждена личность", now=NOW
        )
    assert get_request(engine, other).refusal_reason == "Не подтверждена личность"
    with Session(engine) as s:
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.entity_type == "subject_request")
            )
        ]
        assert actions.count("request.status_changed") == 3
        assert "request.identity_verified" in actions
        assert verify_chain(s).ok


def test_assign_and_notes(engine, staff):
    rid = new_request(engine, staff)
    board = make_staff(engine, "board1", "board")
    officer = make_staff(engine, "officer", "staff")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.assign_request(s, staff, rid, board)
    assert err.value.key == "request.bad_assignee"
    with session_scope(engine) as s:
        requests.assign_request(s, staff, rid, officer)
        requests.add_request_note(s, staff, rid, "Позвонила, уточнила адрес", now=NOW)
        requests.add_request_note(s, staff, rid, "Второй звонок", now=NOW)
    r = get_request(engine, rid)
    assert r.assignee_id == officer
    assert r.notes.splitlines() == [
        "[2026-11-23 06:00 UTC dana] Позвонила, уточнила адрес",
        "[2026-11-23 06:00 UTC dana] Второй звонок",
    ]
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.add_request_note(s, staff, rid, "")
    assert err.value.key == "field.required"


def test_open_requests_and_counts(engine, staff):
    # Due Thu 26 Nov (access, received Mon 23), due Tue 24 (withdrawal), due Mon 30 (access
    # received Wed 25), and one answered late, one answered on time.
    a = new_request(engine, staff, "access")
    w = new_request(engine, staff, "withdrawal")
    wed = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    later = new_request(engine, staff, "access", received_at=wed, now=wed)
    late = new_request(engine, staff, "complaint")
    on_time = new_request(engine, staff, "complaint")
    with session_scope(engine) as s:
        requests.change_request_status(
            s, staff, late, "refused", refusal_reason="r", now=datetime(2027, 1, 20, tzinfo=UTC)
        )
        requests.change_request_status(s, staff, on_time, "refused", refusal_reason="r", now=NOW)
    today = date(2026, 11, 26)  # Thursday
    with Session(engine) as s:
        rows = requests.open_requests(s, today=today)
        counts = requests.request_counts(s, today)
    assert [r.id for r in rows] == [w, a, later]
    by_id = {r.id: r for r in rows}
    assert (by_id[w].days_left, by_id[w].overdue) == (-2, True)
    assert (by_id[a].days_left, by_id[a].overdue) == (0, False)
    assert (by_id[later].days_left, by_id[later].overdue) == (2, False)
    assert counts == {
        "open": 3,
        "overdue": 1,
        "due_today": 1,
        "closed": 2,
        "closed_on_time": 1,
        "answered_on_time_share": 0.5,
    }


def test_deadline_can_be_changed_and_is_audited(engine, staff):
    with session_scope(engine) as s:
        requests.set_deadline(
            s, staff, "complaint", working_days=10, counted_from="received", source="Board decision"
        )
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.set_deadline(s, staff, "complaint", working_days=99, counted_from="received",
                              source="x")  # fmt: skip
    assert err.value.key == "request.bad_deadline"
    with Session(engine) as s:
        assert {d.kind: d.working_days for d in requests.list_deadlines(s)}["complaint"] == 10
        assert requests.compute_due_date(s, "complaint", RECEIVED) == date(2026, 12, 7)


# --- blocking and destruction ----------------------------------------------------------------


def test_block_hides_and_refuses_then_unblock_restores(engine, staff):
    app_id = submit(engine, surname="Блоктаулы")
    sid = subject_of(engine, app_id)
    rid = new_request(engine, staff, "blocking")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.block_subject(s, staff, sid, "  ")
    assert err.value.key == "subject.reason_required"
    with session_scope(engine) as s:
        requests.block_subject(s, staff, sid, "Оспаривает точность данных", request_id=rid, now=NOW)
    with Session(engine) as s:
        subject = s.get(DataSubject, sid)
        assert subject.status == "blocked" and subject.blocked_at == NOW
        assert subject.blocked_reason == "Оспаривает точность данных"
        assert "Оспаривает" in s.get(SubjectRequest, rid).notes
        rows, total = applications.list_applications(s, ApplicationQuery(search="блоктаулы"))
        assert total == 0 and rows == []
    for call in (
        lambda s: applications.read_application(s, staff, app_id),
        lambda s: applications.update_subject(s, staff, sid, {"position": "Главный редактор"}),
        lambda s: applications.change_status(s, staff, app_id, "in_review"),
        lambda s: requests.block_subject(s, staff, sid, "again"),
    ):
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            call(s)
        assert err.value.key == "subject.not_active"
    with Session(engine) as s:
        assert consent.may_process(s, sid, "application_review") is False
    with session_scope(engine) as s:
        requests.unblock_subject(s, staff, sid, "Данные подтверждены", request_id=rid)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.unblock_subject(s, staff, sid, "again")
    assert err.value.key == "subject.not_blocked"
    with Session(engine) as s:
        subject = s.get(DataSubject, sid)
        assert subject.status == "active" and subject.blocked_at is None
        assert applications.list_applications(s, ApplicationQuery(search="блоктаулы"))[1] == 1
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "subject.blocked" in actions and "subject.unblocked" in actions
        assert verify_chain(s).ok


def test_schedule_destruction(engine, staff):
    sid = subject_of(engine, submit(engine))
    with session_scope(engine) as s:
        requests.schedule_destruction(s, staff, sid, "Требование субъекта", now=NOW)
    with session_scope(engine) as s:  # a later call keeps the earlier moment
        requests.schedule_destruction(s, staff, sid, "again", now=NOW + timedelta(days=1))
    with Session(engine) as s:
        assert s.get(DataSubject, sid).destruction_due_at == NOW
        assert consent.may_process(s, sid, "application_review") is False
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "subject.destruction_scheduled")
        ).first()
        assert "Требование" not in event.details


# --- the subject report ----------------------------------------------------------------------


def _norm(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(conn, model, *conds) -> list[dict]:
    table = model.__table__
    return [dict(r._mapping) for r in conn.execute(select(table).where(*conds))]


def _pdf_text(pdf: bytes) -> str:
    """Text of an fpdf2 PDF: glyph ids in Tj strings mapped back through the ToUnicode CMap."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    cmap: dict[int, str] = {}
    for s in streams:
        for src, dst in re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,})>", s):
            cmap[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    out = []
    for s in streams:
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", s, re.S):
            data = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: (
                    bytes([int(m.group(1), 8)])
                    if m.group(1)[:1].isdigit()
                    else escapes.get(m.group(1), m.group(1))
                ),
                literal,
                flags=re.S,
            )
            out.append(
                "".join(
                    cmap.get(int.from_bytes(data[i : i + 2], "big"), "?")
                    for i in range(0, len(data) - 1, 2)
                )  # fmt: skip
            )
    return "\n".join(out)


def test_subject_report_contains_every_stored_value(engine, staff):
    app_id = submit(
        engine,
        consents=("application_review", "member_register", "informing"),
        other_info="Член жюри «Медиа-2025»",
    )
    sid = subject_of(engine, app_id)
    move(engine, app_id, "approved", staff)
    with session_scope(engine) as s:
        applications.add_note(s, staff, app_id, "Рекомендация от правления")
        consent.withdraw(
            s, staff, sid, "informing", channel="email", evidence="письмо 20.11",
            retained_ground="",
        )  # fmt: skip
    rid = new_request(engine, staff, "access", subject_id=sid)
    with session_scope(engine) as s:
        report = requests.subject_report(s, staff, sid)
    with engine.connect() as conn:
        subject_row = _rows(conn, DataSubject, DataSubject.__table__.c.id == sid)[0]
        consent_rows = _rows(conn, Consent, Consent.__table__.c.subject_id == sid)
        app_rows = _rows(
            conn, MembershipApplication, MembershipApplication.__table__.c.subject_id == sid
        )
        event_rows = _rows(
            conn,
            ApplicationEvent,
            ApplicationEvent.__table__.c.application_id.in_([a["id"] for a in app_rows]),
        )
        member_row = _rows(conn, Member, Member.__table__.c.subject_id == sid)[0]
    assert len(consent_rows) == 3 and event_rows and app_rows

    checked = 0

    def check(section: dict, row: dict, where: str) -> None:
        nonlocal checked
        for column, value in row.items():
            if value is None or subject_report._derived_key(column):
                assert column not in section or value is None, f"{where}.{column} is derived"
                continue
            assert column in section, f"{where}.{column} missing"
            assert section[column] == _norm(value), f"{where}.{column}"
            checked += 1

    check(
        report["subject"], {k: v for k, v in subject_row.items() if k != "search_text"}, "subject"
    )
    assert "search_text" not in report["subject"]
    by_id = {c["id"]: c for c in report["consents"]}
    for row in consent_rows:
        check(by_id[row["id"]], row, f"consent {row['id']}")
        assert by_id[row["id"]]["policy_label"] == "v1"
    apps = {a["id"]: a for a in report["applications"]}
    for row in app_rows:
        check(apps[row["id"]], row, f"application {row['id']}")
    events = {e["id"]: e for a in report["applications"] for e in a["events"]}
    for row in event_rows:
        check(events[row["id"]], row, f"event {row['id']}")
    check(report["member"], member_row, "member")
    assert checked > 60
    assert [r["id"] for r in report["requests"]] == [rid]
    assert "search_text" not in report["requests"][0]
    with engine.connect() as conn:
        history = _rows(conn, RequestEvent, RequestEvent.__table__.c.request_id == rid)
    assert [e["id"] for e in report["requests"][0]["events"]] == [h["id"] for h in history]
    for row in history:
        check(report["requests"][0]["events"][0], row, f"request event {row['id']}")
    assert report["policies"][0]["label"] == "v1" and "Құпиялылық" in report["policies"][0]["text"]
    assert report["retention"]["membership_ended_at"] is None
    assert report["retention"]["destruction_due_at"] is None
    assert len(report["retention"]["consents_withdrawn_at"]) == 1

    as_json = json.loads(requests.report_json(report))
    assert as_json["subject"]["surname"] == "Ахметова"

    pdf = requests.report_pdf(report)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    text = _pdf_text(pdf)
    assert "Ахметова" in text and subject_row["email"] in text
    assert "Жеке деректер" in text  # Kazakh labels: the subject wrote in Kazakh
    assert "Personal data" in _pdf_text(requests.report_pdf(report, "en"))
    with Session(engine) as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "subject.report_generated")
        ).one()
        assert event.entity_id == str(sid) and event.details == "{}"


def test_report_pdf_needs_the_font(engine, staff, monkeypatch, tmp_path):
    sid = subject_of(engine, submit(engine))
    with session_scope(engine) as s:
        report = requests.subject_report(s, staff, sid)
    monkeypatch.setattr(subject_report, "FONT_PATH", tmp_path / "missing.ttf")
    with pytest.raises(RuntimeError, match="fonts-dejavu-core"):
        requests.report_pdf(report)
