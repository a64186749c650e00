"""The root state: the UI language, remembered in the browser."""

from __future__ import annotations

import reflex as rx

from dpa_panel.i18n import DEFAULT_LOCALE, catalog, normalise_locale
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.state.guard import requires


class AppState(rx.State):
    """Holds the locale; every other state is a substate and inherits it."""

    locale: str = rx.LocalStorage(DEFAULT_LOCALE, name="dpa_locale", sync=True)
    # Which session filled this tab's tree (see ``state.tab_binding``); backend-only.
    _dpa_bound: bool = False
    _dpa_cookie: str = ""
    _dpa_identity: str = ""

    @rx.var
    def t(self) -> dict[str, str]:
        """The message catalog of the current locale (public texts only, no personal data)."""
        return catalog(self.locale)

    @rx.var
    def lang(self) -> str:
        """The normalised locale code, safe to compare against in components."""
        return normalise_locale(self.locale)

    @requires(PUBLIC)
    def choose_locale(self, code: str):
        """Switch the UI language; unknown codes fall back to Kazakh."""
        self.locale = normalise_locale(code)
