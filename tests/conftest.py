"""Shared fixtures: dual-engine databases (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import pytest

from dpa_panel import migrate
from dpa_panel.db import make_engine
from tests.dbutil import fresh_database, pg_unavailable_reason

ENGINES = ["sqlite", "postgresql"]


def pytest_report_header(config):
    reason = pg_unavailable_reason()
    if reason:
        return [f"PostgreSQL leg: SKIPPED — {reason}"]
    return ["PostgreSQL leg: enabled (every database test runs on SQLite and PostgreSQL)"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reason = pg_unavailable_reason()
    if reason:
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL leg was skipped: {reason}", yellow=True, bold=True
        )


@pytest.fixture(params=ENGINES)
def db_kind(request) -> str:
    if request.param == "postgresql" and (reason := pg_unavailable_reason()):
        pytest.skip(reason)
    return request.param


@pytest.fixture
def empty_db_url(db_kind, tmp_path):
    """URL of a brand-new empty database on each engine."""
    with fresh_database(db_kind, tmp_path) as url:
        yield url


@pytest.fixture
def db_url(empty_db_url, monkeypatch):
    """A database migrated to head; also made the app's configured database."""
    migrate.upgrade(empty_db_url)
    monkeypatch.setenv("DPA_DATABASE_URL", empty_db_url)
    return empty_db_url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# The live server fixture is shared by tests/live and tests/browser.
from tests.live_server import live_server  # noqa: E402, F401
