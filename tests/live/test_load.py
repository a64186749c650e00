"""A short load and isolation run inside the test suite (``make loadtest`` is the full one).

12 sessions for 10 seconds against 2 workers on one port (``python -m dpa_panel.prod
--backend-only`` with ``DPA_WORKERS=2``, a fresh PostgreSQL database and Redis), with the same
assertions as ``make loadtest``: no errors, no lost submissions, no update reaching the wrong
session, p95 event round trip under 500 ms; then a small public-form burst (10/s for 2 s from 4
tabs opened with the others) with none lost. The public form's per-IP rate limit is raised for
this server (``DPA_APPLY_RATE_LIMIT``), because every simulated applicant is 127.0.0.1.
Skipped, with the reason, when PostgreSQL or Redis is not reachable.
"""

from __future__ import annotations

import pytest

from dpa_panel import loadtest


def test_short_load_run_meets_the_targets(tmp_path, capsys):
    reason = loadtest.postgres_unavailable_reason() or loadtest.redis_unavailable_reason()
    if reason:
        pytest.skip(f"the load test needs PostgreSQL and Redis: {reason}")
    lines: list[str] = []
    run = loadtest.run_load(
        sessions=12, duration=10, workers=2, subjects=200, log=lines.append, log_dir=tmp_path,
        burst_rate=10, burst_seconds=2, burst_sessions=4,
    )  # fmt: skip
    table = run.table()
    with capsys.disabled():
        print("\n" + "\n".join(lines) + "\n" + table)
    assert run.results.submitted >= 40, "5 applications per second for 10 seconds"
    # the public-form burst (issue 19): 10/s for 2 s from 4 extra tabs, none lost
    assert run.results.burst_submitted == 20 and run.burst_stored == 20, table
    assert "apply.submit (burst)" in table and "lost 0" in table
    assert len(run.results.burst_lags) == 20 and "burst schedule" in table, table
    # The schedule is judged loosely here (3 s, not make loadtest's 1 s): 4 tabs on a busy
    # 2-core test machine; make loadtest holds the real 50/s burst to 1 s.
    assert run.missed_targets(burst_max_lag_s=3.0) == [], table
