"""Proof that nothing personal reaches a board member's browser (issue 9, clause 3).

Logs in as ``board``, loads the statistics page and chooses every published release with every
kind of period through the real Reflex event protocol, captures every state update sent to that
client, and checks that no value of any personal column of the database appears in them. Every
release download (JSON and CSV) a board member can fetch is checked the same way, and the board
cannot open the compliance preview (issue 14).
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.i18n import tr
from dpa_panel.state.statistics_state import SCOPES, StatisticsState, StatsPreviewState
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


def _release_ids(db_url: str) -> list[int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT id FROM stats_release ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def board_updates(live_server):
    cookie = login_cookie(live_server, "board")
    name = StatisticsState.get_full_name()
    releases = _release_ids(live_server.db_url)
    assert releases, "dpa-panel demo published the due releases"
    with ReflexClient(live_server.url, cookie) as client:
        client.call(f"{name}.load", {}, path="/statistics")
        for release in releases:
            for scope in SCOPES:
                client.call(
                    f"{name}.choose_release",
                    {"form_data": {"release": str(release), "scope": scope}},
                    path="/statistics",
                )
        return list(client.updates), cookie


def test_no_personal_value_in_any_update(live_server, board_updates):
    updates, _cookie = board_updates
    sent = json.dumps(updates, ensure_ascii=False)
    assert "members_by_workplace_category" in sent, "the board's data did arrive"
    assert "true_value" not in sent
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
                              {"kind": kind, "release_id": str(release)},
                              login_session_id=login_session_id)
            for release in _release_ids(live_server.db_url)
            for kind in ("stats_release_json", "stats_release_csv")
        ]  # fmt: skip
        s.commit()
    engine.dispose()
    for ticket in tickets:
        response = httpx.get(f"{live_server.url}/api/download/{ticket}", headers={"Cookie": cookie})
        assert response.status_code == 200
        body = response.content.decode("utf-8-sig")
        assert body.strip(), "a table was produced"
        assert not [v for v in personal if v in body]


def test_the_board_cannot_preview_the_next_release(live_server):
    """The preview shows true values of hidden cells: compliance and admin only."""
    cookie = login_cookie(live_server, "board")
    name = StatsPreviewState.get_full_name()
    with ReflexClient(live_server.url, cookie) as client:
        client.call(f"{name}.load", {}, path="/statistics/preview")
        sent = json.dumps(list(client.updates), ensure_ascii=False)
    reasons = [tr(locale, f"stats_rel.reason_{r}") for locale in ("kk", "ru", "en")
               for r in ("primary", "zero", "complementary")]  # fmt: skip
    assert not [r for r in reasons if r in sent]
    engine = make_engine(live_server.db_url)
    try:
        with engine.connect() as conn:
            denied = conn.execute(text(
                "SELECT COUNT(*) FROM audit_event WHERE action = 'access.denied' "
                "AND details LIKE '%stats.preview%'")).scalar()  # fmt: skip
    finally:
        engine.dispose()
    assert denied >= 1
