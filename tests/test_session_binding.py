"""Tickets bound to the browser or session that asked; the same-origin check (issue 15, hole 5).

Plain tests of ``services.auth`` and of ``api.same_origin``; the live tests
(``tests/live/test_session_safety.py``) do the same through the real HTTP endpoints.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session
from starlette.requests import Request

from dpa_panel import api, error_reporting
from dpa_panel.services import accounts, auth
from dpa_panel.services.audit import Actor

PASSWORD = "Correct-Horse-Battery-9"


def _user(s: Session, username: str) -> int:
    user = accounts.create_account(
        s,
        Actor.system(),
        username=username,
        full_name=username.title(),
        role="staff",
        password=PASSWORD,
        must_change_password=False,
    )
    return user.id


@pytest.fixture
def users(engine):
    with Session(engine) as s:
        ids = {name: _user(s, name) for name in ("aigerim", "bolat")}
        s.commit()
    return ids


def _session_of(engine, user_id: int) -> auth.Identity:
    with Session(engine) as s:
        ticket = auth.issue_ticket(s, user_id, "login")
        token, _user_row = auth.start_session(s, ticket)
        ident = auth.resolve_session(s, token)
        s.commit()
    return ident


def test_login_ticket_completes_only_in_the_browser_it_is_bound_to(engine, users):
    with Session(engine) as s:
        ticket = auth.issue_ticket(s, users["aigerim"], "login")
        assert auth.bind_login_ticket(s, ticket, "browser-A")
        assert not auth.bind_login_ticket(s, ticket, "browser-B"), "bound once, never rebound"
        s.commit()
    with Session(engine) as s:
        # Another browser, and a request without the cookie: refused, and the ticket survives.
        assert auth.start_session(s, ticket, browser="browser-B") is None
        assert auth.start_session(s, ticket, browser="") is None
        s.commit()
    with Session(engine) as s:
        started = auth.start_session(s, ticket, browser="browser-A")
        assert started is not None and started[1].id == users["aigerim"]
        s.commit()
    with Session(engine) as s:
        assert auth.start_session(s, ticket, browser="browser-A") is None, "single use"


def test_an_unbound_login_ticket_cannot_be_completed_over_http(engine, users):
    with Session(engine) as s:
        ticket = auth.issue_ticket(s, users["aigerim"], "login")
        assert not auth.bind_login_ticket(s, ticket, ""), "an empty cookie binds nothing"
        # /api/auth/complete always passes the request's cookie value ("" when absent).
        assert auth.start_session(s, ticket, browser="") is None
        assert auth.start_session(s, ticket, browser="anything") is None


def test_download_ticket_is_redeemed_only_by_the_session_that_asked(engine, users):
    mine = _session_of(engine, users["aigerim"])
    my_other_tab_login = _session_of(engine, users["aigerim"])
    someone_else = _session_of(engine, users["bolat"])
    with Session(engine) as s:
        ticket = auth.download_ticket(s, mine, {"kind": "mailing_csv"})
        s.commit()

    def redeem(ident: auth.Identity):
        with Session(engine) as s:
            found = auth.redeem_ticket(
                s,
                ticket,
                "download",
                user_id=ident.user_id,
                login_session_id=ident.session_id,
            )
            result = (found.login_session_id, found.user_id) if found else None
            s.commit()
            return result

    assert redeem(someone_else) is None, "another user's request does not redeem it"
    assert redeem(my_other_tab_login) is None, "another session of the same user neither"
    redeemed = redeem(mine)
    assert redeemed == (mine.session_id, mine.user_id), "the refused attempts left it unused"
    assert redeem(mine) is None, "single use"


def test_a_download_ticket_must_name_its_session(engine, users):
    with Session(engine) as s, pytest.raises(ValueError, match="bound to the login session"):
        auth.issue_ticket(s, users["aigerim"], "download", {"kind": "mailing_csv"})


def _request(headers: dict[str, str], host: str = "panel.local:3000") -> Request:
    raw = [(b"host", host.encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": "http",
            "path": "/api/auth/complete",
            "query_string": b"",
            "headers": raw,
            "server": ("panel.local", 3000),
        }
    )


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({"Origin": "http://panel.local:3000"}, True),
        ({"Origin": "HTTP://PANEL.LOCAL:3000"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "http://panel.local:3001"}, False),
        ({"Origin": "http://panel.local:3000.evil.example"}, False),
        ({"Origin": "http://panel.local:3000@evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "null", "Referer": "http://panel.local:3000/login"}, True),
        ({"Referer": "http://panel.local:3000/login"}, True),
        ({"Referer": "https://evil.example/panel.local:3000"}, False),
        ({}, False),
    ],
)
def test_same_origin_in_development(monkeypatch, headers, ok):
    monkeypatch.delenv("DPA_PUBLIC_URL", raising=False)
    assert api.same_origin(_request(headers)) is ok


def test_same_origin_in_production_is_the_public_url(monkeypatch):
    monkeypatch.setenv("DPA_PUBLIC_URL", "https://panel.example.kz")
    # Behind the proxy the Host header may name the internal address: the public URL decides.
    assert api.same_origin(_request({"Origin": "https://panel.example.kz"}, host="10.0.0.5:3000"))
    assert not api.same_origin(_request({"Origin": "http://10.0.0.5:3000"}, host="10.0.0.5:3000"))
    # A default port written out on either side is the same origin.
    monkeypatch.setenv("DPA_PUBLIC_URL", "https://panel.example.kz:443")
    assert api.same_origin(_request({"Origin": "https://panel.example.kz"}))
    assert not api.same_origin(_request({"Origin": "http://panel.example.kz"}))


def test_generic_error_text_names_only_the_reference():
    reference = error_reporting.new_reference()
    texts = error_reporting.generic_messages(reference)
    assert set(texts) == {"kk", "ru", "en"}
    assert all(reference in text for text in texts.values())
    assert len(set(texts.values())) == 3
    assert error_reporting.http_error_text(reference, "ru-RU,ru;q=0.9") == texts["ru"]
    assert error_reporting.http_error_text(reference, "de, en;q=0.5") == texts["en"]
    assert error_reporting.http_error_text(reference, "") == texts["kk"]


def test_the_guard_reuses_the_event_check_only_for_the_same_token(engine, users, monkeypatch):
    """``tab_binding`` re-reads the session before each event and the handler's check reuses
    it — for the same token and only briefly; any other token is read from the database."""
    from dpa_panel.state import guard

    with Session(engine) as s:
        ticket = auth.issue_ticket(s, users["aigerim"], "login")
        token, _user_row = auth.start_session(s, ticket)
        s.commit()
    fresh = guard._resolve(token)
    assert fresh is not None and fresh.user_id == users["aigerim"]
    guard.remember_event_check(token, None)  # as if the session had just been found revoked
    assert guard._resolve(token) is None, "the event's own check is reused"
    assert guard._resolve("another-token") is None
    guard.remember_event_check("another-token", fresh)
    assert guard._resolve(token) == fresh, "a check of another token is not reused"
    guard.remember_event_check(token, None)
    clock = guard.time.monotonic() + guard.EVENT_CHECK_SECONDS + 1
    monkeypatch.setattr(guard.time, "monotonic", lambda: clock)
    assert guard._resolve(token) == fresh, "a stale check is not reused"
