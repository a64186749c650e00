"""Proof that nothing personal reaches a board member's browser (issue 9, clause 3).

Logs in as ``board``, loads the statistics page's handlers and every period filter through the
real Reflex event protocol, captures every state update sent to that client, and checks that
no value of any personal column of the database appears in them. The downloads a board member
can fetch are checked the same way.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.state.statistics_state import CHARTS, StatisticsState
from tests.live_server import login_cookie, session_id_of
from tests.reflex_client import ReflexClient

PERSONAL = {
    "data_subject": ["surname", "first_name", "patronymic", "phone", "email", "workplace",
                     "position", "education", "experience", "other_info"],
    "membership_application": ["reference", "reason"],
    "member": ["membership_number"],
    "consent": ["evidence_ref", "evidence_text", "withdrawal_evidence"],
    "staff_user": ["full_name"],
}  # fmt: skip


def _personal_values(db_url: str) -> set[str]:
    engine = make_engine(db_url)
    values: set[str] = set()
    try:
        with engine.connect() as conn:
            for table, columns in PERSONAL.items():
                for row in conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
                    values.update(str(v) for v in row if v is not None and len(str(v)) >= 5)
    finally:
        engine.dispose()
    return values


@pytest.fixture(scope="module")
def board_updates(live_server):
    cookie = login_cookie(live_server, "board")
    name = StatisticsState.get_full_name()
    with ReflexClient(live_server.url, cookie) as client:
        client.call(f"{name}.load", {}, path="/statistics")
        for year in ("", "2025", "2026"):
            for quarter in ("", "1", "2", "3", "4"):
                client.call(
                    f"{name}.choose_period",
                    {"form_data": {"year": year, "quarter": quarter}},
                    path="/statistics",
                )
        return list(client.updates), cookie


def test_no_personal_value_in_any_update(live_server, board_updates):
    updates, _cookie = board_updates
    sent = json.dumps(updates, ensure_ascii=False)
    assert "members_by_workplace_category" in sent, "the board's data did arrive"
    personal = _personal_values(live_server.db_url)
    assert len(personal) > 100
    leaked = sorted(v for v in personal if v in sent)
    assert not leaked, f"personal data reached the board's browser: {leaked[:5]}"


def test_downloads_hold_only_anonymised_numbers(live_server, board_updates):
    from sqlmodel import Session

    from dpa_panel.services import auth

    _updates, cookie = board_updates
    personal = _personal_values(live_server.db_url)
    login_session_id = session_id_of(live_server, cookie)
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        board_id = s.execute(text("SELECT id FROM staff_user WHERE username='board'")).scalar()
        tickets = [
            auth.issue_ticket(s, board_id, "download",
                              {"kind": kind, "chart": chart, "year": "", "quarter": ""},
                              login_session_id=login_session_id)
            for chart in CHARTS for kind in ("stats_csv",)
        ]  # fmt: skip
        s.commit()
    engine.dispose()
    for ticket in tickets:
        response = httpx.get(f"{live_server.url}/api/download/{ticket}", headers={"Cookie": cookie})
        assert response.status_code == 200
        body = response.content.decode("utf-8-sig")
        assert body.strip(), "a table was produced"
        assert not [v for v in personal if v in body]
