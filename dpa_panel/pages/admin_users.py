"""``/admin/users``: create accounts, change roles, deactivate, reset passwords, clear login
limits, reset a lost second factor (after a question naming the account)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.forms import error_callout, field, form, notice_callout, select_field
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.models.vocab import ROLES
from dpa_panel.state.admin_state import AdminState
from dpa_panel.state.app_state import AppState


def _role_options() -> list[tuple[str, rx.Var]]:
    return [(role, t(f"role.{role}")) for role in ROLES]


def create_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("accounts.create_title"), size="4", as_="h2"),
                rx.grid(
                    field(
                        "auth.username",
                        "new_username",
                        max_length=64,
                        hint_key="accounts.username_hint",
                    ),
                    field("account.full_name", "new_full_name", max_length=200),
                    select_field("account.role", "new_role", _role_options(), "staff"),
                    field(
                        "accounts.initial_password",
                        "new_password",
                        type_="password",
                        autocomplete="new-password",
                        hint_key="password.rules",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                error_callout(AdminState.create_error, "create-error"),
                rx.button(t("accounts.create"), type="submit", id="create-account"),
                spacing="4",
                width="100%",
                align="start",
            ),
            on_submit=AdminState.create,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _status_badges(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row["active"] != "",
            rx.badge(t("accounts.active"), color_scheme="green"),
            rx.badge(t("accounts.inactive"), color_scheme="gray"),
        ),
        rx.cond(row["locked"] != "", rx.badge(t("accounts.locked"), color_scheme="red")),
        rx.cond(row["two_factor"] != "", rx.badge(t("two_factor.badge"), color_scheme="teal")),
        rx.cond(
            row["must_change"] != "", rx.badge(t("accounts.must_change"), color_scheme="amber")
        ),
        spacing="1",
        wrap="wrap",
    )


def _role_select(row: rx.Var) -> rx.Component:
    user_id = row["id"].to(str)
    return rx.select.root(
        rx.select.trigger(aria_label=t("account.role")),
        rx.select.content(*[rx.select.item(t(f"role.{role}"), value=role) for role in ROLES]),
        value=row["role"].to(str),
        # Asks first, naming the account and both roles; never for one's own account.
        on_change=lambda role: AdminState.ask("role", user_id, role),
        disabled=user_id == AdminState.own_id,
        size="1",
    )


def _actions(row: rx.Var) -> rx.Component:
    user_id = row["id"].to(str)
    username = row["username"].to(str)
    return rx.flex(
        rx.cond(
            row["active"] != "",
            rx.cond(
                user_id == AdminState.own_id,
                rx.badge(t("confirm.own_account"), color_scheme="gray", variant="outline"),
                rx.button(
                    t("accounts.deactivate"),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=AdminState.ask("deactivate", user_id, ""),
                    aria_label=t("accounts.deactivate") + " " + username,
                    id="deactivate-" + username,
                ),
            ),
            rx.button(
                t("accounts.activate"),
                size="1",
                variant="soft",
                on_click=AdminState.activate(user_id),
            ),
        ),
        rx.button(
            t("accounts.reset_password"),
            size="1",
            variant="soft",
            on_click=AdminState.ask("reset_password", user_id, ""),
            aria_label=t("accounts.reset_password") + " " + username,
            id="reset-password-" + username,
        ),
        rx.cond(
            row["locked"] != "",
            rx.button(
                t("accounts.unlock"), size="1", variant="soft", on_click=AdminState.unlock(user_id)
            ),
        ),
        rx.cond(
            row["two_factor"] != "",
            rx.button(
                t("two_factor.reset"),
                size="1",
                variant="soft",
                color_scheme="orange",
                on_click=AdminState.ask_reset_two_factor(user_id),
                id="reset-2fa-" + row["username"].to(str),
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(row["username"], weight="medium"), rx.text(row["full_name"], size="1")
        ),
        rx.table.cell(_role_select(row)),
        rx.table.cell(_status_badges(row)),
        rx.table.cell(row["last_login"]),
        rx.table.cell(_actions(row)),
        id="account-" + row["username"].to(str),
    )


def _card(row: rx.Var) -> rx.Component:
    """The same account as a card, for phones."""
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.text(row["username"], weight="bold"),
                rx.text(row["full_name"], size="1", color_scheme="gray"),
                spacing="0",
            ),
            _role_select(row),
            _status_badges(row),
            rx.text(
                t("accounts.last_login"), ": ", row["last_login"], size="1", color_scheme="gray"
            ),
            _actions(row),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="account-card-" + row["username"].to(str),
    )


def temporary_password_callout() -> rx.Component:
    return rx.cond(
        AdminState.temporary_password != "",
        rx.callout(
            rx.text(
                AppState.t["accounts.temporary_password"].to(str),
                " ",
                rx.text(AdminState.temporary_for, as_="span", weight="bold"),
                ": ",
                rx.code(AdminState.temporary_password, id="temporary-password"),
            ),
            icon="key-round",
            color_scheme="amber",
            width="100%",
        ),
    )


def reset_two_factor_question() -> rx.Component:
    """The irreversible reset asks first, naming the account."""
    return confirm_dialog(
        AdminState.reset_two_factor_for != "",
        t("two_factor.reset"),
        AdminState.reset_two_factor_question,
        confirm_key="two_factor.reset",
        cancel_key="two_factor.cancel",
        on_confirm=AdminState.reset_two_factor,
        on_cancel=AdminState.cancel_reset_two_factor,
        text_id="reset-2fa-question",
        yes_id="reset-2fa-confirm",
        no_id="reset-2fa-cancel",
        color_scheme="orange",
    )


def account_question() -> rx.Component:
    """Deactivate, role change, password reset: asked first, naming the account."""
    return confirm_dialog(
        AdminState.confirm_open,
        AdminState.confirm_title,
        AdminState.confirm_text,
        confirm_key="confirm.yes",
        cancel_key="confirm.cancel",
        on_confirm=AdminState.confirm(AdminState.confirm_token),
        on_cancel=AdminState.cancel_confirm,
    )


def admin_users_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("accounts.title"), size="7", as_="h1"),
            notice_callout(AdminState.notice, "accounts-notice"),
            error_callout(AdminState.action_error, "accounts-error"),
            temporary_password_callout(),
            reset_two_factor_question(),
            account_question(),
            rx.desktop_only(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("auth.username")),
                            rx.table.column_header_cell(t("account.role")),
                            rx.table.column_header_cell(t("accounts.status")),
                            rx.table.column_header_cell(t("accounts.last_login")),
                            rx.table.column_header_cell(t("accounts.actions")),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminState.accounts, _row)),
                    size="2",
                ),
                width="100%",
            ),
            rx.mobile_and_tablet(
                rx.vstack(rx.foreach(AdminState.accounts, _card), spacing="3", width="100%"),
                width="100%",
            ),
            create_form(),
            spacing="4",
            align="start",
            width="100%",
        ),
    )
