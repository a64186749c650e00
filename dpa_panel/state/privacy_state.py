"""The public privacy-policy page: any edition, in the visitor's language."""

from __future__ import annotations

from datetime import date

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n.formatting import format_date
from dpa_panel.models.types import utcnow
from dpa_panel.services import applications, org_profile, policy
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.services.policy_texts import text_blocks
from dpa_panel.state.app_state import AppState
from dpa_panel.state.guard import requires


class PrivacyState(AppState):
    """Policy texts are public documents, so they may live in public vars."""

    label: str = ""
    effective_iso: str = ""
    blocks: dict[str, list[dict[str, str]]] = {}
    hashes: dict[str, str] = {}
    editions: list[dict[str, str]] = []
    not_found: bool = False
    filled_from_profile: bool = False

    @rx.var
    def effective_display(self) -> str:
        if not self.effective_iso:
            return ""
        return format_date(date.fromisoformat(self.effective_iso), self.locale)

    @requires(PUBLIC)
    def load(self):
        """Load the edition named by ``?v=`` or, by default, the one in force today."""
        wanted = self.router.url.query_parameters.get("v", "")
        with session_scope() as session:
            if wanted:
                edition = policy.edition_by_label(session, str(wanted)[:20])
            else:
                # The Almaty date, as the form and the submission use (not the server's).
                edition = policy.edition_in_force(session, applications.local_date(utcnow()))
            self.editions = [
                {"label": e.label, "effective": e.effective_date.isoformat()}
                for e in policy.list_editions(session)
            ]
            self.not_found = edition is None
            if edition is None:
                self.label, self.effective_iso, self.blocks, self.hashes = "", "", {}, {}
                return
            self.label = edition.label
            self.effective_iso = edition.effective_date.isoformat()
            # Issue 17: blanks such as [эл. пошта] are filled from the organisation profile
            # for display only; the stored text and its SHA-256 (shown) stay as published.
            profile = org_profile.public_profile(session)
            filled = {
                lang: org_profile.fill_placeholders(text, profile, lang)
                for lang, text in (("kk", edition.text_kk), ("ru", edition.text_ru),
                                   ("en", edition.text_en))
            }  # fmt: skip
            self.blocks = {lang: text_blocks(text) for lang, (text, _n) in filled.items()}
            self.filled_from_profile = any(n for _text, n in filled.values())
            self.hashes = {"kk": edition.sha256, "ru": edition.sha256_ru, "en": edition.sha256_en}
