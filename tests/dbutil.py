"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per use.

PostgreSQL is used when it answers at ``DPA_TEST_PG_URL`` (default: the local server with
trust auth, database ``test``). A fresh database is created for each use and dropped after, so
tests never see each other's rows and never touch a real database.

A test that wants a database at head gets a copy of one migrated once per run
(``template``): on PostgreSQL ``CREATE DATABASE … TEMPLATE``, on SQLite the backup API.
Running the 20-odd migrations for each of ~700 such tests cost about 0.6 s each (7 minutes
of the suite); the migrations themselves are still run from empty by ``test_migrations`` and
``test_health``, and the copy is the same bytes, statistics included.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "DPA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@lru_cache(maxsize=1)
def pg_unavailable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why the PostgreSQL leg is skipped."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not reachable here"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {first_line}"


@contextmanager
def fresh_database(kind: str, tmp_dir: Path, template: str | None = None) -> Iterator[str]:
    """Yield the URL of a new database of ``kind`` ("sqlite" or "postgresql"): empty, or a
    copy of the database at URL ``template`` (of the same kind; nobody may be connected to
    it)."""
    if kind == "sqlite":
        path = tmp_dir / f"dpa-{uuid.uuid4().hex[:8]}.db"
        if template:
            _copy_sqlite(make_url(template).database, path)
        yield f"sqlite:///{path}"
        return
    name = f"dpa_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy_of = f' TEMPLATE "{make_url(template).database}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        from dpa_panel.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _copy_sqlite(source: str, target: Path) -> None:
    """Copy an SQLite database with its write-ahead log applied (the backup API, not a file
    copy, so a WAL left beside the source is not lost)."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
