"""The one permission table: role -> permissions (policy clause 4.5, least privilege).

Modelled on Django's ``contrib.auth``: handlers declare a permission string, roles grant sets
of them, and ``has_permission`` is the single check. ``PUBLIC`` is declared by the few handlers
anyone may call (login, the public application form, switching language); ``AUTHENTICATED``
by handlers any logged-in account may call (its own password, logging out).
"""

from __future__ import annotations

PUBLIC = "public"
AUTHENTICATED = "authenticated"

#: Every permission a handler may declare, with what it allows.
PERMISSIONS: dict[str, str] = {
    PUBLIC: "anyone, without logging in",
    AUTHENTICATED: "any active, logged-in account",
    "accounts.manage": "create accounts, change roles, deactivate, reset passwords",
    "audit.read": "view the audit trail",
    "audit.export": "export the audit trail as CSV",
    "applications.read": "view applications and applicants' data",
    "applications.write": "process applications (assign, request info, decide)",
    "members.read": "view the member register",
    "members.write": "suspend, reinstate, end memberships",
    "consents.read": "view the consent ledger",
    "consents.write": "record consents and withdrawals, export the mailing list",
    "policies.manage": "add privacy-policy editions, see consents given under older ones",
    "calendar.manage": "public holidays and the request deadlines computed from them",
    "requests.manage": "handle data-subject requests",
    "retention.manage": "retention rules, legal holds, destruction",
    "disclosures.manage": "record and prepare authority disclosures",
    "disclosures.approve": "approve or refuse a disclosure (four eyes)",
    "stats.read": "anonymised aggregate statistics",
    "stats.preview": "preview the next statistics release and the true values it hides",
    "deployment.read": "the deployment's declared data location and operational checks",
    "mail.manage": "queue again an e-mail the outbox gave up on (issue 16)",
    "members.import": "import members and applications from a spreadsheet (issue 21)",
    "profile.manage": "edit the organisation profile (issue 17)",
    "breaches.read": "view the personal-data breach register (issue 17)",
    "breaches.manage": "record breaches, notify the authorised body and affected people",
    "inventory.read": "the list of personal data and processing register",
    "inventory.approve": "approve that list (the service further limits it to the responsible "
    "person named in the organisation profile)",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "policies.manage",
            "calendar.manage",
            "accounts.manage",
            "audit.read",
            "audit.export",
            "applications.read",
            "applications.write",
            "members.read",
            "members.write",
            "stats.read",
            "stats.preview",
            "deployment.read",
            "mail.manage",
            "members.import",
            "profile.manage",
            "breaches.read",
            "inventory.read",
            "inventory.approve",
        }
    ),
    "staff": frozenset(
        {
            "applications.read",
            "applications.write",
            "members.read",
            "members.write",
            "consents.read",
        }
    ),
    "compliance": frozenset(
        {
            "audit.read",
            "audit.export",
            "applications.read",
            "members.read",
            "consents.read",
            "consents.write",
            "policies.manage",
            "calendar.manage",
            "requests.manage",
            "retention.manage",
            "disclosures.manage",
            "disclosures.approve",
            "stats.read",
            "stats.preview",
            "deployment.read",
            "mail.manage",
            "breaches.read",
            "breaches.manage",
            "inventory.read",
            "inventory.approve",
        }
    ),
    "board": frozenset({"stats.read"}),
}

#: Where each role lands after logging in.
ROLE_HOME: dict[str, str] = {
    "admin": "/admin/users",
    "staff": "/applications",
    "compliance": "/requests",
    "board": "/statistics",
}


def has_permission(role: str | None, permission: str) -> bool:
    """Whether an account with ``role`` may do what ``permission`` names.

    Unknown permissions are refused (a typo must fail closed, never open).
    """
    if permission not in PERMISSIONS:
        return False
    if permission == PUBLIC:
        return True
    if role not in ROLE_PERMISSIONS:
        return False
    return permission == AUTHENTICATED or permission in ROLE_PERMISSIONS[role]


def home_for(role: str | None) -> str:
    return ROLE_HOME.get(role or "", "/login")
