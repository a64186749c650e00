"""audit write path (issue 19): events may wait unlinked for the chain linker (PostgreSQL)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:00:00.000000

On PostgreSQL an audited transaction now inserts its event with ``prev_hash`` and ``hash``
still NULL, and the linker (``services/audit.py``) fills them in id order right after the
commit, so no writer holds the chain lock across its commit. Both columns become nullable
(a metadata-only change on PostgreSQL; SQLite rebuilds the table, keeping its reflected
CHECK, unique constraint and indexes). SQLite keeps linking inside the writer's transaction and never stores a NULL.
Existing rows and their hashes are untouched: the hash definition does not change.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _nullable(value: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        verb = "DROP" if value else "SET"
        op.execute(
            f"ALTER TABLE audit_event ALTER COLUMN prev_hash {verb} NOT NULL, "
            f"ALTER COLUMN hash {verb} NOT NULL"
        )
        return
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=value)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=value)


def upgrade() -> None:
    _nullable(True)


def downgrade() -> None:
    bind = op.get_bind()
    pending = bind.execute(sa.text("SELECT count(*) FROM audit_event WHERE hash IS NULL")).scalar()
    if pending:
        raise RuntimeError(
            f"{pending} audit events are not linked yet: run `dpa-panel audit link` first"
        )
    _nullable(False)
