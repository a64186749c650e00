"""The register of all data-subject requests (policy clause 6): views (open, due soon,
overdue, answered, refused, withdrawn, all), filters by kind, assignee and received dates,
search by reference, name or e-mail, paging in SQL, counts per view, and the rows of its
CSV/XLSX export (labels and Almaty times).

Searching matches the request's own copy (``subject_request.search_text``: reference,
requester, contact) and the linked subject's (name, e-mail). Reading a page of the register
names people, so the state audits it (``request.register_read``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy import types as sa_types
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_date, format_entry_datetime, parse_date
from dpa_panel.models import DataSubject, StaffUser, SubjectRequest
from dpa_panel.models.vocab import CLOSED_REQUEST_STATUSES, OPEN_REQUEST_STATUSES, REQUEST_KINDS
from dpa_panel.services import calendar
from dpa_panel.services.applications import local_date, search_term, text_contains
from dpa_panel.services.errors import ServiceError

#: The register's views; ``open`` is the default.
VIEWS = ("open", "due_soon", "overdue", "answered", "refused", "withdrawn", "all")
DEFAULT_DUE_WITHIN = 3
MAX_DUE_WITHIN = 60
PAGE_SIZE = 50
#: Closing statuses counted by "answered on time" (a withdrawal is not an answer).
ANSWERING_STATUSES = ("answered", "refused")
_TZ = ZoneInfo(settings.DISPLAY_TZ)


@dataclass
class RegisterQuery:
    """What the register shows. ``assignee``: ``""`` anyone, ``"none"`` nobody, or an id."""

    view: str = "open"
    due_within: int = DEFAULT_DUE_WITHIN
    kind: str = ""
    assignee: str = ""
    received_from: date | None = None
    received_to: date | None = None
    search: str = ""
    page: int = 1
    page_size: int = PAGE_SIZE


def query_from_strings(values: dict[str, str], page: int = 1) -> RegisterQuery:
    """A query from a filter form or download parameters; ``register.bad_filter`` (or
    ``audit.bad_date`` / ``audit.bad_range``) for anything it does not know."""
    view = (values.get("view") or "open").strip()
    if view not in VIEWS:
        raise ServiceError("register.bad_filter", field="view")
    raw_within = (values.get("due_within") or "").strip()
    if raw_within and not raw_within.isdigit():
        raise ServiceError("register.bad_due_within", field="due_within")
    due_within = int(raw_within) if raw_within else DEFAULT_DUE_WITHIN
    if not 0 <= due_within <= MAX_DUE_WITHIN:
        raise ServiceError("register.bad_due_within", field="due_within")
    kind = (values.get("kind") or "").strip()
    if kind and kind not in REQUEST_KINDS:
        raise ServiceError("register.bad_filter", field="kind")
    assignee = (values.get("assignee") or "").strip()
    if assignee and assignee != "none" and not assignee.isdigit():
        raise ServiceError("register.bad_filter", field="assignee")
    try:
        start = parse_date(values.get("received_from") or "")
        end = parse_date(values.get("received_to") or "")
    except ValueError as err:
        raise ServiceError("audit.bad_date", field="received") from err
    if start and end and start > end:
        raise ServiceError("audit.bad_range", field="received")
    return RegisterQuery(
        view=view, due_within=due_within, kind=kind, assignee=assignee,
        received_from=start, received_to=end, search=(values.get("search") or "")[:100],
        page=max(1, page),
    )  # fmt: skip


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=_TZ).astimezone(UTC)


def _conditions(session: Session, q: RegisterQuery, today: date) -> list[Any]:
    SR = SubjectRequest
    conds: list[Any] = []
    is_open = SR.status.in_(OPEN_REQUEST_STATUSES)
    if q.view == "open":
        conds.append(is_open)
    elif q.view == "overdue":
        conds += [is_open, SR.due_date < today]
    elif q.view == "due_soon":
        limit = due_soon_limit(session, today, q.due_within)
        conds += [is_open, SR.due_date >= today, SR.due_date <= limit]
    elif q.view in CLOSED_REQUEST_STATUSES:
        conds.append(SR.status == q.view)
    if q.kind:
        conds.append(SR.kind == q.kind)
    if q.assignee == "none":
        conds.append(SR.assignee_id.is_(None))
    elif q.assignee:
        conds.append(SR.assignee_id == int(q.assignee))
    if q.received_from:
        conds.append(SR.received_at >= _local_midnight_utc(q.received_from))
    if q.received_to:
        conds.append(SR.received_at < _local_midnight_utc(q.received_to + timedelta(days=1)))
    term = search_term(q.search)
    if term:
        # The matching ids as one subquery. PostgreSQL finds the subjects through their
        # trigram index (a join would hash every subject); SQLite, which has no such index,
        # looks up only the subjects linked to requests (a join by primary key).
        own = text_contains(session, SR.search_text, term)
        if session.get_bind().dialect.name == "postgresql":
            subjects = select(DataSubject.id).where(
                text_contains(session, DataSubject.search_text, term)
            )
            matching = select(SR.id).where(or_(own, SR.subject_id.in_(subjects)))
        else:
            matching = (
                select(SR.id)
                .outerjoin(DataSubject, DataSubject.id == SR.subject_id)
                .where(or_(own, text_contains(session, DataSubject.search_text, term)))
            )
        conds.append(SR.id.in_(matching))
    return conds


def due_soon_limit(session: Session, today: date, within: int) -> date:
    """The last due date of "due within ``within`` working days" counted from ``today``."""
    cal = calendar.work_calendar(session, range(today.year, today.year + 2))
    return calendar.add_working_days(today, within, cal)


def _ordering(view: str):
    SR = SubjectRequest
    if view in CLOSED_REQUEST_STATUSES:
        return (SR.answered_at.desc(), SR.id.desc())
    if view == "all":
        return (SR.received_at.desc(), SR.id.desc())
    return (SR.due_date, SR.id)


@dataclass
class RequestRow:
    id: int
    reference: str
    kind: str
    status: str
    requester: str
    contact: str
    subject_id: int | None
    received_at: datetime
    due_date: date
    #: Working days from today to the due date: 0 on the due day, negative when overdue
    #: (for a closed request: from the due date to its closing, negative = late).
    days_left: int
    overdue: bool
    assignee_id: int | None
    assignee_username: str | None
    answered_at: datetime | None = None
    paused: bool = False
    #: Working days a closed request was answered after its due date (0 = on time).
    late_days: int = 0


@dataclass
class RegisterPage:
    rows: list[RequestRow]
    total: int
    query: RegisterQuery
    due_soon_until: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _base_select(session: Session, q: RegisterQuery, today: date, *columns):
    return select(*columns).select_from(SubjectRequest).where(*_conditions(session, q, today))


def _rows(session: Session, found, today: date) -> list[RequestRow]:
    years: set[int] = {today.year}
    for request, _ in found:
        low, high = sorted((today, request.due_date))
        years.update(range(low.year, high.year + 1))
        if request.answered_at is not None:
            years.add(local_date(request.answered_at).year)
    cal = calendar.work_calendar(session, years)
    rows = []
    for r, username in found:
        closed = r.status in CLOSED_REQUEST_STATUSES
        late = 0
        left = 0 if closed else calendar.working_days_between(today, r.due_date, cal)
        if closed and r.answered_at is not None:
            closed_on = local_date(r.answered_at)
            if closed_on > r.due_date:
                late = max(1, calendar.working_days_between(r.due_date, closed_on, cal))
        rows.append(
            RequestRow(
                id=r.id, reference=r.reference, kind=r.kind, status=r.status,
                requester=r.requester, contact=r.contact, subject_id=r.subject_id,
                received_at=r.received_at, due_date=r.due_date,
                days_left=-late if closed else left,
                overdue=(not closed) and today > r.due_date,
                assignee_id=r.assignee_id, assignee_username=username,
                answered_at=r.answered_at, paused=r.paused_at is not None, late_days=late,
            )  # fmt: skip
        )
    return rows


def _order_key(view: str):
    """Python sort key matching ``_ordering`` for rows of (id, due_date, received_at,
    answered_at)."""
    if view in CLOSED_REQUEST_STATUSES:
        return lambda r: (r[3] is not None, r[3] or r[2], r[0])  # newest closing first
    if view == "all":
        return lambda r: (r[2], r[0])
    return lambda r: (r[1], r[0])


def register_page(session: Session, q: RegisterQuery, *, today: date) -> RegisterPage:
    """One page of the register (filtered, ordered and paged in SQL) and the total.

    With a search term the matching keys are read once (one scan answers both the total and
    the page) and the page's rows are then fetched by id."""
    SR = SubjectRequest
    joined = (
        select(SR, StaffUser.username).outerjoin(StaffUser, StaffUser.id == SR.assignee_id)
    )
    if search_term(q.search):
        keys = session.execute(
            _base_select(session, q, today, SR.id, SR.due_date, SR.received_at, SR.answered_at)
        ).all()
        reverse = q.view in CLOSED_REQUEST_STATUSES or q.view == "all"
        keys.sort(key=_order_key(q.view), reverse=reverse)
        total = len(keys)
        start = (q.page - 1) * q.page_size
        ids = [k[0] for k in keys[start : start + q.page_size]]
        found = {r.id: (r, u) for r, u in session.execute(joined.where(SR.id.in_(ids)))}
        page_rows = [found[i] for i in ids if i in found]
    else:
        total = session.scalar(_base_select(session, q, today, func.count(SR.id)))
        # The page's ids first (sorted on narrow keys), then its rows by id.
        ids = list(
            session.scalars(
                _base_select(session, q, today, SR.id)
                .order_by(*_ordering(q.view))
                .offset((q.page - 1) * q.page_size)
                .limit(q.page_size)
            )
        )
        found = {r.id: (r, u) for r, u in session.execute(joined.where(SR.id.in_(ids)))}
        page_rows = [found[i] for i in ids if i in found]
    rows = _rows(session, page_rows, today)
    until = due_soon_limit(session, today, q.due_within) if q.view == "due_soon" else None
    return RegisterPage(rows=rows, total=total or 0, query=q, due_soon_until=until)


def iter_register(session: Session, q: RegisterQuery, *, today: date, batch: int = 1000
                  ) -> Iterator[RequestRow]:  # fmt: skip
    """Every row the filters select (no paging), in the view's order, in batches (export)."""
    offset = 0
    while True:
        stmt = (
            _base_select(session, q, today, SubjectRequest, StaffUser.username)
            .outerjoin(StaffUser, StaffUser.id == SubjectRequest.assignee_id)
            .order_by(*_ordering(q.view))
            .offset(offset)
            .limit(batch)
        )
        found = session.execute(stmt).all()
        if not found:
            return
        yield from _rows(session, found, today)
        offset += batch


def view_counts(session: Session, *, today: date, due_within: int = DEFAULT_DUE_WITHIN
                ) -> dict[str, int]:  # fmt: skip
    """How many requests each view holds: one ``GROUP BY status`` and one aggregate over the
    open requests only (``ix_request_status_due``)."""
    SR = SubjectRequest
    by_status = dict(session.execute(select(SR.status, func.count()).group_by(SR.status)).all())
    limit = due_soon_limit(session, today, due_within)

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    soon, overdue, due_today = session.execute(
        select(
            n(and_(SR.due_date >= today, SR.due_date <= limit)),
            n(SR.due_date < today),
            n(SR.due_date == today),
        ).where(SR.status.in_(OPEN_REQUEST_STATUSES))
    ).one()
    return {
        "open": sum(int(by_status.get(s, 0)) for s in OPEN_REQUEST_STATUSES),
        "due_soon": int(soon or 0),
        "overdue": int(overdue or 0),
        "answered": int(by_status.get("answered", 0)),
        "refused": int(by_status.get("refused", 0)),
        "withdrawn": int(by_status.get("withdrawn", 0)),
        "all": sum(int(v) for v in by_status.values()),
        "due_today": int(due_today or 0),
    }


def _closed_by_due_date(session: Session):
    """SQL: the request was closed on or before its due date, as an Almaty calendar day.

    PostgreSQL converts exactly (``timezone('Asia/Almaty', due + 1 day)``); SQLite compares
    with the due day's end at UTC+5 (Almaty's offset since 1 March 2024; closings before that
    date near midnight may be counted an hour off)."""
    SR = SubjectRequest
    if session.get_bind().dialect.name == "postgresql":
        end = func.timezone(settings.DISPLAY_TZ, func.cast(SR.due_date, sa_types.DateTime)
                            + text("interval '1 day'"))  # fmt: skip
        return SR.answered_at < end
    # SQLite keeps UTCDateTime as "YYYY-MM-DD HH:MM:SS[.ffffff]" text: compared as text.
    return SR.answered_at < func.datetime(SR.due_date, "+1 day", "-5 hours")


def open_requests(session: Session, *, today: date) -> list[RequestRow]:
    """Every open request (received, identity check, in progress), soonest due first."""
    q = RegisterQuery(view="open", page_size=10**9)
    return register_page(session, q, today=today).rows


def request_counts(session: Session, today: date) -> dict[str, Any]:
    """``open``, ``overdue``, ``due_today`` (open requests), ``closed``, ``closed_on_time``
    (answered or refused on or before the due date, Almaty day) and ``answered_on_time_share``
    (closed_on_time / closed, ``None`` when nothing was closed yet)."""
    counts = view_counts(session, today=today)
    SR = SubjectRequest
    closed, on_time = session.execute(
        select(func.count(), func.coalesce(func.sum(case((_closed_by_due_date(session), 1),
                                                         else_=0)), 0))
        .where(SR.status.in_(ANSWERING_STATUSES), SR.answered_at.is_not(None))
    ).one()  # fmt: skip
    closed, on_time = int(closed or 0), int(on_time or 0)
    return {
        "open": counts["open"],
        "overdue": counts["overdue"],
        "due_today": counts["due_today"],
        "closed": closed,
        "closed_on_time": on_time,
        "answered_on_time_share": (on_time / closed) if closed else None,
    }


def requests_about(session: Session, subject_id: int) -> list[SubjectRequest]:
    return list(
        session.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.subject_id == subject_id)
            .order_by(SubjectRequest.received_at.desc(), SubjectRequest.id.desc())
        )
    )


# --- the export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "pipeline.reference", "requests.kind", "pipeline.status", "requests.requester",
    "requests.contact", "requests.received_on", "requests.due", "requests.days_left",
    "requests.assignee", "requests.closed_on", "requests.outcome",
)  # fmt: skip


def export_header(language: str) -> list[str]:
    return [tr(language, key) for key in EXPORT_COLUMNS]


def export_row(row: RequestRow, language: str) -> list[str]:
    """One register row in words: labels for codes, Almaty date-times, the outcome."""
    closed = row.status in CLOSED_REQUEST_STATUSES
    if closed and row.status != "withdrawn":
        outcome = (
            tr(language, "requests.on_time_answer")
            if row.late_days == 0
            else tr(language, "requests.late_by", days=row.late_days)
        )
    elif row.overdue:
        outcome = tr(language, "requests.overdue")
    else:
        outcome = ""
    return [
        row.reference,
        tr(language, f"request_kind.{row.kind}"),
        tr(language, f"request_status.{row.status}"),
        row.requester,
        row.contact,
        format_entry_datetime(row.received_at),
        format_entry_date(row.due_date),
        "" if closed else str(row.days_left),
        row.assignee_username or "",
        format_entry_datetime(row.answered_at),
        outcome,
    ]
