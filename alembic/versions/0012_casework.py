"""casework: request history, outbox, calendar overrides (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 00:00:00.000000

- ``holiday`` gains ``kind`` (public ``holiday`` / ``religious`` day off / decreed weekday
  ``day_off`` / decreed weekend ``working_day``) and ``confirmed`` (movable dates). Orthodox
  Christmas and Kurban Ait become ``religious`` (Labour Code Art. 84 p. 5: days off that the
  transfer rule of the Law "On holidays" Art. 5 does not move); Kurban Ait 2027 is unconfirmed.
  The decreed transfer of 2025 (Fri 3 January off, Sun 5 January worked) is seeded. Days that
  follow from the transfer rule itself (e.g. 2025-03-10) are computed, not stored.
- ``request_deadline`` gains ``pause_stops_clock`` (default false); rectification, blocking and
  destruction count from receipt like every other kind (issue 16, docs/decisions.md).
- ``subject_request`` gains ``paused_at``, ``pause_reason``, ``search_text`` (backfilled) and
  the status ``withdrawn``; ``request_event`` keeps each request's history (backfilled from
  what the rows already say: received, identity checked, answered/refused).
- ``staff_user.email`` and ``staff_user.language``: where and in which language the account's
  reminders are sent.
- ``outbox_message``: outgoing e-mail with retries (``services.outbox``).
"""

import json
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel

import dpa_panel.models.types
from alembic import op
from dpa_panel.models.subject import fold_for_search

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copies of the vocabularies at this revision.
OLD_STATUSES = ("received", "identity_check", "in_progress", "answered", "refused")
STATUSES = OLD_STATUSES + ("withdrawn",)
ENTRY_KINDS = ("holiday", "religious", "day_off", "working_day")
EVENT_KINDS = (
    "received", "identity_verified", "paused", "resumed", "assigned", "noted", "answered",
    "refused", "withdrawn", "reopened", "due_changed",
)  # fmt: skip
OUTBOX_STATUSES = ("pending", "sent", "failed")


def _in(column: str, values) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


RELIGIOUS_SOURCE = (
    "Labour Code of the RK Art. 84 p. 5: a day off; not moved by the transfer rule "
    "(Law \"On holidays in the RK\" Art. 5 covers state and national holidays only)"
)
KURBAN_UNCONFIRMED = RELIGIOUS_SOURCE + "; movable date, estimate until the government publishes it"
DECREE_2025 = (
    "Order of the Minister of Labour and Social Protection of the RK (announced November 2024): "
    "the day off of Sunday 5 January 2025 moved to Friday 3 January (Labour Code Art. 85 p. 3)"
)
#: day, name, kind, source
OVERRIDES = [
    (date(2025, 1, 3), "Демалыс күні ауыстырылды / Перенесённый выходной", "day_off", DECREE_2025),
    (date(2025, 1, 5), "Жұмыс күні (жексенбі) / Рабочее воскресенье", "working_day", DECREE_2025),
]
KURBAN = {date(2025, 6, 6): True, date(2026, 5, 27): True, date(2027, 5, 16): False}
REBASED_KINDS = ("rectification", "blocking", "destruction")


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("holiday", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16),
                      server_default="holiday", nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("confirmed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    for year in (2025, 2026, 2027):
        bind.execute(
            sa.text("UPDATE holiday SET kind = 'religious', source = :s WHERE day = :d"),
            {"s": RELIGIOUS_SOURCE, "d": date(year, 1, 7)},
        )
    for day, confirmed in KURBAN.items():
        bind.execute(
            sa.text(
                "UPDATE holiday SET kind = 'religious', confirmed = :c, source = :s WHERE day = :d"
            ),
            {"c": confirmed, "s": RELIGIOUS_SOURCE if confirmed else KURBAN_UNCONFIRMED, "d": day},
        )
    holiday = sa.table(
        "holiday", sa.column("day", sa.Date), sa.column("name", sa.String),
        sa.column("source", sa.String), sa.column("kind", sa.String),
        sa.column("confirmed", sa.Boolean),
    )  # fmt: skip
    existing = {str(d)[:10] for d in bind.execute(sa.text("SELECT day FROM holiday")).scalars()}
    rows = [
        {"day": d, "name": n, "kind": k, "source": s, "confirmed": True}
        for d, n, k, s in OVERRIDES
        if d.isoformat() not in existing
    ]
    if rows:
        op.bulk_insert(holiday, rows)
    with op.batch_alter_table("holiday", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_holiday_kind", sa.text(_in("kind", ENTRY_KINDS)))

    with op.batch_alter_table("request_deadline", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pause_stops_clock", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    bind.execute(
        sa.text(
            "UPDATE request_deadline SET counted_from = 'received' "
            f"WHERE {_in('kind', REBASED_KINDS)}"
        )
    )

    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254),
                      server_default="", nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2),
                      server_default="kk", nullable=False)
        )  # fmt: skip

    with op.batch_alter_table("subject_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused_at", dpa_panel.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(length=300),
                      server_default="", nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(length=700),
                      server_default="", nullable=False)
        )  # fmt: skip
        batch_op.drop_constraint("ck_request_status", type_="check")
        batch_op.create_check_constraint("ck_request_status", sa.text(_in("status", STATUSES)))
        batch_op.create_index("ix_request_received", ["received_at", "id"], unique=False)
        batch_op.create_index(
            "ix_request_status_received", ["status", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_request_assignee_status", ["assignee_id", "status"], unique=False
        )

    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.CheckConstraint(_in("kind", EVENT_KINDS), name="ck_request_event_kind"),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["subject_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_request_event_request", "request_event", ["request_id", "id"])

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("recipient_user_id", sa.Integer(), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", dpa_panel.models.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(_in("status", OUTBOX_STATUSES), name="ck_outbox_status"),
        sa.ForeignKeyConstraint(["recipient_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at"])
    _backfill_requests(bind)


def _backfill_requests(bind) -> None:
    """``search_text`` and the history entries the existing rows already prove."""
    rows = bind.execute(
        sa.text(
            "SELECT id, reference, requester, contact, received_at, created_by_id, "
            "identity_verified_at, identity_verified_by_id, status, answered_at "
            "FROM subject_request"
        )
    ).all()
    events = []
    for r in rows:
        text = "\n".join(fold_for_search(v or "") for v in (r.reference, r.requester, r.contact))
        bind.execute(
            sa.text("UPDATE subject_request SET search_text = :t WHERE id = :i"),
            {"t": text, "i": r.id},
        )
        events.append((r.id, "received", r.received_at, r.created_by_id))
        if r.identity_verified_at is not None:
            events.append((r.id, "identity_verified", r.identity_verified_at,
                           r.identity_verified_by_id))  # fmt: skip
        if r.status in ("answered", "refused") and r.answered_at is not None:
            events.append((r.id, r.status, r.answered_at, None))
    if events:
        table = sa.table(
            "request_event", sa.column("request_id", sa.Integer), sa.column("kind", sa.String),
            sa.column("at", dpa_panel.models.types.UTCDateTime()),
            sa.column("actor_id", sa.Integer), sa.column("text", sa.Text),
            sa.column("data", sa.Text),
        )  # fmt: skip
        op.bulk_insert(
            table,
            [
                {"request_id": i, "kind": k, "at": at, "actor_id": a, "text": "",
                 "data": json.dumps({"backfilled": True})}
                for i, k, at, a in events
            ],
        )  # fmt: skip


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_outbox_due", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_index("ix_request_event_request", table_name="request_event")
    op.drop_table("request_event")
    # A withdrawn request becomes refused (the older schema has no such status).
    bind.execute(sa.text("UPDATE subject_request SET status = 'refused' "
                         "WHERE status = 'withdrawn'"))  # fmt: skip
    with op.batch_alter_table("subject_request", schema=None) as batch_op:
        batch_op.drop_index("ix_request_assignee_status")
        batch_op.drop_index("ix_request_status_received")
        batch_op.drop_index("ix_request_received")
        batch_op.drop_constraint("ck_request_status", type_="check")
        batch_op.create_check_constraint(
            "ck_request_status", sa.text(_in("status", OLD_STATUSES))
        )
        batch_op.drop_column("search_text")
        batch_op.drop_column("pause_reason")
        batch_op.drop_column("paused_at")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("email")
    with op.batch_alter_table("request_deadline", schema=None) as batch_op:
        batch_op.drop_column("pause_stops_clock")
    bind.execute(
        sa.text("DELETE FROM holiday WHERE kind IN ('day_off', 'working_day')")
    )
    with op.batch_alter_table("holiday", schema=None) as batch_op:
        batch_op.drop_constraint("ck_holiday_kind", type_="check")
        batch_op.drop_column("confirmed")
        batch_op.drop_column("kind")
