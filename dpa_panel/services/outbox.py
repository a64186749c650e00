"""The outbox: every e-mail the panel sends is first a row in ``outbox_message``, written in
the same transaction as the change that caused it, then delivered by ``deliver`` (run by
``dpa-panel notify`` from a systemd timer). Nothing is lost while the mail server is down:
a failed attempt is retried with exponential back-off (1, 2, 4 … minutes, at most 6 hours
apart) and after ``MAX_ATTEMPTS`` the message is marked ``failed`` and listed on the admin
settings page, where it can be queued again.

Producers (request reminders today; breach deadlines and applicant acknowledgements later)
call ``enqueue`` with a ``dedupe_key`` to be idempotent: a key already in the outbox (sent
or not) is not queued twice.

Delivery is at-least-once: messages are marked sent after the SMTP server accepted them, in
batches; a crash between the two can send a message of that batch again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as _pg_insert
from sqlalchemy.dialects.sqlite import insert as _sqlite_insert
from sqlmodel import Session

from dpa_panel.models import OutboxMessage
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.mail import SmtpConfig, SmtpSender, build_message

_OUTBOX = OutboxMessage.__table__
#: ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``, built once per dialect.
_ENQUEUE = {
    name: dialect_insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_OUTBOX.c.id)
    for name, dialect_insert in (("postgresql", _pg_insert), ("sqlite", _sqlite_insert))
}
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
BATCH = 200
ERROR_MAX = 500


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1 min, 2, 4, … capped at 6 h."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


def enqueue(
    session: Session,
    *,
    purpose: str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str | None = None,
    recipient_user_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one e-mail; None (nothing queued) when ``dedupe_key`` is already in the outbox.

    One statement (issue 19: the public form queues its acknowledgement on every submission):
    ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` on both engines, so a key
    already queued — by an earlier call or by a concurrent producer — queues nothing, without
    a read first or a savepoint. The returned message is a plain record of what was queued
    (its ``id`` set), not an object attached to the session."""
    now = now or utcnow()
    values = {
        "purpose": purpose[:32], "dedupe_key": dedupe_key, "recipient": recipient[:300],
        "recipient_user_id": recipient_user_id, "subject": subject[:300], "body": body,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
    }  # fmt: skip
    statement = _ENQUEUE[session.get_bind().dialect.name]
    new_id = session.connection().execute(statement, values).scalar()
    if new_id is None:
        return None
    return OutboxMessage(id=new_id, **values)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    waiting: int = 0
    configured: bool = True

    def describe(self) -> str:
        if not self.configured:
            return (
                f"DPA_SMTP_URL is not set: {self.waiting} message(s) kept in the outbox "
                "(they are sent once SMTP is configured)"
            )
        return (
            f"sent {self.sent}, failed attempts {self.failed_attempts} "
            f"(given up: {self.given_up}), still waiting {self.waiting}"
        )


def _due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )


def _failed(message: OutboxMessage, error: str, now: datetime, report: DeliveryReport) -> None:
    message.attempts += 1
    message.last_error = error[:ERROR_MAX]
    report.failed_attempts += 1
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        report.given_up += 1
    else:
        message.next_attempt_at = now + backoff(message.attempts)


def deliver(
    session_factory: Callable[[], object],
    config: SmtpConfig | None,
    *,
    now: datetime | None = None,
    sender_factory: Callable[[SmtpConfig], SmtpSender] = SmtpSender,
) -> DeliveryReport:
    """Send every pending message whose time has come, ``BATCH`` per SMTP connection and per
    transaction (``session_factory()`` is a context manager giving a session, e.g.
    ``db.session_scope``). Without ``config`` nothing is sent and the report says how many
    wait."""
    now = now or utcnow()
    report = DeliveryReport(configured=config is not None)
    if config is None:
        with session_factory() as session:
            report.waiting = pending_count(session)
        return report
    seen: set[int] = set()
    while True:
        with session_factory() as session:
            batch = [m for m in _due(session, now, BATCH) if m.id not in seen]
            if not batch:
                report.waiting = pending_count(session)
                return report
            seen.update(m.id for m in batch)
            try:
                with sender_factory(config) as sender:
                    for message in batch:
                        try:
                            sender.send(
                                build_message(config, message.recipient, message.subject,
                                              message.body)
                            )  # fmt: skip
                        except Exception as exc:  # one refused recipient: the rest go on
                            _failed(message, f"{type(exc).__name__}: {exc}", now, report)
                            continue
                        message.status, message.sent_at = "sent", utcnow()
                        message.last_error = ""
                        report.sent += 1
            except Exception as exc:  # no connection, TLS or login failure: the whole batch
                for message in batch:
                    if message.status == "pending" and message.sent_at is None:
                        _failed(message, f"{type(exc).__name__}: {exc}", now, report)
            for message in batch:
                session.add(message)


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    problems: list[OutboxMessage]


def outbox_status(session: Session, limit: int = 20) -> OutboxStatus:
    """Counts per status and the latest messages that failed at least once (settings page)."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    problems = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.last_error != "", OutboxMessage.status != "sent")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    return OutboxStatus({k: int(counts.get(k, 0)) for k in ("pending", "sent", "failed")},
                        problems)  # fmt: skip


def retry(session: Session, actor: Actor, message_id: int, *, now: datetime | None = None
          ) -> OutboxMessage:  # fmt: skip
    """Queue a failed message again (after the mail server was fixed), attempts reset."""
    now = now or utcnow()
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != "failed":
        raise ServiceError("outbox.not_failed")
    message.status, message.attempts, message.next_attempt_at = "pending", 0, now
    session.add(message)
    session.flush()
    audit.record(session, actor, "outbox.retried", "outbox_message", message.id,
                 {"purpose": message.purpose})  # fmt: skip
    return message
