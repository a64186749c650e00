"""``make bench``, groups ``requests`` and ``requests-notify`` (issue 16): the data-subject
request register over ``REQUESTS`` requests seeded in bulk, and the due-date reminders delivered
through a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dpa_panel import demo, settings
from dpa_panel.db import session_scope
from dpa_panel.models import DataSubject
from dpa_panel.models.types import almaty_month

REQUESTS = 20_000
REMINDERS = 1_000


def seed_requests(engine: Engine, n: int = REQUESTS, *, seed: int = 16) -> int:
    """``n`` requests in bulk over two years (kinds and statuses mixed, a third linked to a
    subject, some assigned), with their search copies — a very busy register."""
    from dpa_panel.models import StaffUser, SubjectRequest
    from dpa_panel.models.requests import compose_request_search_text
    from dpa_panel.models.vocab import REQUEST_KINDS

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        staff = list(conn.execute(select(StaffUser.__table__.c.id)).scalars())
        subject_ids = list(conn.execute(select(DataSubject.__table__.c.id).limit(20_000)).scalars())
        first = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM subject_request")).scalar()
                 or 0) + 1  # fmt: skip
        statuses = ["received", "identity_check", "in_progress", "answered", "refused",
                    "withdrawn"]  # fmt: skip
        rows = []
        for i in range(first, first + n):
            status = rng.choices(statuses, weights=[5, 3, 7, 70, 10, 5])[0]
            received = now - timedelta(days=rng.randint(0, 730), minutes=rng.randint(0, 900))
            due = received.date() + timedelta(days=rng.randint(1, 21))
            closed = status in ("answered", "refused", "withdrawn")
            row = dict(
                id=i, reference=f"R-{received.year}-{i:06d}", kind=rng.choice(REQUEST_KINDS),
                subject_id=rng.choice(subject_ids) if rng.random() < 0.33 else None,
                requester=f"Бенч Өтініш Беруші {i}", contact=f"bench{i}@mail.kz",
                received_at=received, channel="email", identity_method="",
                due_date=due, status=status,
                assignee_id=rng.choice(staff) if rng.random() < 0.5 else None,
                details="", notes="", answer="", refusal_reason="", pause_reason="",
                answered_at=received + timedelta(days=rng.randint(0, 20)) if closed else None,
                created_at=received, updated_at=received, received_month=almaty_month(received),
            )  # fmt: skip
            row["search_text"] = compose_request_search_text(type("R", (), row))
            rows.append(row)
        for start in range(0, len(rows), 2000):
            conn.execute(insert(SubjectRequest.__table__), rows[start : start + 2000])
        demo.fix_pg_sequences(conn, [SubjectRequest.__table__])
    demo.analyze_after_bulk_load(engine, ["subject_request"], vacuum=True)
    return n


def _register(engine: Engine, **query) -> int:
    from dpa_panel.services import request_register as register

    today = datetime.now(ZoneInfo(settings.DISPLAY_TZ)).date()
    with Session(engine) as session:
        page = register.register_page(session, register.RegisterQuery(**query), today=today)
        register.view_counts(session, today=today)
    assert page.total >= 0
    return page.total


def _register_open(engine: Engine, _n: int):
    return _register(engine, view="open", kind="access")


def _register_answered(engine: Engine, _n: int):
    today = datetime.now(UTC).date()
    assert _register(engine, view="answered", received_from=today - timedelta(days=365),
                     received_to=today, page=3) > 100  # fmt: skip


def _register_search(engine: Engine, _n: int):
    assert _register(engine, view="all", search="беруші 1234") >= 1


def _register_overdue(engine: Engine, _n: int):
    return _register(engine, view="overdue", assignee="none")


def _notify(engine: Engine, _n: int) -> int:
    """1,000 open requests due tomorrow, each assigned to an officer with an address; queue
    and deliver their reminders to a real SMTP server on 127.0.0.1 (aiosmtpd, dev extra)."""
    import asyncio  # noqa: F401  (aiosmtpd needs it importable)
    import socket

    from aiosmtpd.controller import Controller

    from dpa_panel.models import StaffUser, SubjectRequest
    from dpa_panel.services import calendar as work_calendar
    from dpa_panel.services import mail, notify, outbox

    today = datetime.now(ZoneInfo(settings.DISPLAY_TZ)).date()
    with Session(engine) as session:
        cal = work_calendar.work_calendar(session, range(today.year, today.year + 2))
        due = work_calendar.add_working_days(today, 1, cal)
    with engine.begin() as conn:
        officer = conn.execute(select(StaffUser.__table__.c.id)
                               .where(StaffUser.__table__.c.role == "compliance")).scalars().first()
        conn.execute(update(StaffUser.__table__).values(email="", language="kk"))
        conn.execute(update(StaffUser.__table__).where(StaffUser.__table__.c.id == officer)
                     .values(email="officer@assoc.kz", language="ru"))
        conn.execute(update(SubjectRequest.__table__)
                     .where(SubjectRequest.__table__.c.status.in_(["received", "in_progress",
                                                                   "identity_check"]))
                     .values(status="answered"))
        ids = conn.execute(select(SubjectRequest.__table__.c.id).limit(REMINDERS)).scalars().all()
        conn.execute(update(SubjectRequest.__table__)
                     .where(SubjectRequest.__table__.c.id.in_(ids))
                     .values(status="in_progress", due_date=due, assignee_id=officer))
    # fmt: skip
    delivered: list[int] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            delivered.append(len(envelope.content))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = mail.parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=no")
        with session_scope(engine) as session:
            report = notify.queue_reminders(session, today=today)
        sent = outbox.deliver(lambda: session_scope(engine), config)
    finally:
        controller.stop()
    assert report.queued == REMINDERS and sent.sent == REMINDERS == len(delivered), (report, sent)
    return sent.sent


def register(operation: Callable) -> None:
    """Add this group's operations to the bench's registry, in the order they print."""
    for name, fn in (
        (f"request register: open, kind filter (50 of {REQUESTS:,})", _register_open),
        ("request register: answered, received range, page 3", _register_answered),
        ("request register: search by name (all views)", _register_search),
        ("request register: overdue, assigned to nobody", _register_overdue),
    ):
        operation(name, group="requests")(fn)
    operation(f"dpa-panel notify: {REMINDERS:,} due reminders via SMTP", group="requests-notify",
              rate=True)(_notify)  # fmt: skip
