"""Every Reflex state and event handler the app registers, for the permission tests."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator

from reflex.state import State

import dpa_panel.dpa_panel  # noqa: F401  (registers every page and state)

#: Reflex's own handler that calls ``set_<name>``; checked separately (see test).
SETVAR = "setvar"
#: ``set_*`` methods Reflex itself defines on every state; harmless UI flags.
REFLEX_SETTERS = {"set_is_hydrated"}


def app_states() -> Iterator[type[State]]:
    def walk(cls):
        yield cls
        for sub in cls.get_substates():
            yield from walk(sub)

    for cls in walk(State):
        if cls.__module__.startswith("dpa_panel."):
            yield cls


def app_handlers() -> Iterator[tuple[type[State], str, object]]:
    """(state class, handler name, EventHandler) for every handler of the app's states."""
    for cls in app_states():
        for name, handler in cls.event_handlers.items():
            yield cls, name, handler


def permission_of(handler) -> str | None:
    return getattr(handler.fn, "_dpa_permission", None)


def dummy_payload(handler) -> dict:
    """Plausible arguments by annotation, so a call reaches the permission check."""
    fn = inspect.unwrap(handler.fn)
    hints = typing.get_type_hints(fn)
    payload = {}
    for name in list(inspect.signature(fn).parameters)[1:]:
        kind = hints.get(name, str)
        payload[name] = {dict: {}, int: 1, bool: True, list: []}.get(kind, "1")
    return payload
