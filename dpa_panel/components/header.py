"""The header: brand, grouped navigation for the logged-in role, language switcher, who is
logged in, login/logout (issue 18, point 6).

The navigation is built per role at compile time from ``state.navigation.NAV_GROUPS`` (the
role comes from ``AuthState.me_role``): on a wide screen one row of group menus (a group with
one page is a plain link), which stays on one row at 1280 px in every language; on a phone and
a tablet the same groups in one menu. Who is logged in is shown on every width.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.i18n import LOCALES
from dpa_panel.services.permissions import ROLE_PERMISSIONS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.navigation import ACCOUNT_PAGE, nav_groups_for


def locale_switcher(element_id: str = "locale-switcher") -> rx.Component:
    """A compact select; the choice is stored in the browser's local storage."""
    return rx.select.root(
        rx.select.trigger(aria_label=t("locale.label"), id=element_id),
        rx.select.content(
            *[rx.select.item(t(f"locale.{code}"), value=code) for code in LOCALES],
        ),
        value=AppState.lang,
        on_change=AppState.choose_locale,
        size="2",
    )


def brand(compact: bool = False) -> rx.Component:
    """The shield and the panel's name; on a phone the name is the link's accessible name only
    (room for who is logged in)."""
    icon = rx.icon("shield-check", size=28, color=rx.color("teal", 10), aria_hidden="true")
    if compact:
        return rx.link(icon, href="/", underline="none", color="inherit",
                       aria_label=t("app.name"), id="brand-phone")  # fmt: skip
    return rx.link(
        rx.hstack(
            icon,
            rx.vstack(
                rx.text(t("app.name"), weight="bold", size="3", line_height="1.2"),
                rx.text(t("app.org"), size="1", color_scheme="gray", line_height="1.2"),
                spacing="0",
            ),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color="inherit",
    )


def _who(element_id: str, max_width: str | None = None) -> rx.Component:
    """The logged-in username, a link to the own account page; ``data-me-username`` marks it
    for the tests on every width."""
    return rx.link(
        rx.hstack(
            rx.icon("circle-user", size=16, aria_hidden="true"),
            rx.text(AuthState.me_username, as_="span", id=element_id, truncate=True,
                    max_width=max_width),
            spacing="1",
            align="center",
        ),
        href=ACCOUNT_PAGE[0],
        size="2",
        title=t("nav.account"),
        aria_label=t("nav.logged_in_as") + " " + AuthState.me_username + " — " + t("nav.account"),
        custom_attrs={"data-me-username": AuthState.me_username},
        underline="hover",
        color="inherit",
        white_space="nowrap",
    )  # fmt: skip


def account_area() -> rx.Component:
    """Logged in: who is logged in (a link to the account page) and log out. Otherwise: log in."""
    return rx.cond(
        AuthState.logged_in,
        rx.flex(
            _who("me-username"),
            rx.button(
                t("nav.logout"),
                on_click=AuthState.logout,
                variant="outline",
                size="1",
                id="logout-button",
            ),
            align="center",
            spacing="3",
        ),
        rx.link(t("nav.login"), href="/login", size="2", id="nav-login"),
    )


def _group_menu(label_key: str, items: list[dict]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                t(label_key),
                rx.icon("chevron-down", size=14, aria_hidden="true"),
                variant="ghost",
                size="2",
                color_scheme="gray",
                high_contrast=True,
                white_space="nowrap",
                class_name="dpa-nav-trigger",
            )
        ),
        rx.menu.content(
            *[
                rx.menu.item(rx.link(t(item["label"]), href=item["href"], underline="none"),
                             as_child=True)
                for item in items
            ],
        ),  # fmt: skip
    )


def _role_nav(role: str) -> rx.Component:
    children = []
    for group in nav_groups_for(role):
        if group["single"]:
            item = group["items"][0]
            children.append(rx.link(t(item["label"]), href=item["href"], size="2",
                                    weight="medium", white_space="nowrap", color_scheme="gray",
                                    high_contrast=True, class_name="dpa-nav-link"))  # fmt: skip
        else:
            children.append(_group_menu(group["label"], group["items"]))
    return rx.fragment(*children)


def nav_bar() -> rx.Component:
    """The role's groups on a row of their own under the brand."""
    return rx.cond(
        AuthState.logged_in,
        rx.el.nav(
            rx.flex(
                rx.match(
                    AuthState.me_role,
                    *[(role, _role_nav(role)) for role in ROLE_PERMISSIONS],
                    rx.fragment(),
                ),
                spacing="5",
                align="center",
                wrap="nowrap",
                padding_x="24px",
                padding_y="6px",
                max_width="1200px",
                margin_x="auto",
                id="nav-bar",
            ),
            aria_label=t("nav.main_label"),
            border_top=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        ),
    )


def _phone_role_nav(role: str) -> rx.Component:
    sections = []
    for group in nav_groups_for(role):
        sections.append(
            rx.box(
                rx.text(t(group["label"]), size="1", weight="bold", color_scheme="gray",
                        as_="div", padding_bottom="2px"),
                rx.el.ul(
                    *[rx.el.li(rx.link(t(item["label"]), href=item["href"], size="3",
                                       class_name="dpa-phone-link"))
                      for item in group["items"]],
                    class_name="dpa-phone-list",
                ),
                padding_y="6px",
            )
        )  # fmt: skip
    return rx.fragment(*sections)


def phone_menu() -> rx.Component:
    """On a phone or tablet the same groups in one menu (a native disclosure: keyboard and
    screen readers need nothing more), with the public pages and log in/out."""
    return rx.el.details(
        rx.el.summary(
            rx.icon("menu", size=20, aria_hidden="true"),
            rx.text(t("nav.menu"), as_="span", class_name="dpa-visually-hidden"),
            class_name="dpa-phone-summary",
            id="phone-menu",
        ),
        rx.el.nav(
            rx.cond(
                AuthState.logged_in,
                rx.match(
                    AuthState.me_role,
                    *[(role, _phone_role_nav(role)) for role in ROLE_PERMISSIONS],
                    rx.fragment(),
                ),
            ),
            rx.box(
                rx.text(t("nav.site_label"), size="1", weight="bold", color_scheme="gray",
                        as_="div", padding_bottom="2px"),
                rx.el.ul(
                    rx.el.li(rx.link(t("nav.privacy"), href="/privacy", size="3",
                                     class_name="dpa-phone-link")),
                    rx.el.li(rx.link(t("my.title"), href="/my", size="3",
                                     class_name="dpa-phone-link")),
                    rx.cond(AuthState.logged_in,
                            rx.el.li(rx.link(t("nav.account"), href=ACCOUNT_PAGE[0], size="3",
                                             class_name="dpa-phone-link"))),
                    class_name="dpa-phone-list",
                ),
                padding_y="6px",
            ),
            rx.cond(
                AuthState.logged_in,
                rx.button(t("nav.logout"), on_click=AuthState.logout, variant="outline",
                          color_scheme="red", size="2", id="logout-button-phone",
                          margin_top="6px"),
                rx.link(t("nav.login"), href="/login", size="3", id="nav-login-phone"),
            ),
            aria_label=t("nav.main_label"),
            class_name="dpa-phone-panel",
        ),  # fmt: skip
        class_name="dpa-phone-menu",
    )


def _bar(*children: rx.Component, element_id: str | None = None) -> rx.Component:
    return rx.flex(
        *children,
        align="center",
        spacing="3",
        padding_x=["12px", "24px"],
        padding_y="10px",
        max_width="1200px",
        margin_x="auto",
        id=element_id,
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.desktop_only(
            _bar(
                brand(),
                rx.spacer(),
                rx.flex(
                    rx.link(t("nav.privacy"), href="/privacy", size="2", id="nav-privacy",
                            white_space="nowrap"),
                    rx.link(t("my.title"), href="/my", size="2", id="nav-my",
                            white_space="nowrap"),
                    account_area(),
                    locale_switcher(),
                    align="center",
                    spacing="4",
                    wrap="nowrap",
                    justify="end",
                    flex_shrink="0",
                    id="top-bar-end",
                ),
                element_id="top-bar",
            ),
            nav_bar(),
        ),
        rx.mobile_and_tablet(
            _bar(
                brand(compact=True),
                rx.cond(AuthState.logged_in, _who("me-username-phone", max_width="34vw")),
                rx.spacer(),
                locale_switcher("locale-switcher-phone"),
                phone_menu(),
            ),
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        width="100%",
        position="relative",
    )
