"""Catalog parts: one module per feature area, each with ``KK``, ``RU`` and ``EN`` dicts.

The three ``messages_<lang>.py`` files hold the base catalog; a feature added later keeps its
sentences together in ``parts/<area>.py`` so that its three languages are reviewed side by
side and two features never edit the same file. ``dpa_panel.i18n`` merges every part into
the catalogs at import and refuses a key defined twice.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_parts() -> list[tuple[str, dict[str, dict[str, str]]]]:
    """Every part module as ``(name, {"kk": ..., "ru": ..., "en": ...})``, in name order."""
    parts = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        parts.append(
            (info.name, {"kk": module.KK, "ru": module.RU, "en": module.EN})
        )
    return parts
