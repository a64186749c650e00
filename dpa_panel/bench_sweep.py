"""``make bench``'s retention-sweep preparation (issue 19).

The sweep runs last among the subject groups, after ``subjects-write`` added rows nobody
analysed; a real installation has autovacuum's statistics by the nightly sweep, so the bench
analyses the tables the sweep reads and writes (PostgreSQL; nothing on SQLite) after making
its 10,000 subjects due — the sweep is then measured as it runs in production.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

#: The tables the sweep reads and writes.
SWEEP_TABLES = [
    "data_subject", "membership_application", "application_event", "consent", "member",
    "subject_request", "legal_hold", "access_package", "subject_code", "subject_session",
    "destruction_act", "audit_event",
]  # fmt: skip


def prepare(engine: Engine, n: int) -> int:
    """Make ``n`` subjects due (``bench._prepare_sweep``), then ANALYZE the sweep's tables."""
    from dpa_panel import bench, demo

    due = bench._prepare_sweep(engine, n)
    demo.analyze_after_bulk_load(engine, SWEEP_TABLES)
    return due
