"""The permission table: least privilege per role, failing closed on anything unknown."""

from __future__ import annotations

import pytest

from dpa_panel.models.vocab import ROLES
from dpa_panel.services.permissions import (
    AUTHENTICATED,
    PERMISSIONS,
    PUBLIC,
    ROLE_HOME,
    ROLE_PERMISSIONS,
    has_permission,
    home_for,
)


def test_every_role_has_a_row_and_a_home():
    assert set(ROLE_PERMISSIONS) == set(ROLES) == set(ROLE_HOME)


def test_roles_grant_only_declared_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        assert perms <= set(PERMISSIONS), role


def test_board_sees_statistics_only():
    granted = {p for p in PERMISSIONS if has_permission("board", p)}
    assert granted == {PUBLIC, AUTHENTICATED, "stats.read"}


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("staff", "applications.write", True),
        ("staff", "accounts.manage", False),
        ("staff", "audit.read", False),
        ("compliance", "applications.write", False),  # read-only on the pipeline
        ("compliance", "applications.read", True),
        ("compliance", "disclosures.approve", True),
        ("admin", "accounts.manage", True),
        ("admin", "disclosures.approve", False),
        ("board", "applications.read", False),
        ("board", "members.read", False),
    ],
)
def test_table(role, permission, allowed):
    assert has_permission(role, permission) is allowed


def test_fails_closed():
    assert not has_permission("admin", "accounts.manag")  # typo
    assert not has_permission(None, AUTHENTICATED)
    assert not has_permission("root", "accounts.manage")
    assert has_permission(None, PUBLIC)
    assert home_for(None) == "/login"
