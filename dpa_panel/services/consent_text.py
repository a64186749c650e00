"""The consent sentence a person agrees to, with what consent evidence needs (issue 17):
the operator's name and BIN (organisation profile), the purpose (the catalog sentence), how
long the consent and the data last (the purpose's retention rule) and that nothing is
transferred to third parties without a separate written consent (policy clause 5.1).

The sentence is composed when the form is shown and stored with each consent as given, with
its SHA-256: a later change of the profile or of a rule never touches existing consents."""

from __future__ import annotations

from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import RetentionRule
from dpa_panel.services import org_profile
from dpa_panel.services.policy_texts import LANGUAGES

#: Purposes asked for on the public form.
FORM_PURPOSES = ("application_review", "member_register", "informing", "feedback")


def _duration(lang: str, rule: RetentionRule | None) -> str:
    if rule is None:
        return ""
    event = rule.ending_event
    if event == "consent_withdrawn" and rule.period_days == 0:
        return tr(lang, "consent.evidence.until_withdrawn")
    return tr(lang, f"consent.evidence.after.{event}", days=rule.period_days)


def consent_sentence(session: Session, purpose: str, language: str,
                     profile: org_profile.PublicProfile | None = None) -> str:  # fmt: skip
    """The full sentence for ``purpose`` in ``language`` as of now."""
    lang = normalise_locale(language)
    profile = profile or org_profile.public_profile(session)
    parts = [tr(lang, f"consent.sentence.{purpose}")]
    if profile.name(lang):
        parts.append(tr(lang, "consent.evidence.operator", operator=profile.name(lang),
                        bin=profile.bin or "—"))  # fmt: skip
    duration = _duration(lang, session.get(RetentionRule, purpose))
    if duration:
        parts.append(duration)
    parts.append(tr(lang, "consent.evidence.no_transfer"))
    return " ".join(parts)


def form_sentences(session: Session) -> dict[str, dict[str, str]]:
    """Every form purpose's sentence in every language (the public form shows them)."""
    profile = org_profile.public_profile(session)
    return {
        lang: {p: consent_sentence(session, p, lang, profile) for p in FORM_PURPOSES}
        for lang in LANGUAGES
    }
