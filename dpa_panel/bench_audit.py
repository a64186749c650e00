"""``make bench``, group ``audit-append`` (issue 19, the audit part): audited writes with 1, 2
and 4 concurrent writers (processes, like the panel's workers), each action one transaction
(``session_scope`` + ``audit.record``) as a worker of the panel does it; plus, for reference,
the same number of unaudited write transactions (one tiny INSERT + COMMIT each): bare on one
connection, which shows what the database's own commit (on PostgreSQL: the WAL flush to disk)
allows on this machine at that concurrency, and through ``session_scope``, which shows what the
panel's own transaction path allows before any audit (decision 19-audit-11).

Every writer appends ``--audit-appends`` / writers events; the line reports events per second
of the running writers: the clock starts when every writer process is up and connected (the
panel's workers are long-lived processes with pooled connections: forking a process and its
first connection are not part of any action) and stops when the last writer has ended, which
on PostgreSQL includes its background linker's last link (disposing of its engine waits for
it) and any link left over, so every counted event is linked inside the time. The chain is
then checked, outside the time (the run's events: linked in id order, none lost, the head
moved); until 2026-12-07 the figure also counted the forks, the connections and that check
(decision 19-audit-11).
"""

from __future__ import annotations

import multiprocessing
import threading
import time

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dpa_panel.db import make_engine, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit

WRITERS = (1, 2, 4)
#: The chain the appends extend holds at least this many events (the panel's after a few
#: months): appending to a near-empty table measures the planner's choices for a toy table.
BASE_EVENTS = 100_000


def prepare(engine: Engine) -> None:
    """Bring the chain to ``BASE_EVENTS`` when the run seeded fewer (``--only audit-append``),
    analysed as autovacuum keeps it."""
    from dpa_panel import bench, demo

    with Session(engine) as session:
        head = session.get(AuditChainHead, 1)
    if head.event_count < BASE_EVENTS:
        bench.seed_audit_events(engine, BASE_EVENTS - head.event_count)
        demo.analyze_after_bulk_load(engine, ["audit_event"], vacuum=True)


#: How long the writers may take to start and connect before the run is called failed.
START_TIMEOUT_S = 120.0


def _run_writers(engine: Engine, n_writers: int, work) -> float:
    """``work(engine, w)`` in ``n_writers`` processes (the panel's workers are processes: one
    process's threads would share one interpreter lock and measure Python, not the chain),
    each with an engine of its own, connected before the clock starts; released together, all
    joined; a failure is raised. Returns the seconds from the release to the last writer's
    end (its engine disposed, so on PostgreSQL its linker's last link included)."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(n_writers + 1)  # the writers and this process, which starts the clock
    url = engine.url.render_as_string(hide_password=False)

    def run(w: int) -> None:
        own = make_engine(url)
        with own.connect() as conn:  # a worker of the panel is connected before it serves
            conn.execute(text("SELECT 1"))
        start.wait(START_TIMEOUT_S)
        work(own, w)
        own.dispose()

    procs = [ctx.Process(target=run, args=(w,)) for w in range(n_writers)]
    for proc in procs:
        proc.start()
    try:
        start.wait(START_TIMEOUT_S)
    except threading.BrokenBarrierError:
        for proc in procs:
            proc.kill()
        raise RuntimeError("bench writers did not start") from None
    started = time.perf_counter()
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} bench writer(s) failed (exit codes {failed})")
    return elapsed


def _audited(n_writers: int):
    def op(engine: Engine, n: int) -> tuple[int, float]:
        per = max(1, n // n_writers)
        with Session(engine) as session:
            before = session.get(AuditChainHead, 1)

        def work(own: Engine, w: int) -> None:
            actor = audit.Actor.user(1 + w, f"10.0.2.{w + 1}")
            for i in range(per):
                with session_scope(own) as session:
                    audit.record(session, actor, "subject.view", "subject", i, {})

        elapsed = _run_writers(engine, n_writers, work)
        started = time.perf_counter()
        audit.link(engine)  # (a no-op unless a writer's own after-commit link gave up)
        elapsed += time.perf_counter() - started
        _check_tail(engine, before, per * n_writers)
        return per * n_writers, elapsed

    return op


def _check_tail(engine: Engine, before: AuditChainHead, added: int) -> None:
    """The run's events extend the chain: linked in id order, none lost, the head moved."""
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > before.last_event_id).order_by(AuditEvent.id)
        ).all()
        head = session.get(AuditChainHead, 1)
    prev = before.last_hash
    for event in rows:
        assert event.prev_hash == prev and audit.event_hash(event) == event.hash, event.id
        prev = event.hash
    assert len(rows) == added and head.event_count == before.event_count + added
    assert (head.last_hash, head.last_event_id) == (prev, rows[-1].id)


_FLOOR_INSERT = text("INSERT INTO bench_commit_floor VALUES (:w, :i)")


def _floor_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commit_floor (w INT, i INT)"))


def _bare(n_writers: int):
    """One connection per writer, one tiny INSERT + COMMIT per transaction: the database's
    own ceiling at this concurrency (on PostgreSQL, mostly the WAL flush)."""

    def op(engine: Engine, n: int) -> tuple[int, float]:
        per = max(1, n // n_writers)
        _floor_table(engine)

        def work(own: Engine, w: int) -> None:
            with own.connect() as conn:
                for i in range(per):
                    conn.execute(_FLOOR_INSERT, {"w": w, "i": i})
                    conn.commit()

        return per * n_writers, _run_writers(engine, n_writers, work)

    return op


def _unaudited(n_writers: int):
    """The same tiny INSERT as ``_bare``, but each transaction through ``session_scope`` as a
    panel action runs (a Session, a pooled connection checked out and back): the ceiling of
    the panel's own transaction path at this moment, without the audit. The audited lines
    divided by these show what the chain itself costs, whatever the machine's speed."""

    def op(engine: Engine, n: int) -> tuple[int, float]:
        per = max(1, n // n_writers)
        _floor_table(engine)

        def work(own: Engine, w: int) -> None:
            for i in range(per):
                with session_scope(own) as session:
                    session.execute(_FLOOR_INSERT, {"w": w, "i": i})

        return per * n_writers, _run_writers(engine, n_writers, work)

    return op


def register(operation) -> None:
    """Add this group's operations to the bench's registry (see ``bench_import.register``)."""
    for n in WRITERS:
        operation(f"audit append, {n} concurrent writer{'s' if n > 1 else ''}",
                  group="audit-append", rate=True)(_audited(n))  # fmt: skip
    for n in WRITERS:
        operation(f"(reference) bare write+commit, {n} writer{'s' if n > 1 else ''}",
                  group="audit-append", rate=True)(_bare(n))  # fmt: skip
    for n in WRITERS:
        operation(f"(reference) session_scope, no audit, {n} writer{'s' if n > 1 else ''}",
                  group="audit-append", rate=True)(_unaudited(n))  # fmt: skip
