"""sweep and search speed on PostgreSQL (issue 19) — reserved

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:00:00.000000

Reserved so that parallel work can add its schema change without renumbering; a revision that
changes nothing is a valid step (upgrade and downgrade are no-ops until filled in).
"""

from collections.abc import Sequence

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
