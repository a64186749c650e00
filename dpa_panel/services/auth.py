"""Logging in and staying logged in: throttling, second factor, server-side sessions, tickets.

Rules (issues 4 and 15; figures configurable in ``dpa_panel.settings``):

* passwords: the NIST SP 800-63B policy of ``services.passwords`` (12 characters, 15 for
  admins, not common/breached, not built from the username or the organisation's name, not
  repetitive or sequential), Unicode-normalised;
* failed attempts are throttled per source address, per account and source, and per account
  with a high ceiling (``services.throttle``), never by locking the account for everybody; the
  failure message is the same whether or not the username exists, and an unknown username
  costs one argon2 verification too, so the two cannot be told apart by timing;
* administrators and compliance officers must pass a second factor (TOTP, or a recovery code
  once, ``services.two_factor``); others may enrol; a required but missing enrolment is done
  right after the password, before any session exists;
* a login session lives at most 12 hours and ends after 30 idle minutes; only a hash of its
  token is stored (HMAC keyed by ``DPA_SECRET_KEY`` in production, see ``token_hash``); logout
  revokes it; "log out everywhere" revokes all of a user's sessions;
* the token reaches the browser only as an HttpOnly cookie: a completed login (``_grant``, the
  one place that issues a login ticket) yields a 60-second, single-use *login ticket* that the
  browser exchanges over HTTP for the cookie;
* tickets are bound (issue 15): a login ticket to the browser that logged in (its
  ``dpa_browser`` cookie, ``bind_login_ticket``), a download ticket to the login session that
  asked (``issue_ticket(login_session_id=...)``); ``redeem_ticket`` puts the binding in the
  atomic UPDATE's WHERE, so a request from another browser, user or session neither redeems
  the ticket nor uses it up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select, update
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import LoginSession, OneTimeTicket, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, throttle, two_factor
from dpa_panel.services.audit import Actor
from dpa_panel.services.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    password_problems,
    verify_and_update,
)

__all__ = ["MIN_PASSWORD_LENGTH", "MAX_PASSWORD_LENGTH", "password_problems"]

TICKET_SECONDS = 60
#: How stale ``last_seen_at`` may get before an event refreshes it (limits writes per event).
TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(raw: str) -> str:
    """What the database stores for a session token or a ticket (never the token itself).

    With ``DPA_SECRET_KEY`` set (required in production) it is HMAC-SHA256 keyed by that
    secret, so someone who can write to the database (or to a restored backup) but does not
    hold the key cannot mint a session or a login/download ticket by inserting a hash of a
    token they chose. Without the key (development, ``make run``, tests) it falls back to plain
    SHA-256. Changing the key invalidates every live session and ticket (everyone logs in again).
    """
    key = settings.secret_key()
    if key:
        return hmac.new(key.encode("utf-8"), raw.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real argon2 hash to verify against when the username is unknown (equal timing)."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoginOutcome:
    """The result of one login step.

    ``ok`` with a ``ticket``: the login is complete. ``ok`` with ``next_step`` "code": the
    password was right, now the second factor; "enrol": the password was right and the role
    requires a second factor that is not enrolled yet. Not ``ok``: refused; ``retry_after`` > 0
    says how many seconds this source must wait before the next attempt is even checked.
    """

    ok: bool
    user_id: int | None = None
    ticket: str = ""
    next_step: str = ""
    retry_after: int = 0


def _find_user(session: Session, name: str) -> StaffUser | None:
    if not name:
        return None
    return session.scalars(select(StaffUser).where(StaffUser.username == name)).first()


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    client_ip: str = "",
    now: datetime | None = None,
) -> LoginOutcome:
    """Check a username and password (the first factor).

    Every attempt writes an audit event. The outcome never says *why* a login failed, only
    how long this source must wait when the back-off applies (the same for unknown names).
    """
    now = now or utcnow()
    name = (username or "").strip().lower()[:64]
    password = (password or "")[:MAX_PASSWORD_LENGTH]
    user = _find_user(session, name)
    actor = Actor.public(client_ip)
    entity = user.id if user else ""

    wait = throttle.retry_after(session, name, client_ip, now)
    if wait:
        audit.record(
            session, actor, "auth.login_throttled", "staff_user", entity, {"retry_after": wait}
        )
        return LoginOutcome(False, retry_after=wait)

    if user is None:
        verify_and_update(password, _dummy_hash())
        wait = throttle.record_failure(session, name, client_ip, None, now)
        audit.record(
            session,
            actor,
            "auth.login_failed",
            "staff_user",
            "",
            {"reason": "unknown_user", "retry_after": wait},
        )
        return LoginOutcome(False, retry_after=wait)

    valid, new_hash = verify_and_update(password, user.password_hash)
    if not valid:
        wait = throttle.record_failure(session, name, client_ip, user.id, now)
        audit.record(
            session,
            actor,
            "auth.login_failed",
            "staff_user",
            user.id,
            {"reason": "bad_password", "retry_after": wait},
        )
        return LoginOutcome(False, retry_after=wait)
    if not user.is_active:
        audit.record(
            session, actor, "auth.login_failed", "staff_user", user.id, {"reason": "inactive"}
        )
        return LoginOutcome(False)
    if new_hash:
        user.password_hash = new_hash
        session.add(user)

    if two_factor.is_enrolled(session, user.id):
        next_step = "code"
    elif two_factor.is_required(user.role):
        next_step = "enrol"
    else:
        return _grant(session, user, client_ip, now)
    audit.record(
        session,
        Actor.user(user.id, client_ip),
        "auth.password_verified",
        "staff_user",
        user.id,
        {"next": next_step},
    )
    return LoginOutcome(True, user.id, next_step=next_step)


def verify_second_factor(
    session: Session,
    user_id: int,
    code: str,
    *,
    client_ip: str = "",
    now: datetime | None = None,
) -> LoginOutcome:
    """The second step of a login whose password was verified: a TOTP code or a recovery code.

    Wrong codes and replayed codes count as failures of the same throttle counters.
    """
    now = now or utcnow()
    user = session.get(StaffUser, user_id)
    if user is None or not user.is_active:
        return LoginOutcome(False)
    actor = Actor.user(user.id, client_ip)
    wait = throttle.retry_after(session, user.username, client_ip, now)
    if wait:
        audit.record(
            session, actor, "auth.login_throttled", "staff_user", user.id, {"retry_after": wait}
        )
        return LoginOutcome(False, user.id, retry_after=wait)
    method = two_factor.verify(session, user.id, (code or "")[:40], now)
    if method in ("totp", "recovery"):
        return _grant(session, user, client_ip, now, second_factor=method)
    wait = throttle.record_failure(session, user.username, client_ip, user.id, now)
    audit.record(
        session,
        actor,
        "auth.second_factor_failed",
        "staff_user",
        user.id,
        {"reason": method or "wrong_code", "retry_after": wait},
    )
    return LoginOutcome(False, user.id, retry_after=wait)


def confirm_enrolment_at_login(
    session: Session,
    user_id: int,
    code: str,
    *,
    client_ip: str = "",
    now: datetime | None = None,
) -> tuple[LoginOutcome, list[str]]:
    """A required second factor set up right after the password: confirm it with its first code.

    Returns ``(outcome, recovery codes)``; the codes are shown once, and only then does
    ``grant_after_enrolment`` complete the login. Wrong codes count as failed attempts.
    """
    from dpa_panel.services.errors import ServiceError

    now = now or utcnow()
    user = session.get(StaffUser, user_id)
    if user is None or not user.is_active:
        return LoginOutcome(False), []
    actor = Actor.user(user.id, client_ip)
    wait = throttle.retry_after(session, user.username, client_ip, now)
    if wait:
        audit.record(
            session, actor, "auth.login_throttled", "staff_user", user.id, {"retry_after": wait}
        )
        return LoginOutcome(False, user.id, retry_after=wait), []
    try:
        # A refused code writes nothing before the refusal, so no savepoint is needed.
        codes = two_factor.confirm_enrolment(session, actor, user.id, code, now)
    except ServiceError:
        wait = throttle.record_failure(session, user.username, client_ip, user.id, now)
        audit.record(
            session,
            actor,
            "auth.second_factor_failed",
            "staff_user",
            user.id,
            {"reason": "enrolment_code", "retry_after": wait},
        )
        return LoginOutcome(False, user.id, retry_after=wait), []
    return LoginOutcome(True, user.id, next_step="codes"), codes


def grant_after_enrolment(
    session: Session, user_id: int, *, client_ip: str = "", now: datetime | None = None
) -> LoginOutcome:
    """Complete a login whose password was verified and whose first code just confirmed a new
    second factor (the caller holds that proof: this tab's own pending login)."""
    now = now or utcnow()
    user = session.get(StaffUser, user_id)
    if user is None or not user.is_active or not two_factor.is_enrolled(session, user_id):
        return LoginOutcome(False)
    return _grant(session, user, client_ip, now, second_factor="enrolled")


def _grant(
    session: Session, user: StaffUser, client_ip: str, now: datetime, second_factor: str = ""
) -> LoginOutcome:
    """Every factor is verified: reset the counters, record the login, issue the ticket."""
    throttle.record_success(session, user.username, client_ip, user.id, now)
    user.last_login_at = now
    session.add(user)
    audit.record(
        session,
        Actor.user(user.id, client_ip),
        "auth.login_succeeded",
        "staff_user",
        user.id,
        {"second_factor": second_factor} if second_factor else None,
    )
    return LoginOutcome(True, user.id, issue_ticket(session, user.id, "login", now=now))


def issue_ticket(
    session: Session,
    user_id: int,
    purpose: str,
    params: dict | None = None,
    *,
    login_session_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A single-use ticket valid for 60 seconds; only its hash is stored.

    A download ticket must name the login session that asks for it (``login_session_id``):
    only that session may redeem it (see ``redeem_ticket``).
    """
    if purpose == "download" and login_session_id is None:
        raise ValueError("a download ticket must be bound to the login session that asks")
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    session.add(
        OneTimeTicket(
            ticket_hash=token_hash(raw),
            purpose=purpose,
            user_id=user_id,
            params=json.dumps(params or {}, ensure_ascii=False, sort_keys=True),
            created_at=now,
            expires_at=now + timedelta(seconds=TICKET_SECONDS),
            login_session_id=login_session_id,
        )
    )
    session.flush()
    return raw


def download_ticket(session: Session, ident: Identity, params: dict) -> str:
    """A download ticket for the checked identity, bound to its login session."""
    return issue_ticket(
        session, ident.user_id, "download", params, login_session_id=ident.session_id
    )


def bind_login_ticket(session: Session, raw_ticket: str, browser: str) -> bool:
    """Bind a fresh login ticket to the browser that logged in (its ``dpa_browser`` cookie).

    Only a request carrying the same cookie can then exchange the ticket for a session
    (``start_session(browser=...)``): an attacker who logs in with their own account cannot
    complete that login in a victim's browser (login CSRF). An empty cookie binds nothing and
    returns False; an unbound login ticket can never be redeemed over HTTP.
    """
    if not raw_ticket or not browser or len(browser) > 100:
        return False
    result = session.execute(
        update(OneTimeTicket)
        .where(
            OneTimeTicket.ticket_hash == token_hash(raw_ticket),
            OneTimeTicket.purpose == "login",
            OneTimeTicket.used_at.is_(None),
            OneTimeTicket.binding_hash.is_(None),
        )
        .values(binding_hash=token_hash("browser:" + browser))
    )
    return result.rowcount == 1


def redeem_ticket(
    session: Session,
    raw: str,
    purpose: str,
    *,
    browser: str | None = None,
    user_id: int | None = None,
    login_session_id: int | None = None,
    now: datetime | None = None,
) -> OneTimeTicket | None:
    """Mark a valid ticket used and return it; None when unknown, used, expired or mismatched.

    The UPDATE ... WHERE used_at IS NULL makes redemption atomic: of two concurrent requests
    with the same ticket, exactly one wins. Each binding given (``browser`` cookie,
    ``user_id``, ``login_session_id``) is part of the same WHERE, so a request that does not
    match leaves the ticket unused for its rightful owner. ``None`` means "not checked" and is
    for internal callers only; the HTTP endpoints always pass every binding.
    """
    now = now or utcnow()
    if not raw or len(raw) > 100:
        return None
    digest = token_hash(raw)
    conditions = [
        OneTimeTicket.ticket_hash == digest,
        OneTimeTicket.purpose == purpose,
        OneTimeTicket.used_at.is_(None),
        OneTimeTicket.expires_at > now,
    ]
    if browser is not None:
        if not browser or len(browser) > 100:
            return None
        conditions.append(OneTimeTicket.binding_hash == token_hash("browser:" + browser))
    if user_id is not None:
        conditions.append(OneTimeTicket.user_id == user_id)
    if login_session_id is not None:
        conditions.append(OneTimeTicket.login_session_id == login_session_id)
    result = session.execute(update(OneTimeTicket).where(*conditions).values(used_at=now))
    if result.rowcount != 1:
        return None
    return session.scalars(select(OneTimeTicket).where(OneTimeTicket.ticket_hash == digest)).one()


def start_session(
    session: Session,
    raw_ticket: str,
    *,
    browser: str | None = None,
    client_ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[str, StaffUser] | None:
    """Exchange a login ticket for a new session token (to be set as an HttpOnly cookie).

    ``browser`` is the ``dpa_browser`` cookie of the request; ``/api/auth/complete`` always
    passes it (an empty one redeems nothing), so only the browser bound by
    ``bind_login_ticket`` completes the login.
    """
    now = now or utcnow()
    ticket = redeem_ticket(session, raw_ticket, "login", browser=browser, now=now)
    if ticket is None:
        return None
    user = session.get(StaffUser, ticket.user_id)
    if user is None or not user.is_active:
        return None
    raw = secrets.token_urlsafe(32)
    login = LoginSession(
        user_id=user.id,
        token_hash=token_hash(raw),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours()),
        client_ip=client_ip[:64],
        user_agent=user_agent[:300],
    )
    session.add(login)
    session.flush()
    audit.record(
        session, Actor.user(user.id, client_ip), "auth.session_started", "login_session", login.id
    )
    return raw, user


@dataclass(frozen=True)
class Identity:
    """The account behind a request, as re-read from the database for that request."""

    user_id: int
    username: str
    full_name: str
    role: str
    must_change_password: bool
    session_id: int


def resolve_session(
    session: Session, raw_token: str, *, now: datetime | None = None
) -> Identity | None:
    """The identity of a live session, or None (unknown, revoked, expired, idle, inactive user)."""
    if not raw_token or len(raw_token) > 100:
        return None
    now = now or utcnow()
    row = session.execute(
        select(LoginSession, StaffUser)
        .join(StaffUser, StaffUser.id == LoginSession.user_id)
        .where(LoginSession.token_hash == token_hash(raw_token))
    ).first()
    if row is None:
        return None
    login, user = row
    idle_limit = timedelta(minutes=settings.session_idle_minutes())
    if login.revoked_at is not None or login.expires_at <= now or not user.is_active:
        return None
    if login.last_seen_at + idle_limit <= now:
        login.revoked_at = now
        session.add(login)
        audit.record(
            session,
            Actor.system(),
            "auth.session_expired",
            "login_session",
            login.id,
            {"reason": "idle"},
        )
        return None
    if now - login.last_seen_at >= TOUCH_INTERVAL:
        login.last_seen_at = now
        session.add(login)
    return Identity(
        user.id, user.username, user.full_name, user.role, user.must_change_password, login.id
    )


def end_session(
    session: Session, raw_token: str, *, client_ip: str = "", now: datetime | None = None
) -> bool:
    """Revoke one session (logout). Returns whether a live session was revoked."""
    now = now or utcnow()
    login = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == token_hash(raw_token or ""))
    ).first()
    if login is None or login.revoked_at is not None:
        return False
    login.revoked_at = now
    session.add(login)
    audit.record(
        session, Actor.user(login.user_id, client_ip), "auth.logout", "login_session", login.id
    )
    return True


def end_all_sessions(
    session: Session, user_id: int, actor: Actor, *, now: datetime | None = None
) -> int:
    """Revoke every live session of a user ("log out everywhere", deactivation, reset)."""
    now = now or utcnow()
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session,
        actor,
        "auth.logout_everywhere",
        "staff_user",
        user_id,
        {"sessions": result.rowcount},
    )
    return result.rowcount


def live_sessions(
    session: Session, user_id: int, *, now: datetime | None = None
) -> list[LoginSession]:
    now = now or utcnow()
    idle_since = now - timedelta(minutes=settings.session_idle_minutes())
    stmt = (
        select(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
            LoginSession.last_seen_at > idle_since,
        )
        .order_by(LoginSession.last_seen_at.desc())
    )
    return list(session.scalars(stmt))
