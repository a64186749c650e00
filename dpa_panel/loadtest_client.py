"""The load test's protocol client (split from ``loadtest.py``, issue 19): one browser tab
speaking the Reflex event protocol (Socket.IO on ``/_event``), the password login, and helpers
that read state updates."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

NAMESPACE = "/_event"
#: The TOTP secret of every load account whose role requires a second factor (each account is
#: its own, so one account's accepted code never makes another's a replay).
LOAD_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def state_name(module: str, cls: str) -> str:
    import importlib

    return getattr(importlib.import_module(module), cls).get_full_name()


# --- the protocol client -----------------------------------------------------------------------


class EventError(Exception):
    """An event got no answer in time, or the connection failed."""


class StepFailed(Exception):
    """A load step failed; the error is already recorded."""


class EventClient:
    """One browser tab: a Socket.IO connection to ``/_event`` with a tab token.

    ``origin`` is sent as the handshake's ``Origin`` header (a browser always sends its page's
    origin); ``cookie`` as its ``Cookie`` header. Every update received is kept in ``updates``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        cookie: str = "",
        origin: str | None = None,
        token: str | None = None,
        timeout: float = 10,
    ) -> None:
        import socketio

        self.base_url = base_url
        self.token = token or str(uuid.uuid4())
        self.updates: list[dict] = []
        self._arrived = threading.Condition()
        options = {"origin": origin} if origin else {}
        self._sio = socketio.Client(reconnection=False, websocket_extra_options=options)
        self._sio.on("event", self._on_event, namespace=NAMESPACE)
        try:
            self._sio.connect(
                f"{base_url}?token={self.token}",
                socketio_path="/_event",
                transports=["websocket"],
                headers={"Cookie": cookie} if cookie else {},
                namespaces=[NAMESPACE],
                wait_timeout=timeout,
            )
        except Exception as exc:
            raise EventError(f"connect failed: {exc}") from exc

    def _on_event(self, data: Any) -> None:
        update = json.loads(data) if isinstance(data, str) else data
        with self._arrived:
            self.updates.append(update)
            self._arrived.notify_all()

    def call(
        self, handler: str, payload: dict | None = None, path: str = "/", timeout: float = 15
    ) -> tuple[list[dict], float]:
        """Send one event; return the updates that arrived for it and the round trip in seconds
        (emit → its state delta).

        Reflex processes a tab's events one after another and sends an event's state delta and
        the frontend events it returns (redirects, scripts) as separate updates; the round trip
        ends at the first update carrying a delta. An events-only update that trails the
        previous call is therefore never mistaken for this call's answer. Handlers used here
        always assign a var, so a delta always comes."""
        with self._arrived:
            start = len(self.updates)
        sent = time.perf_counter()
        self._sio.emit(
            "event",
            {
                "name": handler,
                "payload": payload or {},
                "router_data": {"pathname": path, "asPath": path, "query": {}},
            },
            namespace=NAMESPACE,
        )
        deadline = sent + timeout
        with self._arrived:
            while not any(u.get("delta") for u in self.updates[start:]):
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise EventError(f"no update for {handler} within {timeout:.0f} s")
                self._arrived.wait(left)
            elapsed = time.perf_counter() - sent
        # Let trailing updates of the same event (chained events, redirects) arrive.
        time.sleep(0.02)
        with self._arrived:
            return list(self.updates[start:]), elapsed

    def wait_for(self, predicate: Callable[[list[dict]], bool], timeout: float = 15) -> bool:
        """Wait until ``predicate(all updates so far)`` holds; False on timeout."""
        deadline = time.perf_counter() + timeout
        with self._arrived:
            while not predicate(self.updates):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self._arrived.wait(left)
            return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sio.disconnect()

    def __enter__(self) -> EventClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_vars(updates: list[dict]) -> Iterator[tuple[str, str, Any]]:
    """``(state name, var name, value)`` of every delta entry in ``updates``."""
    for update in updates:
        for state, values in (update.get("delta") or {}).items():
            for key, value in values.items():
                yield state, key.split("_rx_state_")[0], value


def var_values(updates: list[dict], name: str) -> list[Any]:
    return [value for _state, key, value in iter_vars(updates) if key == name]


def redirects(updates: list[dict]) -> list[str]:
    """Paths of the ``rx.redirect`` events in ``updates`` (a refused handler sends one)."""
    found = []
    for update in updates:
        for event in update.get("events") or []:
            if str(event.get("name", "")).endswith("_redirect"):
                found.append(str((event.get("payload") or {}).get("path", "")))
    return found


#: The ticket inside the script that posts it (``auth_state.post_login_ticket``), as it appears
#: in the JSON of the updates.
TICKET_RE = re.compile(r"i\.value = [\\\"]*([A-Za-z0-9_\-]{20,})")


def totp_secret_for(username: str) -> str:
    """The known TOTP secret of a demo or load account (empty when it has none)."""
    from dpa_panel.demo import DEMO_TOTP_SECRETS

    if username in DEMO_TOTP_SECRETS:
        return DEMO_TOTP_SECRETS[username]
    return LOAD_TOTP_SECRET if username.startswith("load-") else ""


def _ticket_or_refusal(ups: list[dict]) -> bool:
    return bool(
        TICKET_RE.search(json.dumps(ups))
        or any(var_values(ups, "login_error"))
        or any(step in ("code", "enrol") for step in var_values(ups, "login_step"))
    )


def login(
    base_url: str, username: str, password: str, *, origin: str | None = None
) -> tuple[str, float]:
    """Log in as a browser does: the password event, the second factor when the account has
    one (a code computed from its known secret), then the ticket exchange over HTTP.

    Returns ``("dpa_session=<token>", seconds of the password event)``; raises ``EventError``
    when the panel refuses (wrong password or code, throttled).
    """
    import httpx

    from dpa_panel.models.types import utcnow
    from dpa_panel.services.two_factor import code_at

    auth_state = state_name("dpa_panel.state.auth_state", "AuthState")
    # The cookie a page load of the panel gives a browser (api.BrowserCookieMiddleware).
    browser = uuid.uuid4().hex
    with EventClient(base_url, origin=origin, cookie=f"dpa_browser={browser}") as tab:
        _updates, elapsed = tab.call(
            f"{auth_state}.login",
            {"form_data": {"username": username, "password": password}},
            path="/login",
        )
        # The ticket comes in a script event after the delta; a refusal sets login_error.
        tab.wait_for(_ticket_or_refusal)
        if "code" in var_values(tab.updates, "login_step") and totp_secret_for(username):
            start = len(tab.updates)
            tab.call(
                f"{auth_state}.submit_code",
                {"form_data": {"code": code_at(totp_secret_for(username), utcnow())}},
                path="/login",
            )
            tab.wait_for(
                lambda ups: bool(
                    TICKET_RE.search(json.dumps(ups[start:]))
                    or any(var_values(ups[start:], "login_error"))
                )
            )
        match = TICKET_RE.search(json.dumps(tab.updates))
    if not match:
        raise EventError(f"login refused for {username}")
    response = httpx.post(
        f"{base_url}/api/auth/complete",
        data={"t": match.group(1)},
        headers={"Origin": origin or base_url, "Cookie": f"dpa_browser={browser}"},
        follow_redirects=False,
    )
    token = response.cookies.get("dpa_session")
    if response.status_code != 303 or not token:
        raise EventError(f"ticket exchange failed for {username}: {response.status_code}")
    return f"dpa_session={token}", elapsed


