"""Ask first, then act: the server side of ``components.confirm.confirm_dialog`` (issue 18).

A state that asks before an irreversible action declares the four vars below (Reflex needs
them on the state class itself) and uses these helpers:

* ``ask(state, token, title, text)``: the first handler has checked the target exists (and
  may be acted on) and stores ``token`` — the action and its target, e.g. ``deactivate:12`` —
  in the backend-only ``_pending``; the dialog opens with the text naming the target;
* ``take(state, token)``: the confirm handler (itself behind ``@requires``, so the role is
  checked again) acts only if ``token`` is the pending one; the pending action is forgotten
  either way, and a stale or mismatched confirmation shows ``confirm.stale`` and changes
  nothing;
* ``forget(state)``: cancel.

Vars to declare::

    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    confirm_token: str = ""
    _pending: str = ""
"""

from __future__ import annotations

from dpa_panel.i18n import tr


def ask(state, token: str, title: str, text: str) -> None:
    state._pending = token
    state.confirm_token = token
    state.confirm_title, state.confirm_text = title, text
    state.confirm_open = True


def forget(state) -> None:
    state._pending = ""
    state.confirm_token = state.confirm_title = state.confirm_text = ""
    state.confirm_open = False


def take(state, token: str) -> bool:
    """True when ``token`` is the action the dialog asked about (then it is consumed)."""
    pending = state._pending
    forget(state)
    if not pending or str(token) != pending:
        state.action_error = tr(state.locale, "confirm.stale")
        return False
    return True


def parts(token: str, n: int) -> list[str]:
    """``token`` split into exactly ``n`` parts (missing ones are "")."""
    out = str(token).split(":", n - 1)
    return out + [""] * (n - len(out))
