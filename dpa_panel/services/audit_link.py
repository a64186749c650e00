"""The PostgreSQL side of the audit write path (issue 19, decision 19-audit-1): the writer's
append without the chain lock, and the linker that chains committed events in id order right
after the commit. How and why: the docstring of ``services/audit.py``; guarantees:
docs/security.md. SQLite never comes here (it links inside the writer's transaction).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time as _time
from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession

from dpa_panel.services import audit as _audit

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


# One round trip, five statements (each READ COMMITTED statement takes its own snapshot):
# 1-2. the link's own settings; 3. lock the head, and remember the sequence's last value L
# (it may be read before the head's lock is granted: an older L only links less); 4. wait for
# every marked writer in flight now (the lock manager's view, taken after L was read; not a
# snapshot's in-progress list, which omits transactions with ids past its xmax); 5. the
# committed unlinked events after the head up to L, read after every wait has ended.
# Statements 4 and 5 do nothing when the head already reached ``until``.
_HEAD_ID = "(SELECT last_event_id FROM audit_chain_head WHERE id = 1)"
_LINK_READ_SQL = (
    "SET LOCAL synchronous_commit = off; SET LOCAL lock_timeout = '{timeout:d}ms'; "
    "SELECT last_event_id, last_hash, set_config('dpa.audit_link_upto',"
    " (SELECT last_value FROM audit_event_id_seq)::text, true)"
    " FROM audit_chain_head WHERE id = 1 FOR UPDATE; "
    f"SELECT count(pg_advisory_xact_lock_shared({_MARK_CLASS}, objid::text::int))"
    f" FROM pg_locks WHERE locktype = 'advisory' AND classid = {_MARK_CLASS}::oid"
    " AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    f" AND {_HEAD_ID} < {{until:d}}; "
    "SELECT id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, client_ip,"
    f" details FROM audit_event WHERE id > {_HEAD_ID}"
    " AND id <= current_setting('dpa.audit_link_upto')::bigint AND hash IS NULL"
    f" AND {_HEAD_ID} < {{until:d}} ORDER BY id"
)
_LINK_WRITE_SQL = (
    "WITH linked AS (UPDATE audit_event AS e SET prev_hash = v.p, hash = v.h"
    " FROM unnest('{{{ids}}}'::bigint[], '{{{prevs}}}'::text[], '{{{hashes}}}'::text[])"
    " AS v(id, p, h) WHERE e.id = v.id RETURNING 1)"
    " UPDATE audit_chain_head SET last_hash = '{last_hash}', last_event_id = {last_id:d},"
    " event_count = event_count + (SELECT count(*) FROM linked) WHERE id = 1; COMMIT"
)


def link(bind: Engine | Connection, *, until: int | None = None,
         deadline_s: float = 10.0) -> int:  # fmt: skip
    """Link every settled, committed, unlinked event in id order (PostgreSQL; a no-op on
    SQLite, which links inside the writer's transaction). Returns how many were linked.

    ``until``: stop as soon as the head has reached this event id (the after-commit hook
    passes its newest event). Each attempt runs in its own short transaction that waits at
    most ``LINK_LOCK_TIMEOUT_MS`` for one lock; attempts repeat until ``deadline_s`` — after
    that the events stay unlinked (never lost) until the next link. A ``Connection`` must not
    be inside a transaction of its own.
    """
    if bind.dialect.name != "postgresql":
        return 0
    stop = _time.monotonic() + deadline_s
    total = 0
    while True:
        with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as conn:
            done, linked = _link_once(conn, until)
        total += linked
        if done or _time.monotonic() >= stop:
            return total


_NO_LIMIT = 2**62


def _results(cur) -> None:
    """Move a cursor that ran several statements to the first one that returned rows."""
    while cur.description is None and cur.nextset():
        pass


def _link_once(conn: Connection, until: int | None) -> tuple[bool, int]:
    """One linking transaction, in two round trips: (finished, events linked). ``finished``
    is False when a lock wait timed out (another linker, or a writer still in flight).

    The statements carry no parameters (several go in one round trip): every value put into
    them is an integer read from the database or a hex digest computed here."""
    import psycopg

    raw = conn.connection.dbapi_connection
    if conn.in_transaction():
        conn.rollback()
    cur = raw.cursor()
    try:
        # The link is re-derivable from the committed events (a lost link is redone with the
        # same hashes), so its commit need not wait for the disk (statement 1).
        cur.execute(_LINK_READ_SQL.format(timeout=int(LINK_LOCK_TIMEOUT_MS),
                                          until=_NO_LIMIT if until is None else int(until)))
        _results(cur)
        last_id, last_hash, _upto = cur.fetchone()
        cur.nextset()
        cur.nextset()
        rows = cur.fetchall()
        if not rows:
            raw.rollback()
            return True, 0
        _pause_for_kill_test("audit-link-before-write")
        ids, prevs, hashes = [], [], []
        prev = last_hash
        for row in rows:
            digest = _row_hash(_audit._canonical_time(row[1]), row[2:], prev)
            ids.append(str(int(row[0])))
            prevs.append(prev)
            hashes.append(digest)
            prev = digest
        cur.execute(
            _LINK_WRITE_SQL.format(ids=",".join(ids), prevs=",".join(prevs),
                                   hashes=",".join(hashes), last_hash=prev,
                                   last_id=int(ids[-1]))
        )  # fmt: skip
        raw.commit()  # (already committed by the statement: a no-op without a round trip)
        return True, len(ids)
    except psycopg.errors.LockNotAvailable:
        raw.rollback()
        return False, 0
    except BaseException:
        raw.rollback()
        raise
    finally:
        cur.close()


def _pause_for_kill_test(point: str) -> None:
    """Tests only (``DPA_TEST_PAUSE_AT``, see ``backup.pause_for_kill_test``)."""
    if os.environ.get("DPA_TEST_PAUSE_AT") == point:
        from dpa_panel.services import backup

        backup.pause_for_kill_test(point)


def _row_hash(when: str, fields: tuple, prev_hash: str) -> str:
    """``compute_hash`` for a raw row: ``fields`` = (actor_type, actor_id, action,
    entity_type, entity_id, client_ip, details)."""
    return hashlib.sha256(_audit._content(when, *fields, prev_hash).encode("utf-8")).hexdigest()
