"""The privacy centre /my and the unsubscribe link (issue 20) over the real event protocol
and the real HTTP endpoints of a running panel:

* a person signs in with the code from the outbox table; the code's ticket completes only by a
  same-origin POST from the browser it is bound to, which sets the ``dpa_subject`` cookie;
* what /my loads goes to that tab only: another tab, a staff session and a thief of the tab's
  token get none of it; the subject cookie opens no staff handler (and is no staff session);
* the unsubscribe link: a GET only shows a button, a forged token changes nothing, the POST
  withdraws "informing" once (idempotent), no login.
"""

from __future__ import annotations

import json
import re
import secrets

import httpx
import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.models import DataSubject, OutboxMessage
from dpa_panel.services import consent
from dpa_panel.state.my_state import MyState
from dpa_panel.state.requests_state import RequestsState
from dpa_panel.state.subject_state import SubjectState
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient

MY = MyState.get_full_name()


@pytest.fixture(scope="module")
def live_engine(live_server):
    engine = make_engine(live_server.db_url)
    yield engine
    engine.dispose()


def _informed_subjects(engine, n: int) -> list[tuple[DataSubject, str]]:
    """Demo subjects who may be informed now, with the token of their unsubscribe link."""
    with Session(engine) as s:
        rows = list(consent.mailing_list(s))[:n]
        found = []
        for _name, email, url in rows:
            subject = s.scalars(select(DataSubject).where(DataSubject.email == email)).first()
            found.append((subject, url.rsplit("/api/unsubscribe/", 1)[1]))
        return found


def _sign_in(live_server, engine, email: str) -> tuple[str, str]:
    """(browser cookie, subject cookie) after the real two steps of /my."""
    browser = secrets.token_urlsafe(16)
    with ReflexClient(live_server.url, f"dpa_browser={browser}") as tab:
        tab.call(f"{MY}.send_code", {"form_data": {"email": email}}, path="/my")
        with Session(engine) as s:
            body = s.scalars(
                select(OutboxMessage.body)
                .where(OutboxMessage.purpose == "subject_code", OutboxMessage.recipient == email)
                .order_by(OutboxMessage.id.desc())
            ).first()
        code = re.search(r"\b(\d{6})\b", body).group(1)
        sent = json.dumps(tab.call(f"{MY}.verify", {"form_data": {"code": code}}, path="/my"))
    ticket = re.search(r'i\.value = \\"([^"\\]+)\\"', sent).group(1)
    # another browser cannot complete it; a cross-site page cannot either
    other = httpx.post(f"{live_server.url}/api/my/complete", data={"t": ticket},
                       headers={"Origin": live_server.url, "Cookie": "dpa_browser=other"},
                       follow_redirects=False)  # fmt: skip
    assert "dpa_subject" not in other.cookies
    cross = httpx.post(f"{live_server.url}/api/my/complete", data={"t": ticket},
                       headers={"Origin": "https://evil.example",
                                "Cookie": f"dpa_browser={browser}"},
                       follow_redirects=False)  # fmt: skip
    assert cross.status_code == 403
    response = httpx.post(
        f"{live_server.url}/api/my/complete", data={"t": ticket},
        headers={"Origin": live_server.url, "Cookie": f"dpa_browser={browser}"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    token = response.cookies.get("dpa_subject")
    assert token
    assert "httponly" in response.headers["set-cookie"].lower()
    return browser, token


def test_the_subjects_data_reaches_only_their_own_tab(live_server, live_engine):
    [(subject, _token)] = _informed_subjects(live_engine, 1)
    browser, token = _sign_in(live_server, live_engine, subject.email)
    cookie = f"dpa_browser={browser}; dpa_subject={token}"
    with ReflexClient(live_server.url, cookie) as tab:
        mine = json.dumps(tab.call(f"{MY}.load", {}, path="/my"), ensure_ascii=False)
        tab_token = tab.token
    assert subject.surname in mine and '"in"' in mine
    # Another tab of another browser, a staff session, and a thief with the tab's token.
    staff = login_cookie(live_server, "compliance")
    for other_cookie, reuse in (("", ""), (staff, ""), ("", tab_token)):
        with ReflexClient(live_server.url, other_cookie, token=reuse) as other:
            seen = json.dumps(other.call(f"{MY}.load", {}, path="/my"), ensure_ascii=False)
            seen += json.dumps(other.call(f"{MY}.confirm", {}, path="/my"), ensure_ascii=False)
        assert subject.surname not in seen and subject.email not in seen, (other_cookie, reuse)
    # The subject cookie is no staff session: staff handlers refuse it and leak nothing.
    with ReflexClient(live_server.url, cookie) as tab:
        for handler, path in ((f"{RequestsState.get_full_name()}.load", "/requests"),
                              (f"{SubjectState.get_full_name()}.load", "/subjects/1")):
            refused = json.dumps(tab.call(handler, {}, path=path), ensure_ascii=False)
            assert tab.wait_for("/login")
            assert subject.surname not in refused
    with live_engine.connect() as conn:
        denied = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'access.denied'")
        ).scalar()
    assert denied >= 2
    # The package endpoint needs the subject cookie, and only the person's own package.
    assert httpx.get(f"{live_server.url}/api/my/package/1").status_code == 403
    assert httpx.get(f"{live_server.url}/api/my/package/1",
                     headers={"Cookie": staff}).status_code == 403  # fmt: skip
    # Signing out ends it: the same cookie then loads nothing.
    httpx.get(f"{live_server.url}/api/my/logout", headers={"Cookie": cookie})
    with ReflexClient(live_server.url, cookie) as tab:
        after = json.dumps(tab.call(f"{MY}.load", {}, path="/my"), ensure_ascii=False)
    assert subject.surname not in after


def test_withdrawal_in_the_centre_takes_the_person_off_the_mailing_list(live_server, live_engine):
    [_, (subject, _token)] = _informed_subjects(live_engine, 2)
    browser, token = _sign_in(live_server, live_engine, subject.email)
    cookie = f"dpa_browser={browser}; dpa_subject={token}"
    with ReflexClient(live_server.url, cookie) as tab:
        tab.call(f"{MY}.load", {}, path="/my")
        tab.call(f"{MY}.ask_withdraw", {"purpose": "informing"}, path="/my")
        tab.call(f"{MY}.confirm", {}, path="/my")
    with Session(live_engine) as s:
        assert not consent.may_process(s, subject.id, "informing")
        assert subject.email not in {e for _n, e, _u in consent.mailing_list(s)}


def test_unsubscribe_link_get_shows_a_button_post_withdraws_once(live_server, live_engine):
    [_, _, (subject, token)] = _informed_subjects(live_engine, 3)
    url = f"{live_server.url}/api/unsubscribe/{token}"
    page = httpx.get(url)
    assert page.status_code == 200 and 'method="post"' in page.text
    assert subject.email not in page.text
    with Session(live_engine) as s:
        assert consent.may_process(s, subject.id, "informing")  # a GET changes nothing
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert httpx.post(f"{live_server.url}/api/unsubscribe/{forged}",
                      data={"List-Unsubscribe": "One-Click"}).status_code == 400  # fmt: skip
    with Session(live_engine) as s:
        assert consent.may_process(s, subject.id, "informing")
    # RFC 8058: the mail client's POST, no cookie, no Origin
    first = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    again = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert first.status_code == again.status_code == 200
    assert first.text != again.text
    with Session(live_engine) as s:
        assert not consent.may_process(s, subject.id, "informing")
        channels = s.execute(
            text("SELECT withdrawal_channel FROM consent WHERE subject_id = :s "
                 "AND purpose_code = 'informing' AND withdrawn_at IS NOT NULL"),
            {"s": subject.id},
        ).scalars().all()  # fmt: skip
    assert channels == ["link"]
