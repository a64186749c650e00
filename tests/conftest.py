"""Shared fixtures: dual-engine databases (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

from contextlib import ExitStack

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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """``kind -> URL`` of a database migrated to head once per run, copied by ``db_url``."""
    made: dict[str, str] = {}
    with ExitStack() as stack:

        def template(kind: str) -> str:
            if kind not in made:
                folder = tmp_path_factory.mktemp(f"template-{kind}")
                url = stack.enter_context(fresh_database(kind, folder))
                migrate.upgrade(url)
                made[kind] = url
            return made[kind]

        yield template


@pytest.fixture
def db_url(db_kind, tmp_path, monkeypatch, migrated_template):
    """A database at head (a copy of this run's migrated template); also made the app's
    configured database."""
    with fresh_database(db_kind, tmp_path, template=migrated_template(db_kind)) as url:
        monkeypatch.setenv("DPA_DATABASE_URL", url)
        yield url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def staff(engine):
    """A staff member acting from the office (the pipeline and submission tests; a module
    may define its own ``staff``)."""
    from dpa_panel.services.audit import Actor
    from tests.pipeline_helpers import make_staff

    return Actor.user(make_staff(engine, "aizhan"), "10.0.0.5")


# The live server fixture is shared by tests/live and tests/browser.
from tests.live_server import live_server  # noqa: E402, F401
