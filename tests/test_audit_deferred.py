"""Issue 19, decision 19-audit-12: on PostgreSQL ``audit.record`` sends its INSERT with the
transaction's COMMIT, in one message. What must not change: an action and its event commit
together or not at all, events keep their order, a read of the trail in the transaction sees
the transaction's own events, savepoints keep what came before them, and an engine that did
not install the hook still writes at once (it could never send a deferred event). What must
change, and is counted here on the wire (libpq's protocol trace): one message fewer for every
audited action, two fewer for an action that only records.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, exc, func, select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import AuditEvent
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor, record, record_on, verify_chain


def _pg_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite links inside the writer's transaction: nothing is deferred there")


def _actions(engine) -> list[str]:
    audit.settle(engine)
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _sequence(engine) -> int:
    """The audit id sequence's last value, read outside any transaction of the test (a
    sequence moves at once, whatever becomes of the transaction that drew from it)."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM audit_event_id_seq"
        )).scalar()  # fmt: skip


@contextmanager
def _wire(session: Session):
    """The messages the session's connection sends to the server meanwhile, as (type, text)
    from libpq's trace: the count of round trips is the count of Query and Sync messages.
    (Commit inside it: the trace is read when it ends.)"""
    raw = session.connection().connection.dbapi_connection
    with tempfile.NamedTemporaryFile("w+b", delete=False) as out:
        path = Path(out.name)
        raw.pgconn.trace(out.fileno())
        raw.pgconn.set_trace_flags(0)
        sent: list[tuple[str, str]] = []
        try:
            yield sent
        finally:
            raw.pgconn.untrace()
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 4 and parts[1] == "F":
            sent.append((parts[3].strip(), "\t".join(parts[4:])))
    path.unlink()


def _round_trips(sent: list[tuple[str, str]]) -> int:
    return sum(kind in ("Query", "Sync") for kind, _ in sent)


def test_an_action_that_only_records_is_one_message(engine):
    _pg_only(engine)
    with session_scope(engine) as s, _wire(s) as sent:
        record(s, Actor.system(), "only.event", "n", 1)
        s.commit()
    assert _round_trips(sent) == 1, sent
    assert "INSERT INTO audit_event" in sent[0][1]
    assert _actions(engine) == ["only.event"]


def test_the_event_goes_with_the_commit_of_a_longer_action(engine):
    """BEGIN and the action's own statement as before; the event and the COMMIT together."""
    _pg_only(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch (n int)"))
    with session_scope(engine) as s, _wire(s) as sent:
        s.execute(text("INSERT INTO scratch VALUES (1)"))
        record(s, Actor.system(), "with.row", "scratch", 1)
        s.commit()
    last = sent[-1][1]
    assert "INSERT INTO audit_event" in last and last.rstrip('"').endswith("COMMIT")
    assert _round_trips(sent) == 3, sent  # BEGIN, the action's INSERT, the event + COMMIT
    assert _actions(engine) == ["with.row"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scratch")).scalar() == 1


def test_a_rolled_back_action_sends_nothing_and_draws_no_id(engine):
    _pg_only(engine)
    before = _sequence(engine)
    with pytest.raises(LookupError), session_scope(engine) as s:
        made = record(s, Actor.system(), "doomed", "n", 1)
        raise LookupError("the action failed after its event")
    assert _sequence(engine) == before
    assert made.id is None  # never sent: no id to give
    assert _actions(engine) == []


def test_reading_the_id_sends_the_event_at_once(engine):
    """``Appended.id`` inside the transaction draws the id (one round trip); the commit then
    sends the COMMIT alone, and the id is the stored event's."""
    _pg_only(engine)
    before = _sequence(engine)
    with session_scope(engine) as s:
        made = record(s, Actor.system(), "asked.for.id", "n", 1)
        assert _sequence(engine) == before  # deferred so far
        event_id = made.id
        assert event_id == before + 1 and _sequence(engine) == event_id
    audit.settle(engine)
    with Session(engine) as s:
        assert s.get(AuditEvent, event_id).action == "asked.for.id"


def test_the_trail_read_in_the_transaction_sees_its_own_events(engine):
    with session_scope(engine) as s:
        record(s, Actor.system(), "seen.by.itself", "n", 1)
        found = s.scalars(select(AuditEvent.action).where(AuditEvent.action == "seen.by.itself"))
        assert list(found) == ["seen.by.itself"]
    assert _actions(engine) == ["seen.by.itself"]


def test_savepoints_keep_the_events_before_them(engine):
    """An event recorded before a savepoint survives its rollback; one inside it does not."""
    with session_scope(engine) as s:
        record(s, Actor.system(), "before.savepoint", "n", 1)
        nested = s.begin_nested()
        record(s, Actor.system(), "inside.savepoint", "n", 2)
        nested.rollback()
        record(s, Actor.system(), "after.savepoint", "n", 3)
    assert _actions(engine) == ["before.savepoint", "after.savepoint"]
    audit.link(engine)
    with Session(engine) as s:
        result = verify_chain(s)
    assert result.ok and result.checked == 2 and result.pending == 0, result.describe()


def test_events_keep_their_call_order_with_a_core_append_between(engine):
    """``record`` (deferred) then ``record_on`` (at once) in one transaction: the deferred
    event is sent first, so the chain's id order is the order of the calls."""
    with session_scope(engine) as s:
        first = record(s, Actor.system(), "first", "n", 1)
        second = record_on(s.connection(), Actor.system(), "second", "n", 2)
        third = record(s, Actor.system(), "third", "n", 3)
    assert first.id < second < third.id
    assert _actions(engine) == ["first", "second", "third"]


def test_a_refused_event_fails_its_whole_action_and_the_pool_recovers(engine):
    """The event is refused by the database only at COMMIT now (an action name longer than
    its column): the COMMIT fails as SQLAlchemy reports a failed COMMIT, nothing of the
    action is kept, and the connection serves the next action."""
    _pg_only(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch (n int)"))
    with pytest.raises(exc.DataError), session_scope(engine) as s:
        s.execute(text("INSERT INTO scratch VALUES (1)"))
        record(s, Actor.system(), "x" * 65, "scratch", 1)
    with pytest.raises(exc.DataError), session_scope(engine) as s:
        record(s, Actor.system(), "y" * 65, "n", 1)  # the event alone (no BEGIN sent)
    for n in range(3):  # the pool's connections serve on
        with session_scope(engine) as s:
            s.execute(text("INSERT INTO scratch VALUES (:n)"), {"n": 10 + n})
            record(s, Actor.system(), "fine", "scratch", n)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT min(n), count(*) FROM scratch")).one() == (10, 3)
    assert _actions(engine) == ["fine"] * 3


def test_an_engine_without_the_hook_writes_at_once(engine, db_url):
    """An engine made without ``db.make_engine`` has no hook to send a deferred event with
    its COMMIT, so ``record`` must not defer there."""
    _pg_only(engine)
    bare = create_engine(db_url)
    try:
        before = _sequence(engine)
        with session_scope(bare) as s:
            made = record(s, Actor.system(), "written.at.once", "n", 1)
            assert _sequence(engine) == before + 1  # drawn before the commit
        assert made.id == before + 1
        audit.link(bare)
        assert _actions(engine) == ["written.at.once"]
    finally:
        bare.dispose()


def test_many_deferred_actions_keep_one_verified_chain(engine):
    """Actions of every shape in a row (only an event; a statement then an event; two
    events; an id read early; a rollback): the committed events, one chain, verified."""
    expected = []
    for i in range(30):
        shape = i % 5
        try:
            with session_scope(engine) as s:
                if shape == 1:
                    s.execute(select(func.count()).select_from(AuditEvent))
                record(s, Actor.user(1 + shape), f"shape.{shape}", "n", i)
                if shape == 2:
                    record(s, Actor.user(1 + shape), "shape.2.second", "n", i)
                if shape == 3:
                    assert record(s, Actor.system(), "shape.3.id", "n", i).id is not None
                if shape == 4:
                    raise LookupError("rolled back")
        except LookupError:
            continue
        expected += {0: ["shape.0"], 1: ["shape.1"], 2: ["shape.2", "shape.2.second"],
                     3: ["shape.3", "shape.3.id"]}[shape]  # fmt: skip
    assert _actions(engine) == expected
    audit.link(engine)
    with Session(engine) as s:
        result = verify_chain(s)
    assert result.ok and result.checked == len(expected) and result.pending == 0
