"""audit events: no unique index on ``hash`` (issue 19, decision 19-audit-8)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 02:10:00.000000

No query looks an event up by its hash (the verifier, the checkpoints and the viewer read by
id). The unique index only cost time: every append inserted a NULL into it, and on
PostgreSQL the linker's UPDATE that fills ``hash`` changed an indexed column, so it could never
be a heap-only (HOT) update and wrote a new entry into all seven indexes of the table for
every event. Without it the link's update touches no index and can stay on its page.

The chain loses nothing: ``audit verify`` recomputes every hash from the event's content and
its predecessor's hash, so two rows with one hash would be a broken link (or a SHA-256
collision), found there as before. SQLite rebuilds the table (its constraint is unnamed: it
is named for the drop by a naming convention), keeping the CHECK and the indexes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: PostgreSQL's own name for the constraint of ``sa.UniqueConstraint("hash")`` (migration
#: 0001); the name the downgrade gives it back on both engines.
_NAME = "audit_event_hash_key"
_NAMING = {"uq": "%(table_name)s_%(column_0_name)s_key"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event DROP CONSTRAINT IF EXISTS {_NAME}")
        return
    with op.batch_alter_table("audit_event", recreate="always",
                              naming_convention=_NAMING) as batch:  # fmt: skip
        batch.drop_constraint(_NAME, type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event ADD CONSTRAINT {_NAME} UNIQUE (hash)")
        return
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        batch.create_unique_constraint(_NAME, ["hash"])
