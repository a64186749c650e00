"""The issue-17 handlers over the real event protocol: a breach detected "in the future" is
refused and nothing is stored; the profile refuses a BIN with a wrong check digit and keeps
the row; the admin can read the register but not record into it; a compliance officer cannot
edit the profile. (Every handler × every role without the permission is also covered by
``test_handler_access``.)"""

from __future__ import annotations

import json

from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.i18n import tr
from dpa_panel.state.breaches_state import BreachesState
from dpa_panel.state.org_state import ProfileState
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient

FUTURE = {
    "detected_at": "01.01.2099 10:00", "detected_by": "live", "description": "live test",
    "data_categories": "e-mail",
}  # fmt: skip


def _rows(engine, table: str) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def _dump(updates) -> str:
    return json.dumps(updates, ensure_ascii=False)


def test_breach_in_the_future_refused_and_nothing_stored(live_server):
    engine = make_engine(live_server.db_url)
    before = _rows(engine, "breach")
    name = BreachesState.get_full_name()
    with ReflexClient(live_server.url, login_cookie(live_server, "compliance")) as client:
        client.call(f"{name}.load", {}, path="/breaches")
        sent = _dump(client.call(f"{name}.record", {"form_data": FUTURE}, path="/breaches"))
    assert tr("kk", "breach.detected_in_future") in sent
    assert _rows(engine, "breach") == before
    engine.dispose()


def test_admin_reads_but_cannot_record_and_compliance_cannot_edit_profile(live_server):
    engine = make_engine(live_server.db_url)
    breaches_before, profile_before = _rows(engine, "breach"), _rows(engine, "organisation_profile")
    name, profile = BreachesState.get_full_name(), ProfileState.get_full_name()
    with ReflexClient(live_server.url, login_cookie(live_server, "admin")) as client:
        loaded = _dump(client.call(f"{name}.load", {}, path="/breaches"))
        assert "_redirect" not in loaded and "can_manage" in loaded
        refused = _dump(client.call(f"{name}.record",
                                    {"form_data": {**FUTURE, "detected_at": "01.01.2020 10:00"}},
                                    path="/breaches"))  # fmt: skip
        assert "_redirect" in refused and "/admin/users" in refused  # sent to its home
        bad = _dump(client.call(f"{profile}.save", {"form_data": {"bin": "180240005434"}},
                                path="/admin/organisation"))  # fmt: skip
        assert tr("kk", "profile.bad_bin") in bad
    with ReflexClient(live_server.url, login_cookie(live_server, "compliance")) as client:
        refused = _dump(client.call(f"{profile}.save", {"form_data": {"bin": "180240005439"}},
                                    path="/admin/organisation"))  # fmt: skip
        assert "_redirect" in refused and "/requests" in refused
    assert _rows(engine, "breach") == breaches_before
    assert _rows(engine, "organisation_profile") == profile_before
    engine.dispose()


def test_assessment_updated_over_the_protocol_and_bad_estimate_changes_nothing(live_server):
    from sqlalchemy import select
    from sqlmodel import Session

    from dpa_panel.db import session_scope
    from dpa_panel.models import StaffUser
    from dpa_panel.services import breaches
    from dpa_panel.services.audit import Actor
    from dpa_panel.state.breaches_state import BreachDetailState

    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        officer = s.scalars(select(StaffUser.id).where(StaffUser.username == "compliance")).one()
    with session_scope(engine) as s:
        bid = breaches.record_breach(s, Actor.user(officer), {
            **FUTURE, "detected_at": "02.03.2025 09:00", "containment": "бастапқы"}).id
    detail = BreachDetailState.get_full_name()
    path, query = f"/breaches/{bid}", {"breach_id": str(bid)}
    with ReflexClient(live_server.url, login_cookie(live_server, "compliance")) as client:
        client.call(f"{detail}.load", {}, path=path, query=query)
        before = _rows(engine, "breach")
        bad = _dump(client.call(f"{detail}.update", {"form_data": {"subjects_estimate": "-1"}},
                                path=path, query=query))  # fmt: skip
        assert tr("kk", "breach.bad_estimate") in bad and _rows(engine, "breach") == before
        ok = _dump(client.call(f"{detail}.update",
                               {"form_data": {"containment": "Құпиясөздер ауыстырылды"}},
                               path=path, query=query))  # fmt: skip
        assert tr("kk", "breach.updated") in ok
    with Session(engine) as s:
        assert breaches.get_breach(s, bid).containment == "Құпиясөздер ауыстырылды"
    # Closed again, so the shared server shows no countdown to the other tests.
    with session_scope(engine) as s:
        breaches.record_authority_notification(s, Actor.user(officer), bid,
                                               sent_at="02.03.2025 12:00", channel="email",
                                               reference="")  # fmt: skip
        breaches.close_breach(s, Actor.user(officer), bid, "live test")
    engine.dispose()
