"""Reflex configuration.

The panel talks to its own database through ``dpa_panel.db`` (``DPA_DATABASE_URL``),
not through Reflex's ``rx.Model`` layer, so no ``db_url`` is set here.

Production (``make prod``, ``dpa_panel/prod.py``) sets ``DPA_PUBLIC_URL``: then only that origin
may open the event websocket (Socket.IO refuses a handshake whose ``Origin`` header names any
other site) or make credentialed cross-origin HTTP requests, and the frontend build connects to
exactly that URL. Without it (``make run``, ``make dev``, the tests) any origin is accepted.
Several workers share state through Redis when ``REFLEX_REDIS_URL`` is set (Reflex reads it
itself and switches to its Redis state manager).
"""

import os

import reflex as rx

_port = int(os.environ.get("DPA_PORT", "3000"))
# ``reflex run --backend-only`` refuses a configured frontend port (``dpa_panel.prod
# --backend-only`` sets REFLEX_BACKEND_ONLY, the flag's own environment variable).
_backend_only = os.environ.get("REFLEX_BACKEND_ONLY", "").strip().lower() in ("1", "true", "yes")
_ports = (
    {"backend_port": _port} if _backend_only else {"frontend_port": _port, "backend_port": _port}
)

_public_url = os.environ.get("DPA_PUBLIC_URL", "").strip().rstrip("/")
_origin_settings = (
    {"cors_allowed_origins": [_public_url], "api_url": _public_url, "deploy_url": _public_url}
    if _public_url
    else {}
)

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
    **_ports,
    **_origin_settings,
)
