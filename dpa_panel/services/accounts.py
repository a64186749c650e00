"""Account administration: create, change role, (de)activate, reset password, unlock.

Every change writes an audit event naming the changed fields (never password material).
The last active admin can be neither demoted nor deactivated, so the panel can always be
administered.
"""

from __future__ import annotations

import re
import secrets
import string

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.models import StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import ROLES
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.auth import end_all_sessions, password_problems
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.passwords import hash_password, verify_and_update

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def normalise_username(raw: str) -> str:
    return (raw or "").strip().lower()


def _check_password(username: str, password: str) -> None:
    problems = password_problems(username, password)
    if problems:
        raise ServiceError(problems[0], field="password")


def _get(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise ServiceError("accounts.not_found")
    return user


def active_admin_count(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "admin", StaffUser.is_active.is_(True))
    )


def _refuse_if_last_admin(session: Session, user: StaffUser) -> None:
    if user.role == "admin" and user.is_active and active_admin_count(session) <= 1:
        raise ServiceError("accounts.last_admin")


def list_accounts(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def create_account(
    session: Session,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    role: str,
    password: str,
    must_change_password: bool = True,
) -> StaffUser:
    username = normalise_username(username)
    full_name = (full_name or "").strip()
    if not USERNAME_RE.match(username):
        raise ServiceError("accounts.username_invalid", field="username")
    if len(full_name) > 200 or any(ord(ch) < 32 for ch in full_name):
        raise ServiceError("accounts.full_name_invalid", field="full_name")
    if role not in ROLES:
        raise ServiceError("accounts.role_invalid", field="role")
    _check_password(username, password)
    if session.scalars(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise ServiceError("accounts.username_taken", field="username")
    now = utcnow()
    user = StaffUser(
        username=username,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "account.created", "staff_user", user.id, {"role": role})
    return user


def change_role(session: Session, actor: Actor, user_id: int, role: str) -> StaffUser:
    if role not in ROLES:
        raise ServiceError("accounts.role_invalid", field="role")
    user = _get(session, user_id)
    if user.role == role:
        return user
    if role != "admin":
        _refuse_if_last_admin(session, user)
    old = user.role
    user.role = role
    session.add(user)
    # A new role means new permissions: existing sessions must log in again.
    end_all_sessions(session, user.id, actor)
    audit.record(
        session, actor, "account.role_changed", "staff_user", user.id, {"from": old, "to": role}
    )
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> StaffUser:
    user = _get(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        _refuse_if_last_admin(session, user)
        end_all_sessions(session, user.id, actor)
    user.is_active = active
    session.add(user)
    audit.record(
        session,
        actor,
        "account.activated" if active else "account.deactivated",
        "staff_user",
        user.id,
    )
    return user


def generate_temporary_password(length: int = 16) -> str:
    """A random password that satisfies the password rules."""
    alphabet = string.ascii_letters + string.digits + "-_!"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems("", candidate):
            return candidate


def reset_password(session: Session, actor: Actor, user_id: int) -> str:
    """Set a temporary password (shown once to the admin) that must be changed at next login."""
    user = _get(session, user_id)
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.failed_attempts = 0
    user.locked_until = None
    user.password_changed_at = utcnow()
    session.add(user)
    end_all_sessions(session, user.id, actor)
    audit.record(session, actor, "account.password_reset", "staff_user", user.id)
    return temporary


def unlock(session: Session, actor: Actor, user_id: int) -> StaffUser:
    user = _get(session, user_id)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor, "account.unlocked", "staff_user", user.id)
    return user


def change_own_password(
    session: Session, actor: Actor, user_id: int, current: str, new: str
) -> StaffUser:
    user = _get(session, user_id)
    valid, _ = verify_and_update(current or "", user.password_hash)
    if not valid:
        raise ServiceError("password.current_wrong", field="current")
    _check_password(user.username, new)
    if new == current:
        raise ServiceError("password.same_as_current", field="password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)
    audit.record(session, actor, "account.password_changed", "staff_user", user.id)
    return user
