"""What the privacy centre (/my) shows and does for a signed-in data subject (issue 20).

Every function takes the subject id of a live subject session (``services.subject_access``)
and acts only on that subject. Reads and changes are audited (actor ``public`` with the
source address; details carry codes and ids only, never a personal value).

* ``overview``: the categories held and why (purposes, legal basis, the policy edition of
  each consent, the retention date), the consents per purpose, the requests with their
  statuses, due dates and released access packages.
* ``withdraw``: the same ``services.consent.withdraw`` an officer uses (channel ``online``).
  Where the Law limits withdrawal (Art. 8(2): when it would be contrary to law or while an
  obligation is unfulfilled) the withdrawal is not done here: a ``withdrawal`` request goes
  to the officer instead (``WITHDRAWAL_NEEDS_OFFICER``; docs/decisions.md).
* ``submit_request``: access, rectification (fields and new values), blocking or destruction
  as a request of the casework register, channel ``online``, received now, identity "e-mail
  code" (the officer decides whether more is needed). One open request per kind.
* Access packages: an online access request snapshots the subject report for the officer
  (``prepare_package``); the officer reviews and ``release_package``s it; the person then
  downloads it for ``PACKAGE_DAYS`` (7) days (``download_package``). Nothing is sent
  automatically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.i18n import tr
from dpa_panel.models import AccessPackage, DataSubject, Member, SubjectRequest
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import OPEN_REQUEST_STATUSES
from dpa_panel.services import audit, consent, requests, subject_report
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

#: Days the person may download a released access package (issue 20).
PACKAGE_DAYS = 7
#: Request kinds the person can make in the centre.
ONLINE_KINDS = ("access", "rectification", "blocking", "destruction")
#: Subject fields a rectification request may name (labels ``field.<name>``).
RECTIFIABLE_FIELDS = (
    "surname", "first_name", "patronymic", "phone", "email", "workplace", "position",
    "education", "experience",
)  # fmt: skip
#: Categories of data held (labels ``my.category.<code>``) and the columns behind each.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "identity": ("surname", "first_name", "patronymic"),
    "contacts": ("phone", "email"),
    "work": ("workplace", "position", "workplace_category", "position_level"),
    "education": ("education", "education_level"),
    "experience": ("experience", "experience_years"),
    "other": ("other_info",),
}
ENTITY = "data_subject"


def _actor(client_ip: str) -> Actor:
    return Actor.public(client_ip)


def _subject(session: Session, subject_id: int) -> DataSubject:
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("my.session_ended")
    return subject


# --- reading ---------------------------------------------------------------------------------


@dataclass
class PurposeLine:
    purpose: str
    state: str  # granted / withdrawn / never
    policy_label: str = ""
    granted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    #: "" when the person may withdraw here; else the catalog key saying why not.
    limited: str = ""


@dataclass
class RequestLine:
    request_id: int
    reference: str
    kind: str
    status: str
    received_at: datetime
    due_date: date
    #: "released" (downloadable), "expired", "review" (waiting for the officer) or "".
    package: str = ""
    package_until: datetime | None = None


@dataclass
class Overview:
    subject_id: int
    full_name: str
    status: str
    categories: list[str]
    purposes: list[PurposeLine]
    retention_due_at: datetime | None
    destruction_due_at: datetime | None
    requests: list[RequestLine] = field(default_factory=list)


def _limit(session: Session, subject: DataSubject, purpose: str) -> str:
    """Why a withdrawal of ``purpose`` must go to the officer ("" when it need not)."""
    if subject.status != "active":
        return "my.limited.blocked"
    if purpose == "member_register" and session.scalar(
        select(Member.id).where(
            Member.subject_id == subject.id, Member.status.in_(("active", "suspended"))
        )
    ):
        return "my.limited.membership"
    return ""


def overview(session: Session, subject_id: int, *, client_ip: str,
             now: datetime | None = None) -> Overview:  # fmt: skip
    """Everything the centre's page shows, in one audited read."""
    now = now or utcnow()
    subject = _subject(session, subject_id)
    categories = [
        code for code, columns in CATEGORIES.items()
        if any(getattr(subject, c, None) not in (None, "", "other") for c in columns)
    ]  # fmt: skip
    latest: dict[str, consent.ConsentEntry] = {}
    for entry in consent.consent_history(session, subject_id):
        latest.setdefault(entry.consent.purpose_code, entry)
    purposes = []
    for purpose in consent.CONSENT_PURPOSES:
        entry = latest.get(purpose)
        if entry is None:
            purposes.append(PurposeLine(purpose, "never"))
            continue
        c = entry.consent
        state = "withdrawn" if c.withdrawn_at else "granted"
        purposes.append(
            PurposeLine(purpose, state, entry.policy_label, c.granted_at, c.withdrawn_at,
                        _limit(session, subject, purpose) if state == "granted" else "")
        )  # fmt: skip
    own = select(AccessPackage).where(AccessPackage.subject_id == subject_id)
    packages = {p.request_id: p for p in session.scalars(own)}
    lines = []
    for r in requests.requests_about(session, subject_id):
        line = RequestLine(r.id, r.reference, r.kind, r.status, r.received_at, r.due_date)
        package = packages.get(r.id)
        if package is not None:
            if package.released_at is None:
                line.package = "review"
            elif package.expires_at and package.expires_at > now:
                line.package, line.package_until = "released", package.expires_at
            else:
                line.package = "expired"
        lines.append(line)
    audit.record(session, _actor(client_ip), "subject.centre_read", ENTITY, subject_id, {})
    return Overview(
        subject_id=subject_id,
        full_name=consent.full_name(subject.surname, subject.first_name, subject.patronymic),
        status=subject.status,
        categories=categories,
        purposes=purposes,
        retention_due_at=subject.retention_due_at,
        destruction_due_at=subject.destruction_due_at,
        requests=lines,
    )


# --- changes ---------------------------------------------------------------------------------


@dataclass
class WithdrawResult:
    #: "withdrawn" (done now) or "request" (sent to the officer: Art. 8(2)).
    outcome: str
    reference: str = ""


def _open_request_of_kind(session: Session, subject_id: int, kind: str,
                          purpose: str | None = None) -> bool:  # fmt: skip
    conds = [
        SubjectRequest.subject_id == subject_id,
        SubjectRequest.kind == kind,
        SubjectRequest.status.in_(OPEN_REQUEST_STATUSES),
    ]
    if purpose is not None:
        conds.append(SubjectRequest.purpose_code == purpose)
    return session.scalar(select(SubjectRequest.id).where(*conds).limit(1)) is not None


def _online_request(session: Session, subject: DataSubject, kind: str, details: str,
                    client_ip: str, now: datetime, purpose: str | None = None
                    ) -> SubjectRequest:  # fmt: skip
    if _open_request_of_kind(session, subject.id, kind, purpose):
        raise ServiceError("my.request_open")
    intro = tr("kk", "my.request_intro") + "\n" + tr("ru", "my.request_intro")
    request = requests.create_request(
        session,
        _actor(client_ip),
        kind=kind,
        received_at=now,
        channel="online",
        requester=consent.full_name(subject.surname, subject.first_name, subject.patronymic),
        contact=subject.email,
        details=(intro + ("\n\n" + details if details else ""))[: requests.TEXT_MAX],
        subject_id=subject.id,
        purpose_code=purpose,
        now=now,
    )
    return request


def withdraw(session: Session, subject_id: int, purpose: str, *, client_ip: str,
             now: datetime | None = None) -> WithdrawResult:  # fmt: skip
    """The person withdraws a consent: done at once exactly as an officer would record it
    (``consent.withdraw``, channel ``online``), or — where Art. 8(2) limits it — a
    ``withdrawal`` request for the officer. Refuses ``consent.not_granted`` (already done)."""
    now = now or utcnow()
    if purpose not in consent.CONSENT_PURPOSES:
        raise ServiceError("consent.unknown_purpose")
    audit.lock_writers(session)
    subject = _subject(session, subject_id)
    if consent.current_states(session, subject_id).get(purpose) != "granted":
        raise ServiceError("consent.not_granted")
    if _limit(session, subject, purpose):
        request = _online_request(session, subject, "withdrawal",
                                  tr("kk", f"purpose.{purpose}"), client_ip, now, purpose)
        return WithdrawResult("request", request.reference)  # fmt: skip
    consent.withdraw(session, _actor(client_ip), subject_id, purpose, channel="online",
                     evidence="", now=now)  # fmt: skip
    return WithdrawResult("withdrawn")


def submit_request(
    session: Session,
    subject_id: int,
    kind: str,
    *,
    client_ip: str,
    corrections: dict[str, str] | None = None,
    note: str = "",
    now: datetime | None = None,
) -> SubjectRequest:
    """A request made in the centre. ``corrections`` (rectification): field → new value, at
    least one (``my.corrections_required``). An access request also prepares the package
    for the officer's review."""
    now = now or utcnow()
    if kind not in ONLINE_KINDS:
        raise ServiceError("request.bad_kind")
    note_value, error = clean_text(note, 1000, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="note")
    lines = []
    if kind == "rectification":
        for name, raw in (corrections or {}).items():
            if name not in RECTIFIABLE_FIELDS:
                continue
            value, error = clean_text(raw, 300, required=False)
            if error:
                raise ServiceError(error, field=f"new_{name}")
            if value:
                label = f"{tr('kk', f'subject.{name}')} / {tr('ru', f'subject.{name}')}"
                lines.append(f"{label}: {value}")
        if not lines:
            raise ServiceError("my.corrections_required")
    if note_value:
        lines.append(note_value)
    audit.lock_writers(session)
    subject = _subject(session, subject_id)
    request = _online_request(session, subject, kind, "\n".join(lines), client_ip, now)
    if kind == "access":
        prepare_package(session, _actor(client_ip), request.id, now=now)
    return request


# --- access packages -------------------------------------------------------------------------


def prepare_package(session: Session, actor: Actor, request_id: int, *,
                    now: datetime | None = None) -> AccessPackage:  # fmt: skip
    """Snapshot the subject report of an access request for review (again, if not yet
    released: the officer may refresh it after a correction)."""
    now = now or utcnow()
    request = session.get(SubjectRequest, request_id, populate_existing=True)
    if request is None or request.kind != "access" or request.subject_id is None:
        raise ServiceError("my.package_not_applicable")
    package = session.scalars(
        select(AccessPackage).where(AccessPackage.request_id == request_id)
    ).first()
    if package is not None and package.released_at is not None:
        raise ServiceError("my.package_released")
    report = subject_report.subject_report(session, actor, request.subject_id)
    body = subject_report.report_data_json(report).decode("utf-8")
    if package is None:
        package = AccessPackage(request_id=request_id, subject_id=request.subject_id,
                                report=body, prepared_at=now)  # fmt: skip
    else:
        package.report, package.prepared_at = body, now
    session.add(package)
    session.flush()
    audit.record(session, actor, "access_package.prepared", "access_package", package.id,
                 {"request_id": request_id})  # fmt: skip
    return package


def package_for(session: Session, request_id: int) -> AccessPackage | None:
    return session.scalars(
        select(AccessPackage).where(AccessPackage.request_id == request_id)
    ).first()


def release_package(session: Session, actor: Actor, request_id: int, *,
                    now: datetime | None = None) -> AccessPackage:  # fmt: skip
    """The officer reviewed the package: the person may download it for ``PACKAGE_DAYS``.

    Releasing accepts the e-mail code as the requester's identity (recorded on the request
    as such when it was not verified yet) and answers the request; the answer says where
    the package is. Refuses a package already released, a closed request."""
    now = now or utcnow()
    audit.lock_writers(session)
    package = package_for(session, request_id)
    if package is None:
        raise ServiceError("my.package_not_applicable")
    if package.released_at is not None:
        raise ServiceError("my.package_released")
    request = session.get(SubjectRequest, request_id, populate_existing=True)
    if request.status not in OPEN_REQUEST_STATUSES:
        raise ServiceError("request.illegal_transition")
    if request.identity_verified_at is None:
        requests.verify_identity(session, actor, request_id, method=tr("kk", "my.identity"),
                                 now=now)  # fmt: skip
    package.released_at, package.released_by_id = now, actor.user_id
    package.expires_at = now + timedelta(days=PACKAGE_DAYS)
    session.add(package)
    session.flush()
    audit.record(session, actor, "access_package.released", "access_package", package.id,
                 {"request_id": request_id, "days": PACKAGE_DAYS})  # fmt: skip
    requests.change_request_status(
        session, actor, request_id, "answered",
        answer=tr("kk", "my.package_answer", days=PACKAGE_DAYS), now=now,
    )  # fmt: skip
    return package


def download_package(session: Session, subject_id: int, request_id: int, *, client_ip: str,
                     now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """The released report of the person's own request (``my.package_unavailable`` for
    anything else: not theirs, not released, expired). Audited, counted."""
    now = now or utcnow()
    package = package_for(session, request_id)
    if (
        package is None
        or package.subject_id != subject_id
        or package.released_at is None
        or package.expires_at is None
        or package.expires_at <= now
    ):
        raise ServiceError("my.package_unavailable")
    package.downloads += 1
    session.add(package)
    audit.record(session, _actor(client_ip), "access_package.downloaded", "access_package",
                 package.id, {"request_id": request_id, "subject_id": subject_id})  # fmt: skip
    return json.loads(package.report)


# --- housekeeping ----------------------------------------------------------------------------

#: How long used or expired codes and ended sessions are kept (for the audit's cross-checks).
KEEP_SPENT = timedelta(days=1)
#: How long a sent e-mail to a data subject stays in the outbox (it names their address):
#: long enough to answer "did you send it?", short enough not to become a second register.
KEEP_SENT_MAIL = timedelta(days=30)
#: Outbox purposes of the mails to data subjects (``services.acknowledgements``, codes).
SUBJECT_MAIL_PURPOSES = ("subject_code", "ack_application", "ack_decision", "ack_request")


def purge_expired(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Data minimisation, run by ``dpa-panel notify``: the copy inside a released package is
    blanked once its 7 days are over (the row stays: who released it, when, downloads);
    codes and subject sessions are deleted a day after they stopped working."""
    from sqlalchemy import and_, delete, or_, update

    from dpa_panel.models import OutboxMessage, SubjectCode, SubjectSession
    from dpa_panel.services.subject_access import IDLE

    now = now or utcnow()
    blanked = session.execute(
        update(AccessPackage)
        .where(AccessPackage.expires_at < now, AccessPackage.report != "")
        .values(report="")
        .execution_options(synchronize_session=False)
    ).rowcount
    codes = session.execute(
        delete(SubjectCode).where(SubjectCode.expires_at < now - KEEP_SPENT)
    ).rowcount
    sessions = session.execute(
        delete(SubjectSession).where(
            or_(SubjectSession.ended_at < now - KEEP_SPENT,
                SubjectSession.last_seen_at < now - IDLE - KEEP_SPENT)
        )
    ).rowcount  # fmt: skip
    sent = OutboxMessage.status == "sent"
    mails = session.execute(
        delete(OutboxMessage).where(
            or_(and_(OutboxMessage.purpose == "subject_code", sent,
                     OutboxMessage.sent_at < now - KEEP_SPENT),
                and_(OutboxMessage.purpose.in_(SUBJECT_MAIL_PURPOSES), sent,
                     OutboxMessage.sent_at < now - KEEP_SENT_MAIL))
        )
    ).rowcount  # fmt: skip
    counts = {"packages": blanked, "codes": codes, "sessions": sessions, "mails": mails}
    if any(counts.values()):
        audit.record(session, Actor.system(), "privacy_centre.purged", "access_package", "",
                     counts)  # fmt: skip
    return counts
