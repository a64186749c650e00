"""Helpers shared by the pipeline and member-register tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text
from sqlmodel import Session, SQLModel

from dpa_panel.db import session_scope
from dpa_panel.models import AuditEvent, StaffUser
from dpa_panel.services import applications, audit, submission
from dpa_panel.services.audit import Actor, VerifyResult, verify_chain

_counter = itertools.count(1)

#: A legal path from "submitted" to every status (the state machine's own transitions).
PATHS = {
    "submitted": [],
    "in_review": ["in_review"],
    "info_requested": ["in_review", "info_requested"],
    "approved": ["in_review", "approved"],
    "rejected": ["rejected"],
    "withdrawn": ["withdrawn"],
}


def form(**overrides: str) -> dict[str, str]:
    """A valid application form; every call gets its own e-mail address."""
    n = next(_counter)
    values = {
        "surname": "Ахметова",
        "first_name": "Айгүл",
        "patronymic": "Серікқызы",
        "phone": "8 (701) 123-45-67",
        "email": f"aigul.{n}@Mail.KZ",
        "workplace": "«Дала Медиа» ЖШС",
        "workplace_category": "media",
        "position": "Редактор",
        "position_level": "senior",
        "education_level": "bachelor",
        "education": "ҚазҰУ, журналистика",
        "experience_years": "7",
        "experience": "Жаңалықтар редакциясы",
        "other_info": "",
    }
    values.update(overrides)
    return values


def submit(engine, *, consents=("application_review",), ip: str = "", **overrides) -> int:
    """Submit one application in its own transaction; returns its id."""
    ip = ip or f"198.51.100.{next(_counter) % 250 + 1}"
    with session_scope(engine) as s:
        application = submission.submit_application(
            s, form(**overrides), set(consents), language="kk", client_ip=ip
        )
        return application.id


def make_staff(engine, username: str, role: str = "staff", active: bool = True) -> int:
    """An account row without the cost of hashing a real password."""
    with engine.begin() as conn:
        return conn.execute(
            insert(StaffUser.__table__)
            .values(
                username=username,
                full_name=username.title(),
                role=role,
                password_hash="x",
                is_active=active,
                must_change_password=False,
                failed_attempts=0,
                created_at=datetime.now(UTC),
            )
            .returning(StaffUser.__table__.c.id)
        ).scalar_one()


def move(engine, app_id: int, status: str, actor: Actor, **kwargs) -> None:
    """Bring an application from "submitted" to ``status`` along a legal path."""
    for step in PATHS[status]:
        with session_scope(engine) as s:
            reason = "Причина / себебі" if step == "rejected" else ""
            applications.change_status(s, actor, app_id, step, reason=reason, **kwargs)


def row_counts(engine) -> dict[str, int]:
    """Rows in every table (the audit chain head's counter included).

    The head's counter moves when the background linker links events committed earlier
    (PostgreSQL, up to 25 ms after their commit): settled first, so that a "nothing changed"
    comparison sees only what the action under test did."""
    audit.settle(engine)
    with engine.connect() as conn:
        counts = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
        counts["audit_chain_head.event_count"] = conn.execute(
            text("SELECT event_count FROM audit_chain_head")
        ).scalar_one()
    return counts


def set_subject_status(engine, subject_id: int, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE data_subject SET status = :s WHERE id = :i"),
            {"s": status, "i": subject_id},
        )


def audit_events(engine, action: str) -> list[AuditEvent]:
    """The audit events of ``action``, oldest first."""
    with Session(engine) as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


def verify(engine) -> VerifyResult:
    """The whole chain's verification (``audit.verify_chain``)."""
    with Session(engine) as s:
        return verify_chain(s)


def fetch(engine, model, ident):
    """One row by primary key, read in a session of its own."""
    with Session(engine) as s:
        return s.get(model, ident)
