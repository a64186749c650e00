"""How ``make loadtest`` judges its public-form burst (issue 19), without a server: a burst is
kept only when no due submission waited a second for a free tab."""

from __future__ import annotations

from dpa_panel import loadtest


def _finished_run(lags: list[float]) -> loadtest.LoadRun:
    run = loadtest.LoadRun(None, sessions=5, duration=1, burst_rate=50, burst_seconds=1,
                           burst_sessions=2, with_disclosures=False)  # fmt: skip
    run.stored = run.burst_stored = run.results.submitted = run.results.burst_submitted = 0
    run.results.timings["apply.submit"] = [0.02, 0.03]
    run.results.burst_lags = lags
    return run


def test_a_burst_that_kept_its_schedule_meets_the_target():
    run = _finished_run([0.0, 0.01, 0.2, 0.95])
    assert run.missed_targets() == []
    assert "waited for a free tab p95" in run.table() and "max 950 ms" in run.table()


def test_a_burst_that_fell_a_second_behind_misses_it():
    run = _finished_run([0.0, 0.4, 1.3])
    (missed,) = run.missed_targets()
    assert "fell behind its 50/s schedule" in missed and "1.3 s" in missed
    assert run.missed_targets(burst_max_lag_s=2.0) == []  # the threshold is the caller's
