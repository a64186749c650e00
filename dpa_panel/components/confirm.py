"""``confirm_dialog``: the one question asked before anything irreversible (issue 18, point 5).

A modal ``rx.alert_dialog`` whose title says what will happen and whose description names the
target ("Deactivate account «aigerim» (Compliance officer)?"). It is driven by the server: the
state's first handler stores the pending action in a backend-only var and opens the dialog;
the confirm button calls the state's confirm handler, which re-checks the permission and that
the pending target is still the one named (``state/confirming.py``). The dialog closes when
the state says so, never by itself, so a refusal stays visible.

Accessibility: Radix's alert dialog is ``role="alertdialog"`` with ``aria-labelledby`` (title)
and ``aria-describedby`` (description), traps focus while open and puts it on the Cancel
button first (the safe choice on Enter); Escape cancels (``on_open_change``).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


def confirm_dialog(
    open_: rx.Var | bool,
    title: rx.Var | str,
    description: rx.Var | str,
    *,
    confirm_key: str,
    cancel_key: str,
    on_confirm,
    on_cancel,
    text_id: str = "confirm-text",
    yes_id: str = "confirm-yes",
    no_id: str = "confirm-no",
    color_scheme: str = "red",
    body: rx.Component | None = None,
) -> rx.Component:
    """The question; ``title`` and ``description`` are catalog Vars (``t(...)``) or state
    Vars holding already-translated text; ``body`` is optional extra content (a list)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title, size="4"),
            rx.alert_dialog.description(description, size="2", id=text_id),
            body if body is not None else rx.fragment(),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(t(cancel_key), variant="soft", color_scheme="gray", id=no_id),
                ),
                rx.button(t(confirm_key), color_scheme=color_scheme, id=yes_id,
                          on_click=on_confirm),
                spacing="3",
                justify="end",
                wrap="wrap",
                margin_top="16px",
            ),
            max_width="520px",
        ),
        open=open_,
        # Cancel, Escape: Radix asks to close; the state forgets the pending action.
        on_open_change=on_cancel,
    )  # fmt: skip
