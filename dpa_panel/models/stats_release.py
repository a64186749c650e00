"""Published board-statistics releases (issue 14): frozen, never recomputed for the board.

A release covers one closed Asia/Almaty calendar month (``period`` = ``YYYYMM``); its cells are
the month's tables and, for a quarter's or year's last month, the quarter's or year's tables,
all computed from one snapshot when it was published. The board reads ``value``/``hidden``
only. ``true_value`` is what the database said at publication; the audit of every later
release needs it (it proves that no published number ever narrows an earlier hidden cell) and
no board path reads it (``services.stats_releases.board_cells`` selects published columns).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dpa_panel.models.types import UTCDateTime, utcnow


class StatsRelease(SQLModel, table=True):
    """One published release: its month, threshold and every choice it was made with."""

    __tablename__ = "stats_release"
    __table_args__ = (UniqueConstraint("period", name="uq_stats_release_period"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The Almaty calendar month covered, ``YYYYMM``.
    period: int = Field(nullable=False)
    #: The threshold the release was protected with (``DPA_STATS_K`` at publication).
    k: int = Field(nullable=False)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: Staff account that published it; NULL for the scheduled ``dpa-panel stats publish``.
    published_by: int | None = Field(default=None, foreign_key="staff_user.id")
    #: JSON: rare-category folding, tables, audit summary (rounds, cells hidden, seconds).
    choices: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class StatsReleaseCell(SQLModel, table=True):
    """One cell of a release: ``value`` is NULL exactly when ``hidden``.

    ``visible`` is false for the audit's *implied* cells (joins and leavers per category,
    consents granted per purpose, new subjects): never shown or exported, but modelled
    because the differences of published stocks imply them.
    """

    __tablename__ = "stats_release_cell"
    __table_args__ = (
        UniqueConstraint(
            "release_id", "table_code", "period", "row_code", "col_code",
            name="uq_stats_release_cell",
        ),
        Index("ix_stats_release_cell_table", "table_code", "period"),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="stats_release.id", nullable=False, index=True)
    table_code: str = Field(max_length=48, nullable=False)
    #: ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.
    period: str = Field(max_length=8, nullable=False)
    row_code: str = Field(max_length=48, nullable=False)
    col_code: str = Field(max_length=48, nullable=False)
    value: int | None = Field(default=None)
    hidden: bool = Field(default=False, nullable=False)
    visible: bool = Field(default=True, nullable=False)
    true_value: int = Field(nullable=False)
