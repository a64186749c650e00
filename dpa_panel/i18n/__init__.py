"""The message catalog: every user-visible string in kk (default), ru and en.

One mechanism: a typed Python dict per language (``messages_<lang>.py``), plus feature parts
(``parts/<area>.py``, each with its three languages side by side) merged in here. Keys are dotted
(``area.thing``). ``tr`` is for server-side text (validation messages, exports); components use
``dpa_panel.components.i18n.t`` which reads the same catalog through the locale state.
"""

from __future__ import annotations

from dpa_panel.i18n.messages_en import MESSAGES as EN
from dpa_panel.i18n.messages_kk import MESSAGES as KK
from dpa_panel.i18n.messages_ru import MESSAGES as RU

LOCALES: tuple[str, ...] = ("kk", "ru", "en")
DEFAULT_LOCALE = "kk"

CATALOGS: dict[str, dict[str, str]] = {"kk": dict(KK), "ru": dict(RU), "en": dict(EN)}


def _merge_parts() -> None:
    from dpa_panel.i18n.parts import load_parts

    for name, messages in load_parts():
        for locale in LOCALES:
            clash = set(messages[locale]) & set(CATALOGS[locale])
            if clash:
                raise RuntimeError(f"catalog part {name!r} redefines {sorted(clash)}")
            CATALOGS[locale].update(messages[locale])


_merge_parts()


def normalise_locale(value: object) -> str:
    """A supported locale code; anything else (including hostile input) becomes the default."""
    return value if isinstance(value, str) and value in CATALOGS else DEFAULT_LOCALE


def catalog(locale: str) -> dict[str, str]:
    """The whole catalog of one locale."""
    return CATALOGS[normalise_locale(locale)]


def tr(locale: str, key: str, **params: object) -> str:
    """Translate ``key``; ``{name}`` placeholders are filled from ``params``.

    A missing key raises ``KeyError``: the completeness test makes that impossible in a
    release, and failing loudly in development beats showing a raw key to a user.
    """
    text = catalog(locale)[key]
    return text.format(**params) if params else text
