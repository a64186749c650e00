"""sweep and search speed on PostgreSQL (issue 19)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:00:00.000000

- ``ix_subject_code_subject``: the sweep deletes a destroyed subject's privacy-centre codes by
  ``subject_id``, the one foreign key a destruction DELETE filters on that had no index (the
  DELETE read the whole ``subject_code`` table once per batch).
- ``ANALYZE`` on PostgreSQL: planner statistics for every table after the upgrade (a restored or
  bulk-loaded database otherwise runs its first plans on default estimates). ``migrate.upgrade``
  also analyses after any upgrade that applied a revision.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_subject_code_subject", "subject_code", ["subject_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE subject_code")


def downgrade() -> None:
    op.drop_index("ix_subject_code_subject", table_name="subject_code")
