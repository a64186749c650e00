"""The "About this file (generated at, SHA-256)" link beside a CSV download (issue 18)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.state.export_about_state import ExportAboutState


def about_link(kind: str) -> rx.Component:
    """Fetches the companion ``.about.txt`` of the user's latest ``kind`` export."""
    return rx.button(t("gaps.about_link"), type="button", variant="ghost", size="1",
                     on_click=ExportAboutState.download_about(kind),
                     id=f"about-{kind.replace('_', '-')}")  # fmt: skip
