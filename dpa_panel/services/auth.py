"""Logging in and staying logged in: password rules, lockout, server-side sessions, tickets.

Rules (issue 4; figures configurable in ``dpa_panel.settings``):

* passwords: at least 12 characters, not the username, not on a short list of common ones;
* 5 failed attempts in a row lock the account for 15 minutes; the failure message is the same
  whether or not the username exists, and an unknown username costs one argon2 verification
  too, so the two cannot be told apart by timing;
* a login session lives at most 12 hours and ends after 30 idle minutes; only a hash of its
  token is stored (HMAC keyed by ``DPA_SECRET_KEY`` in production, see ``token_hash``); logout
  revokes it; "log out everywhere" revokes all of a user's sessions;
* the token reaches the browser only as an HttpOnly cookie: a successful password check issues
  a 60-second, single-use *login ticket* that the browser exchanges over HTTP for the cookie;
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
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.passwords import hash_password, verify_and_update

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
TICKET_SECONDS = 60
#: How stale ``last_seen_at`` may get before an event refreshes it (limits writes per event).
TOUCH_INTERVAL = timedelta(seconds=60)

COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "password1234",
        "password12345",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "qazwsxedcrfv",
        "admin1234567",
        "administrator",
        "letmein12345",
        "welcome12345",
        "iloveyou1234",
        "000000000000",
        "111111111111",
        "abcdefghijkl",
        "abc123456789",
        "parol1234567",
        "пароль123456",
        "qwertyqwerty",
        "asdfghjkl123",
        "zxcvbnm12345",
        "kazakhstan2025",
        "kazakhstan2026",
        "almaty123456",
        "astana123456",
        "changeme1234",
    }
)


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


def password_problems(username: str, password: str) -> list[str]:
    """Catalog keys of every rule the new password breaks (empty list = acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("password.too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append("password.too_long")
    if username and password.strip().lower() == username.strip().lower():
        problems.append("password.equals_username")
    if password.strip().lower() in COMMON_PASSWORDS:
        problems.append("password.too_common")
    return problems


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real argon2 hash to verify against when the username is unknown (equal timing)."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    user_id: int | None = None
    ticket: str = ""


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    client_ip: str = "",
    now: datetime | None = None,
) -> LoginOutcome:
    """Check a username and password; on success return a login ticket.

    Every attempt writes an audit event. The outcome never says *why* a login failed.
    """
    now = now or utcnow()
    name = (username or "").strip().lower()[:64]
    password = (password or "")[:MAX_PASSWORD_LENGTH]
    user = (
        session.scalars(select(StaffUser).where(StaffUser.username == name)).first()
        if name
        else None
    )
    actor = Actor.public(client_ip)

    if user is None:
        verify_and_update(password, _dummy_hash())
        audit.record(
            session, actor, "auth.login_failed", "staff_user", "", {"reason": "unknown_user"}
        )
        return LoginOutcome(False)

    valid, new_hash = verify_and_update(password, user.password_hash)
    locked = user.locked_until is not None and user.locked_until > now
    if not user.is_active or locked:
        reason = "inactive" if not user.is_active else "locked"
        audit.record(session, actor, "auth.login_failed", "staff_user", user.id, {"reason": reason})
        return LoginOutcome(False)

    if not valid:
        # Atomic increment: concurrent failures (even on several workers) all count.
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(failed_attempts=StaffUser.failed_attempts + 1)
        )
        session.refresh(user)
        audit.record(
            session, actor, "auth.login_failed", "staff_user", user.id, {"reason": "bad_password"}
        )
        if user.failed_attempts >= settings.lockout_threshold():
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes())
            user.failed_attempts = 0
            session.add(user)
            audit.record(
                session,
                Actor.system(),
                "auth.account_locked",
                "staff_user",
                user.id,
                {"minutes": settings.lockout_minutes()},
            )
        return LoginOutcome(False)

    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    if new_hash:
        user.password_hash = new_hash
    session.add(user)
    audit.record(
        session, Actor.user(user.id, client_ip), "auth.login_succeeded", "staff_user", user.id
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
