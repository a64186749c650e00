"""Casework (issue 16): pauses (with and without stopping the clock), reopening, withdrawal,
each request's history, the register's views, filters, search and export rows, and the
deadline settings' refusals. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import (
    AuditEvent,
    DataSubject,
    MembershipApplication,
    RequestDeadline,
    SubjectRequest,
)
from dpa_panel.services import request_register, requests
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.request_register import RegisterQuery, query_from_strings
from tests.pipeline_helpers import make_staff, submit

MON = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday 10:00 Almaty


@pytest.fixture
def officer(engine) -> Actor:
    return Actor.user(make_staff(engine, "dana", "compliance"))


def new(engine, actor, kind="access", received=MON, requester="Ахметова Айгүл",
        contact="aigul@mail.kz", subject_id=None) -> int:  # fmt: skip
    with session_scope(engine) as s:
        return requests.create_request(
            s, actor, kind=kind, received_at=received, channel="email", requester=requester,
            contact=contact, subject_id=subject_id, now=received,
        ).id  # fmt: skip


def get(engine, rid) -> SubjectRequest:
    with Session(engine) as s:
        return s.get(SubjectRequest, rid)


def row_snapshot(engine, rid) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM subject_request WHERE id = :i"), {"i": rid}).one()
        events = conn.execute(
            text("SELECT COUNT(*) FROM request_event WHERE request_id = :i"), {"i": rid}
        ).scalar()
    return {**row._mapping, "events": events}


# --- pauses, reopening, withdrawal, history ---------------------------------------------------


def test_pause_does_not_stop_the_clock_by_default(engine, officer):
    rid = new(engine, officer)  # access: due Thursday 26 Nov
    with session_scope(engine) as s:
        requests.pause_request(s, officer, rid, "Ждём подтверждения через eGov",
                               now=datetime(2026, 11, 24, 5, tzinfo=UTC))  # fmt: skip
    r = get(engine, rid)
    assert r.paused_at is not None and r.pause_reason.startswith("Ждём")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.pause_request(s, officer, rid, "again")
    assert err.value.key == "request.already_paused"
    with session_scope(engine) as s:
        requests.resume_request(s, officer, rid, now=datetime(2026, 11, 26, 5, tzinfo=UTC))
    r = get(engine, rid)
    assert r.paused_at is None and r.due_date == date(2026, 11, 26)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.resume_request(s, officer, rid)
    assert err.value.key == "request.not_paused"


def test_pause_stops_the_clock_when_the_kind_says_so(engine, officer):
    with session_scope(engine) as s:
        row = s.get(RequestDeadline, "access")
        requests.set_deadline(s, officer, "access", working_days=3, counted_from="received",
                              source=row.source, pause_stops_clock=True)  # fmt: skip
    rid = new(engine, officer)
    with session_scope(engine) as s:
        requests.pause_request(s, officer, rid, "Waiting for the EDS-signed request",
                               now=datetime(2026, 11, 24, 5, tzinfo=UTC))  # fmt: skip
        # Paused Tuesday, resumed Thursday: two working days (Wed, Thu) -> due +2.
    with session_scope(engine) as s:
        requests.resume_request(s, officer, rid, now=datetime(2026, 11, 26, 5, tzinfo=UTC))
    assert get(engine, rid).due_date == date(2026, 11, 30)
    with Session(engine) as s:
        resumed = [e for e, _ in requests.request_history(s, rid) if e.kind == "resumed"][0]
    assert json.loads(resumed.data) == {
        "due": "2026-11-30", "due_from": "2026-11-26", "paused_days": 2
    }  # fmt: skip


def test_closed_request_cannot_be_paused_and_nothing_changes(engine, officer):
    rid = new(engine, officer, kind="complaint")
    with session_scope(engine) as s:
        requests.change_request_status(s, officer, rid, "refused", refusal_reason="Дубликат")
    before = row_snapshot(engine, rid)
    for call in (
        lambda s: requests.pause_request(s, officer, rid, "late pause"),
        lambda s: requests.resume_request(s, officer, rid),
    ):
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            call(s)
        assert err.value.key == "request.closed"
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.pause_request(s, officer, rid, " ")
    assert err.value.key == "request.pause_reason_required"
    assert row_snapshot(engine, rid) == before


def test_history_in_order_with_who_and_reopening(engine, officer):
    sid = None
    app_id = submit(engine)
    with Session(engine) as s:
        sid = s.get(MembershipApplication, app_id).subject_id
    clerk = make_staff(engine, "erlan", "staff")
    rid = new(engine, officer, subject_id=sid)
    t = datetime(2026, 11, 23, 6, tzinfo=UTC)
    with session_scope(engine) as s:
        requests.verify_identity(s, officer, rid, method="eGov EDS", now=t)
        requests.assign_request(s, officer, rid, clerk)
        requests.pause_request(s, officer, rid, "Уточняем адрес", now=t)
        requests.resume_request(s, officer, rid, now=t)
        requests.add_request_note(s, officer, rid, "Позвонили заявителю", now=t)
        requests.change_request_status(s, officer, rid, "answered", answer="Ответ отправлен",
                                       now=t)  # fmt: skip
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.reopen_request(s, officer, rid, "")
    assert err.value.key == "request.reason_required"
    with session_scope(engine) as s:
        r = requests.reopen_request(s, officer, rid, "Заявитель оспорил ответ", now=t)
        assert r.status == "in_progress" and r.answered_at is None
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.reopen_request(s, officer, rid, "again")
    assert err.value.key == "request.not_closed"
    with session_scope(engine) as s:
        requests.change_request_status(s, officer, rid, "withdrawn",
                                       refusal_reason="Письмо об отзыве", now=t)  # fmt: skip
    with Session(engine) as s:
        history = requests.request_history(s, rid)
        audit_text = " ".join(
            e.details for e in s.scalars(select(AuditEvent).where(
                AuditEvent.entity_type == "subject_request"))
        )  # fmt: skip
    assert [e.kind for e, _ in history] == [
        "received", "identity_verified", "assigned", "paused", "resumed", "noted", "answered",
        "reopened", "withdrawn",
    ]  # fmt: skip
    assert {who for _, who in history} == {"dana"}
    assert history[3][0].text == "Уточняем адрес"
    assert json.loads(history[2][0].data)["to"] == clerk
    # The history's words stay in the request's rows, not in the audit trail.
    assert "Уточняем" not in audit_text and "оспорил" not in audit_text
    assert get(engine, rid).status == "withdrawn"


# --- the register ----------------------------------------------------------------------------


@pytest.fixture
def register(engine, officer):
    """Requests in every state; today is Wednesday 25 Nov 2026."""
    clerk = make_staff(engine, "erlan", "staff")
    ids = {
        "open_soon": new(engine, officer, requester="Серікұлы Нұрлан", contact="nurlan@mail.kz"),
        "open_later": new(engine, officer, received=datetime(2026, 11, 25, 5, tzinfo=UTC),
                          requester="Иванова Мария", contact="maria@mail.ru"),
        "overdue": new(engine, officer, received=datetime(2026, 11, 16, 5, tzinfo=UTC)),
        "answered_late": new(engine, officer, received=datetime(2026, 11, 16, 5, tzinfo=UTC)),
        "answered": new(engine, officer, kind="withdrawal"),
        "refused": new(engine, officer, kind="complaint"),
        "withdrawn": new(engine, officer, kind="complaint"),
    }  # fmt: skip
    with session_scope(engine) as s:
        requests.assign_request(s, officer, ids["open_soon"], clerk)
        for key, status, moment in (
            ("answered_late", "refused", datetime(2026, 11, 24, 5, tzinfo=UTC)),
            ("refused", "refused", MON),
            ("withdrawn", "withdrawn", MON),
        ):
            requests.change_request_status(s, officer, ids[key], status, refusal_reason="r",
                                           now=moment)  # fmt: skip
        r = s.get(SubjectRequest, ids["answered"])
        r.status, r.identity_verified_at = "in_progress", MON
        s.add(r)
        s.flush()
        requests.change_request_status(s, officer, ids["answered"], "answered", answer="ok",
                                       now=MON)  # fmt: skip
    return ids, clerk


def _ids(engine, **kw) -> list[int]:
    with Session(engine) as s:
        page = request_register.register_page(s, RegisterQuery(**kw), today=date(2026, 11, 25))
    return [r.id for r in page.rows]


def test_register_views(engine, register):
    ids, _ = register
    assert _ids(engine, view="open") == [ids["overdue"], ids["open_soon"], ids["open_later"]]
    assert _ids(engine, view="overdue") == [ids["overdue"]]
    assert _ids(engine, view="due_soon", due_within=1) == [ids["open_soon"]]
    assert _ids(engine, view="due_soon", due_within=3) == [ids["open_soon"], ids["open_later"]]
    assert _ids(engine, view="answered") == [ids["answered"]]
    assert set(_ids(engine, view="refused")) == {ids["answered_late"], ids["refused"]}
    assert _ids(engine, view="withdrawn") == [ids["withdrawn"]]
    assert len(_ids(engine, view="all")) == 7
    with Session(engine) as s:
        counts = request_register.view_counts(s, today=date(2026, 11, 25))
        late = request_register.register_page(s, RegisterQuery(view="refused"),
                                              today=date(2026, 11, 25))  # fmt: skip
    assert counts == {"open": 3, "due_soon": 2, "overdue": 1, "answered": 1, "refused": 2,
                      "withdrawn": 1, "all": 7, "due_today": 0}  # fmt: skip
    # Due Thursday 19 Nov, refused Tuesday 24 Nov: 3 working days late.
    assert {r.id: r.late_days for r in late.rows}[ids["answered_late"]] == 3


def test_register_filters_and_search(engine, register):
    ids, clerk = register
    assert _ids(engine, view="all", kind="complaint") == [ids["withdrawn"], ids["refused"]]
    assert _ids(engine, view="all", assignee=str(clerk)) == [ids["open_soon"]]
    assert ids["open_soon"] not in _ids(engine, view="all", assignee="none")
    wed = date(2026, 11, 25)
    assert _ids(engine, view="all", received_from=wed, received_to=wed) == [ids["open_later"]]
    assert _ids(engine, view="all", search="НҰРЛАН") == [ids["open_soon"]]
    assert _ids(engine, view="all", search="maria@mail") == [ids["open_later"]]
    ref = get(engine, ids["overdue"]).reference
    assert _ids(engine, view="all", search=ref.lower()) == [ids["overdue"]]
    assert _ids(engine, view="all", search="nobody-matches") == []


def test_register_search_finds_the_linked_subject(engine, officer):
    app_id = submit(engine)
    with Session(engine) as s:
        sid = s.get(MembershipApplication, app_id).subject_id
        surname = s.get(DataSubject, sid).surname
    rid = new(engine, officer, requester="Letter", contact="post", subject_id=sid)
    assert _ids(engine, view="all", search=surname[:5]) == [rid]


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"view": "archived"}, "register.bad_filter"),
        ({"kind": "gossip"}, "register.bad_filter"),
        ({"assignee": "somebody"}, "register.bad_filter"),
        ({"due_within": "-2"}, "register.bad_due_within"),
        ({"due_within": "999"}, "register.bad_due_within"),
        ({"received_from": "2026-13-01"}, "audit.bad_date"),
        ({"received_from": "31.02.2026"}, "audit.bad_date"),
        ({"received_from": "25.11.2026", "received_to": "01.11.2026"}, "audit.bad_range"),
    ],
)
def test_unknown_filters_are_refused(values, key):
    with pytest.raises(ServiceError) as err:
        query_from_strings(values)
    assert err.value.key == key


def test_dates_in_filters_use_the_ui_format():
    q = query_from_strings({"received_from": "20.03.2026", "received_to": "2026-03-30"})
    assert (q.received_from, q.received_to) == (date(2026, 3, 20), date(2026, 3, 30))


def test_export_rows_have_labels_and_almaty_times(engine, register):
    ids, _ = register
    with Session(engine) as s:
        rows = list(request_register.iter_register(s, RegisterQuery(view="all"),
                                                   today=date(2026, 11, 25), batch=2))  # fmt: skip
    assert len(rows) == 7
    by_id = {r.id: r for r in rows}
    header = request_register.export_header("ru")
    late = request_register.export_row(by_id[ids["answered_late"]], "ru")
    assert header == [tr("ru", k) for k in request_register.EXPORT_COLUMNS]
    assert not any("." in h for h in header), "labels, not catalog keys"
    assert late[1] == tr("ru", "request_kind.access")
    assert late[2] == tr("ru", "request_status.refused")
    assert late[5].startswith("16.11.2026") and "10:00" in late[5]  # received 05:00 UTC
    assert late[9].startswith("24.11.2026") and late[10] == "с опозданием на 3 раб. дн."
    on_time = request_register.export_row(by_id[ids["answered"]], "kk")
    assert on_time[10] == "уақытында жауап берілді"


# --- deadline settings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"working_days": -1}, "request.bad_deadline"),
        ({"working_days": 61}, "request.bad_deadline"),
        ({"working_days": 10**6}, "request.bad_deadline"),
        ({"counted_from": "moon_phase"}, "request.bad_start_event"),
        ({"source": "  "}, "request.citation_required"),
    ],
)
def test_bad_deadline_settings_change_nothing(engine, officer, kwargs, key):
    values = {"working_days": 5, "counted_from": "received", "source": "Law 94-V", **kwargs}
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        requests.set_deadline(s, officer, "access", **values)
    assert err.value.key == key
    with Session(engine) as s:
        row = s.get(RequestDeadline, "access")
        assert (row.working_days, row.counted_from) == (3, "received")


def test_search_keeps_each_views_order_and_pages(engine, officer):
    """A search reads the matching keys once; the page order equals the unsearched order."""
    for day in (16, 17, 18, 19, 20):
        new(engine, officer, received=datetime(2026, 11, day, 5, tzinfo=UTC),
            requester=f"Common Name {day}")  # fmt: skip
    for view in ("open", "all"):
        plain = _ids(engine, view=view)
        assert _ids(engine, view=view, search="common name") == plain
        assert _ids(engine, view=view, search="common", page_size=2, page=2) == plain[2:4]


def test_register_export_through_the_download_mechanism(engine, officer, db_url):
    """The CSV and XLSX of the register as ``/api/download`` streams them: labelled header
    first, only the filtered rows, a formula-like cell neutralised."""
    import csv
    import io

    from openpyxl import load_workbook

    from dpa_panel.exports import EXPORTS

    new(engine, officer, kind="complaint", requester="=HYPERLINK(\"x\")")
    new(engine, officer, kind="access")
    params = {"kind": "requests_csv", "request_kind": "complaint", "view": "all",
              "language": "en"}  # fmt: skip
    data = b"".join(EXPORTS["requests_csv"].stream(params, 1)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == request_register.export_header("en")
    assert len(rows) == 2 and rows[1][1] == tr("en", "request_kind.complaint")
    assert rows[1][3] == "'=HYPERLINK(\"x\")"
    xlsx = b"".join(EXPORTS["requests_xlsx"].stream({**params, "kind": "requests_xlsx"}, 1))
    sheet = load_workbook(io.BytesIO(xlsx)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0] and len(values) == 2 and values[1][3].startswith("'=")
