"""Login (password, then a second factor or its enrolment), logout and "who am I" for the
header. Passwords and codes never enter state vars; which account passed the password step is
kept only in backend-only vars of this tab (``_pending_*``), for at most five minutes."""

from __future__ import annotations

import json
import time

import reflex as rx

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models.types import utcnow
from dpa_panel.services import auth, two_factor
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import AUTHENTICATED, PUBLIC, home_for
from dpa_panel.state.app_state import AppState
from dpa_panel.state.guard import (
    BROWSER_COOKIE,
    client_ip,
    current_identity,
    handshake_cookie,
    hard_navigate,
    requires,
    session_token,
)
from dpa_panel.state.tab_binding import BINDING_VARS


def post_login_ticket(ticket: str):
    """The client-side step after a login ticket is issued: submit it in a same-origin POST.

    A hidden form (built here, not in a component: it exists only for this one submission)
    posts the ticket to ``/api/auth/complete``; the browser adds its ``Origin`` and its
    ``dpa_browser`` cookie, which the endpoint checks (``dpa_panel.api``). The ticket never
    appears in a URL, so no history entry or proxy log holds it.
    """
    return rx.call_script(
        "(() => { const f = document.createElement('form'); f.method = 'POST';"
        " f.action = '/api/auth/complete'; f.style.display = 'none';"
        " const i = document.createElement('input'); i.type = 'hidden'; i.name = 't';"
        f" i.value = {json.dumps(ticket)}; f.appendChild(i); document.body.appendChild(f);"
        " f.submit(); })()"
    )

#: How long a login whose password was verified waits for its second factor or set-up.
PENDING_SECONDS = 300


class AuthState(AppState):
    """The logged-in account's own name and role (its own data, not a data subject's)."""

    me_username: str = ""
    me_full_name: str = ""
    me_role: str = ""
    login_error: str = ""
    #: "password", then "code" (second factor), or "enrol" + "codes" (required set-up).
    login_step: str = "password"
    #: The new secret of a required enrolment, as text and QR code: shown to this tab only.
    enrol_secret: str = ""
    enrol_qr: str = ""
    #: Recovery codes of a just-confirmed enrolment, shown once.
    recovery_codes: list[str] = []
    _pending_user_id: int = 0
    _pending_username: str = ""
    _pending_until: float = 0.0

    def _clear_on_denial(self):
        self.me_username = self.me_full_name = self.me_role = ""

    @rx.var
    def throttle_note(self) -> str:
        """The throttling rule with the configured figures (settings, not hard-coded text)."""
        return tr(
            self.locale,
            "auth.throttle_note",
            attempts=settings.throttle_pair_free(),
            minutes=max(1, settings.throttle_max_seconds() // 60),
        )

    @rx.var
    def logged_in(self) -> bool:
        return bool(self.me_role)

    @requires(AUTHENTICATED, during_password_change=True)
    def load_identity(self):
        """on_load of every protected page: fill the header, enforce a pending password change."""
        ident = current_identity()
        self.me_username, self.me_full_name, self.me_role = (
            ident.username,
            ident.full_name,
            ident.role,
        )
        if ident.must_change_password and self.router.page.path != "/account/password":
            return rx.redirect("/account/password")
        return None

    @requires(PUBLIC)
    def open_login_page(self):
        """An already logged-in visitor of /login goes to their home page."""
        if self.login_step != "password" and self._pending_until < time.time():
            self._reset_login()
        token = session_token(self)
        if not token:
            return None
        with session_scope() as session:
            ident = auth.resolve_session(session, token)
        return rx.redirect(home_for(ident.role)) if ident else None

    def _reset_login(self) -> None:
        self.login_step = "password"
        self.enrol_secret = self.enrol_qr = ""
        self.recovery_codes = []
        self._pending_user_id, self._pending_username, self._pending_until = 0, "", 0.0

    def _hand_over(self, ticket: str):
        """Every factor is verified: bind the login ticket to this browser's ``dpa_browser``
        cookie and hand over to ``POST /api/auth/complete``, which sets the session cookie."""
        self._reset_login()
        browser = handshake_cookie(self, BROWSER_COOKIE)
        with session_scope() as session:
            bound = auth.bind_login_ticket(session, ticket, browser)
        if not bound:
            # No dpa_browser cookie on this tab's connection (the page was not loaded from the
            # panel's server): the ticket could be completed by no one, so say how to recover.
            self.login_error = tr(self.locale, "auth.reload_to_login")
            return None
        return post_login_ticket(ticket)

    def _refusal(self, outcome: auth.LoginOutcome, key: str) -> None:
        self.login_error = (
            tr(self.locale, "auth.throttled", seconds=outcome.retry_after)
            if outcome.retry_after
            else tr(self.locale, key)
        )

    def _pending(self, *steps: str) -> int:
        """The account that passed the password step in this tab, if still in time (else 0)."""
        if self.login_step not in steps or not self._pending_user_id:
            return 0
        if self._pending_until < time.time():
            self._reset_login()
            self.login_error = tr(self.locale, "auth.pending_expired")
            return 0
        return self._pending_user_id

    @requires(PUBLIC)
    def login(self, form_data: dict):
        """Check the credentials; then the second factor, its set-up, or straight to the cookie."""
        username = str(form_data.get("username", ""))[:64]
        password = str(form_data.get("password", ""))[:256]
        self.login_error = ""
        self._reset_login()
        if not username.strip() or not password:
            self.login_error = tr(self.locale, "auth.fill_both")
            return None
        with session_scope() as session:
            outcome = auth.authenticate(session, username, password, client_ip=client_ip(self))
            if outcome.ok and outcome.next_step == "enrol":
                enrolment = two_factor.begin_enrolment(
                    session, outcome.user_id, username.strip().lower(), utcnow()
                )
        if not outcome.ok:
            self._refusal(outcome, "auth.failed")
            return None
        if not outcome.next_step:
            return self._hand_over(outcome.ticket)
        self.login_step = outcome.next_step
        self._pending_user_id = outcome.user_id
        self._pending_username = username.strip().lower()
        self._pending_until = time.time() + PENDING_SECONDS
        if outcome.next_step == "enrol":
            self.enrol_secret, self.enrol_qr = enrolment.secret, enrolment.qr_data_uri
        return None

    @requires(PUBLIC)
    def submit_code(self, form_data: dict):
        """The second factor of the pending login: a TOTP code, or a recovery code once."""
        self.login_error = ""
        user_id = self._pending("code")
        if not user_id:
            return None
        with session_scope() as session:
            outcome = auth.verify_second_factor(
                session, user_id, str(form_data.get("code", ""))[:40], client_ip=client_ip(self)
            )
        if not outcome.ok:
            self._refusal(outcome, "auth.code_failed")
            return None
        return self._hand_over(outcome.ticket)

    @requires(PUBLIC)
    def confirm_enrolment(self, form_data: dict):
        """A required second factor, set up right after the password: its first code."""
        self.login_error = ""
        user_id = self._pending("enrol")
        if not user_id:
            return None
        with session_scope() as session:
            outcome, codes = auth.confirm_enrolment_at_login(
                session, user_id, str(form_data.get("code", ""))[:40], client_ip=client_ip(self)
            )
        if not outcome.ok:
            self._refusal(outcome, "two_factor.code_wrong")
            return None
        self.login_step = "codes"
        self.enrol_secret = self.enrol_qr = ""
        self.recovery_codes = codes
        self._pending_until = time.time() + PENDING_SECONDS
        return None

    @requires(PUBLIC)
    def finish_enrolment(self):
        """The recovery codes were seen: complete the login."""
        self.login_error = ""
        user_id = self._pending("codes")
        if not user_id:
            return None
        with session_scope() as session:
            outcome = auth.grant_after_enrolment(session, user_id, client_ip=client_ip(self))
        if not outcome.ok:
            self._reset_login()
            self.login_error = tr(self.locale, "auth.failed")
            return None
        return self._hand_over(outcome.ticket)

    @requires(PUBLIC)
    def cancel_login(self):
        """Back to the password step (forgets the pending login of this tab)."""
        self.login_error = ""
        self._reset_login()

    @requires(PUBLIC)
    def logout(self):
        """Revoke this session, forget everything this tab's state held, clear the cookie."""
        token = session_token(self)
        if token:
            with session_scope() as session:
                auth.end_session(session, token, client_ip=client_ip(self))
        self._forget_everything()
        return hard_navigate("/api/auth/logout")

    @requires(AUTHENTICATED, during_password_change=True)
    def logout_everywhere(self):
        ident = current_identity()
        with session_scope() as session:
            auth.end_all_sessions(
                session, ident.user_id, Actor.user(ident.user_id, client_ip(self))
            )
        self._forget_everything()
        return hard_navigate("/api/auth/logout")

    def _forget_everything(self):
        """Reset the whole state tree of this tab (all pages' data), keeping only the language.

        The tab's binding to its session is kept: with Redis only the loaded part of the tree
        is reset here, and the binding is what makes ``tab_binding`` wipe the rest on the
        tab's next event (its session is revoked by then).
        """
        root = self
        while root.parent_state is not None:
            root = root.parent_state
        locale = self.locale
        binding = {name: getattr(self, name) for name in BINDING_VARS}
        root.reset()
        self.locale = locale
        for name, value in binding.items():
            setattr(self, name, value)
