"""Login throttling (issue 15, hole 2; NIST SP 800-63B §5.2.2): failures from one address
never lock the owner out from another; the back-off grows; a success resets the pair; the
per-account ceiling spares addresses the owner used before; change-password failures count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import AuditEvent, LoginThrottle, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, auth, throttle
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.errors import ServiceError

PASSWORD = "Correct-Horse-Battery-9"
WRONG = "Not-The-Password-1"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@pytest.fixture
def user_id(engine):
    with Session(engine) as s:
        user = accounts.create_account(
            s,
            Actor.system(),
            username="aigerim",
            full_name="",
            role="staff",
            password=PASSWORD,
            must_change_password=False,
        )
        s.commit()
        return user.id


def _login(engine, password=PASSWORD, ip=ATTACKER, now=None, username="aigerim"):
    with Session(engine) as s:
        outcome = auth.authenticate(s, username, password, client_ip=ip, now=now)
        s.commit()
        return outcome


def _actions(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_backoff_formula():
    assert [throttle.backoff_seconds("pair", n) for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    assert throttle.backoff_seconds("pair", 40) == 900, "capped at 15 minutes"
    assert throttle.backoff_seconds("address", 19) == 0
    assert throttle.backoff_seconds("account", 99) == 0
    assert throttle.backoff_seconds("account", 100) == 2


def test_failures_from_one_address_never_lock_the_owner_out_from_another(engine, user_id):
    now = utcnow()
    # The attacker keeps failing, each time as soon as the back-off allows, for hours.
    t = now
    for _ in range(30):
        outcome = _login(engine, WRONG, ATTACKER, now=t)
        assert not outcome.ok
        t += timedelta(seconds=outcome.retry_after or 0)
    # The attacker's own address is slowed down, even with the right password ...
    refused = _login(engine, PASSWORD, ATTACKER, now=t - timedelta(seconds=1))
    assert not refused.ok and refused.retry_after > 0
    # ... and the owner, from another address, logs in at once, with no wait.
    assert _login(engine, PASSWORD, OWNER, now=t - timedelta(seconds=1)).ok
    with Session(engine) as s:
        user = s.get(StaffUser, user_id)
        assert user.locked_until is None, "no account lock exists any more"
        assert verify_chain(s).ok
    assert "auth.login_throttled" in _actions(engine)
    assert "auth.account_locked" not in _actions(engine)


def test_backoff_grows_and_refused_attempts_are_not_checked(engine, user_id):
    now = utcnow()
    waits = [
        _login(engine, WRONG, now=now + timedelta(minutes=20 * i)).retry_after for i in range(6)
    ]
    # Each attempt after the back-off ended: the wait doubles from the third failure on.
    assert waits == [0, 0, 2, 4, 8, 16]
    later = now + timedelta(minutes=100)
    refused = _login(engine, PASSWORD, now=later + timedelta(seconds=1))
    assert not refused.ok
    assert refused.retry_after == 15, "16 s after the sixth failure, 15 s are left"
    failed_before = _actions(engine).count("auth.login_failed")
    assert not _login(engine, WRONG, now=later + timedelta(seconds=2)).ok
    assert _actions(engine).count("auth.login_failed") == failed_before, "not even checked"
    assert _login(engine, PASSWORD, now=later + timedelta(seconds=17)).ok


def test_success_resets_the_pair(engine, user_id):
    now = utcnow()
    for i in range(2):
        _login(engine, WRONG, now=now + timedelta(seconds=i))
    assert _login(engine, PASSWORD, now=now + timedelta(seconds=3)).ok
    waits = [
        _login(engine, WRONG, now=now + timedelta(seconds=10 + i)).retry_after for i in range(2)
    ]
    assert waits == [0, 0], "2 + 2 failures separated by a success: no back-off"
    assert _login(engine, WRONG, now=now + timedelta(seconds=20)).retry_after == 2


def test_unknown_usernames_are_throttled_like_known_ones(engine, user_id):
    now = utcnow()
    known = [_login(engine, WRONG, now=now + timedelta(minutes=i)).retry_after for i in range(5)]
    unknown = [
        _login(engine, WRONG, now=now + timedelta(minutes=i), username="nobody-here").retry_after
        for i in range(5)
    ]
    assert known == unknown == [0, 0, 2, 4, 8]


def test_address_scope_slows_password_spraying_and_a_success_does_not_reset_it(
    engine, user_id, monkeypatch
):
    monkeypatch.setenv("DPA_THROTTLE_ADDRESS_FREE", "4")
    now = utcnow()
    for i, name in enumerate(["anna", "bolat", "dana", "erlan"]):
        _login(engine, WRONG, now=now + timedelta(minutes=i), username=name)
    # The sprayer logs in to an account of its own: the address counter stays.
    assert _login(engine, PASSWORD, now=now + timedelta(minutes=10)).ok
    outcome = _login(engine, WRONG, now=now + timedelta(minutes=11), username="farida")
    assert outcome.retry_after == 4, "fifth failure from the address: 4 s"
    assert not _login(engine, PASSWORD, now=now + timedelta(minutes=11, seconds=1)).ok
    assert _login(engine, PASSWORD, OWNER, now=now + timedelta(minutes=11, seconds=1)).ok


def test_account_ceiling_spares_addresses_the_owner_used_before(engine, user_id, monkeypatch):
    monkeypatch.setenv("DPA_THROTTLE_ACCOUNT_FREE", "10")
    now = utcnow()
    assert _login(engine, PASSWORD, OWNER, now=now).ok  # the owner's usual address
    # A botnet: ten addresses, one failure each (no pair or address back-off applies).
    for i in range(10):
        _login(engine, WRONG, f"192.0.2.{i}", now=now + timedelta(seconds=i))
    t = now + timedelta(seconds=10)  # the tenth failure (at +9 s) imposed 2 s
    fresh = _login(engine, PASSWORD, "192.0.2.200", now=t)
    assert not fresh.ok and fresh.retry_after > 0, "a new address waits once the ceiling is hit"
    assert _login(engine, PASSWORD, OWNER, now=t).ok, "the owner's known address does not"


def test_failures_decay_after_a_quiet_day(engine, user_id):
    now = utcnow()
    for i in range(4):
        _login(engine, WRONG, now=now + timedelta(minutes=i))
    assert _login(engine, WRONG, now=now + timedelta(days=2)).retry_after == 0


def test_counters_name_no_address_and_no_username(engine, user_id):
    _login(engine, WRONG, ATTACKER, username="someone-typed-this")
    with Session(engine) as s:
        rows = s.scalars(select(LoginThrottle)).all()
    stored = " ".join(f"{r.key_hash} {r.scope}" for r in rows)
    assert rows and ATTACKER not in stored and "someone-typed-this" not in stored
    assert {r.scope for r in rows} == {"pair", "address", "account"}


def test_admin_clears_the_limits_of_an_account(engine, user_id):
    now = utcnow()
    for i in range(5):
        _login(engine, WRONG, now=now + timedelta(minutes=i))
    with Session(engine) as s:
        assert throttle.throttled_user_ids(s, now + timedelta(minutes=4)) == {user_id}
        accounts.unlock(s, Actor.system(), user_id)
        s.commit()
        assert throttle.throttled_user_ids(s, now + timedelta(minutes=4)) == set()
    assert _login(engine, PASSWORD, now=now + timedelta(minutes=4, seconds=1)).ok
    assert "account.unlocked" in _actions(engine)


def test_wrong_current_passwords_count_like_login_failures(engine, user_id):
    """Change-password failures (issue 15, hole 4) feed the same counters and are audited."""
    for _ in range(3):
        with Session(engine) as s, pytest.raises(ServiceError, match="password.current_wrong"):
            accounts.change_own_password(
                s,
                Actor.user(user_id, ATTACKER),
                user_id,
                WRONG,
                "Brand-New-Steppe-Pass-9",
                client_ip=ATTACKER,
            )
    assert _actions(engine).count("auth.reauthentication_failed") == 3, "survive the refusal"
    with Session(engine) as s, pytest.raises(ServiceError) as refused:
        accounts.change_own_password(
            s,
            Actor.user(user_id, ATTACKER),
            user_id,
            PASSWORD,
            "Brand-New-Steppe-Pass-9",
            client_ip=ATTACKER,
        )
    assert refused.value.key == "auth.throttled" and refused.value.params["seconds"] > 0
    # The login form from that address waits too; from another address nothing changed.
    assert not _login(engine, PASSWORD, ATTACKER).ok
    assert _login(engine, PASSWORD, OWNER).ok
