"""The root state: the UI language, remembered in the browser."""

from __future__ import annotations

import json

import reflex as rx

from dpa_panel.i18n import DEFAULT_LOCALE, catalog, normalise_locale
from dpa_panel.i18n import LOCALES as CATALOG_LOCALES
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

    @rx.var
    def refused(self) -> bool:
        """This page was opened because another one was refused for the visitor's role
        (``guard._refuse`` adds ``?refused=1``); the page frame says so."""
        return self.router.url.query_parameters.get("refused") == "1"

    @requires(PUBLIC)
    def choose_locale(self, code: str):
        """Switch the UI language; unknown codes fall back to Kazakh. ``<html lang>`` follows
        (on first paint it is set from local storage by ``HTML_LANG_SCRIPT``)."""
        self.locale = normalise_locale(code)
        return rx.call_script(f"document.documentElement.lang = {json.dumps(self.locale)}")


#: Runs in ``<head>`` before the page is painted: ``<html lang>`` from the stored language
#: (the same local-storage entry ``AppState.locale`` reads), Kazakh when none or unknown.
HTML_LANG_SCRIPT = (
    "try { var l = localStorage.getItem('dpa_locale');"
    f" document.documentElement.lang = {json.dumps(list(CATALOG_LOCALES))}.indexOf(l) >= 0"
    f" ? l : {json.dumps(DEFAULT_LOCALE)}; }} catch (e) {{}}"
)
