"""Login rules: password policy, sessions (idle/absolute), tickets, logout.

Throttling is in ``tests/test_throttle.py``, the password policy in ``tests/test_passwords.py``,
the second factor in ``tests/test_two_factor.py``."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.models import AuditEvent, LoginSession, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, auth
from dpa_panel.services.audit import Actor, verify_chain

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def user_id(engine):
    with Session(engine) as s:
        user = accounts.create_account(
            s,
            Actor.system(),
            username="aigerim",
            full_name="Әйгерім",
            role="staff",
            password=PASSWORD,
            must_change_password=False,
        )
        s.commit()
        return user.id


def _login(engine, username=" aigerim ", password=PASSWORD, now=None):
    with Session(engine) as s:
        outcome = auth.authenticate(s, username, password, client_ip="10.0.0.7", now=now)
        s.commit()
        return outcome


def _actions(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pass1", "password.too_short"),
        ("aigerim-aigerim"[:7], "password.too_short"),
        ("Aigerim.Stage", "password.contains_username"),
        ("Steppe.Stage.Aigerim", None),
        ("password1234", "password.too_common"),
        ("QWERTYUIOP12", "password.too_common"),
        ("x" * 257, "password.too_long"),
        ("Correct-Horse-Battery-9", None),
    ],
)
def test_password_rules(password, problem):
    problems = auth.password_problems("aigerim", password)
    assert (problems[0] if problems else None) == problem


def test_password_equal_to_username_is_refused():
    assert "password.contains_username" in auth.password_problems(
        "long.username.x", "Long.Username.X"
    )


def test_successful_login_issues_single_use_ticket_for_a_session(engine, user_id):
    outcome = _login(engine)
    assert outcome.ok and outcome.user_id == user_id and outcome.ticket
    with Session(engine) as s:
        started = auth.start_session(s, outcome.ticket, client_ip="10.0.0.7", user_agent="pytest")
        s.commit()
    assert started is not None
    token, user = started
    with Session(engine) as s:
        assert auth.start_session(s, outcome.ticket) is None, "a ticket works once"
        stored = s.scalars(select(LoginSession)).one()
        assert stored.token_hash == auth.token_hash(token) and token not in stored.token_hash
        ident = auth.resolve_session(s, token)
    assert ident.user_id == user_id and ident.role == "staff"
    assert _actions(engine)[-2:] == ["auth.login_succeeded", "auth.session_started"]


def test_expired_ticket_is_refused(engine, user_id):
    outcome = _login(engine)
    with Session(engine) as s:
        late = utcnow() + timedelta(seconds=auth.TICKET_SECONDS + 1)
        assert auth.start_session(s, outcome.ticket, now=late) is None


def test_wrong_password_and_unknown_user_look_the_same(engine, user_id):
    wrong = _login(engine, password="Not-The-Password-1")
    unknown = _login(engine, username="nobody-here")
    assert wrong == unknown == auth.LoginOutcome(False)
    assert _actions(engine)[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_unknown_user_costs_a_password_verification(engine, user_id, monkeypatch):
    """Timing of a wrong username and a wrong password is similar (both verify argon2)."""
    # Keep both paths out of the back-off so that each sample runs the full check.
    monkeypatch.setenv("DPA_THROTTLE_PAIR_FREE", "1000")
    monkeypatch.setenv("DPA_THROTTLE_ADDRESS_FREE", "1000")

    def timed(username):
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            _login(engine, username=username, password="Not-The-Password-1")
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    known, unknown = timed("aigerim"), timed("nobody-here")
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_inactive_account_cannot_log_in(engine, user_id):
    with Session(engine) as s:
        accounts.create_account(
            s, Actor.system(), username="boss", full_name="", role="admin", password=PASSWORD + "x"
        )
        accounts.set_active(s, Actor.system(), user_id, False)
        s.commit()
    assert not _login(engine).ok


def _session_token(engine) -> str:
    outcome = _login(engine)
    with Session(engine) as s:
        token, _ = auth.start_session(s, outcome.ticket)
        s.commit()
    return token


def test_idle_and_absolute_expiry(engine, user_id):
    token = _session_token(engine)
    now = utcnow()
    with Session(engine) as s:
        assert auth.resolve_session(s, token, now=now + timedelta(minutes=29)) is not None
        s.commit()
    with Session(engine) as s:
        # Activity at +29 min moved last_seen; +29 more is still within 30 idle minutes.
        assert auth.resolve_session(s, token, now=now + timedelta(minutes=58)) is not None
        s.commit()
    with Session(engine) as s:
        assert auth.resolve_session(s, token, now=now + timedelta(minutes=58 + 31)) is None
        s.commit()
    assert _actions(engine)[-1] == "auth.session_expired"
    fresh = _session_token(engine)
    with Session(engine) as s:
        # Absolute limit: even an active session ends after 12 hours.
        t = now
        for _ in range(25):
            t += timedelta(minutes=29)
            ident = auth.resolve_session(s, fresh, now=t)
            s.commit()
        assert t > now + timedelta(hours=12) and ident is None


def test_logout_and_logout_everywhere(engine, user_id):
    one, two = _session_token(engine), _session_token(engine)
    with Session(engine) as s:
        assert auth.end_session(s, one)
        s.commit()
        assert auth.resolve_session(s, one) is None
        assert auth.resolve_session(s, two) is not None
        assert auth.end_all_sessions(s, user_id, Actor.user(user_id)) == 1
        s.commit()
        assert auth.resolve_session(s, two) is None
        assert (
            s.scalar(
                select(func.count())
                .select_from(LoginSession)
                .where(LoginSession.revoked_at.is_(None))
            )
            == 0
        )
    with Session(engine) as s:
        assert verify_chain(s).ok


def test_password_is_rehashed_when_parameters_change(engine, user_id, monkeypatch):
    from passlib.context import CryptContext

    from dpa_panel.services import passwords

    weaker = CryptContext(schemes=["argon2"], argon2__time_cost=1, argon2__memory_cost=8192)
    with Session(engine) as s:
        user = s.get(StaffUser, user_id)
        user.password_hash = weaker.hash(PASSWORD)
        s.commit()
        old = user.password_hash
    assert _login(engine).ok
    with Session(engine) as s:
        new = s.get(StaffUser, user_id).password_hash
    assert new != old and passwords.PWD_CONTEXT.verify(PASSWORD, new)
