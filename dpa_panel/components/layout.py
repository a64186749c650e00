"""The page frame every page is composed into."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.inline import A

from dpa_panel.components.header import header
from dpa_panel.components.i18n import t
from dpa_panel.state.app_state import AppState

#: In ``<head>``: a table that scrolls sideways (Radix's scroll area, e.g. on a phone) gets
#: ``tabindex=0`` so it can be scrolled from the keyboard (axe "scrollable-region-focusable");
#: one that fits gets none (no useless tab stop). Re-checked on DOM changes and resizes.
SCROLLABLE_FOCUS_SCRIPT = """
(function () {
  var pending = false;
  function mark() {
    pending = false;
    document.querySelectorAll('.rt-ScrollAreaViewport').forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if (scrolls && !el.hasAttribute('tabindex')) { el.setAttribute('tabindex', '0'); }
      if (!scrolls && el.getAttribute('tabindex') === '0') { el.removeAttribute('tabindex'); }
    });
  }
  function later() { if (!pending) { pending = true; requestAnimationFrame(mark); } }
  new MutationObserver(later).observe(document.documentElement, {childList: true, subtree: true});
  window.addEventListener('resize', later);
})();
"""


def footer() -> rx.Component:
    """The operator (organisation profile, issue 17) and where the data is kept."""
    from dpa_panel.state.org_state import OrgFooterState

    return rx.el.footer(
        rx.cond(
            OrgFooterState.footer_line != "",
            rx.text(OrgFooterState.footer_line, size="1", color_scheme="gray",
                    id="footer-operator"),
        ),  # fmt: skip
        rx.text(t("footer.data_location"), size="1", color_scheme="gray"),
        padding_x=["12px", "24px"],
        padding_y="16px",
        max_width="1200px",
        margin_x="auto",
        width="100%",
    )


def refused_notice() -> rx.Component:
    """Shown on the start page a role was sent to from a page it may not open."""
    return rx.cond(
        AppState.refused,
        rx.callout(t("shell.refused"), icon="info", color_scheme="amber", role="status",
                   id="refused-notice", width="100%", margin_bottom="16px"),
    )  # fmt: skip


def page_shell(*children: rx.Component) -> rx.Component:
    """Skip link, header (with the navigation), the main column, footer — as landmarks.

    ``main`` carries ``data-hydrated`` (the page's on_load ran) and ``data-lang`` (the
    language shown): the browser tests wait for them instead of for time.
    """
    return rx.fragment(
        # A plain <a> (``rx.el.a`` is a router link): the browser moves the focus to #main.
        A.create(t("app.skip_to_content"), href="#main", class_name="dpa-skip-link",
                 id="skip-link"),
        rx.flex(
            header(),
            rx.el.main(
                refused_notice(),
                *children,
                id="main",
                tab_index=-1,
                custom_attrs={"data-hydrated": rx.State.is_hydrated, "data-lang": AppState.lang},
                padding_x=["12px", "24px"],
                padding_y=["16px", "32px"],
                max_width="1200px",
                margin_x="auto",
                width="100%",
                flex="1",
            ),
            footer(),
            direction="column",
            min_height="100vh",
        ),
    )  # fmt: skip


def back_link(label_key: str, href: str) -> rx.Component:
    """ "← Applications": the way back from a detail page to its list."""
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=14), t(label_key), spacing="1", align="center"),
        href=href,
        size="2",
    )
