"""member import (issue 21): imported files and the people each brought in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:00:00.000000

- ``import_batch``: one row per imported spreadsheet (kind ``members``/``applications``, the
  SHA-256 of the file's bytes — unique per kind, so the same file imported again adds nothing —,
  file and sheet name, row counts, who imported it and when).
- ``import_row``: one row per person an import created, keyed by the SHA-256 of their natural
  key (e-mail, folded name, phone) — unique per kind, so a corrected file that repeats people
  already imported adds only the new ones. No personal data in either table.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import dpa_panel.models.types
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("sheet", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("rows_total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rows_imported", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rows_refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rows_skipped", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("consents", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("imported_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('members', 'applications')", name="ck_import_batch_kind"),
        sa.UniqueConstraint("kind", "sha256", name="uq_import_batch_file"),
    )
    op.create_table(
        "import_row",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("natural_key", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), sa.ForeignKey("data_subject.id"), nullable=False),
        sa.UniqueConstraint("kind", "natural_key", name="uq_import_row_key"),
    )
    op.create_index("ix_import_row_subject", "import_row", ["subject_id"])


def downgrade() -> None:
    op.drop_index("ix_import_row_subject", table_name="import_row")
    op.drop_table("import_row")
    op.drop_table("import_batch")
