"""Database engine and the one-transaction-per-user-action session helper.

SQLite is the embedded default; PostgreSQL is selected by ``DPA_DATABASE_URL``.
Every user action runs inside ``session_scope()``: it commits once at the end or rolls
everything back, so a failed action never leaves a partial write.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from dpa_panel import settings


def make_engine(url: str) -> Engine:
    """Create an engine with the per-dialect settings the panel relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_after_idle(engine)
    from dpa_panel.services import audit_link

    audit_link.install_deferred_append(engine)
    return engine


#: A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 5.0


def _ping_after_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for a connection that sat in the pool for a while (issue 19).

    The stock pre-ping costs a round trip on *every* checkout — a tenth of an audited action's
    time on PostgreSQL. A connection checked in a moment ago by this process was working then;
    one that idled (a server restart, a firewall's idle cut) is pinged as before, and a dead
    one is replaced before the caller sees it (``DisconnectionError`` makes the pool retry).
    What is left: a server that goes away within the idle window fails one action, and the
    pool then drops its dead connections (SQLAlchemy's own disconnect handling)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        record.info["dpa_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("dpa_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # new (just connected) or idle a moment only
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as err:  # noqa: BLE001 - any failure means "do not hand it out"
            raise exc.DisconnectionError() from err
        if not alive:
            raise exc.DisconnectionError()


_ENGINES: dict[str, Engine] = {}


def get_engine() -> Engine:
    """The process-wide engine for the configured database URL (one pool per URL)."""
    url = settings.database_url()
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests call this before dropping a database)."""
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
