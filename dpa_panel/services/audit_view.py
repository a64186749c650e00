"""The audit trail as people read it (issue 18): "when · who · did what · to which record ·
details", every part a label from the catalog, never a code or raw JSON.

The trail itself (``services.audit``) stores codes; this module turns one page of events into
rows for the viewer: the actor's username and role, the action's label
(``audit_action.<code>``), the record's type label (``audit_entity.<type>``) with its human
reference (an application's ``A-2026-…``, a request's ``R-…``, a member's number) where one
exists, and the details as labelled ``key: value`` pairs (``audit_detail.<key>``, values that
are codes of a vocabulary shown by their label).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.i18n import catalog, tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.models import (
    AuditEvent,
    Breach,
    Disclosure,
    Member,
    MembershipApplication,
    PolicyVersion,
    StaffUser,
    SubjectRequest,
)

#: Entity type -> (model, column holding the reference people quote).
_REFERENCES = {
    "membership_application": (MembershipApplication, "reference"),
    "subject_request": (SubjectRequest, "reference"),
    "breach": (Breach, "reference"),
    "disclosure": (Disclosure, "reference"),
    "member": (Member, "membership_number"),
    "policy_version": (PolicyVersion, "label"),
    "staff_user": (StaffUser, "username"),
}

#: Status vocabularies of ``from``/``to`` details, by entity type.
_STATUS_PREFIX = {
    "membership_application": "application_status.",
    "member": "member_status.",
    "subject_request": "request_status.",
    "disclosure": "disclosure.status.",
    "data_subject": "subject_status.",
    "subject": "subject_status.",
}

#: Where the label of a details value lives, by details key (first that exists wins).
_VALUE_PREFIXES = {
    "role": ("role.",),
    "purpose": ("purpose.",),
    "channel": ("consent_channel.", "request_channel.", "disclosure.channel."),
    "via": ("consent_channel.", "request_channel.", "disclosure.channel."),
    "received_via": ("disclosure.channel.",),
    "sent_via": ("disclosure.channel.",),
    "kind": ("request_kind.", "disclosure.kind.", "calendar.kind."),
    "format": ("disclosure.format.",),
    "fields": ("subject.", "import.field.", "breach.field."),
    "changed": ("subject.", "profile.", "breach.field."),
    "categories": ("disclosure.category.",),
    "language": ("locale.",),
    "counted_from": ("calendar.from_",),
    "from_event": ("calendar.from_",),
    "to_event": ("calendar.from_",),
    "status": ("application_status.", "request_status.", "disclosure.status."),
    "action": ("audit_action.",),
    "view": ("register.view.", "pipeline."),
    "entity_type": ("audit_entity.",),
    "next": ("audit_value.next.",),
    "second_factor": ("audit_value.second_factor.",),
    "method": ("audit_value.second_factor.",),
}
#: Any other value that is a code: looked up among the status vocabularies before it is shown.
_ANY_PREFIXES = (
    "application_status.", "request_status.", "member_status.", "subject_status.",
    "disclosure.status.",
)  # fmt: skip

_REF = re.compile(r"^([a-z_]+):(\d+)$")
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+$")


def action_label(locale: str, code: str) -> str:
    labels = catalog(locale)
    return labels.get(f"audit_action.{code}") or labels["audit.unknown_action"]


def entity_label(locale: str, entity_type: str) -> str:
    if not entity_type:
        return ""
    labels = catalog(locale)
    return labels.get(f"audit_entity.{entity_type}") or labels["audit.record_type"]


def action_options(locale: str, codes: Iterable[str]) -> list[dict[str, str]]:
    """The viewer's action filter: ``{"value": code, "label": label}``, sorted by label."""
    options = [{"value": c, "label": action_label(locale, c)} for c in codes]
    return sorted(options, key=lambda o: (o["label"].casefold(), o["value"]))


def entity_options(locale: str) -> list[dict[str, str]]:
    """Every labelled entity type for the record-type filter, sorted by label."""
    prefix = "audit_entity."
    labels = catalog(locale)
    options = [
        {"value": key[len(prefix) :], "label": text}
        for key, text in labels.items()
        if key.startswith(prefix)
    ]
    return sorted(options, key=lambda o: (o["label"].casefold(), o["value"]))


def record_references(session: Session, events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """``(entity_type, entity_id) -> reference`` for the events' records that have one."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.entity_type in _REFERENCES and e.entity_id.isdigit():
            wanted[e.entity_type].add(int(e.entity_id))
    found: dict[tuple[str, str], str] = {}
    for entity_type, ids in wanted.items():
        model, column = _REFERENCES[entity_type]
        rows = session.execute(select(model.id, getattr(model, column)).where(model.id.in_(ids)))
        for row_id, reference in rows:
            if reference:
                found[(entity_type, str(row_id))] = str(reference)
    return found


def staff_directory(session: Session) -> dict[int, tuple[str, str]]:
    """Staff user id -> (username, role code)."""
    rows = session.execute(select(StaffUser.id, StaffUser.username, StaffUser.role))
    return {uid: (name, role) for uid, name, role in rows}


def actor_text(locale: str, event: AuditEvent, staff: dict[int, tuple[str, str]]) -> str:
    """Who acted, in words: "name (role)" for a staff member, else the kind of actor. Reads
    ``actor_type`` and ``actor_id`` only, so a destruction act (same two columns) is named
    the same way as the audit event that records it."""
    if event.actor_type == "public":
        return tr(locale, "audit.actor_public")
    if event.actor_type != "user" or event.actor_id is None:
        return tr(locale, "audit.actor_system")
    if event.actor_id not in staff:
        return tr(locale, "audit.actor_former")
    name, role = staff[event.actor_id]
    role_label = catalog(locale).get(f"role.{role}", "")
    return tr(locale, "audit.actor_with_role", name=name, role=role_label) if role_label else name


def record_text(locale: str, event: AuditEvent, refs: dict[tuple[str, str], str]) -> str:
    """``Membership application A-2026-000012``; ``Data subject No. 12`` without a reference."""
    if not event.entity_type:
        return ""
    label = entity_label(locale, event.entity_type)
    if not event.entity_id:
        return label
    ref = refs.get((event.entity_type, event.entity_id))
    if ref is None:
        ref = tr(locale, "audit.number", id=event.entity_id)
    return f"{label} {ref}"


def _value_text(locale: str, key: str, value, entity_type: str) -> str:
    labels = catalog(locale)
    if isinstance(value, bool):
        return labels["audit.yes"] if value else labels["audit.no"]
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        if key == "filters":  # the names of the filters in use
            return ", ".join(_key_text(locale, str(v)) for v in value) or "—"
        return ", ".join(_value_text(locale, key, v, entity_type) for v in value) or "—"
    if isinstance(value, dict):
        return (
            "; ".join(
                f"{_key_text(locale, k)}: {_value_text(locale, k, v, entity_type)}"
                for k, v in value.items()
                if not _empty(v)
            )
            or "—"
        )
    if not isinstance(value, str):
        return str(value)
    prefixes: tuple[str, ...] = _VALUE_PREFIXES.get(key, ())
    if key in ("from", "to") and entity_type in _STATUS_PREFIX:
        prefixes = (_STATUS_PREFIX[entity_type],)
    for prefix in prefixes + _ANY_PREFIXES:
        if f"{prefix}{value}" in labels:
            return labels[f"{prefix}{value}"]
    ref = _REF.match(value)
    if ref and f"audit_entity.{ref.group(1)}" in labels:  # "disclosure:1", a record reference
        label = labels[f"audit_entity.{ref.group(1)}"]
        return f"{label} {tr(locale, 'audit.number', id=ref.group(2))}"
    if _CODE.match(value):
        # A code no vocabulary labels: shown as words rather than as an identifier.
        return re.sub(r"[_.]+", " ", value)
    return value


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _key_text(locale: str, key: str) -> str:
    return catalog(locale).get(f"audit_detail.{key}") or re.sub(r"[_.]+", " ", key)


def details_text(locale: str, details: str, entity_type: str = "") -> str:
    """The details JSON as ``Label: value · Label: value`` ("" for none)."""
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return " · ".join(
        f"{_key_text(locale, k)}: {_value_text(locale, k, v, entity_type)}"
        for k, v in sorted(data.items())
        if not _empty(v)
    )


def rows(session: Session, events: list[AuditEvent], locale: str) -> list[dict[str, str]]:
    """One page of events as the viewer's rows."""
    staff = staff_directory(session)
    refs = record_references(session, events)
    return [
        {
            "id": str(e.id),
            "when": format_datetime(e.occurred_at, locale, "short"),
            "actor": actor_text(locale, e, staff),
            "action": action_label(locale, e.action),
            "entity": record_text(locale, e, refs),
            "ip": e.client_ip,
            "details": details_text(locale, e.details, e.entity_type),
        }
        for e in events
    ]


def resolve_record(session: Session, entity_type: str, text: str) -> str:
    """The record id a filter means: a number as typed, or the id of the record whose reference
    (``A-2026-000012``, a membership number, a username) was typed; "" for none."""
    text = text.strip()
    if not text or text.isdigit():
        return text
    types = [entity_type] if entity_type in _REFERENCES else list(_REFERENCES)
    for name in types:
        model, column = _REFERENCES[name]
        found = session.execute(select(model.id).where(getattr(model, column) == text)).first()
        if found is not None:
            return str(found[0])
    return text
