"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from dpa_panel.models.account import LoginSession, OneTimeTicket, StaffUser
from dpa_panel.models.audit import AuditChainHead, AuditEvent
from dpa_panel.models.consent import Consent, PolicyVersion, Purpose
from dpa_panel.models.disclosure import Disclosure, DisclosureEvent, DisclosureSubject
from dpa_panel.models.governance import (
    Breach,
    BreachSubject,
    DataInventory,
    OrganisationProfile,
)
from dpa_panel.models.imports import ImportBatch, ImportRow
from dpa_panel.models.membership import ApplicationEvent, Member, MembershipApplication
from dpa_panel.models.outbox import OutboxMessage
from dpa_panel.models.privacy import AccessPackage, SubjectCode, SubjectSession
from dpa_panel.models.requests import Holiday, RequestDeadline, RequestEvent, SubjectRequest
from dpa_panel.models.retention import DestructionAct, LegalHold, RetentionRule
from dpa_panel.models.security import LoginThrottle, RecoveryCode, TwoFactor
from dpa_panel.models.stats_release import StatsRelease, StatsReleaseCell
from dpa_panel.models.subject import DataSubject

__all__ = [
    "AccessPackage",
    "SubjectCode",
    "SubjectSession",
    "ImportBatch",
    "ImportRow",
    "Breach",
    "BreachSubject",
    "DataInventory",
    "OrganisationProfile",
    "Disclosure",
    "DisclosureEvent",
    "DisclosureSubject",
    "DestructionAct",
    "LegalHold",
    "RetentionRule",
    "Holiday",
    "RequestDeadline",
    "RequestEvent",
    "OutboxMessage",
    "SubjectRequest",
    "ApplicationEvent",
    "AuditChainHead",
    "OneTimeTicket",
    "AuditEvent",
    "Consent",
    "DataSubject",
    "LoginSession",
    "Member",
    "MembershipApplication",
    "PolicyVersion",
    "Purpose",
    "StaffUser",
    "LoginThrottle",
    "RecoveryCode",
    "TwoFactor",
    "StatsRelease",
    "StatsReleaseCell",
]
