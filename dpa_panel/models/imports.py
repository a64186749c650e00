"""Spreadsheet imports (issue 21): one row per imported file, one per imported person.

``import_batch`` makes an import idempotent at the file level (the SHA-256 of the file's bytes
is unique per kind: the same file again adds nothing), ``import_row`` at the row level (the
natural key of a person — e-mail, name and phone — is unique per kind, so a corrected file
that repeats already imported people adds only the new ones). Neither table holds personal
data itself: the natural key is a SHA-256 digest and the subject id points at the register.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, utcnow

#: What a file imports: people into the member register, or applications in progress.
IMPORT_KINDS = ("members", "applications")


class ImportBatch(SQLModel, table=True):
    """One imported file: who imported it, when, and how many rows went where."""

    __tablename__ = "import_batch"
    __table_args__ = (
        CheckConstraint(_in("kind", IMPORT_KINDS), name="ck_import_batch_kind"),
        UniqueConstraint("kind", "sha256", name="uq_import_batch_file"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)
    sha256: str = Field(max_length=64, description="of the file's bytes")
    filename: str = Field(default="", max_length=200)
    sheet: str = Field(default="", max_length=100)
    rows_total: int = 0
    rows_imported: int = 0
    rows_refused: int = 0
    rows_skipped: int = Field(default=0, description="already imported by an earlier file")
    consents: int = 0
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ImportRow(SQLModel, table=True):
    """One person brought in by an import, keyed by the digest of their natural key."""

    __tablename__ = "import_row"
    __table_args__ = (
        UniqueConstraint("kind", "natural_key", name="uq_import_row_key"),
        Index("ix_import_row_subject", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", nullable=False)
    kind: str = Field(max_length=12)
    row_number: int
    natural_key: str = Field(max_length=64)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
