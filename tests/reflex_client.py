"""A test client that speaks Reflex's real event protocol (Socket.IO over a websocket).

It connects exactly as a browser tab does — ``/_event`` with a tab token, the session cookie in
the handshake — and can call *any* handler by its full name, without loading a page first.
That is precisely what an attacker can do, so the permission tests use it. Every state update
the server sends to this client is kept in ``updates`` for inspection.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import socketio

#: The browser connects with ``io("<origin>/_event", {path: "/_event"})``: the URL's path is
#: the Socket.IO namespace, and the transport path is the same string.
NAMESPACE = "/_event"


class ReflexClient:
    def __init__(self, base_url: str, cookie: str = "") -> None:
        self.base_url = base_url
        self.token = str(uuid.uuid4())
        self.updates: list[dict] = []
        self._finals = threading.Event()
        self._sio = socketio.Client(reconnection=False)
        self._sio.on("event", self._on_event, namespace=NAMESPACE)
        headers = {"Cookie": cookie} if cookie else {}
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
        if update.get("final", True):
            self._finals.set()

    def call(
        self, handler: str, payload: dict | None = None, path: str = "/", timeout: float = 15
    ) -> list[dict]:
        """Send one event and wait for its final update; returns the updates it produced."""
        start = len(self.updates)
        self._finals.clear()
        self._sio.emit(
            "event",
            {
                "name": handler,
                "payload": payload or {},
                "router_data": {"pathname": path, "asPath": path, "query": {}},
            },
            namespace=NAMESPACE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._finals.wait(0.05) and any(u.get("final", True) for u in self.updates[start:]):
                break
        else:
            raise TimeoutError(f"no final update for {handler}")
        # Let trailing updates (e.g. chained events) arrive.
        time.sleep(0.1)
        return self.updates[start:]

    def close(self) -> None:
        self._sio.disconnect()

    def __enter__(self) -> ReflexClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
