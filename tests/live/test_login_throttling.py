"""Issue 15 over the real event protocol: failures from one address cannot lock the owner out
from another (hole 2), and an admin/compliance account without a second factor can do nothing
but set it up after the password (two-factor login).

The live server trusts one proxy hop (as behind the shipped Caddy), so each client sends the
address it comes "from" in ``X-Forwarded-For``.
"""

from __future__ import annotations

import json

import pyotp
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.loadtest import TICKET_RE
from dpa_panel.services import accounts
from dpa_panel.services.audit import Actor
from dpa_panel.state.audit_state import AuditViewState
from dpa_panel.state.auth_state import AuthState
from tests.live_server import complete_login, totp_code
from tests.reflex_client import ReflexClient

PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
AUTH = AuthState.get_full_name()
ADDRESS_A = "203.0.113.41"
ADDRESS_B = "198.51.100.52"


def _values(updates: list[dict], name: str) -> list:
    found = []
    for update in updates:
        for values in (update.get("delta") or {}).values():
            for key, value in values.items():
                if key.split("_rx_state_")[0] == name:
                    found.append(value)
    return found


#: The ``dpa_browser`` cookie every client here carries (as a page load of the panel gives a
#: browser); login tickets are bound to it and exchanged with it.
BROWSER = "throttling-test-browser"


def _tab(live_server, address: str) -> ReflexClient:
    return ReflexClient(
        live_server.url, f"dpa_browser={BROWSER}", headers={"X-Forwarded-For": address}
    )


def _ticket(client: ReflexClient) -> str | None:
    """The login ticket the panel posted for this tab (``auth_state.post_login_ticket``)."""
    client.wait_for("/api/auth/complete", timeout=10)
    match = TICKET_RE.search(json.dumps(client.updates))
    return match.group(1) if match else None


def _exchange(live_server, ticket: str) -> str:
    response = complete_login(live_server.url, ticket, BROWSER)
    assert response.status_code == 303, response.text
    return response.cookies["dpa_session"]


def test_five_failures_from_one_address_do_not_stop_the_owner_from_another(live_server):
    with _tab(live_server, ADDRESS_A) as attacker:
        for attempt in range(5):
            updates = attacker.call(
                f"{AUTH}.login",
                {"form_data": {"username": "admin", "password": f"Guess-Number-{attempt}-x"}},
                path="/login",
            )
            assert any(_values(updates, "login_error")), "every guess is refused"
        assert "/api/auth/complete" not in json.dumps(attacker.updates)
        # From A even the right password would wait now: the back-off message is shown.
        messages = [m for m in _values(attacker.updates, "login_error") if m]
        assert tr("kk", "auth.throttled", seconds=2) in messages

    with _tab(live_server, ADDRESS_B) as owner:
        updates = owner.call(
            f"{AUTH}.login",
            {"form_data": {"username": "admin", "password": PASSWORDS["admin"]}},
            path="/login",
        )
        assert "code" in _values(updates, "login_step"), updates
        owner.call(
            f"{AUTH}.submit_code",
            {"form_data": {"code": totp_code(live_server, "admin")}},
            path="/login",
        )
        ticket = _ticket(owner)
    assert ticket, "the owner logged in from another address at once"
    assert _exchange(live_server, ticket)

    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        locked = conn.execute(
            text("SELECT locked_until FROM staff_user WHERE username = 'admin'")
        ).scalar()
        failures = conn.execute(
            text(
                "SELECT COUNT(*) FROM audit_event WHERE action IN "
                "('auth.login_failed', 'auth.login_throttled') AND client_ip = :ip"
            ),
            {"ip": ADDRESS_A},
        ).scalar()
    engine.dispose()
    assert locked is None
    assert failures == 5, "each attempt from A is audited with its address"


def test_required_second_factor_is_set_up_before_anything_else(live_server):
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        accounts.create_account(
            s,
            Actor.system(),
            username="officer.new",
            full_name="Officer New",
            role="compliance",
            password="Saryarka-Zhibek-Zholy-7",
            must_change_password=False,
        )
        s.commit()
    with (
        _tab(live_server, "192.0.2.77") as tab,
        ReflexClient(live_server.url) as bystander,
    ):
        updates = tab.call(
            f"{AUTH}.login",
            {"form_data": {"username": "officer.new", "password": "Saryarka-Zhibek-Zholy-7"}},
            path="/login",
        )
        assert "enrol" in _values(updates, "login_step")
        secret = next(v for v in _values(updates, "enrol_secret") if v).replace(" ", "")
        assert next(v for v in _values(updates, "enrol_qr") if v).startswith("data:image/svg")
        # No session exists yet: a protected handler refuses this tab.
        refused = tab.call(f"{AuditViewState.get_full_name()}.load", {}, path="/audit")
        assert tab.wait_for("/login") and "_redirect" in json.dumps(refused + tab.updates)
        # A wrong first code is refused; the right one shows ten recovery codes.
        wrong = tab.call(
            f"{AUTH}.confirm_enrolment", {"form_data": {"code": "000000"}}, path="/login"
        )
        assert any(_values(wrong, "login_error"))
        confirmed = tab.call(
            f"{AUTH}.confirm_enrolment",
            {"form_data": {"code": pyotp.TOTP(secret).now()}},
            path="/login",
        )
        codes = next(v for v in _values(confirmed, "recovery_codes") if v)
        assert len(codes) == 10
        tab.call(f"{AUTH}.finish_enrolment", {}, path="/login")
        ticket = _ticket(tab)
        # The other client connected meanwhile never received the secret or the codes.
        bystander.call(f"{AUTH}.open_login_page", {}, path="/login")
        seen = json.dumps(bystander.updates)
        assert secret not in seen and codes[0] not in seen
    assert ticket and _exchange(live_server, ticket)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT t.secret_enc, t.confirmed_at FROM two_factor t JOIN staff_user u "
                "ON u.id = t.user_id WHERE u.username = 'officer.new'"
            )
        ).one()
    engine.dispose()
    assert row.confirmed_at is not None and secret not in row.secret_enc


def test_later_login_steps_do_nothing_without_a_verified_password(live_server):
    """The public second-step handlers act only on this tab's own verified password: a client
    that calls them directly (with any code) gets no ticket and no secret."""
    with _tab(live_server, "192.0.2.99") as intruder:
        for handler, payload in [
            ("submit_code", {"form_data": {"code": totp_code(live_server, "compliance")}}),
            ("confirm_enrolment", {"form_data": {"code": "123456"}}),
            ("finish_enrolment", {}),
        ]:
            intruder.call(f"{AUTH}.{handler}", payload, path="/login")
        sent = json.dumps(intruder.updates)
    assert "/api/auth/complete" not in sent
    assert not any(_values(intruder.updates, "enrol_secret"))
    assert not any(_values(intruder.updates, "recovery_codes"))
