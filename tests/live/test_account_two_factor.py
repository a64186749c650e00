"""A staff member's optional second factor on the account page, over the event protocol:
set up (QR code and key to this tab only), confirm, see recovery codes once, turn off with a
code; a wrong code is refused and counted."""

from __future__ import annotations

import json

import pyotp
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.services import accounts
from dpa_panel.services.audit import Actor
from dpa_panel.state.account_state import AccountState
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient

ACCOUNT = AccountState.get_full_name()


def _values(updates: list[dict], name: str) -> list:
    return [
        value
        for update in updates
        for values in (update.get("delta") or {}).values()
        for key, value in values.items()
        if key.split("_rx_state_")[0] == name
    ]


def test_staff_sets_up_and_turns_off_an_optional_second_factor(live_server):
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        accounts.create_account(
            s,
            Actor.system(),
            username="optional.2fa",
            full_name="Optional Factor",
            role="staff",
            password="Kokzhiek-Bazar-Tanerteng-5",
            must_change_password=False,
        )
        s.commit()
    cookie = login_cookie(live_server, "optional.2fa")
    with ReflexClient(live_server.url, cookie) as tab, ReflexClient(live_server.url) as other:
        loaded = tab.call(f"{ACCOUNT}.load_sessions", {}, path="/account")
        assert False in _values(loaded, "two_factor_on")
        started = tab.call(f"{ACCOUNT}.start_two_factor", {}, path="/account")
        secret = next(v for v in _values(started, "tf_secret") if v).replace(" ", "")
        assert next(v for v in _values(started, "tf_qr") if v).startswith("data:image/svg")
        wrong = tab.call(
            f"{ACCOUNT}.confirm_two_factor", {"form_data": {"tf_code": "000000"}}, path="/account"
        )
        assert any(_values(wrong, "tf_error"))
        confirmed = tab.call(
            f"{ACCOUNT}.confirm_two_factor",
            {"form_data": {"tf_code": pyotp.TOTP(secret).now()}},
            path="/account",
        )
        codes = next(v for v in _values(confirmed, "tf_codes") if v)
        assert len(codes) == 10 and True in _values(confirmed, "two_factor_on")
        other.call(f"{ACCOUNT}.load_sessions", {}, path="/account")  # anonymous: refused
        assert secret not in json.dumps(other.updates) and codes[0] not in json.dumps(other.updates)
        done = tab.call(f"{ACCOUNT}.finish_two_factor", {}, path="/account")
        assert [] in _values(done, "tf_codes"), "the codes leave the tab's state"
        refused = tab.call(
            f"{ACCOUNT}.disable_two_factor",
            {"form_data": {"disable_code": "000000"}},
            path="/account",
        )
        assert any(_values(refused, "tf_error"))
        turned_off = tab.call(
            f"{ACCOUNT}.disable_two_factor",
            {"form_data": {"disable_code": codes[0]}},
            path="/account",
        )
        assert False in _values(turned_off, "two_factor_on")
    with engine.connect() as conn:
        actions = set(
            conn.execute(
                text(
                    "SELECT a.action FROM audit_event a JOIN staff_user u "
                    "ON a.entity_id = CAST(u.id AS TEXT) WHERE u.username = 'optional.2fa'"
                )
            ).scalars()
        )
        left = conn.execute(
            text(
                "SELECT COUNT(*) FROM two_factor t JOIN staff_user u ON u.id = t.user_id "
                "WHERE u.username = 'optional.2fa'"
            )
        ).scalar()
    engine.dispose()
    assert {
        "account.two_factor_enrolled",
        "auth.reauthentication_failed",
        "account.two_factor_disabled",
    } <= actions
    assert left == 0
