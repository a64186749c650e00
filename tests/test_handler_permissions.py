"""Every event handler the app registers declares its permission (no handler is unguarded)."""

from __future__ import annotations

from dpa_panel.services.permissions import PERMISSIONS, PUBLIC
from tests.state_catalog import REFLEX_SETTERS, SETVAR, app_handlers, app_states, permission_of

#: The few handlers anyone may call. Anything else declared public is a finding.
EXPECTED_PUBLIC = {
    "AppState.choose_locale",
    "AuthState.open_login_page",
    "AuthState.login",
    "AuthState.logout",
    # The steps after the password (issue 15): they act only on the account whose password
    # this tab verified, kept in backend-only vars (``AuthState._pending_*``).
    "AuthState.submit_code",
    "AuthState.confirm_enrolment",
    "AuthState.finish_enrolment",
    "AuthState.cancel_login",
    "PrivacyState.load",
    # Issue 17: the operator's published name, BIN and data-protection e-mail (footer).
    "OrgFooterState.load",
    "ApplyState.load",
    "ApplyState.start_over",
    "ApplyState.submit",
    # The privacy centre /my (issue 20): public at the staff layer; each handler that touches
    # a person's data resolves the subject's own session cookie itself (``MyState._identity``).
    "MyState.load",
    "MyState.send_code",
    "MyState.verify",
    "MyState.other_email",
    "MyState.ask_withdraw",
    "MyState.ask_request",
    "MyState.cancel",
    "MyState.confirm",
    "MyState.send_rectification",
    "MyState.download",
    "MyState.sign_out",
}


def test_every_handler_declares_a_known_permission():
    missing = []
    for cls, name, handler in app_handlers():
        if name == SETVAR:
            continue
        permission = permission_of(handler)
        if permission not in PERMISSIONS:
            missing.append(f"{cls.__name__}.{name}: {permission!r}")
    assert not missing, "handlers without a declared permission:\n" + "\n".join(missing)


def test_public_handlers_are_exactly_the_expected_few():
    public = {
        f"{cls.__name__}.{name}"
        for cls, name, handler in app_handlers()
        if name != SETVAR and permission_of(handler) == PUBLIC
    }
    assert public == EXPECTED_PUBLIC


def test_setvar_reaches_no_unguarded_setter():
    """``setvar(name, value)`` calls ``set_<name>``: every such method must be guarded."""
    unguarded = []
    for cls in app_states():
        for attr in dir(cls):
            if not attr.startswith("set_") or attr in REFLEX_SETTERS:
                continue
            handler = cls.event_handlers.get(attr)
            if handler is None or permission_of(handler) is None:
                unguarded.append(f"{cls.__name__}.{attr}")
    assert not unguarded, unguarded


def test_the_walk_sees_the_app():
    """The checks above must be able to fail: they see the app's real states and handlers."""
    names = {f"{cls.__name__}.{name}" for cls, name, _ in app_handlers()}
    assert {"AdminState.create", "AuditViewState.export_csv", "AuthState.login"} <= names
    assert len(names) > 20
