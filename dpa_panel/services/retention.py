"""Retention and destruction (policy clauses 4.4 and 7.2).

* **One decision.** ``destruction_date`` says when a subject's data is due for destruction:
  for every consent-based purpose, the data is needed until ``ending event + period`` once the
  purpose's ending event has happened, and indefinitely while the purpose is ongoing (open
  application, active/suspended membership, consent for informing/feedback in force). The
  date is the LATEST date any purpose still needs the data; an ongoing purpose means no date.
  A withdrawal of consent without a retained legal ground ends that purpose's need at the
  withdrawal (clause 7.2); with a ground the purpose keeps its normal period.
  ``data_subject.destruction_due_at`` (set by a withdrawal that leaves no purpose, or by a
  destruction request) overrides the periods: due at that moment.
* **Holds.** A subject is *held* — never destroyed — while a legal hold is in force (not
  lifted; ``ends_on`` empty or today or later, Almaty) or while the subject is blocked
  (blocking freezes all processing, destruction included). The date still shows.
* **Materialised.** ``data_subject.retention_due_at`` / ``retention_purpose`` /
  ``retention_event`` / ``retention_event_at`` hold the decision (without holds), recomputed
  by ``recompute_retention`` in the transaction of every service that changes a relevant
  event, so the countdown and its buckets are range scans on an index.
* **Destruction** keeps an anonymised remnant on the same rows (coded columns, months) and
  writes a ``destruction_act`` with a SHA-256 digest; the sweep destroys each subject in its
  own transaction, so a killed sweep leaves every subject either destroyed with its act or
  untouched, and a re-run finishes.

Like every service: the caller's session and transaction, audit events with codes and ids only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import (
    AccessPackage,
    ApplicationEvent,
    Consent,
    DataSubject,
    DestructionAct,
    LegalHold,
    Member,
    MembershipApplication,
    RetentionRule,
    SubjectCode,
    SubjectRequest,
    SubjectSession,
)
from dpa_panel.models.retention import ENDING_EVENTS
from dpa_panel.models.types import utcnow, whole_days
from dpa_panel.models.vocab import OPEN_APPLICATION_STATUSES
from dpa_panel.services import audit, tabular
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.prepared import Prepared
from dpa_panel.services.validation import clean_text

_TZ = ZoneInfo(settings.DISPLAY_TZ)

CONSENT_PURPOSES = ("application_review", "member_register", "informing", "feedback")
MAX_PERIOD_DAYS = 3650
#: The policy's own limit (clause 4.4: five years = 1,826 days); a longer period needs a cited
#: legal ground entered with the rule (issue 17).
POLICY_MAX_DAYS = 1826
#: ``retention_event`` when ``destruction_due_at`` decides (withdrawal / destruction request).
SCHEDULED = "destruction_scheduled"
BUCKETS = ("overdue", "30", "90", "later")
SORTS = ("due", "due_desc", "name", "id")
MAX_PAGE_SIZE = 200
RECOMPUTE_BATCH = 2000
TEXT_MAX = 2000


def local_date(moment: datetime) -> date:
    return moment.astimezone(_TZ).date()


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_TZ).astimezone(UTC)


# --- rules -----------------------------------------------------------------------------------


def rules(session: Session) -> list[RetentionRule]:
    """The retention rules, one per consent-based purpose, in the policy's order."""
    rows = {r.purpose_code: r for r in session.scalars(select(RetentionRule))}
    return [rows[p] for p in CONSENT_PURPOSES if p in rows]


def _rule_map(session: Session) -> dict[str, tuple[str, int]]:
    rows = session.execute(
        select(RetentionRule.purpose_code, RetentionRule.ending_event, RetentionRule.period_days)
    ).all()
    return {r[0]: (r[1], int(r[2])) for r in rows}


def update_rule(
    session: Session,
    actor: Actor,
    purpose: str,
    *,
    period_days: int,
    ending_event: str | None = None,
    legal_ground: str = "",
    now: datetime | None = None,
) -> RetentionRule:
    """Change a purpose's period (0..3650 days) and optionally its ending event; every
    subject's destruction date is recomputed in the same transaction. A period beyond the
    policy's five years (``POLICY_MAX_DAYS``, clause 4.4) needs ``legal_ground`` (the law and
    article that require it), stored as the rule's ``source``."""
    now = now or utcnow()
    if not isinstance(period_days, int) or not 0 <= period_days <= MAX_PERIOD_DAYS:
        raise ServiceError("retention.bad_period", field="period_days", max=MAX_PERIOD_DAYS)
    ground, ground_error = clean_text(legal_ground, TEXT_MAX, required=False)
    if ground_error:
        raise ServiceError(ground_error, field="legal_ground")
    if period_days > POLICY_MAX_DAYS and not ground:
        raise ServiceError("retention.over_policy_limit", field="legal_ground",
                           max=POLICY_MAX_DAYS)  # fmt: skip
    if ending_event is not None and ending_event not in ENDING_EVENTS:
        raise ServiceError("retention.bad_ending_event", field="ending_event")
    audit.lock_writers(session)
    rule = session.get(RetentionRule, purpose, populate_existing=True)
    if rule is None:
        raise ServiceError("retention.unknown_purpose", field="purpose")
    before = (rule.period_days, rule.ending_event)
    rule.period_days = period_days
    if ground:
        rule.source = ground
    if ending_event is not None:
        rule.ending_event = ending_event
    rule.updated_at = now
    rule.updated_by_id = actor.user_id
    session.add(rule)
    session.flush()
    if before != (rule.period_days, rule.ending_event):
        recompute_all(session)
    audit.record(
        session,
        actor,
        "retention.rule_changed",
        "retention_rule",
        purpose,
        {
            "from_days": before[0],
            "to_days": rule.period_days,
            "from_event": before[1],
            "to_event": rule.ending_event,
        },
    )
    return rule


# --- the decision ----------------------------------------------------------------------------


@dataclass
class DestructionDue:
    subject_id: int
    due_at: datetime
    #: the purpose whose rule decides ("" when ``destruction_due_at`` decides)
    purpose: str
    #: its ending event, or ``destruction_scheduled``
    event: str
    event_at: datetime
    #: a legal hold is in force or the subject is blocked: not destroyed now
    held: bool = False
    #: a legal hold (with its recorded reason) is in force (False when only blocked)
    hold_reason_present: bool = False


@dataclass
class _Facts:
    status: str
    destruction_due_at: datetime | None
    open_application: bool = False
    application_ended_at: datetime | None = None
    member_status: str | None = None
    member_ended_at: datetime | None = None
    #: purpose -> (withdrawn_at or None, retained ground given)
    latest_consent: dict[str, tuple[datetime | None, bool]] = field(default_factory=dict)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _fold_application(f: _Facts, r) -> None:
    """Add one application row (status, closed_at, decided_at, updated_at) to the facts."""
    if r.status in OPEN_APPLICATION_STATUSES:
        f.open_application = True
    else:
        ended = r.closed_at or r.decided_at or r.updated_at
        f.application_ended_at = _latest(f.application_ended_at, ended)


def _fold_consent(f: _Facts, r) -> None:
    """Add one consent row; rows come oldest first, so the last one seen is the latest."""
    f.latest_consent[r.purpose_code] = (r.withdrawn_at, bool(r.withdrawal_retained_ground))


def _load_facts(session: Session, id_cond: Callable[[Any], ColumnElement]) -> dict[int, _Facts]:
    """The facts the decision needs, for the subjects ``id_cond(column)`` selects (4 queries)."""
    s = DataSubject.__table__.c
    facts = {
        r.id: _Facts(r.status, r.destruction_due_at)
        for r in session.execute(select(s.id, s.status, s.destruction_due_at).where(id_cond(s.id)))
    }
    if not facts:
        return facts
    a = MembershipApplication.__table__.c
    for r in session.execute(
        select(a.subject_id, a.status, a.closed_at, a.decided_at, a.updated_at).where(
            id_cond(a.subject_id)
        )
    ):
        f = facts.get(r.subject_id)
        if f is not None:
            _fold_application(f, r)
    m = Member.__table__.c
    for r in session.execute(
        select(m.subject_id, m.status, m.ended_at).where(id_cond(m.subject_id))
    ):
        f = facts.get(r.subject_id)
        if f is not None:
            f.member_status, f.member_ended_at = r.status, r.ended_at
    c = Consent.__table__.c
    for r in session.execute(
        select(c.subject_id, c.purpose_code, c.withdrawn_at, c.withdrawal_retained_ground)
        .where(id_cond(c.subject_id))
        .order_by(c.subject_id, c.granted_at, c.id)
    ):
        f = facts.get(r.subject_id)
        if f is not None:  # ordered: the last row seen is the latest
            _fold_consent(f, r)
    return facts


_ONGOING = object()


def _purpose_event(f: _Facts, purpose: str, event: str) -> datetime | None | object:
    """When ``purpose``'s ending event happened; ``_ONGOING`` while it has not; None when the
    purpose never applied to the subject."""
    if event == "application_closed":
        if f.open_application:
            return _ONGOING
        return f.application_ended_at
    if event == "membership_ended":
        if f.member_status in ("active", "suspended"):
            return _ONGOING
        return f.member_ended_at if f.member_status == "ended" else None
    latest = f.latest_consent.get(purpose)
    if latest is None:
        return None
    return _ONGOING if latest[0] is None else latest[0]


def _decide(subject_id: int, f: _Facts, rule_map: dict[str, tuple[str, int]]):
    """The destruction date without holds: a ``DestructionDue`` or None (not due)."""
    if f.status == "destroyed":
        return None
    if f.destruction_due_at is not None:
        return DestructionDue(subject_id, f.destruction_due_at, "", SCHEDULED, f.destruction_due_at)
    best: DestructionDue | None = None
    for purpose in CONSENT_PURPOSES:
        if purpose not in rule_map:
            continue
        event, period = rule_map[purpose]
        happened = _purpose_event(f, purpose, event)
        if happened is _ONGOING:
            return None
        consent = f.latest_consent.get(purpose)
        if consent is not None and consent[0] is not None and not consent[1]:
            # Clause 7.2: withdrawn without a legal ground to keep: needed until withdrawal.
            candidate = DestructionDue(subject_id, consent[0], purpose, "consent_withdrawn",
                                       consent[0])  # fmt: skip
        elif happened is None:
            continue
        else:
            candidate = DestructionDue(
                subject_id, happened + timedelta(days=period), purpose, event, happened
            )
        if best is None or candidate.due_at > best.due_at:
            best = candidate
    return best


def _hold_in_force(today: date) -> ColumnElement[bool]:
    h = LegalHold
    return and_(h.lifted_at.is_(None), or_(h.ends_on.is_(None), h.ends_on >= today))


def active_holds(
    session: Session, subject_id: int, *, today: date | None = None
) -> list[LegalHold]:
    """The legal holds in force for the subject today (Almaty), oldest first."""
    today = today or local_date(utcnow())
    return list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.subject_id == subject_id, _hold_in_force(today))
            .order_by(LegalHold.placed_at, LegalHold.id)
        )
    )


def destruction_date(
    session: Session, subject_id: int, *, now: datetime | None = None
) -> DestructionDue | None:
    """THE decision: when this subject's data is due for destruction, and whether it is held.

    None while a purpose is ongoing, when no purpose ever applied, or once destroyed.
    """
    now = now or utcnow()
    facts = _load_facts(session, lambda col: col == subject_id)
    f = facts.get(subject_id)
    if f is None:
        return None
    due = _decide(subject_id, f, _rule_map(session))
    if due is None:
        return None
    has_hold = bool(active_holds(session, subject_id, today=local_date(now)))
    due.hold_reason_present = has_hold
    due.held = has_hold or f.status == "blocked"
    return due


# --- the materialised column -----------------------------------------------------------------

_SUBJECT = DataSubject.__table__
_RECOMPUTE_STMT = (
    update(_SUBJECT)
    .where(_SUBJECT.c.id == bindparam("b_id"))
    .values(
        retention_due_at=bindparam("b_due"),
        retention_purpose=bindparam("b_purpose"),
        retention_event=bindparam("b_event"),
        retention_event_at=bindparam("b_event_at"),
    )
)


def _store(session: Session, facts: dict[int, _Facts], rule_map) -> int:
    s = _SUBJECT.c
    ids = list(facts)
    current = {
        r.id: (r.retention_due_at, r.retention_purpose, r.retention_event, r.retention_event_at)
        for r in session.execute(
            select(
                s.id, s.retention_due_at, s.retention_purpose, s.retention_event,
                s.retention_event_at,
            ).where(s.id.in_(ids))
        )
    }  # fmt: skip
    params = []
    for sid, f in facts.items():
        due = _decide(sid, f, rule_map)
        new = (due.due_at, due.purpose, due.event, due.event_at) if due else (None, "", "", None)
        if current.get(sid) != new:
            params.append(
                {"b_id": sid, "b_due": new[0], "b_purpose": new[1], "b_event": new[2],
                 "b_event_at": new[3]}
            )  # fmt: skip
    if params:
        session.execute(_RECOMPUTE_STMT, params)
    return len(params)


def recompute_retention(session: Session, subject_ids: Iterable[int]) -> int:
    """Recompute ``data_subject.retention_*`` for these subjects (in the caller's
    transaction); returns how many rows changed."""
    ids = sorted({int(i) for i in subject_ids})
    if not ids:
        return 0
    session.flush()
    rule_map = _rule_map(session)
    changed = 0
    for start in range(0, len(ids), RECOMPUTE_BATCH):
        chunk = ids[start : start + RECOMPUTE_BATCH]
        changed += _store(session, _load_facts(session, lambda col, c=chunk: col.in_(c)), rule_map)
    return changed


def recompute_all(session: Session) -> int:
    """Recompute every subject (after a rule change; the migration's backfill)."""
    session.flush()
    rule_map = _rule_map(session)
    s = _SUBJECT.c
    changed = 0
    last = 0
    while True:
        ids = list(
            session.scalars(select(s.id).where(s.id > last).order_by(s.id).limit(RECOMPUTE_BATCH))
        )
        if not ids:
            return changed
        lo, hi = ids[0], ids[-1]
        facts = _load_facts(session, lambda col, lo=lo, hi=hi: and_(col >= lo, col <= hi))
        changed += _store(session, facts, rule_map)
        last = hi


# --- the countdown ---------------------------------------------------------------------------


@dataclass
class CountdownRow:
    subject_id: int
    name: str
    due_date: date
    days_left: int
    purpose: str
    event: str
    held: bool
    blocked: bool


def _due_filter() -> list[ColumnElement[bool]]:
    return [DataSubject.retention_due_at.is_not(None), DataSubject.status != "destroyed"]


def _bucket_bounds(today: date) -> dict[str, tuple[datetime | None, datetime | None]]:
    """UTC ranges of ``retention_due_at`` per bucket (Almaty days; disjoint)."""
    d0 = local_midnight_utc(today)
    d31 = local_midnight_utc(today + timedelta(days=31))
    d91 = local_midnight_utc(today + timedelta(days=91))
    return {"overdue": (None, d0), "30": (d0, d31), "90": (d31, d91), "later": (d91, None)}


def _range(lo: datetime | None, hi: datetime | None) -> list[ColumnElement[bool]]:
    col = DataSubject.retention_due_at
    out = []
    if lo is not None:
        out.append(col >= lo)
    if hi is not None:
        out.append(col < hi)
    return out


def _held_expr(today: date) -> ColumnElement[bool]:
    return exists().where(LegalHold.subject_id == DataSubject.id, _hold_in_force(today))


def countdown(
    session: Session,
    *,
    today: date,
    bucket: str = "",
    search: str = "",
    sort: str = "due",
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[CountdownRow], int]:
    """One page of subjects with a destruction date, and the total matching.

    Buckets (Almaty days left, disjoint): ``overdue`` (< 0), ``30`` (0..30), ``90`` (31..90),
    ``later`` (> 90); "" = all. ``search``: the staff search over names/e-mail/workplace, or a
    subject id. Sorts: ``due`` (soonest first), ``due_desc``, ``name``, ``id``.
    """
    from dpa_panel.services.applications import search_term, text_contains

    page = max(1, int(page))
    page_size = max(1, min(MAX_PAGE_SIZE, int(page_size)))
    conditions = _due_filter()
    if bucket:
        if bucket not in BUCKETS:
            raise ServiceError("retention.bad_bucket", field="bucket")
        conditions += _range(*_bucket_bounds(today)[bucket])
    raw = (search or "").strip()
    if raw:
        if raw.isdigit():
            conditions.append(DataSubject.id == int(raw))
        else:
            term = search_term(raw)
            if term:
                conditions.append(text_contains(session, DataSubject.search_text, term))
    total = session.scalar(select(func.count()).select_from(DataSubject).where(*conditions)) or 0
    order = {
        "due": [DataSubject.retention_due_at, DataSubject.id],
        "due_desc": [DataSubject.retention_due_at.desc(), DataSubject.id.desc()],
        "name": [DataSubject.surname, DataSubject.first_name, DataSubject.id],
        "id": [DataSubject.id],
    }.get(sort)
    if order is None:
        raise ServiceError("retention.bad_sort", field="sort")
    held = _held_expr(today).label("held")
    rows = session.execute(
        select(
            DataSubject.id,
            DataSubject.surname,
            DataSubject.first_name,
            DataSubject.patronymic,
            DataSubject.retention_due_at,
            DataSubject.retention_purpose,
            DataSubject.retention_event,
            DataSubject.status,
            held,
        )
        .where(*conditions)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    out = []
    for r in rows:
        due_date = local_date(r.retention_due_at)
        blocked = r.status == "blocked"
        out.append(
            CountdownRow(
                subject_id=r.id,
                name=" ".join(p for p in (r.surname, r.first_name, r.patronymic) if p),
                due_date=due_date,
                days_left=(due_date - today).days,
                purpose=r.retention_purpose,
                event=r.retention_event,
                held=bool(r.held) or blocked,
                blocked=blocked,
            )
        )
    return out, int(total)


def bucket_counts(session: Session, *, today: date) -> dict[str, int]:
    """Subjects per countdown bucket, plus ``total`` (one statement)."""
    bounds = _bucket_bounds(today)
    cols = [
        func.coalesce(func.sum(case((and_(*_range(*bounds[b])), 1), else_=0)), 0).label(b)
        for b in BUCKETS
    ]
    row = session.execute(select(*cols, func.count().label("total")).where(*_due_filter())).one()
    return {**{b: int(getattr(row, b)) for b in BUCKETS}, "total": int(row.total)}


def due_per_month(session: Session, *, today: date, months: int = 24) -> list[dict]:
    """Subjects falling due per Almaty month, from this month for ``months`` months (overdue
    dates count in the current month); every month present, zeros included."""
    from dpa_panel.services.stats_sql import _Sql

    months = max(1, min(120, int(months)))
    first = today.replace(day=1)
    keys = []
    y, m = first.year, first.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    end = local_midnight_utc(date(y, m, 1))
    start = local_midnight_utc(first)
    sql = _Sql(session.get_bind().dialect.name)
    col = DataSubject.retention_due_at
    month = sql.month(col).label("m")
    counts = {keys[0]: 0}
    overdue = session.scalar(
        select(func.count()).select_from(DataSubject).where(*_due_filter(), col < start)
    )
    for key, n in session.execute(
        select(month, func.count()).where(*_due_filter(), col >= start, col < end).group_by("m")
    ):
        counts[key] = counts.get(key, 0) + int(n)
    counts[keys[0]] += int(overdue or 0)
    return [{"month": k, "count": counts.get(k, 0)} for k in keys]


# --- legal holds -----------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    value, error = clean_text(reason, TEXT_MAX, required=True, multiline=True)
    if error:
        key = "subject.reason_required" if error == "field.required" else error
        raise ServiceError(key, field="reason")
    return value


def place_hold(
    session: Session,
    actor: Actor,
    subject_id: int,
    reason: str,
    ends_on: date | None = None,
    source_ref: str = "",
    *,
    now: datetime | None = None,
) -> LegalHold:
    """Keep the subject's data despite any due date (a legal obligation). Audited with the
    hold id, subject id and ``source_ref`` code; the reason is free text and stays in the row."""
    now = now or utcnow()
    value = _clean_reason(reason)
    ref, error = clean_text(source_ref, 60, required=False)
    if error:
        raise ServiceError(error, field="source_ref")
    if ends_on is not None and ends_on < local_date(now):
        raise ServiceError("retention.hold_ends_in_past", field="ends_on")
    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("subject.not_found")
    hold = LegalHold(
        subject_id=subject_id,
        reason=value,
        placed_at=now,
        placed_by_id=actor.user_id,
        ends_on=ends_on,
        source_ref=ref,
    )
    session.add(hold)
    session.flush()
    recompute_retention(session, [subject_id])
    audit.record(
        session,
        actor,
        "retention.hold_placed",
        "legal_hold",
        hold.id,
        {"subject_id": subject_id, "has_end": ends_on is not None, "source_ref": ref},
    )
    return hold


def lift_hold(
    session: Session, actor: Actor, hold_id: int, reason: str, *, now: datetime | None = None
) -> LegalHold:
    """Lift a hold (the reason is required and kept on the row, not in the audit trail)."""
    now = now or utcnow()
    value = _clean_reason(reason)
    audit.lock_writers(session)
    hold = session.get(LegalHold, hold_id, populate_existing=True)
    if hold is None:
        raise ServiceError("retention.hold_not_found")
    if hold.lifted_at is not None:
        raise ServiceError("retention.hold_not_active")
    hold.lifted_at = now
    hold.lifted_by_id = actor.user_id
    hold.lift_reason = value
    session.add(hold)
    session.flush()
    recompute_retention(session, [hold.subject_id])
    audit.record(
        session, actor, "retention.hold_lifted", "legal_hold", hold.id,
        {"subject_id": hold.subject_id},
    )  # fmt: skip
    return hold


# --- destruction -----------------------------------------------------------------------------


def month_start(moment: datetime | None) -> datetime | None:
    """The first day of the moment's Almaty month, 00:00 UTC (the same Almaty month)."""
    if moment is None:
        return None
    d = local_date(moment)
    return datetime(d.year, d.month, 1, tzinfo=UTC)


def _act_content(act: DestructionAct) -> dict[str, Any]:
    return _content(
        act.reference, act.subject_ref, json.loads(act.categories), act.rule, act.due_at,
        act.destroyed_at, act.actor_type, act.actor_id, act.batch_id,
    )  # fmt: skip


def _content(
    reference: str, subject_ref: str, categories: list[str], rule: str, due_at: datetime,
    destroyed_at: datetime, actor_type: str, actor_id: int | None, batch_id: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "reference": reference,
        "subject_ref": subject_ref,
        "categories": categories,
        "rule": rule,
        "due_at": due_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "destroyed_at": destroyed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_type": actor_type,
        "actor_id": actor_id,
        "batch_id": batch_id,
    }


def _digest(content: dict[str, Any]) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def act_digest(act: DestructionAct) -> str:
    """SHA-256 of the act's canonical JSON (sorted keys, UTC microsecond times)."""
    return _digest(_act_content(act))


# Destruction runs as prepared Core statements on one connection (the sweep does thousands of
# subjects one transaction each: building statements and the ORM unit of work per subject cost
# ten times more than the database work). Built once here; parameters are ``b_*``.
_s = _SUBJECT.c
_APP = MembershipApplication.__table__
_EVENT = ApplicationEvent.__table__
_CONSENT = Consent.__table__
_MEMBER = Member.__table__
_REQUEST = SubjectRequest.__table__
_HOLD = LegalHold.__table__
_ACT = DestructionAct.__table__
_RULE = RetentionRule.__table__
_P_SID = bindparam("b_sid")
_P_TODAY = bindparam("b_today")
_m = _MEMBER.c

_READ_RULES = select(_RULE.c.purpose_code, _RULE.c.ending_event, _RULE.c.period_days)
#: The subject, its member row (at most one), its materialised decision and its holds.
_READ_SUBJECT = Prepared(
    select(
        _s.status, _s.destruction_due_at, _s.created_at, _s.updated_at, _s.blocked_at,
        _s.retention_due_at, _s.retention_purpose, _s.retention_event, _s.retention_event_at,
        _m.id.label("member_id"), _m.status.label("member_status"), _m.since, _m.ended_at,
        _m.status_changed_at,
        select(func.count()).where(_HOLD.c.subject_id == _P_SID)
        .scalar_subquery().label("holds"),
        select(func.count())
        .where(_HOLD.c.subject_id == _P_SID, _HOLD.c.lifted_at.is_(None),
               or_(_HOLD.c.ends_on.is_(None), _HOLD.c.ends_on >= _P_TODAY))
        .scalar_subquery().label("holds_in_force"),
    )
    .select_from(_SUBJECT.outerjoin(_MEMBER, _m.subject_id == _s.id))
    .where(_s.id == _P_SID)
)  # fmt: skip
_READ_APPS = Prepared(
    select(_APP.c.id, _APP.c.status, _APP.c.submitted_at, _APP.c.decided_at, _APP.c.closed_at,
           _APP.c.updated_at)
    .where(_APP.c.subject_id == _P_SID)
    .order_by(_APP.c.id)
)  # fmt: skip
_READ_CONSENTS = Prepared(
    select(_CONSENT.c.id, _CONSENT.c.purpose_code, _CONSENT.c.withdrawn_at,
           _CONSENT.c.withdrawal_retained_ground, _CONSENT.c.granted_at,
           _CONSENT.c.evidence_received_at)
    .where(_CONSENT.c.subject_id == _P_SID)
    .order_by(_CONSENT.c.granted_at, _CONSENT.c.id)
)  # fmt: skip
_BLANK_SUBJECT = Prepared(
    update(_SUBJECT)
    .where(_s.id == _P_SID)
    .values(
        surname="", first_name="", patronymic="", phone="", email="", workplace="",
        position="", education="", experience="", other_info="", experience_years=None,
        search_text="", blocked_reason="", blocked_at=bindparam("b_blocked"),
        destruction_due_at=bindparam("b_due"), created_at=bindparam("b_created"),
        updated_at=bindparam("b_updated"), status="destroyed", retention_due_at=None,
        retention_purpose="", retention_event="", retention_event_at=None,
    )
)  # fmt: skip
_DELETE_TIMELINES = Prepared(
    delete(_EVENT).where(
        _EVENT.c.application_id.in_(select(_APP.c.id).where(_APP.c.subject_id == _P_SID))
    )
)
_BLANK_APP = Prepared(
    update(_APP)
    .where(_APP.c.id == bindparam("b_id"))
    .values(
        reason="", submitted_at=bindparam("b_sub"), decided_at=bindparam("b_dec"),
        closed_at=bindparam("b_clo"), updated_at=bindparam("b_upd"),
        # The stored statistics keys: the month keys stay (same Almaty month), the
        # duration follows the rewritten timestamps.
        decision_days=bindparam("b_days"),
    )
)  # fmt: skip
_BLANK_CONSENT = Prepared(
    update(_CONSENT)
    .where(_CONSENT.c.id == bindparam("b_id"))
    .values(
        evidence_ref="", evidence_text="", withdrawal_evidence="",
        withdrawal_retained_ground="", granted_at=bindparam("b_gr"),
        withdrawn_at=bindparam("b_wd"), evidence_received_at=bindparam("b_ev"),
    )
)  # fmt: skip
_BLANK_MEMBER = Prepared(
    update(_MEMBER)
    .where(_m.id == bindparam("b_id"))
    .values(
        membership_number=bindparam("b_number"), status_reason="", since=bindparam("b_since"),
        ended_at=bindparam("b_ended"), status_changed_at=bindparam("b_changed"),
    )
)  # fmt: skip
_BLANK_REQUESTS = Prepared(
    update(_REQUEST)
    .where(_REQUEST.c.subject_id == _P_SID)
    .values(
        requester="", contact="", details="", notes="", answer="", refusal_reason="",
        identity_method="",
    )
)  # fmt: skip
#: The privacy centre's rows of the subject (issue 20): the access package holds a full copy of
#: the subject report; codes and sessions hold only digests and ids, but name the subject.
_DELETE_PACKAGES = Prepared(delete(AccessPackage.__table__)
                            .where(AccessPackage.__table__.c.subject_id == _P_SID))
_DELETE_CODES = Prepared(delete(SubjectCode.__table__)
                         .where(SubjectCode.__table__.c.subject_id == _P_SID))
_DELETE_SUBJECT_SESSIONS = Prepared(delete(SubjectSession.__table__)
                                    .where(SubjectSession.__table__.c.subject_id == _P_SID))
_BLANK_HOLDS = Prepared(
    update(_HOLD).where(_HOLD.c.subject_id == _P_SID).values(reason="", lift_reason="")
)
_ACT_FIELDS = ("reference", "subject_ref", "categories", "rule", "due_at", "destroyed_at",
               "actor_type", "actor_id", "digest", "batch_id")  # fmt: skip
#: A plain Core execute (not ``Prepared``): the table's Python-side column defaults (such
#: as keys derived from ``destroyed_at``) are computed by SQLAlchemy's execution context.
_INSERT_ACT = insert(_ACT).values({c: bindparam(c) for c in _ACT_FIELDS}).returning(_ACT.c.id)
_NAME_ACT = Prepared(
    update(_ACT)
    .where(_ACT.c.id == bindparam("b_id"))
    .values(reference=bindparam("b_ref"), digest=bindparam("b_digest"))
)


def _as_stored(due: DestructionDue | None) -> tuple:
    """A decision as ``_store`` materialises it."""
    if due is None:
        return (None, "", "", None)
    return (due.due_at, due.purpose, due.event, due.event_at)


@dataclass
class _Rules:
    """The rule map, read once per sweep. Every service that changes a rule recomputes the
    materialised decision of every subject in its transaction, so a decision taken with this
    map that equals the subject's materialised one is the current rules' decision; when they
    differ the rules are read again (under the writers' lock) and the decision retaken."""

    rule_map: dict[str, tuple[str, int]] | None = None

    def reload(self, conn) -> dict[str, tuple[str, int]]:
        self.rule_map = {r[0]: (r[1], int(r[2])) for r in conn.execute(_READ_RULES)}
        return self.rule_map


def _destroy_on(
    conn, actor: Actor, subject_id: int, now: datetime, batch_id: str, rules: _Rules,
    *, owns_transaction: bool = False,
) -> tuple[int, str]:  # fmt: skip
    """``destroy_subject`` on a Core connection, in its current transaction: (act id, ref).

    ``owns_transaction``: the caller rolls the transaction back on any error (the sweep), so
    the writers' lock and the audit event's claim on the chain are one statement."""
    if owns_transaction:
        prev_hash = audit.claim_append(conn)
    else:
        audit.lock_writers_on(conn)
    # Everything below is read under the writers' lock.
    today = local_date(now)
    sid = {"b_sid": subject_id}
    subj = _READ_SUBJECT.first(conn, {"b_sid": subject_id, "b_today": today})
    if subj is None:
        raise ServiceError("retention.not_due")
    f = _Facts(subj.status, subj.destruction_due_at)
    apps = _READ_APPS.rows(conn, sid)
    for r in apps:
        _fold_application(f, r)
    if subj.member_id is not None:
        f.member_status, f.member_ended_at = subj.member_status, subj.ended_at
    consents = _READ_CONSENTS.rows(conn, sid)
    for r in consents:
        _fold_consent(f, r)
    stored = (subj.retention_due_at, subj.retention_purpose, subj.retention_event,
              subj.retention_event_at)  # fmt: skip
    due = _decide(subject_id, f, rules.reload(conn) if rules.rule_map is None else rules.rule_map)
    if _as_stored(due) != stored:
        due = _decide(subject_id, f, rules.reload(conn))
    if due is None or due.due_at > now:
        raise ServiceError("retention.not_due")
    if subj.holds_in_force or f.status == "blocked":
        raise ServiceError("retention.held")

    categories = ["subject.identity", "subject.contacts", "subject.profile"]
    _BLANK_SUBJECT.execute(
        conn,
        {"b_sid": subject_id, "b_blocked": month_start(subj.blocked_at),
         "b_due": month_start(subj.destruction_due_at), "b_created": month_start(subj.created_at),
         "b_updated": month_start(subj.updated_at)},
    )  # fmt: skip
    if apps:
        categories += ["application.reason", "application.timeline"]
        _DELETE_TIMELINES.execute(conn, sid)
        _BLANK_APP.executemany(
            conn,
            [
                {"b_id": r.id, "b_sub": month_start(r.submitted_at),
                 "b_dec": month_start(r.decided_at), "b_clo": month_start(r.closed_at),
                 "b_upd": month_start(r.updated_at),
                 "b_days": whole_days(month_start(r.submitted_at), month_start(r.decided_at))}
                for r in apps
            ],
        )  # fmt: skip
    if consents:
        categories.append("consent.evidence")
        _BLANK_CONSENT.executemany(
            conn,
            [
                {"b_id": r.id, "b_gr": month_start(r.granted_at),
                 "b_wd": month_start(r.withdrawn_at), "b_ev": month_start(r.evidence_received_at)}
                for r in consents
            ],
        )  # fmt: skip
    if subj.member_id is not None:
        categories += ["member.number", "member.status_reason"]
        _BLANK_MEMBER.execute(
            conn,
            {"b_id": subj.member_id, "b_number": f"DESTROYED-{subj.member_id}",
             "b_since": subj.since.replace(day=1), "b_ended": month_start(subj.ended_at),
             "b_changed": month_start(subj.status_changed_at)},
        )  # fmt: skip
    if _BLANK_REQUESTS.execute(conn, sid):
        categories.append("request.texts")
    if _DELETE_PACKAGES.execute(conn, sid):
        categories.append("request.access_package")
    _DELETE_CODES.execute(conn, sid)
    _DELETE_SUBJECT_SESSIONS.execute(conn, sid)
    if subj.holds:
        categories.append("legal_hold.reasons")
        _BLANK_HOLDS.execute(conn, sid)

    rule = f"{due.purpose or 'request'}:{due.event}"
    batch = batch_id or ""
    act_id = conn.execute(
        _INSERT_ACT,
        {"reference": f"pending-{uuid.uuid4().hex[:12]}", "subject_ref": str(subject_id),
         "categories": json.dumps(categories, separators=(",", ":")), "rule": rule,
         "due_at": due.due_at, "destroyed_at": now, "actor_type": actor.actor_type,
         "actor_id": actor.user_id, "digest": "", "batch_id": batch},
    ).scalar_one()  # fmt: skip
    reference = f"D-{local_date(now).year}-{act_id:06d}"
    digest = _digest(
        _content(reference, str(subject_id), categories, rule, due.due_at, now,
                 actor.actor_type, actor.user_id, batch)
    )  # fmt: skip
    _NAME_ACT.execute(conn, {"b_id": act_id, "b_ref": reference, "b_digest": digest})
    details = {"act_id": act_id, "batch_id": batch}
    if owns_transaction:
        audit.finish_append(conn, prev_hash, actor, "subject.destroyed", "data_subject",
                            subject_id, details)  # fmt: skip
    else:
        audit.record_on(conn, actor, "subject.destroyed", "data_subject", subject_id, details)
    return act_id, reference


def destroy_subject(
    session: Session,
    actor: Actor,
    subject_id: int,
    *,
    now: datetime | None = None,
    batch_id: str | None = None,
) -> DestructionAct:
    """Destroy a due, unheld subject's personal data, keeping the anonymised remnant.

    Refuses ``retention.not_due`` (no date, or the date is later than ``now``; also for an
    already destroyed subject) and ``retention.held`` (a legal hold in force, or blocked).
    Blanks: the subject's personal columns (coded columns kept, dates to the month); the
    applications' reasons (dates to the month) and their timelines (deleted); consent
    evidence texts (dates to the month); the member's number (``DESTROYED-<id>``) and reason
    (dates to the month); the texts of requests about the subject; hold reasons. Writes the
    ``destruction_act`` and ``subject.destroyed`` (ids only), all in the caller's transaction.
    The decision is re-taken under the writers' lock, from the rows themselves.
    """
    now = now or utcnow()
    session.flush()
    act_id, _ = _destroy_on(session.connection(), actor, subject_id, now, batch_id or "", _Rules())
    return session.get(DestructionAct, act_id, populate_existing=True)


def _as_moment(as_of: datetime | date) -> datetime:
    """A date means the end of that Almaty day; a datetime must be aware."""
    if isinstance(as_of, datetime):
        if as_of.tzinfo is None:
            raise ValueError("naive datetime refused")
        return as_of
    return local_midnight_utc(as_of + timedelta(days=1)) - timedelta(microseconds=1)


def preview_sweep(session: Session, *, as_of: datetime | date) -> list[DestructionDue]:
    """Everything due by ``as_of`` and not held (a legal hold in force, or blocked), in due
    order. Read from the materialised columns (which agree with ``destruction_date``)."""
    moment = _as_moment(as_of)
    today = local_date(moment)
    s = DataSubject
    rows = session.execute(
        select(s.id, s.retention_due_at, s.retention_purpose, s.retention_event,
               s.retention_event_at)
        .where(s.retention_due_at <= moment, s.status == "active", ~_held_expr(today))
        .order_by(s.retention_due_at, s.id)
    ).all()  # fmt: skip
    return [DestructionDue(r[0], r[1], r[2], r[3], r[4] or r[1]) for r in rows]


@dataclass
class SweepReport:
    as_of: datetime
    batch_id: str
    dry_run: bool
    due: list[DestructionDue] = field(default_factory=list)
    #: (subject id, act reference) of every subject destroyed by this run
    destroyed: list[tuple[int, str]] = field(default_factory=list)
    #: (subject id, catalog key) of subjects no longer due/held when their turn came
    skipped: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


#: SQLite settings of the sweep's own connection (restored after the run). Each destroyed
#: subject writes ~50 pages (the rows and their indexes) to the WAL. With SQLite's default
#: (checkpoint every 1,000 pages, by the committing connection) the sweep would copy the hot
#: pages back and sync twice every ~20 subjects, which costs more than the destruction. So
#: a second connection checkpoints in the background (``PASSIVE``, every 50 ms: the sweep
#: commits while it runs), and the sweep's own connection only checkpoints if the WAL ever
#: reaches 10,000 pages (~40 MB). Durability per commit is unchanged (WAL,
#: ``synchronous=NORMAL``: each commit is atomic; a power cut may roll back the subjects
#: committed since the last checkpoint — each whole, with its act and event — and the next
#: sweep destroys them again). A larger page cache keeps the index pages the run revisits.
SQLITE_SWEEP_PRAGMAS = {"wal_autocheckpoint": 10000, "cache_size": -65536}
SQLITE_CHECKPOINT_EVERY_S = 0.05


def _checkpointer(engine: Engine, stop: threading.Event) -> None:
    try:
        with engine.connect() as conn:
            while not stop.wait(SQLITE_CHECKPOINT_EVERY_S):
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
                conn.rollback()
    except Exception:  # pragma: no cover - best effort: the sweep checkpoints itself anyway
        return


@contextmanager
def _sweep_connection_settings(conn) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    before = {k: conn.exec_driver_sql(f"PRAGMA {k}").scalar() for k in SQLITE_SWEEP_PRAGMAS}
    for key, value in SQLITE_SWEEP_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {key}={int(value)}")
    conn.commit()
    stop = threading.Event()
    worker = threading.Thread(
        target=_checkpointer, args=(conn.engine, stop), name="sweep-checkpoint", daemon=True
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()
        if conn.in_transaction():
            conn.rollback()
        for key, value in before.items():
            conn.exec_driver_sql(f"PRAGMA {key}={int(value)}")
        conn.commit()


def run_sweep(
    engine_or_session_factory: Engine | Callable[[], Any],
    *,
    as_of: datetime | date,
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[DestructionDue, str], None] | None = None,
    between: Callable[[], None] | None = None,
) -> SweepReport:
    """Destroy everything ``preview_sweep`` lists, each subject in ITS OWN transaction.

    ``engine_or_session_factory``: an Engine, or a callable returning a context manager that
    yields a session and commits on exit (like ``db.session_scope``). A killed run leaves every
    subject destroyed-with-its-act or untouched; running again finishes. ``as_of`` later than
    now is refused unless ``dry_run`` (nothing is destroyed before its time). ``progress(due,
    outcome)`` is called per subject (outcome: act reference, ``dry-run`` or a catalog key);
    ``between()`` after each subject (the CLI's ``DPA_SWEEP_DELAY_MS``).

    With an Engine the run keeps one connection and commits after each subject (about a
    thousand subjects a second on SQLite); a session factory gets one session per subject.
    """
    import time as _time

    from dpa_panel.db import session_scope

    started = _time.perf_counter()
    moment = _as_moment(as_of)
    if not dry_run and moment > utcnow():
        raise ValueError("as_of is in the future: a sweep never destroys before the due date")
    engine: Engine | None = None
    if isinstance(engine_or_session_factory, Engine):
        engine = engine_or_session_factory

        def factory():
            return session_scope(engine)
    else:
        factory = engine_or_session_factory
    report = SweepReport(as_of=moment, batch_id=uuid.uuid4().hex, dry_run=dry_run)
    with factory() as session:
        report.due = preview_sweep(session, as_of=moment)
    rules_cache = _Rules()
    with ExitStack() as stack:
        conn = None
        if engine is not None and not dry_run:
            # One connection for the whole run; still one transaction (and commit) per subject.
            conn = stack.enter_context(engine.connect())
            stack.enter_context(_sweep_connection_settings(conn))
        for item in report.due:
            if dry_run:
                outcome = "dry-run"
            else:
                try:
                    if conn is not None:
                        with conn.begin():
                            _, reference = _destroy_on(
                                conn, actor, item.subject_id, utcnow(), report.batch_id,
                                rules_cache, owns_transaction=True,
                            )  # fmt: skip
                    else:
                        with factory() as session:
                            _, reference = _destroy_on(
                                session.connection(), actor, item.subject_id, utcnow(),
                                report.batch_id, rules_cache,
                            )  # fmt: skip
                    report.destroyed.append((item.subject_id, reference))
                    outcome = reference
                except ServiceError as err:
                    report.skipped.append((item.subject_id, err.key))
                    outcome = err.key
            if progress is not None:
                progress(item, outcome)
            if between is not None:
                between()
    report.seconds = _time.perf_counter() - started
    return report


# --- destruction acts ------------------------------------------------------------------------


def _act_conditions(date_from: date | None, date_to: date | None) -> list:
    out = []
    if date_from is not None:
        out.append(DestructionAct.destroyed_at >= local_midnight_utc(date_from))
    if date_to is not None:
        out.append(DestructionAct.destroyed_at < local_midnight_utc(date_to + timedelta(days=1)))
    return out


def list_acts(
    session: Session,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[DestructionAct], int]:
    """Destruction acts, newest first, with the total (Almaty dates, inclusive)."""
    page = max(1, int(page))
    page_size = max(1, min(MAX_PAGE_SIZE, int(page_size)))
    cond = _act_conditions(date_from, date_to)
    total = session.scalar(select(func.count()).select_from(DestructionAct).where(*cond)) or 0
    rows = session.scalars(
        select(DestructionAct)
        .where(*cond)
        .order_by(DestructionAct.destroyed_at.desc(), DestructionAct.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), int(total)


def iter_acts(
    session: Session, *, date_from: date | None = None, date_to: date | None = None,
    batch: int = 2000,
) -> Iterator[DestructionAct]:  # fmt: skip
    """Every act in the range, oldest first, streamed in keyset batches."""
    cond = _act_conditions(date_from, date_to)
    last = 0
    while True:
        rows = session.scalars(
            select(DestructionAct)
            .where(*cond, DestructionAct.id > last)
            .order_by(DestructionAct.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


ACT_COLUMNS = (
    "reference", "subject_ref", "categories", "rule", "due_at", "destroyed_at", "actor_type",
    "actor_id", "batch_id", "digest",
)  # fmt: skip


def act_row(act: DestructionAct) -> list:
    """One act as a row of ``ACT_COLUMNS`` (UTC ISO times, categories joined by ``;``)."""
    return [
        act.reference,
        act.subject_ref,
        ";".join(json.loads(act.categories)),
        act.rule,
        act.due_at.astimezone(UTC).isoformat(timespec="seconds"),
        act.destroyed_at.astimezone(UTC).isoformat(timespec="seconds"),
        act.actor_type,
        "" if act.actor_id is None else act.actor_id,
        act.batch_id,
        act.digest,
    ]


def acts_csv(rows: Iterable[DestructionAct], out: TextIO, *, header: bool = True) -> int:
    """Write acts as CSV through the panel's one writer (``services.tabular``); returns the
    row count."""
    writer = tabular.CsvWriter(out, ACT_COLUMNS if header else None)
    return writer.rows(act_row(act) for act in rows)


def acts_pdf(
    acts: Iterable[DestructionAct], language: str = "kk", operator: Iterable[str] = ()
) -> bytes:
    """The acts as a PDF for the officer or auditor in ``language``, grouped by sweep run with
    a signature line per run, headed by the ``operator`` lines (issue 17); ids and digests in
    the technical-evidence appendix (``services.documents.destruction_act``, issue 18)."""
    from dpa_panel.services.documents import destruction_act

    return destruction_act.acts_pdf(acts, language, operator)
