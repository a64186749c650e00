"""The PostgreSQL side of the audit write path (issue 19, decision 19-audit-1): the writer's
append without the chain lock, and the linker that chains committed events in id order right
after the commit. The linker's steps run in the server, in one statement (the function
``dpa_audit_link`` of migration 0019, decision 19-audit-5); this module calls it and retries.
How and why: the docstring of ``services/audit.py``; guarantees: docs/security.md. SQLite
never comes here (it links inside the writer's transaction).
"""

from __future__ import annotations

import logging
import os
import time as _time
from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession

_log = logging.getLogger(__name__)

#: Advisory lock class (two-key form) of the in-flight writer marks: (class, transaction id
#: folded to int4). A writer holds its mark from before it draws an event id until it ends.
_MARK_CLASS = 0x41554454  # "AUDT"
#: The writers' lock of ``lock_writers`` on PostgreSQL (no longer the chain head's row lock).
WRITERS_KEY = (0x41554457, 0)  # "AUDW"


def _xid_key(xid: str, percent: str = "%") -> str:
    """SQL folding a transaction id (xid8) to the non-negative int4 second key of the mark
    (two transactions in flight at once never differ by 2^31 ids)."""
    return f"(({xid})::text::bigint {percent} 2147483648)::int"


# The mark is taken in a sub-select that must produce its row before the outer projection draws
# the id (OFFSET 0 keeps it a separate plan node): the mark always precedes the id.
_PG_INSERT_SQL = (
    "INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, action, entity_type,"
    " entity_id, client_ip, details)"
    " SELECT nextval('audit_event_id_seq'), %(occurred_at)s, %(actor_type)s, %(actor_id)s,"
    " %(action)s, %(entity_type)s, %(entity_id)s, %(client_ip)s, %(details)s"
    f" FROM (SELECT pg_advisory_xact_lock({_MARK_CLASS},"
    f" {_xid_key('pg_current_xact_id()', '%%')}) OFFSET 0) AS writer_mark RETURNING id"
)
_SESSION_KEY = "dpa_audit_link_until"
_CONN_KEY = "dpa_audit_link_conn"
#: How long one link attempt waits for an in-flight writer (or another linker) at most.
LINK_LOCK_TIMEOUT_MS = 200
#: How long the after-commit link keeps retrying before leaving the event to the next link.
LINK_DEADLINE_S = 1.0


def pg_insert(conn: Connection, occurred_at: datetime, actor, action: str,
              entity_type: str, entity_id: str | int, details_text: str) -> int:  # fmt: skip
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(
            _PG_INSERT_SQL,
            {"occurred_at": occurred_at.astimezone(UTC), "actor_type": actor.actor_type,
             "actor_id": actor.user_id, "action": action, "entity_type": entity_type,
             "entity_id": str(entity_id), "client_ip": actor.client_ip[:64],
             "details": details_text},
        )  # fmt: skip
        return cur.fetchone()[0]
    finally:
        cur.close()


_PG_MARK_SQL = f"SELECT pg_advisory_xact_lock({_MARK_CLASS}, {_xid_key('pg_current_xact_id()')})"


def pg_mark(conn: Connection) -> None:
    """Take this transaction's writer mark before drawing ids some other way than
    ``pg_insert`` (``audit.append_many``'s multi-row INSERT); re-taking it is harmless."""
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(_PG_MARK_SQL)
    finally:
        cur.close()


def mark_session(session: OrmSession, conn: Connection, event_id: int) -> None:
    info = session.info
    info[_SESSION_KEY] = max(info.get(_SESSION_KEY, 0), event_id)
    info[_CONN_KEY] = conn


@event.listens_for(OrmSession, "after_commit")
def _link_after_commit(session: OrmSession) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT released: the transaction (and its writer mark) is still open
    until = session.info.pop(_SESSION_KEY, None)
    conn = session.info.pop(_CONN_KEY, None)
    if until is None:
        return
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return  # joined an outer transaction: nothing is committed yet; a later link runs
    # The session's connection is committed but not yet back in the pool: link on it (no
    # checkout, no ping); else on a connection of the engine's own.
    if conn is None or conn.closed or conn.in_transaction():
        conn = bind
    _pause_for_kill_test("audit-after-commit")
    try:
        link(conn, until=until, deadline_s=LINK_DEADLINE_S)
    except Exception:  # the action is committed; its event waits for the next link
        _log.exception("audit link after commit failed; the next link will link event %s", until)


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_CONN_KEY, None)


#: The linker itself is ``dpa_audit_link`` (migration 0019): every step in one statement, one
#: round trip, one transaction of its own (the connection is in autocommit for the call).
_LINK_SQL = "SELECT dpa_audit_link(%s, %s, %s)"
#: Events linked per call at most (a backlog after a crash is linked in several calls).
LINK_BATCH = 20_000


def link(bind: Engine | Connection, *, until: int | None = None,
         deadline_s: float = 10.0) -> int:  # fmt: skip
    """Link every settled, committed, unlinked event in id order (PostgreSQL; a no-op on
    SQLite, which links inside the writer's transaction). Returns how many were linked.

    ``until``: stop as soon as the head has reached this event id (the after-commit hook
    passes its newest event). Each attempt is one call of ``dpa_audit_link`` (its own short
    transaction) that waits at most ``LINK_LOCK_TIMEOUT_MS`` for one lock; a timed-out attempt
    is repeated until ``deadline_s`` — after that the events stay unlinked (never lost) until
    the next link. A backlog longer than ``LINK_BATCH`` is linked in several calls. A
    ``Connection`` must not be inside a transaction of its own.
    """
    if bind.dialect.name != "postgresql":
        return 0
    stop = _time.monotonic() + deadline_s
    total = 0
    while True:
        with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as conn:
            state, linked = _link_once(conn, until)
        total += linked
        if state == "done" or (state == "busy" and _time.monotonic() >= stop):
            return total


_NO_LIMIT = 2**62


def _link_once(conn: Connection, until: int | None) -> tuple[str, int]:
    """One call of ``dpa_audit_link``: (state, events linked); state is "done", "more" (it
    linked a whole ``LINK_BATCH``: more may be waiting) or "busy" (a lock wait timed out:
    another linker, or a writer still in flight)."""
    import psycopg

    raw = conn.connection.dbapi_connection
    if conn.in_transaction():
        conn.rollback()
    was_autocommit = raw.autocommit
    raw.autocommit = True  # the call is its own transaction: no BEGIN/COMMIT round trips
    try:
        with raw.cursor() as cur:
            cur.execute(_LINK_SQL, (_NO_LIMIT if until is None else int(until),
                                    int(LINK_LOCK_TIMEOUT_MS), LINK_BATCH))  # fmt: skip
            linked = cur.fetchone()[0]
        return ("more" if linked >= LINK_BATCH else "done"), linked
    except psycopg.errors.LockNotAvailable:
        return "busy", 0
    finally:
        raw.autocommit = was_autocommit


def _pause_for_kill_test(point: str) -> None:
    """Tests only (``DPA_TEST_PAUSE_AT``, see ``backup.pause_for_kill_test``)."""
    if os.environ.get("DPA_TEST_PAUSE_AT") == point:
        from dpa_panel.services import backup

        backup.pause_for_kill_test(point)
