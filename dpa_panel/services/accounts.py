"""Account administration: create, change role, (de)activate, reset password, clear login
limits, reset the second factor; and the account's own password and second-factor changes.

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
from dpa_panel.services import audit, throttle, two_factor
from dpa_panel.services.audit import Actor
from dpa_panel.services.auth import end_all_sessions
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.passwords import hash_password, password_problems, verify_and_update

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def normalise_username(raw: str) -> str:
    return (raw or "").strip().lower()


def _check_password(username: str, password: str, role: str = "") -> None:
    problems = password_problems(username, password, role=role)
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


def _refuse_if_self(actor: Actor, user: StaffUser) -> None:
    """An account may not deactivate itself or change its own role (issue 18): it would lock
    its owner out or drop them to a role that cannot undo the change."""
    if actor.actor_type == "user" and actor.user_id == user.id:
        raise ServiceError("confirm.not_self")


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
    _check_password(username, password, role)
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
    _refuse_if_self(actor, user)
    if role != "admin":
        _refuse_if_last_admin(session, user)
    old = user.role
    user.role = role
    if role == "admin":
        # Administrators need a longer password (15 characters) than the one this account may
        # have; only a hash is stored, so the new admin chooses a new one at the next login.
        user.must_change_password = True
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
        _refuse_if_self(actor, user)
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
    """A random password that satisfies the password rules (also an administrator's)."""
    alphabet = string.ascii_letters + string.digits + "-_!"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems("", candidate, role="admin"):
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
    """Lift every login back-off of this account, from every address (after a check that the
    failures were the owner's own mistakes, or an attack that is over)."""
    user = _get(session, user_id)
    rows = throttle.clear_for_user(session, user.id)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor, "account.unlocked", "staff_user", user.id, {"counters": rows})
    return user


def reset_two_factor(session: Session, actor: Actor, user_id: int) -> StaffUser:
    """An administrator removes an account's second factor (lost phone): its sessions end, and
    an admin or compliance officer must enrol again right after the next password check."""
    user = _get(session, user_id)
    if not two_factor.remove(session, user.id):
        raise ServiceError("two_factor.not_enrolled")
    end_all_sessions(session, user.id, actor)
    audit.record(session, actor, "account.two_factor_reset", "staff_user", user.id)
    return user


def _refuse_counted(
    session: Session, actor: Actor, user: StaffUser, client_ip: str, now, key: str, field: str
):
    """A wrong secret typed by a logged-in account counts like a failed login. The failure and
    its audit event must survive the refusal, so they are committed before it is raised (the
    caller's ``session_scope`` then rolls back nothing)."""
    wait = throttle.record_failure(session, user.username, client_ip, user.id, now)
    audit.record(
        session,
        actor,
        "auth.reauthentication_failed",
        "staff_user",
        user.id,
        {"form": field, "retry_after": wait},
    )
    session.commit()
    raise ServiceError(key, field=field)


def _refuse_if_throttled(session: Session, actor: Actor, user: StaffUser, client_ip: str, now):
    wait = throttle.retry_after(session, user.username, client_ip, now)
    if wait:
        audit.record(
            session, actor, "auth.login_throttled", "staff_user", user.id, {"retry_after": wait}
        )
        session.commit()
        raise ServiceError("auth.throttled", seconds=wait)


def change_own_password(
    session: Session,
    actor: Actor,
    user_id: int,
    current: str,
    new: str,
    *,
    client_ip: str = "",
) -> StaffUser:
    """Change one's own password; a wrong current password counts like a failed login."""
    now = utcnow()
    user = _get(session, user_id)
    _refuse_if_throttled(session, actor, user, client_ip, now)
    valid, _ = verify_and_update(current or "", user.password_hash)
    if not valid:
        _refuse_counted(session, actor, user, client_ip, now, "password.current_wrong", "current")
    _check_password(user.username, new, user.role)
    if new == current:
        raise ServiceError("password.same_as_current", field="password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    session.add(user)
    audit.record(session, actor, "account.password_changed", "staff_user", user.id)
    return user


def disable_own_two_factor(
    session: Session, actor: Actor, user_id: int, code: str, *, client_ip: str = ""
) -> StaffUser:
    """An account whose role does not require a second factor turns it off with a valid code
    (a wrong code counts like a failed login)."""
    now = utcnow()
    user = _get(session, user_id)
    if two_factor.is_required(user.role):
        raise ServiceError("two_factor.required_for_role")
    if not two_factor.is_enrolled(session, user.id):
        raise ServiceError("two_factor.not_enrolled")
    _refuse_if_throttled(session, actor, user, client_ip, now)
    if two_factor.verify(session, user.id, code, now) not in ("totp", "recovery"):
        _refuse_counted(session, actor, user, client_ip, now, "two_factor.code_wrong", "code")
    two_factor.remove(session, user.id)
    audit.record(session, actor, "account.two_factor_disabled", "staff_user", user.id)
    return user
