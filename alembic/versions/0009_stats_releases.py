"""board statistics releases (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:00:00.000000

The board sees statistics only as frozen monthly releases (``stats_release``) whose every cell
is stored (``stats_release_cell``: value or hidden, and the true value the audit of later
releases needs). Mirrored in ``dpa_panel/models/stats_release.py``.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from dpa_panel.models.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.UniqueConstraint("period", name="uq_stats_release_period"),
    )
    op.create_table(
        "stats_release_cell",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("stats_release.id"), nullable=False),
        sa.Column("table_code", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("row_code", sa.String(length=48), nullable=False),
        sa.Column("col_code", sa.String(length=48), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("true_value", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "release_id", "table_code", "period", "row_code", "col_code",
            name="uq_stats_release_cell",
        ),
    )  # fmt: skip
    op.create_index("ix_stats_release_cell_release_id", "stats_release_cell", ["release_id"])
    op.create_index(
        "ix_stats_release_cell_table", "stats_release_cell", ["table_code", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_stats_release_cell_table", table_name="stats_release_cell")
    op.drop_index("ix_stats_release_cell_release_id", table_name="stats_release_cell")
    op.drop_table("stats_release_cell")
    op.drop_table("stats_release")
