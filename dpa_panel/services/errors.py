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


class ValidationFailed(ServiceError):
    """A form with one or more invalid fields: ``errors`` maps field name -> catalog key.

    Its own ``key`` is ``form.has_errors`` (the summary above the form); ``field`` is the first
    invalid field, so a caller that shows only one message can still focus the right input.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("form.has_errors", field=next(iter(self.errors), ""))
