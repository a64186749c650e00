"""readable and accessible pages (issue 18) — reserved

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:00:00.000000

Reserved so that parallel work can add its schema change without renumbering; a revision that
changes nothing is a valid step (upgrade and downgrade are no-ops until filled in).
"""

from collections.abc import Sequence

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
