"""The Reflex app: routes only. Pages live in ``dpa_panel.pages``, HTTP endpoints in ``api``."""

from __future__ import annotations

import reflex as rx

from dpa_panel.api import api
from dpa_panel.components.layout import SCROLLABLE_FOCUS_SCRIPT
from dpa_panel.error_reporting import backend_exception_handler
from dpa_panel.i18n import DEFAULT_LOCALE
from dpa_panel.pages.account import account_page, password_page
from dpa_panel.pages.admin_users import admin_users_page
from dpa_panel.pages.application_detail import detail_page
from dpa_panel.pages.apply import apply_page
from dpa_panel.pages.audit import audit_page
from dpa_panel.pages.breaches import breach_detail_page, breaches_page
from dpa_panel.pages.calendar import calendar_page
from dpa_panel.pages.consents import consents_page
from dpa_panel.pages.disclosure_detail import disclosure_detail_page
from dpa_panel.pages.disclosures import disclosures_page
from dpa_panel.pages.home import home_page
from dpa_panel.pages.inventory import inventory_page
from dpa_panel.pages.login import login_page
from dpa_panel.pages.member_import import import_page
from dpa_panel.pages.members import member_detail_page, members_page
from dpa_panel.pages.my import my_page
from dpa_panel.pages.organisation import organisation_page
from dpa_panel.pages.pipeline import pipeline_page
from dpa_panel.pages.policy_versions import policy_versions_page
from dpa_panel.pages.privacy import privacy_page
from dpa_panel.pages.requests import request_detail_page, requests_page
from dpa_panel.pages.retention import retention_page
from dpa_panel.pages.settings import settings_page
from dpa_panel.pages.statistics import preview_page, statistics_page
from dpa_panel.pages.subject import subject_page
from dpa_panel.state.access_package_state import AccessPackageState
from dpa_panel.state.account_state import AccountState
from dpa_panel.state.admin_state import AdminState
from dpa_panel.state.app_state import HTML_LANG_SCRIPT
from dpa_panel.state.application_detail_state import ApplicationDetailState
from dpa_panel.state.apply_state import ApplyState
from dpa_panel.state.audit_state import AuditViewState
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.breaches_state import BreachAlertState, BreachDetailState, BreachesState
from dpa_panel.state.calendar_state import CalendarState
from dpa_panel.state.consent_state import ConsentLedgerState
from dpa_panel.state.disclosures_state import DisclosureDetailState, DisclosuresState
from dpa_panel.state.import_state import ImportState
from dpa_panel.state.inventory_state import InventoryState
from dpa_panel.state.members_state import MemberDetailState, MembersState
from dpa_panel.state.my_state import MyState
from dpa_panel.state.org_state import OrgFooterState, ProfileState
from dpa_panel.state.pipeline_state import PipelineState
from dpa_panel.state.policy_versions_state import PolicyVersionsState
from dpa_panel.state.privacy_state import PrivacyState
from dpa_panel.state.requests_state import RequestDetailState, RequestsState
from dpa_panel.state.retention_state import RetentionState
from dpa_panel.state.settings_state import SettingsState
from dpa_panel.state.statistics_state import StatisticsState, StatsPreviewState
from dpa_panel.state.subject_state import SubjectState
from dpa_panel.state.tab_binding import TabBindingMiddleware

TITLE = "DPA Panel"

app = rx.App(
    # Kazakh is the default language; a stored other choice is set before the first paint
    # (``HTML_LANG_SCRIPT``) and on every switch (``AppState.choose_locale``).
    html_lang=DEFAULT_LOCALE,
    head_components=[rx.el.script(HTML_LANG_SCRIPT), rx.el.script(SCROLLABLE_FOCUS_SCRIPT)],
    api_transformer=api,
    stylesheets=["/styles.css"],
    backend_exception_handler=backend_exception_handler,
)
# Before every event: a tab's state is wiped when the connection is not the session that filled
# it (issue 15, ``state.tab_binding``).
app.add_middleware(TabBindingMiddleware())


def _public(page, route: str, *loaders) -> None:
    # Every page's footer names the operator (issue 17, ``OrgFooterState``).
    app.add_page(page, route=route, title=TITLE, on_load=[OrgFooterState.load, *loaders])


def _protected(page, route: str, *loaders) -> None:
    """A page whose first on_load fills the header and enforces a pending password change.

    The page guard is a convenience (a redirect); each loader checks its own permission.
    """
    app.add_page(
        page, route=route, title=TITLE,
        on_load=[AuthState.load_identity, OrgFooterState.load, *loaders],
    )  # fmt: skip


_public(home_page, "/")
_public(privacy_page, "/privacy", PrivacyState.load)
_public(login_page, "/login", AuthState.open_login_page)
_public(apply_page, "/apply", ApplyState.load)
_public(my_page, "/my", MyState.load)

_protected(account_page, "/account", AccountState.load_sessions)
_protected(password_page, "/account/password")
_protected(admin_users_page, "/admin/users", AdminState.load)
_protected(import_page, "/admin/import", ImportState.load)
_protected(audit_page, "/audit", AuditViewState.load)
_protected(pipeline_page, "/applications", PipelineState.load)
_protected(detail_page, "/applications/[app_id]", ApplicationDetailState.load)
_protected(members_page, "/members", MembersState.load)
_protected(member_detail_page, "/members/[member_id]", MemberDetailState.load)
_protected(consents_page, "/consents", ConsentLedgerState.load)
_protected(subject_page, "/subjects/[subject_id]", SubjectState.load)
_protected(requests_page, "/requests", RequestsState.load, BreachAlertState.load)
_protected(
    request_detail_page,
    "/requests/[request_id]",
    RequestDetailState.load,
    AccessPackageState.load,
)
_protected(policy_versions_page, "/policy-versions", PolicyVersionsState.load)
_protected(statistics_page, "/statistics", StatisticsState.load)
_protected(preview_page, "/statistics/preview", StatsPreviewState.load)
_protected(retention_page, "/retention", RetentionState.load)
_protected(calendar_page, "/calendar", CalendarState.load)
_protected(disclosures_page, "/disclosures", DisclosuresState.load)
_protected(settings_page, "/admin/settings", SettingsState.load)
_protected(disclosure_detail_page, "/disclosures/[disclosure_id]", DisclosureDetailState.load)
# Issue 17: the organisation profile and the breach register.
_protected(organisation_page, "/admin/organisation", ProfileState.load)
_protected(breaches_page, "/breaches", BreachesState.load)
_protected(breach_detail_page, "/breaches/[breach_id]", BreachDetailState.load)
_protected(inventory_page, "/inventory", InventoryState.load)
