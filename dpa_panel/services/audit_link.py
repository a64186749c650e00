"""The PostgreSQL side of the audit write path (issue 19, decision 19-audit-1): the writer's
append without the chain lock, and the linker that chains committed events in id order after
the commit. The linker's steps run in the server, in one statement (the function
``dpa_audit_link`` of migration 0019, decision 19-audit-5); this module calls it and retries,
from a background thread per process that links the commits of each moment together
(decision 19-audit-7), or in the caller's thread (``link``: verify, checkpoints, the sweep).
How and why: the docstring of ``services/audit.py``; guarantees: docs/security.md. SQLite
never comes here (it links inside the writer's transaction).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time as _time
import weakref
from contextlib import nullcontext
from datetime import UTC

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
#: How long one link attempt waits for an in-flight writer (or another linker) at most.
LINK_LOCK_TIMEOUT_MS = 200
#: How long the background linker keeps retrying one hand-over before leaving its events to
#: the next link.
LINK_DEADLINE_S = 1.0


def pg_insert(conn: Connection, row) -> int:
    """INSERT ``row`` (an ``audit.Appended`` without id) now and return its id: after any
    events the transaction deferred, so its events keep their order."""
    raw = conn.connection.dbapi_connection
    write_deferred(raw)
    cur = raw.cursor()
    try:
        cur.execute(_PG_INSERT_SQL, _params(row))
        return cur.fetchone()[0]
    finally:
        cur.close()


_PG_MARK_SQL = f"SELECT pg_advisory_xact_lock({_MARK_CLASS}, {_xid_key('pg_current_xact_id()')})"


def pg_mark(conn: Connection) -> None:
    """Take this transaction's writer mark before drawing ids some other way than
    ``pg_insert`` (``audit.append_many``'s multi-row INSERT); re-taking it is harmless."""
    raw = conn.connection.dbapi_connection
    write_deferred(raw)  # the transaction's earlier events first: they keep their order
    cur = raw.cursor()
    try:
        cur.execute(_PG_MARK_SQL)
    finally:
        cur.close()


# --- the deferred append (decision 19-audit-12) ----------------------------------------------
#
# ``audit.record`` on PostgreSQL does not send its INSERT: it keeps the event on the driver
# connection and the INSERT goes out with the transaction's COMMIT, in one message and one
# round trip ("INSERT ...; COMMIT"), or, when the event is the transaction's only statement,
# as the one statement of an implicit transaction. It goes out earlier, in order, before any
# statement that names ``audit_event`` (a read of the trail in the same transaction sees its
# own events), before ``record_on``/``append_many`` append, and before every savepoint
# statement (an event from before a savepoint must survive its rollback). A rollback drops it with
# the rest. The INSERT is the same statement with the same writer mark before its id: only
# when it is sent changes, and the round trip it cost, about a sixth of an audited action.

_DEFERRED = "_dpa_audit_deferred"
#: Marks a dialect whose engine went through ``install_deferred_append``: ``record`` defers
#: only there (an engine made elsewhere would never send a deferred event).
DEFERS_ATTR = "dpa_defers_audit"


class Deferred:
    """One transaction's audit events on one driver connection: not yet sent (``rows``, each
    an ``audit.Appended`` whose ``id`` is filled in when it is), and the newest id sent."""

    __slots__ = ("rows", "last_id")

    def __init__(self) -> None:
        self.rows: list = []
        self.last_id = 0


def defer(session: OrmSession, raw, appended) -> None:
    """Keep ``appended`` (``audit.Appended``, ``id`` None) for the transaction's next audit
    statement or its COMMIT on ``raw`` (the psycopg connection); the session hands the ids
    over to the linker after the commit."""
    tx = getattr(raw, _DEFERRED, None)
    if tx is None:
        tx = Deferred()
        setattr(raw, _DEFERRED, tx)
    tx.rows.append(appended)
    session.info[_SESSION_KEY] = tx


def _params(row) -> dict:
    """The INSERT's parameters for ``row`` (an ``audit.Appended``)."""
    return {"occurred_at": row.occurred_at.astimezone(UTC), "actor_type": row.actor_type,
            "actor_id": row.actor_id, "action": row.action, "entity_type": row.entity_type,
            "entity_id": row.entity_id, "client_ip": row.client_ip,
            "details": row.details}  # fmt: skip


def write_deferred(raw, *, commit: bool = False, only_if_holding=None) -> None:
    """Send the events ``raw`` (a psycopg connection) keeps for its transaction, in order, in
    one message; with ``commit``, the transaction's COMMIT in the same message. A message of
    several statements goes by the simple query protocol, which takes no parameters: its
    values are quoted by psycopg's own ``mogrify``; a lone event committed by itself is one
    statement with server-bound parameters. ``only_if_holding``: send only if that event is
    still among them (its transaction still open, the event unsent)."""
    tx = getattr(raw, _DEFERRED, None)
    if tx is None or not tx.rows:
        return
    if only_if_holding is not None and not any(r is only_if_holding for r in tx.rows):
        return
    import psycopg
    from psycopg.pq import TransactionStatus

    rows, tx.rows = tx.rows, []
    alone = commit and raw.info.transaction_status == TransactionStatus.IDLE
    if alone and len(rows) == 1:
        # The event is the transaction: one statement in autocommit, its parameters bound
        # by the server (a prepared statement after psycopg's fifth use): no quoting here.
        sql, params = _PG_INSERT_SQL, _params(rows[0])
    else:
        quote = psycopg.ClientCursor(raw)
        sql = "; ".join(quote.mogrify(_PG_INSERT_SQL, _params(row)) for row in rows)
        params = None
        if commit and not alone:
            sql += "; COMMIT"
    if alone:  # nothing else in the transaction: the INSERTs are one implicit transaction
        raw.autocommit = True
    cur = raw.cursor()
    try:
        cur.execute(sql, params)
        for row in rows:
            row.id = cur.fetchone()[0]
            cur.nextset()
    finally:
        cur.close()
        if alone:
            raw.autocommit = False  # (the implicit transaction has ended, committed or not)
    tx.last_id = max(tx.last_id, rows[-1].id)


def install_deferred_append(engine: Engine) -> None:
    """Have ``engine`` (PostgreSQL) send deferred audit events: with the COMMIT (the dialect's
    ``do_commit``), before a statement that reads or writes the trail or a savepoint
    statement (``before_cursor_execute``); drop them on a rollback (``do_rollback``, which
    the pool's reset on return calls too). Errors of the COMMIT's message are the COMMIT's:
    SQLAlchemy wraps them as it wraps a failed COMMIT."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection) -> None:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        try:
            write_deferred(raw, commit=True)
        finally:
            setattr(raw, _DEFERRED, None)
        commit(dbapi_connection)  # (psycopg sends nothing when the message committed)

    def do_rollback(dbapi_connection) -> None:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        if raw is not None:
            setattr(raw, _DEFERRED, None)
        rollback(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback
    setattr(dialect, DEFERS_ATTR, True)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn, cursor, statement, _params, _context, _many) -> None:
        raw = cursor.connection
        tx = getattr(raw, _DEFERRED, None)
        if tx is not None and tx.rows and ("audit_event" in statement or "SAVEPOINT" in statement):
            write_deferred(raw)


def mark_session(session: OrmSession, event_id: int) -> None:
    """An event written at once (an engine without the deferred append): the session hands
    its id over to the linker after the commit, like a deferred one's."""
    tx = session.info.get(_SESSION_KEY)
    if tx is None:
        tx = session.info[_SESSION_KEY] = Deferred()
    tx.last_id = max(tx.last_id, event_id)


@event.listens_for(OrmSession, "after_commit")
def _link_after_commit(session: OrmSession) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT released: the transaction (and its writer mark) is still open
    tx = session.info.pop(_SESSION_KEY, None)
    if tx is None or not tx.last_id:
        return
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return  # joined an outer transaction: nothing is committed yet; a later link runs
    hand_over(bind, tx.last_id)


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_SESSION_KEY, None)


# --- the background linker (decision 19-audit-7) ---------------------------------------------


class _BackgroundLinker:
    """This process's linker for one engine: a daemon thread that links, in batches, the
    events the writers of this process hand over after their COMMIT.

    A writer no longer waits for its own link (one more transaction per action, which cost
    about as much as the action itself): it hands its newest event id over and returns. While
    the thread links, later commits pile up and are linked together by its next call. The
    thread only calls ``link``, so every guarantee of the linker holds as before (order,
    waits for writers in flight, all-or-nothing); what changes is *when*: a few milliseconds
    after the commit instead of before the request returns. A link that gives up or fails
    leaves its events unlinked, never lost: the next hand-over, ``dpa-panel audit link`` or a
    checkpoint links them.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the registry must not keep a dropped engine alive
        self._cond = threading.Condition()
        self._wanted = 0  # the newest event id handed over
        self._asked = 0  # hand-overs so far (an older id handed over late still needs a link)
        self._served = 0  # hand-overs whose events have had a link attempt since
        self._thread: threading.Thread | None = None

    def hand_over(self, until: int) -> None:
        with self._cond:
            self._wanted = max(self._wanted, until)
            self._asked += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="dpa-audit-linker", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def settle(self, timeout: float) -> bool:
        """Wait until every id handed over so far has had its link attempt (False: timed
        out). Does not link anything itself."""
        with self._cond:
            asked = self._asked
            return self._cond.wait_for(lambda: self._served >= asked, timeout=timeout)

    def _run(self) -> None:
        last_start = 0.0
        while True:
            # At most one link per LINKER_INTERVAL_S: the commits of that moment are linked
            # together (each call costs about as much as linking a hundred events at once).
            pause = last_start + LINKER_INTERVAL_S - _time.monotonic()
            if pause > 0:
                _time.sleep(pause)
            with self._cond:
                if not self._cond.wait_for(lambda: self._asked > self._served, LINKER_IDLE_S):
                    self._thread = None  # idle: end; the next hand-over starts a new thread
                    return
                target, asked = self._wanted, self._asked
            last_start = _time.monotonic()
            engine = self._engine()
            if engine is not None:
                _pause_for_kill_test("audit-after-commit")
                try:
                    link(engine, until=target, deadline_s=LINK_DEADLINE_S)
                except Exception:  # the actions are committed; their events wait for a later link
                    _log.exception("audit link after commit failed; a later link will link "
                                   "event %s", target)  # fmt: skip
                del engine
            with self._cond:
                self._served = asked  # only this thread moves it, always forward
                self._cond.notify_all()


#: The shortest time between two links of one process's linker (the longest an event waits
#: for its link beyond the link's own time, when no writer in flight holds it up). 25 ms, not
#: the first 10 ms: with four writer processes, four linkers calling 100 times a second each
#: took about a fifth of the writers' throughput (decision 19-audit-10).
LINKER_INTERVAL_S = 0.025
#: A linker thread with nothing to do for this long ends (a process that stops writing, or a
#: test's engine, leaves no thread behind); the next hand-over starts a new one.
LINKER_IDLE_S = 10.0
_linkers: weakref.WeakKeyDictionary[Engine, _BackgroundLinker] = weakref.WeakKeyDictionary()
_linkers_lock = threading.Lock()


def _linker_for(engine: Engine, create: bool = True) -> _BackgroundLinker | None:
    linker = _linkers.get(engine)
    if linker is None and create:
        with _linkers_lock:
            linker = _linkers.get(engine)
            if linker is None:
                linker = _linkers[engine] = _BackgroundLinker(engine)
    return linker


def hand_over(engine: Engine, until: int) -> None:
    """After a COMMIT that appended events up to ``until``: have this process's linker link
    them (PostgreSQL). Returns at once."""
    _linker_for(engine).hand_over(until)


#: How long ``settle`` waits at most (the linker's own retries end after ``LINK_DEADLINE_S``).
SETTLE_TIMEOUT_S = 30.0


def settle(bind: Engine | Connection | None = None, timeout: float = SETTLE_TIMEOUT_S) -> bool:
    """Wait until this process's linkers have linked (or tried to) every event handed over to
    them so far: for a reader that needs the chain to include this process's own writes
    (``verify_chain``, a test, a command that ends, an engine being disposed). ``bind`` None:
    every engine's linker. False if a linker was still busy after ``timeout``."""
    if bind is not None:
        engine = bind.engine if isinstance(bind, Connection) else bind
        linker = _linker_for(engine, create=False)
        linkers = [] if linker is None else [linker]
    else:
        linkers = list(_linkers.values())
    return all(linker.settle(timeout) for linker in linkers)


@event.listens_for(Engine, "engine_disposed")
def _settle_when_disposed(engine: Engine) -> None:
    settle(engine)


def _forget_linkers_in_child() -> None:
    """A forked child has none of its parent's threads: it starts its own linkers."""
    global _linkers_lock
    _linkers.clear()
    _linkers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_linkers_in_child)
atexit.register(settle)


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
