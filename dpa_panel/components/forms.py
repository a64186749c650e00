"""Form building blocks: labelled inputs and error/notice callouts, all text from the catalog."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


def _label(label_key: str, name: str, mark_required: bool) -> rx.Component:
    children = [t(label_key)]
    if mark_required:
        children.append(rx.text(" *", as_="span", color_scheme="red", aria_hidden="true"))
    return rx.text(*children, as_="label", html_for=name, size="2", weight="medium")


def _error(name: str, error: rx.Var) -> rx.Component:
    """The field's message, if any (a missing dict key is falsy in the browser too)."""
    return rx.cond(
        error, rx.text(error, size="1", color_scheme="red", id=f"{name}-error", role="alert")
    )


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

    ``required`` sets the browser's own check; forms whose messages must come from the
    catalog (the public form) pass ``required=False, mark_required=True`` instead.
    """
    children = [
        _label(label_key, name, mark_required),
        rx.input(
            name=name,
            id=name,
            type=type_,
            auto_complete=autocomplete,
            required=required,
            max_length=max_length,
            width="100%",
            size="3",
            aria_required="true" if mark_required else None,
            **input_props,
        ),
    ]
    if hint_key:
        children.append(rx.text(t(hint_key), size="1", color_scheme="gray"))
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
    **props,
) -> rx.Component:
    children = [
        _label(label_key, name, False),
        rx.text_area(
            name=name, id=name, max_length=max_length, rows=rows, width="100%", size="3", **props
        ),
    ]
    if hint_key:
        children.append(rx.text(t(hint_key), size="1", color_scheme="gray"))
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
        ),
    ]
    if error is not None:
        children.append(_error(name, error))
    return _stack(*children)


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
