"""The consent ledger (policy clauses 2.2, 3, 7 and 8).

* **Append-only.** Granting is a new row; a withdrawal fills the row's ``withdrawn_*`` fields
  once and they are never cleared; a renewed consent is a new row. The latest row of a
  (subject, purpose) decides its state: ``granted``, ``withdrawn`` or ``never``.
* **One question, one answer.** ``may_process`` is THE function every feature asks before
  using a person's data for a purpose, and ``processable_subjects_clause`` is the same rule
  as a SQL condition for lists (the mailing list); a test proves they agree.
* **Statistics never reads identifiable data.** No consent is asked for it (clause 3): it may
  only use aggregated, anonymised values, so ``may_process(..., "statistics")`` says only
  whether a subject may be *counted* (not blocked, not destroyed, no destruction due).
* **Withdrawal acts at once** (clause 7.2): an open application is withdrawn, a membership
  ended, and when no consent-based purpose remains and no legal ground to keep the data was
  given, ``data_subject.destruction_due_at`` is set (the retention sweep destroys).
* **Policy editions are never rewritten**: a consent keeps pointing at the edition it was
  given under; a new edition is a new row.

Like every service: the caller's session and transaction, audit events with codes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, TextIO

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale
from dpa_panel.models import Consent, DataSubject, Member, MembershipApplication, PolicyVersion
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import (
    CONSENT_CHANNELS,
    CONSENT_WITHDRAWAL_CHANNELS,
    OPEN_APPLICATION_STATUSES,
    PURPOSES,
)
from dpa_panel.services import applications, audit, members, org_profile, policy, tabular
from dpa_panel.services.applications import local_date, search_term, text_contains
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.policy_texts import text_sha256
from dpa_panel.services.validation import clean_text

PurposeState = Literal["granted", "withdrawn", "never"]
STATES: tuple[str, ...] = ("granted", "withdrawn", "never")

#: The purposes that rest on consent (statistics is anonymised and asks none).
STATISTICS = "statistics"
CONSENT_PURPOSES: tuple[str, ...] = tuple(p for p in PURPOSES if p != STATISTICS)
#: Channels whose consent must be evidenced by a document reference and its date.
EVIDENCED_CHANNELS = ("paper", "email")
#: Text written to the application timeline / member row when a withdrawal closes them.
WITHDRAWAL_REASON = "consent withdrawn"

TEXT_MAX = 2000
ENTITY = "consent"
MAX_PAGE_SIZE = 200
MAILING_BATCH = 1000


# --- the latest row per (subject, purpose) ---------------------------------------------------


def _no_newer_row(c) -> ColumnElement[bool]:
    """``c`` (a Consent alias) is the latest row of its subject and purpose."""
    newer = aliased(Consent)
    return ~exists().where(
        newer.subject_id == c.subject_id,
        newer.purpose_code == c.purpose_code,
        or_(
            newer.granted_at > c.granted_at,
            and_(newer.granted_at == c.granted_at, newer.id > c.id),
        ),
    )


def _latest_rows():
    """Subquery: (subject_id, purpose_code, withdrawn_at, policy_version_id, id) of the
    latest consent of every subject and purpose."""
    c = aliased(Consent)
    return (
        select(
            c.id.label("id"),
            c.subject_id.label("subject_id"),
            c.purpose_code.label("purpose_code"),
            c.withdrawn_at.label("withdrawn_at"),
            c.policy_version_id.label("policy_version_id"),
        )
        .where(_no_newer_row(c))
        .subquery("latest_consent")
    )


def _latest_consent(session: Session, subject_id: int, purpose: str) -> Consent | None:
    return session.scalars(
        select(Consent)
        .where(Consent.subject_id == subject_id, Consent.purpose_code == purpose)
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()


def current_states(session: Session, subject_id: int) -> dict[str, PurposeState]:
    """The state of each consent-based purpose for one subject (latest row decides)."""
    states: dict[str, PurposeState] = dict.fromkeys(CONSENT_PURPOSES, "never")
    seen: set[str] = set()
    rows = session.execute(
        select(Consent.purpose_code, Consent.withdrawn_at)
        .where(Consent.subject_id == subject_id)
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
    )
    for purpose, withdrawn_at in rows:
        if purpose in seen or purpose not in states:
            continue
        seen.add(purpose)
        states[purpose] = "withdrawn" if withdrawn_at is not None else "granted"
    return states


# --- may this subject's data be used for this purpose? ---------------------------------------


def _subject_processable(subject: DataSubject | None, now: datetime) -> bool:
    if subject is None or subject.status != "active":
        return False
    return subject.destruction_due_at is None or subject.destruction_due_at > now


def may_process(
    session: Session, subject_id: int, purpose: str, *, now: datetime | None = None
) -> bool:
    """THE question every feature asks: may this subject's data be used for ``purpose`` now?

    False when the subject is blocked, destroyed or has a destruction due (set and reached).
    ``statistics``: True otherwise — statistics use aggregated, anonymised values only and
    never read identifiable data, so no consent is asked. Other purposes: the latest consent
    for the purpose is granted and not withdrawn. Unknown purposes: False.
    """
    if purpose not in PURPOSES:
        return False
    now = now or utcnow()
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if not _subject_processable(subject, now):
        return False
    if purpose == STATISTICS:
        return True
    latest = _latest_consent(session, subject_id, purpose)
    return latest is not None and latest.withdrawn_at is None


def processable_subjects_clause(
    purpose: str, *, now: datetime | None = None, subject_id_column=None
) -> ColumnElement[bool]:
    """``may_process`` as a SQL condition on ``DataSubject`` rows (or, with
    ``subject_id_column``, on any column holding a subject id)."""
    now = now or utcnow()
    if purpose not in PURPOSES:
        return literal(False)
    s = aliased(DataSubject) if subject_id_column is not None else DataSubject
    subject_ok = and_(
        s.status == "active",
        or_(s.destruction_due_at.is_(None), s.destruction_due_at > now),
    )
    if purpose == STATISTICS:
        condition = subject_ok
    else:
        c = aliased(Consent)
        granted = exists().where(
            c.subject_id == s.id,
            c.purpose_code == purpose,
            c.withdrawn_at.is_(None),
            _no_newer_row(c),
        )
        condition = and_(subject_ok, granted)
    if subject_id_column is None:
        return condition
    return exists().where(s.id == subject_id_column, condition)


# --- recording and withdrawing ---------------------------------------------------------------


def _check_purpose(purpose: str) -> None:
    if purpose == STATISTICS:
        raise ServiceError("consent.statistics_not_asked", field="purpose")
    if purpose not in CONSENT_PURPOSES:
        raise ServiceError("consent.unknown_purpose", field="purpose")


def _check_channel(
    channel: str, field_name: str = "channel", allowed: tuple[str, ...] = CONSENT_CHANNELS
) -> None:
    if channel not in allowed:
        raise ServiceError("consent.bad_channel", field=field_name)


def record_consent(
    session: Session,
    actor: Actor,
    subject_id: int,
    purpose: str,
    *,
    channel: str,
    language: str,
    text: str,
    evidence_ref: str = "",
    evidence_received_at: datetime | None = None,
    evidence_text: str = "",
    policy_version_id: int | None = None,
    now: datetime | None = None,
) -> Consent:
    """Record a consent given for ``purpose`` (a new row; never an edit of an older one).

    ``text`` is the exact sentence the person agreed to (its SHA-256 is stored beside it).
    ``paper``/``email`` need ``evidence_ref`` (where the document is kept) and
    ``evidence_received_at`` (``consent.evidence_required``). ``statistics`` is refused
    (``consent.statistics_not_asked``), a blocked or destroyed subject too
    (``subject.not_active``), a purpose already granted too (``consent.already_granted``).
    The edition is the one in force today unless ``policy_version_id`` names another.
    A new consent cancels a destruction scheduled by an earlier withdrawal (the person gave
    a new lawful basis); the audit event says so.
    """
    now = now or utcnow()
    _check_purpose(purpose)
    _check_channel(channel)
    language = normalise_locale(language)
    errors: dict[str, str] = {}
    sentence, error = clean_text(text, TEXT_MAX, required=True, multiline=True)
    if error:
        errors["text"] = error
    ref, error = clean_text(evidence_ref, 200, required=False)
    if error:
        errors["evidence_ref"] = error
    evidence, error = clean_text(evidence_text, TEXT_MAX, required=False, multiline=True)
    if error:
        errors["evidence_text"] = error
    if errors:
        raise ValidationFailed(errors)
    if channel in EVIDENCED_CHANNELS:
        if not ref:
            raise ServiceError("consent.evidence_required", field="evidence_ref")
        if evidence_received_at is None:
            raise ServiceError("consent.evidence_required", field="evidence_received_at")
    if evidence_received_at is not None and evidence_received_at > now:
        raise ServiceError("consent.evidence_in_future", field="evidence_received_at")

    if policy_version_id is None:
        edition = policy.edition_in_force(session, local_date(now))
        if edition is None:
            raise ServiceError("apply.no_policy")
    else:
        edition = session.get(PolicyVersion, policy_version_id)
        if edition is None:
            raise ServiceError("consent.bad_policy_version", field="policy_version_id")

    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None:
        raise ServiceError("subject.not_found")
    if subject.status != "active":
        raise ServiceError("subject.not_active")
    latest = _latest_consent(session, subject_id, purpose)
    if latest is not None and latest.withdrawn_at is None:
        raise ServiceError("consent.already_granted", field="purpose")

    consent = Consent(
        subject_id=subject_id,
        purpose_code=purpose,
        granted_at=now,
        policy_version_id=edition.id,
        channel=channel,
        language=language,
        consent_text=sentence,
        consent_text_sha256=text_sha256(sentence),
        evidence_ref=ref,
        evidence_received_at=evidence_received_at,
        evidence_text=evidence,
        recorded_by_id=actor.user_id,
    )
    session.add(consent)
    cancelled = subject.destruction_due_at is not None
    if cancelled:
        subject.destruction_due_at = None
        subject.updated_at = now
        session.add(subject)
    session.flush()
    from dpa_panel.services import retention

    retention.recompute_retention(session, [subject_id])
    audit.record(
        session,
        actor,
        "consent.recorded",
        ENTITY,
        consent.id,
        {
            "subject_id": subject_id,
            "purpose": purpose,
            "channel": channel,
            "policy": edition.label,
            "destruction_cancelled": cancelled,
        },
    )
    return consent


@dataclass
class WithdrawalOutcome:
    """What a withdrawal did, for the confirmation the UI shows."""

    consent_id: int
    purpose: str
    #: Open applications moved to ``withdrawn`` (application_review).
    withdrawn_application_ids: list[int] = field(default_factory=list)
    #: The membership ended (member_register), if there was an active/suspended one.
    ended_member_id: int | None = None
    #: Whether ``data_subject.destruction_due_at`` was set (no purpose and no legal ground left).
    destruction_scheduled: bool = False
    #: The legal ground given for keeping the data anyway ("" when none).
    retained_ground: str = ""
    #: Consent-based purposes still granted after the withdrawal.
    still_granted: list[str] = field(default_factory=list)


def withdraw(
    session: Session,
    actor: Actor,
    subject_id: int,
    purpose: str,
    *,
    channel: str,
    evidence: str,
    retained_ground: str = "",
    now: datetime | None = None,
) -> WithdrawalOutcome:
    """Log a withdrawal of consent for ``purpose`` and stop that processing at once (cl. 7.2).

    ``evidence``: how the written notice arrived and where it is kept (required for
    ``paper``/``email``). Effects in this transaction: ``application_review`` → every open
    application of the subject becomes ``withdrawn`` (``applications.change_status``);
    ``member_register`` → an active or suspended membership is ended
    (``members.end_membership``); ``informing``/``feedback`` → nothing else (the mailing list
    and feedback lists ask ``may_process``). Then, if no consent-based purpose remains granted
    and no ``retained_ground`` (the law that obliges keeping the data) was given, the subject's
    ``destruction_due_at`` is set to ``now``. Refuses: ``consent.not_granted`` when the
    purpose is not currently granted; ``subject.not_active`` for a blocked or destroyed
    subject (unblock first: the effects need an active subject).
    """
    now = now or utcnow()
    _check_purpose(purpose)
    _check_channel(channel, allowed=CONSENT_WITHDRAWAL_CHANNELS)
    evidence_value, error = clean_text(evidence, TEXT_MAX, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="evidence")
    if channel in EVIDENCED_CHANNELS and not evidence_value:
        raise ServiceError("consent.evidence_required", field="evidence")
    ground, error = clean_text(retained_ground, TEXT_MAX, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="retained_ground")

    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None:
        raise ServiceError("subject.not_found")
    if subject.status != "active":
        raise ServiceError("subject.not_active")
    consent = _latest_consent(session, subject_id, purpose)
    if consent is None or consent.withdrawn_at is not None:
        raise ServiceError("consent.not_granted", field="purpose")

    consent.withdrawn_at = now
    consent.withdrawal_channel = channel
    consent.withdrawal_evidence = evidence_value
    consent.withdrawal_recorded_by_id = actor.user_id
    consent.withdrawal_retained_ground = ground
    session.add(consent)
    session.flush()
    outcome = WithdrawalOutcome(consent_id=consent.id, purpose=purpose, retained_ground=ground)

    if purpose == "application_review":
        open_ids = list(
            session.scalars(
                select(MembershipApplication.id)
                .where(
                    MembershipApplication.subject_id == subject_id,
                    MembershipApplication.status.in_(OPEN_APPLICATION_STATUSES),
                )
                .order_by(MembershipApplication.id)
            )
        )
        for app_id in open_ids:
            applications.change_status(
                session, actor, app_id, "withdrawn", reason=WITHDRAWAL_REASON, now=now
            )
        outcome.withdrawn_application_ids = open_ids
    elif purpose == "member_register":
        member_id = session.scalar(
            select(Member.id).where(
                Member.subject_id == subject_id, Member.status.in_(("active", "suspended"))
            )
        )
        if member_id is not None:
            members.end_membership(session, actor, member_id, WITHDRAWAL_REASON, now=now)
            outcome.ended_member_id = member_id

    states = current_states(session, subject_id)
    outcome.still_granted = [p for p, s in states.items() if s == "granted"]
    if not outcome.still_granted and not ground:
        subject = session.get(DataSubject, subject_id, populate_existing=True)
        subject.destruction_due_at = now
        subject.updated_at = now
        session.add(subject)
        session.flush()
        outcome.destruction_scheduled = True
    from dpa_panel.services import retention

    retention.recompute_retention(session, [subject_id])
    audit.record(
        session,
        actor,
        "consent.withdrawn",
        ENTITY,
        consent.id,
        {
            "subject_id": subject_id,
            "purpose": purpose,
            "channel": channel,
            "retained_ground": bool(ground),
            "scheduled_destruction": outcome.destruction_scheduled,
        },
    )
    return outcome


# --- reading ---------------------------------------------------------------------------------


@dataclass
class ConsentEntry:
    consent: Consent
    policy_label: str
    policy_effective_date: date


def consent_history(session: Session, subject_id: int) -> list[ConsentEntry]:
    """Every consent row of the subject (withdrawals included), newest first."""
    rows = session.execute(
        select(Consent, PolicyVersion.label, PolicyVersion.effective_date)
        .join(PolicyVersion, PolicyVersion.id == Consent.policy_version_id)
        .where(Consent.subject_id == subject_id)
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
    )
    return [ConsentEntry(c, label, eff) for c, label, eff in rows]


@dataclass
class MatrixQuery:
    search: str = ""
    purpose: str = ""
    state: str = ""
    page: int = 1
    page_size: int = 50


@dataclass
class MatrixRow:
    subject_id: int
    name: str
    email: str
    #: The subject's status (``active``/``blocked``): the UI badges blocked subjects.
    status: str
    states: dict[str, PurposeState]


_STATE_CODES = {2: "granted", 1: "withdrawn", 0: "never"}
_CODE_OF_STATE = {v: k for k, v in _STATE_CODES.items()}


def _pivot():
    """Subquery: one row per subject that has consents, a 0/1/2 state code per purpose."""
    latest = _latest_rows()
    code = case((latest.c.withdrawn_at.is_(None), 2), else_=1)
    return (
        select(
            latest.c.subject_id.label("subject_id"),
            *[
                func.max(case((latest.c.purpose_code == p, code), else_=0)).label(p)
                for p in CONSENT_PURPOSES
            ],
        )
        .group_by(latest.c.subject_id)
        .subquery("consent_pivot")
    )


def full_name(surname: str, first_name: str, patronymic: str | None) -> str:
    return " ".join(part for part in (surname, first_name, patronymic) if part)


def consent_matrix(session: Session, q: MatrixQuery) -> tuple[list[MatrixRow], int]:
    """One page of subjects × consent-based purposes, and how many subjects match.

    Computed in SQL: the latest row of every (subject, purpose), pivoted with a GROUP BY
    and CASE per purpose. Compliance sees blocked subjects too (``status`` is in the row);
    destroyed subjects are left out. ``purpose`` + ``state`` filter on that purpose's state;
    ``state`` alone matches subjects with that state for any purpose.
    """
    pivot = _pivot()
    codes = {p: func.coalesce(pivot.c[p], 0) for p in CONSENT_PURPOSES}
    conds: list = [DataSubject.status != "destroyed"]
    term = search_term(q.search)
    if term:
        conds.append(text_contains(session, DataSubject.search_text, term))
    if q.state in _CODE_OF_STATE:
        wanted = _CODE_OF_STATE[q.state]
        if q.purpose in codes:
            conds.append(codes[q.purpose] == wanted)
        else:
            conds.append(or_(*[codes[p] == wanted for p in CONSENT_PURPOSES]))
    elif q.purpose in codes:
        conds.append(codes[q.purpose] > 0)  # purpose given alone: it has been asked at all
    base = (
        select(
            DataSubject.id,
            DataSubject.surname,
            DataSubject.first_name,
            DataSubject.patronymic,
            DataSubject.email,
            DataSubject.status,
            *[codes[p].label(p) for p in CONSENT_PURPOSES],
        )
        .select_from(DataSubject)
        .outerjoin(pivot, pivot.c.subject_id == DataSubject.id)
        .where(*conds)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    page = max(1, q.page)
    size = max(1, min(q.page_size, MAX_PAGE_SIZE))
    stmt = (
        base.order_by(DataSubject.surname, DataSubject.first_name, DataSubject.id)
        .limit(size)
        .offset((page - 1) * size)
    )
    rows = [
        MatrixRow(
            subject_id=r.id,
            name=full_name(r.surname, r.first_name, r.patronymic),
            email=r.email,
            status=r.status,
            states={p: _STATE_CODES[int(getattr(r, p))] for p in CONSENT_PURPOSES},
        )
        for r in session.execute(stmt)
    ]
    return rows, total


def purpose_counts(session: Session) -> dict[str, dict[str, int]]:
    """Subjects per purpose and state (destroyed subjects left out), one GROUP BY."""
    latest = _latest_rows()
    state = case((latest.c.withdrawn_at.is_(None), "granted"), else_="withdrawn")
    stmt = (
        select(latest.c.purpose_code, state.label("state"), func.count())
        .join(DataSubject, DataSubject.id == latest.c.subject_id)
        .where(DataSubject.status != "destroyed", latest.c.purpose_code.in_(CONSENT_PURPOSES))
        .group_by(latest.c.purpose_code, state)
    )
    counts = {p: dict.fromkeys(STATES, 0) for p in CONSENT_PURPOSES}
    for purpose, st, n in session.execute(stmt):
        counts[purpose][st] = n
    subjects = session.scalar(
        select(func.count()).select_from(DataSubject).where(DataSubject.status != "destroyed")
    )
    for per_state in counts.values():
        per_state["never"] = subjects - per_state["granted"] - per_state["withdrawn"]
    return counts


# --- the mailing list ------------------------------------------------------------------------


def mailing_list(
    session: Session, *, now: datetime | None = None
) -> Iterator[tuple[str, str, str]]:
    """(full name, e-mail, personal unsubscribe URL) of every subject who may be informed
    now, in keyset batches.

    Exactly ``processable_subjects_clause("informing")``: withdrawn, never-given, blocked,
    destroyed and destruction-due subjects are not in it. The URL is the subject's one-click
    unsubscribe link (``services.unsubscribe``: signed, no database id in clear).
    """
    from dpa_panel.services.unsubscribe import link

    now = now or utcnow()
    clause = processable_subjects_clause("informing", now=now)
    last_id = 0
    while True:
        rows = session.execute(
            select(
                DataSubject.id,
                DataSubject.surname,
                DataSubject.first_name,
                DataSubject.patronymic,
                DataSubject.email,
            )
            .where(DataSubject.id > last_id, clause)
            .order_by(DataSubject.id)
            .limit(MAILING_BATCH)
        ).all()
        if not rows:
            return
        for r in rows:
            yield full_name(r.surname, r.first_name, r.patronymic), r.email, link(r.id)
        last_id = rows[-1].id
        if len(rows) < MAILING_BATCH:
            return


MAILING_CSV_HEADER = ("full_name", "email", "unsubscribe_url")


def write_mailing_csv(rows: Iterable[tuple[str, str, str]], out: TextIO) -> int:
    """Write the mailing list as CSV through the panel's one writer (``services.tabular``:
    header first, cells a spreadsheet would read as a formula quoted); returns the number of
    addresses."""
    return tabular.CsvWriter(out, MAILING_CSV_HEADER).rows(rows)


# --- policy editions (clause 8) --------------------------------------------------------------


def add_policy_version(
    session: Session,
    actor: Actor,
    *,
    label: str,
    effective_date: date,
    text_kk: str,
    text_ru: str,
    text_en: str,
) -> PolicyVersion:
    """Publish a new edition of the policy (clause 8.2). Existing consents keep pointing at
    the edition they were given under: nothing is moved.

    Refuses (``ValidationFailed``): an empty or taken label (``policy.label_required``,
    ``policy.label_exists``), an empty text (``field.required``), an effective date before
    the latest edition's (``policy.effective_before_latest``).
    """
    errors: dict[str, str] = {}
    label_value, error = clean_text(label, 20, required=True)
    if error:
        errors["label"] = "policy.label_required" if error == "field.required" else error
    texts: dict[str, str] = {}
    for name, raw in (("text_kk", text_kk), ("text_ru", text_ru), ("text_en", text_en)):
        value = (raw or "").replace("\r\n", "\n").strip()
        if not value:
            errors[name] = "field.required"
        texts[name] = value
    audit.lock_writers(session)
    if label_value and "label" not in errors:
        if policy.edition_by_label(session, label_value) is not None:
            errors["label"] = "policy.label_exists"
    latest = session.scalar(select(func.max(PolicyVersion.effective_date)))
    if effective_date is None:
        errors["effective_date"] = "field.required"
    elif latest is not None and effective_date < latest:
        errors["effective_date"] = "policy.effective_before_latest"
    if errors:
        raise ValidationFailed(errors)
    # Issue 17: a placeholder the organisation profile cannot fill would be published as-is.
    org_profile.check_placeholders(
        session, {"kk": texts["text_kk"], "ru": texts["text_ru"], "en": texts["text_en"]}
    )
    edition = PolicyVersion(
        label=label_value,
        effective_date=effective_date,
        text_kk=texts["text_kk"],
        text_ru=texts["text_ru"],
        text_en=texts["text_en"],
        sha256=text_sha256(texts["text_kk"]),
        sha256_ru=text_sha256(texts["text_ru"]),
        sha256_en=text_sha256(texts["text_en"]),
    )
    session.add(edition)
    session.flush()
    audit.record(
        session,
        actor,
        "policy.version_added",
        "policy_version",
        edition.id,
        {"label": label_value, "effective_date": effective_date.isoformat()},
    )
    return edition


def older_version_consents(session: Session) -> dict[str, int]:
    """Currently granted consents per policy edition label (every edition is a key)."""
    latest = _latest_rows()
    counts = {label: 0 for label in session.scalars(select(PolicyVersion.label))}
    stmt = (
        select(PolicyVersion.label, func.count())
        .select_from(latest)
        .join(PolicyVersion, PolicyVersion.id == latest.c.policy_version_id)
        .join(DataSubject, DataSubject.id == latest.c.subject_id)
        .where(latest.c.withdrawn_at.is_(None), DataSubject.status != "destroyed")
        .group_by(PolicyVersion.label)
    )
    counts.update({label: n for label, n in session.execute(stmt)})
    return counts


@dataclass
class OlderVersionRow:
    subject_id: int
    name: str
    email: str
    status: str
    #: Labels of the older editions the subject's granted consents point at.
    labels: list[str]


def subjects_on_older_versions(
    session: Session, page: int = 1, page_size: int = 50, *, today: date | None = None
) -> tuple[list[OlderVersionRow], int]:
    """Subjects with a currently granted consent given under an edition older than the one
    in force (e.g. to ask them to renew), one page and the total."""
    today = today or local_date(utcnow())
    in_force = policy.edition_in_force(session, today)
    if in_force is None:
        return [], 0
    latest = _latest_rows()
    older = or_(
        PolicyVersion.effective_date < in_force.effective_date,
        and_(
            PolicyVersion.effective_date == in_force.effective_date,
            PolicyVersion.id < in_force.id,
        ),
    )
    matching = (
        select(latest.c.subject_id)
        .join(PolicyVersion, PolicyVersion.id == latest.c.policy_version_id)
        .where(latest.c.withdrawn_at.is_(None), older)
    )
    conds = [DataSubject.status != "destroyed", DataSubject.id.in_(matching)]
    total = session.scalar(select(func.count()).select_from(DataSubject).where(*conds))
    page = max(1, page)
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    subjects = session.execute(
        select(
            DataSubject.id,
            DataSubject.surname,
            DataSubject.first_name,
            DataSubject.patronymic,
            DataSubject.email,
            DataSubject.status,
        )
        .where(*conds)
        .order_by(DataSubject.surname, DataSubject.first_name, DataSubject.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    ids = [r.id for r in subjects]
    labels: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for sid, label in session.execute(
            select(latest.c.subject_id, PolicyVersion.label)
            .join(PolicyVersion, PolicyVersion.id == latest.c.policy_version_id)
            .where(latest.c.withdrawn_at.is_(None), older, latest.c.subject_id.in_(ids))
        ):
            labels[sid].add(label)
    rows = [
        OlderVersionRow(
            subject_id=r.id,
            name=full_name(r.surname, r.first_name, r.patronymic),
            email=r.email,
            status=r.status,
            labels=sorted(labels[r.id]),
        )
        for r in subjects
    ]
    return rows, total
