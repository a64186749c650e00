"""Calling a Reflex state handler's coroutine directly from a plain (synchronous) test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run_handler(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to the end on a fresh event loop in a thread of its own.

    ``asyncio.run`` refuses to start while an event loop runs in the calling thread, which is
    the case in a whole-suite run once a browser test's Playwright (sync API) has started its
    loop in the main thread; a worker thread has no loop, so this works in either order.
    Exceptions raised by the handler propagate to the test.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
