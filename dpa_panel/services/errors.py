"""The one exception services raise for a user's mistake: it carries a catalog key.

States catch it, show ``tr(locale, error.key, **error.params)`` next to the form and change
nothing (the surrounding ``session_scope`` rolls back). Anything else is a bug and is shown as
a generic message, never as the exception text.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, key: str, field: str = "", **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.params = params
