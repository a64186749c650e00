"""Runtime settings read from the environment.

One place for every knob, so that deployment documentation can list them and tests can
override them. Values are read at call time (not import time) so tests can monkeypatch env.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "dpa_panel.db"

#: Time zone in which every date is shown to users (timestamps are stored in UTC).
DISPLAY_TZ = "Asia/Almaty"


def database_url() -> str:
    """The SQLAlchemy URL: ``DPA_DATABASE_URL`` or the embedded SQLite file."""
    url = os.environ.get("DPA_DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgresql://"):
            # Pin the driver we ship (psycopg 3) instead of SQLAlchemy's psycopg2 default.
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"
