"""Calling protected handlers by name, as every role that lacks the permission and as an
anonymous client, through the real Reflex event protocol — without loading any page first.

Each refused call must change nothing in the database (only an ``access.denied`` audit event
is added) and must put no personal datum into the state sent to that client.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.models.vocab import ROLES
from dpa_panel.services.permissions import AUTHENTICATED, PUBLIC, has_permission
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient
from tests.state_catalog import SETVAR, app_handlers, dummy_payload, permission_of

DEMO_USER = {"admin": "admin", "staff": "staff", "compliance": "compliance", "board": "board"}
WATCHED_TABLES = [
    "data_subject",
    "membership_application",
    "member",
    "consent",
    "policy_version",
    "purpose",
    "staff_user",
    "one_time_ticket",
    "two_factor",
    "recovery_code",
    "login_throttle",
    "subject_request",
    "request_event",
    "request_deadline",
    "holiday",
    "outbox_message",
    "import_batch",
    "import_row",
    "organisation_profile",
    "breach",
    "breach_subject",
    "data_inventory",
]


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        snap = {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in WATCHED_TABLES
        }
        snap["login_session_revoked"] = list(
            conn.execute(text("SELECT id, revoked_at FROM login_session ORDER BY id"))
        )
        snap["audit_max"] = conn.execute(
            text("SELECT COALESCE(MAX(id), 0) FROM audit_event")
        ).scalar()
    return snap


def _personal_values(engine) -> set[str]:
    """Distinctive personal values of subjects and of staff (other than the caller's own)."""
    values: set[str] = set()
    with engine.connect() as conn:
        for row in conn.execute(
            text("SELECT surname, first_name, phone, email, workplace FROM data_subject")
        ):
            values.update(v for v in row if v and len(v) >= 6)
        for (full_name,) in conn.execute(text("SELECT full_name FROM staff_user")):
            if full_name and len(full_name) >= 6:
                values.add(full_name)
    return values


def _protected_handlers():
    for cls, name, handler in app_handlers():
        if name == SETVAR:
            continue
        permission = permission_of(handler)
        if permission in (None, PUBLIC):
            continue
        yield (
            f"{cls.get_full_name()}.{name}",
            cls.__name__ + "." + name,
            permission,
            dummy_payload(handler),
        )


def _cases():
    for full, short, permission, payload in _protected_handlers():
        for role in (None, *ROLES):
            if role is not None and has_permission(role, permission):
                continue
            if role is not None and permission == AUTHENTICATED:
                continue
            yield pytest.param(
                full, permission, payload, role, id=f"{short}-as-{role or 'anonymous'}"
            )


@pytest.fixture(scope="module")
def live_engine(live_server):
    engine = make_engine(live_server.db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def cookies(live_server):
    return {role: login_cookie(live_server, user) for role, user in DEMO_USER.items()}


@pytest.mark.parametrize(("handler", "permission", "payload", "role"), list(_cases()))
def test_refused_call_changes_nothing_and_leaks_nothing(
    live_server, live_engine, cookies, handler, permission, payload, role
):
    before = _snapshot(live_engine)
    personal = _personal_values(live_engine)
    with ReflexClient(live_server.url, cookies.get(role, "")) as client:
        updates = client.call(handler, payload)
        # The redirect travels in its own message after the delta; on a loaded machine it
        # may come later than the call's quiet period.
        redirected = client.wait_for("_redirect")
        updates = list(client.updates)
    after = _snapshot(live_engine)
    assert {k: v for k, v in after.items() if k != "audit_max"} == {
        k: v for k, v in before.items() if k != "audit_max"
    }, "a refused call changed the database"
    with live_engine.connect() as conn:
        new_actions = set(
            conn.execute(
                text("SELECT action FROM audit_event WHERE id > :m"), {"m": before["audit_max"]}
            ).scalars()
        )
    assert new_actions == {"access.denied"}, new_actions
    sent = json.dumps(updates, ensure_ascii=False)
    leaked = sorted(v for v in personal if v in sent)
    assert not leaked, f"personal data reached the client: {leaked[:5]}"
    assert redirected and "_redirect" in sent, "the refused client is sent away"


def test_the_harness_can_see_data_when_allowed(live_server, cookies):
    """Positive control: the same path returns data to a permitted role, so the checks above
    would notice a leak."""
    from dpa_panel.state.admin_state import AdminState

    with ReflexClient(live_server.url, cookies["admin"]) as client:
        updates = client.call(f"{AdminState.get_full_name()}.load", {}, path="/admin/users")
    sent = json.dumps(updates, ensure_ascii=False)
    assert "compliance2" in sent and "Гүлнар Оспанова" in sent


def test_logout_clears_the_data_the_tab_held(live_server, cookies):
    """After logout the server-side state of the tab no longer holds what the pages loaded."""
    from dpa_panel.state.admin_state import AdminState
    from dpa_panel.state.auth_state import AuthState

    cookie = login_cookie(live_server, "admin")  # its own session: logout revokes it
    with ReflexClient(live_server.url, cookie) as client:
        loaded = json.dumps(
            client.call(f"{AdminState.get_full_name()}.load", {}), ensure_ascii=False
        )
        assert "compliance2" in loaded
        after = client.call(f"{AuthState.get_full_name()}.logout", {})
        delta = {}
        for update in after:
            for state, values in (update.get("delta") or {}).items():
                delta.setdefault(state, {}).update(values)
        admin_delta = next(v for k, v in delta.items() if k.endswith("admin_state"))
        assert admin_delta["accounts_rx_state_"] == [], admin_delta
        # The revoked session no longer opens the admin page.
        refused = json.dumps(
            client.call(f"{AdminState.get_full_name()}.load", {}), ensure_ascii=False
        )
        assert "compliance2" not in refused and "/login" in refused
