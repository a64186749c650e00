"""The public form over the real event protocol, as an attacker calls it (issue 15, hole 6).

Any browser can send ``ApplyState.submit`` any JSON. Non-text values (``{"$gt": ""}``,
lists, numbers) and names with bidi, zero-width or line-separator characters must come back
as per-field messages with nothing stored — not as Python reprs in the register.
"""

from __future__ import annotations

from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.i18n import tr
from dpa_panel.state.apply_state import ApplyState
from tests.pipeline_helpers import form
from tests.reflex_client import ReflexClient


def _stored(db_url: str) -> tuple[int, int, list[str]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            subjects = conn.execute(text("SELECT count(*) FROM data_subject")).scalar()
            consents = conn.execute(text("SELECT count(*) FROM consent")).scalar()
            odd = [
                row[0]
                for row in conn.execute(text("SELECT surname FROM data_subject"))
                if any(ch in row[0] for ch in "{}[]\u202e\u200b\u2028")
            ]
    finally:
        engine.dispose()
    return subjects, consents, odd


def test_bad_values_are_refused_over_the_wire(live_server):
    before = _stored(live_server.db_url)
    name = f"{ApplyState.get_full_name()}.submit"
    cases = [
        ({"surname": {"$gt": ""}}, "field.not_text"),
        ({"first_name": ["a", "b"]}, "field.not_text"),
        ({"experience_years": 7}, "field.not_text"),
        ({"surname": "Али\u202eвоН"}, "field.invisible_chars"),
        ({"first_name": "Ай\u200bгүл"}, "field.invisible_chars"),
        ({"position": "Редактор\u2028Бас"}, "field.line_break"),
        ({"consent_informing": {"$ne": None}}, "apply.bad_input"),
    ]
    with ReflexClient(live_server.url) as client:
        client.call(f"{ApplyState.get_full_name()}.load", {}, path="/apply")
        for overrides, key in cases:
            since = len(client.updates)
            payload = {**form(), "consent_application_review": "on", **overrides}
            client.call(name, {"form_data": payload}, path="/apply")
            assert client.wait_for(tr("kk", key), since=since), (overrides, key)
        since = len(client.updates)
        client.call(name, {"form_data": ["surname", "x"]}, path="/apply")
        assert client.wait_for(tr("kk", "apply.bad_input"), since=since)
    after = _stored(live_server.db_url)
    assert after[:2] == before[:2], "nothing may be stored"
    assert after[2] == []
