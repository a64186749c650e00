"""Run Alembic migrations programmatically (used by the CLI, ``make run`` and the tests)."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from dpa_panel import settings
from dpa_panel.db import make_engine


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(settings.PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(settings.PROJECT_ROOT / "alembic"))
    cfg.attributes["url"] = url or settings.database_url()
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Upgrade; on PostgreSQL, ``ANALYZE`` afterwards when a revision was applied (migrations
    add and move rows; until autovacuum gets to it the planner would use stale counts)."""
    before = current_revision(url)
    command.upgrade(alembic_config(url), revision)
    if current_revision(url) != before:
        analyze(url)


def analyze(url: str | None = None, tables: tuple[str, ...] = ()) -> None:
    """``ANALYZE`` (all tables, or ``tables``) on PostgreSQL, after a bulk load or a migration;
    SQLite plans without statistics tables here, so nothing to do."""
    from sqlalchemy import text

    engine = make_engine(url or settings.database_url())
    try:
        if engine.dialect.name != "postgresql":
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables or ("",):
                conn.execute(text(f"ANALYZE {table}".strip()))
    finally:
        engine.dispose()


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    engine = make_engine(url or settings.database_url())
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
