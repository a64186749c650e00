"""The import page's handlers over the real protocol (issue 21): the upload goes to Reflex's
``/_upload`` endpoint exactly as the browser sends it; a role without ``members.import`` is
refused and nothing is read or written; the admin's preview carries column names, counts and
reasons but no person's data; a corrected mapping and the confirmation write the rows once."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.i18n import tr
from dpa_panel.state.import_state import ImportState
from tests.import_files import xlsx
from tests.live_server import login_cookie
from tests.reflex_client import ReflexClient

HEADER = ["Тегі", "Аты", "Байланыс арнасы 7", "E-mail", "Жұмыс орны", "Лауазымы",
          "Қабылданған күні"]  # fmt: skip
ROWS = [
    ["Жүктеуов", "Асқар", "87017770011", "live-import-1@mail.kz", "Egemen", "Тілші", "01.09.2019"],
    ["Жүктеуова", "Дана", "87017770012", "live-import-2@mail.kz", "Abai.kz", "Редактор",
     "2020-02-03"],
    ["Жүктеуов", "Ерік", "87017770013", "live-import-1@mail.kz", "Abai.kz", "Редактор",
     "2020-02-03"],
]  # fmt: skip
PERSONAL = ["Жүктеуов", "live-import-1@mail.kz", "87017770011", "Асқар"]
STATE = ImportState.get_full_name()


def _upload(live_server, client: ReflexClient, data: bytes) -> str:
    response = httpx.post(
        f"{live_server.url}/_upload",
        headers={"reflex-client-token": client.token,
                 "reflex-event-handler": f"{STATE}.handle_upload"},
        files={"files": ("тізілім.xlsx", data,
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        timeout=60,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.text


def _count(engine, email: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM data_subject WHERE email = :e"),
                            {"e": email}).scalar()  # fmt: skip


def test_a_role_without_the_permission_cannot_upload_or_confirm(live_server):
    engine = make_engine(live_server.db_url)
    data = xlsx(HEADER, ROWS)
    try:
        for role in ("board", "staff", "compliance"):
            with ReflexClient(live_server.url, login_cookie(live_server, role)) as client:
                sent = _upload(live_server, client, data)
                sent += json.dumps(client.call(f"{STATE}.confirm", {}, path="/admin/import"),
                                   ensure_ascii=False)  # fmt: skip
            assert "Байланыс арнасы 7" not in sent and not any(v in sent for v in PERSONAL), role
        assert _count(engine, "live-import-1@mail.kz") == 0
    finally:
        engine.dispose()


def test_admin_previews_corrects_and_imports_once(live_server):
    engine = make_engine(live_server.db_url)
    data = xlsx(HEADER, ROWS)
    try:
        with ReflexClient(live_server.url, login_cookie(live_server, "admin")) as client:
            client.call(f"{STATE}.load", {}, path="/admin/import")
            sent = _upload(live_server, client, data)
            # the phone column is not recognised: the file is refused until it is mapped
            assert tr("kk", "subject.phone") in sent and "Байланыс арнасы 7" in sent
            fixed = json.dumps(client.call(f"{STATE}.set_field", {"index": "2", "value": "phone"},
                                           path="/admin/import"), ensure_ascii=False)  # fmt: skip
            assert tr("kk", "import.duplicate_in_file", row=2) in fixed
            # never a person's data in the state sent to the browser
            assert not any(v in sent + fixed for v in PERSONAL)
            client.call(f"{STATE}.ask_confirm", {}, path="/admin/import")
            done = json.dumps(client.call(f"{STATE}.confirm", {}, path="/admin/import"),
                              ensure_ascii=False)  # fmt: skip
            assert tr("kk", "import.done", count=2, consents=0) in done
            again = json.dumps(client.call(f"{STATE}.confirm", {}, path="/admin/import"),
                               ensure_ascii=False)  # fmt: skip
            assert "ештеңе қосылмады" in again
        assert _count(engine, "live-import-1@mail.kz") == 1
        assert _count(engine, "live-import-2@mail.kz") == 1
    finally:
        engine.dispose()


def _invited(engine, email: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM outbox_message WHERE recipient = :e "
                                 "AND purpose = 'reconsent'"), {"e": email}).scalar()  # fmt: skip


def test_admin_invites_after_being_asked_once_and_only_once(live_server):
    """Re-consent invitations: nothing is queued without the confirmation step; the question
    names how many people; a second run queues nothing; no address reaches the browser."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import reconsent

    engine = make_engine(live_server.db_url)
    rows = [["Шақыруов", "Бекзат", "87017770021", "live-invite-1@mail.kz", "Egemen", "Тілші",
             "01.09.2019"]]  # fmt: skip
    try:
        with ReflexClient(live_server.url, login_cookie(live_server, "admin")) as client:
            client.call(f"{STATE}.load", {}, path="/admin/import")
            _upload(live_server, client, xlsx(HEADER, rows))
            client.call(f"{STATE}.set_field", {"index": "2", "value": "phone"},
                        path="/admin/import")  # fmt: skip
            client.call(f"{STATE}.ask_confirm", {}, path="/admin/import")
            client.call(f"{STATE}.confirm", {}, path="/admin/import")
            assert _count(engine, "live-invite-1@mail.kz") == 1
            # the final step alone (a forged call) does nothing: no state change, no mail
            with pytest.raises(TimeoutError):
                client.call(f"{STATE}.invite", {}, path="/admin/import", timeout=5)
            assert _invited(engine, "live-invite-1@mail.kz") == 0
            with session_scope(engine) as s:
                pending = reconsent.pending_count(s)
            asked = json.dumps(client.call(f"{STATE}.ask_invite", {}, path="/admin/import"),
                               ensure_ascii=False)  # fmt: skip
            assert tr("kk", "import.invite_confirm_text", count=pending) in asked
            done = json.dumps(client.call(f"{STATE}.invite", {}, path="/admin/import"),
                              ensure_ascii=False)  # fmt: skip
            assert tr("kk", "import.invite_done", queued=pending, already=0) in done
            assert _invited(engine, "live-invite-1@mail.kz") == 1
            again = json.dumps(client.call(f"{STATE}.ask_invite", {}, path="/admin/import"),
                               ensure_ascii=False)  # fmt: skip
            assert tr("kk", "import.invite_none") in again
            assert "live-invite-1@mail.kz" not in asked + done + again
        assert _invited(engine, "live-invite-1@mail.kz") == 1
    finally:
        engine.dispose()
