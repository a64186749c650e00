"""Issue 19, the audit write path: concurrent writers, the PostgreSQL linker, its crash window.

On PostgreSQL an audited transaction only inserts its event (``prev_hash``/``hash`` NULL) and
the linker links committed events in id order after the commit (``services/audit.py``). These
tests show that it never forks, loses or reorders the chain — with 4 concurrent writers and
rollbacks on both engines, with a smaller id still in flight while a larger one commits, and
with the process SIGKILLed between its commit and its link or in the middle of a link — and
that the tamper checks still hold for linked and unlinked rows.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel import cli
from dpa_panel.db import dispose_engines, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit, audit_link
from dpa_panel.services.audit import GENESIS_HASH, Actor, record, verify_chain
from tests.kill_helpers import kill_at_pause_point, kill_when, wait_for

ROOT = Path(__file__).resolve().parent.parent


def _events(engine) -> list[AuditEvent]:
    """Every event, once this process's background linker has linked what it was handed."""
    audit.settle(engine)
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _verify(engine) -> audit.VerifyResult:
    with Session(engine) as s:  # verify_chain settles this process's linker first
        return verify_chain(s)


def _sql(engine, statement: str, **params) -> None:
    audit.settle(engine)  # this process's writes linked first (PostgreSQL)
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _assert_one_chain(events: list[AuditEvent]) -> None:
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash, f"link broken at event {after.id}"
        assert after.hash == audit.event_hash(after)
    assert len({e.prev_hash for e in events}) == len(events), "two events share a predecessor"


@pytest.mark.timeout(240)
def test_four_writers_with_rollbacks_keep_one_chain_in_id_order(engine):
    """4 writers, every fifth action rolled back after its event was written: exactly the
    committed events are in the chain, linked in id order, none twice, none missing."""
    writers, per = 4, 40
    start = threading.Barrier(writers)
    errors: list[BaseException] = []
    committed: dict[int, list[int]] = {w: [] for w in range(writers)}

    def work(w: int) -> None:
        try:
            start.wait()
            for i in range(per):
                doomed = (i + w) % 5 == 0
                try:
                    with session_scope(engine) as s:
                        record(s, Actor.user(w + 1), "append.test", "writer", w, {"i": i})
                        if doomed:
                            raise LookupError("the action failed after its event")
                except LookupError:
                    continue
                committed[w].append(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, repr(errors[0])

    events = _events(engine)
    expected = sum(len(v) for v in committed.values())
    assert expected == writers * per * 4 // 5
    assert len(events) == expected
    _assert_one_chain(events)
    seen = {(e.actor_id - 1, int(e.details.split(":")[1].rstrip("}"))) for e in events}
    assert seen == {(w, i) for w, done in committed.items() for i in done}
    with Session(engine) as s:
        head = s.get(AuditChainHead, 1)
    assert (head.last_event_id, head.last_hash, head.event_count) == (
        events[-1].id, events[-1].hash, expected,
    )  # fmt: skip
    result = _verify(engine)
    assert result.ok and result.checked == expected and result.pending == 0, result.describe()


def _pg_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the linker exists on PostgreSQL only (SQLite links in the transaction)")


def test_a_larger_id_never_links_past_a_smaller_one_in_flight(engine, monkeypatch):
    """Writer A draws the smaller id and stays open; writer B commits a larger id. B's link
    must wait for A (and give up after its bounded wait), not link B's event first; A's commit
    then links both, in id order. A rolled-back smaller id leaves a gap, not a break."""
    _pg_only(engine)
    monkeypatch.setattr(audit_link, "LINK_LOCK_TIMEOUT_MS", 50)
    monkeypatch.setattr(audit_link, "LINK_DEADLINE_S", 0.0)  # one attempt
    with session_scope(engine) as s:
        record(s, Actor.system(), "before", "n", 0)
    audit.settle(engine)

    slow = Session(engine, expire_on_commit=False)
    a = record(slow, Actor.user(1), "slow.writer", "n", 1)
    audit.write_pending(slow)  # A draws its id and stays open
    with session_scope(engine) as s:
        b = record(s, Actor.user(2), "fast.writer", "n", 2)
    assert a.id < b.id
    rows = {e.id: e for e in _events(engine)}
    assert a.id not in rows  # not committed: invisible
    assert rows[b.id].hash is None and rows[b.id].prev_hash is None  # waits for A
    result = _verify(engine)
    assert result.ok and result.checked == 1 and result.pending == 1, result.describe()
    assert "1 newest events committed but not linked yet" in result.describe()

    slow.commit()  # A's after-commit link links A, then B
    slow.close()
    events = _events(engine)
    assert [e.id for e in events][-2:] == [a.id, b.id]
    _assert_one_chain(events)
    assert _verify(engine).pending == 0

    # Again, with the smaller id rolled back: B links straight after the last event.
    slow = Session(engine, expire_on_commit=False)
    gone = record(slow, Actor.user(1), "doomed.writer", "n", 3)
    audit.write_pending(slow)
    with session_scope(engine) as s:
        c = record(s, Actor.user(2), "fast.writer", "n", 4)
    assert _verify(engine).pending == 1
    slow.rollback()
    slow.close()
    assert audit.link(engine) == 1
    events = _events(engine)
    assert gone.id not in {e.id for e in events} and events[-1].id == c.id
    _assert_one_chain(events)
    result = _verify(engine)
    assert result.ok and result.checked == 4 and result.pending == 0, result.describe()


def test_a_writer_in_flight_without_an_id_in_range_is_not_waited_for(engine, monkeypatch):
    """Migration 0020 (19-audit-6): when every id up to the sequence is committed, the link
    does not wait for writers in flight — none of them can hold an id it links. A writer
    that took its mark but has not drawn an id (or drew a later one) must not hold up the
    others' links; its own id, drawn later, is linked after them, in order."""
    _pg_only(engine)
    monkeypatch.setattr(audit_link, "LINK_LOCK_TIMEOUT_MS", 50)
    monkeypatch.setattr(audit_link, "LINK_DEADLINE_S", 0.0)  # one attempt: a wait would show
    slow = Session(engine, expire_on_commit=False)
    audit_link.pg_mark(slow.connection())  # marked, no id drawn yet
    with session_scope(engine) as s:
        first = record(s, Actor.user(2), "fast.writer", "n", 1)
    rows = {e.id: e for e in _events(engine)}
    assert rows[first.id].hash is not None, "the link waited for a writer holding no id"
    late = record(slow, Actor.user(1), "slow.writer", "n", 2)
    audit.write_pending(slow)  # draws its id now
    assert late.id > first.id
    slow.commit()
    slow.close()
    events = _events(engine)
    assert [e.id for e in events] == [first.id, late.id]
    _assert_one_chain(events)
    assert _verify(engine).pending == 0


def test_writers_lock_no_longer_blocks_plain_audited_writes(engine):
    """On PostgreSQL ``lock_writers`` is its own lock: an audited write that makes no
    read-then-write decision commits (and links) while another transaction holds it."""
    _pg_only(engine)
    holder = Session(engine)
    audit.lock_writers(holder)
    record(holder, Actor.user(1), "decision.pending", "n", 1)
    audit.write_pending(holder)  # its id drawn first, its transaction open
    done = threading.Event()

    def plain() -> None:
        with session_scope(engine) as s:
            record(s, Actor.user(2), "subject.view", "n", 2)
        done.set()

    thread = threading.Thread(target=plain)
    thread.start()
    finished = done.wait(timeout=60)
    holder.commit()
    holder.close()
    thread.join()
    assert finished, "the audited write waited for the writers' lock"
    audit.link(engine)
    events = _events(engine)
    assert [e.action for e in events] == ["decision.pending", "subject.view"]
    _assert_one_chain(events)


# --- tampering, linked and unlinked rows ----------------------------------------------------


def _append(engine, n: int) -> list[int]:
    ids = []
    for i in range(n):
        with session_scope(engine) as s:
            ids.append(record(s, Actor.system(), "tamper.test", "n", i, {"i": i}).id)
    return ids


def test_a_removed_hash_inside_the_chain_is_a_break(engine):
    ids = _append(engine, 5)
    _sql(engine, "UPDATE audit_event SET hash = NULL, prev_hash = NULL WHERE id = :k", k=ids[2])
    result = _verify(engine)
    # PostgreSQL takes the NULL row for a pending one and breaks at the linked row after it;
    # SQLite, which never stores an unlinked event, breaks at the row itself.
    broken_at = ids[3] if engine.dialect.name == "postgresql" else ids[2]
    assert not result.ok and result.event_id == broken_at and result.checked == 2
    assert "unlinked" in result.problem


def test_a_removed_hash_of_the_newest_event_is_caught_by_the_head(engine):
    """Un-linking the newest event by hand (the head still names it) is not "pending"."""
    ids = _append(engine, 3)
    _sql(engine, "UPDATE audit_event SET hash = NULL, prev_hash = NULL WHERE id = :k", k=ids[-1])
    result = _verify(engine)
    assert not result.ok
    if engine.dialect.name == "sqlite":
        assert "unlinked" in result.problem  # SQLite never stores an unlinked event
    else:
        assert "newest events missing" in result.problem and result.event_id == ids[-1]


def test_edit_reorder_and_delete_of_linked_rows_still_detected(engine):
    ids = _append(engine, 6)
    _sql(engine, "UPDATE audit_event SET entity_id = 'x' WHERE id = :k", k=ids[1])
    assert "edited" in _verify(engine).problem
    _sql(engine, "UPDATE audit_event SET entity_id = '1' WHERE id = :k", k=ids[1])
    assert _verify(engine).ok
    # Reorder: swap the contents of two rows (ids stay in place).
    with engine.begin() as conn:
        a, b = (conn.execute(text("SELECT details, prev_hash, hash FROM audit_event WHERE id = :k"),
                             {"k": k}).one() for k in (ids[2], ids[3]))  # fmt: skip
        for k, row in ((ids[2], b), (ids[3], a)):
            conn.execute(
                text("UPDATE audit_event SET details = :d, prev_hash = :p, hash = :h "
                     "WHERE id = :k"),
                {"d": row[0], "p": row[1], "h": None, "k": k},
            )  # fmt: skip
        for k, row in ((ids[2], b), (ids[3], a)):
            conn.execute(text("UPDATE audit_event SET hash = :h WHERE id = :k"),
                         {"h": row[2], "k": k})  # fmt: skip
    result = _verify(engine)
    assert not result.ok and result.event_id == ids[2] and "reordered" in result.problem


def test_deleting_an_unlinked_event_is_the_documented_window(engine, monkeypatch):
    """Between its commit and its link an event is not yet protected (decision 19-audit-1):
    its deletion then goes unnoticed by the chain; once linked, deletion is caught."""
    _pg_only(engine)
    monkeypatch.setattr(audit_link, "link", lambda *a, **k: 0)  # "dies" after its commit
    ids = _append(engine, 3)
    audit.settle(engine)  # the background linker has made its (patched) calls
    monkeypatch.undo()
    assert _verify(engine).pending == 3
    _sql(engine, "DELETE FROM audit_event WHERE id = :k", k=ids[1])
    assert audit.link(engine) == 2
    result = _verify(engine)
    assert result.ok and result.checked == 2
    _sql(engine, "DELETE FROM audit_event WHERE id = :k", k=ids[0])
    assert not _verify(engine).ok


# --- SIGKILL between the commit and the link, and in the middle of a link --------------------


def _writer_script(n: int) -> str:
    return (
        "from dpa_panel.db import session_scope\n"
        "from dpa_panel.services import audit\n"
        "with session_scope() as s:\n"
        f"    for i in range({n}):\n"
        "        audit.record(s, audit.Actor.system(), 'killed.writer', 'n', i)\n"
    )


_LINKER_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT dpa_audit_link%%'"
    " AND pid <> pg_backend_pid()"
)


def _linker_running(engine) -> bool:
    with engine.connect() as conn:
        return conn.exec_driver_sql(_LINKER_SQL + " AND state = 'active'").scalar() > 0


def _linker_waiting(engine) -> bool:
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            _LINKER_SQL + " AND state = 'active' AND wait_event_type = 'Lock'"
        ).scalar() > 0


@pytest.mark.timeout(600)
def test_sigkill_after_commit_or_inside_a_link_loses_nothing(engine, db_url, tmp_path, capsys):
    _pg_only(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DPA_DATABASE_URL": db_url}
    env.pop("DPA_TEST_PAUSE_AT", None)
    marker = tmp_path / "paused"
    _append(engine, 2)
    # 1. Killed right after its COMMIT, before its link: three events committed, unlinked.
    kill_at_pause_point(["-c", _writer_script(3)], env, "audit-after-commit", marker)
    events = _events(engine)
    assert [e.action for e in events].count("killed.writer") == 3
    assert [e.hash is None for e in events] == [False] * 2 + [True] * 3
    result = _verify(engine)
    assert result.ok and result.checked == 2 and result.pending == 3, result.describe()
    # 2. `audit link` killed inside its link: it has read the sequence and locked the chain
    # head, and waits (in dpa_audit_link) for an audited writer still in flight.
    in_flight = Session(engine)
    record(in_flight, Actor.system(), "in.flight", "n", 9)
    audit.write_pending(in_flight)  # its id drawn, its transaction open
    kill_when(["-m", "dpa_panel.cli", "audit", "link"], env, lambda: _linker_waiting(engine),
              "the linker waiting for the writer")  # fmt: skip
    in_flight.rollback()
    in_flight.close()
    # The killed link's backend ends with it; what it did is one transaction: all or nothing.
    wait_for(lambda: not _linker_running(engine), "the killed linker's backend to end")
    events = _events(engine)
    assert "in.flight" not in [e.action for e in events]
    linked = [e.hash is not None for e in events]
    assert linked in ([True] * 5, [True] * 2 + [False] * 3), linked
    with engine.connect() as conn:  # the killed linker's head lock was released with it
        assert conn.execute(text("SELECT count(*) FROM audit_chain_head")).scalar() == 1
    pending = _verify(engine).pending
    assert pending in (0, 3)
    # 3. The next link links them, in id order; the CLI verify agrees.
    try:
        assert cli.main(["audit", "link"]) == 0
        assert f"{pending} events linked" in capsys.readouterr().out
        assert cli.main(["audit", "verify"]) == 0
        assert "audit chain OK: 5 events verified" in capsys.readouterr().out
    finally:
        dispose_engines()
    _assert_one_chain(_events(engine))


def test_a_released_savepoint_does_not_link_before_the_real_commit(engine, monkeypatch):
    """``after_commit`` also fires when a SAVEPOINT is released (the outbox uses one): the
    transaction, and its writer mark, is still open then, so the link waits for the COMMIT."""
    calls: list[int] = []
    real = audit_link.link
    monkeypatch.setattr(audit_link, "link", lambda bind, **kw: calls.append(kw.get("until")) or
                        real(bind, **kw))  # fmt: skip
    with session_scope(engine) as s:
        event = record(s, Actor.system(), "outer.event", "n", 1)
        with s.begin_nested():
            record(s, Actor.system(), "inner.event", "n", 2)
        assert calls == []
    audit.settle(engine)  # the link runs in this process's background linker
    expected = [] if engine.dialect.name == "sqlite" else [event.id + 1]
    assert calls == expected
    _assert_one_chain(_events(engine))
    assert _verify(engine).pending == 0


def test_the_writer_does_not_wait_and_the_background_linker_links_commits_together(
    engine, monkeypatch
):
    """Decision 19-audit-7: a commit hands its event to the process's linker thread and
    returns without waiting for the link; commits made while the linker is busy are linked
    by its next call, together, in id order; ``settle`` waits for it (and says when it could
    not)."""
    _pg_only(engine)
    release = threading.Event()
    calls: list[int | None] = []
    real = audit_link.link

    def slow_link(bind, **kw):
        calls.append(kw.get("until"))
        assert release.wait(60), "the test never released the linker"
        return real(bind, **kw)

    monkeypatch.setattr(audit_link, "link", slow_link)
    ids = []
    for i in range(20):  # every commit returns while the first link is still held
        with session_scope(engine) as s:
            ids.append(record(s, Actor.user(1), "batched.writer", "n", i).id)
    assert audit.settle(engine, timeout=0.05) is False  # the linker is still busy
    with Session(engine) as s:  # committed and visible, not linked yet
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.id for e in rows] == ids and all(e.hash is None for e in rows)
    release.set()
    assert audit.settle(engine) is True
    assert calls == [ids[0], ids[-1]], "the 19 later commits were not linked by one call"
    events = _events(engine)
    assert [e.id for e in events] == ids
    _assert_one_chain(events)
    result = _verify(engine)
    assert result.ok and result.checked == 20 and result.pending == 0, result.describe()


def test_fast_content_is_byte_for_byte_the_published_hash_content():
    """``verify_chain``/the linker build the hashed text without ``json.dumps``: the same bytes
    for every kind of value (quotes, backslashes, control characters, Kazakh, emoji, null)."""
    import json
    import random

    rng = random.Random(19)
    alphabet = 'aZ09 "\\\n\r\t\x00\x01\x1f\x7f/<>&\'ҚқӘәІі€\u2028\u2029😀{}[]:,'
    for _ in range(2000):
        fields = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
                  for _ in range(8)]  # fmt: skip
        actor_id = rng.choice([None, 0, 7, 2**40])
        values = [fields[0], fields[1], actor_id, *fields[2:8]]
        expected = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        assert audit._content(*values) == expected


def test_the_server_side_linker_hashes_exactly_as_python_verifies(engine):
    """``dpa_audit_link`` (migration 0019) builds and hashes the canonical content in SQL;
    ``verify_chain`` recomputes every hash in Python: awkward text (quotes, backslashes,
    control characters, Kazakh, emoji, U+2028) and a null actor must give the same bytes."""
    import random

    rng = random.Random(5)
    alphabet = 'aZ09 "\\\n\r\t\x01\x1f\x7f/<>&\'ҚқӘәІі€\u2028\u2029😀{}[]:,'

    def awkward() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))

    actors = [Actor.system(), Actor.public(awkward()), Actor.user(7, awkward()),
              Actor.user(2**31 - 1, "")]  # fmt: skip
    with session_scope(engine) as s:
        for i in range(60):
            record(s, actors[i % 4], awkward() or "a", awkward(), awkward(), {awkward(): awkward()})
    events = _events(engine)
    assert len(events) == 60 and all(e.hash is not None for e in events)
    _assert_one_chain(events)
    result = _verify(engine)
    assert result.ok and result.checked == 60 and result.pending == 0, result.describe()
