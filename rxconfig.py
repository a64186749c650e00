"""Reflex configuration.

The panel talks to its own database through ``dpa_panel.db`` (``DPA_DATABASE_URL``),
not through Reflex's ``rx.Model`` layer, so no ``db_url`` is set here.

Production (``make prod``, ``dpa_panel/prod.py``) sets ``DPA_PUBLIC_URL``: then only that origin
may open the event websocket (Socket.IO refuses a handshake whose ``Origin`` header names any
other site) or make credentialed cross-origin HTTP requests, and the frontend build connects to
exactly that URL. Without it (``make run``, ``make dev``, the tests) the same lock applies to
the local origins only: ``http://localhost``, ``http://127.0.0.1`` and ``http://[::1]`` at the
configured ports (``DPA_PORT``, and ``REFLEX_FRONTEND_PORT``/``REFLEX_BACKEND_PORT`` when set) —
a page of any other site can neither open the websocket nor read a credentialed response
(issue 15; ``DPA_DEV_ORIGINS``, comma-separated, adds origins for an unusual local setup).
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

def _local_origins() -> list[str]:
    ports = {str(_port)}
    for name in ("REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT"):
        if os.environ.get(name, "").strip().isdigit():
            ports.add(os.environ[name].strip())
    hosts = ("localhost", "127.0.0.1", "[::1]")
    extra = [o.strip().rstrip("/") for o in os.environ.get("DPA_DEV_ORIGINS", "").split(",")]
    return sorted({f"http://{h}:{p}" for h in hosts for p in ports} | {o for o in extra if o})


_origin_settings = (
    {"cors_allowed_origins": [_public_url], "api_url": _public_url, "deploy_url": _public_url}
    if _public_url
    else {"cors_allowed_origins": _local_origins()}
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
