"""Two-factor login (issue 15, RFC 6238): enrolment, login with a code, replay refused, recovery
codes once, throttling of wrong codes, required roles, admin reset, encrypted secrets."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import AuditEvent, LoginSession, RecoveryCode, TwoFactor
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, auth, two_factor
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.errors import ServiceError

PASSWORD = "Correct-Horse-Battery-9"
IP = "198.51.100.7"


def _create(engine, username: str, role: str) -> int:
    with Session(engine) as s:
        user = accounts.create_account(
            s,
            Actor.system(),
            username=username,
            full_name="",
            role=role,
            password=PASSWORD,
            must_change_password=False,
        )
        s.commit()
        return user.id


def _enrol(engine, user_id: int, username: str, now) -> tuple[str, list[str]]:
    with Session(engine) as s:
        enrolment = two_factor.begin_enrolment(s, user_id, username, now)
        s.commit()
    secret = enrolment.secret.replace(" ", "")
    with Session(engine) as s:
        codes = two_factor.confirm_enrolment(
            s, Actor.user(user_id), user_id, two_factor.code_at(secret, now), now
        )
        s.commit()
    return secret, codes


def _actions(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _password(engine, username, now, ip=IP):
    with Session(engine) as s:
        outcome = auth.authenticate(s, username, PASSWORD, client_ip=ip, now=now)
        s.commit()
        return outcome


def _code(engine, user_id, code, now, ip=IP):
    with Session(engine) as s:
        outcome = auth.verify_second_factor(s, user_id, code, client_ip=ip, now=now)
        s.commit()
        return outcome


def test_enrolment_shows_a_qr_code_and_the_secret_and_stores_it_encrypted(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    with Session(engine) as s:
        enrolment = two_factor.begin_enrolment(s, user_id, "dana", now)
        s.commit()
        stored = s.scalars(select(TwoFactor)).one()
    secret = enrolment.secret.replace(" ", "")
    assert len(secret) == 32 and enrolment.uri.startswith("otpauth://totp/DPA%20Panel:dana?")
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert secret not in stored.secret_enc and stored.confirmed_at is None
    assert two_factor.decrypt_secret(stored.secret_enc) == secret
    with Session(engine) as s:
        assert not two_factor.is_enrolled(s, user_id), "not before the first code"


def test_confirmation_needs_a_valid_first_code_and_gives_ten_single_use_codes(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    with Session(engine) as s:
        enrolment = two_factor.begin_enrolment(s, user_id, "dana", now)
        s.commit()
    with Session(engine) as s, pytest.raises(ServiceError, match="two_factor.code_wrong"):
        two_factor.confirm_enrolment(s, Actor.user(user_id), user_id, "000000", now)
    secret = enrolment.secret.replace(" ", "")
    with Session(engine) as s:
        codes = two_factor.confirm_enrolment(
            s, Actor.user(user_id), user_id, pyotp.TOTP(secret).at(now), now
        )
        s.commit()
        stored = s.scalars(select(RecoveryCode.code_hash)).all()
        assert two_factor.is_enrolled(s, user_id)
    assert len(codes) == len(set(codes)) == 10
    assert not set(codes) & set(stored), "only digests are stored"
    assert "account.two_factor_enrolled" in _actions(engine)
    with Session(engine) as s, pytest.raises(ServiceError, match="already_enrolled"):
        two_factor.begin_enrolment(s, user_id, "dana", now)


def test_login_asks_for_the_code_after_the_password(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    secret, _codes = _enrol(engine, user_id, "dana", now - timedelta(minutes=5))
    first = _password(engine, "dana", now)
    assert first.ok and first.next_step == "code" and not first.ticket, "no ticket yet"
    assert not _code(engine, user_id, "123456", now).ok
    done = _code(engine, user_id, two_factor.code_at(secret, now), now)
    assert done.ok and done.ticket
    actions = _actions(engine)
    assert actions.index("auth.password_verified") < actions.index("auth.login_succeeded")


def test_the_same_code_is_refused_a_second_time(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    secret, _ = _enrol(engine, user_id, "dana", now - timedelta(minutes=5))
    code = two_factor.code_at(secret, now)
    assert _code(engine, user_id, code, now).ok
    replay = _code(engine, user_id, code, now + timedelta(seconds=5))
    assert not replay.ok, "a code seen once (shoulder surfing, a proxy log) is spent"
    with Session(engine) as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.second_factor_failed")
        ).one()
    assert '"replay"' in event.details
    # An older step is refused too once a later one was used; the next step is accepted.
    assert not _code(
        engine, user_id, two_factor.code_at(secret, now - timedelta(seconds=30)), now
    ).ok
    later = now + timedelta(seconds=30)
    assert _code(engine, user_id, two_factor.code_at(secret, later), later).ok


def test_a_recovery_code_works_once(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    _secret, codes = _enrol(engine, user_id, "dana", now)
    assert _code(engine, user_id, codes[3].upper().replace("-", " "), now).ok, "forgiving format"
    assert not _code(engine, user_id, codes[3], now).ok, "spent"
    assert _code(engine, user_id, codes[4], now).ok
    with Session(engine) as s:
        assert two_factor.recovery_codes_left(s, user_id) == 8


def test_wrong_codes_are_throttled_like_passwords(engine):
    user_id = _create(engine, "dana", "staff")
    now = utcnow()
    secret, _ = _enrol(engine, user_id, "dana", now - timedelta(minutes=5))
    waits = [
        _code(engine, user_id, "000000", now + timedelta(minutes=i)).retry_after for i in range(4)
    ]
    assert waits == [0, 0, 2, 4]
    t = now + timedelta(minutes=3, seconds=1)
    blocked = _code(engine, user_id, two_factor.code_at(secret, t), t)
    assert not blocked.ok and blocked.retry_after > 0, "even the right code waits"
    # From another address the owner is not affected.
    assert _code(engine, user_id, two_factor.code_at(secret, t), t, ip="192.0.2.10").ok


def test_admin_and_compliance_must_enrol_right_after_the_password(engine):
    for username, role in [("boss", "admin"), ("gulnar", "compliance")]:
        user_id = _create(engine, username, role)
        now = utcnow()
        outcome = _password(engine, username, now)
        assert outcome.ok and outcome.next_step == "enrol" and not outcome.ticket
        with Session(engine) as s:
            # No session and no ticket before enrolment: nothing else is reachable.
            assert auth.grant_after_enrolment(s, user_id, now=now).ok is False
            enrolment = two_factor.begin_enrolment(s, user_id, username, now)
            s.commit()
        secret = enrolment.secret.replace(" ", "")
        with Session(engine) as s:
            wrong, codes = auth.confirm_enrolment_at_login(s, user_id, "000000", now=now)
            s.commit()
        assert not wrong.ok and codes == []
        with Session(engine) as s:
            confirmed, codes = auth.confirm_enrolment_at_login(
                s, user_id, two_factor.code_at(secret, now), now=now
            )
            granted = auth.grant_after_enrolment(s, user_id, now=now)
            s.commit()
        assert confirmed.ok and len(codes) == 10 and granted.ok and granted.ticket
    with Session(engine) as s:
        assert verify_chain(s).ok


def test_staff_and_board_log_in_without_a_second_factor_unless_they_enrol(engine):
    for username, role in [("aigerim", "staff"), ("bauyrzhan", "board")]:
        _create(engine, username, role)
        outcome = _password(engine, username, utcnow())
        assert outcome.ok and outcome.ticket and not outcome.next_step


def test_staff_may_turn_it_off_with_a_code_but_compliance_may_not(engine):
    staff = _create(engine, "dana", "staff")
    officer = _create(engine, "gulnar", "compliance")
    now = utcnow() - timedelta(minutes=2)
    _secret, staff_codes = _enrol(engine, staff, "dana", now)
    _secret, officer_codes = _enrol(engine, officer, "gulnar", now)
    with Session(engine) as s, pytest.raises(ServiceError, match="required_for_role"):
        accounts.disable_own_two_factor(s, Actor.user(officer), officer, officer_codes[0])
    with Session(engine) as s, pytest.raises(ServiceError, match="code_wrong"):
        accounts.disable_own_two_factor(s, Actor.user(staff), staff, "000000")
    assert "auth.reauthentication_failed" in _actions(engine), "counted and kept"
    with Session(engine) as s:
        accounts.disable_own_two_factor(s, Actor.user(staff), staff, staff_codes[0])
        s.commit()
        assert not two_factor.is_enrolled(s, staff)
    assert "account.two_factor_disabled" in _actions(engine)


def test_admin_reset_removes_the_factor_ends_sessions_and_is_audited(engine):
    admin = _create(engine, "boss", "admin")
    officer = _create(engine, "gulnar", "compliance")
    now = utcnow()
    secret, _ = _enrol(engine, officer, "gulnar", now - timedelta(minutes=2))
    with Session(engine) as s:
        ticket = auth.verify_second_factor(
            s, officer, two_factor.code_at(secret, now), now=now
        ).ticket
        token, _user = auth.start_session(s, ticket, now=now)
        s.commit()
    with Session(engine) as s:
        accounts.reset_two_factor(s, Actor.user(admin), officer)
        s.commit()
        assert not two_factor.is_enrolled(s, officer)
        assert s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == officer)).all() == []
        assert auth.resolve_session(s, token) is None
        assert s.scalars(select(LoginSession.revoked_at)).all()[0] is not None
        with pytest.raises(ServiceError, match="not_enrolled"):
            accounts.reset_two_factor(s, Actor.user(admin), officer)
    assert "account.two_factor_reset" in _actions(engine)
    assert _password(engine, "gulnar", now).next_step == "enrol", "set up again at next login"


def test_secrets_under_another_key_are_unreadable(engine, monkeypatch):
    monkeypatch.setenv("DPA_SECRET_KEY", "first-key-" + "x" * 30)
    user_id = _create(engine, "dana", "staff")
    now = utcnow() - timedelta(minutes=2)
    secret, codes = _enrol(engine, user_id, "dana", now)
    monkeypatch.setenv("DPA_SECRET_KEY", "second-key-" + "y" * 30)
    later = utcnow()
    assert not _code(engine, user_id, two_factor.code_at(secret, later), later).ok
    assert _code(engine, user_id, codes[0], later).ok, "recovery codes still work"
