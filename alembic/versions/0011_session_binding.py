"""session-bound tickets and tab tokens (issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:00:00.000000

Reserved in the revision chain for this feature; its schema change is written here.
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

