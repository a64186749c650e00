"""Form building blocks: labelled inputs and error/notice callouts, all text from the catalog.

Every control made here is tied to its texts (issue 18, point 4): the ``<label for>`` names it,
``aria-describedby`` points at its hint and, when there is one, its error (``<name>-hint``,
``<name>-error``), and ``aria-invalid`` says whether that error is shown. No control sets the
browser's own ``required``: a form's messages are ours, in the visitor's language, from the
server (forms are built with ``no_validate``; see ``form``).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


def _label(label_key: str, name: str, mark_required: bool) -> rx.Component:
    children = [t(label_key)]
    if mark_required:
        children.append(rx.text(" *", as_="span", color_scheme="red", aria_hidden="true"))
    return rx.el.label(
        rx.text(*children, as_="span", size="2", weight="medium"),
        html_for=name,
        class_name="dpa-label",
    )


def _error(name: str, error: rx.Var) -> rx.Component:
    """The field's message, if any (a missing dict key is falsy in the browser too)."""
    return rx.cond(
        error, rx.text(error, size="1", color_scheme="red", id=f"{name}-error", role="alert")
    )


def _hint(name: str, hint_key: str) -> rx.Component:
    return rx.text(t(hint_key), size="1", color_scheme="gray", id=f"{name}-hint")


def described(name: str, *, error: rx.Var | None = None, hint: bool = False) -> dict:
    """``aria-describedby`` / ``aria-invalid`` of the control ``name`` (ids of ``_hint`` and
    ``_error``); only ids that are on the page are named."""
    hint_id = f"{name}-hint" if hint else ""
    if error is None:
        return {"aria_describedby": hint_id} if hint_id else {}
    with_error = f"{hint_id} {name}-error".strip()
    props = {"aria_invalid": error.bool()}
    props["aria_describedby"] = rx.cond(error, with_error, hint_id) if hint_id else rx.cond(
        error, with_error, None
    )
    return props


def _stack(*children: rx.Component) -> rx.Component:
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def field(
    label_key: str,
    name: str,
    *,
    type_: str = "text",
    autocomplete: str = "off",
    required: bool = True,
    error: rx.Var | None = None,
    hint_key: str | None = None,
    max_length: int | None = None,
    mark_required: bool = False,
    **input_props,
) -> rx.Component:
    """A label above an input; an optional hint and error below it.

    ``required`` is announced (``aria-required``), never checked by the browser: an empty
    field is answered by the server in the visitor's language. ``mark_required`` adds the
    visible asterisk as well.
    """
    children = [
        _label(label_key, name, mark_required),
        rx.input(
            name=name,
            id=name,
            type=type_,
            auto_complete=autocomplete,
            max_length=max_length,
            width="100%",
            size="3",
            aria_required="true" if (required or mark_required) else None,
            **described(name, error=error, hint=bool(hint_key)),
            **input_props,
        ),
    ]
    if hint_key:
        children.append(_hint(name, hint_key))
    if error is not None:
        children.append(_error(name, error))
    return _stack(*children)


def textarea_field(
    label_key: str,
    name: str,
    *,
    error: rx.Var | None = None,
    hint_key: str | None = None,
    max_length: int | None = None,
    rows: str = "3",
    required: bool = False,
    **props,
) -> rx.Component:
    children = [
        _label(label_key, name, False),
        rx.text_area(
            name=name, id=name, max_length=max_length, rows=rows, width="100%", size="3",
            aria_required="true" if required else None,
            **described(name, error=error, hint=bool(hint_key)),
            **props,
        ),
    ]  # fmt: skip
    if hint_key:
        children.append(_hint(name, hint_key))
    if error is not None:
        children.append(_error(name, error))
    return _stack(*children)


def select_field(
    label_key: str,
    name: str,
    options: list[tuple[str, rx.Var]],
    default: str,
    *,
    error: rx.Var | None = None,
) -> rx.Component:
    """A labelled native select (works without JavaScript quirks on phones)."""
    children = [
        _label(label_key, name, False),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in options],
            name=name,
            id=name,
            default_value=default,
            class_name="dpa-select",
            **described(name, error=error),
        ),
    ]
    if error is not None:
        children.append(_error(name, error))
    return _stack(*children)


def form(*children: rx.Component, **props) -> rx.Component:
    """``rx.form`` without the browser's own validation bubbles (they are in the browser's
    language, not the visitor's): the server's messages, tied to the fields, say what is
    wrong."""
    props.setdefault("no_validate", True)
    return rx.form(*children, **props)


def error_callout(message: rx.Var, element_id: str = "form-error") -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            id=element_id,
            width="100%",
        ),
    )


def notice_callout(message: rx.Var, element_id: str = "form-notice") -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="circle-check",
            color_scheme="green",
            role="status",
            id=element_id,
            width="100%",
        ),
    )
