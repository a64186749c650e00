"""A test client that speaks Reflex's real event protocol (Socket.IO over a websocket).

It connects exactly as a browser tab does — ``/_event`` with a tab token, the session cookie in
the handshake — and can call *any* handler by its full name, without loading a page first.
That is precisely what an attacker can do, so the permission tests use it. Every state update
the server sends to this client is kept in ``updates`` for inspection.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import socketio

#: The browser connects with ``io("<origin>/_event", {path: "/_event"})``: the URL's path is
#: the Socket.IO namespace, and the transport path is the same string.
NAMESPACE = "/_event"
#: Seconds without a new message after which a call's updates are taken to be complete.
QUIET = 0.25


class ReflexClient:
    def __init__(
        self,
        base_url: str,
        cookie: str = "",
        headers: dict | None = None,
        *,
        token: str = "",
        origin: str = "",
    ) -> None:
        self.base_url = base_url
        # A given token reconnects to that tab's state (as a reload or a token thief does).
        self.token = token or str(uuid.uuid4())
        self.updates: list[dict] = []
        # The handshake's Origin header (websocket-client sends the server's own by default).
        options = {"origin": origin} if origin else {}
        self._sio = socketio.Client(reconnection=False, websocket_extra_options=options)
        self._sio.on("event", self._on_event, namespace=NAMESPACE)
        headers = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        self._sio.connect(
            f"{base_url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            headers=headers,
            namespaces=[NAMESPACE],
            wait_timeout=10,
        )

    def _on_event(self, data: Any) -> None:
        update = json.loads(data) if isinstance(data, str) else data
        self.updates.append(update)

    def call(
        self,
        handler: str,
        payload: dict | None = None,
        path: str = "/",
        timeout: float = 15,
        query: dict | None = None,
    ) -> list[dict]:
        """Send one event and wait until its updates have arrived; returns them. ``query``
        carries a dynamic route's parameters (e.g. ``{"request_id": "5"}``)."""
        start = len(self.updates)
        self._sio.emit(
            "event",
            {
                "name": handler,
                "payload": payload or {},
                "router_data": {"pathname": path, "asPath": path, "query": query or {}},
            },
            namespace=NAMESPACE,
        )
        # Reflex 0.10 sends a handler's delta and its events (redirects, toasts) as separate
        # messages and no longer marks the last one, so: wait for the first, then until the
        # connection has been quiet for QUIET seconds.
        deadline = time.monotonic() + timeout
        while len(self.updates) == start:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no update for {handler}")
            time.sleep(0.02)
        seen = len(self.updates)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET and time.monotonic() < deadline:
            time.sleep(0.02)
            if len(self.updates) != seen:
                seen, quiet_since = len(self.updates), time.monotonic()
        return self.updates[start:]

    def wait_for(self, text: str, since: int = 0, timeout: float = 5) -> bool:
        """Wait until ``text`` appears in an update received after index ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in json.dumps(self.updates[since:], ensure_ascii=False):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._sio.disconnect()

    def __enter__(self) -> ReflexClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
