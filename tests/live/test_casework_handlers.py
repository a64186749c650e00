"""The casework handlers over the real event protocol (issue 16): the register's views and
its refusal of an unknown view, a pause refused on a closed request (nothing changes), and
the same handlers refused to a role without ``requests.manage``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import make_engine, session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import StaffUser
from dpa_panel.services import requests
from dpa_panel.services.audit import Actor
from dpa_panel.state.requests_state import RequestDetailState, RequestsState
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient


@pytest.fixture(scope="module")
def closed_request(live_server):
    """An answered request recorded by the demo compliance officer."""
    engine = make_engine(live_server.db_url)
    try:
        with Session(engine) as s:
            officer = s.scalars(
                select(StaffUser.id).where(StaffUser.username == "compliance")
            ).one()
        actor = Actor.user(officer)
        received = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
        with session_scope(engine) as s:
            r = requests.create_request(
                s, actor, kind="complaint", received_at=received, channel="paper",
                requester="Live Casework Requester", contact="live-casework@mail.kz", now=received,
            )  # fmt: skip
            requests.change_request_status(s, actor, r.id, "refused", refusal_reason="Дубликат")
            rid, reference = r.id, r.reference
        yield engine, rid, reference
    finally:
        engine.dispose()


def _row(engine, rid):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM subject_request WHERE id = :i"), {"i": rid}).one()
        events = conn.execute(
            text("SELECT COUNT(*) FROM request_event WHERE request_id = :i"), {"i": rid}
        ).scalar()
    return tuple(row), events


def test_register_views_and_bad_view_over_the_protocol(live_server, closed_request):
    _engine, _rid, reference = closed_request
    register = RequestsState.get_full_name()
    with ReflexClient(live_server.url, login_cookie(live_server, "compliance")) as client:
        client.call(f"{register}.load", {}, path="/requests")
        refused = json.dumps(client.call(f"{register}.show_view", {"view": "refused"},
                                         path="/requests"), ensure_ascii=False)  # fmt: skip
        assert reference in refused
        bad = json.dumps(client.call(f"{register}.show_view", {"view": "archive"},
                                     path="/requests"), ensure_ascii=False)  # fmt: skip
        assert tr("kk", "register.bad_filter") in bad


def test_pause_on_a_closed_request_is_refused_and_changes_nothing(live_server, closed_request):
    engine, rid, _reference = closed_request
    detail = RequestDetailState.get_full_name()
    before = _row(engine, rid)
    with ReflexClient(live_server.url, login_cookie(live_server, "compliance")) as client:
        path, query = f"/requests/{rid}", {"request_id": str(rid)}
        client.call(f"{detail}.load", {}, path=path, query=query)
        sent = json.dumps(
            client.call(f"{detail}.pause", {"form_data": {"reason": "too late"}}, path=path,
                        query=query), ensure_ascii=False,
        )  # fmt: skip
    assert tr("kk", "request.closed") in sent
    assert _row(engine, rid) == before


def test_board_cannot_pause_or_read_the_register(live_server, closed_request):
    engine, rid, reference = closed_request
    before = _row(engine, rid)
    with ReflexClient(live_server.url, login_cookie(live_server, "board")) as client:
        sent = json.dumps(
            client.call(f"{RequestsState.get_full_name()}.show_view", {"view": "all"},
                        path="/requests")
            + client.call(f"{RequestDetailState.get_full_name()}.pause",
                          {"form_data": {"reason": "x"}}, path=f"/requests/{rid}",
                          query={"request_id": str(rid)}),
            ensure_ascii=False,
        )  # fmt: skip
        client.wait_for("_redirect")
    assert reference not in sent and "Live Casework" not in sent
    assert _row(engine, rid) == before


def test_register_export_downloads_with_its_sessions_ticket(live_server, closed_request):
    """The export button's ticket (bound to the officer's login session) downloads the
    filtered register; the same ticket is refused to another session."""
    import re

    import httpx

    _engine, _rid, reference = closed_request
    register = RequestsState.get_full_name()
    cookie = login_cookie(live_server, "compliance")
    with ReflexClient(live_server.url, cookie) as client:
        client.call(f"{register}.load", {}, path="/requests")
        client.call(f"{register}.show_view", {"view": "refused"}, path="/requests")
        client.call(f"{register}.export", {"fmt": "csv"}, path="/requests")
        assert client.wait_for("/api/download/")
        ticket = re.search(r"/api/download/([A-Za-z0-9_\-]+)", json.dumps(client.updates))
    assert ticket, "the export hands over a download ticket"
    url = f"{live_server.url}/api/download/{ticket.group(1)}"
    other = login_cookie(live_server, "compliance")
    assert httpx.get(url, headers={"Cookie": other}).status_code == 403
    response = httpx.get(url, headers={"Cookie": cookie})
    assert response.status_code == 200, response.text[:300]
    body = response.content.decode("utf-8-sig")
    header, *rows = body.splitlines()
    assert header.split(",")[0] == tr("kk", "pipeline.reference"), "header first, in words"
    assert any(reference in row for row in rows)
