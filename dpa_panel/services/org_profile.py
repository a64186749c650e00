"""The organisation profile (issue 17): who the operator is and where people write to.

One row (``organisation_profile.id = 1``) edited by an administrator, audited. It is shown on
``/privacy``, ``/apply``, in the footer and at the top of every document the panel generates,
and it fills the placeholders the customer's policy text leaves open (``[эл. пошта]``) when an
edition is *shown* — the stored text and its SHA-256 stay byte for byte what was published.
An edition containing a placeholder the profile cannot fill is refused (``check_placeholders``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import OrganisationProfile, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import clean_text, validate_email

ENTITY = "organisation_profile"
#: Fields an administrator edits, with their maximum length.
TEXT_FIELDS = {
    "name_kk": 300, "name_ru": 300, "name_en": 300, "address": 500,
    "responsible_contact": 300, "authority_name": 300, "authority_contact": 500,
}  # fmt: skip
#: What must be filled before the deployment is complete (``dpa-panel doctor``).
REQUIRED = (
    "name_kk", "name_ru", "name_en", "bin", "address", "dp_email", "responsible_user_id",
    "responsible_contact", "authority_name", "authority_contact",
)  # fmt: skip

#: A placeholder in a policy text: a short bracketed phrase on one line.
PLACEHOLDER = re.compile(r"\[([^\[\]\n]{1,40})\]")
#: Placeholders the profile fills, by their lower-cased text (the three shipped languages).
PLACEHOLDER_FIELDS = {
    "эл. пошта": "dp_email", "эл. почта": "dp_email", "e-mail": "dp_email",
    "email": "dp_email", "электрондық пошта": "dp_email", "электронная почта": "dp_email",
    "бсн": "bin", "бин": "bin", "bin": "bin",
    "мекенжай": "address", "адрес": "address", "address": "address",
    "атауы": "name", "наименование": "name", "name": "name",
}  # fmt: skip


def bin_is_valid(value: str) -> bool:
    """A Kazakhstan BIN/IIN: 12 digits whose last is the check digit (weights 1..11 mod 11;
    a result of 10 is recomputed with weights 3..11,1,2; 10 again means no valid number)."""
    if len(value) != 12 or not (value.isascii() and value.isdigit()):
        return False
    digits = [int(c) for c in value]
    check = sum(d * w for d, w in zip(digits[:11], range(1, 12), strict=True)) % 11
    if check == 10:
        weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        check = sum(d * w for d, w in zip(digits[:11], weights, strict=True)) % 11
        if check == 10:
            return False
    return check == digits[11]


def get_profile(session: Session) -> OrganisationProfile:
    """The profile row (created empty when a database predates it)."""
    profile = session.get(OrganisationProfile, 1)
    if profile is None:
        profile = OrganisationProfile(id=1)
        session.add(profile)
        session.flush()
    return profile


def missing_fields(session: Session, profile: OrganisationProfile | None = None) -> list[str]:
    """Required fields still empty (the responsible person must be an active account)."""
    profile = profile or get_profile(session)
    missing = [f for f in REQUIRED if f != "responsible_user_id" and not getattr(profile, f)]
    person = session.get(StaffUser, profile.responsible_user_id) if profile.responsible_user_id \
        else None  # fmt: skip
    if person is None or not person.is_active:
        missing.append("responsible_user_id")
    return [f for f in REQUIRED if f in missing]


def update_profile(
    session: Session, actor: Actor, values: dict[str, object]
) -> OrganisationProfile:
    """Save the profile; every field checked, nothing changed when one is wrong."""
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name, limit in TEXT_FIELDS.items():
        value, error = clean_text(values.get(name, ""), limit, required=False)
        if error:
            errors[name] = error
        clean[name] = value
    bin_value = str(values.get("bin", "") or "").strip().replace(" ", "")
    if bin_value and not bin_is_valid(bin_value):
        errors["bin"] = "profile.bad_bin"
    clean["bin"] = bin_value
    email_raw = str(values.get("dp_email", "") or "").strip()
    email = validate_email(email_raw) if email_raw else ""
    if email is None:
        errors["dp_email"] = "profile.bad_email"
    clean["dp_email"] = email or ""
    raw_user = str(values.get("responsible_user_id", "") or "").strip()
    user_id = int(raw_user) if raw_user.isdigit() else None
    if raw_user and user_id is None:
        errors["responsible_user_id"] = "profile.bad_responsible"
    audit.lock_writers(session)
    if user_id is not None:
        person = session.get(StaffUser, user_id)
        if person is None or not person.is_active:
            errors["responsible_user_id"] = "profile.bad_responsible"
    clean["responsible_user_id"] = user_id
    if errors:
        raise ValidationFailed(errors)
    profile = get_profile(session)
    changed = sorted(k for k, v in clean.items() if getattr(profile, k) != v)
    for key, value in clean.items():
        setattr(profile, key, value)
    profile.updated_at = utcnow()
    profile.updated_by_id = actor.user_id
    session.add(profile)
    session.flush()
    audit.record(session, actor, "profile.updated", ENTITY, 1, {"changed": changed})
    return profile


def responsible_options(session: Session) -> list[StaffUser]:
    """Active accounts that can be named responsible for organising processing."""
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.is_active.is_(True)).order_by(StaffUser.username)
        )
    )


# --- what the public and the documents see ---------------------------------------------------


@dataclass(frozen=True)
class PublicProfile:
    """The profile as shown to anyone (no account ids)."""

    names: dict[str, str]
    bin: str
    address: str
    dp_email: str
    responsible_name: str
    responsible_contact: str
    authority_name: str
    authority_contact: str

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("kk") or ""

    def document_lines(self, language: str, labels: dict[str, str]) -> list[str]:
        """The operator block printed at the top of a document (empty lines left out)."""
        lines = [self.name(language)]
        if self.bin:
            lines.append(f"{labels['bin']}: {self.bin}")
        if self.address:
            lines.append(self.address)
        if self.dp_email:
            lines.append(f"{labels['email']}: {self.dp_email}")
        if self.responsible_name:
            who = self.responsible_name
            if self.responsible_contact:
                who += f" ({self.responsible_contact})"
            lines.append(f"{labels['responsible']}: {who}")
        return [line for line in lines if line]


def public_profile(session: Session) -> PublicProfile:
    profile = get_profile(session)
    person = session.get(StaffUser, profile.responsible_user_id) if profile.responsible_user_id \
        else None  # fmt: skip
    return PublicProfile(
        names={"kk": profile.name_kk, "ru": profile.name_ru, "en": profile.name_en},
        bin=profile.bin, address=profile.address, dp_email=profile.dp_email,
        responsible_name=(person.full_name or person.username) if person else "",
        responsible_contact=profile.responsible_contact,
        authority_name=profile.authority_name, authority_contact=profile.authority_contact,
    )  # fmt: skip


def document_header(session: Session, language: str) -> list[str]:
    """The operator lines for a generated document in ``language``."""
    from dpa_panel.i18n import normalise_locale, tr

    lang = normalise_locale(language)
    labels = {k: tr(lang, f"profile.doc_{k}") for k in ("bin", "email", "responsible")}
    return public_profile(session).document_lines(lang, labels)


# --- policy placeholders ---------------------------------------------------------------------


def _value_for(placeholder: str, profile: PublicProfile, language: str) -> str:
    field = PLACEHOLDER_FIELDS.get(placeholder.strip().lower())
    if field is None:
        return ""
    if field == "name":
        return profile.name(language)
    return str(getattr(profile, field) or "")


def fill_placeholders(text: str, profile: PublicProfile, language: str) -> tuple[str, int]:
    """``text`` with each fillable placeholder replaced (for display only) and how many were."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        value = _value_for(match.group(1), profile, language)
        if not value:
            return match.group(0)
        count += 1
        return value

    return PLACEHOLDER.sub(replace, text), count


def unfillable_placeholders(texts: dict[str, str], profile: PublicProfile) -> list[str]:
    """Placeholders (as written) in any language's text that the profile cannot fill."""
    found: list[str] = []
    for language, text in texts.items():
        for match in PLACEHOLDER.finditer(text or ""):
            if not _value_for(match.group(1), profile, language) and match.group(0) not in found:
                found.append(match.group(0))
    return found


def check_placeholders(session: Session, texts: dict[str, str]) -> None:
    """Refuse an edition that would be published with a placeholder left open."""
    missing = unfillable_placeholders(texts, public_profile(session))
    if missing:
        raise ServiceError("policy.unfilled_placeholder", placeholders=", ".join(missing))
