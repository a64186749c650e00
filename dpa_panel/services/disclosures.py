"""The disclosure register (policy clause 5).

* **5.2 — official requests of state bodies** (``kind = "authority"``): the request is recorded
  as it arrived (body, number, date, channel, legal basis and article, deadline, subjects,
  categories asked for). The officer then picks exactly which fields of which subjects are
  disclosed, with a justification per category (minimisation); a picked category must have
  been asked for. A second compliance user approves or refuses (four eyes). The disclosure
  builds the package with only the picked fields and records its SHA-256, who sent it, when
  and how; the package itself is not stored, and ``package_bytes`` rebuilds the very same bytes
  (and refuses when the data changed since, so the digest no longer matches).
* **5.1 — transfers to third parties** (``kind = "third_party"``): the same register, but
  every subject needs a current *written* consent to the transfer to that recipient: a consent
  row of purpose ``transfer`` with channel ``paper``/``email``, its evidence and ``recipient``
  (``record_transfer_consent``). Without one the request cannot be recorded, nor disclosed.
* **Holds**: an open request places a legal hold (``source_ref = "disclosure:<id>"``) on each
  of its subjects; disclosing or refusing lifts them.
* **Statuses**: received → under_review → approved → disclosed | refused. Editing the selection
  while under review sends the request back to received. Refusal: from ``received`` by any
  officer (refusing discloses nothing, so it needs no second pair of eyes), from
  ``under_review``/``approved`` only by someone who neither created the request nor prepared
  its selection (the four-eyes decision).

Like every service: the caller's session and transaction; audit events carry ids, codes and
field *names*, never personal values. The files — the package and the register's log — are
written by ``services.disclosure_exports`` (names such as ``package_bytes`` and ``log_csv``
stay importable from here).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import (
    Consent,
    DataSubject,
    Disclosure,
    DisclosureEvent,
    DisclosureSubject,
    LegalHold,
    Member,
    StaffUser,
)
from dpa_panel.models.subject import fold_for_search
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import (
    AUTHORITY_BODY_TYPES,
    DISCLOSURE_BODY_TYPES,
    DISCLOSURE_CHANNELS_IN,
    DISCLOSURE_CHANNELS_OUT,
    DISCLOSURE_FORMATS,
    DISCLOSURE_KINDS,
    DISCLOSURE_STATUSES,
    OPEN_DISCLOSURE_STATUSES,
)
from dpa_panel.services import audit, policy, retention
from dpa_panel.services.applications import local_date, search_term, text_contains
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.policy_texts import text_sha256
from dpa_panel.services.validation import clean_text

KINDS: tuple[str, ...] = DISCLOSURE_KINDS
STATUSES: tuple[str, ...] = DISCLOSURE_STATUSES
OPEN_STATUSES: tuple[str, ...] = OPEN_DISCLOSURE_STATUSES
CLOSED_STATUSES: tuple[str, ...] = ("disclosed", "refused")
CHANNELS_IN: tuple[str, ...] = DISCLOSURE_CHANNELS_IN
CHANNELS_OUT: tuple[str, ...] = DISCLOSURE_CHANNELS_OUT
FORMATS: tuple[str, ...] = DISCLOSURE_FORMATS
#: Coded type of the body (labels ``disclosure.body_type.<code>``); an authority request
#: carries one of ``AUTHORITY_TYPES``, a transfer to a third party always ``third_party``.
BODY_TYPES: tuple[str, ...] = DISCLOSURE_BODY_TYPES
AUTHORITY_TYPES: tuple[str, ...] = AUTHORITY_BODY_TYPES

#: Data categories of policy clause 2.1 -> the fields a package may contain. Every field is
#: labelled ``subject.<field>`` in the catalogs. The ``membership`` fields come from the
#: member register; the others are ``data_subject`` columns.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "identity": ("surname", "first_name", "patronymic"),
    "contacts": ("phone", "email"),
    "work": ("workplace", "workplace_category", "position", "position_level"),
    "education": ("education_level", "education"),
    "experience": ("experience_years", "experience"),
    "membership": ("membership_number", "member_since", "member_status"),
    "other": ("other_info", "language"),
}
#: field -> its category
FIELD_CATEGORY: dict[str, str] = {f: c for c, fields in CATEGORIES.items() for f in fields}
#: every field, in package column order
ALL_FIELDS: tuple[str, ...] = tuple(FIELD_CATEGORY)
MEMBER_FIELDS = {"membership_number": "membership_number", "member_since": "since",
                 "member_status": "status"}  # fmt: skip

#: Purpose code of a written consent to a transfer (clause 5.1), seeded by migration 0006.
TRANSFER_PURPOSE = "transfer"
WRITTEN_CHANNELS = ("paper", "email")

ENTITY = "disclosure"
TEXT_MAX = 2000
LEGAL_BASIS_MAX = 4000
MAX_SUBJECTS = 200
MAX_PAGE_SIZE = 200
LOG_BATCH = 2000
SEARCH_MIN = 2


# --- small helpers ---------------------------------------------------------------------------


def _loads(text: str, default):
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _parse_date(raw: str | date | None) -> date | None:
    if isinstance(raw, date):
        return raw
    value = (raw or "").strip()
    if not value:
        return None
    return date.fromisoformat(value)


def display_name(subject: DataSubject | Any) -> str:
    """``Surname First Patronymic``; ``#<id>`` once the data is destroyed."""
    parts = [subject.surname, subject.first_name, subject.patronymic or ""]
    name = " ".join(p for p in parts if p)
    return name or f"#{subject.id}"


def field_label_key(field_name: str) -> str:
    """The catalog key that labels a package field."""
    return f"subject.{field_name}"


def _usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(wanted))
        ).all()
    )


# --- written consent to a transfer (clause 5.1) ----------------------------------------------


def _same_recipient(a: str, b: str) -> bool:
    return " ".join(fold_for_search(a).split()) == " ".join(fold_for_search(b).split())


def transfer_consent(
    session: Session, subject_id: int, recipient: str, *, at: datetime | None = None
) -> Consent | None:
    """The subject's current written consent to a transfer to ``recipient`` (or ``None``).

    Current = not withdrawn (by ``at``, default now); written = channel paper or e-mail with
    its evidence. The recipient is compared case- and spacing-insensitively.
    """
    at = at or utcnow()
    rows = session.scalars(
        select(Consent)
        .where(
            Consent.subject_id == subject_id,
            Consent.purpose_code == TRANSFER_PURPOSE,
            Consent.channel.in_(WRITTEN_CHANNELS),
        )
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
        .execution_options(populate_existing=True)
    )
    for consent in rows:
        if not _same_recipient(consent.recipient, recipient):
            continue
        if consent.granted_at > at:
            continue
        if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
            return None
        return consent
    return None


def record_transfer_consent(
    session: Session,
    actor: Actor,
    subject_id: int,
    recipient: str,
    *,
    channel: str,
    evidence_ref: str,
    evidence_received_at: datetime | None,
    language: str = "kk",
    text: str = "",
    evidence_text: str = "",
    now: datetime | None = None,
) -> Consent:
    """Record a subject's written consent to a transfer of their data to ``recipient``.

    A consent-ledger row of purpose ``transfer`` (clause 5.1) with ``recipient`` filled.
    Only ``paper``/``email`` (``disclosure.consent_not_written``), always with the document
    reference and the date it was received (``consent.evidence_required``). ``text`` is what
    the person signed; default: the catalog sentence naming the recipient. Audited as
    ``consent.recorded`` (purpose and channel; no recipient, no text). Withdraw with
    ``withdraw_transfer_consent``.
    """
    now = now or utcnow()
    if channel not in WRITTEN_CHANNELS:
        raise ServiceError("disclosure.consent_not_written", field="channel")
    language = normalise_locale(language)
    errors: dict[str, str] = {}
    name, error = clean_text(recipient, 300, required=True)
    if error:
        errors["recipient"] = error
    ref, error = clean_text(evidence_ref, 200, required=True)
    if error:
        errors["evidence_ref"] = "consent.evidence_required" if not ref else error
    evidence, error = clean_text(evidence_text, TEXT_MAX, required=False, multiline=True)
    if error:
        errors["evidence_text"] = error
    if errors:
        raise ValidationFailed(errors)
    sentence, error = clean_text(
        text or tr(language, "disclosure.consent_sentence", recipient=name),
        TEXT_MAX,
        required=True,
        multiline=True,
    )
    if error:
        raise ServiceError(error, field="text")
    if evidence_received_at is None:
        raise ServiceError("consent.evidence_required", field="evidence_received_at")
    if evidence_received_at > now:
        raise ServiceError("consent.evidence_in_future", field="evidence_received_at")
    edition = policy.edition_in_force(session, local_date(now))
    if edition is None:
        raise ServiceError("apply.no_policy")

    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None:
        raise ServiceError("subject.not_found")
    if subject.status != "active":
        raise ServiceError("subject.not_active")
    if transfer_consent(session, subject_id, name, at=now) is not None:
        raise ServiceError("consent.already_granted", field="recipient")
    consent = Consent(
        subject_id=subject_id,
        purpose_code=TRANSFER_PURPOSE,
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
        recipient=name,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "consent.recorded",
        "consent",
        consent.id,
        {"subject_id": subject_id, "purpose": TRANSFER_PURPOSE, "channel": channel,
         "policy": edition.label},
    )  # fmt: skip
    return consent


def withdraw_transfer_consent(
    session: Session,
    actor: Actor,
    consent_id: int,
    *,
    channel: str,
    evidence: str,
    now: datetime | None = None,
) -> Consent:
    """Record the withdrawal of a written transfer consent (open third-party requests that
    rest on it can then no longer be disclosed)."""
    now = now or utcnow()
    if channel not in ("web_form", "paper", "email", "in_person"):
        raise ServiceError("consent.bad_channel", field="channel")
    text, error = clean_text(evidence, TEXT_MAX, required=True, multiline=True)
    if error:
        raise ServiceError(error, field="evidence")
    audit.lock_writers(session)
    consent = session.get(Consent, consent_id, populate_existing=True)
    if consent is None or consent.purpose_code != TRANSFER_PURPOSE:
        raise ServiceError("consent.not_granted")
    if consent.withdrawn_at is not None:
        raise ServiceError("consent.not_granted")
    consent.withdrawn_at = now
    consent.withdrawal_channel = channel
    consent.withdrawal_evidence = text
    consent.withdrawal_recorded_by_id = actor.user_id
    session.add(consent)
    session.flush()
    audit.record(
        session, actor, "consent.withdrawn", "consent", consent.id,
        {"subject_id": consent.subject_id, "purpose": TRANSFER_PURPOSE, "channel": channel},
    )  # fmt: skip
    return consent


# --- recording a request ---------------------------------------------------------------------


@dataclass
class DisclosureForm:
    """The new-request form as typed (dates as ISO strings)."""

    kind: str = "authority"
    #: required for ``authority``; for ``third_party`` empty or ``third_party``
    body_type: str = ""
    body_name: str = ""
    body_department: str = ""
    request_number: str = ""
    request_date: str = ""
    received_via: str = ""
    legal_basis: str = ""
    legal_article: str = ""
    answer_due_on: str = ""
    recipient: str = ""
    requested_categories: list[str] = field(default_factory=list)
    subject_ids: list[int] = field(default_factory=list)


def _text(errors: dict, name: str, raw: str, limit: int, *, required: bool, multiline=False):
    value, error = clean_text(raw, limit, required=required, multiline=multiline)
    if error:
        errors[name] = error
    return value


def _date_field(errors: dict, name: str, raw: str) -> date | None:
    try:
        value = _parse_date(raw)
    except ValueError:
        errors[name] = "disclosure.bad_date"
        return None
    if value is None:
        errors[name] = "field.required"
    return value


def _validate_form(form: DisclosureForm, now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    kind = (form.kind or "").strip()
    if kind not in KINDS:
        errors["kind"] = "field.choice_invalid" if kind else "field.required"
    values: dict[str, Any] = {"kind": kind}
    body_type = (form.body_type or "").strip()
    if kind == "third_party":
        if body_type not in ("", "third_party"):
            errors["body_type"] = "field.choice_invalid"
        body_type = "third_party"
    elif not body_type:
        errors["body_type"] = "field.required"
    elif body_type not in AUTHORITY_BODY_TYPES:
        errors["body_type"] = "field.choice_invalid"
    values["body_type"] = body_type
    values["body_name"] = _text(errors, "body_name", form.body_name, 300, required=True)
    values["body_department"] = _text(
        errors, "body_department", form.body_department, 300, required=False
    )
    values["request_number"] = _text(
        errors, "request_number", form.request_number, 100, required=True
    )
    via = (form.received_via or "").strip()
    if via not in CHANNELS_IN:
        errors["received_via"] = "field.choice_invalid" if via else "field.required"
    values["received_via"] = via
    values["legal_basis"] = _text(
        errors, "legal_basis", form.legal_basis, LEGAL_BASIS_MAX, required=True, multiline=True
    )
    values["legal_article"] = _text(
        errors, "legal_article", form.legal_article, 200, required=(kind == "authority")
    )
    recipient = _text(errors, "recipient", form.recipient, 300, required=False)
    if kind == "third_party" and not recipient and "body_name" not in errors:
        recipient = values["body_name"]
    values["recipient"] = recipient if kind == "third_party" else ""
    request_date = _date_field(errors, "request_date", form.request_date)
    if request_date is not None and request_date > local_date(now):
        errors["request_date"] = "disclosure.date_in_future"
    due = _date_field(errors, "answer_due_on", form.answer_due_on)
    if due is not None and request_date is not None and due < request_date:
        errors["answer_due_on"] = "disclosure.due_before_request"
    values["request_date"], values["answer_due_on"] = request_date, due
    categories = [c for c in CATEGORIES if c in set(form.requested_categories or ())]
    if not form.requested_categories:
        errors["requested_categories"] = "disclosure.no_categories"
    elif set(form.requested_categories) - set(CATEGORIES):
        errors["requested_categories"] = "field.choice_invalid"
    values["requested_categories"] = categories
    ids: list[int] = []
    for raw in form.subject_ids or ():
        sid = int(raw)
        if sid not in ids:
            ids.append(sid)
    if not ids:
        errors["subject_ids"] = "disclosure.no_subjects"
    elif len(ids) > MAX_SUBJECTS:
        errors["subject_ids"] = "disclosure.too_many_subjects"
    values["subject_ids"] = ids
    if errors:
        raise ValidationFailed(errors)
    return values


def _event(
    session: Session,
    disclosure: Disclosure,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> None:
    session.add(
        DisclosureEvent(
            disclosure_id=disclosure.id,
            at=now,
            actor_id=actor.user_id,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )


def _hold_ref(disclosure_id: int) -> str:
    return f"disclosure:{disclosure_id}"


def create_disclosure(
    session: Session, actor: Actor, form: DisclosureForm, *, now: datetime | None = None
) -> Disclosure:
    """Record a request (status ``received``), place the legal holds, audit
    ``disclosure.created``. ``ValidationFailed`` with per-field keys for a bad form;
    ``disclosure.subject_not_found`` for an unknown or destroyed subject; for ``third_party``
    ``disclosure.subject_not_active`` (blocked) and ``disclosure.no_written_consent``."""
    now = now or utcnow()
    values = _validate_form(form, now)
    ids: list[int] = values.pop("subject_ids")
    audit.lock_writers(session)
    subjects = {
        s.id: s
        for s in session.scalars(
            select(DataSubject)
            .where(DataSubject.id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    consents: dict[int, int | None] = {}
    for sid in ids:
        subject = subjects.get(sid)
        if subject is None or subject.status == "destroyed":
            raise ServiceError("disclosure.subject_not_found", field="subject_ids", subject_id=sid)
        consents[sid] = None
        if values["kind"] == "third_party":
            if subject.status != "active":
                raise ServiceError(
                    "disclosure.subject_not_active", field="subject_ids", subject_id=sid
                )
            consent = transfer_consent(session, sid, values["recipient"], at=now)
            if consent is None:
                raise ServiceError(
                    "disclosure.no_written_consent", field="subject_ids", subject_id=sid
                )
            consents[sid] = consent.id
    disclosure = Disclosure(
        reference=f"pending-{uuid.uuid4().hex[:12]}",
        status="received",
        body_search=fold_for_search(f"{values['body_name']}\n{values['body_department']}"),
        requested_categories=_dumps(values.pop("requested_categories")),
        justifications="{}",
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(disclosure)
    session.flush()
    disclosure.reference = f"DR-{local_date(now).year}-{disclosure.id:06d}"
    session.add(disclosure)
    for sid in ids:
        session.add(
            DisclosureSubject(
                disclosure_id=disclosure.id, subject_id=sid, fields="[]", consent_id=consents[sid]
            )
        )
    _event(session, disclosure, actor, "created", now, to_status="received")
    session.flush()
    reason = f"Disclosure register {disclosure.reference} (privacy policy clause 5): open request"
    for sid in ids:
        retention.place_hold(session, actor, sid, reason, source_ref=_hold_ref(disclosure.id),
                             now=now)  # fmt: skip
    audit.record(
        session,
        actor,
        "disclosure.created",
        ENTITY,
        disclosure.id,
        {
            "kind": disclosure.kind,
            "subject_ids": ids,
            "categories": _loads(disclosure.requested_categories, []),
            "received_via": disclosure.received_via,
        },
    )
    return disclosure


def _load(session: Session, disclosure_id: int, *, lock: bool = False) -> Disclosure:
    if lock:
        audit.lock_writers(session)
    disclosure = session.get(Disclosure, disclosure_id, populate_existing=True)
    if disclosure is None:
        raise ServiceError("disclosure.not_found")
    return disclosure


def _links(session: Session, disclosure_id: int) -> list[DisclosureSubject]:
    return list(
        session.scalars(
            select(DisclosureSubject)
            .where(DisclosureSubject.disclosure_id == disclosure_id)
            .order_by(DisclosureSubject.subject_id)
            .execution_options(populate_existing=True)
        )
    )


def _selection(links: Sequence[DisclosureSubject]) -> dict[int, list[str]]:
    return {link.subject_id: _loads(link.fields, []) for link in links}


def _picked_fields(selection: dict[int, list[str]]) -> list[str]:
    picked = {f for fields in selection.values() for f in fields}
    return [f for f in ALL_FIELDS if f in picked]


def _picked_categories(selection: dict[int, list[str]]) -> list[str]:
    cats = {FIELD_CATEGORY[f] for f in _picked_fields(selection)}
    return [c for c in CATEGORIES if c in cats]


def _authors(session: Session, disclosure: Disclosure) -> set[int]:
    """Who may not take the four-eyes decision: the creator and whoever prepared the
    selection or submitted it (since it was last sent back)."""
    authors = {disclosure.created_by_id} if disclosure.created_by_id is not None else set()
    rows = session.execute(
        select(DisclosureEvent.actor_id).where(
            DisclosureEvent.disclosure_id == disclosure.id,
            DisclosureEvent.kind.in_(("selection", "submitted")),
        )
    )
    authors |= {r.actor_id for r in rows if r.actor_id is not None}
    return authors


# --- minimisation ----------------------------------------------------------------------------


def set_selection(
    session: Session,
    actor: Actor,
    disclosure_id: int,
    picks: dict[int, list[str]],
    justifications: dict[str, str],
    *,
    now: datetime | None = None,
) -> Disclosure:
    """Set which fields of which subjects will be disclosed, with a justification for each
    category that has a picked field.

    Only while ``received`` or ``under_review`` (then it goes back to ``received``: the
    reviewer must see the final selection). ``ValidationFailed`` (nothing changes) with keys
    ``picks`` (``disclosure.unknown_subject``, ``disclosure.unknown_field``,
    ``disclosure.category_not_requested``), ``justifications`` (unknown category) and
    ``just_<category>`` (``disclosure.justification_required``, ``field.too_long`` ...).
    Justifications of categories with nothing picked are dropped. Audited with field names.
    """
    now = now or utcnow()
    disclosure = _load(session, disclosure_id, lock=True)
    if disclosure.status not in ("received", "under_review"):
        raise ServiceError("disclosure.not_editable")
    links = {link.subject_id: link for link in _links(session, disclosure_id)}
    requested = set(_loads(disclosure.requested_categories, []))
    errors: dict[str, str] = {}
    clean: dict[int, list[str]] = {}
    for raw_sid, fields in (picks or {}).items():
        try:
            sid = int(raw_sid)
        except (TypeError, ValueError):
            errors["picks"] = "disclosure.unknown_subject"
            continue
        if sid not in links:
            errors["picks"] = "disclosure.unknown_subject"
            continue
        wanted = set(fields or ())
        if wanted - set(ALL_FIELDS):
            errors["picks"] = "disclosure.unknown_field"
            continue
        if {FIELD_CATEGORY[f] for f in wanted} - requested:
            errors.setdefault("picks", "disclosure.category_not_requested")
            continue
        clean[sid] = [f for f in ALL_FIELDS if f in wanted]
    if set(justifications or {}) - set(CATEGORIES):
        errors["justifications"] = "field.choice_invalid"
    categories = _picked_categories(clean)
    texts: dict[str, str] = {}
    for category in categories:
        value, error = clean_text(
            (justifications or {}).get(category, ""), TEXT_MAX, required=True, multiline=True
        )
        if error:
            errors[f"just_{category}"] = (
                "disclosure.justification_required" if error == "field.required" else error
            )
        texts[category] = value
    if errors:
        raise ValidationFailed(errors)
    for sid, link in links.items():
        link.fields = _dumps(clean.get(sid, []))
        session.add(link)
    disclosure.justifications = _dumps(texts)
    from_status = disclosure.status
    disclosure.status = "received"
    disclosure.updated_at = now
    session.add(disclosure)
    _event(session, disclosure, actor, "selection", now)
    if from_status == "under_review":
        _event(session, disclosure, actor, "returned", now, from_status=from_status,
               to_status="received")  # fmt: skip
    session.flush()
    audit.record(
        session,
        actor,
        "disclosure.selection_changed",
        ENTITY,
        disclosure.id,
        {
            "fields": _picked_fields(clean),
            "categories": categories,
            "subjects": sum(1 for fields in clean.values() if fields),
            "from": from_status,
        },
    )
    return disclosure


def _change_status(
    session: Session,
    actor: Actor,
    disclosure: Disclosure,
    to_status: str,
    kind: str,
    now: datetime,
    *,
    note: str = "",
) -> str:
    from_status = disclosure.status
    disclosure.status = to_status
    disclosure.updated_at = now
    session.add(disclosure)
    _event(session, disclosure, actor, kind, now, from_status=from_status, to_status=to_status,
           note=note)  # fmt: skip
    session.flush()
    return from_status


def submit_for_review(
    session: Session, actor: Actor, disclosure_id: int, *, now: datetime | None = None
) -> Disclosure:
    """received → under_review; needs a non-empty selection (``disclosure.empty_selection``)."""
    now = now or utcnow()
    disclosure = _load(session, disclosure_id, lock=True)
    if disclosure.status != "received":
        raise ServiceError("disclosure.bad_status")
    selection = _selection(_links(session, disclosure_id))
    if not _picked_fields(selection):
        raise ServiceError("disclosure.empty_selection")
    texts = _loads(disclosure.justifications, {})
    if any(not texts.get(c) for c in _picked_categories(selection)):
        raise ServiceError("disclosure.justification_required")
    _change_status(session, actor, disclosure, "under_review", "submitted", now)
    audit.record(session, actor, "disclosure.submitted", ENTITY, disclosure.id,
                 {"fields": _picked_fields(selection)})  # fmt: skip
    return disclosure


def approve(
    session: Session, actor: Actor, disclosure_id: int, *, now: datetime | None = None
) -> Disclosure:
    """under_review → approved, by a second compliance user (``disclosure.own_request`` for
    the creator or whoever prepared the selection)."""
    now = now or utcnow()
    disclosure = _load(session, disclosure_id, lock=True)
    if disclosure.status != "under_review":
        raise ServiceError("disclosure.bad_status")
    if actor.user_id is None or actor.user_id in _authors(session, disclosure):
        raise ServiceError("disclosure.own_request")
    disclosure.decided_by_id = actor.user_id
    disclosure.decided_at = now
    _change_status(session, actor, disclosure, "approved", "approved", now)
    audit.record(session, actor, "disclosure.approved", ENTITY, disclosure.id, {})
    return disclosure


def _lift_holds(session: Session, actor: Actor, disclosure: Disclosure, now: datetime) -> int:
    holds = session.scalars(
        select(LegalHold).where(
            LegalHold.source_ref == _hold_ref(disclosure.id), LegalHold.lifted_at.is_(None)
        )
    ).all()
    reason = f"Disclosure register {disclosure.reference} closed ({disclosure.status})"
    for hold in holds:
        retention.lift_hold(session, actor, hold.id, reason, now=now)
    return len(holds)


def refuse(
    session: Session,
    actor: Actor,
    disclosure_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> Disclosure:
    """Refuse to disclose (the reason is kept on the request, not in the audit trail) and
    lift the holds. From ``received`` any officer may refuse; from ``under_review`` or
    ``approved`` only a second user (``disclosure.own_request``)."""
    now = now or utcnow()
    text, error = clean_text(reason, TEXT_MAX, required=True, multiline=True)
    if error:
        key = "disclosure.reason_required" if error == "field.required" else error
        raise ServiceError(key, field="reason")
    disclosure = _load(session, disclosure_id, lock=True)
    if disclosure.status not in OPEN_STATUSES:
        raise ServiceError("disclosure.bad_status")
    if disclosure.status != "received" and (
        actor.user_id is None or actor.user_id in _authors(session, disclosure)
    ):
        raise ServiceError("disclosure.own_request")
    disclosure.refusal_reason = text
    disclosure.decided_by_id = actor.user_id
    disclosure.decided_at = now
    from_status = _change_status(session, actor, disclosure, "refused", "refused", now,
                                 note=text)  # fmt: skip
    lifted = _lift_holds(session, actor, disclosure, now)
    audit.record(session, actor, "disclosure.refused", ENTITY, disclosure.id,
                 {"from": from_status, "holds_lifted": lifted})  # fmt: skip
    return disclosure


# --- disclosing ---------------------------------------------------------------------------------


def disclose(
    session: Session,
    actor: Actor,
    disclosure_id: int,
    fmt: str,
    sent_via: str,
    *,
    now: datetime | None = None,
) -> Disclosure:
    """approved → disclosed: build the package (picked fields only), record its format,
    SHA-256, row count and fields, who sent it, when (``now``) and how; lift the holds;
    audit ``disclosure.disclosed`` (subject ids, digest, field names). A third-party transfer
    whose written consent was withdrawn meanwhile is refused
    (``disclosure.no_written_consent``)."""
    now = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    if fmt not in FORMATS:
        raise ServiceError("disclosure.bad_format", field="format")
    if sent_via not in CHANNELS_OUT:
        raise ServiceError("disclosure.bad_channel", field="sent_via")
    disclosure = _load(session, disclosure_id, lock=True)
    if disclosure.status != "approved":
        raise ServiceError("disclosure.bad_status")
    links = _links(session, disclosure_id)
    if disclosure.kind == "third_party":
        for link in links:
            if transfer_consent(session, link.subject_id, disclosure.recipient, at=now) is None:
                raise ServiceError("disclosure.no_written_consent", subject_id=link.subject_id)
    disclosure.package_format = fmt
    disclosure.disclosed_at = now
    disclosure.disclosed_by_id = actor.user_id
    disclosure.sent_via = sent_via
    from dpa_panel.services.disclosure_exports import build_package, operator_snapshot
    from dpa_panel.services.tabular import WRITER_VERSION

    # Issue 17: the operator block as it is today, frozen with the package it heads.
    disclosure.operator = operator_snapshot(session)
    data, count, fields = build_package(session, disclosure)
    disclosure.package_sha256 = hashlib.sha256(data).hexdigest()
    disclosure.package_rows = count
    disclosure.package_fields = _dumps(fields)
    _change_status(session, actor, disclosure, "disclosed", "disclosed", now)
    lifted = _lift_holds(session, actor, disclosure, now)
    selection = _selection(links)
    audit.record(
        session,
        actor,
        "disclosure.disclosed",
        ENTITY,
        disclosure.id,
        {
            "subject_ids": [sid for sid in sorted(selection) if selection[sid]],
            "fields": fields,
            "digest": disclosure.package_sha256,
            "format": fmt,
            "sent_via": sent_via,
            "rows": count,
            "holds_lifted": lifted,
            "writer": WRITER_VERSION,
        },
    )
    return disclosure


# --- reading one request ---------------------------------------------------------------------


@dataclass
class ComparisonRow:
    """Asked for vs. picked, per category (the minimisation view)."""

    category: str
    requested: bool
    picked_fields: int
    subjects_picked: int
    justification: str


@dataclass
class HistoryEntry:
    """A status change: ``status`` is the status it led to."""

    status: str
    at: datetime
    by: str
    note: str
    kind: str
    from_status: str


@dataclass
class DisclosureView:
    id: int
    reference: str
    kind: str
    status: str
    body_name: str
    body_department: str
    body_type: str
    recipient: str
    request_number: str
    request_date: date
    received_via: str
    legal_basis: str
    legal_article: str
    answer_due_on: date
    requested_categories: list[str]
    created_by: str
    created_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_reason: str
    disclosed_by: str
    disclosed_at: datetime | None
    sent_via: str
    package_format: str
    package_digest: str
    package_rows: int
    package_fields: list[str]
    #: [(subject id, display name)]
    subjects: list[tuple[int, str]]
    #: subject id -> picked field names
    selection: dict[int, list[str]]
    #: category -> justification
    justifications: dict[str, str]
    comparison: list[ComparisonRow]
    history: list[HistoryEntry]
    #: subject id -> consent id (third-party transfers)
    consents: dict[int, int | None]
    can_edit: bool
    can_submit: bool
    can_approve: bool
    can_refuse: bool
    can_disclose: bool


_STATUS_EVENTS = ("created", "submitted", "returned", "approved", "refused", "disclosed")


def get_disclosure(session: Session, actor: Actor, disclosure_id: int) -> DisclosureView:
    """One request with its subjects, selection, comparison, history and what ``actor`` may
    do next. Reading it is audited (``disclosure.viewed``): it shows subjects' names."""
    disclosure = _load(session, disclosure_id)
    links = _links(session, disclosure_id)
    selection = _selection(links)
    subjects = {
        s.id: s
        for s in session.scalars(
            select(DataSubject).where(DataSubject.id.in_([link.subject_id for link in links]
                                                         or [-1]))
        )
    }  # fmt: skip
    events = list(
        session.scalars(
            select(DisclosureEvent)
            .where(DisclosureEvent.disclosure_id == disclosure_id)
            .order_by(DisclosureEvent.id)
        )
    )
    names = _usernames(
        session,
        [disclosure.created_by_id, disclosure.decided_by_id, disclosure.disclosed_by_id]
        + [e.actor_id for e in events],
    )
    requested = _loads(disclosure.requested_categories, [])
    texts = _loads(disclosure.justifications, {})
    comparison = []
    for category, fields in CATEGORIES.items():
        picked = {f for sel in selection.values() for f in sel if f in fields}
        comparison.append(
            ComparisonRow(
                category=category,
                requested=category in requested,
                picked_fields=len(picked),
                subjects_picked=sum(1 for sel in selection.values() if set(sel) & set(fields)),
                justification=texts.get(category, ""),
            )
        )
    history = [
        HistoryEntry(
            status=e.to_status,
            at=e.at,
            by=names.get(e.actor_id, "") if e.actor_id else "",
            note=e.note,
            kind=e.kind,
            from_status=e.from_status,
        )
        for e in events
        if e.kind in _STATUS_EVENTS
    ]
    status = disclosure.status
    authors = _authors(session, disclosure)
    second = actor.user_id is not None and actor.user_id not in authors
    has_selection = bool(_picked_fields(selection))
    view = DisclosureView(
        id=disclosure.id,
        reference=disclosure.reference,
        kind=disclosure.kind,
        status=status,
        body_name=disclosure.body_name,
        body_department=disclosure.body_department,
        body_type=disclosure.body_type,
        recipient=disclosure.recipient,
        request_number=disclosure.request_number,
        request_date=disclosure.request_date,
        received_via=disclosure.received_via,
        legal_basis=disclosure.legal_basis,
        legal_article=disclosure.legal_article,
        answer_due_on=disclosure.answer_due_on,
        requested_categories=requested,
        created_by=names.get(disclosure.created_by_id, ""),
        created_at=disclosure.created_at,
        decided_by=names.get(disclosure.decided_by_id, ""),
        decided_at=disclosure.decided_at,
        decision_reason=disclosure.refusal_reason,
        disclosed_by=names.get(disclosure.disclosed_by_id, ""),
        disclosed_at=disclosure.disclosed_at,
        sent_via=disclosure.sent_via,
        package_format=disclosure.package_format,
        package_digest=disclosure.package_sha256,
        package_rows=disclosure.package_rows,
        package_fields=_loads(disclosure.package_fields, []),
        subjects=[
            (link.subject_id, display_name(subjects[link.subject_id]))
            if link.subject_id in subjects
            else (link.subject_id, f"#{link.subject_id}")
            for link in links
        ],
        selection=selection,
        justifications=texts,
        comparison=comparison,
        history=history,
        consents={link.subject_id: link.consent_id for link in links},
        can_edit=status in ("received", "under_review"),
        can_submit=status == "received" and has_selection,
        can_approve=status == "under_review" and second,
        can_refuse=status == "received" or (status in ("under_review", "approved") and second),
        can_disclose=status == "approved",
    )
    audit.record(session, actor, "disclosure.viewed", ENTITY, disclosure.id,
                 {"subjects": len(links)})  # fmt: skip
    return view


# --- the subject picker and the subject page -------------------------------------------------


def search_subjects(session: Session, actor: Actor, query: str, limit: int = 20) -> list[dict]:
    """Subjects (not destroyed) whose folded name, e-mail or workplace contains ``query``, or
    whose membership number does: ``[{"id", "name", "reference"}]`` (reference = membership
    number, "" for non-members). Audited like the pipeline listing (no search term)."""
    term = search_term(query)
    limit = max(1, min(int(limit), 50))
    hits: list[dict] = []
    if len(term) >= SEARCH_MIN:
        by_text = select(DataSubject.id).where(
            DataSubject.status != "destroyed",
            text_contains(session, DataSubject.search_text, term),
        )
        by_number = (
            select(Member.subject_id)
            .join(DataSubject, DataSubject.id == Member.subject_id)
            .where(
                DataSubject.status != "destroyed",
                text_contains(session, func.upper(Member.membership_number), term.upper()),
            )
        )
        ids = [
            r[0]
            for r in session.execute(
                select(DataSubject.id)
                .where(DataSubject.id.in_(by_text.union(by_number).subquery().select()))
                .order_by(DataSubject.surname, DataSubject.first_name, DataSubject.id)
                .limit(limit)
            )
        ]
        if ids:
            rows = session.execute(
                select(DataSubject, Member.membership_number)
                .outerjoin(Member, Member.subject_id == DataSubject.id)
                .where(DataSubject.id.in_(ids))
            ).all()
            by_id = {s.id: (s, number) for s, number in rows}
            hits = [
                {"id": sid, "name": display_name(by_id[sid][0]), "reference": by_id[sid][1] or "",
                 "status": by_id[sid][0].status}
                for sid in ids
                if sid in by_id
            ]  # fmt: skip
    audit.record(session, actor, "disclosure.subject_search", "data_subject", "",
                 {"rows": len(hits)})  # fmt: skip
    return hits


def subject_disclosures(session: Session, subject_id: int) -> list[dict]:
    """Every disclosure about the subject, newest first (for the subject page and access
    requests): id, reference, kind, status, body_name, body_department, recipient,
    request_date, fields (picked for this subject), disclosed_at, sent_via, package_sha256."""
    rows = session.execute(
        select(Disclosure, DisclosureSubject.fields)
        .join(DisclosureSubject, DisclosureSubject.disclosure_id == Disclosure.id)
        .where(DisclosureSubject.subject_id == subject_id)
        .order_by(Disclosure.request_date.desc(), Disclosure.id.desc())
    ).all()
    return [
        {
            "id": d.id,
            "reference": d.reference,
            "kind": d.kind,
            "status": d.status,
            "body_name": d.body_name,
            "body_department": d.body_department,
            "recipient": d.recipient,
            "request_number": d.request_number,
            "request_date": d.request_date,
            "legal_article": d.legal_article,
            "fields": _loads(fields, []),
            "disclosed_at": d.disclosed_at,
            "sent_via": d.sent_via,
            "package_sha256": d.package_sha256,
        }
        for d, fields in rows
    ]


# --- the register: list, filters, log exports ------------------------------------------------


@dataclass
class DisclosureFilter:
    """Register filter; ``date_*`` are inclusive bounds on the request date."""

    date_from: date | None = None
    date_to: date | None = None
    body: str = ""
    status: str = ""
    kind: str = ""


def disclosure_filter_from_strings(
    date_from: str = "", date_to: str = "", body: str = "", status: str = "", kind: str = ""
) -> DisclosureFilter:
    """A filter from form/ticket strings: ``disclosure.bad_date`` for an unreadable date,
    ``field.choice_invalid`` for an unknown status or kind."""
    values = {}
    for name, raw in (("date_from", date_from), ("date_to", date_to)):
        try:
            values[name] = _parse_date(raw)
        except ValueError as exc:
            raise ServiceError("disclosure.bad_date", field=name) from exc
    status, kind = (status or "").strip(), (kind or "").strip()
    if status and status not in STATUSES:
        raise ServiceError("field.choice_invalid", field="status")
    if kind and kind not in KINDS:
        raise ServiceError("field.choice_invalid", field="kind")
    return DisclosureFilter(body=" ".join((body or "").split())[:200], status=status, kind=kind,
                            **values)  # fmt: skip


def filter_to_strings(flt: DisclosureFilter) -> dict[str, str]:
    """The filter as ticket parameters (the inverse of ``disclosure_filter_from_strings``)."""
    return {
        "date_from": flt.date_from.isoformat() if flt.date_from else "",
        "date_to": flt.date_to.isoformat() if flt.date_to else "",
        "body": flt.body,
        "status": flt.status,
        "kind": flt.kind,
    }


def _conditions(session: Session, flt: DisclosureFilter) -> list:
    conds = []
    if flt.date_from:
        conds.append(Disclosure.request_date >= flt.date_from)
    if flt.date_to:
        conds.append(Disclosure.request_date <= flt.date_to)
    if flt.status:
        conds.append(Disclosure.status == flt.status)
    if flt.kind:
        conds.append(Disclosure.kind == flt.kind)
    term = search_term(flt.body)
    if term:
        conds.append(text_contains(session, Disclosure.body_search, term))
    return conds


@dataclass
class DisclosureRow:
    id: int
    reference: str
    kind: str
    status: str
    body_name: str
    body_department: str
    body_type: str
    request_number: str
    request_date: date
    answer_due_on: date
    subjects: int
    created_by: str
    disclosed_at: datetime | None


def _subject_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(DisclosureSubject.disclosure_id, func.count())
            .where(DisclosureSubject.disclosure_id.in_(ids))
            .group_by(DisclosureSubject.disclosure_id)
        ).all()
    )


def list_disclosures(
    session: Session,
    actor: Actor,
    flt: DisclosureFilter,
    *,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[DisclosureRow], int]:
    """One page of the register (newest request first) and the number of matches; paging in
    SQL. Audited as ``disclosure.list`` (filter names, no values)."""
    page = max(1, int(page))
    size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    conds = _conditions(session, flt)
    total = session.scalar(select(func.count()).select_from(Disclosure).where(*conds)) or 0
    stmt = (
        select(Disclosure, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == Disclosure.created_by_id)
        .where(*conds)
        .order_by(Disclosure.request_date.desc(), Disclosure.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    found = session.execute(stmt).all()
    counts = _subject_counts(session, [d.id for d, _ in found])
    rows = [
        DisclosureRow(
            id=d.id,
            reference=d.reference,
            kind=d.kind,
            status=d.status,
            body_name=d.body_name,
            body_department=d.body_department,
            body_type=d.body_type,
            request_number=d.request_number,
            request_date=d.request_date,
            answer_due_on=d.answer_due_on,
            subjects=counts.get(d.id, 0),
            created_by=username or "",
            disclosed_at=d.disclosed_at,
        )
        for d, username in found
    ]
    audit.record(
        session,
        actor,
        "disclosure.list",
        ENTITY,
        "",
        {"filters": sorted(k for k, v in filter_to_strings(flt).items() if v),
         "status": flt.status, "kind": flt.kind, "page": page, "rows": len(rows)},
    )  # fmt: skip
    return rows, total


# --- the subject report ----------------------------------------------------------------------


def report_section(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """``subject_disclosures`` with JSON-ready values (the subject data report's section)."""
    out = []
    for row in subject_disclosures(session, subject_id):
        out.append(
            {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()}
        )
    return out


def open_disclosures_for(session: Session, subject_id: int) -> int:
    """How many open requests concern the subject (each holds their data)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(DisclosureSubject)
            .join(Disclosure, Disclosure.id == DisclosureSubject.disclosure_id)
            .where(DisclosureSubject.subject_id == subject_id, Disclosure.status.in_(OPEN_STATUSES))
        )
        or 0
    )


def overdue(session: Session, today: date) -> int:
    """Open requests whose answer is due before ``today``."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Disclosure)
            .where(Disclosure.status.in_(OPEN_STATUSES), Disclosure.answer_due_on < today)
        )
        or 0
    )


__all__ = [
    "ALL_FIELDS",
    "AUTHORITY_TYPES",
    "BODY_TYPES",
    "CATEGORIES",
    "CHANNELS_IN",
    "CHANNELS_OUT",
    "FORMATS",
    "KINDS",
    "STATUSES",
    "ComparisonRow",
    "DisclosureFilter",
    "DisclosureForm",
    "DisclosureRow",
    "DisclosureView",
    "HistoryEntry",
    "approve",
    "create_disclosure",
    "disclose",
    "disclosure_filter_from_strings",
    "get_disclosure",
    "list_disclosures",
    "record_transfer_consent",
    "refuse",
    "search_subjects",
    "set_selection",
    "subject_disclosures",
    "submit_for_review",
    "transfer_consent",
    "withdraw_transfer_consent",
]

#: Names that moved to ``services.disclosure_exports`` (the package and log files), still
#: importable from here. Loaded on first use: that module imports this one.
_EXPORT_NAMES = frozenset(
    (
        "FONT_BOLD_PATH", "FONT_PATH", "LOG_COLUMNS", "LOG_WIDTHS", "MEDIA_TYPES", "PACKAGE_NO",
        "PACKAGE_TITLE", "PACKAGE_WRITERS", "build_package", "canonical_row", "iter_log_rows",
        "log_csv", "log_digest", "log_filename", "log_pdf", "log_xlsx", "package_bytes",
        "package_filename",
    )
)  # fmt: skip


def __getattr__(name: str):
    if name in _EXPORT_NAMES:
        from dpa_panel.services import disclosure_exports

        return getattr(disclosure_exports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
