"""Reflex configuration.

The panel talks to its own database through ``dpa_panel.db`` (``DPA_DATABASE_URL``),
not through Reflex's ``rx.Model`` layer, so no ``db_url`` is set here.
"""

import os

import reflex as rx

config = rx.Config(
    app_name="dpa_panel",
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    frontend_port=int(os.environ.get("DPA_PORT", "3000")),
    backend_port=int(os.environ.get("DPA_PORT", "3000")),
)
