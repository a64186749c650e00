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
  writes a ``destruction_act`` with a SHA-256 digest; the sweep (``retention_sweep``) destroys
  subjects in batches where each subject keeps its own all-or-nothing outcome, so a killed
  sweep leaves every subject either destroyed with its act or untouched, and a re-run finishes.

Like every service: the caller's session and transaction, audit events with codes and ids only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import (
    Consent,
    DataSubject,
    DestructionAct,
    LegalHold,
    Member,
    MembershipApplication,
    RetentionRule,
)
from dpa_panel.models.retention import ENDING_EVENTS
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import OPEN_APPLICATION_STATUSES
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
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


# --- the sweep and the acts live in their own modules (split by job, issue 19) ----------------

_MOVED = {
    "retention_sweep": ("destroy_subject", "preview_sweep", "SweepReport", "run_sweep",
                        "SQLITE_SWEEP_PRAGMAS", "SQLITE_CHECKPOINT_EVERY_S", "SWEEP_BATCH"),
    "retention_acts": ("list_acts", "iter_acts", "ACT_COLUMNS", "act_row", "acts_csv",
                       "acts_pdf"),
}  # fmt: skip


def __getattr__(name: str):
    """``retention.run_sweep`` etc. (imported on first use: those modules import this one)."""
    import importlib

    for module, names in _MOVED.items():
        if name in names:
            return getattr(importlib.import_module(f"dpa_panel.services.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
