"""The membership application pipeline (policy clauses 2.1–2.2; purposes "application review"
and "member register").

Rules:

* **One transaction per action.** Every function that changes data takes the caller's
  ``session`` and an ``audit.Actor`` and writes its audit event(s) with ``audit.record`` in
  that transaction; nothing here commits. Audit details name fields and codes, never values.
* **The public form's submission** is ``services.submission`` (split off in issue 19).
* **One state machine.** ``change_status`` is the only way an application's status changes
  (``TRANSITIONS``). Approval creates the register entry in the same transaction.
* **Writers are serialised.** Decisions that read then write (duplicate check, rate limit,
  current status, next membership number) are taken after ``audit.lock_writers``, the lock
  every audited write takes anyway, so two concurrent requests cannot both pass a check or
  draw the same number.
* **Blocked or destroyed subjects are invisible** to staff lists and cannot be processed
  (``subject.not_active``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, or_, select, union
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    StaffUser,
)
from dpa_panel.models.subject import compose_search_text, fold_for_search
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import (
    APPLICATION_STATUSES,
    SUBJECT_STATUSES,
)
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import (
    APPLICATION_FIELDS,
    clean_text,
    validate_field,
)

_TZ = ZoneInfo(settings.DISPLAY_TZ)

TEXT_MAX = 2000  # notes, reasons, questions
SEARCH_MAX = 100
MAX_PAGE_SIZE = 200
ENTITY = "membership_application"

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submitted": ("in_review", "rejected", "withdrawn"),
    "in_review": ("info_requested", "approved", "rejected", "withdrawn"),
    "info_requested": ("in_review", "rejected", "withdrawn"),
    "approved": (),
    "rejected": (),
    "withdrawn": (),
}
#: Statuses that end the application's purpose: the retention clock starts at ``closed_at``.
CLOSING_STATUSES = ("rejected", "withdrawn")
DECISION_STATUSES = ("approved", "rejected")
#: Roles whose active accounts can be assigned applications.
ASSIGNABLE_ROLES = ("staff", "admin")
SORTS = ("submitted_desc", "submitted_asc", "surname", "status")


def allowed_transitions(status: str) -> tuple[str, ...]:
    """Where an application in ``status`` may go next (empty for final or unknown statuses)."""
    return TRANSITIONS.get(status, ())


def local_date(moment: datetime) -> date:
    """The calendar day in Almaty of an aware timestamp."""
    return moment.astimezone(_TZ).date()


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_TZ).astimezone(UTC)


# --- processing ------------------------------------------------------------------------------


def _load_for_change(
    session: Session, application_id: int
) -> tuple[MembershipApplication, DataSubject]:
    """The application and its subject, freshly read (after ``lock_writers``), both checked."""
    application = session.get(MembershipApplication, application_id, populate_existing=True)
    if application is None:
        raise ServiceError("application.not_found")
    subject = session.get(DataSubject, application.subject_id, populate_existing=True)
    if subject is None or subject.status != "active":
        raise ServiceError("subject.not_active")
    return application, subject


def _clean_free_text(raw: str, *, required: bool, field_name: str) -> str:
    value, error = clean_text(raw, TEXT_MAX, required=required, multiline=True)
    if error:
        raise ServiceError(error, field=field_name)
    return value


def next_membership_number(session: Session, year: int) -> str:
    """``PRMA-<year>-<6 digits>``, one more than the highest number of that year.

    Call it only while holding ``audit.lock_writers`` (``change_status`` does), so two
    approvals cannot draw the same number; the unique constraint is the last line of defence.
    """
    prefix = f"PRMA-{year}-"
    highest = session.scalar(
        select(func.max(Member.membership_number)).where(
            Member.membership_number >= prefix,
            Member.membership_number < f"PRMA-{year}.",  # "." sorts right after "-"
        )
    )
    last = int(highest[len(prefix) :]) if highest and highest[len(prefix) :].isdigit() else 0
    return f"{prefix}{last + 1:06d}"


def change_status(
    session: Session,
    actor: Actor,
    application_id: int,
    to_status: str,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> MembershipApplication:
    """THE state machine: move an application along ``TRANSITIONS``.

    ``reason`` is required for ``rejected`` (``application.reason_required``); for
    ``info_requested`` it is what was asked (optional); it goes to the timeline in every case
    and to ``application.reason`` for decisions. ``approved``/``rejected`` set
    ``decided_at``/``decision``; ``rejected``/``withdrawn`` set ``closed_at`` (the retention
    clock starts). Approval creates the ``Member`` with the next ``PRMA-<year>-NNNNNN`` number
    (``since`` = the Almaty date of approval) and refuses a subject already in the register.
    """
    now = now or utcnow()
    reason = _clean_free_text(reason, required=False, field_name="reason")
    if to_status == "rejected" and not reason:
        raise ServiceError("application.reason_required", field="reason")
    # Lock first, then read: a concurrent change of the same application (or a concurrent
    # approval drawing a membership number) waits here until the other transaction ends.
    audit.lock_writers(session)
    application, subject = _load_for_change(session, application_id)
    from_status = application.status
    if to_status not in allowed_transitions(from_status):
        raise ServiceError("application.illegal_transition")

    member = None
    if to_status == "approved":
        if session.scalar(select(Member.id).where(Member.subject_id == subject.id)) is not None:
            raise ServiceError("application.already_member")
        since = local_date(now)
        member = Member(
            subject_id=subject.id,
            application_id=application.id,
            membership_number=next_membership_number(session, since.year),
            since=since,
            status="active",
        )
        session.add(member)

    application.status = to_status
    application.updated_at = now
    if to_status in DECISION_STATUSES:
        application.decision = to_status
        application.decided_at = now
    if to_status in DECISION_STATUSES or (to_status == "withdrawn" and reason):
        application.reason = reason
    if to_status in CLOSING_STATUSES:
        application.closed_at = now
    session.add(application)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            occurred_at=now,
            actor_id=actor.user_id,
            kind="status_changed",
            from_status=from_status,
            to_status=to_status,
            text=reason,
        )
    )
    session.flush()
    from dpa_panel.services import retention

    retention.recompute_retention(session, [subject.id])
    audit.record(
        session,
        actor,
        "application.status_changed",
        ENTITY,
        application.id,
        {"from": from_status, "to": to_status},
    )
    if member is not None:
        audit.record(
            session,
            actor,
            "member.created",
            "member",
            member.id,
            {"application_id": application.id},
        )
    from dpa_panel.services import acknowledgements

    acknowledgements.application_decided(session, application, subject, now=now)
    return application


def assign(
    session: Session, actor: Actor, application_id: int, assignee_id: int | None
) -> MembershipApplication:
    """Give the application to an active staff or admin account (``None`` = unassign)."""
    audit.lock_writers(session)
    application, _ = _load_for_change(session, application_id)
    username = ""
    if assignee_id is not None:
        assignee = session.get(StaffUser, assignee_id)
        if assignee is None or not assignee.is_active or assignee.role not in ASSIGNABLE_ROLES:
            raise ServiceError("application.bad_assignee", field="assignee")
        username = assignee.username
    previous = application.assignee_id
    if previous == assignee_id:
        return application
    now = utcnow()
    application.assignee_id = assignee_id
    application.updated_at = now
    session.add(application)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            occurred_at=now,
            actor_id=actor.user_id,
            kind="assigned",
            text=username,
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        "application.assigned",
        ENTITY,
        application.id,
        {"from": previous, "to": assignee_id},
    )
    return application


def add_note(session: Session, actor: Actor, application_id: int, text: str) -> ApplicationEvent:
    """A free-text note on the timeline (1..2000 characters; new lines allowed).

    The note is personal data about the applicant: it is kept on the timeline only, never in
    the audit trail.
    """
    value = _clean_free_text(text, required=True, field_name="text")
    audit.lock_writers(session)
    application, _ = _load_for_change(session, application_id)
    event = ApplicationEvent(
        application_id=application.id,
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        kind="note",
        text=value,
    )
    session.add(event)
    session.flush()
    audit.record(
        session, actor, "application.note_added", ENTITY, application.id, {"event_id": event.id}
    )
    return event


def update_subject(
    session: Session,
    actor: Actor,
    subject_id: int,
    changes: Mapping[str, object],
    *,
    application_id: int | None = None,
) -> list[str]:
    """Correct a subject's form data; returns the names of the fields that really changed.

    A field whose submitted text is exactly what is stored counts as untouched and is not
    re-checked (an edit form sends every field back; data recorded under older rules must
    not block correcting another field). Every other given field is checked with the form's
    rule — ``ValidationFailed`` lists every invalid one and nothing is stored — and compared
    after cleaning, so "+7 701 ..." for a stored "+7701..." is no change. With no real change
    nothing is written. The audit event and the optional timeline entry (``application_id=``)
    name the changed fields only, never old or new values. ``ValueError`` for a name that is
    not a form field (a programming error, not a user's).
    """
    unknown = sorted(set(changes) - set(APPLICATION_FIELDS))
    if unknown:
        raise ValueError(f"not editable subject fields: {unknown}")
    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None:
        raise ServiceError("subject.not_found")
    if subject.status != "active":
        raise ServiceError("subject.not_active")
    application = None
    if application_id is not None:
        application = session.get(MembershipApplication, application_id)
        if application is None or application.subject_id != subject.id:
            raise ServiceError("application.not_found")

    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in APPLICATION_FIELDS:
        if name not in changes:
            continue
        stored = getattr(subject, name)
        if (changes[name] or "") == ("" if stored is None else str(stored)):
            continue
        value, error = validate_field(name, changes[name])
        cleaned[name] = value
        if error:
            errors[name] = error
    if errors:
        raise ValidationFailed(errors)

    changed = [name for name, value in cleaned.items() if getattr(subject, name) != value]
    if not changed:
        return []
    now = utcnow()
    for name in changed:
        setattr(subject, name, cleaned[name])
    subject.search_text = compose_search_text(subject)
    subject.updated_at = now
    session.add(subject)
    if application is not None:
        session.add(
            ApplicationEvent(
                application_id=application.id,
                occurred_at=now,
                actor_id=actor.user_id,
                kind="edited",
                text=", ".join(changed),
            )
        )
    session.flush()
    audit.record(session, actor, "subject.updated", "data_subject", subject.id, {"fields": changed})
    return changed


# --- lists for staff -------------------------------------------------------------------------
#
# How the lists stay fast at 100,000 subjects on both engines (see docs/decisions.md):
#
# * "Only active subjects" is an anti-join against the few blocked/destroyed subjects
#   (``active_subject``), so counts and pages read the narrow application indexes, which carry
#   ``subject_id``, instead of looking up every wide subject row.
# * The search is a semi-join ``subject_id IN (subjects whose search_text contains the term)``:
#   a trigram index search on PostgreSQL, a scan of the narrow ``ix_subject_search`` on SQLite.
# * A page first picks its ids and the total in ONE statement (the search is a CTE both
#   refer to, so it runs once per page), then loads the 50 rows with their joins.

INACTIVE_SUBJECT_STATUSES = tuple(s for s in SUBJECT_STATUSES if s != "active")


@dataclass
class ApplicationQuery:
    """What the pipeline shows: filters, sort and page (``date_*``: Almaty days, inclusive)."""

    search: str = ""
    status: str = ""
    assignee_id: int | None = None
    unassigned: bool = False
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "submitted_desc"
    page: int = 1
    page_size: int = 50


@dataclass
class ApplicationRow:
    id: int
    reference: str
    submitted_at: datetime
    status: str
    surname: str
    first_name: str
    patronymic: str | None
    email: str
    workplace: str
    assignee_username: str | None
    subject_id: int


#: Characters a reference (``A-2026-000123``) consists of, after folding.
_REFERENCE_CHARS = frozenset("a0123456789-")


def search_term(raw: str) -> str:
    """The folded search term: one line, inner whitespace collapsed, at most 100 characters."""
    term = " ".join((raw or "").split())[:SEARCH_MAX]
    return fold_for_search(term)


def active_subject(session: Session, subject_id_column) -> ColumnElement[bool]:
    """``subject_id_column`` points at an active subject (not blocked, not destroyed).

    An anti-join against the non-active subjects: SQLite materialises their ids once (via
    ``ix_subject_status``); PostgreSQL gets ``NOT EXISTS``, which it runs as a hash anti-join
    whatever their number (a ``NOT IN`` there could degrade to a per-row subplan).
    """
    if _dialect(session) == "sqlite":
        inactive = select(DataSubject.id).where(DataSubject.status.in_(INACTIVE_SUBJECT_STATUSES))
        return subject_id_column.not_in(inactive)
    other = aliased(DataSubject)
    return ~exists().where(
        other.id == subject_id_column, other.status.in_(INACTIVE_SUBJECT_STATUSES)
    )


#: Shorter terms have no trigram, so PostgreSQL's trigram index cannot narrow them down.
TRIGRAM = 3


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def text_contains(session: Session, column, term: str) -> ColumnElement[bool]:
    """``column`` contains ``term`` (both already folded): plain substring, no wildcards.

    PostgreSQL: ``LIKE '%term%'`` (escaped), which the trigram index answers; for a term of
    one or two characters (no trigram: the index would be read whole) ``strpos``, which
    leads the planner to a plain scan. SQLite scans either way and takes the faster
    spelling: ``LIKE`` when the term starts with an ASCII character (SQLite skips ahead to
    it quickly), ``instr(column, term) > 0`` otherwise (about a third faster than ``LIKE``
    on Cyrillic). Both sides are folded to lower case, so ``LIKE``'s ASCII case-blindness
    changes nothing.
    """
    if _dialect(session) == "sqlite":
        if term[:1].isascii():
            return column.contains(term, autoescape=True)
        return func.instr(column, term) > 0
    if len(term) < TRIGRAM:
        return func.strpos(column, term) > 0
    return column.contains(term, autoescape=True)


def search_condition(
    session: Session,
    term: str,
    id_column,
    subject_id_column,
    code_column,
    code_chars: frozenset[str],
) -> ColumnElement[bool]:
    """Rows whose subject's folded text contains ``term``, or whose code (reference,
    membership number) does — the code only when every character of the term can occur in a
    code, so a name search costs no second scan. Matches by subject and by code are united
    in one id list rather than OR-ed in the WHERE, which keeps both engines on semi-joins.

    On SQLite the id list is a CTE: a page statement refers to it twice (its rows and its
    total) and SQLite then scans for the term once. PostgreSQL gets plain subqueries: the
    trigram index makes a second search cheap, and unlike a CTE a subquery lets the planner
    estimate how many rows match.
    """
    by_subject = select(DataSubject.id).where(text_contains(session, DataSubject.search_text, term))
    if set(term) <= code_chars:
        other = aliased(id_column.class_)
        other_id = getattr(other, id_column.key).label("id")
        ids = union(
            select(other_id).where(getattr(other, subject_id_column.key).in_(by_subject)),
            select(other_id).where(
                text_contains(session, getattr(other, code_column.key), term.upper())
            ),
        )
        column = id_column
    else:
        ids, column = by_subject, subject_id_column
    if _dialect(session) == "sqlite":
        hits = ids.cte("search_hits")
        return column.in_(select(hits.c.id))
    return column.in_(ids)


def _conditions(
    session: Session, q: ApplicationQuery, *, with_status: bool = True, with_search: bool = True
) -> list[ColumnElement[bool]]:
    MA = MembershipApplication
    conds = [active_subject(session, MA.subject_id)]
    term = search_term(q.search)
    if term and with_search:
        conds.append(
            search_condition(session, term, MA.id, MA.subject_id, MA.reference, _REFERENCE_CHARS)
        )
    if with_status and q.status:
        conds.append(MA.status == q.status)
    if q.unassigned:
        conds.append(MA.assignee_id.is_(None))
    elif q.assignee_id is not None:
        conds.append(MA.assignee_id == q.assignee_id)
    if q.date_from:
        conds.append(MA.submitted_at >= _local_midnight_utc(q.date_from))
    if q.date_to:
        conds.append(MA.submitted_at < _local_midnight_utc(q.date_to + timedelta(days=1)))
    return conds


def _order_by(sort: str) -> tuple[list, bool]:
    """ORDER BY terms and whether they need the subject joined."""
    MA = MembershipApplication
    if sort == "submitted_asc":
        return [MA.submitted_at.asc(), MA.id.asc()], False
    if sort == "surname":
        return [DataSubject.surname, DataSubject.first_name, MA.id], True
    if sort == "status":
        order = case({s: i for i, s in enumerate(APPLICATION_STATUSES)}, value=MA.status)
        return [order, MA.submitted_at.desc(), MA.id.desc()], False
    return [MA.submitted_at.desc(), MA.id.desc()], False


def _rows_by_id(session: Session, ids: list[int]) -> list[ApplicationRow]:
    """The display rows of ``ids``, in that order."""
    if not ids:
        return []
    MA = MembershipApplication
    stmt = (
        select(
            MA.id,
            MA.reference,
            MA.submitted_at,
            MA.status,
            DataSubject.surname,
            DataSubject.first_name,
            DataSubject.patronymic,
            DataSubject.email,
            DataSubject.workplace,
            StaffUser.username,
            MA.subject_id,
        )
        .join(DataSubject, DataSubject.id == MA.subject_id)
        .outerjoin(StaffUser, StaffUser.id == MA.assignee_id)
        .where(MA.id.in_(ids))
    )
    by_id = {row.id: ApplicationRow(*row) for row in session.execute(stmt)}
    return [by_id[i] for i in ids if i in by_id]


def page_with_total(
    session: Session,
    id_column,
    conds: list,
    order: list,
    *,
    page: int,
    page_size: int,
    join=None,
) -> tuple[list[int], int]:
    """One page of ids and the number of all matches, from ONE statement.

    The total is an uncorrelated scalar subquery beside the page's ids, so a search CTE in
    ``conds`` is computed once for both. ``join``: ``(entity, onclause)`` when the ORDER BY
    needs another table. A page past the end has no row to carry the total; a plain COUNT
    answers then.
    """
    page = max(1, page)
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    table = id_column.class_
    count = select(func.count()).select_from(table).where(*conds)
    stmt = select(id_column, count.correlate(None).scalar_subquery()).select_from(table)
    if join is not None:
        stmt = stmt.join(*join)
    stmt = stmt.where(*conds).order_by(*order).limit(size).offset((page - 1) * size)
    result = session.execute(stmt).all()
    if result:
        return [row[0] for row in result], result[0][1]
    return [], (0 if page == 1 else session.scalar(count))


#: A name search in date order counts its matches only this far past the page's start and then
#: says "more than N" (decision 19-search-1): counting every match of a common name stem cost
#: more than the page itself.
SEARCH_COUNT_CAP = 200

#: Sorts an index of ``membership_application`` delivers in order, so a capped search page can
#: walk the applications newest (or oldest) first and stop after enough matches.
_WALKABLE_SORTS = frozenset({"submitted_desc", "submitted_asc"})


class Total(int):
    """A match count; ``more`` means "at least this many", counting stopped there."""

    more: bool = False

    def __new__(cls, value: int, more: bool = False):
        total = super().__new__(cls, value)
        total.more = more
        return total


@contextmanager
def _serial_plan(session: Session) -> Iterator[None]:
    """PostgreSQL: no parallel workers for one statement (then the previous setting again).

    The walk stops after a few thousand index steps; a Gather Merge the planner may pick for
    it costs more in starting workers on a busy server (measured 60+ ms) than the walk itself.
    """
    if _dialect(session) != "postgresql":
        yield
        return
    name = "max_parallel_workers_per_gather"
    before = session.scalar(select(func.current_setting(name)))
    session.execute(select(func.set_config(name, "0", True)))
    try:
        yield
    finally:
        session.execute(select(func.set_config(name, before, True)))


#: SQLite: how many applications (in page order) a capped search tests at most — at least this
#: many, or 20 per match it needs — before it gives up and scans the subjects' search text
#: once, as an uncapped search does. A term matching under ~2% of them (a rare name) would
#: otherwise test every application, one subject lookup each (measured: 1 s at 100,000).
SQLITE_WALK_BUDGET = 10_000
SQLITE_WALK_PER_MATCH = 20


def _capped_search(
    session: Session, q: ApplicationQuery, term: str
) -> tuple[list[int], Total] | None:
    """The page's ids and a total counted at most to ``offset + SEARCH_COUNT_CAP + 1`` (or a
    page's size, if larger); ``None`` when SQLite gave up (``SQLITE_WALK_BUDGET``).

    One statement: the matching ids in page order, ``LIMIT offset + cap + 1`` — the page is the
    slice after the offset and the total is how many came back (``more`` when the limit was
    reached). Both engines walk the application index in date order and test each subject
    (by primary key) until the limit: PostgreSQL's planner picks that from the LIMIT (or the
    trigram index, for a rare term); SQLite gets a correlated ``EXISTS`` (its usual id-list CTE
    would scan every subject first), confined to the first ``budget`` applications in page
    order. Rows found in such a prefix are the first matches of the whole order, so the page
    is exact; if the prefix held too few, the caller runs the uncapped query.
    """
    MA = MembershipApplication
    size = max(1, min(q.page_size, MAX_PAGE_SIZE))
    offset = (max(1, q.page) - 1) * size
    limit = offset + max(SEARCH_COUNT_CAP, size) + 1
    conds = _conditions(session, q, with_search=False)
    order, _ = _order_by(q.sort)
    window = None
    if _dialect(session) == "sqlite":
        budget = max(SQLITE_WALK_BUDGET, SQLITE_WALK_PER_MATCH * limit)
        prefix = select(MA.submitted_at, MA.id).where(*conds).order_by(*order)
        edge = session.execute(prefix.offset(budget - 1).limit(1)).first()
        if edge is not None:  # more applications than the budget: walk only the first ones
            at, ident = edge
            if q.sort == "submitted_asc":
                window = or_(MA.submitted_at < at, and_(MA.submitted_at == at, MA.id <= ident))
            else:
                window = or_(MA.submitted_at > at, and_(MA.submitted_at == at, MA.id >= ident))
        search = exists().where(
            DataSubject.id == MA.subject_id,
            text_contains(session, DataSubject.search_text, term),
        )
    else:
        search = search_condition(session, term, MA.id, MA.subject_id, MA.reference,
                                  _REFERENCE_CHARS)  # fmt: skip
    where = [*conds, search] if window is None else [*conds, window, search]
    stmt = select(MA.id).where(*where).order_by(*order).limit(limit)
    with _serial_plan(session):
        ids = list(session.scalars(stmt))
    if window is not None and len(ids) < limit:
        return None  # too few matches among the first applications: count them all
    return ids[offset : offset + size], Total(len(ids), more=len(ids) == limit)


def list_applications(session: Session, q: ApplicationQuery) -> tuple[list[ApplicationRow], int]:
    """One page of applications (active subjects only) and how many match in total.

    Filtering, sorting and paging happen in SQL; ``page`` is 1-based and ``page_size`` capped
    at ``MAX_PAGE_SIZE``. Unknown sorts fall back to newest first. A name search in date
    order returns a capped ``Total`` (``total.more``: "more than ``total - 1``"); the rows are
    exactly those of the uncapped query.
    """
    term = search_term(q.search)
    if term and q.sort in _WALKABLE_SORTS and not set(term) <= _REFERENCE_CHARS:
        capped = _capped_search(session, q, term)
        if capped is not None:
            return _rows_by_id(session, capped[0]), capped[1]
    order, needs_subject = _order_by(q.sort)
    ids, total = page_with_total(
        session,
        MembershipApplication.id,
        _conditions(session, q),
        order,
        page=q.page,
        page_size=q.page_size,
        join=(DataSubject, DataSubject.id == MembershipApplication.subject_id)
        if needs_subject
        else None,
    )
    return _rows_by_id(session, ids), total


def status_counts(session: Session, q: ApplicationQuery) -> dict[str, int]:
    """Applications per status (one GROUP BY) under ``q``'s filters except its status; every
    status is a key (0 when none)."""
    MA = MembershipApplication
    stmt = (
        select(MA.status, func.count())
        .where(*_conditions(session, q, with_status=False))
        .group_by(MA.status)
    )
    counts = dict.fromkeys(APPLICATION_STATUSES, 0)
    counts.update({status: count for status, count in session.execute(stmt)})
    return counts


def board_columns(
    session: Session,
    q: ApplicationQuery,
    per_column: int = 20,
    limits: dict[str, int] | None = None,
) -> dict[str, list[ApplicationRow]]:
    """The newest ``per_column`` applications of every status under ``q``'s other filters
    (``limits`` may give a status its own number: a column's "show more", issue 18).

    Without a search term: one small indexed query per status. With one: a single query
    (``ROW_NUMBER() OVER (PARTITION BY status ...)``), so the search runs once, not six times.
    """
    MA = MembershipApplication
    per_column = max(1, min(per_column, MAX_PAGE_SIZE))
    wanted = {
        status: max(1, min(int((limits or {}).get(status, per_column)), MAX_PAGE_SIZE))
        for status in APPLICATION_STATUSES
    }
    conds = _conditions(session, q, with_status=False)
    newest = [MA.submitted_at.desc(), MA.id.desc()]
    if not search_term(q.search):
        ids_by_status = {
            status: list(
                session.scalars(
                    select(MA.id).where(*conds, MA.status == status).order_by(*newest)
                    .limit(wanted[status])
                )
            )
            for status in APPLICATION_STATUSES
        }  # fmt: skip
    else:
        ranked = (
            select(
                MA.id.label("id"),
                MA.status.label("status"),
                func.row_number().over(partition_by=MA.status, order_by=newest).label("rank"),
            )
            .where(*conds)
            .subquery()
        )
        ids_by_status = {status: [] for status in APPLICATION_STATUSES}
        for app_id, status in session.execute(
            select(ranked.c.id, ranked.c.status)
            .where(
                or_(*[and_(ranked.c.status == st, ranked.c.rank <= n) for st, n in wanted.items()])
            )
            .order_by(ranked.c.status, ranked.c.rank)
        ):
            ids_by_status.setdefault(status, []).append(app_id)
    rows = {
        row.id: row for row in _rows_by_id(session, [i for v in ids_by_status.values() for i in v])
    }
    return {status: [rows[i] for i in ids if i in rows] for status, ids in ids_by_status.items()}


# --- one application -------------------------------------------------------------------------


@dataclass
class ApplicationDetail:
    application: MembershipApplication
    subject: DataSubject
    #: Every consent of the subject (``purpose_code``, withdrawals included), newest first.
    consents: list[Consent]
    #: The application's timeline, oldest first.
    timeline: list[ApplicationEvent]
    #: Staff user id -> username for the timeline's ``actor_id``s (and the assignee).
    usernames: dict[int, str] = field(default_factory=dict)
    member: Member | None = None
    assignee_username: str | None = None
    allowed: tuple[str, ...] = ()


def subject_consents(session: Session, subject_id: int) -> list[Consent]:
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.subject_id == subject_id)
            .order_by(Consent.granted_at.desc(), Consent.id.desc())
        )
    )


def read_application(session: Session, actor: Actor, application_id: int) -> ApplicationDetail:
    """Everything the detail page shows; the read itself is audited (``application.read``)."""
    application = session.get(MembershipApplication, application_id)
    if application is None:
        raise ServiceError("application.not_found")
    subject = session.get(DataSubject, application.subject_id)
    if subject is None or subject.status != "active":
        raise ServiceError("subject.not_active")
    timeline = list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.id)
        )
    )
    user_ids = {e.actor_id for e in timeline if e.actor_id is not None}
    if application.assignee_id is not None:
        user_ids.add(application.assignee_id)
    usernames = (
        dict(
            session.execute(
                select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(user_ids))
            ).all()
        )
        if user_ids
        else {}
    )
    member = session.scalars(select(Member).where(Member.subject_id == subject.id)).first()
    audit.record(session, actor, "application.read", ENTITY, application.id)
    return ApplicationDetail(
        application=application,
        subject=subject,
        consents=subject_consents(session, subject.id),
        timeline=timeline,
        usernames=usernames,
        member=member,
        assignee_username=usernames.get(application.assignee_id)
        if application.assignee_id is not None
        else None,
        allowed=allowed_transitions(application.status),
    )


def staff_choices(session: Session) -> list[tuple[int, str]]:
    """Accounts applications can be assigned to: active staff and admins, by username."""
    return [
        (uid, name)
        for uid, name in session.execute(
            select(StaffUser.id, StaffUser.username)
            .where(StaffUser.is_active.is_(True), StaffUser.role.in_(ASSIGNABLE_ROLES))
            .order_by(StaffUser.username)
        )
    ]
