"""Several backend processes share one PostgreSQL database and one Redis (issue 10).

Two production backends (``python -m dpa_panel.prod --backend-only``) run side by side on two
ports, as two workers behind one public origin would: whatever a browser does through one of
them must hold on the other. The tests speak the real Reflex event protocol (Socket.IO on
``/_event``) with the ``Origin`` header of the public URL, as a browser on that origin does.

* log in through worker A, act through worker B (the session lives in the database);
* a tab reconnecting to the other worker keeps its state (the tab's state lives in Redis);
* logging out through B ends the session on A at once;
* failed logins spread over both workers feed one throttle counter (it is in the database);
* only the public origin may open the websocket;
* the stored hashes of tickets are keyed by the servers' ``DPA_SECRET_KEY``.

Skipped, with the reason, when PostgreSQL or Redis is not reachable.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import text

from dpa_panel import loadtest
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.loadtest import EventClient, EventError, login, redirects, var_values
from tests.live_server import complete_login

PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
LOCK_USER = "lockme-worker"
SECRET = "workers-test-secret-0123456789-abcdefghijklmnop"


def _skip_reason() -> str | None:
    return loadtest.postgres_unavailable_reason() or loadtest.redis_unavailable_reason()


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """Two backends (A, B) on one database and one Redis, behind one public origin."""
    if reason := _skip_reason():
        pytest.skip(f"cross-worker tests need PostgreSQL and Redis: {reason}")
    logs = tmp_path_factory.mktemp("workers")
    port_a = loadtest.free_port()
    public = f"http://127.0.0.1:{port_a}"
    with loadtest.fresh_postgres() as db_url:
        loadtest.seed(db_url, 60, {LOCK_USER: "staff"}, secret_key=SECRET)
        common = {"workers": 1, "public_url": public, "secret_key": SECRET, "log_dir": logs}
        with (
            loadtest.prod_server(db_url, port=port_a, **common) as a,
            loadtest.prod_server(db_url, **common) as b,
        ):
            yield a, b


def _state(module: str, cls: str) -> str:
    return loadtest.state_name(module, cls)


PIPELINE = "dpa_panel.state.pipeline_state", "PipelineState"
AUTH = "dpa_panel.state.auth_state", "AuthState"


def _db(server):
    from dpa_panel.db import make_engine

    return make_engine(server.db_url)


def test_log_in_through_a_and_act_through_b(workers):
    a, b = workers
    cookie, _ = login(a.url, "staff", PASSWORDS["staff"], origin=a.public_url)
    with EventClient(b.url, cookie=cookie, origin=b.public_url) as tab:
        who, _ = tab.call(f"{_state(*AUTH)}.load_identity", {}, path="/applications")
        assert var_values(who, "me_username") == ["staff"]
        tab.call(f"{_state(*PIPELINE)}.load", {}, path="/applications")
        table, _ = tab.call(
            f"{_state(*PIPELINE)}.switch_view", {"view": "table"}, path="/applications"
        )
    rows = [row for value in var_values(table, "rows") for row in value]
    assert rows, "worker B served the protected list"
    assert not redirects(table)
    engine = _db(a)
    with engine.connect() as conn:
        references = set(
            conn.execute(text("SELECT reference FROM membership_application")).scalars()
        )
    engine.dispose()
    assert {row["reference"] for row in rows} <= references


def test_a_tab_keeps_its_state_when_it_reconnects_to_the_other_worker(workers):
    a, b = workers
    cookie, _ = login(a.url, "staff", PASSWORDS["staff"], origin=a.public_url)
    pipeline = _state(*PIPELINE)
    with EventClient(a.url, cookie=cookie, origin=a.public_url) as tab:
        token = tab.token
        tab.call(f"{pipeline}.load", {}, path="/applications")
        tab.call(f"{pipeline}.switch_view", {"view": "table"}, path="/applications")
        filtered, _ = tab.call(
            f"{pipeline}.apply_filters",
            {"form_data": {"status": "approved", "sort": "surname"}},
            path="/applications",
        )
    assert var_values(filtered, "filters")[-1] == {"status": "approved", "sort": "surname"}
    # The same tab (same token) comes back through B, which never saw the filter being set:
    # a page turn there must use the filter that A stored in Redis.
    # A writes the tab's state to Redis just after sending its answer; a tab that reconnects
    # within that instant may read the state before the write. A browser reconnects after
    # a back-off, so allow the same: a few attempts over up to ~3 s.
    for _attempt in range(6):
        with EventClient(b.url, cookie=cookie, origin=b.public_url, token=token) as tab:
            again, _ = tab.call(f"{pipeline}.switch_view", {"view": "table"}, path="/applications")
        rows = [row for value in var_values(again, "rows") for row in value]
        if rows and {row["status"] for row in rows} == {"approved"}:
            break
        time.sleep(0.5)
    assert rows and {row["status"] for row in rows} == {"approved"}, rows[:3]


def test_logout_through_b_ends_the_session_on_a(workers):
    a, b = workers
    cookie, _ = login(a.url, "staff2", PASSWORDS["staff2"], origin=a.public_url)
    pipeline = _state(*PIPELINE)
    with EventClient(a.url, cookie=cookie, origin=a.public_url) as on_a:
        before, _ = on_a.call(f"{pipeline}.load", {}, path="/applications")
        assert not redirects(before)
        with EventClient(b.url, cookie=cookie, origin=b.public_url) as on_b:
            on_b.call(f"{_state(*AUTH)}.logout", {}, path="/applications")
        on_a.call(f"{pipeline}.load", {}, path="/applications")
        assert on_a.wait_for(lambda ups: "/login" in redirects(ups), timeout=10), (
            "the session revoked through B still opened the list on A"
        )


def test_failed_logins_over_two_workers_share_one_throttle_counter(workers):
    a, b = workers
    # Control: the password is right, and a success resets the pair's counter.
    login(b.url, LOCK_USER, loadtest.LOAD_PASSWORD, origin=a.public_url)
    for attempt, server in enumerate((a, b, a, b, a), start=1):
        with pytest.raises(EventError):
            login(server.url, LOCK_USER, f"wrong-password-{attempt}", origin=a.public_url)
    engine = _db(a)
    with engine.connect() as conn:
        counted = conn.execute(
            text(
                "SELECT count(*) FROM audit_event a JOIN staff_user s "
                "ON a.entity_id = CAST(s.id AS VARCHAR) "
                "WHERE a.action = 'auth.login_failed' AND s.username = :u"
            ),
            {"u": LOCK_USER},
        ).scalar()
        throttled = conn.execute(
            text(
                "SELECT count(*) FROM audit_event a JOIN staff_user s "
                "ON a.entity_id = CAST(s.id AS VARCHAR) "
                "WHERE a.action = 'auth.login_throttled' AND s.username = :u"
            ),
            {"u": LOCK_USER},
        ).scalar()
        pair = conn.execute(
            text(
                "SELECT t.failures, t.blocked_until FROM login_throttle t JOIN staff_user s "
                "ON s.id = t.user_id WHERE s.username = :u AND t.scope = 'pair'"
            ),
            {"u": LOCK_USER},
        ).one()
        locked_until = conn.execute(
            text("SELECT locked_until FROM staff_user WHERE username = :u"), {"u": LOCK_USER}
        ).scalar()
    engine.dispose()
    # Every attempt was either checked and counted, or refused by the back-off that the
    # failures on the *other* worker imposed: one counter in the database, not one per worker.
    assert counted + throttled == 5
    assert pair.failures == counted >= 3 and pair.blocked_until is not None
    assert locked_until is None, "the account itself is never locked"


def test_only_the_public_origin_may_open_the_websocket(workers):
    a, _b = workers
    with pytest.raises(EventError, match="connect failed"):
        EventClient(a.url, origin="https://evil.example")
    with pytest.raises(EventError, match="connect failed"):
        EventClient(a.url, origin=a.public_url.replace("127.0.0.1", "localhost"))
    with EventClient(a.url, origin=a.public_url) as tab:
        updates, _ = tab.call(f"{_state('dpa_panel.state.apply_state', 'ApplyState')}.load")
    assert var_values(updates, "policy_label"), "the real origin is served"
    # Plain HTTP: credentialed CORS is granted to the public origin only.
    foreign = httpx.get(f"{a.url}/ping", headers={"Origin": "https://evil.example"})
    own = httpx.get(f"{a.url}/ping", headers={"Origin": a.public_url})
    assert "access-control-allow-origin" not in foreign.headers
    assert own.headers.get("access-control-allow-origin") == a.public_url


def test_tickets_are_keyed_by_the_servers_secret(workers, monkeypatch):
    """A login ticket whose hash was written without the servers' DPA_SECRET_KEY is refused;
    the same ticket hashed with the key is honoured."""
    from sqlmodel import Session

    from dpa_panel.services import auth

    a, _b = workers
    engine = _db(a)
    tickets = {}
    try:
        with Session(engine) as s:
            user_id = s.execute(text("SELECT id FROM staff_user WHERE username='staff'")).scalar()
            monkeypatch.delenv("DPA_SECRET_KEY", raising=False)
            tickets["unkeyed"] = auth.issue_ticket(s, user_id, "login")
            auth.bind_login_ticket(s, tickets["unkeyed"], "browser-1")
            monkeypatch.setenv("DPA_SECRET_KEY", SECRET)
            tickets["keyed"] = auth.issue_ticket(s, user_id, "login")
            auth.bind_login_ticket(s, tickets["keyed"], "browser-1")
            s.commit()
    finally:
        engine.dispose()
    refused = complete_login(a.url, tickets["unkeyed"], "browser-1", origin=a.public_url)
    honoured = complete_login(a.url, tickets["keyed"], "browser-1", origin=a.public_url)
    assert refused.status_code == 303 and refused.headers["location"] == "/login"
    assert "dpa_session" not in refused.cookies
    assert honoured.status_code == 303 and honoured.cookies.get("dpa_session")


def test_no_update_named_another_user(workers):
    """Two users on two workers at once: each tab's header names only its own user."""
    a, b = workers
    cookies = {
        "staff": login(a.url, "staff", PASSWORDS["staff"], origin=a.public_url)[0],
        "compliance": login(b.url, "compliance", PASSWORDS["compliance"], origin=a.public_url)[0],
    }
    seen = {}
    with (
        EventClient(b.url, cookie=cookies["staff"], origin=a.public_url) as staff_tab,
        EventClient(a.url, cookie=cookies["compliance"], origin=a.public_url) as comp_tab,
    ):
        for _ in range(3):
            staff_tab.call(f"{_state(*AUTH)}.load_identity", {}, path="/applications")
            comp_tab.call(f"{_state(*AUTH)}.load_identity", {}, path="/retention")
        seen["staff"] = json.dumps(staff_tab.updates, ensure_ascii=False)
        seen["compliance"] = json.dumps(comp_tab.updates, ensure_ascii=False)
        assert set(var_values(staff_tab.updates, "me_username")) == {"staff"}
        assert set(var_values(comp_tab.updates, "me_username")) == {"compliance"}
    assert "Гүлнар Оспанова" not in seen["staff"] and "Айжан Серікбаева" not in seen["compliance"]


def _hydrate(server, token: str, cookie: str = "") -> list[dict]:
    """Connect with a tab's token through ``server`` and hydrate, as a reload or a thief."""
    from reflex.state import State

    with EventClient(server.url, cookie=cookie, origin=server.public_url, token=token) as tab:
        updates, _ = tab.call(f"{State.get_full_name()}.hydrate_and_load", {}, path="/members")
    return updates


def test_a_tabs_token_gives_its_state_to_no_one_else_on_any_worker(workers):
    """Issue 15: the tab's state lives in Redis; whichever worker a connection with its token
    reaches, only the session that filled it gets it back, and not after that session ends."""
    a, b = workers
    cookie, _ = login(a.url, "staff2", PASSWORDS["staff2"], origin=a.public_url)
    members = _state("dpa_panel.state.members_state", "MembersState")
    with EventClient(a.url, cookie=cookie, origin=a.public_url) as tab:
        token = tab.token
        filled, _ = tab.call(f"{members}.load", {}, path="/members")
    held = {
        str(value)
        for rows in var_values(filled, "rows")
        for row in rows
        for value in row.values()
        # Names, numbers, workplaces; not the status codes every tab shows.
        if isinstance(value, str) and len(value) >= 6 and not value.isidentifier()
    }
    assert len(held) > 10, "the tab held personal data"

    def leaked(updates):
        sent = json.dumps(updates, ensure_ascii=False)
        return sorted(v for v in held if v in sent)

    # The rightful session reconnecting through B gets the tab back (the tree is in Redis).
    for _attempt in range(6):
        if leaked(_hydrate(b, token, cookie)):
            break
        time.sleep(0.5)
    assert leaked(_hydrate(b, token, cookie)), "the session that filled the tab gets it back"
    assert not leaked(_hydrate(b, token)), "an anonymous client with the token gets nothing"
    # Filled again, then logged out over the websocket in that very tab (through A): its next
    # snapshot is empty through either worker, even with a kept copy of the cookie.
    with EventClient(a.url, cookie=cookie, origin=a.public_url, token=token) as tab:
        refilled, _ = tab.call(f"{members}.load", {}, path="/members")
        assert leaked(refilled)
        tab.call(f"{_state(*AUTH)}.logout", {}, path="/members")
    assert not leaked(_hydrate(b, token, cookie))
    assert not leaked(_hydrate(a, token, cookie))
