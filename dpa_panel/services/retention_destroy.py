"""What destroying a subject decides and writes, row by row (policy clause 4.4).

There are two destruction paths: ``retention_sweep._destroy_on`` destroys one subject
(``destroy_subject``, and the sweep's subject-by-subject fallback) and
``retention_batch._destroy_batch`` destroys a batch of subjects with set-based statements (the
sweep). They must leave the same remnant, the same act and the same audit event, so everything
they both decide or write is defined once here and used by both: the decision re-taken under
the writers' lock, the blanking statements and their parameters per table, the categories of
the act, the act's row and its name. A module of its own (issue 19) so that the batch module
and the one-subject module both import it without importing each other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    DestructionAct,
    LegalHold,
    Member,
    MembershipApplication,
    RetentionRule,
    SubjectRequest,
)
from dpa_panel.models.types import whole_days
from dpa_panel.services.audit import Actor
from dpa_panel.services.prepared import Prepared, RowUpdate
from dpa_panel.services.retention import (
    DestructionDue,
    _content,
    _decide,
    _digest,
    _Facts,
    _fold_application,
    _fold_consent,
    local_date,
    month_start,
)

_SUBJECT = DataSubject.__table__

# Destruction runs as prepared Core statements on one connection (the sweep does thousands of
# subjects one transaction each: building statements and the ORM unit of work per subject cost
# ten times more than the database work). Built once here; parameters are ``b_*``.
_s = _SUBJECT.c
_APP = MembershipApplication.__table__
_EVENT = ApplicationEvent.__table__
_CONSENT = Consent.__table__
_MEMBER = Member.__table__
_REQUEST = SubjectRequest.__table__
_HOLD = LegalHold.__table__
_ACT = DestructionAct.__table__
_RULE = RetentionRule.__table__
_P_SID = bindparam("b_sid")
_P_TODAY = bindparam("b_today")
_m = _MEMBER.c

_READ_RULES = select(_RULE.c.purpose_code, _RULE.c.ending_event, _RULE.c.period_days)


# --- the decision, re-taken under the writers' lock -------------------------------------------


def _as_stored(due: DestructionDue | None) -> tuple:
    """A decision as ``_store`` materialises it."""
    if due is None:
        return (None, "", "", None)
    return (due.due_at, due.purpose, due.event, due.event_at)


@dataclass
class _Rules:
    """The rule map, read once per sweep. Every service that changes a rule recomputes the
    materialised decision of every subject in its transaction, so a decision taken with this
    map that equals the subject's materialised one is the current rules' decision; when they
    differ the rules are read again (under the writers' lock) and the decision retaken."""

    rule_map: dict[str, tuple[str, int]] | None = None

    def reload(self, conn) -> dict[str, tuple[str, int]]:
        self.rule_map = {r[0]: (r[1], int(r[2])) for r in conn.execute(_READ_RULES)}
        return self.rule_map


def _due_or_refusal(
    conn, subject_id: int, subj, apps: Iterable, consents: Iterable, holds_in_force: int,
    now: datetime, rules: _Rules,
) -> DestructionDue | str:  # fmt: skip
    """Whether the subject is destroyed now, decided from its rows as read under the writers'
    lock: the ``DestructionDue`` it is destroyed by, or the catalog key that refuses it —
    ``retention.not_due`` (no date, the date is later than ``now``, or already destroyed) or
    ``retention.held`` (a legal hold in force, or blocked).

    ``subj``: the subject row with its member's columns (``member_id``, ``member_status``,
    ``ended_at``) and its materialised decision; ``apps`` and ``consents``: its rows in the
    order ``_fold_application`` and ``_fold_consent`` expect; ``holds_in_force``: how many of
    its holds are in force today."""
    f = _Facts(subj.status, subj.destruction_due_at)
    for r in apps:
        _fold_application(f, r)
    if subj.member_id is not None:
        f.member_status, f.member_ended_at = subj.member_status, subj.ended_at
    for r in consents:
        _fold_consent(f, r)
    stored = (subj.retention_due_at, subj.retention_purpose, subj.retention_event,
              subj.retention_event_at)  # fmt: skip
    due = _decide(subject_id, f, rules.reload(conn) if rules.rule_map is None else rules.rule_map)
    if _as_stored(due) != stored:
        due = _decide(subject_id, f, rules.reload(conn))
    if due is None or due.due_at > now:
        return "retention.not_due"
    if holds_in_force or f.status == "blocked":
        return "retention.held"
    return due


# --- the blanking, per table: the statement for one row, the same for many rows on PostgreSQL
# (``RowUpdate``, which restates the statement's assignments: keep the two together), and the
# parameters of one row ---------------------------------------------------------------------------

_E = "''"

_BLANK_SUBJECT = Prepared(
    update(_SUBJECT)
    .where(_s.id == _P_SID)
    .values(
        surname="", first_name="", patronymic="", phone="", email="", workplace="",
        position="", education="", experience="", other_info="", experience_years=None,
        search_text="", blocked_reason="", blocked_at=bindparam("b_blocked"),
        destruction_due_at=bindparam("b_due"), created_at=bindparam("b_created"),
        updated_at=bindparam("b_updated"), status="destroyed", retention_due_at=None,
        retention_purpose="", retention_event="", retention_event_at=None,
    )
)  # fmt: skip
_SET_SUBJECT = RowUpdate(
    _BLANK_SUBJECT, "data_subject", "b_sid",
    {**dict.fromkeys(("surname", "first_name", "patronymic", "phone", "email", "workplace",
                      "position", "education", "experience", "other_info", "search_text",
                      "blocked_reason", "retention_purpose", "retention_event"), _E),
     "experience_years": "NULL", "status": "'destroyed'", "retention_due_at": "NULL",
     "retention_event_at": "NULL"},
    {"b_blocked": ("blocked_at", "timestamptz"), "b_due": ("destruction_due_at", "timestamptz"),
     "b_created": ("created_at", "timestamptz"), "b_updated": ("updated_at", "timestamptz")},
)  # fmt: skip


def _subject_blank_params(subject_id: int, subj) -> dict[str, Any]:
    """``_BLANK_SUBJECT``'s parameters: the subject's dates kept to the (Almaty) month.
    ``subj``: its row (``blocked_at``, ``destruction_due_at``, ``created_at``,
    ``updated_at``)."""
    return {
        "b_sid": subject_id,
        "b_blocked": month_start(subj.blocked_at),
        "b_due": month_start(subj.destruction_due_at),
        "b_created": month_start(subj.created_at),
        "b_updated": month_start(subj.updated_at),
    }


_BLANK_APP = Prepared(
    update(_APP)
    .where(_APP.c.id == bindparam("b_id"))
    .values(
        reason="", submitted_at=bindparam("b_sub"), decided_at=bindparam("b_dec"),
        closed_at=bindparam("b_clo"), updated_at=bindparam("b_upd"),
        # The stored statistics keys: the month keys stay (same Almaty month), the
        # duration follows the rewritten timestamps.
        decision_days=bindparam("b_days"),
    )
)  # fmt: skip
_SET_APP = RowUpdate(
    _BLANK_APP, "membership_application", "b_id", {"reason": _E},
    {"b_sub": ("submitted_at", "timestamptz"), "b_dec": ("decided_at", "timestamptz"),
     "b_clo": ("closed_at", "timestamptz"), "b_upd": ("updated_at", "timestamptz"),
     "b_days": ("decision_days", "integer")},
)  # fmt: skip


def _app_blank_params(row) -> dict[str, Any]:
    """``_BLANK_APP``'s parameters for one application row: its dates kept to the month and
    the decision duration (a statistics key) recomputed from those months."""
    submitted, decided = month_start(row.submitted_at), month_start(row.decided_at)
    return {
        "b_id": row.id,
        "b_sub": submitted,
        "b_dec": decided,
        "b_clo": month_start(row.closed_at),
        "b_upd": month_start(row.updated_at),
        "b_days": whole_days(submitted, decided),
    }


_BLANK_CONSENT = Prepared(
    update(_CONSENT)
    .where(_CONSENT.c.id == bindparam("b_id"))
    .values(
        evidence_ref="", evidence_text="", withdrawal_evidence="",
        withdrawal_retained_ground="", granted_at=bindparam("b_gr"),
        withdrawn_at=bindparam("b_wd"), evidence_received_at=bindparam("b_ev"),
    )
)  # fmt: skip
_SET_CONSENT = RowUpdate(
    _BLANK_CONSENT, "consent", "b_id",
    dict.fromkeys(("evidence_ref", "evidence_text", "withdrawal_evidence",
                   "withdrawal_retained_ground"), _E),
    {"b_gr": ("granted_at", "timestamptz"), "b_wd": ("withdrawn_at", "timestamptz"),
     "b_ev": ("evidence_received_at", "timestamptz")},
)  # fmt: skip


def _consent_blank_params(row) -> dict[str, Any]:
    """``_BLANK_CONSENT``'s parameters for one consent row: its dates kept to the month."""
    return {
        "b_id": row.id,
        "b_gr": month_start(row.granted_at),
        "b_wd": month_start(row.withdrawn_at),
        "b_ev": month_start(row.evidence_received_at),
    }


_BLANK_MEMBER = Prepared(
    update(_MEMBER)
    .where(_m.id == bindparam("b_id"))
    .values(
        membership_number=bindparam("b_number"), status_reason="", since=bindparam("b_since"),
        ended_at=bindparam("b_ended"), status_changed_at=bindparam("b_changed"),
    )
)  # fmt: skip
_SET_MEMBER = RowUpdate(
    _BLANK_MEMBER, "member", "b_id", {"status_reason": _E},
    {"b_number": ("membership_number", "text"), "b_since": ("since", "date"),
     "b_ended": ("ended_at", "timestamptz"), "b_changed": ("status_changed_at", "timestamptz")},
)  # fmt: skip


def _member_blank_params(subj) -> dict[str, Any]:
    """``_BLANK_MEMBER``'s parameters for the subject's member row: the number becomes
    ``DESTROYED-<member id>``, the dates are kept to the month. ``subj``: the subject row with
    its member's columns (``member_id`` not None, ``since``, ``ended_at``,
    ``status_changed_at``)."""
    return {
        "b_id": subj.member_id,
        "b_number": f"DESTROYED-{subj.member_id}",
        "b_since": subj.since.replace(day=1),
        "b_ended": month_start(subj.ended_at),
        "b_changed": month_start(subj.status_changed_at),
    }


#: The request's search copy once requester and contact are blank: its folded reference (an
#: ASCII ``R-<year>-<n>``, so ``lower`` folds it like ``compose_request_search_text``), then two
#: empty lines. It held the requester's name and contact until issue 19.
_REQUEST_SEARCH_BLANK = func.lower(_REQUEST.c.reference) + "\n\n"
#: The assignments that blank the requests about a subject (both paths, by subject).
_REQUEST_BLANK_VALUES = {
    **dict.fromkeys(("requester", "contact", "details", "notes", "answer", "refusal_reason",
                     "identity_method"), ""),
    "search_text": _REQUEST_SEARCH_BLANK,
}  # fmt: skip
#: The assignments that blank the reasons of a subject's legal holds (both paths, by subject).
_HOLD_BLANK_VALUES = {"reason": "", "lift_reason": ""}


# --- the act -----------------------------------------------------------------------------------


def _destroyed_categories(
    *, apps: bool, consents: bool, member: bool, requests: bool, package: bool, holds: bool
) -> list[str]:
    """The categories of personal data the act records as destroyed, in the act's order: the
    subject's always, then one group per kind of row the subject had (applications, consents,
    a member row, requests, an access package, legal holds)."""
    categories = ["subject.identity", "subject.contacts", "subject.profile"]
    if apps:
        categories += ["application.reason", "application.timeline"]
    if consents:
        categories.append("consent.evidence")
    if member:
        categories += ["member.number", "member.status_reason"]
    if requests:
        categories.append("request.texts")
    if package:
        categories.append("request.access_package")
    if holds:
        categories.append("legal_hold.reasons")
    return categories


def _act_row(
    subject_id: int, categories: list[str], due: DestructionDue, now: datetime, actor: Actor,
    batch: str,
) -> dict[str, Any]:  # fmt: skip
    """The ``destruction_act`` row (every column but ``id``) of one destroyed subject, as
    inserted: its reference is a unique placeholder and its digest empty until ``_act_name``
    gives both (the reference holds the act's id)."""
    return {
        "reference": f"pending-{uuid.uuid4().hex[:12]}",
        "subject_ref": str(subject_id),
        "categories": json.dumps(categories, separators=(",", ":")),
        "rule": f"{due.purpose or 'request'}:{due.event}",
        "due_at": due.due_at,
        "destroyed_at": now,
        "actor_type": actor.actor_type,
        "actor_id": actor.user_id,
        "digest": "",
        "batch_id": batch,
    }


_NAME_ACT = Prepared(
    update(_ACT)
    .where(_ACT.c.id == bindparam("b_id"))
    .values(reference=bindparam("b_ref"), digest=bindparam("b_digest"))
)
_SET_ACT_NAME = RowUpdate(
    _NAME_ACT, "destruction_act", "b_id", {},
    {"b_ref": ("reference", "text"), "b_digest": ("digest", "text")},
)


def _act_name(act_id: int, row: dict[str, Any], categories: list[str]) -> dict[str, Any]:
    """``_NAME_ACT``'s parameters for the act inserted as ``row`` (``_act_row``) with id
    ``act_id``: its reference ``D-<Almaty year of destruction>-<id>`` and the digest of its
    content under that reference (``retention.act_digest`` recomputes it from the row)."""
    reference = f"D-{local_date(row['destroyed_at']).year}-{act_id:06d}"
    digest = _digest(
        _content(reference, row["subject_ref"], categories, row["rule"], row["due_at"],
                 row["destroyed_at"], row["actor_type"], row["actor_id"], row["batch_id"])
    )  # fmt: skip
    return {"b_id": act_id, "b_ref": reference, "b_digest": digest}


def _event_details(act_id: int, batch: str) -> dict[str, Any]:
    """The details of the ``subject.destroyed`` audit event: ids only."""
    return {"act_id": act_id, "batch_id": batch}
