"""``/my``: the data subject's privacy centre (issue 20).

Its handlers are public at the staff layer (``@requires(PUBLIC)``: no staff session is needed,
and a staff session gives nothing here) and check the subject session themselves: each event
re-reads the ``dpa_subject`` cookie of the websocket handshake (``services.subject_access``),
so a signed-out or idle-expired session, or a tab whose cookie now names another session,
loses everything it showed. What the page shows about the person is loaded per request into
this tab only; the typed address between the two steps stays in a backend-only var.
"""

from __future__ import annotations

import json

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_date
from dpa_panel.i18n.formatting import format_date
from dpa_panel.services import privacy_centre, subject_access
from dpa_panel.services.auth import token_hash
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.state.app_state import AppState
from dpa_panel.state.guard import (
    BROWSER_COOKIE,
    client_ip,
    handshake_cookie,
    hard_navigate,
    requires,
    start_download,
)


def post_subject_ticket(ticket: str):
    """Submit the ticket of a valid code in a same-origin POST (``/api/my/complete``), which
    sets the HttpOnly subject cookie; the ticket never appears in a URL."""
    return rx.call_script(
        "(() => { const f = document.createElement('form'); f.method = 'POST';"
        " f.action = '/api/my/complete'; f.style.display = 'none';"
        " const i = document.createElement('input'); i.type = 'hidden'; i.name = 't';"
        f" i.value = {json.dumps(ticket)}; f.appendChild(i); document.body.appendChild(f);"
        " f.submit(); })()"
    )


class MyState(AppState):
    #: "email" (type an address), "code" (type the code), "in" (signed in).
    step: str = "email"
    error: str = ""
    notice: str = ""
    #: What the signed-in person sees (their own data; this tab only, reloaded per event).
    full_name: str = ""
    hello: str = ""
    categories: list[str] = []
    purposes: list[dict[str, str]] = []
    retention: str = ""
    requests: list[dict[str, str]] = []
    #: A pending irreversible step awaiting confirmation: "withdraw:<purpose>" / "ask:<kind>".
    pending: str = ""
    pending_text: str = ""
    _email: str = ""
    _session_key: str = ""

    def _clear_view(self) -> None:
        self.full_name, self.hello, self.categories, self.purposes = "", "", [], []
        self.retention, self.requests, self.pending, self.pending_text = "", [], "", ""
        self._session_key = ""

    def _clear_on_denial(self):
        self._clear_view()

    def _identity(self) -> subject_access.SubjectIdentity | None:
        """The live subject session of this connection; the view is wiped when there is none
        or when it is not the session that filled it."""
        token = handshake_cookie(self, subject_access.SUBJECT_COOKIE)
        ident = None
        if token:
            with session_scope() as session:
                ident = subject_access.resolve_session(session, token)
        key = token_hash(f"my:{token}") if ident else ""
        if self._session_key and key != self._session_key:
            self._clear_view()
            self.step = "email"
        if ident is None:
            if self.step == "in":
                self.step = "email"
            return None
        self._session_key = key
        return ident

    def _fill(self, ident: subject_access.SubjectIdentity) -> None:
        loc = self.locale
        with session_scope() as session:
            view = privacy_centre.overview(session, ident.subject_id, client_ip=client_ip(self))
        self.step = "in"
        self.full_name = view.full_name
        self.hello = tr(loc, "my.hello", name=view.full_name)
        self.categories = view.categories
        self.purposes = [
            {
                "purpose": p.purpose,
                "state": p.state,
                "policy": tr(loc, "my.policy_edition", label=p.policy_label) if p.policy_label
                else "",
                "given": tr(loc, "my.given_on", date=format_date(p.granted_at, loc))
                if p.granted_at else "",
                "withdrawn": tr(loc, "my.withdrawn_on", date=format_date(p.withdrawn_at, loc))
                if p.withdrawn_at else "",
                "limited": tr(loc, p.limited) if p.limited else "",
            }
            for p in view.purposes
        ]  # fmt: skip
        if view.destruction_due_at:
            self.retention = tr(loc, "my.destruction_due",
                                date=format_date(view.destruction_due_at, loc))  # fmt: skip
        elif view.retention_due_at:
            self.retention = tr(loc, "my.retention", date=format_date(view.retention_due_at, loc))
        else:
            self.retention = tr(loc, "my.retention_none")
        self.requests = [
            {
                "id": str(r.request_id),
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "due": format_entry_date(r.due_date),
                "package": r.package,
                "package_text": tr(loc, "my.package.released",
                                   date=format_date(r.package_until, loc))
                if r.package == "released" else
                (tr(loc, f"my.package.{r.package}") if r.package else ""),
            }
            for r in view.requests
        ]  # fmt: skip

    def _refresh(self) -> subject_access.SubjectIdentity | None:
        ident = self._identity()
        if ident is not None:
            self._fill(ident)
        return ident

    @requires(PUBLIC)
    def load(self):
        self.error = ""
        if self._refresh() is None and self.step == "in":
            self.step = "email"

    @requires(PUBLIC)
    def send_code(self, form_data: dict):
        self.error = self.notice = ""
        email = str(form_data.get("email", ""))[:300]
        with session_scope() as session:
            outcome = subject_access.request_code(session, email, client_ip=client_ip(self),
                                                  language=self.locale)  # fmt: skip
        if outcome.error:
            self.error = tr(self.locale, outcome.error, seconds=outcome.retry_after)
            return
        self._email = email
        self.step = "code"
        self.notice = tr(self.locale, "my.code_sent", minutes=subject_access.CODE_MINUTES)

    @requires(PUBLIC)
    def verify(self, form_data: dict):
        self.error = ""
        if self.step != "code" or not self._email:
            self.step = "email"
            return None
        with session_scope() as session:
            outcome = subject_access.verify_code(
                session, self._email, str(form_data.get("code", ""))[:20],
                client_ip=client_ip(self), browser=handshake_cookie(self, BROWSER_COOKIE),
            )  # fmt: skip
        if outcome.error:
            self.error = tr(self.locale, outcome.error, seconds=outcome.retry_after)
            return None
        self._email, self.notice = "", ""
        return post_subject_ticket(outcome.ticket)

    @requires(PUBLIC)
    def other_email(self):
        self.error = self.notice = ""
        self._email, self.step = "", "email"

    @requires(PUBLIC)
    def ask_withdraw(self, purpose: str):
        if self._identity() is None or purpose not in privacy_centre.consent.CONSENT_PURPOSES:
            return
        self.pending = f"withdraw:{purpose}"
        self.pending_text = tr(self.locale, "my.withdraw_confirm",
                               purpose=tr(self.locale, f"purpose.{purpose}"))  # fmt: skip

    @requires(PUBLIC)
    def ask_request(self, kind: str):
        if self._identity() is None or kind not in ("access", "blocking", "destruction"):
            return
        self.pending = f"ask:{kind}"
        self.pending_text = tr(self.locale, "my.ask_confirm",
                               kind=tr(self.locale, f"my.ask.{kind}"))  # fmt: skip

    @requires(PUBLIC)
    def cancel(self):
        self.pending = self.pending_text = ""

    def _done(self, ident, notice: str) -> None:
        self.notice = notice
        self._fill(ident)

    @requires(PUBLIC)
    def confirm(self):
        """Carry out the confirmed step (withdrawal or request) in one transaction."""
        self.error = self.notice = ""
        action, _, value = self.pending.partition(":")
        self.pending = self.pending_text = ""
        ident = self._identity()
        if ident is None:
            self.error = tr(self.locale, "my.session_ended")
            return
        try:
            with session_scope() as session:
                if action == "withdraw":
                    result = privacy_centre.withdraw(session, ident.subject_id, value,
                                                     client_ip=client_ip(self))  # fmt: skip
                    notice = (
                        tr(self.locale, "my.withdrawn_notice") if result.outcome == "withdrawn"
                        else tr(self.locale, "my.sent_to_officer", reference=result.reference)
                    )  # fmt: skip
                elif action == "ask":
                    request = privacy_centre.submit_request(session, ident.subject_id, value,
                                                            client_ip=client_ip(self))  # fmt: skip
                    notice = tr(self.locale, "my.request_created", reference=request.reference,
                                due=format_entry_date(request.due_date))  # fmt: skip
                else:
                    return
        except ServiceError as err:
            self.error = tr(self.locale, err.key, **err.params)
            self._fill(ident)
            return
        self._done(ident, notice)

    @requires(PUBLIC)
    def send_rectification(self, form_data: dict):
        self.error = self.notice = ""
        ident = self._identity()
        if ident is None:
            self.error = tr(self.locale, "my.session_ended")
            return
        corrections = {
            name: str(form_data.get(f"new_{name}", ""))[:300]
            for name in privacy_centre.RECTIFIABLE_FIELDS
        }
        try:
            with session_scope() as session:
                request = privacy_centre.submit_request(
                    session, ident.subject_id, "rectification", client_ip=client_ip(self),
                    corrections=corrections, note=str(form_data.get("note", ""))[:1000],
                )  # fmt: skip
                notice = tr(self.locale, "my.request_created", reference=request.reference,
                            due=format_entry_date(request.due_date))  # fmt: skip
        except ServiceError as err:
            self.error = tr(self.locale, err.key, **err.params)
            return
        self._done(ident, notice)

    @requires(PUBLIC)
    def download(self, request_id: str):
        if self._identity() is None or not str(request_id).isdigit():
            return None
        return start_download(f"/api/my/package/{int(request_id)}")

    @requires(PUBLIC)
    def sign_out(self):
        self._clear_view()
        self.step = "email"
        return hard_navigate("/api/my/logout")
