"""The subject report for a right-of-access request (policy clause 6): everything stored about
one person, as JSON and as a PDF with labels in the reader's language.

Generating it is one audited read (``subject.report_generated``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
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
from dpa_panel.services.errors import ServiceError

#: The Unicode font of the PDF report (Debian package ``fonts-dejavu-core``).
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_PACKAGE = "fonts-dejavu-core"

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


def report_json(report: dict[str, Any]) -> bytes:
    """The report as UTF-8 JSON (readable: indented, non-ASCII kept)."""
    return json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _label(language: str, key: str, fallback: str) -> str:
    try:
        return tr(language, key)
    except KeyError:
        return fallback


def report_pdf(report: dict[str, Any], language: str | None = None) -> bytes:
    """The report as a PDF, labels in ``language`` (default: the subject's language).

    Needs the DejaVuSans TrueType font (Kazakh and Russian letters); ``RuntimeError`` naming
    the Debian package when it is missing.
    """
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    if not FONT_PATH.exists():
        raise RuntimeError(
            f"PDF font {FONT_PATH} is missing: install the Debian package {FONT_PACKAGE}"
        )
    lang = normalise_locale(language or report.get("language"))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT_PATH))
    pdf.add_page()
    pdf.set_font("DejaVu", size=9)  # the operator block comes before the first heading

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", size=9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")

    def fields(values: dict[str, Any], prefix: str = "") -> None:
        for key, value in values.items():
            if isinstance(value, list | dict) or value is None or value == "":
                continue
            name = _label(lang, f"{prefix}{key}", key) if prefix else key
            line(f"{name}: {value}")

    def t(key: str) -> str:
        return tr(lang, f"report.{key}")

    for operator_line in report.get("operator", []):
        line(operator_line)
    heading(t("title"), 16)
    line(f"{t('generated_at')}: {report['generated_at']}")
    heading(t("subject"))
    fields(report["subject"], "subject.")
    heading(t("consents"))
    if not report["consents"]:
        line(t("none"))
    for consent in report["consents"]:
        line(f"— {_label(lang, 'purpose.' + consent['purpose_code'], consent['purpose_code'])}")
        fields(consent)
    heading(t("policies"))
    for version in report["policies"]:
        line(f"{version['label']} ({version['effective_date']}) SHA-256 {version['sha256']}")
        line(version["text"])
    heading(t("applications"))
    if not report["applications"]:
        line(t("none"))
    for application in report["applications"]:
        line(f"— {application['reference']}")
        fields(application)
        heading(t("events"), 10)
        for event in application["events"]:
            fields(event)
            line("")
    heading(t("member"))
    if report["member"] is None:
        line(t("none"))
    else:
        fields(report["member"])
    heading(t("requests"))
    if not report["requests"]:
        line(t("none"))
    for request in report["requests"]:
        line(f"— {request['reference']}")
        fields(request)
        for event in request.get("events", []):
            kind = _label(lang, "request_event." + event["kind"], event["kind"])
            line(f"  · {event['at']} {kind} {event.get('text') or ''}".rstrip())
    heading(t("disclosures"))
    if not report.get("disclosures"):
        line(t("none"))
    for item in report.get("disclosures", []):
        kind = _label(lang, "disclosure.kind." + item["kind"], item["kind"])
        status = _label(lang, "disclosure.status." + item["status"], item["status"])
        line(f"— {item['reference']} ({kind}, {status})")
        fields({k: ", ".join(v) if isinstance(v, list) else v for k, v in item.items()
                if k not in ("id", "kind", "status", "reference")})  # fmt: skip
    heading(tr(lang, "breach.report_title"))
    if not report.get("breaches"):
        line(t("none"))
    for item in report.get("breaches", []):
        line(f"— {item['reference']} ({item['detected_at']}): {item['data_categories']}")
    heading(t("retention"))
    retention = report["retention"]
    status = retention["status"]
    line(f"{t('status')}: {_label(lang, 'subject_status.' + status, status)}")
    line(f"{t('destruction_due_at')}: {retention['destruction_due_at'] or t('none')}")
    fields({k: ", ".join(v) if isinstance(v, list) else v for k, v in retention.items()
            if k not in ("status", "destruction_due_at")})  # fmt: skip
    return bytes(pdf.output())
