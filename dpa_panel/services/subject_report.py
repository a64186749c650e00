"""The subject report for a right-of-access request (policy clause 6): everything stored about
one person, as JSON and as a PDF with labels in the reader's language.

Generating it is one audited read (``subject.report_generated``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale
from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    PolicyVersion,
    RequestEvent,
)
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.documents.pdf import FONT_PACKAGE, FONT_PATH  # noqa: F401  (re-exported)
from dpa_panel.services.errors import ServiceError

#: Columns never put in a report: internal copies, not data about the person.
REPORT_EXCLUDED_SUBJECT_COLUMNS = ("search_text",)
REPORT_EXCLUDED_REQUEST_COLUMNS = ("search_text",)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _derived_key(name: str) -> bool:
    """The statistics' stored month keys and day counts (``models.types.keep_derived_keys``):
    copies of dates the report already shows, so they are left out."""
    return name.endswith("_month") or name == "decision_days"


def _row_dict(obj, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    columns = inspect(type(obj)).columns
    return {
        c.key: _jsonable(getattr(obj, c.key))
        for c in columns
        if c.key not in exclude and not _derived_key(c.key)
    }


def subject_report(session: Session, actor: Actor, subject_id: int) -> dict[str, Any]:
    """Everything stored about the subject, for an access request (one audited read).

    Sections: ``subject`` (every column but the search copy), ``consents`` (every row, with
    its policy label), ``policies`` (the editions those consents point at, with their texts),
    ``applications`` (each with its ``events`` timeline), ``member``, ``requests`` (about the
    subject, each with its ``events`` history), ``disclosures`` (clause 5: to whom, which
    fields, the package digest) and
    ``retention`` (status, block, ``destruction_due_at``, purpose end dates).
    """
    subject = session.get(DataSubject, subject_id)
    if subject is None:
        raise ServiceError("subject.not_found")
    consents = list(
        session.scalars(
            select(Consent)
            .where(Consent.subject_id == subject_id)
            .order_by(Consent.granted_at, Consent.id)
        )
    )
    version_ids = sorted({c.policy_version_id for c in consents})
    versions = {
        v.id: v
        for v in session.scalars(select(PolicyVersion).where(PolicyVersion.id.in_(version_ids)))
    }
    apps = list(
        session.scalars(
            select(MembershipApplication)
            .where(MembershipApplication.subject_id == subject_id)
            .order_by(MembershipApplication.submitted_at, MembershipApplication.id)
        )
    )
    events: dict[int, list[ApplicationEvent]] = {a.id: [] for a in apps}
    if apps:
        for event in session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id.in_(list(events)))
            .order_by(ApplicationEvent.id)
        ):
            events[event.application_id].append(event)
    member = session.scalars(select(Member).where(Member.subject_id == subject_id)).first()
    from dpa_panel.services.request_register import requests_about

    about = requests_about(session, subject_id)
    # Each request's history (request_event): what was done about it, by whom, when.
    request_events: dict[int, list[RequestEvent]] = {}
    if about:
        for event in session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id.in_([r.id for r in about]))
            .order_by(RequestEvent.id)
        ):
            request_events.setdefault(event.request_id, []).append(event)
    from dpa_panel.services import breaches, disclosures, org_profile

    report: dict[str, Any] = {
        "generated_at": utcnow().isoformat(),
        "language": subject.language,
        # Issue 17: who the operator is (organisation profile) heads every document.
        "operator": org_profile.document_header(session, subject.language),
        "subject": _row_dict(subject, REPORT_EXCLUDED_SUBJECT_COLUMNS),
        "consents": [
            {**_row_dict(c), "policy_label": versions[c.policy_version_id].label} for c in consents
        ],
        "policies": [
            {
                "id": v.id,
                "label": v.label,
                "effective_date": v.effective_date.isoformat(),
                "sha256": v.sha256,
                "text": getattr(v, f"text_{normalise_locale(subject.language)}"),
            }
            for v in (versions[i] for i in version_ids)
        ],
        "applications": [
            {**_row_dict(a), "events": [_row_dict(e) for e in events[a.id]]} for a in apps
        ],
        "member": _row_dict(member) if member is not None else None,
        "requests": [
            {**_row_dict(r, REPORT_EXCLUDED_REQUEST_COLUMNS),
             "events": [_row_dict(e) for e in request_events.get(r.id, [])]}
            for r in about
        ],  # fmt: skip
        # Clause 5: to whom the data was (or is to be) disclosed, which fields, the digest.
        "disclosures": disclosures.report_section(session, subject_id),
        # Issue 17: the personal-data breaches that touched the subject.
        "breaches": breaches.breaches_of_subject(session, subject_id),
        "retention": {
            "status": subject.status,
            "blocked_at": _jsonable(subject.blocked_at),
            "destruction_due_at": _jsonable(subject.destruction_due_at),
            "applications_closed_at": [_jsonable(a.closed_at) for a in apps if a.closed_at],
            "membership_ended_at": _jsonable(member.ended_at) if member else None,
            "consents_withdrawn_at": [
                _jsonable(c.withdrawn_at) for c in consents if c.withdrawn_at
            ],
        },
    }
    audit.record(session, actor, "subject.report_generated", "data_subject", subject_id, {})
    return report


def report_data_json(report: dict[str, Any]) -> bytes:
    """The raw report (machine keys and codes, every stored value) as UTF-8 JSON: what an
    access package stores, so it can be rendered again in any language. Not a document."""
    return json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def report_json(report: dict[str, Any], language: str | None = None) -> bytes:
    """The report as the person's JSON file: labelled, in their language, ids and digests
    in ``technical_evidence`` (``services.documents.subject_report``, issue 18)."""
    from dpa_panel.services.documents import subject_report as document

    return document.to_json(report, language)


def report_pdf(report: dict[str, Any], language: str | None = None) -> bytes:
    """The report as a PDF in ``language`` (default: the subject's language): labels and code
    values translated, Almaty times, ids and digests in a technical-evidence appendix.

    Needs the DejaVuSans TrueType font; ``RuntimeError`` naming the Debian package when it is
    missing (``services.documents.pdf``)."""
    from dpa_panel.services.documents import subject_report as document

    return document.to_pdf(report, language)
