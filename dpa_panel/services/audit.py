"""The append-only, hash-chained audit trail (policy clauses 4.2 and 4.5).

Every event stores ``hash = SHA-256(canonical content + prev_hash)`` where ``prev_hash`` is the
hash of the event before it **in id order**. Editing a row breaks its own hash; deleting a row
breaks the next row's ``prev_hash``; deleting the newest rows is caught by ``audit_chain_head``,
which remembers the newest link (and the signed checkpoints, ``audit_checkpoints.py``, catch a
consistent rewrite).

An event is written in the same transaction as the action it records: if the action rolls
back, so does its audit event, and an action cannot commit without its event.

How an event joins the chain depends on the engine (issue 19, decision 19-audit-1):

* **SQLite** has one writer at a time anyway: ``record`` links the event inside the writer's
  transaction (it updates the head row first, which takes the database write lock).
* **PostgreSQL**: holding the head row's lock from the append until COMMIT serialised every
  audited write of every worker on one row (about 150 actions/s in all). Instead the writer
  only INSERTs its event — id from the sequence, ``prev_hash``/``hash`` NULL — after marking
  itself as an in-flight audited writer (a transaction-level advisory lock keyed by its
  transaction id, taken *before* the id is drawn). Right after the COMMIT the **linker**
  (``link``) links every settled event in id order: under the head row's lock it reads the
  sequence's last value L, then waits until every transaction that was in flight at that moment
  and holds the writer mark has ended, then fills in ``prev_hash``/``hash`` of every committed
  unlinked event with id <= L, in id order, and moves the head. An id <= L that is still not
  visible then belongs to a rolled-back transaction and never appears (ids are never reused), so
  the chain never reorders or skips a committed event; the chain is a pure function of the
  committed events, so re-linking after a crash gives the same hashes. Every session commit
  that appended hands its newest id to the process's background linker (``after_commit`` hook,
  ``audit_link.hand_over``; decision 19-audit-7), which links the commits of each 25 ms
  together; the link also runs before ``audit verify`` and before a checkpoint
  (``dpa-panel audit link`` runs it by hand), and ``settle`` waits for the background one.
  Between an event's commit and its link (normally a few milliseconds; at most until the
  slowest audited transaction that was in flight ends, or until the next link after a crash)
  the event exists unlinked: ``verify`` reports such events as pending, and only this newest,
  unlinked tail is not yet protected.

``details`` holds a small JSON object, never whole personal records: for changes, the names
of the changed fields, not their values.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit_link, tabular
from dpa_panel.services.prepared import Prepared, insert_rows

GENESIS_HASH = "0" * 64
MAX_DETAILS_CHARS = 4000
#: ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` without building an encoder
#: per call (the same bytes: the hash definition is unchanged).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_QUOTE = json.encoder.encode_basestring  # the encoder's own string quoting (C)


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user (``user``), the public form (``public``) or the panel (``system``)."""

    actor_type: str
    user_id: int | None = None
    client_ip: str = ""

    @classmethod
    def user(cls, user_id: int, client_ip: str = "") -> Actor:
        return cls("user", user_id, client_ip)

    @classmethod
    def public(cls, client_ip: str = "") -> Actor:
        return cls("public", None, client_ip)

    @classmethod
    def system(cls) -> Actor:
        return cls("system", None, "")


def _canonical_time(value: datetime) -> str:
    """UTC, microsecond precision: identical after a round trip through either engine."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    occurred_at: datetime,
    actor_type: str,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: str,
    client_ip: str,
    details: str,
    prev_hash: str,
) -> str:
    """The hash of one event's content chained to its predecessor."""
    content = _ENCODE(
        [
            _canonical_time(occurred_at),
            actor_type,
            actor_id,
            action,
            entity_type,
            entity_id,
            client_ip,
            details,
            prev_hash,
        ]
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def event_hash(event) -> str:
    """Recompute the hash of a stored event (ORM object or row) from its columns."""
    return compute_hash(
        occurred_at=event.occurred_at,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        client_ip=event.client_ip,
        details=event.details,
        prev_hash=event.prev_hash,
    )


def _details_json(details: dict | None) -> str:
    text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if len(text) > MAX_DETAILS_CHARS:
        raise ValueError("audit details too large: record field names, not records")
    return text


class Appended:
    """The event ``record`` appended: its id and its content, as stored. A plain record, not
    an ORM object: building an ``AuditEvent`` cost about a tenth of an audited write's own
    time (issue 19).

    On PostgreSQL ``record`` defers the INSERT to the transaction's COMMIT (decision
    19-audit-12): reading ``id`` before that sends the transaction's deferred events at once
    (one round trip) so the id exists; it is None for an event whose transaction rolled back
    unsent. ``prev_hash``/``hash`` stay None there (the linker fills them in the stored row
    after the commit); on SQLite they are the stored ones."""

    __slots__ = ("_id", "_raw", "occurred_at", "actor_type", "actor_id", "action",
                 "entity_type", "entity_id", "client_ip", "details", "prev_hash",
                 "hash")  # fmt: skip

    def __init__(self, id: int | None, occurred_at: datetime, actor_type: str,  # noqa: A002
                 actor_id: int | None, action: str, entity_type: str, entity_id: str,
                 client_ip: str, details: str, prev_hash: str | None = None,
                 hash: str | None = None, *, raw=None) -> None:  # noqa: A002  # fmt: skip
        self._id, self._raw = id, raw
        self.occurred_at, self.actor_type, self.actor_id = occurred_at, actor_type, actor_id
        self.action, self.entity_type, self.entity_id = action, entity_type, entity_id
        self.client_ip, self.details = client_ip, details
        self.prev_hash, self.hash = prev_hash, hash

    @property
    def id(self) -> int | None:
        if self._id is None and self._raw is not None:
            audit_link.write_deferred(self._raw, only_if_holding=self)
        return self._id

    @id.setter
    def id(self, value: int) -> None:
        self._id, self._raw = value, None

    def __repr__(self) -> str:
        where = f"{self.entity_type}:{self.entity_id}"
        return f"Appended(id={self._id!r}, action={self.action!r}, entity={where!r})"


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str = "",
    entity_id: str | int = "",
    details: dict | None = None,
) -> Appended:
    """Append one event inside the caller's transaction (the caller commits).

    On PostgreSQL the event is sent with the transaction's COMMIT, in the same message (or
    earlier, before a statement on the trail: ``audit_link.defer``), and gets its hashes from
    the background linker a few milliseconds after the commit (see the module docstring)."""
    # Validate before taking the lock: a refused event must not bump the head's event count
    # even when the caller catches the ValueError and commits the rest of its transaction.
    details_text = _details_json(details)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        defers = getattr(conn.dialect, audit_link.DEFERS_ATTR, False)
        raw = conn.connection.dbapi_connection if defers else None
        appended = _pg_event(actor, action, entity_type, entity_id, details_text, raw)
        if defers:
            audit_link.defer(session, raw, appended)
        else:
            appended.id = audit_link.pg_insert(conn, appended)
            audit_link.mark_session(session, appended.id)
        return appended
    # SQLite: one statement takes the database write lock, counts the event and reads the
    # head; the event and the head's new link in two more prepared statements (no ORM flush:
    # issue 19, about a third of an audited write's time on SQLite).
    return _append(conn, _BUMP_HEAD.scalar(conn), actor, action, entity_type, entity_id,
                   details_text)  # fmt: skip


def _pg_event(actor: Actor, action: str, entity_type: str, entity_id: str | int,
              details_text: str, raw=None) -> Appended:  # fmt: skip
    """A PostgreSQL event as it will be stored, before its INSERT (no id, no hashes yet)."""
    return Appended(None, utcnow(), actor.actor_type, actor.user_id, action, entity_type,
                    str(entity_id), actor.client_ip[:64], details_text, raw=raw)  # fmt: skip


def write_pending(session: Session) -> None:
    """Send now the events this session's transaction has deferred (PostgreSQL; nothing to do
    on SQLite): their ids are drawn and the writer mark taken, as a plain INSERT would. For a
    transaction that must hold its ids while it stays open (the linker's tests); an action
    never needs it (its events go with its COMMIT, or before its next statement on the trail).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        audit_link.write_deferred(conn.connection.dbapi_connection)


def _content(when: str, actor_type: str, actor_id: int | None, action: str, entity_type: str,
             entity_id: str, client_ip: str, details: str, prev_hash: str) -> str:  # fmt: skip
    """The canonical content ``compute_hash`` hashes, byte for byte the same as ``_ENCODE`` of
    the list (strings quoted by the JSON encoder's own function, the id an int or null), about
    three times faster: ``verify_chain`` builds it a million times."""
    actor = "null" if actor_id is None else int(actor_id)
    return (
        f"[{_QUOTE(when)},{_QUOTE(actor_type)},{actor},{_QUOTE(action)},{_QUOTE(entity_type)},"
        f"{_QUOTE(entity_id)},{_QUOTE(client_ip)},{_QUOTE(details)},{_QUOTE(prev_hash)}]"
    )



#: Link committed events (PostgreSQL; a no-op on SQLite): ``audit_link.link``.
link = audit_link.link
#: Wait for this process's background linker (PostgreSQL; a no-op on SQLite):
#: ``audit_link.settle``.
settle = audit_link.settle

_HEAD = AuditChainHead.__table__
_EVENT = AuditEvent.__table__
_EVENT_FIELDS = ("occurred_at", "actor_type", "actor_id", "action", "entity_type", "entity_id",
                 "client_ip", "details", "prev_hash", "hash")  # fmt: skip
# The connection-level appends below (the sweep appends one event per subject) run these
# statements through ``Prepared``: compiled once, executed on the DBAPI cursor.
_LOCK = Prepared(update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=_HEAD.c.last_hash))
_BUMP_HEAD = Prepared(
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(event_count=_HEAD.c.event_count + 1)
    .returning(_HEAD.c.last_hash)
)
_INSERT_EVENT = Prepared(
    insert(_EVENT).values({c: bindparam(c) for c in _EVENT_FIELDS}).returning(_EVENT.c.id)
)
_SET_HEAD = Prepared(
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_hash=bindparam("b_hash"), last_event_id=bindparam("b_id"))
)


def record_on(
    conn: Connection,
    actor: Actor,
    action: str,
    entity_type: str = "",
    entity_id: str | int = "",
    details: dict | None = None,
) -> int:
    """``record`` for a caller working on a Core connection (no ORM unit of work): the same
    event and the same chain, in prepared statements. Returns the id. On PostgreSQL the event
    is linked by the next ``link`` (a Core caller has no after-commit hook)."""
    details_text = _details_json(details)
    if conn.dialect.name == "postgresql":
        return audit_link.pg_insert(conn, _pg_event(actor, action, entity_type, entity_id,
                                                    details_text))  # fmt: skip
    return _append(conn, _BUMP_HEAD.scalar(conn), actor, action, entity_type, entity_id,
                   details_text).id  # fmt: skip


def append_many(
    conn: Connection, actor: Actor, action: str, entity_type: str,
    items: list[tuple[str | int, dict | None]],
) -> list[int]:  # fmt: skip
    """``record_on`` for several events of one action at once (the retention sweep's batch,
    issue 19): the same lock, the same chain and hash, one statement to claim them all, one
    multi-row INSERT. ``items``: (entity id, details) in chain order; returns their ids."""
    if not items:
        return []
    texts = [_details_json(details) for _, details in items]
    if conn.dialect.name == "postgresql":
        # Unlinked, like every PostgreSQL append: the writer mark first (so the linker waits
        # for this transaction), then one multi-row INSERT; ``link`` hashes them after commit.
        audit_link.pg_mark(conn)
        client_ip = actor.client_ip[:64]
        rows = [
            {"occurred_at": utcnow(), "actor_type": actor.actor_type, "actor_id": actor.user_id,
             "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
             "client_ip": client_ip, "details": details_text, "prev_hash": None, "hash": None}
            for (entity_id, _), details_text in zip(items, texts, strict=True)
        ]  # fmt: skip
        return insert_rows(conn, _EVENT, rows)
    prev = conn.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(event_count=_HEAD.c.event_count + len(items))
        .returning(_HEAD.c.last_hash)
    ).scalar_one()
    client_ip = actor.client_ip[:64]
    rows = []
    for (entity_id, _), details_text in zip(items, texts, strict=True):
        occurred_at = utcnow()
        row = {
            "occurred_at": occurred_at, "actor_type": actor.actor_type,
            "actor_id": actor.user_id, "action": action, "entity_type": entity_type,
            "entity_id": str(entity_id), "client_ip": client_ip, "details": details_text,
            "prev_hash": prev,
        }  # fmt: skip
        prev = row["hash"] = compute_hash(**row)
        rows.append(row)
    ids = insert_rows(conn, _EVENT, rows)
    _SET_HEAD.execute(conn, {"b_hash": prev, "b_id": ids[-1]})
    return ids


def _append(
    conn: Connection, prev_hash: str, actor: Actor, action: str, entity_type: str,
    entity_id: str | int, details_text: str,
) -> Appended:  # fmt: skip
    """SQLite: the event, hashed onto ``prev_hash``, and the head's new link."""
    fields = {
        "occurred_at": utcnow(), "actor_type": actor.actor_type, "actor_id": actor.user_id,
        "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
        "client_ip": actor.client_ip[:64], "details": details_text, "prev_hash": prev_hash,
    }  # fmt: skip
    digest = compute_hash(**fields)
    event_id = _INSERT_EVENT.scalar(conn, {**fields, "hash": digest})
    _SET_HEAD.execute(conn, {"b_hash": digest, "b_id": event_id})
    return Appended(event_id, hash=digest, **fields)


_PG_WRITERS_SQL = "SELECT pg_advisory_xact_lock({}, {})".format(*audit_link.WRITERS_KEY)


def lock_writers_on(conn: Connection) -> None:
    """``lock_writers`` for a caller working on a Core connection."""
    if conn.dialect.name == "postgresql":
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute(_PG_WRITERS_SQL)
        finally:
            cur.close()
        return
    _LOCK.execute(conn)


def lock_writers(session: Session) -> None:
    """Take the lock that serialises read-then-write decisions, without appending an event.

    It is held until the caller's transaction ends. A service calls it *before* a
    read-then-write decision that must not race with another writer — "is there already an
    open application with this e-mail?", "what is the next membership number?" — and reads
    what it decides on after it.

    On SQLite it is the database write lock (an UPDATE of the chain head row, the same lock
    ``record`` takes). On PostgreSQL it is a transaction-level advisory lock of its own: the
    chain head's row is only ever locked by the linker, for a moment, so audited writes that
    need no such decision (views, searches, exports) no longer queue behind it.

    On SQLite, reads before the first write run outside any transaction (the driver begins
    one at the first write), so rows loaded *before* this call may be stale: load them after
    it (``populate_existing=True`` refreshes objects already in the session).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        lock_writers_on(conn)
        return
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(last_hash=AuditChainHead.last_hash)
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    event_id: int | None = None
    #: committed events after the head that the linker has not linked yet (PostgreSQL)
    pending: int = 0

    def describe(self) -> str:
        if self.ok:
            tail = (
                f" ({self.pending} newest events committed but not linked yet: "
                "`dpa-panel audit link`)"
                if self.pending
                else ""
            )
            return f"audit chain OK: {self.checked} events verified{tail}"
        where = f" at event id {self.event_id}" if self.event_id is not None else ""
        return (
            f"audit chain BROKEN{where}: {self.problem} ({self.checked} events checked before it)"
        )


#: Rows fetched per round trip by ``verify_chain`` (a server-side cursor on PostgreSQL).
VERIFY_BATCH = 20_000
_PG_VERIFY_SQL = (
    "SELECT id, to_char(occurred_at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),"
    " actor_type, actor_id, action, entity_type, entity_id, client_ip, details, prev_hash, hash"
    " FROM audit_event ORDER BY id"
)
_SQLITE_VERIFY_SQL = (
    "SELECT id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, client_ip,"
    " details, prev_hash, hash FROM audit_event ORDER BY id"
)


def _sqlite_time(stored) -> str:
    """The canonical text of a time as SQLite stores it (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if isinstance(stored, str) and len(stored) == 26 and stored[10] == " ":
        return f"{stored[:10]}T{stored[11:]}+00:00"
    value = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    return _canonical_time(value if value.tzinfo else value.replace(tzinfo=UTC))


def _raw_rows(session: Session) -> Iterator[tuple]:
    """Every event in id order as raw tuples (id, canonical time text, actor_type, actor_id,
    action, entity_type, entity_id, client_ip, details, prev_hash, hash), streamed: a
    server-side cursor on PostgreSQL, the driver's own stepping on SQLite."""
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor(name="dpa_audit_verify") as cur:
            cur.itersize = VERIFY_BATCH
            cur.execute(_PG_VERIFY_SQL)
            while rows := cur.fetchmany(VERIFY_BATCH):
                yield from rows
        return
    cur = raw.cursor()
    try:
        cur.execute(_SQLITE_VERIFY_SQL)
        while rows := cur.fetchmany(VERIFY_BATCH):
            for row in rows:
                yield (row[0], _sqlite_time(row[1]), *row[2:])
    finally:
        cur.close()


def verify_chain(session: Session) -> VerifyResult:
    """Walk the whole chain in id order and report the first broken link.

    On PostgreSQL the newest events may be committed but not linked yet (NULL hashes, see the
    module docstring): they must all come after every linked event, and they are reported as
    ``pending``, not as a break. Anything else with a NULL hash is a break. This process's own
    events handed to its background linker are linked first (``settle``).
    """
    postgres = session.connection().dialect.name == "postgresql"
    if postgres:
        settle(session.get_bind())
    sha256 = hashlib.sha256
    content = _content
    prev_hash = GENESIS_HASH
    checked = 0
    pending = 0
    last_id = None
    for row in _raw_rows(session):
        stored = row[10]
        if stored is None and postgres and row[9] is None:
            pending += 1
            continue
        if pending or stored is None:
            return VerifyResult(
                False, checked,
                "linked event after an unlinked one, or a hash removed (row edited)", row[0],
            )  # fmt: skip
        if row[9] != prev_hash:
            return VerifyResult(
                False,
                checked,
                "previous-hash link does not match (row deleted or reordered)",
                row[0],
            )
        if sha256(content(*row[1:10]).encode("utf-8")).hexdigest() != stored:
            return VerifyResult(
                False, checked, "content does not match its hash (row edited)", row[0]
            )
        prev_hash = stored
        last_id = row[0]
        checked += 1
    head = session.get(AuditChainHead, 1)
    if head is None:
        return VerifyResult(False, checked, "chain head row missing")
    if head.last_hash != prev_hash or (head.last_event_id or None) != last_id:
        return VerifyResult(
            False,
            checked,
            "newest events missing (chain head points past the last row)",
            head.last_event_id,
        )
    if head.event_count != checked:
        return VerifyResult(
            False, checked, f"event count {checked} differs from head count {head.event_count}"
        )
    return VerifyResult(True, checked, pending=pending)


# --- Query API for the audit viewer page and its CSV export --------------------------------

#: Rows per page at most (the viewer asks for 50; a larger request is capped).
MAX_PAGE_SIZE = 200
#: Rows fetched per keyset batch by ``iter_events`` (CSV export).
EXPORT_BATCH = 5000

CSV_COLUMNS = (
    "id",
    "occurred_at_utc",
    "actor_type",
    "actor_id",
    "actor_username",
    "action",
    "entity_type",
    "entity_id",
    "client_ip",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer filters on; empty strings and ``None`` mean "any".

    ``date_from`` and ``date_to`` are inclusive calendar days in the display time zone
    (Asia/Almaty), turned into UTC bounds before they reach the database.
    """

    actor_id: int | None = None
    actor_type: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _local_midnight_utc(day: date) -> datetime:
    """00:00 of ``day`` in the display time zone, as an aware UTC datetime."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.DISPLAY_TZ))
    return local.astimezone(UTC)


def utc_bounds(flt: AuditFilter) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC for the filter's inclusive local days (``None`` = open)."""
    start = _local_midnight_utc(flt.date_from) if flt.date_from else None
    end = _local_midnight_utc(flt.date_to + timedelta(days=1)) if flt.date_to else None
    return start, end


def _conditions(flt: AuditFilter) -> list:
    conds = []
    if flt.actor_id is not None:
        conds.append(AuditEvent.actor_id == flt.actor_id)
    if flt.actor_type:
        conds.append(AuditEvent.actor_type == flt.actor_type)
    if flt.action:
        conds.append(AuditEvent.action == flt.action)
    if flt.entity_type:
        conds.append(AuditEvent.entity_type == flt.entity_type)
    if flt.entity_id:
        conds.append(AuditEvent.entity_id == flt.entity_id)
    start, end = utc_bounds(flt)
    if start is not None:
        conds.append(AuditEvent.occurred_at >= start)
    if end is not None:
        conds.append(AuditEvent.occurred_at < end)
    return conds


def query_events(
    session: Session, flt: AuditFilter, *, page: int, page_size: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of matching events, newest first, and how many events match in total.

    ``page`` is 1-based; ``page_size`` is capped at ``MAX_PAGE_SIZE``.
    """
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    conds = _conditions(flt)
    if conds:
        total = session.execute(
            select(func.count()).select_from(AuditEvent).where(*conds)
        ).scalar_one()
    else:
        # Unfiltered: the chain head already counts every event (a COUNT would read them all).
        total = session.execute(
            select(AuditChainHead.event_count).where(AuditChainHead.id == 1)
        ).scalar_one()
    # Pick the page's ids first, then load those rows: the filter indexes are not in id order,
    # so every match is sorted; sorting bare ids (which SQLite reads from the covering index)
    # instead of whole rows makes a page over 150,000 matches about 7x faster on SQLite.
    page_ids = (
        select(AuditEvent.id)
        .where(*conds)
        .order_by(AuditEvent.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id.in_(page_ids.scalar_subquery()))
            .order_by(AuditEvent.id.desc())
        )
    )
    return rows, total


def iter_events(session: Session, flt: AuditFilter) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, fetched in keyset batches of ``EXPORT_BATCH``.

    Only one batch is held at a time; the session's identity map is weak, so rows the caller
    has written out and dropped are freed.
    """
    conds = _conditions(flt)
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last_id, *conds)
                .order_by(AuditEvent.id)
                .limit(EXPORT_BATCH)
            )
        )
        if not rows:
            return
        last_id = rows[-1].id
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return


def distinct_actions(session: Session) -> list[str]:
    """Every action code present in the trail, sorted (for the viewer's action filter).

    A plain ``SELECT DISTINCT`` reads all of ``ix_audit_action`` (about 150 ms at a million
    events on PostgreSQL). There are only a few dozen action codes, so this walks the index
    from one code to the next instead (a "loose index scan"): one index probe per code.
    """
    walk = text(
        "WITH RECURSIVE walk(action) AS ("
        " SELECT MIN(action) FROM audit_event"
        " UNION ALL"
        " SELECT (SELECT MIN(e.action) FROM audit_event e WHERE e.action > walk.action)"
        " FROM walk WHERE walk.action IS NOT NULL"
        ") SELECT action FROM walk WHERE action IS NOT NULL"
    )
    return sorted(session.execute(walk).scalars())


def csv_row(event: AuditEvent, usernames: dict[int, str]) -> tuple:
    """One event as a row of ``CSV_COLUMNS`` (the cells are neutralised by the writer)."""
    return (
        event.id,
        event.occurred_at.astimezone(UTC).isoformat(),
        event.actor_type,
        "" if event.actor_id is None else event.actor_id,
        usernames.get(event.actor_id, "") if event.actor_id is not None else "",
        event.action,
        event.entity_type,
        event.entity_id,
        event.client_ip,
        event.details,
        event.prev_hash,
        event.hash,
    )


def write_csv(
    rows: Iterable[AuditEvent], out: TextIO, usernames: dict[int, str], *, header: bool = True
) -> int:
    """Write ``rows`` as CSV to ``out`` through the panel's one writer (``services.tabular``:
    the header row first unless ``header=False``, for an export written in several batches);
    returns the number of data rows."""
    writer = tabular.CsvWriter(out, CSV_COLUMNS if header else None)
    return writer.rows(csv_row(event, usernames) for event in rows)
