"""``/members`` and ``/members/[member_id]``: the member register (clause 3, second purpose)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date, format_datetime
from dpa_panel.models.vocab import MEMBER_STATUSES
from dpa_panel.services import audit, members
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import has_permission
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires
from dpa_panel.state.paging import PAGE_SIZE, form_filters, page_count, page_summary, turn_page

READ, WRITE = "members.read", "members.write"
SORTS = ("number", "since_desc", "surname")


class MembersState(AuthState):
    #: Phones: the filter form folds behind a "Filters" button (issue 18).
    filters_open: bool = False
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    counts: dict[str, int] = {s: 0 for s in MEMBER_STATUSES}
    filters: dict[str, str] = {}

    def _clear_on_denial(self):
        self.rows, self.total = [], 0
        self.counts = {s: 0 for s in MEMBER_STATUSES}

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page)

    def _refresh(self) -> None:
        f = self.filters
        q = members.MemberQuery(
            search=f.get("search", ""),
            status=f.get("status", "") if f.get("status", "") in MEMBER_STATUSES else "",
            sort=f.get("sort", "number") if f.get("sort") in SORTS else "number",
            page=self.page,
            page_size=PAGE_SIZE,
        )
        with session_scope() as session:
            rows, self.total = members.list_members(session, q)
            self.counts = members.member_status_counts(session)
            audit.record(
                session, actor_for(self), "member.list", "member", "",
                {"filters": sorted(self.filters), "page": self.page, "rows": len(rows)},
            )  # fmt: skip
        self.rows = [
            {
                "id": str(r.id),
                "number": r.membership_number,
                "since": format_date(r.since, self.locale, "medium"),
                "status": r.status,
                "name": " ".join(p for p in (r.surname, r.first_name, r.patronymic) if p),
                "email": r.email,
                "workplace": r.workplace,
            }
            for r in rows
        ]

    @requires(READ)
    def load(self):
        self.page = 1
        self._refresh()

    @requires(READ)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

    @requires(READ)
    def apply_filters(self, form_data: dict):
        self.filters = form_filters(form_data, ("search", "status", "sort"))
        self.page = 1
        self._refresh()

    @requires(READ)
    def next_page(self):
        turn_page(self, +1, self._refresh)

    @requires(READ)
    def previous_page(self):
        turn_page(self, -1, self._refresh)


class MemberDetailState(AuthState):
    member: dict[str, str] = {}
    subject: dict[str, str] = {}
    consents: list[dict[str, str]] = []
    allowed: list[str] = []
    not_found: bool = False
    action_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.member, self.subject, self.consents, self.allowed = {}, {}, [], []

    @rx.var
    def can_write(self) -> bool:
        return has_permission(self.me_role, WRITE)

    def _member_id(self) -> int:
        raw = str(self.router.page.params.get("member_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            d = members.read_member(session, actor_for(self), self._member_id())
            m, s = d.member, d.subject
            self.member = {
                "id": str(m.id),
                "number": m.membership_number,
                "since": format_date(m.since, loc, "medium"),
                "status": m.status,
                "ended": format_datetime(m.ended_at, loc, "medium"),
                "application_id": str(d.application.id) if d.application else "",
                "reference": d.application.reference if d.application else "",
            }
            self.subject = {
                "name": " ".join(p for p in (s.surname, s.first_name, s.patronymic) if p),
                "phone": s.phone,
                "email": s.email,
                "workplace": s.workplace,
                "position": s.position,
            }
            self.consents = [
                {
                    "purpose": c.purpose_code,
                    "granted": format_datetime(c.granted_at, loc, "short"),
                    "withdrawn": format_datetime(c.withdrawn_at, loc, "short"),
                }
                for c in d.consents
            ]
            self.allowed = list(members.MEMBER_TRANSITIONS.get(m.status, ()))

    @requires(READ)
    def load(self):
        self.action_error = self.notice = ""
        self.not_found = False
        try:
            self._reload()
        except ServiceError:
            self._clear_on_denial()
            self.not_found = True

    def _act(self, action, notice_key: str, **kwargs) -> None:
        member_id = self._member_id()
        run_action(self, lambda s, actor: action(s, actor, member_id, **kwargs), notice_key)

    @requires(WRITE)
    def change(self, form_data: dict):
        """One form for the three register actions: suspend, reinstate, end."""
        reason = str(form_data.get("reason", ""))[:2000]
        action = str(form_data.get("action", ""))
        if action == "suspended":
            self._act(members.suspend, "members.suspended_notice", reason=reason)
        elif action == "active":
            self._act(members.reinstate, "members.reinstated_notice", reason=reason)
        elif action == "ended":
            self._act(members.end_membership, "members.ended_notice", reason=reason)
        else:
            self.action_error = tr(self.locale, "member.illegal_transition")
