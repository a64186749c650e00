"""Account administration rules, each change audited, the last admin protected."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import AuditEvent, StaffUser
from dpa_panel.services import accounts, auth
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError

PW = "Long-Enough-Password-1"


@pytest.fixture
def admin_id(engine):
    with Session(engine) as s:
        user = accounts.create_account(
            s, Actor.system(), username="admin1", full_name="A", role="admin", password=PW
        )
        s.commit()
        return user.id


def _create(s, username="staff1", role="staff", password=PW):
    return accounts.create_account(
        s, Actor.system(), username=username, full_name="S", role=role, password=password
    )


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"username": "ab"}, "accounts.username_invalid"),
        ({"username": "Жанна"}, "accounts.username_invalid"),
        ({"role": "root"}, "accounts.role_invalid"),
        ({"password": "short"}, "password.too_short"),
        ({"username": "admin1"}, "accounts.username_taken"),
    ],
)
def test_create_validation_changes_nothing(engine, admin_id, kwargs, key):
    with Session(engine) as s:
        before = s.scalar(select(StaffUser.id).order_by(StaffUser.id.desc()))
        with pytest.raises(ServiceError) as err:
            _create(s, **kwargs)
        s.rollback()
        assert err.value.key == key
        assert s.scalar(select(StaffUser.id).order_by(StaffUser.id.desc())) == before


def test_new_account_must_change_password_and_is_audited(engine, admin_id):
    with Session(engine) as s:
        user = _create(s, username="New.User")
        s.commit()
        assert user.username == "new.user" and user.must_change_password
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.created")).all()[
            -1
        ]
        assert event.entity_id == str(user.id) and PW not in event.details


def test_last_admin_cannot_be_demoted_or_deactivated(engine, admin_id):
    with Session(engine) as s:
        with pytest.raises(ServiceError, match="accounts.last_admin"):
            accounts.change_role(s, Actor.system(), admin_id, "staff")
        s.rollback()
        with pytest.raises(ServiceError, match="accounts.last_admin"):
            accounts.set_active(s, Actor.system(), admin_id, False)
        s.rollback()
        second = _create(s, username="admin2", role="admin")
        s.commit()
        accounts.set_active(s, Actor.system(), admin_id, False)
        s.commit()
        with pytest.raises(ServiceError, match="accounts.last_admin"):
            accounts.change_role(s, Actor.system(), second.id, "board")


def test_role_change_and_reset_end_sessions(engine, admin_id):
    with Session(engine) as s:
        user = _create(s)
        s.commit()
        ticket = auth.issue_ticket(s, user.id, "login")
        token, _ = auth.start_session(s, ticket)
        s.commit()
        accounts.change_role(s, Actor.user(admin_id), user.id, "board")
        s.commit()
        assert auth.resolve_session(s, token) is None
        ticket = auth.issue_ticket(s, user.id, "login")
        token, _ = auth.start_session(s, ticket)
        temporary = accounts.reset_password(s, Actor.user(admin_id), user.id)
        s.commit()
        assert auth.resolve_session(s, token) is None
        assert not auth.password_problems("", temporary)
        refreshed = s.get(StaffUser, user.id)
        assert refreshed.must_change_password and refreshed.role == "board"


def test_change_own_password(engine, admin_id):
    with Session(engine) as s:
        user = _create(s)
        s.commit()
        with pytest.raises(ServiceError, match="password.current_wrong"):
            accounts.change_own_password(
                s, Actor.user(user.id), user.id, "wrong-wrong-wrong", "Another-Good-Pass-2"
            )
        s.rollback()
        with pytest.raises(ServiceError, match="password.same_as_current"):
            accounts.change_own_password(s, Actor.user(user.id), user.id, PW, PW)
        s.rollback()
        accounts.change_own_password(s, Actor.user(user.id), user.id, PW, "Another-Good-Pass-2")
        s.commit()
        assert not s.get(StaffUser, user.id).must_change_password
        outcome = auth.authenticate(s, "staff1", "Another-Good-Pass-2")
        assert outcome.ok
