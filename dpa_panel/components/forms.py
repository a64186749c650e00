"""Form building blocks: labelled inputs and error/notice callouts, all text from the catalog."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


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
    **input_props,
) -> rx.Component:
    """A label above an input; an optional error below it in red."""
    children = [
        rx.text(t(label_key), as_="label", html_for=name, size="2", weight="medium"),
        rx.input(
            name=name,
            id=name,
            type=type_,
            auto_complete=autocomplete,
            required=required,
            max_length=max_length,
            width="100%",
            size="3",
            **input_props,
        ),
    ]
    if hint_key:
        children.append(rx.text(t(hint_key), size="1", color_scheme="gray"))
    if error is not None:
        children.append(
            rx.cond(error != "", rx.text(error, size="1", color_scheme="red", id=f"{name}-error"))
        )
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


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


def select_field(
    label_key: str, name: str, options: list[tuple[str, rx.Var]], default: str
) -> rx.Component:
    """A labelled native select (works without JavaScript quirks on phones)."""
    return rx.vstack(
        rx.text(t(label_key), as_="label", html_for=name, size="2", weight="medium"),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in options],
            name=name,
            id=name,
            default_value=default,
            class_name="dpa-select",
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )
