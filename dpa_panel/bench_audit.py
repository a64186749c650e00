"""``make bench``, group ``audit-append`` (issue 19, the audit part): audited writes with 1, 2
and 4 concurrent writers (processes, like the panel's workers), each action one transaction
(``session_scope`` + ``audit.record``) as a worker of the panel does it; plus, for reference,
the same number of bare write transactions (one tiny INSERT + COMMIT each, no audit), which
shows what the database's own commit (on PostgreSQL: the WAL flush to disk) allows on this
machine at that concurrency.

Every writer appends ``--audit-appends`` / writers events; the line reports events per second
over the whole run (from the first writer's start to the last one's end, which on PostgreSQL
includes its background linker's last link: disposing of its engine waits for it). The chain
is checked after each run (the run's events: linked in id order, none lost, the head moved).
"""

from __future__ import annotations

import multiprocessing

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


def _run_writers(engine: Engine, n_writers: int, work) -> None:
    """``work(engine, w)`` in ``n_writers`` processes (the panel's workers are processes: one
    process's threads would share one interpreter lock and measure Python, not the chain),
    each with an engine of its own; started together, all joined; a failure is raised."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(n_writers)
    url = engine.url.render_as_string(hide_password=False)

    def run(w: int) -> None:
        own = make_engine(url)
        start.wait()
        work(own, w)
        own.dispose()

    procs = [ctx.Process(target=run, args=(w,)) for w in range(n_writers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} bench writer(s) failed (exit codes {failed})")


def _audited(n_writers: int):
    def op(engine: Engine, n: int) -> int:
        per = max(1, n // n_writers)
        with Session(engine) as session:
            before = session.get(AuditChainHead, 1)

        def work(own: Engine, w: int) -> None:
            actor = audit.Actor.user(1 + w, f"10.0.2.{w + 1}")
            for i in range(per):
                with session_scope(own) as session:
                    audit.record(session, actor, "subject.view", "subject", i, {})

        _run_writers(engine, n_writers, work)
        audit.link(engine)  # (a no-op unless a writer's own after-commit link gave up)
        _check_tail(engine, before, per * n_writers)
        return per * n_writers

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


def _bare(n_writers: int):
    def op(engine: Engine, n: int) -> int:
        per = max(1, n // n_writers)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commit_floor (w INT, i INT)"))

        def work(own: Engine, w: int) -> None:
            with own.connect() as conn:
                for i in range(per):
                    conn.execute(text("INSERT INTO bench_commit_floor VALUES (:w, :i)"),
                                 {"w": w, "i": i})  # fmt: skip
                    conn.commit()

        _run_writers(engine, n_writers, work)
        return per * n_writers

    return op


def register(operation) -> None:
    """Add this group's operations to the bench's registry (see ``bench_import.register``)."""
    for n in WRITERS:
        operation(f"audit append, {n} concurrent writer{'s' if n > 1 else ''}",
                  group="audit-append", rate=True)(_audited(n))  # fmt: skip
    for n in WRITERS:
        operation(f"(reference) bare write+commit, {n} writer{'s' if n > 1 else ''}",
                  group="audit-append", rate=True)(_bare(n))  # fmt: skip
