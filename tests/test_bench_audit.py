"""``make bench``'s audit-append group (issue 19) measures what it says, on both engines.

The group's figures decide whether issue 19's write-throughput goals are met, so its own
mechanics are tested: each writer process writes its share, every counted event is linked into
the chain before the clock stops (the group's own check would raise otherwise), the references
write exactly their rows, and a writer that fails makes the line fail instead of printing a
rate over fewer events. Speed itself is not asserted (the machine decides it).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from dpa_panel import bench_audit
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit


def _head(engine) -> AuditChainHead:
    with Session(engine) as session:
        return session.get(AuditChainHead, 1)


def test_the_audited_line_counts_only_events_linked_inside_its_time(engine):
    before = _head(engine)

    done, seconds = bench_audit._audited(2)(engine, 41)

    assert done == 40  # 2 writers x 20 (the remainder is not written, so not counted)
    assert seconds > 0
    head = _head(engine)
    assert head.event_count == before.event_count + 40
    with Session(engine) as session:
        unlinked = session.scalar(select(func.count()).where(AuditEvent.hash.is_(None)))
        actors = set(session.scalars(select(AuditEvent.actor_id).where(
            AuditEvent.id > before.last_event_id)))  # fmt: skip
        assert unlinked == 0
        assert actors == {1, 2}  # both writer processes wrote
        assert audit.verify_chain(session).ok


@pytest.mark.parametrize("reference", [bench_audit._bare, bench_audit._unaudited])
def test_the_reference_lines_write_exactly_their_rows(engine, reference):
    done, seconds = reference(2)(engine, 30)

    assert (done, seconds > 0) == (30, True)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT w, count(*) FROM bench_commit_floor GROUP BY w")).all()
    assert sorted(rows) == [(0, 15), (1, 15)]


def test_a_failing_writer_fails_the_line(engine):
    def work(own, w):
        if w == 1:
            raise RuntimeError("a writer's transaction failed")

    with pytest.raises(RuntimeError, match="1 bench writer"):
        bench_audit._run_writers(engine, 2, work)


def test_the_machine_line_times_the_same_work_every_run(monkeypatch, capsys):
    """``make bench`` prints the machine's speed first (the work of ``MACHINE_UNITS`` audit
    hashes), so runs of different days can be compared by it; the work is the audit hash's
    own content and digest, so it cannot be optimised away from the panel's."""
    from dpa_panel import bench

    calls = []
    real = audit._content
    monkeypatch.setattr(bench, "MACHINE_UNITS", 50)
    monkeypatch.setattr(audit, "_content", lambda *a: calls.append(a) or real(*a))
    assert bench.machine_reference_ms(runs=3) > 0
    assert len(calls) == 150
    monkeypatch.setattr(bench, "run", lambda *a, **k: [])
    monkeypatch.setattr(bench, "_pg_reachable", lambda url: "not asked")
    bench.main(["--runs", "1"])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("(reference) this machine: CPU work unit") and "N=50 " in first


def test_a_goal_stated_per_count_gets_its_time_at_the_measured_rate(monkeypatch, capsys):
    """The sweep's goal is "10,000 subjects in < 10 s" but it destroys the seed's own due
    subjects too (14,081 in ``make bench``): its line is followed by the time 10,000 take at
    the measured rate, computed from that run's count and seconds (not a constant)."""
    from dpa_panel import bench

    assert bench.OPERATIONS["retention sweep (10,000 due subjects)"].per == 10_000
    assert bench._per_line("sweep", "sqlite", 10_000, 14_000, 7.0).split()[-2:] == ["5.00", "s"]
    fake = {"fake sweep": bench.Operation(lambda e, n: (20_000, 4.0), "retention-sweep",
                                          rate=True, per=10_000)}  # fmt: skip
    monkeypatch.setattr(bench, "OPERATIONS", fake)
    from dpa_panel import bench_sweep

    monkeypatch.setattr(bench_sweep, "prepare", lambda engine, n: n)
    bench.run("sqlite", 5, 1, "", audit_events=0, audit_appends=0, disclosures=0, requests=0,
              only=("retention-sweep",))  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    rate = next(i for i, line in enumerate(lines) if line.startswith("fake sweep "))
    assert "5000 events/s (4.00 s, 1 run)" in lines[rate]
    assert lines[rate + 1].startswith("fake sweep: 10,000 at this rate")
    assert lines[rate + 1].split()[-2:] == ["2.00", "s"]
