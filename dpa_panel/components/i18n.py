"""``t("key")``: the one way a component shows text."""

from __future__ import annotations

import reflex as rx

from dpa_panel.state.app_state import AppState


def t(key: str) -> rx.Var[str]:
    """The translation of ``key`` in the visitor's current language (a reactive var)."""
    return AppState.t[key].to(str)
