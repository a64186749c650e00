"""The public form's submission (policy clauses 2.1–2.2): the checks a submission must pass,
its rows, its audit event and its acknowledgement, in the caller's one transaction.

Split from ``services.applications`` (issue 19), which keeps the pipeline's processing and
lists. Refusals that must leave a trace are audited by the caller *after* the rollback, in a
transaction of their own: ``record_refusal(session, REFUSAL_AUDIT_ACTIONS[err.key], ip)``.

Issue 19 (decisions 19-submit-1, 19-submit-3): a submission is one of the busiest actions of
the panel (the public-form burst: 50 per second), so its statements are built once at import
and run through Core; the configuration it reads (edition in force, form purposes, operator
profile, retention rules) is read *before* the writers' lock, so the lock is held only for the
checks and the inserts; on PostgreSQL the application's id is drawn by the subject's INSERT
(``RETURNING nextval``), so the application is stored with its final reference at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select, text, update
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale
from dpa_panel.models import (
    ApplicationEvent,
    AuditEvent,
    Consent,
    DataSubject,
    MembershipApplication,
    Purpose,
    RetentionRule,
)
from dpa_panel.models.audit import RATE_LIMITED_SQL
from dpa_panel.models.subject import compose_search_text
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import OPEN_APPLICATION_STATUSES
from dpa_panel.services import audit, policy
from dpa_panel.services.applications import ENTITY, local_date
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.policy_texts import text_sha256
from dpa_panel.services.validation import validate_application_fields

#: The purpose whose consent is required to submit at all (clause 2.2).
REVIEW_PURPOSE = "application_review"
RATE_WINDOW = timedelta(hours=1)
#: ServiceError key -> audit action the caller records (in its own transaction) on refusal.
REFUSAL_AUDIT_ACTIONS = {
    "apply.duplicate": "application.duplicate_refused",
    "apply.rate_limited": "application.rate_limited",
}


def record_refusal(session: Session, action: str, client_ip: str) -> None:
    """Audit a refused submission (``application.duplicate_refused``, ``.rate_limited``, ...).

    Call it in a transaction of its own after the refused one rolled back, e.g.::

        except ServiceError as err:
            if err.key in submission.REFUSAL_AUDIT_ACTIONS:
                with session_scope() as s:
                    submission.record_refusal(s, REFUSAL_AUDIT_ACTIONS[err.key], ip)

    Duplicate refusals count towards the rate limit, so probing e-mail addresses is limited
    too. The event holds no form data, only the client IP.
    """
    audit.record(session, Actor.public(client_ip), action, ENTITY, "", {})


_SUBJECT_T = DataSubject.__table__
_APPLICATION_T = MembershipApplication.__table__
_CONSENT_T = Consent.__table__
_APP_EVENT_T = ApplicationEvent.__table__

# --- statements built once (issue 19) ----------------------------------------------------------

_ASKED_PURPOSES = select(Purpose.__table__.c.code).where(
    Purpose.__table__.c.asked_on_form.is_(True)
)
_RULES = select(RetentionRule).where(
    RetentionRule.purpose_code.in_(bindparam("codes", expanding=True))
)
#: Rate limit: refused and accepted submissions from this address since ``since``, counted on
#: the audit trail's own clock. Duplicate: an application in progress with this e-mail,
#: compared case-insensitively (the local part of a validated address is ASCII, so ``lower()``
#: behaves the same on both engines). Both facts in one statement.
_REFUSAL_FACTS = select(
    select(func.count())
    .select_from(AuditEvent)
    .where(
        # The partial index's own condition (``ix_audit_rate_limit``): read from that index,
        # the count costs the same however busy the panel's last hour was (decision
        # 19-submit-3; with ``action IN (:a, :b)`` it scanned every event of the hour).
        text(RATE_LIMITED_SQL),
        AuditEvent.client_ip == bindparam("client_ip"),
        AuditEvent.occurred_at >= bindparam("since"),
    )
    .scalar_subquery(),
    exists(
        select(MembershipApplication.id)
        .join(DataSubject, DataSubject.id == MembershipApplication.subject_id)
        .where(
            MembershipApplication.status.in_(OPEN_APPLICATION_STATUSES),
            func.lower(DataSubject.email) == bindparam("email"),
        )
    ),
)
_INSERT_SUBJECT = insert(_SUBJECT_T).returning(_SUBJECT_T.c.id)
#: PostgreSQL: the subject's INSERT also draws the application's id from its sequence.
_INSERT_SUBJECT_PG = insert(_SUBJECT_T).returning(
    _SUBJECT_T.c.id,
    func.nextval(func.pg_get_serial_sequence(_APPLICATION_T.name, _APPLICATION_T.c.id.name)),
)
_INSERT_APPLICATION = insert(_APPLICATION_T).returning(_APPLICATION_T.c.id)
_SET_REFERENCE = (
    update(_APPLICATION_T)
    .where(_APPLICATION_T.c.id == bindparam("application_id"))
    .values(reference=bindparam("final_reference"))
)
_INSERT_CONSENT = insert(_CONSENT_T)
_INSERT_APP_EVENT = insert(_APP_EVENT_T)


def _refusal(session: Session, client_ip: str, email: str) -> str | None:
    """Why the form must refuse this submission (``apply.rate_limited`` first, then
    ``apply.duplicate``), or None — both facts read in one statement (issue 19). Read after
    ``audit.lock_writers``: two concurrent submissions cannot both pass."""
    count, duplicate = (
        session.connection()
        .execute(
            _REFUSAL_FACTS,
            {"since": utcnow() - RATE_WINDOW, "client_ip": client_ip[:64], "email": email.lower()},
        )
        .one()
    )
    if count >= settings.apply_rate_limit_per_hour():
        return "apply.rate_limited"
    return "apply.duplicate" if duplicate else None


def reference_for(application_id: int, when: datetime) -> str:
    """``A-<Almaty year>-<id, at least 6 digits>``: the number the applicant quotes."""
    return f"A-{local_date(when).year}-{application_id:06d}"


def _insert_submission(
    session: Session, values: dict[str, Any], language: str, granted: list[str],
    sentences: dict[str, str], policy_version_id: int, now: datetime,
) -> tuple[DataSubject, MembershipApplication]:  # fmt: skip
    """The rows of one submission — subject, application (named ``reference_for``), one
    consent per granted purpose, the timeline's first event — as Core INSERTs in the
    caller's transaction (issue 19: the ORM's unit of work took about half of a submission's
    time). The column defaults (the derived statistics keys included, see
    ``models.types.month_key_field``) are applied by Core as by the ORM; the search copy is
    passed in. Returns detached records of what was stored (ids set)."""
    conn = session.connection()
    subject_row = {**values, "language": language, "status": "active",
                   "search_text": compose_search_text(values), "created_at": now,
                   "updated_at": now}  # fmt: skip
    app_row = {"subject_id": None, "submitted_at": now, "status": "submitted",
               "language": language, "updated_at": now}  # fmt: skip
    if conn.dialect.name == "postgresql":
        subject_id, application_id = conn.execute(_INSERT_SUBJECT_PG, subject_row).one()
        app_row.update(id=application_id, subject_id=subject_id,
                       reference=reference_for(application_id, now))  # fmt: skip
        conn.execute(_INSERT_APPLICATION, app_row)
    else:  # SQLite: the id is the row's; naming it is one more (in-process) statement
        subject_id = conn.execute(_INSERT_SUBJECT, subject_row).scalar_one()
        app_row.update(subject_id=subject_id, reference=f"pending-{subject_id}")
        application_id = conn.execute(_INSERT_APPLICATION, app_row).scalar_one()
        app_row.update(id=application_id, reference=reference_for(application_id, now))
        conn.execute(_SET_REFERENCE, {"application_id": application_id,
                                      "final_reference": app_row["reference"]})  # fmt: skip
    if granted:
        conn.execute(
            _INSERT_CONSENT,
            [
                {"subject_id": subject_id, "purpose_code": purpose, "granted_at": now,
                 "policy_version_id": policy_version_id, "channel": "web_form",
                 "language": language, "consent_text": sentences[purpose],
                 "consent_text_sha256": text_sha256(sentences[purpose])}
                for purpose in granted
            ],
        )  # fmt: skip
    conn.execute(_INSERT_APP_EVENT, {"application_id": application_id, "occurred_at": now,
                                     "kind": "submitted", "to_status": "submitted"})  # fmt: skip
    return DataSubject(id=subject_id, **subject_row), MembershipApplication(**app_row)


def submit_application(
    session: Session,
    raw: Mapping[str, object],
    consents: set[str],
    *,
    language: str,
    client_ip: str,
    now: datetime | None = None,
) -> MembershipApplication:
    """Store a new application from the public form with its consents, in one transaction.

    Raises ``ValidationFailed`` (every invalid field, and ``consent_application_review`` when
    the required consent is missing), ``ServiceError("apply.rate_limited")``,
    ``ServiceError("apply.duplicate")`` (says nothing about the other application) or
    ``ServiceError("apply.no_policy")``. Only purposes the form asks for are recorded; any
    other code passed in (e.g. ``statistics``) is ignored.
    """
    now = now or utcnow()
    language = normalise_locale(language)
    values, errors = validate_application_fields(raw)
    if REVIEW_PURPOSE not in consents:
        errors["consent_application_review"] = "apply.review_consent_required"
    if errors:
        raise ValidationFailed(errors)

    from dpa_panel.services import acknowledgements, org_profile
    from dpa_panel.services.consent_text import consent_sentence

    # What the submission records of the configuration is read before the writers' lock
    # (issue 19): the lock then covers only the checks and the inserts.
    edition = policy.edition_ref_in_force(session, local_date(now))
    if edition is None:
        raise ServiceError("apply.no_policy")
    asked = set(session.connection().execute(_ASKED_PURPOSES).scalars())
    granted = sorted(p for p in consents if p in asked)
    profile = org_profile.public_profile(session)
    # (held while the sentences are built: the identity map answers their ``session.get``)
    rules = session.scalars(_RULES, {"codes": granted}).all()
    sentences = {p: consent_sentence(session, p, language, profile) for p in granted}
    del rules

    audit.lock_writers(session)  # the checks below and the insert are one atomic step
    refusal = _refusal(session, client_ip, values["email"])
    if refusal:
        raise ServiceError(refusal)
    subject, application = _insert_submission(session, values, language, granted, sentences,
                                              edition.id, now)  # fmt: skip
    audit.record(
        session,
        Actor.public(client_ip),
        "application.submitted",
        ENTITY,
        application.id,
        {"consents": granted, "language": language, "policy": edition.label},
    )
    acknowledgements.application_received(session, application, subject, granted, edition, now=now)
    return application
