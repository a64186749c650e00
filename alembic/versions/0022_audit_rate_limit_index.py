"""audit events: a partial index for the public form's rate limit (issue 19, 19-submit-3)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:40:00.000000

Each public submission counts the submissions of its client address in the last hour. No
index matched that count: PostgreSQL read it through ``ix_audit_occurred`` and filtered
every audit event of the hour (6,017 rows and 8,823 buffers, 5.7 ms, after one writer's
6,000 actions; 24.6 ms per submission in the bench after its audit groups), so the public
form slowed down with everything the staff did. The index holds only the two counted
actions, keyed by address and time: the count reads the address's own entries (0.02 ms),
and no other audited write maintains it. SQLite gets the same partial index.
"""

from collections.abc import Sequence

from sqlalchemy import text

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``models.audit.RATE_LIMITED_SQL`` as of this revision.
_CONDITION = "action IN ('application.submitted', 'application.duplicate_refused')"


def upgrade() -> None:
    op.create_index("ix_audit_rate_limit", "audit_event", ["client_ip", "occurred_at"],
                    postgresql_where=text(_CONDITION), sqlite_where=text(_CONDITION))  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_audit_rate_limit", table_name="audit_event")
