"""The retention sweep and the destruction of one subject (policy clauses 4.4 and 7.2).

Split from ``services.retention`` (issue 19), which keeps the rules and the decision and still
exposes ``run_sweep``, ``destroy_subject``, ``preview_sweep`` and ``SweepReport``. Here: the
one-subject path (``_destroy_on``, ``destroy_subject``), the preview and the run
(``run_sweep``, its SQLite connection settings and its subject-by-subject fallback). A batch's
set-based statements are in ``retention_batch``; what both paths decide and write per row is
in ``retention_destroy``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dpa_panel.models import (
    AccessPackage,
    DataSubject,
    DestructionAct,
    SubjectCode,
    SubjectSession,
)
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, audit_link
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.prepared import Prepared
from dpa_panel.services.retention import (
    DestructionDue,
    _held_expr,
    local_date,
    local_midnight_utc,
)
from dpa_panel.services.retention_batch import _destroy_batch
from dpa_panel.services.retention_destroy import (
    _ACT,
    _APP,
    _BLANK_APP,
    _BLANK_CONSENT,
    _BLANK_MEMBER,
    _BLANK_SUBJECT,
    _CONSENT,
    _EVENT,
    _HOLD,
    _HOLD_BLANK_VALUES,
    _MEMBER,
    _NAME_ACT,
    _P_SID,
    _P_TODAY,
    _REQUEST,
    _REQUEST_BLANK_VALUES,
    _SUBJECT,
    _act_name,
    _act_row,
    _app_blank_params,
    _consent_blank_params,
    _destroyed_categories,
    _due_or_refusal,
    _event_details,
    _m,
    _member_blank_params,
    _Rules,
    _s,
    _subject_blank_params,
)

#: The one-subject path's reads: the subject, its member row (at most one), its materialised
#: decision and its holds; its applications; its consents.
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
# The one-subject path's writes by subject id (the per-row blanking is in ``retention_destroy``).
_DELETE_TIMELINES = Prepared(
    delete(_EVENT).where(
        _EVENT.c.application_id.in_(select(_APP.c.id).where(_APP.c.subject_id == _P_SID))
    )
)
_BLANK_REQUESTS = Prepared(
    update(_REQUEST).where(_REQUEST.c.subject_id == _P_SID).values(**_REQUEST_BLANK_VALUES)
)
#: The privacy centre's rows of the subject (issue 20): the access package holds a full copy of
#: the subject report; codes and sessions hold only digests and ids, but name the subject.
_DELETE_PACKAGES = Prepared(delete(AccessPackage.__table__)
                            .where(AccessPackage.__table__.c.subject_id == _P_SID))
_DELETE_CODES = Prepared(delete(SubjectCode.__table__)
                         .where(SubjectCode.__table__.c.subject_id == _P_SID))
_DELETE_SUBJECT_SESSIONS = Prepared(delete(SubjectSession.__table__)
                                    .where(SubjectSession.__table__.c.subject_id == _P_SID))
_BLANK_HOLDS = Prepared(
    update(_HOLD).where(_HOLD.c.subject_id == _P_SID).values(**_HOLD_BLANK_VALUES)
)
_ACT_FIELDS = ("reference", "subject_ref", "categories", "rule", "due_at", "destroyed_at",
               "actor_type", "actor_id", "digest", "batch_id")  # fmt: skip
#: A plain Core execute (not ``Prepared``): the table's Python-side column defaults (such
#: as keys derived from ``destroyed_at``) are computed by SQLAlchemy's execution context.
_INSERT_ACT = insert(_ACT).values({c: bindparam(c) for c in _ACT_FIELDS}).returning(_ACT.c.id)


def _destroy_on(
    conn, actor: Actor, subject_id: int, now: datetime, batch_id: str, rules: _Rules,
) -> tuple[int, str]:  # fmt: skip
    """``destroy_subject`` on a Core connection, in its current transaction: (act id, ref).

    The decision, the parameters of every blanked row, the categories, the act and the event
    come from ``retention_destroy``, as in the batch path (``retention_batch._destroy_batch``).
    """
    audit.lock_writers_on(conn)
    # Everything below is read under the writers' lock.
    today = local_date(now)
    sid = {"b_sid": subject_id}
    subj = _READ_SUBJECT.first(conn, {"b_sid": subject_id, "b_today": today})
    if subj is None:
        raise ServiceError("retention.not_due")
    apps = _READ_APPS.rows(conn, sid)
    consents = _READ_CONSENTS.rows(conn, sid)
    due = _due_or_refusal(conn, subject_id, subj, apps, consents, subj.holds_in_force, now, rules)
    if isinstance(due, str):
        raise ServiceError(due)

    _BLANK_SUBJECT.execute(conn, _subject_blank_params(subject_id, subj))
    if apps:
        _DELETE_TIMELINES.execute(conn, sid)
        _BLANK_APP.executemany(conn, [_app_blank_params(r) for r in apps])
    if consents:
        _BLANK_CONSENT.executemany(conn, [_consent_blank_params(r) for r in consents])
    if subj.member_id is not None:
        _BLANK_MEMBER.execute(conn, _member_blank_params(subj))
    had_requests = bool(_BLANK_REQUESTS.execute(conn, sid))
    had_package = bool(_DELETE_PACKAGES.execute(conn, sid))
    _DELETE_CODES.execute(conn, sid)
    _DELETE_SUBJECT_SESSIONS.execute(conn, sid)
    if subj.holds:
        _BLANK_HOLDS.execute(conn, sid)

    categories = _destroyed_categories(
        apps=bool(apps), consents=bool(consents), member=subj.member_id is not None,
        requests=had_requests, package=had_package, holds=bool(subj.holds),
    )  # fmt: skip
    row = _act_row(subject_id, categories, due, now, actor, batch_id or "")
    act_id = conn.execute(_INSERT_ACT, row).scalar_one()
    named = _act_name(act_id, row, categories)
    _NAME_ACT.execute(conn, named)
    details = _event_details(act_id, row["batch_id"])
    audit.record_on(conn, actor, "subject.destroyed", "data_subject", subject_id, details)
    return act_id, named["b_ref"]


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


# --- the sweep: batches of subjects (issue 19; a batch's statements: ``retention_batch``) ------

#: Subjects per sweep transaction. Each subject keeps its own outcome: the batch's statements
#: run inside a savepoint, and if any of them fails the batch is redone subject by subject,
#: each in its own savepoint, so one failing subject leaves the others destroyed and itself
#: untouched. A killed sweep rolls back only its current batch (each subject in it untouched).
#: The batch holds the writers' lock: about 0.2 s at a thousand subjects a second.
SWEEP_BATCH = 200


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
