"""The Reflex app: routes only. Pages live in ``dpa_panel.pages``."""

from __future__ import annotations

import reflex as rx

from dpa_panel.pages.home import home_page
from dpa_panel.pages.privacy import privacy_page
from dpa_panel.state.privacy_state import PrivacyState

app = rx.App()
app.add_page(home_page, route="/", title="DPA Panel")
app.add_page(privacy_page, route="/privacy", title="DPA Panel", on_load=PrivacyState.load)
