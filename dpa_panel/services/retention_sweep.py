"""The retention sweep and the destruction of one subject (policy clauses 4.4 and 7.2).

Split from ``services.retention`` (issue 19), which keeps the rules and the decision and still
exposes ``run_sweep``, ``destroy_subject``, ``preview_sweep`` and ``SweepReport``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlmodel import Session

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
from dpa_panel.models.types import utcnow, whole_days
from dpa_panel.services import audit, audit_link
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.prepared import Prepared, RowUpdate, insert_rows
from dpa_panel.services.retention import (
    DestructionDue,
    _content,
    _decide,
    _digest,
    _Facts,
    _fold_application,
    _fold_consent,
    _held_expr,
    local_date,
    local_midnight_utc,
    month_start,
)

_SUBJECT = DataSubject.__table__

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
#: The request's search copy once requester and contact are blank: its folded reference (an
#: ASCII ``R-<year>-<n>``, so ``lower`` folds it like ``compose_request_search_text``), then two
#: empty lines. It held the requester's name and contact until issue 19.
_REQUEST_SEARCH_BLANK = func.lower(_REQUEST.c.reference) + "\n\n"
_BLANK_REQUESTS = Prepared(
    update(_REQUEST)
    .where(_REQUEST.c.subject_id == _P_SID)
    .values(
        requester="", contact="", details="", notes="", answer="", refusal_reason="",
        identity_method="", search_text=_REQUEST_SEARCH_BLANK,
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


_E = "''"
_SET_SUBJECT = RowUpdate(
    _BLANK_SUBJECT, "data_subject", "b_sid",
    {**dict.fromkeys(("surname", "first_name", "patronymic", "phone", "email", "workplace",
                      "position", "education", "experience", "other_info", "search_text",
                      "blocked_reason", "retention_purpose", "retention_event"), _E),
     "experience_years": "NULL", "status": "'destroyed'", "retention_due_at": "NULL",
     "retention_event_at": "NULL"},
    {"b_blocked": ("blocked_at", "timestamptz"), "b_due": ("destruction_due_at", "timestamptz"),
     "b_created": ("created_at", "timestamptz"), "b_updated": ("updated_at", "timestamptz")},
)  # fmt: skip
_SET_APP = RowUpdate(
    _BLANK_APP, "membership_application", "b_id", {"reason": _E},
    {"b_sub": ("submitted_at", "timestamptz"), "b_dec": ("decided_at", "timestamptz"),
     "b_clo": ("closed_at", "timestamptz"), "b_upd": ("updated_at", "timestamptz"),
     "b_days": ("decision_days", "integer")},
)  # fmt: skip
_SET_CONSENT = RowUpdate(
    _BLANK_CONSENT, "consent", "b_id",
    dict.fromkeys(("evidence_ref", "evidence_text", "withdrawal_evidence",
                   "withdrawal_retained_ground"), _E),
    {"b_gr": ("granted_at", "timestamptz"), "b_wd": ("withdrawn_at", "timestamptz"),
     "b_ev": ("evidence_received_at", "timestamptz")},
)  # fmt: skip
_SET_MEMBER = RowUpdate(
    _BLANK_MEMBER, "member", "b_id", {"status_reason": _E},
    {"b_number": ("membership_number", "text"), "b_since": ("since", "date"),
     "b_ended": ("ended_at", "timestamptz"), "b_changed": ("status_changed_at", "timestamptz")},
)  # fmt: skip
_SET_ACT_NAME = RowUpdate(
    _NAME_ACT, "destruction_act", "b_id", {},
    {"b_ref": ("reference", "text"), "b_digest": ("digest", "text")},
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
    #: (subject id, error) of subjects whose destruction failed: rolled back alone, untouched
    failed: list[tuple[int, str]] = field(default_factory=list)
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


# --- the sweep: set-based statements per batch of subjects (issue 19) --------------------------

#: Subjects per sweep transaction. Each subject keeps its own outcome: the batch's statements
#: run inside a savepoint, and if any of them fails the batch is redone subject by subject,
#: each in its own savepoint, so one failing subject leaves the others destroyed and itself
#: untouched. A killed sweep rolls back only its current batch (each subject in it untouched).
#: The batch holds the writers' lock: about 0.2 s at a thousand subjects a second.
SWEEP_BATCH = 200


def _in_list(col):
    return col.in_(bindparam("ids", expanding=True))


def _any_array(col):
    """PostgreSQL: ``col = ANY(%(ids)s)`` with one array parameter, so the SQL text is the same
    for every batch (an IN list of 200 placeholders is a new statement to parse each time)."""
    return col == any_(bindparam("ids", type_=ARRAY(BigInteger)))


@lru_cache(maxsize=4)
def _batch_statements(dialect_name: str) -> SimpleNamespace:
    """The batch's set-based statements; ``ids`` is the list of subject (or row) ids."""
    in_ids = _any_array if dialect_name == "postgresql" else _in_list
    subjects = (
        select(
            _s.id, _s.status, _s.destruction_due_at, _s.created_at, _s.updated_at, _s.blocked_at,
            _s.retention_due_at, _s.retention_purpose, _s.retention_event, _s.retention_event_at,
            _m.id.label("member_id"), _m.status.label("member_status"), _m.since, _m.ended_at,
            _m.status_changed_at,
        )
        .select_from(_SUBJECT.outerjoin(_MEMBER, _m.subject_id == _s.id))
        .where(in_ids(_s.id))
    )  # fmt: skip
    holds = (
        select(
            _HOLD.c.subject_id, func.count(),
            func.sum(case((and_(_HOLD.c.lifted_at.is_(None),
                                or_(_HOLD.c.ends_on.is_(None), _HOLD.c.ends_on >= _P_TODAY)), 1),
                          else_=0)),
        )
        .where(in_ids(_HOLD.c.subject_id))
        .group_by(_HOLD.c.subject_id)
    )  # fmt: skip
    apps = (
        select(_APP.c.subject_id, _APP.c.id, _APP.c.status, _APP.c.submitted_at, _APP.c.decided_at,
               _APP.c.closed_at, _APP.c.updated_at)
        .where(in_ids(_APP.c.subject_id))
        .order_by(_APP.c.subject_id, _APP.c.id)
    )  # fmt: skip
    consents = (
        select(_CONSENT.c.subject_id, _CONSENT.c.id, _CONSENT.c.purpose_code,
               _CONSENT.c.withdrawn_at, _CONSENT.c.withdrawal_retained_ground,
               _CONSENT.c.granted_at, _CONSENT.c.evidence_received_at)
        .where(in_ids(_CONSENT.c.subject_id))
        .order_by(_CONSENT.c.subject_id, _CONSENT.c.granted_at, _CONSENT.c.id)
    )  # fmt: skip
    delete_timelines = delete(_EVENT).where(in_ids(_EVENT.c.application_id))
    request_subjects = (
        select(_REQUEST.c.subject_id).where(in_ids(_REQUEST.c.subject_id)).distinct()
    )
    blank_requests = (
        update(_REQUEST)
        .where(in_ids(_REQUEST.c.subject_id))
        .values(requester="", contact="", details="", notes="", answer="", refusal_reason="",
                identity_method="", search_text=_REQUEST_SEARCH_BLANK)
    )  # fmt: skip
    package = AccessPackage.__table__
    package_subjects = (
        select(package.c.subject_id).where(in_ids(package.c.subject_id)).distinct()
    )
    delete_packages = delete(package).where(in_ids(package.c.subject_id))
    code = SubjectCode.__table__
    delete_codes = delete(code).where(in_ids(code.c.subject_id))
    delete_sessions = delete(SubjectSession.__table__).where(
        in_ids(SubjectSession.__table__.c.subject_id)
    )
    blank_holds = (
        update(_HOLD).where(in_ids(_HOLD.c.subject_id)).values(reason="", lift_reason="")
    )
    return SimpleNamespace(
        subjects=subjects,
        holds=holds,
        apps=apps,
        consents=consents,
        delete_timelines=delete_timelines,
        request_subjects=request_subjects,
        blank_requests=blank_requests,
        package_subjects=package_subjects,
        delete_packages=delete_packages,
        delete_codes=delete_codes,
        delete_sessions=delete_sessions,
        blank_holds=blank_holds,
    )




def _destroy_batch(
    conn, actor: Actor, ids: list[int], now: datetime, batch_id: str, rules: _Rules
) -> tuple[dict[int, str], dict[int, str]]:  # noqa: C901 - one straight sequence of steps
    """``_destroy_on`` for many subjects in the connection's current transaction, with a
    dozen set-based statements for the whole batch: (subject id -> act reference of each
    destroyed subject, subject id -> catalog key of each one no longer due or held).

    The same decision, the same rows and the same act and audit event per subject as
    ``_destroy_on``; everything is read under the writers' lock."""
    q = _batch_statements(conn.dialect.name)
    audit.lock_writers_on(conn)
    today = local_date(now)
    subjects = {r.id: r for r in conn.execute(q.subjects, {"ids": ids})}
    holds = {
        r[0]: (int(r[1]), int(r[2] or 0))
        for r in conn.execute(q.holds, {"ids": ids, "b_today": today})
    }
    apps: dict[int, list] = {}
    for r in conn.execute(q.apps, {"ids": ids}):
        apps.setdefault(r.subject_id, []).append(r)
    consents: dict[int, list] = {}
    for r in conn.execute(q.consents, {"ids": ids}):
        consents.setdefault(r.subject_id, []).append(r)

    skipped: dict[int, str] = {}
    chosen: list[tuple[Any, DestructionDue]] = []
    for sid in ids:
        subj = subjects.get(sid)
        if subj is None:
            skipped[sid] = "retention.not_due"
            continue
        f = _Facts(subj.status, subj.destruction_due_at)
        for r in apps.get(sid, ()):
            _fold_application(f, r)
        if subj.member_id is not None:
            f.member_status, f.member_ended_at = subj.member_status, subj.ended_at
        for r in consents.get(sid, ()):
            _fold_consent(f, r)
        stored = (subj.retention_due_at, subj.retention_purpose, subj.retention_event,
                  subj.retention_event_at)  # fmt: skip
        rule_map = rules.reload(conn) if rules.rule_map is None else rules.rule_map
        due = _decide(sid, f, rule_map)
        if _as_stored(due) != stored:
            due = _decide(sid, f, rules.reload(conn))
        if due is None or due.due_at > now:
            skipped[sid] = "retention.not_due"
        elif holds.get(sid, (0, 0))[1] or f.status == "blocked":
            skipped[sid] = "retention.held"
        else:
            chosen.append((subj, due))
    if not chosen:
        return {}, skipped

    gone = [subj.id for subj, _ in chosen]
    _SET_SUBJECT.run(
        conn,
        [
            {"b_sid": s.id, "b_blocked": month_start(s.blocked_at),
             "b_due": month_start(s.destruction_due_at), "b_created": month_start(s.created_at),
             "b_updated": month_start(s.updated_at)}
            for s, _ in chosen
        ],
    )  # fmt: skip
    app_rows = [r for sid in gone for r in apps.get(sid, ())]
    if app_rows:
        conn.execute(q.delete_timelines, {"ids": [r.id for r in app_rows]})
        _SET_APP.run(
            conn,
            [
                {"b_id": r.id, "b_sub": month_start(r.submitted_at),
                 "b_dec": month_start(r.decided_at), "b_clo": month_start(r.closed_at),
                 "b_upd": month_start(r.updated_at),
                 "b_days": whole_days(month_start(r.submitted_at), month_start(r.decided_at))}
                for r in app_rows
            ],
        )  # fmt: skip
    consent_rows = [r for sid in gone for r in consents.get(sid, ())]
    if consent_rows:
        _SET_CONSENT.run(
            conn,
            [
                {"b_id": r.id, "b_gr": month_start(r.granted_at),
                 "b_wd": month_start(r.withdrawn_at), "b_ev": month_start(r.evidence_received_at)}
                for r in consent_rows
            ],
        )  # fmt: skip
    members = [s for s, _ in chosen if s.member_id is not None]
    if members:
        _SET_MEMBER.run(
            conn,
            [
                {"b_id": s.member_id, "b_number": f"DESTROYED-{s.member_id}",
                 "b_since": s.since.replace(day=1), "b_ended": month_start(s.ended_at),
                 "b_changed": month_start(s.status_changed_at)}
                for s in members
            ],
        )  # fmt: skip
    with_requests = set(conn.execute(q.request_subjects, {"ids": gone}).scalars())
    if with_requests:
        conn.execute(q.blank_requests, {"ids": sorted(with_requests)})
    with_packages = set(conn.execute(q.package_subjects, {"ids": gone}).scalars())
    if with_packages:
        conn.execute(q.delete_packages, {"ids": sorted(with_packages)})
    conn.execute(q.delete_codes, {"ids": gone})
    conn.execute(q.delete_sessions, {"ids": gone})
    with_holds = [sid for sid in gone if holds.get(sid, (0, 0))[0]]
    if with_holds:
        conn.execute(q.blank_holds, {"ids": with_holds})

    batch = batch_id or ""
    acts = []
    for subj, due in chosen:
        sid = subj.id
        categories = ["subject.identity", "subject.contacts", "subject.profile"]
        if apps.get(sid):
            categories += ["application.reason", "application.timeline"]
        if consents.get(sid):
            categories.append("consent.evidence")
        if subj.member_id is not None:
            categories += ["member.number", "member.status_reason"]
        if sid in with_requests:
            categories.append("request.texts")
        if sid in with_packages:
            categories.append("request.access_package")
        if holds.get(sid, (0, 0))[0]:
            categories.append("legal_hold.reasons")
        acts.append((sid, categories, f"{due.purpose or 'request'}:{due.event}", due.due_at))
    act_ids = insert_rows(
        conn, _ACT,
        [
            {"reference": f"pending-{uuid.uuid4().hex[:12]}", "subject_ref": str(sid),
             "categories": json.dumps(cats, separators=(",", ":")), "rule": rule,
             "due_at": due_at, "destroyed_at": now, "actor_type": actor.actor_type,
             "actor_id": actor.user_id, "digest": "", "batch_id": batch}
            for sid, cats, rule, due_at in acts
        ],
    )  # fmt: skip
    year = local_date(now).year
    named, destroyed = [], {}
    for act_id, (sid, cats, rule, due_at) in zip(act_ids, acts, strict=True):
        reference = f"D-{year}-{act_id:06d}"
        digest = _digest(_content(reference, str(sid), cats, rule, due_at, now,
                                  actor.actor_type, actor.user_id, batch))  # fmt: skip
        named.append({"b_id": act_id, "b_ref": reference, "b_digest": digest})
        destroyed[sid] = reference
    _SET_ACT_NAME.run(conn, named)
    events = [(sid, {"act_id": named_id, "batch_id": batch})
              for named_id, sid in zip(act_ids, destroyed, strict=True)]  # fmt: skip
    audit.append_many(conn, actor, "subject.destroyed", "data_subject", events)
    return destroyed, skipped


def _destroy_one_by_one(
    conn, actor: Actor, ids: list[int], batch_id: str, rules: _Rules, report: SweepReport
) -> tuple[dict[int, str], dict[int, str]]:
    """The batch again, each subject in its own savepoint: a subject whose destruction fails
    is rolled back alone (``report.failed``) and the others still complete."""
    destroyed: dict[int, str] = {}
    skipped: dict[int, str] = {}
    for sid in ids:
        try:
            with conn.begin_nested():
                _, destroyed[sid] = _destroy_on(conn, actor, sid, utcnow(), batch_id, rules)
        except ServiceError as err:
            skipped[sid] = err.key
        except Exception as exc:  # noqa: BLE001 - reported per subject, the others go on
            report.failed.append((sid, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    return destroyed, skipped


def run_sweep(
    engine_or_session_factory: Engine | Callable[[], Any],
    *,
    as_of: datetime | date,
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[DestructionDue, str], None] | None = None,
    between: Callable[[], None] | None = None,
    batch_size: int = SWEEP_BATCH,
) -> SweepReport:
    """Destroy everything ``preview_sweep`` lists, ``batch_size`` subjects per transaction,
    each subject with its own all-or-nothing outcome and act.

    ``engine_or_session_factory``: an Engine, or a callable returning a context manager that
    yields a session and commits on exit (like ``db.session_scope``). A killed run leaves every
    subject destroyed-with-its-act or untouched; running again finishes. ``as_of`` later than
    now is refused unless ``dry_run`` (nothing is destroyed before its time). ``progress(due,
    outcome)`` is called per subject once its batch committed (outcome: act reference,
    ``dry-run``, a catalog key, or ``failed``); ``between()`` after each subject (the CLI's
    ``DPA_SWEEP_DELAY_MS``). A subject whose destruction fails with an unexpected error is
    left untouched and listed in ``report.failed``; the others go on.

    With an Engine the run keeps one connection for the whole run.
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
    size = max(1, int(batch_size))
    with ExitStack() as stack:
        conn = None
        if engine is not None and not dry_run:
            conn = stack.enter_context(engine.connect())
            stack.enter_context(_sweep_connection_settings(conn))

        @contextmanager
        def transaction():
            # On PostgreSQL the batch's audit events are inserted unlinked (issue 19): link
            # them right after the commit, as the ORM's after-commit hook does for sessions.
            if conn is not None:
                with conn.begin():
                    yield conn
                audit.link(conn, deadline_s=audit_link.LINK_DEADLINE_S)
            else:
                with factory() as session:
                    bind = session.get_bind()
                    yield session.connection()
                audit.link(bind, deadline_s=audit_link.LINK_DEADLINE_S)

        for start in range(0, len(report.due), size):
            chunk = report.due[start : start + size]
            outcomes: dict[int, str] = {}
            if dry_run:
                outcomes = dict.fromkeys((d.subject_id for d in chunk), "dry-run")
            else:
                ids = [d.subject_id for d in chunk]
                with transaction() as tx:
                    # The lock first: on SQLite it opens the real transaction the savepoint
                    # nests in (pysqlite begins one only at the first write).
                    audit.lock_writers_on(tx)
                    try:
                        with tx.begin_nested():
                            done, skipped = _destroy_batch(
                                tx, actor, ids, utcnow(), report.batch_id, rules_cache
                            )
                    except Exception:  # noqa: BLE001 - redone subject by subject below
                        done, skipped = _destroy_one_by_one(
                            tx, actor, ids, report.batch_id, rules_cache, report
                        )
                for sid in ids:
                    if sid in done:
                        report.destroyed.append((sid, done[sid]))
                        outcomes[sid] = done[sid]
                    elif sid in skipped:
                        report.skipped.append((sid, skipped[sid]))
                        outcomes[sid] = skipped[sid]
                    else:
                        outcomes[sid] = "failed"
            for item in chunk:
                if progress is not None:
                    progress(item, outcomes[item.subject_id])
                if between is not None:
                    between()
    report.seconds = _time.perf_counter() - started
    return report
