"""Failures the browser sees as one generic, translated sentence with a reference number.

Reflex's default backend exception handler sends the exception's type and message to the
browser in development mode (``make run``/``make dev``), and a message can carry a personal
value or a SQL fragment. Here every failure — of a websocket event handler
(``backend_exception_handler``, given to ``rx.App``) or of an HTTP endpoint under ``/api``
(``http_error_response``) — is logged with its full traceback under a random reference
(``logger`` ``dpa_panel.errors``), and the browser gets only ``error.generic`` with that
reference, in its language, so the administrator can find the log entry.
"""

from __future__ import annotations

import json
import logging
import secrets
import traceback

from dpa_panel.i18n import CATALOGS, DEFAULT_LOCALE

logger = logging.getLogger("dpa_panel.errors")

#: The ``rx.LocalStorage`` key holding the UI language (``AppState.locale``).
LOCALE_STORAGE_KEY = "dpa_locale"


def new_reference() -> str:
    """A short random reference that names one failure in the log (not guessable, no data)."""
    return secrets.token_hex(5).upper()


def log_failure(exception: BaseException, reference: str, where: str) -> None:
    """Write the whole traceback to the log under ``reference``."""
    detail = "".join(
        traceback.format_exception(type(exception), exception, exception.__traceback__)
    )
    logger.error("error %s in %s\n%s", reference, where, detail)
    # Also on stderr: Reflex's own logging setup may not show this logger's records.
    print(f"dpa-panel: error {reference} in {where}\n{detail}", flush=True)  # noqa: T201


def generic_messages(reference: str) -> dict[str, str]:
    """``error.generic`` with the reference, in every language of the catalog."""
    return {
        code: catalog["error.generic"].format(id=reference) for code, catalog in CATALOGS.items()
    }


def backend_exception_handler(exception: Exception):
    """``rx.App(backend_exception_handler=...)``: log the detail, show a generic toast.

    The toast's text is chosen in the browser from the language it has stored, because this
    handler runs outside the tab's state (and must not touch the database or the state: the
    failure may be theirs).
    """
    import reflex as rx
    from reflex.vars import Var

    reference = new_reference()
    log_failure(exception, reference, "event handler")
    texts = generic_messages(reference)
    message = Var(
        _js_expr=(
            f"(({json.dumps(texts, ensure_ascii=False)})"
            f"[window.localStorage.getItem({json.dumps(LOCALE_STORAGE_KEY)})] ?? "
            f"{json.dumps(texts[DEFAULT_LOCALE], ensure_ascii=False)})"
        ),
        _var_type=str,
    )
    return rx.toast.error(message, id="dpa_error", duration=20000, fallback_to_alert=True)


def preferred_locale(accept_language: str) -> str:
    """The first catalog language named in an ``Accept-Language`` header (else the default)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in CATALOGS:
            return code
    return DEFAULT_LOCALE


def http_error_text(reference: str, accept_language: str) -> str:
    locale = preferred_locale(accept_language)
    return CATALOGS[locale]["error.generic"].format(id=reference)
