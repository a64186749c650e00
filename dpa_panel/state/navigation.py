"""The panel's pages in groups (issue 18, point 6): one table for the header, the phone menu
and the tests that visit every page a role can see.

A group with one page for a role shows as a plain link; with more, as a menu. Labels are
catalog keys. ``/account`` is not in a group: the account area of the header links to it.
"""

from __future__ import annotations

from dpa_panel.services.permissions import AUTHENTICATED, has_permission

#: (group label key, ((href, label key, permission), ...)), in the order shown.
NAV_GROUPS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "nav.group.people",
        (
            ("/applications", "nav.applications", "applications.read"),
            ("/members", "nav.members", "members.read"),
            ("/admin/import", "import.nav", "members.import"),
        ),
    ),
    (
        "nav.group.requests",
        (
            ("/requests", "nav.requests", "requests.manage"),
            ("/consents", "nav.consents", "consents.read"),
            ("/calendar", "nav.calendar", "calendar.manage"),
        ),
    ),
    (
        "nav.group.retention",
        (("/retention", "nav.retention", "retention.manage"),),
    ),
    (
        "nav.group.disclosures",
        (
            ("/disclosures", "nav.disclosures", "disclosures.manage"),
            ("/breaches", "nav.breaches", "breaches.read"),
        ),
    ),
    (
        "nav.group.governance",
        (
            ("/inventory", "nav.inventory", "inventory.read"),
            ("/statistics", "nav.statistics", "stats.read"),
            ("/audit", "nav.audit", "audit.read"),
        ),
    ),
    (
        "nav.group.admin",
        (
            ("/admin/users", "nav.accounts", "accounts.manage"),
            ("/admin/organisation", "nav.profile", "profile.manage"),
            ("/admin/settings", "nav.settings", "deployment.read"),
        ),
    ),
)

ACCOUNT_PAGE = ("/account", "nav.account", AUTHENTICATED)


def nav_groups_for(role: str | None) -> list[dict]:
    """The groups with at least one page ``role`` may open, each page as {href, label}."""
    groups = []
    for label, entries in NAV_GROUPS:
        items = [
            {"href": href, "label": key}
            for href, key, perm in entries
            if role and has_permission(role, perm)
        ]
        if items:
            groups.append({"label": label, "items": items, "single": len(items) == 1})
    return groups


def pages_for(role: str | None) -> list[str]:
    """Every page of the navigation ``role`` may open, and its own account page."""
    hrefs = [item["href"] for group in nav_groups_for(role) for item in group["items"]]
    return [*hrefs, ACCOUNT_PAGE[0]] if role else hrefs
