"""Closed vocabularies stored as short codes.

Codes (not translated labels) go into the database; labels come from the message catalog
under ``<vocabulary>.<code>``. Keeping them as Python tuples lets services validate input and
lets the catalog-completeness test check that every code has a label in every language.
"""

from __future__ import annotations

#: The five purposes of policy clause 3, in the order the policy lists them.
PURPOSES = ("application_review", "member_register", "informing", "feedback", "statistics")

SUBJECT_STATUSES = ("active", "blocked", "destroyed")

APPLICATION_STATUSES = (
    "submitted",
    "in_review",
    "info_requested",
    "approved",
    "rejected",
    "withdrawn",
)

#: Applications still being processed: at most one per e-mail address at a time.
OPEN_APPLICATION_STATUSES = ("submitted", "in_review", "info_requested")

#: Entries of an application's timeline (``application_event.kind``).
APPLICATION_EVENT_KINDS = ("submitted", "status_changed", "assigned", "note", "edited")

MEMBER_STATUSES = ("active", "suspended", "ended")

CONSENT_CHANNELS = ("web_form", "paper", "email", "in_person")

#: How a withdrawal may arrive: every consent channel, plus the person's own privacy centre
#: (``online``, /my) and the personal unsubscribe link of a mailing (``link``, issue 20).
CONSENT_WITHDRAWAL_CHANNELS = CONSENT_CHANNELS + ("online", "link")

ROLES = ("admin", "staff", "compliance", "board")

#: Education levels (coded so that board statistics can group by them).
EDUCATION_LEVELS = ("secondary", "vocational", "bachelor", "master", "doctorate", "other")

#: Workplace categories for statistics; the workplace name itself is personal free text.
WORKPLACE_CATEGORIES = (
    "media",
    "pr_agency",
    "corporate",
    "government",
    "ngo",
    "education",
    "freelance",
    "other",
)

#: Position levels for statistics; the position title itself is free text.
POSITION_LEVELS = ("junior", "specialist", "senior", "head", "executive", "other")

ACTOR_TYPES = ("user", "public", "system")

#: Data-subject request kinds (policy clause 6).
REQUEST_KINDS = ("access", "rectification", "blocking", "destruction", "withdrawal", "complaint")

REQUEST_STATUSES = (
    "received",
    "identity_check",
    "in_progress",
    "answered",
    "refused",
    "withdrawn",
)

OPEN_REQUEST_STATUSES = ("received", "identity_check", "in_progress")

#: ``online``: made by the person in the privacy centre (/my) after an e-mail code (issue 20).
REQUEST_CHANNELS = ("email", "paper", "in_person", "web_form", "online")
#: The channels an officer records a request under (``online`` is the person's own, in /my).
STAFF_REQUEST_CHANNELS = tuple(c for c in REQUEST_CHANNELS if c != "online")

#: Requests that are finished: answered, refused, or withdrawn by the requester.
CLOSED_REQUEST_STATUSES = ("answered", "refused", "withdrawn")

#: Entries of a request's history (``request_event.kind``; labels ``request_event.<code>``).
REQUEST_EVENT_KINDS = (
    "received",
    "identity_verified",
    "paused",
    "resumed",
    "assigned",
    "noted",
    "answered",
    "refused",
    "withdrawn",
    "reopened",
    "due_changed",
)

#: What starts a request kind's clock (``request_deadline.counted_from``).
DEADLINE_START_EVENTS = ("received", "identity_verified")

#: Entries of the working-day calendar (``holiday.kind``, labels ``calendar.kind.<code>``):
#: ``holiday`` a public holiday (the weekend-transfer rule applies), ``religious`` a day off
#: the transfer rule does not move (Orthodox Christmas, Kurban Ait day 1), ``day_off`` a
#: weekday off by decree or order, ``working_day`` a Saturday or Sunday worked by decree.
CALENDAR_ENTRY_KINDS = ("holiday", "religious", "day_off", "working_day")

#: The languages a staff account reads the panel and its e-mails in.
UI_LANGUAGES = ("kk", "ru", "en")

#: Outgoing mail (``outbox_message.status``).
OUTBOX_STATUSES = ("pending", "sent", "failed")

#: Disclosure register (policy clause 5): an authority's official request (5.2) or a
#: transfer to a third party on the subject's written consent (5.1).
DISCLOSURE_KINDS = ("authority", "third_party")

DISCLOSURE_STATUSES = ("received", "under_review", "approved", "disclosed", "refused")

#: Type of the requesting body (labels: ``disclosure.body_type.<code>``), for the board's
#: "authority disclosures per quarter by type of body" chart; the name itself stays free text.
#: ``third_party`` is the type of every transfer to a third party (kind ``third_party``) and
#: of nothing else; ``other_state`` is the default and the fold target of rare types.
DISCLOSURE_BODY_TYPES = (
    "law_enforcement",
    "prosecutor",
    "court",
    "national_security",
    "tax",
    "financial_monitoring",
    "anti_corruption",
    "other_state",
    "third_party",
)
#: The types an authority request may carry (all but ``third_party``).
AUTHORITY_BODY_TYPES = tuple(c for c in DISCLOSURE_BODY_TYPES if c != "third_party")

#: Statuses of a disclosure that is still open (its subjects are under a legal hold).
OPEN_DISCLOSURE_STATUSES = ("received", "under_review", "approved")

#: How a request arrived / how a package was sent (labels: ``disclosure_channel.<code>``).
DISCLOSURE_CHANNELS_IN = ("post", "email", "courier", "in_person", "e_government", "other")
DISCLOSURE_CHANNELS_OUT = ("post", "email", "courier", "in_person", "e_government", "other")

#: Formats of a disclosure package.
DISCLOSURE_FORMATS = ("csv", "xlsx", "pdf")

#: Entries of a disclosure's timeline (``disclosure_event.kind``).
DISCLOSURE_EVENT_KINDS = (
    "created",
    "selection",
    "submitted",
    "returned",
    "approved",
    "refused",
    "disclosed",
)

#: Issue 17: a breach is open until closed with lessons learned.
BREACH_STATUSES = ("open", "closed")
#: How the authorised body was notified.
BREACH_AUTHORITY_CHANNELS = ("e_government", "email", "post", "in_person", "other")
#: How an affected person was told: an e-mail through the outbox, or a printed letter.
BREACH_SUBJECT_CHANNELS = ("email", "letter")
