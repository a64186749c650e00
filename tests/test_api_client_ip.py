"""The /api routes see the visitor's address the way websocket events do: X-Forwarded-For
counts only behind the configured number of trusted proxies."""

from __future__ import annotations

import pytest
import reflex as rx
from starlette.requests import Request

from dpa_panel.api import _client_ip


def _request(forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "headers": headers, "client": ("10.0.0.2", 5555)})


@pytest.fixture
def hops(monkeypatch):
    config = rx.config.get_config()

    def set_hops(n: int) -> None:
        monkeypatch.setattr(config, "trusted_proxy_hops", n)

    return set_hops


def test_direct_peer_without_trusted_proxies(hops):
    hops(0)
    assert _client_ip(_request("203.0.113.9")) == "10.0.0.2", "a client header is not trusted"


def test_one_trusted_proxy_takes_the_last_forwarded_entry(hops):
    hops(1)
    assert _client_ip(_request("198.51.100.1, 203.0.113.9")) == "203.0.113.9"
    assert _client_ip(_request(None)) == "10.0.0.2"
