"""``/disclosures`` and ``/disclosures/[disclosure_id]``: the authority-disclosure register
(policy clauses 5.1 and 5.2). The rules — minimisation, four eyes, written consent for third
parties, legal holds, package digests — live in ``services.disclosures``; these states only
carry the officer's choices to it and show the result."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date, format_datetime
from dpa_panel.services import audit, auth, disclosures
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.state import confirming
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)
from dpa_panel.state.paging import PAGE_SIZE, form_filters, page_count, page_summary, turn_page

MANAGE = "disclosures.manage"
APPROVE = "disclosures.approve"
FILTER_KEYS = ("date_from", "date_to", "body", "status", "kind")
LOG_EXPORTS = {
    "csv": "disclosure_log_csv",
    "xlsx": "disclosure_log_xlsx",
    "pdf": "disclosure_log_pdf",
}
MAX_PICKED = 200


def _download(session, kind: str, params: dict) -> str:
    """A single-use ticket for ``/api/download`` (the caller has audited the export)."""
    ident = current_identity()
    return auth.download_ticket(session, ident, {"kind": kind, **params})


class DisclosuresState(AuthState):
    """The register list, its filters and log exports, and the form for a new request."""
    #: Phones: the filter form folds behind a "Filters" button (issue 18).
    filters_open: bool = False

    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    filters: dict[str, str] = {}
    # The new-request form: subjects found by the search and the ones picked so far.
    found: list[dict[str, str]] = []
    picked: list[dict[str, str]] = []
    form_errors: dict[str, str] = {}
    form_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.rows, self.total, self.found, self.picked = [], 0, [], []

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page)

    def _filter(self):
        f = self.filters
        return disclosures.disclosure_filter_from_strings(**{k: f.get(k, "") for k in FILTER_KEYS})

    def _refresh(self) -> None:
        loc = self.locale
        with session_scope() as session:
            rows, self.total = disclosures.list_disclosures(
                session, actor_for(self), self._filter(), page=self.page, page_size=PAGE_SIZE
            )
        self.rows = [
            {
                "id": str(r.id),
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "body": r.body_name,
                "number": r.request_number,
                "request_date": format_date(r.request_date, loc, "medium"),
                "due": format_date(r.answer_due_on, loc, "medium"),
                "subjects": str(r.subjects),
                "created_by": r.created_by,
                "disclosed": format_datetime(r.disclosed_at, loc, "short"),
            }
            for r in rows
        ]

    @requires(MANAGE)
    def load(self):
        self.page, self.notice, self.form_error, self.form_errors = 1, "", "", {}
        self.found = []
        try:
            self._refresh()
        except ServiceError as err:
            self.rows, self.total = [], 0
            self.form_error = tr(self.locale, err.key)

    @requires(MANAGE)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

    @requires(MANAGE)
    def apply_filters(self, form_data: dict):
        self.filters = form_filters(form_data, FILTER_KEYS, limit=200)
        self.page = 1
        self.notice = self.form_error = ""
        try:
            self._refresh()
        except ServiceError as err:
            self.rows, self.total = [], 0
            self.form_error = tr(self.locale, err.key)

    @requires(MANAGE)
    def next_page(self):
        turn_page(self, +1, self._refresh)

    @requires(MANAGE)
    def previous_page(self):
        turn_page(self, -1, self._refresh)

    @requires(MANAGE)
    def export_log(self, fmt: str):
        """Stream the filtered log (audited here, with the filter but no personal value)."""
        kind = LOG_EXPORTS.get(str(fmt))
        if kind is None:
            return None
        try:
            self._filter()  # refuse a bad date before issuing anything
        except ServiceError as err:
            self.form_error = tr(self.locale, err.key)
            return None
        # The ticket's own "kind" names the export, so the type filter travels as
        # "disclosure_kind" (what exports.py reads).
        params = {k: self.filters.get(k, "") for k in FILTER_KEYS if k != "kind"}
        params["disclosure_kind"] = self.filters.get("kind", "")
        with session_scope() as session:
            audit.record(
                session, actor_for(self), "disclosure.log_exported", "disclosure", "",
                {"format": fmt, "filters": sorted(self.filters)},
            )  # fmt: skip
            ticket = _download(session, kind, {**params, "language": self.locale})
        return start_download(f"/api/download/{ticket}")

    @requires(MANAGE)
    def search_subjects(self, form_data: dict):
        query = str(form_data.get("query", "") or "").strip()[:100]
        self.form_error = ""
        if len(query) < 2:
            self.found = []
            self.form_error = tr(self.locale, "disclosure.search_too_short")
            return
        picked = {p["id"] for p in self.picked}
        with session_scope() as session:
            hits = disclosures.search_subjects(session, actor_for(self), query, limit=20)
        self.found = [
            {"id": str(h["id"]), "name": str(h["name"]), "reference": str(h.get("reference", ""))}
            for h in hits
            if str(h["id"]) not in picked
        ]
        if not hits:
            self.form_error = tr(self.locale, "disclosure.search_none")

    @requires(MANAGE)
    def pick_subject(self, subject_id: str):
        hit = next((h for h in self.found if h["id"] == str(subject_id)), None)
        if hit is None or len(self.picked) >= MAX_PICKED:
            return
        self.picked = [*self.picked, hit]
        self.found = [h for h in self.found if h["id"] != hit["id"]]

    @requires(MANAGE)
    def unpick_subject(self, subject_id: str):
        self.picked = [p for p in self.picked if p["id"] != str(subject_id)]

    @requires(MANAGE)
    def create(self, form_data: dict):
        """Record an official request (or a third-party transfer): one transaction."""
        self.form_error, self.form_errors, self.notice = "", {}, ""

        def text(name: str, limit: int = 300) -> str:
            return str(form_data.get(name, "") or "")[:limit]

        form = disclosures.DisclosureForm(
            kind=text("kind", 20),
            body_type=text("body_type", 30),
            body_name=text("body_name"),
            body_department=text("body_department"),
            request_number=text("request_number", 100),
            request_date=text("request_date", 20),
            received_via=text("received_via", 20),
            legal_basis=text("legal_basis", 4000),
            legal_article=text("legal_article", 200),
            answer_due_on=text("answer_due_on", 20),
            recipient=text("recipient"),
            requested_categories=[
                code for code in disclosures.CATEGORIES if form_data.get(f"ask_{code}")
            ],
            subject_ids=[int(p["id"]) for p in self.picked if p["id"].isdigit()],
        )
        try:
            with session_scope() as session:
                created = disclosures.create_disclosure(session, actor_for(self), form)
                created_id = created.id
        except ValidationFailed as err:
            self.form_errors = {k: tr(self.locale, v) for k, v in err.errors.items()}
            self.form_error = tr(self.locale, err.key)
            return None
        except ServiceError as err:
            self.form_error = tr(self.locale, err.key, **err.params)
            return None
        self.picked, self.found = [], []
        return rx.redirect(f"/disclosures/{created_id}")


class DisclosureDetailState(AuthState):
    """One request: facts, the minimisation matrix, four-eyes decision, disclosure."""

    facts: dict[str, str] = {}
    subjects: list[dict[str, str]] = []
    #: "subject_id:field" for every picked cell (what the checkboxes start from)
    selected: list[str] = []
    justifications: dict[str, str] = {}
    #: the categories the request asked for: only their fields can be picked and justified
    requested: list[str] = []
    comparison: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    can: dict[str, bool] = {}
    #: bumped after every reload so the uncontrolled checkboxes re-read ``selected``
    version: int = 0
    not_found: bool = False
    errors: dict[str, str] = {}
    action_error: str = ""
    notice: str = ""
    #: The question before approval, naming the disclosure (``state/confirming``).
    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    confirm_token: str = ""
    _pending: str = ""

    def _clear_on_denial(self):
        confirming.forget(self)
        self.facts, self.subjects, self.selected, self.justifications = {}, [], [], {}
        self.requested = []
        self.comparison, self.history, self.can = [], [], {}

    def _disclosure_id(self) -> int:
        raw = str(self.router.page.params.get("disclosure_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            v = disclosures.get_disclosure(session, actor_for(self), self._disclosure_id())
        self.facts = {
            "id": str(v.id),
            "reference": v.reference,
            "kind": v.kind,
            "status": v.status,
            "body_name": v.body_name,
            "body_department": v.body_department,
            "body_type": v.body_type,
            "recipient": v.recipient or "",
            "request_number": v.request_number,
            "request_date": format_date(v.request_date, loc, "long"),
            "received_via": v.received_via,
            "legal_basis": v.legal_basis,
            "legal_article": v.legal_article,
            "answer_due_on": format_date(v.answer_due_on, loc, "long"),
            "created_by": v.created_by,
            "decided_by": v.decided_by or "",
            "decision_reason": v.decision_reason or "",
            "disclosed_at": format_datetime(v.disclosed_at, loc, "medium"),
            "disclosed_by": v.disclosed_by or "",
            "sent_via": v.sent_via or "",
            "package_format": v.package_format or "",
            "package_digest": v.package_digest or "",
            "package_rows": str(v.package_rows or ""),
        }
        self.subjects = [{"id": str(sid), "name": name} for sid, name in v.subjects]
        self.selected = [f"{sid}:{f}" for sid, fields in v.selection.items() for f in fields]
        self.justifications = dict(v.justifications)
        self.requested = list(v.requested_categories)
        self.comparison = [
            {
                "category": c.category,
                "requested": "1" if c.requested else "",
                "picked_fields": str(c.picked_fields),
                "subjects_picked": str(c.subjects_picked),
                "justification": c.justification,
                "tone": "red" if c.picked_fields and not c.requested else "gray",
            }
            for c in v.comparison
        ]
        self.history = [
            {
                "status": h.status,
                "at": format_datetime(h.at, loc, "medium"),
                "by": h.by,
                "note": h.note or "",
            }
            for h in v.history
        ]
        self.can = {
            "edit": v.can_edit,
            "submit": v.can_submit,
            "approve": v.can_approve,
            "refuse": v.can_refuse,
            "disclose": v.can_disclose,
            "download": v.status == "disclosed",
        }
        self.version += 1

    @requires(MANAGE)
    def load(self):
        self.action_error = self.notice = ""
        self.errors, self.not_found = {}, False
        confirming.forget(self)
        try:
            self._reload()
        except ServiceError:
            self._clear_on_denial()
            self.not_found = True

    def _act(self, fn, notice_key: str) -> bool:
        disclosure_id = self._disclosure_id()
        return run_action(
            self, lambda s, actor: fn(s, actor, disclosure_id), notice_key, field_errors=True
        )

    @requires(MANAGE)
    def save_selection(self, form_data: dict):
        """The matrix form: checkboxes ``pick:<subject>:<field>``, texts ``just_<category>``."""
        subject_ids = {s["id"] for s in self.subjects}
        picks: dict[int, list[str]] = {}
        for name, value in form_data.items():
            parts = str(name).split(":")
            if len(parts) == 3 and parts[0] == "pick" and value and parts[1] in subject_ids:
                picks.setdefault(int(parts[1]), []).append(parts[2][:60])
        justifications = {
            code: str(form_data.get(f"just_{code}", "") or "")[:2000]
            for code in disclosures.CATEGORIES
            if str(form_data.get(f"just_{code}", "") or "").strip()
        }

        def run(session, actor, disclosure_id):
            disclosures.set_selection(session, actor, disclosure_id, picks, justifications)

        self._act(run, "disclosure.selection_saved")

    @requires(MANAGE)
    def submit_for_review(self):
        self._act(disclosures.submit_for_review, "disclosure.submitted")

    @requires(APPROVE)
    def ask_approve(self):
        """Ask before approving, naming the disclosure, the recipient and how many people."""
        self.action_error = self.notice = ""
        confirming.forget(self)
        try:
            self._reload()
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key)
            return
        if not self.can.get("approve"):
            self.action_error = tr(self.locale, "confirm.stale")
            return
        f = self.facts
        confirming.ask(
            self, f"approve:{f['id']}", tr(self.locale, "confirm.approve.title"),
            tr(self.locale, "confirm.approve.text", reference=f["reference"],
               body=f["body_name"], count=len(self.subjects)),
        )  # fmt: skip

    @requires(APPROVE)
    def cancel_confirm(self):
        confirming.forget(self)

    @requires(APPROVE)
    def approve(self, token: str):
        """Approve the disclosure the question named (and that this page shows)."""
        if not confirming.take(self, token):
            return
        if confirming.parts(token, 2)[1] != str(self._disclosure_id()):
            self.action_error = tr(self.locale, "confirm.stale")
            return
        self._act(disclosures.approve, "disclosure.approved")

    @requires(APPROVE)
    def refuse(self, form_data: dict):
        reason = str(form_data.get("reason", "") or "")[:2000]

        def run(session, actor, disclosure_id):
            disclosures.refuse(session, actor, disclosure_id, reason)

        self._act(run, "disclosure.refused")

    @requires(MANAGE)
    def disclose(self, form_data: dict):
        """Record the disclosure (digest, who, when, how) and hand over the package file."""
        fmt = str(form_data.get("format", "") or "")
        via = str(form_data.get("sent_via", "") or "")

        def run(session, actor, disclosure_id):
            disclosures.disclose(session, actor, disclosure_id, fmt, via)

        if self._act(run, "disclosure.disclosed"):
            return self._package_download()
        return None

    @requires(MANAGE)
    def download_package(self):
        """The package again: rebuilt and checked against the digest recorded at disclosure."""
        return self._package_download()

    def _package_download(self):
        disclosure_id = self._disclosure_id()
        with session_scope() as session:
            audit.record(
                session, actor_for(self), "disclosure.package_downloaded", "disclosure",
                disclosure_id, {"format": self.facts.get("package_format", "")},
            )  # fmt: skip
            ticket = _download(session, "disclosure_package", {"disclosure_id": disclosure_id})
        return start_download(f"/api/download/{ticket}")
