"""Alembic environment: migrates the database named by DPA_DATABASE_URL (or the SQLite default).

A caller (tests, ``dpa-panel migrate``) may pass an explicit URL through
``config.attributes["url"]`` or an open connection through ``config.attributes["connection"]``.
"""

from sqlmodel import SQLModel

import dpa_panel.models  # noqa: F401  (registers every table on the metadata)
from alembic import context
from dpa_panel import settings
from dpa_panel.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("url") or settings.database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes.get("url") or settings.database_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
