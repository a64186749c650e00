"""The pool's ping-after-idle (``db._ping_after_idle``, issue 19): a connection that sat idle is
checked before it is handed out, and a dead one is replaced without the caller seeing an error;
one used a moment ago is handed out without the extra round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dpa_panel import db


@pytest.fixture
def pg_engine(db_kind, db_url):
    if db_kind != "postgresql":
        pytest.skip("the ping-after-idle is the PostgreSQL pool's (SQLite has no server to lose)")
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def test_an_idle_dead_connection_is_replaced_before_use(pg_engine, db_url, monkeypatch):
    pid = _backend_pid(pg_engine)  # the pool now holds this one connection, idle
    killer = db.make_engine(db_url)  # another pool: the killer is not the pooled connection
    with killer.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection counts as idle
    assert _backend_pid(pg_engine) != pid  # the dead one was replaced, no error surfaced
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    _backend_pid(pg_engine)


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_engine, monkeypatch):
    pings: list[int] = []
    real = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
    for _ in range(5):
        _backend_pid(pg_engine)
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    _backend_pid(pg_engine)
    assert pings == [1]
