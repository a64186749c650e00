"""The subject report as the person reads it (issue 18): a labelled document built from the
raw report of ``services.subject_report`` (every stored value, machine keys).

``build(report, language)`` gives one structure that both files are made from:

* ``sections``: each ``{"key", "title", "fields", "entries"}``; a field is
  ``{"key": <machine key>, "label": <in the reader's language>, "value": <readable>}`` plus
  ``"code"`` when the stored value is a code (``{"key": "workplace_category", "label":
  "Сала", "value": "PR агенттігі", "code": "pr_agency"}``) — decision 18-documents-3.
* ``technical_evidence``: the record numbers, staff account numbers and text digests the body
  leaves out, each row naming what it belongs to.

Dates and times are Almaty time with the offset (``documents.pdf.format_moment``).
"""

from __future__ import annotations

import json
from typing import Any

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.services.documents.pdf import Document, format_day, format_moment

FORMAT = "dpa-panel/subject-report/2"

# A field spec: key -> (kind, argument). Kinds: "text"; "moment" (date and time); "day";
# "code" (argument: the catalog prefix of its labels); "fields" (a list of field names);
# "list_moment" (a list of moments); "tech" (to the technical evidence); "skip".
_LANG = ("code", "locale.")
_COMMON = {"id": ("tech", None)}
SPECS: dict[str, dict[str, tuple[str, str | None]]] = {
    "subject": {
        "surname": ("text", None),
        "first_name": ("text", None),
        "patronymic": ("text", None),
        "phone": ("text", None),
        "email": ("text", None),
        "workplace": ("text", None),
        "workplace_category": ("code", "workplace_category."),
        "position": ("text", None),
        "position_level": ("code", "position_level."),
        "education_level": ("code", "education_level."),
        "education": ("text", None),
        "experience_years": ("text", None),
        "experience": ("text", None),
        "other_info": ("text", None),
        "language": _LANG,
        "status": ("code", "subject_status."),
        "blocked_at": ("moment", None),
        "blocked_reason": ("text", None),
        "destruction_due_at": ("moment", None),
        "retention_due_at": ("moment", None),
        "retention_purpose": ("code", "purpose."),
        "retention_event": ("code", "retention.event."),
        "retention_event_at": ("moment", None),
        "created_at": ("moment", None),
        "updated_at": ("moment", None),
    },
    "consent": {
        "purpose_code": ("code", "purpose."),
        "granted_at": ("moment", None),
        "policy_label": ("text", None),
        "channel": ("code", "consent_channel."),
        "language": _LANG,
        "consent_text": ("text", None),
        "evidence_ref": ("text", None),
        "evidence_received_at": ("moment", None),
        "evidence_text": ("text", None),
        "withdrawn_at": ("moment", None),
        "withdrawal_channel": ("code", "consent_channel."),
        "withdrawal_evidence": ("text", None),
        "withdrawal_retained_ground": ("text", None),
        "recipient": ("text", None),
        "subject_id": ("tech", None),
        "policy_version_id": ("tech", None),
        "consent_text_sha256": ("tech", None),
        "recorded_by_id": ("tech", None),
        "withdrawal_recorded_by_id": ("tech", None),
    },
    "policy": {
        "label": ("text", None),
        "effective_date": ("day", None),
        "text": ("text", None),
        "sha256": ("tech", None),
    },
    "application": {
        "reference": ("text", None),
        "submitted_at": ("moment", None),
        "status": ("code", "application_status."),
        "decision": ("code", "application_status."),
        "decided_at": ("moment", None),
        "reason": ("text", None),
        "closed_at": ("moment", None),
        "language": _LANG,
        "updated_at": ("moment", None),
        "subject_id": ("tech", None),
        "assignee_id": ("tech", None),
        "events": ("skip", None),
    },
    "application_event": {
        "occurred_at": ("moment", None),
        "kind": ("code", "application_event."),
        "from_status": ("code", "application_status."),
        "to_status": ("code", "application_status."),
        "text": ("text", None),
        "application_id": ("tech", None),
        "actor_id": ("tech", None),
    },
    "member": {
        "membership_number": ("text", None),
        "since": ("day", None),
        "status": ("code", "member_status."),
        "ended_at": ("moment", None),
        "status_reason": ("text", None),
        "status_changed_at": ("moment", None),
        "subject_id": ("tech", None),
        "application_id": ("tech", None),
    },
    "request": {
        "reference": ("text", None),
        "kind": ("code", "request_kind."),
        "requester": ("text", None),
        "contact": ("text", None),
        "received_at": ("moment", None),
        "channel": ("code", "request_channel."),
        "purpose_code": ("code", "purpose."),
        "identity_verified_at": ("moment", None),
        "identity_method": ("text", None),
        "due_date": ("day", None),
        "status": ("code", "request_status."),
        "details": ("text", None),
        "notes": ("text", None),
        "answer": ("text", None),
        "refusal_reason": ("text", None),
        "answered_at": ("moment", None),
        "paused_at": ("moment", None),
        "pause_reason": ("text", None),
        "created_at": ("moment", None),
        "updated_at": ("moment", None),
        "subject_id": ("tech", None),
        "identity_verified_by_id": ("tech", None),
        "assignee_id": ("tech", None),
        "created_by_id": ("tech", None),
        "events": ("skip", None),
    },
    "request_event": {
        "at": ("moment", None),
        "kind": ("code", "request_event."),
        "text": ("text", None),
        "request_id": ("tech", None),
        "actor_id": ("tech", None),
        "data": ("tech", None),
    },
    "disclosure": {
        "reference": ("text", None),
        "kind": ("code", "disclosure.kind."),
        "status": ("code", "disclosure.status."),
        "body_name": ("text", None),
        "body_department": ("text", None),
        "recipient": ("text", None),
        "request_number": ("text", None),
        "request_date": ("day", None),
        "legal_article": ("text", None),
        "fields": ("fields", None),
        "disclosed_at": ("moment", None),
        "sent_via": ("code", "disclosure.channel."),
        "package_sha256": ("tech", None),
    },
    "breach": {
        "reference": ("text", None),
        "detected_at": ("text", None),
        "data_categories": ("text", None),
        "notified_at": ("text", None),
    },
    "retention": {
        "status": ("code", "subject_status."),
        "blocked_at": ("moment", None),
        "destruction_due_at": ("moment", None),
        "applications_closed_at": ("list_moment", None),
        "membership_ended_at": ("moment", None),
        "consents_withdrawn_at": ("list_moment", None),
    },
}
#: Field labels taken from the base catalog (the same words the forms use).
_BASE_LABELS = {
    "subject": {k: f"subject.{k}" for k in (
        "surname", "first_name", "patronymic", "phone", "email", "workplace",
        "workplace_category", "position", "position_level", "education_level", "education",
        "experience_years", "experience", "other_info", "language")},
    "member": {"membership_number": "subject.membership_number", "since":
               "subject.member_since", "status": "subject.member_status"},
    "breach": {"reference": "breach.field.reference", "detected_at": "breach.field.detected_at",
               "data_categories": "breach.field.data_categories"},
    "retention": {"status": "report.status", "destruction_due_at": "report.destruction_due_at"},
}  # fmt: skip
#: Fields the PDF leaves out of an entry because the entry's heading already says them (the
#: JSON keeps every field).
_IN_TITLE = frozenset({"purpose_code", "reference", "label", "effective_date"})
_IN_EVENT_TITLE = frozenset({"occurred_at", "at", "kind"})


def label_of(lang: str, section: str, key: str) -> str:
    """A field's label: the form's own label, else ``doc.field.<section>.<key>``, else
    ``doc.field.<key>``."""
    base = _BASE_LABELS.get(section, {}).get(key)
    if base:
        return tr(lang, base)
    for candidate in (f"doc.field.{section}.{key}", f"doc.field.{key}"):
        try:
            return tr(lang, candidate)
        except KeyError:
            continue
    return key  # a column without a label: the tests list every key, so this shows up there


def code_label(lang: str, prefix: str, code: str) -> str:
    try:
        return tr(lang, f"{prefix}{code}")
    except KeyError:
        return code


def tech_label(lang: str, key: str) -> str:
    try:
        return tr(lang, f"doc.tech.{key}")
    except KeyError:
        return key


def _value(lang: str, kind: str, arg: str | None, value: Any) -> tuple[str, str | None]:
    """(readable value, code or None)."""
    if kind == "moment":
        return format_moment(value, lang), None
    if kind == "day":
        return format_day(value), None
    if kind == "code":
        return code_label(lang, arg or "", str(value)), str(value)
    if kind == "fields":
        return ", ".join(label_of(lang, "subject", f) if f in SPECS["subject"] else
                         tr(lang, f"subject.{f}") for f in value), None  # fmt: skip
    if kind == "list_moment":
        return "; ".join(format_moment(v, lang) for v in value), None
    return str(value), None


class _Builder:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.evidence: list[dict[str, str]] = []

    def fields(self, section: str, row: dict[str, Any], where: str) -> list[dict[str, Any]]:
        spec = {**_COMMON, **SPECS[section]}
        out = []
        for key, value in row.items():
            kind, arg = spec.get(key, ("tech", None) if key.endswith(("_id", "sha256"))
                                 else ("text", None))  # fmt: skip
            if kind == "skip" or value is None or value == "" or value == []:
                continue
            if kind == "tech":
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                self.evidence.append(
                    {"item": where, "key": key, "label": tech_label(self.lang, key), "value": shown}
                )
                continue
            text, code = _value(self.lang, kind, arg, value)
            item: dict[str, Any] = {"key": key, "label": label_of(self.lang, section, key),
                                    "value": text}  # fmt: skip
            if code is not None:
                item["code"] = code
            out.append(item)
        return out


def build(report: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    """The labelled document of a raw report (see the module docstring)."""
    lang = normalise_locale(language or report.get("language"))
    b = _Builder(lang)

    def t(key: str, **kw) -> str:
        return tr(lang, key, **kw)

    def section(key: str, title: str, fields=None, entries=None) -> dict[str, Any]:
        return {"key": key, "title": title, "fields": fields or [], "entries": entries or []}

    subject_title = t("report.subject")
    sections = [section("subject", subject_title,
                        b.fields("subject", report["subject"], subject_title))]  # fmt: skip
    consents = []
    for c in report["consents"]:
        title = code_label(lang, "purpose.", c["purpose_code"])
        where = f"{t('report.consents')} — {title}"
        consents.append({"title": title, "fields": b.fields("consent", c, where)})
    sections.append(section("consents", t("report.consents"), entries=consents))
    policies = []
    for v in report["policies"]:
        title = f"{v['label']} ({format_day(v['effective_date'])})"
        where = f"{t('report.policies')} — {title}"
        policies.append({"title": title, "fields": b.fields("policy", v, where)})
    sections.append(section("policies", t("report.policies"), entries=policies))
    apps = []
    for a in report["applications"]:
        where = f"{t('report.applications')} — {a['reference']}"
        events = []
        for e in a.get("events", []):
            kind = code_label(lang, "application_event.", e["kind"])
            title = f"{format_moment(e.get('occurred_at'), lang)} — {kind}"
            events.append(
                {"title": title, "fields": b.fields("application_event", e, f"{where} — {title}")}
            )
        apps.append({"title": a["reference"], "fields": b.fields("application", a, where),
                     "entries_title": t("report.events"), "entries": events})  # fmt: skip
    sections.append(section("applications", t("report.applications"), entries=apps))
    member = report.get("member")
    sections.append(
        section(
            "member",
            t("report.member"),
            b.fields("member", member, t("report.member")) if member else [],
        )
    )
    reqs = []
    for r in report["requests"]:
        where = f"{t('report.requests')} — {r['reference']}"
        events = []
        for e in r.get("events", []):
            kind = code_label(lang, "request_event.", e["kind"])
            title = f"{format_moment(e.get('at'), lang)} — {kind}"
            events.append(
                {"title": title, "fields": b.fields("request_event", e, f"{where} — {title}")}
            )
        reqs.append(
            {
                "title": r["reference"],
                "fields": b.fields("request", r, where),
                "entries_title": t("doc.request_history"),
                "entries": events,
            }
        )
    sections.append(section("requests", t("report.requests"), entries=reqs))
    disclosures = []
    for d in report.get("disclosures", []):
        where = f"{t('report.disclosures')} — {d['reference']}"
        disclosures.append({"title": d["reference"], "fields": b.fields("disclosure", d, where)})
    sections.append(section("disclosures", t("report.disclosures"), entries=disclosures))
    breaches = [{"title": x["reference"], "fields": b.fields("breach", x, x["reference"])}
                for x in report.get("breaches", [])]  # fmt: skip
    sections.append(section("breaches", t("breach.report_title"), entries=breaches))
    sections.append(
        section(
            "retention",
            t("report.retention"),
            b.fields("retention", report["retention"], t("report.retention")),
        )
    )
    return {
        "format": FORMAT,
        "language": lang,
        "title": t("report.title"),
        "generated_at": {"label": t("report.generated_at"),
                         "value": format_moment(report["generated_at"], lang)},
        "operator": list(report.get("operator", [])),
        "none": t("report.none"),
        "sections": sections,
        "technical_evidence": {"title": t("doc.tech.title"), "note": t("doc.tech.note"),
                               "rows": b.evidence},
    }  # fmt: skip


def to_json(report: dict[str, Any], language: str | None = None) -> bytes:
    """The labelled report as UTF-8 JSON (indented, non-ASCII kept)."""
    return json.dumps(build(report, language), ensure_ascii=False, indent=2,
                      default=str).encode("utf-8")  # fmt: skip


def render(doc: dict[str, Any]) -> Document:
    """The PDF of a built document (``build``): body, then the technical evidence."""
    pdf = Document(title=doc["title"])
    pdf.operator(doc["operator"])
    pdf.title(doc["title"])
    pdf.write(f"{doc['generated_at']['label']}: {doc['generated_at']['value']}", size=9)

    def fields(items, indent: float = 0, skip: frozenset[str] = frozenset()) -> None:
        for item in items:
            if item["key"] not in skip:
                pdf.field(item["label"], item["value"], indent=indent)

    for sec in doc["sections"]:
        pdf.heading(sec["title"])
        if not sec["fields"] and not sec["entries"]:
            pdf.write(doc["none"], size=9)
        fields(sec["fields"])
        for entry in sec["entries"]:
            pdf.space(1)
            pdf.subheading(f"— {entry['title']}")
            fields(entry["fields"], indent=3, skip=_IN_TITLE)
            if entry.get("entries"):
                pdf.write(entry["entries_title"], size=9, bold=True, indent=3)
                for sub in entry["entries"]:
                    pdf.write(sub["title"], size=9, indent=6)
                    fields(sub["fields"], indent=9, skip=_IN_EVENT_TITLE)
    tech = doc["technical_evidence"]
    pdf.appendix(tech["title"], tech["note"])
    for row in tech["rows"]:
        pdf.write(f"{row['item']} — {row['label']}: {row['value']}", size=8, height=4)
    return pdf


def to_pdf(report: dict[str, Any], language: str | None = None) -> bytes:
    return render(build(report, language)).output()
