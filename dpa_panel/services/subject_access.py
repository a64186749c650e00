"""How a data subject gets into their own privacy centre (/my, issue 20): an e-mail one-time
code, then a short session of its own kind.

* **Codes.** The person types an address; a 6-digit code is sent through the outbox
  (``services.outbox``, delivered by ``dpa-panel notify``) and is valid ``CODE_MINUTES`` (10)
  for ``CODE_TRIES`` (5) tries. A newer code cancels the older ones of that address. Only
  digests are stored (``auth.token_hash``, keyed by ``DPA_SECRET_KEY``); a code's digest
  includes the address, so a code sent to one address never opens another.
* **Nobody learns who applied.** An unknown address gets the same reply and the same work (a
  code row is written, with no subject and no mail), so neither the answer nor its timing
  tells known from unknown.
* **Throttling** reuses ``services.throttle`` (per address *and* per source, the counters of
  the staff login in their own name spaces ``subject-code:`` and ``subject-verify:``): every
  code issued and every wrong code counts; after a few the same source waits 2, 4, 8 … s.
* **Subject sessions** are never staff sessions: another table, another cookie
  (``dpa_subject``), no role. ``@requires`` reads only the staff cookie, so a subject session
  opens no staff handler, and the privacy centre's handlers read only ``dpa_subject``.
  A valid code gives a 60-second ticket bound to the browser's ``dpa_browser`` cookie; the
  page posts it to ``/api/my/complete`` (same origin), which sets the HttpOnly cookie. The
  session ends after ``IDLE`` (15 minutes) without use, or on "sign out".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import DataSubject, SubjectCode, SubjectSession
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, outbox, throttle
from dpa_panel.services.audit import Actor
from dpa_panel.services.auth import token_hash
from dpa_panel.services.validation import validate_email

#: Minutes a code is valid (issue 20: "valid 10 minutes").
CODE_MINUTES = 10
#: Wrong tries a code survives (issue 20: "5 tries").
CODE_TRIES = 5
#: A subject session ends after this long without use (issue 20: "15 minutes idle").
IDLE = timedelta(minutes=15)
TICKET_SECONDS = 60
#: The subject session's cookie (never ``dpa_session``, the staff one).
SUBJECT_COOKIE = "dpa_subject"
#: Name spaces of the throttle counters (``services.throttle`` keys by "username").
ISSUE_SCOPE = "subject-code:"
VERIFY_SCOPE = "subject-verify:"


def email_key(email: str) -> str:
    """The digest an address is known by in these tables (case-insensitive)."""
    return token_hash(f"subject-email:{email.strip().lower()}")


def _code_digest(email_hash: str, code: str) -> str:
    return token_hash(f"subject-code:{email_hash}:{code}")


def subject_for_email(session: Session, email: str) -> DataSubject | None:
    """The newest subject (not destroyed) with this address: the one the centre shows."""
    return session.scalars(
        select(DataSubject)
        .where(func.lower(DataSubject.email) == email.lower(), DataSubject.status != "destroyed")
        .order_by(DataSubject.id.desc())
        .limit(1)
    ).first()


@dataclass
class CodeOutcome:
    """``error``: a catalog key ("" when accepted); ``retry_after``: seconds to wait."""

    error: str = ""
    retry_after: int = 0
    #: The code row written (tests and the audit; never shown).
    code_id: int | None = None


def request_code(
    session: Session,
    raw_email: str,
    *,
    client_ip: str,
    language: str,
    now: datetime | None = None,
    code: str | None = None,
) -> CodeOutcome:
    """Queue a code for ``raw_email`` if it belongs to a subject; the same outcome either way.

    ``code`` is for tests only (a known value); normally it is drawn with ``secrets``.
    """
    now = now or utcnow()
    email = validate_email((raw_email or "")[:300])
    if email is None:
        return CodeOutcome(error="my.email_invalid")
    email = email.lower()
    wait = throttle.retry_after(session, ISSUE_SCOPE + email, client_ip, now)
    if wait:
        return CodeOutcome(error="my.throttled", retry_after=wait)
    throttle.record_failure(session, ISSUE_SCOPE + email, client_ip, None, now)
    key = email_key(email)
    session.execute(
        update(SubjectCode)
        .where(SubjectCode.email_hash == key, SubjectCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    subject = subject_for_email(session, email)
    value = code if code is not None else f"{secrets.randbelow(10**6):06d}"
    row = SubjectCode(
        email_hash=key,
        subject_id=subject.id if subject else None,
        code_hash=_code_digest(key, value),
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
        attempts=0,
    )
    session.add(row)
    session.flush()
    if subject is not None:
        lang = normalise_locale(language)
        outbox.enqueue(
            session,
            purpose="subject_code",
            recipient=subject.email,
            subject=tr(lang, "mail.my_code.subject"),
            body=tr(lang, "mail.my_code.body", code=value, minutes=CODE_MINUTES),
            now=now,
        )
    audit.record(
        session, Actor.public(client_ip), "subject.code_requested", "subject_code", row.id,
        {"subject_id": row.subject_id},
    )  # fmt: skip
    return CodeOutcome(code_id=row.id)


@dataclass
class VerifyOutcome:
    error: str = ""
    retry_after: int = 0
    #: The single-use ticket to post to ``/api/my/complete`` (on success).
    ticket: str = ""


def _fail(session: Session, email: str, client_ip: str, now: datetime, key: str) -> VerifyOutcome:
    wait = throttle.record_failure(session, VERIFY_SCOPE + email, client_ip, None, now)
    return VerifyOutcome(error=key, retry_after=wait)


def verify_code(
    session: Session,
    raw_email: str,
    raw_code: str,
    *,
    client_ip: str,
    browser: str,
    now: datetime | None = None,
) -> VerifyOutcome:
    """Check a code typed on /my; on success a 60-second ticket bound to ``browser``.

    Refusals (nothing else changes): ``my.code_wrong`` (wrong digits, no code for that
    address, a code of another address, a used one), ``my.code_expired``,
    ``my.code_exhausted`` (5 wrong tries: ask for a new code), ``my.throttled``.
    """
    now = now or utcnow()
    email = (validate_email((raw_email or "")[:300]) or "").lower()
    code = "".join(ch for ch in (raw_code or "")[:20] if not ch.isspace())
    if not email:
        return VerifyOutcome(error="my.email_invalid")
    if not browser:
        return VerifyOutcome(error="my.reload")
    wait = throttle.retry_after(session, VERIFY_SCOPE + email, client_ip, now)
    if wait:
        return VerifyOutcome(error="my.throttled", retry_after=wait)
    key = email_key(email)
    row = session.scalars(
        select(SubjectCode)
        .where(SubjectCode.email_hash == key, SubjectCode.used_at.is_(None))
        .order_by(SubjectCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        return _fail(session, email, client_ip, now, "my.code_wrong")
    if row.attempts >= CODE_TRIES:
        return _fail(session, email, client_ip, now, "my.code_exhausted")
    if row.expires_at <= now:
        return _fail(session, email, client_ip, now, "my.code_expired")
    if not (code.isdigit() and len(code) == 6) or not secrets.compare_digest(
        row.code_hash, _code_digest(key, code)
    ):
        row.attempts += 1
        session.add(row)
        outcome = _fail(session, email, client_ip, now, "my.code_wrong")
        if row.attempts >= CODE_TRIES:
            outcome.error = "my.code_exhausted"
        audit.record(session, Actor.public(client_ip), "subject.code_failed", "subject_code",
                     row.id, {"attempts": row.attempts})  # fmt: skip
        return outcome
    row.used_at = now
    session.add(row)
    if row.subject_id is None:  # cannot be guessed in practice: treat like a wrong code
        return _fail(session, email, client_ip, now, "my.code_wrong")
    throttle.record_success(session, VERIFY_SCOPE + email, client_ip, None, now)
    ticket = secrets.token_urlsafe(32)
    subject_session = SubjectSession(
        subject_id=row.subject_id,
        ticket_hash=token_hash(ticket),
        ticket_expires_at=now + timedelta(seconds=TICKET_SECONDS),
        browser_hash=token_hash(f"browser:{browser}"),
        created_at=now,
        last_seen_at=now,
    )
    session.add(subject_session)
    session.flush()
    audit.record(session, Actor.public(client_ip), "subject.code_verified", "subject_session",
                 subject_session.id, {"subject_id": row.subject_id})  # fmt: skip
    return VerifyOutcome(ticket=ticket)


def start_session(
    session: Session, ticket: str, *, browser: str, client_ip: str, now: datetime | None = None
) -> str | None:
    """Exchange a ticket (once, within 60 s, from the browser it is bound to) for the raw
    session token the ``dpa_subject`` cookie carries; None when refused."""
    now = now or utcnow()
    if not ticket or not browser:
        return None
    row = session.scalars(
        select(SubjectSession)
        .where(SubjectSession.ticket_hash == token_hash(ticket))
        .with_for_update()
    ).first()
    if (
        row is None
        or row.ended_at is not None
        or row.token_hash is not None
        or row.ticket_expires_at is None
        or row.ticket_expires_at <= now
        or not secrets.compare_digest(row.browser_hash, token_hash(f"browser:{browser}"))
    ):
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash, row.ticket_hash, row.ticket_expires_at = token_hash(token), None, None
    row.last_seen_at = now
    session.add(row)
    session.flush()
    audit.record(session, Actor.public(client_ip), "subject.session_started", "subject_session",
                 row.id, {"subject_id": row.subject_id})  # fmt: skip
    return token


@dataclass(frozen=True)
class SubjectIdentity:
    session_id: int
    subject_id: int


def resolve_session(
    session: Session, token: str, *, now: datetime | None = None, touch: bool = True
) -> SubjectIdentity | None:
    """The subject behind a ``dpa_subject`` cookie, if its session is live (and, with
    ``touch``, keep it alive for another ``IDLE``)."""
    now = now or utcnow()
    if not token:
        return None
    row = session.scalars(
        select(SubjectSession).where(SubjectSession.token_hash == token_hash(token))
    ).first()
    if row is None or row.ended_at is not None or row.last_seen_at <= now - IDLE:
        return None
    status = session.scalar(select(DataSubject.status).where(DataSubject.id == row.subject_id))
    if status in (None, "destroyed"):
        return None
    if touch:
        row.last_seen_at = now
        session.add(row)
    return SubjectIdentity(row.id, row.subject_id)


def end_session(session: Session, token: str, *, client_ip: str,
                now: datetime | None = None) -> bool:  # fmt: skip
    """Sign out: the session can no longer be used."""
    now = now or utcnow()
    row = session.scalars(
        select(SubjectSession).where(SubjectSession.token_hash == token_hash(token or "-"))
    ).first()
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = now
    session.add(row)
    audit.record(session, Actor.public(client_ip), "subject.session_ended", "subject_session",
                 row.id, {"subject_id": row.subject_id})  # fmt: skip
    return True
