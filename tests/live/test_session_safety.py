"""Issue 15, holes 1, 5 and 7, attacked over the real event protocol and the real HTTP endpoints.

* a tab's Reflex token is not a key to its state: an anonymous client connecting with a staff
  tab's token, and the tab itself after its session ended (logout over HTTP, logout in another
  tab over the websocket, deactivation, role change), get no personal value in any snapshot;
* login completes only by a same-origin POST from the browser its ticket is bound to; download
  tickets are redeemed (and used up) only by the session that asked;
* the development server (no ``DPA_PUBLIC_URL``) accepts only its own local origins, and a
  failure reaches the browser as a generic message with a reference, the detail in the log.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid

import httpx
import pytest
import socketio
from reflex.state import State
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.services import accounts, auth
from dpa_panel.services.audit import Actor
from dpa_panel.state.app_state import AppState
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.members_state import MembersState
from dpa_panel.state.pipeline_state import PipelineState
from tests.live.test_board_sees_no_personal_data import _personal_values
from tests.live_server import complete_login, login_cookie, session_id_of
from tests.reflex_client import ReflexClient

PASSWORD = "Correct-Horse-Battery-9"
HYDRATE = f"{State.get_full_name()}.hydrate_and_load"


def _new_account(live, role: str = "staff") -> tuple[str, int]:
    """A fresh account of its own per test, so deactivating it disturbs no other test."""
    username = f"t{uuid.uuid4().hex[:10]}"
    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            user = accounts.create_account(
                s,
                Actor.system(),
                username=username,
                full_name=f"Тест {username}",
                role=role,
                password=PASSWORD,
                must_change_password=False,
            )
            s.commit()
            return username, user.id
    finally:
        engine.dispose()


def _in_db(live, change) -> None:
    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            change(s)
            s.commit()
    finally:
        engine.dispose()


def _leaked(live, updates: list[dict]) -> list[str]:
    sent = json.dumps(updates, ensure_ascii=False)
    return sorted(v for v in _personal_values(live.db_url) if v in sent)


def _fill_staff_tab(live, cookie: str) -> str:
    """A staff tab that loaded the applications and members lists; returns its token."""
    with ReflexClient(live.url, cookie) as tab:
        tab.call(f"{AuthState.get_full_name()}.load_identity", path="/applications")
        tab.call(f"{PipelineState.get_full_name()}.load", path="/applications")
        tab.call(f"{MembersState.get_full_name()}.load", path="/members")
        assert len(_leaked(live, tab.updates)) > 20, "the tab did hold personal data"
        return tab.token


def _reconnect(live, token: str, cookie: str = "", path: str = "/applications") -> list[dict]:
    """Connect with a tab's token and hydrate, as a reload (or a token thief) does."""
    with ReflexClient(live.url, cookie, token=token) as tab:
        tab.call(HYDRATE, {}, path=path)
        return list(tab.updates)


def test_the_rightful_tab_gets_its_state_back_on_reconnect(live_server):
    """The control: a reconnect of the same live session does get the tab's data again, so an
    empty snapshot in the tests below means the data was withheld, not that none was sent."""
    username, _ = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    token = _fill_staff_tab(live_server, cookie)
    assert len(_leaked(live_server, _reconnect(live_server, token, cookie))) > 20


def test_anonymous_client_with_a_staff_tabs_token_gets_nothing(live_server):
    username, _ = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    token = _fill_staff_tab(live_server, cookie)
    stolen = _reconnect(live_server, token)
    assert stolen, "the server answered the hydrate"
    assert not _leaked(live_server, stolen)
    # Another user's session with the stolen token gets nothing either.
    other, _ = _new_account(live_server)
    assert not _leaked(
        live_server, _reconnect(live_server, token, login_cookie(live_server, other), "/")
    )
    # And the rightful tab, having been wiped, starts afresh (its on_load fills it again).
    assert username not in json.dumps(_reconnect(live_server, token, "", "/login"))


def test_token_replay_after_http_logout_gets_nothing(live_server):
    username, _ = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    token = _fill_staff_tab(live_server, cookie)
    response = httpx.get(
        f"{live_server.url}/api/auth/logout", headers={"Cookie": cookie}, follow_redirects=False
    )
    assert response.status_code == 303
    # The logged-out browser kept its cookie (a copy of it), and reconnects the same tab.
    assert not _leaked(live_server, _reconnect(live_server, token, cookie))


def test_token_replay_after_websocket_logout_in_another_tab_gets_nothing(live_server):
    username, _ = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    token = _fill_staff_tab(live_server, cookie)
    with ReflexClient(live_server.url, cookie) as other_tab:
        other_tab.call(f"{AuthState.get_full_name()}.logout", path="/account")
    assert not _leaked(live_server, _reconnect(live_server, token, cookie))


@pytest.mark.parametrize("change", ["deactivated", "role_changed"])
def test_token_replay_after_deactivation_or_role_change_gets_nothing(live_server, change):
    username, user_id = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    token = _fill_staff_tab(live_server, cookie)
    if change == "deactivated":
        _in_db(live_server, lambda s: accounts.set_active(s, Actor.system(), user_id, False))
    else:
        _in_db(live_server, lambda s: accounts.change_role(s, Actor.system(), user_id, "board"))
    assert not _leaked(live_server, _reconnect(live_server, token, cookie))


# --- login CSRF and ticket binding ---------------------------------------------------------------


def _bound_login_ticket(live, username: str, browser: str) -> str:
    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            user_id = s.execute(
                text("SELECT id FROM staff_user WHERE username = :u"), {"u": username}
            ).scalar()
            ticket = auth.issue_ticket(s, user_id, "login")
            assert auth.bind_login_ticket(s, ticket, browser)
            s.commit()
            return ticket
    finally:
        engine.dispose()


def test_a_page_load_gives_the_browser_its_binding_cookie(live_server):
    response = httpx.get(f"{live_server.url}/login", follow_redirects=True)
    assert response.status_code == 200 and "html" in response.headers["content-type"]
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie")
    assert header.startswith("dpa_browser=")
    assert "HttpOnly" in header and "SameSite=Strict" in header
    again = httpx.get(
        f"{live_server.url}/login", cookies={"dpa_browser": "kept"}, follow_redirects=True
    )
    assert "set-cookie" not in again.headers, "a browser keeps the cookie it has"


def test_login_completion_refuses_get_cross_origin_and_other_browsers(live_server):
    username, _ = _new_account(live_server)
    browser = secrets.token_urlsafe(16)
    ticket = _bound_login_ticket(live_server, username, browser)

    bare_get = httpx.get(
        f"{live_server.url}/api/auth/complete",
        params={"t": ticket},
        cookies={"dpa_browser": browser},
        follow_redirects=False,
    )
    assert bare_get.status_code == 405 and "dpa_session" not in bare_get.cookies

    cross_site = complete_login(live_server.url, ticket, browser, origin="https://evil.example")
    assert cross_site.status_code == 403 and "dpa_session" not in cross_site.cookies
    no_origin = httpx.post(
        f"{live_server.url}/api/auth/complete",
        data={"t": ticket},
        cookies={"dpa_browser": browser},
        follow_redirects=False,
    )
    assert no_origin.status_code == 403 and "dpa_session" not in no_origin.cookies

    for other in ("", secrets.token_urlsafe(16)):  # no binding cookie / another browser's
        elsewhere = complete_login(live_server.url, ticket, other)
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/login"
        assert "dpa_session" not in elsewhere.cookies

    # None of the refused attempts used the ticket up: its own browser completes the login.
    own = complete_login(live_server.url, ticket, browser)
    assert own.status_code == 303 and own.cookies.get("dpa_session")
    assert complete_login(live_server.url, ticket, browser).status_code == 303
    assert "dpa_session" not in complete_login(live_server.url, ticket, browser).cookies


def test_password_login_posts_a_ticket_bound_to_the_tabs_browser(live_server):
    """The real password handler: its ticket completes only with the tab's own cookie."""
    from dpa_panel.loadtest import TICKET_RE

    username, _ = _new_account(live_server)
    browser = secrets.token_urlsafe(16)
    with ReflexClient(live_server.url, f"dpa_browser={browser}") as tab:
        tab.call(
            f"{AuthState.get_full_name()}.login",
            {"form_data": {"username": username, "password": PASSWORD}},
            path="/login",
        )
        assert tab.wait_for("/api/auth/complete")
        sent = json.dumps(tab.updates)
    assert "complete?t=" not in sent, "the ticket is posted, never put in a URL"
    ticket = TICKET_RE.search(sent).group(1)
    assert "dpa_session" not in complete_login(live_server.url, ticket, "other").cookies
    assert complete_login(live_server.url, ticket, browser).cookies.get("dpa_session")

    with ReflexClient(live_server.url) as cookieless_tab:
        cookieless_tab.call(
            f"{AuthState.get_full_name()}.login",
            {"form_data": {"username": username, "password": PASSWORD}},
            path="/login",
        )
        assert "/api/auth/complete" not in json.dumps(cookieless_tab.updates)


def test_download_ticket_is_neither_redeemed_nor_burned_by_others(live_server):
    owner, owner_id = _new_account(live_server, "board")
    stranger, _ = _new_account(live_server, "board")
    mine = login_cookie(live_server, owner)
    my_other_session = login_cookie(live_server, owner)
    theirs = login_cookie(live_server, stranger)
    session_id = session_id_of(live_server, mine)
    holder = {}

    def issue(s):
        release = s.execute(text("SELECT MIN(id) FROM stats_release")).scalar()
        assert release, "the live server publishes the demo's statistics releases"
        holder["ticket"] = auth.issue_ticket(
            s,
            owner_id,
            "download",
            {"kind": "stats_release_json", "release_id": str(release)},
            login_session_id=session_id,
        )

    _in_db(live_server, issue)
    url = f"{live_server.url}/api/download/{holder['ticket']}"
    assert httpx.get(url, headers={"Cookie": theirs}).status_code == 403
    assert httpx.get(url, headers={"Cookie": my_other_session}).status_code == 403
    assert httpx.get(url).status_code == 403
    response = httpx.get(url, headers={"Cookie": mine})
    assert response.status_code == 200 and response.content, "still usable by its session"
    assert httpx.get(url, headers={"Cookie": mine}).status_code == 403, "single use"


# --- development origins and error messages ------------------------------------------------------


def test_dev_server_refuses_a_foreign_origin_websocket(live_server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        ReflexClient(live_server.url, origin="https://evil.example")
    port = live_server.url.rsplit(":", 1)[1]
    with ReflexClient(live_server.url, origin=f"http://localhost:{port}") as tab:
        assert tab.call(HYDRATE, {}, path="/login")


def test_healthz_does_not_reflect_foreign_origins(live_server):
    foreign = httpx.get(
        f"{live_server.url}/healthz",
        headers={"Origin": "https://evil.example", "Cookie": "dpa_session=x"},
    )
    assert "access-control-allow-origin" not in foreign.headers
    own = httpx.get(f"{live_server.url}/healthz", headers={"Origin": live_server.url})
    assert own.headers.get("access-control-allow-origin") == live_server.url


def test_handler_failure_shows_a_generic_message_with_a_reference(live_server):
    with ReflexClient(live_server.url) as tab:
        # A call without its argument fails inside Reflex (TypeError): a bug, as a user sees it.
        tab.call(f"{AppState.get_full_name()}.choose_locale", {}, path="/login")
        sent = json.dumps(tab.updates, ensure_ascii=False)
    match = re.search(r"\b([0-9A-F]{10})\b", sent)
    assert match, sent[-2000:]
    assert "TypeError" not in sent and "missing" not in sent
    reference = match.group(1)
    log = live_server.log_path.read_text(errors="replace")
    entry = log[log.index(f"error {reference}") :][:4000]
    assert "TypeError" in entry and "Traceback" in entry


def test_api_failure_shows_a_generic_message_with_a_reference(live_server):
    username, user_id = _new_account(live_server, "board")
    cookie = login_cookie(live_server, username)
    session_id = session_id_of(live_server, cookie)
    holder = {}

    def broken_ticket(s):
        holder["ticket"] = auth.issue_ticket(
            s, user_id, "download", {"kind": "stats_release_json"}, login_session_id=session_id
        )
        s.execute(
            text("UPDATE one_time_ticket SET params = '{broken' WHERE ticket_hash = :h"),
            {"h": auth.token_hash(holder["ticket"])},
        )

    _in_db(live_server, broken_ticket)
    response = httpx.get(
        f"{live_server.url}/api/download/{holder['ticket']}",
        headers={"Cookie": cookie, "Accept-Language": "ru"},
    )
    assert response.status_code == 500
    reference = re.search(r"\b([0-9A-F]{10})\b", response.text).group(1)
    assert "JSONDecodeError" not in response.text and "Traceback" not in response.text
    assert "администратору" in response.text
    log = live_server.log_path.read_text(errors="replace")
    assert "JSONDecodeError" in log[log.index(f"error {reference}") :][:4000]


def test_an_open_tab_is_cleared_by_its_next_event_after_deactivation(live_server):
    """The tab stays connected while its account is deactivated: its very next event, even a
    public one (switching the language), carries no personal value and clears the lists the
    browser shows."""
    username, user_id = _new_account(live_server)
    cookie = login_cookie(live_server, username)
    with ReflexClient(live_server.url, cookie) as tab:
        filled = tab.call(f"{MembersState.get_full_name()}.load", path="/members")
        assert len(_leaked(live_server, filled)) > 10
        _in_db(live_server, lambda s: accounts.set_active(s, Actor.system(), user_id, False))
        after = tab.call(f"{AppState.get_full_name()}.choose_locale", {"code": "ru"}, "/members")
    assert not _leaked(live_server, after)
    members = MembersState.get_full_name()
    cleared = [u["delta"][members] for u in after if members in (u.get("delta") or {})]
    assert any(delta.get("rows_rx_state_") == [] for delta in cleared), cleared
