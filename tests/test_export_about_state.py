"""The "About this file" link (issue 18 gaps; decision 18-gaps-1) through the real handler and
its ``requires`` guard: the owner of the latest CSV export gets a download ticket for its
companion text; a role that may not make that export is refused (and audited); nobody gets
another account's About; no export yet is a message, not a ticket."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.exports import EXPORTS
from dpa_panel.models import AuditEvent
from dpa_panel.models.account import OneTimeTicket
from dpa_panel.services import auth
from dpa_panel.state import export_about_state
from dpa_panel.state.export_about_state import ABOUT_KINDS, ExportAboutState
from tests.test_confirm import _account, _call, _state


@pytest.fixture
def people(engine):
    with Session(engine) as s:
        ids = {"aigerim": _account(s, "aigerim", "compliance"),
               "dana": _account(s, "dana", "compliance"),
               "bolat": _account(s, "bolat", "staff")}  # fmt: skip
        s.commit()
    return ids


@pytest.fixture
def paths(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(export_about_state, "start_download",
                        lambda path: seen.append(path) or "download")  # fmt: skip
    return seen


def _tickets(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(OneTimeTicket)
                        .where(OneTimeTicket.purpose == "download"))  # fmt: skip


def _denials(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "access.denied"))  # fmt: skip


def _export(kind: str, user_id: int) -> None:
    b"".join(EXPORTS[kind].stream({"kind": kind, "language": "en"}, user_id))


def test_every_csv_kind_is_offered_on_a_page():
    """Each CSV kind has its link on a page (the component's id in the page source)."""
    from pathlib import Path

    pages = "".join(p.read_text() for p in Path("dpa_panel/pages").glob("*.py"))
    assert ABOUT_KINDS == {k for k in EXPORTS if k.endswith("_csv")}
    for kind in ABOUT_KINDS:
        assert f'about_link("{kind}")' in pages, kind


def test_owner_gets_the_about_of_the_latest_export(engine, monkeypatch, people, paths):
    owner, other = people["aigerim"], people["dana"]
    _export("audit_csv", owner)
    _export("audit_csv", owner)
    _export("audit_csv", other)
    st = _state(ExportAboutState, engine, monkeypatch, owner)
    assert _call(st, ExportAboutState.download_about, "audit_csv") == "download"
    raw = paths[-1].rsplit("/", 1)[1]
    with Session(engine) as s:
        ticket = auth.redeem_ticket(s, raw, "download", user_id=owner)
        assert ticket is not None
        params = json.loads(ticket.params)
        latest = s.scalar(select(func.max(AuditEvent.id)).where(
            AuditEvent.action == "export.file", AuditEvent.actor_id == owner))  # fmt: skip
        s.commit()
    assert params == {"kind": "export_about", "event_id": latest}
    text = b"".join(EXPORTS["export_about"].stream(params, owner)).decode("utf-8-sig")
    assert "SHA-256" in text and "aigerim" in text
    # The same event fetched by another account yields nothing (enforced at the download).
    assert b"".join(EXPORTS["export_about"].stream(params, other)) == b""


def test_no_export_yet_is_a_message_not_a_ticket(engine, monkeypatch, people, paths):
    st = _state(ExportAboutState, engine, monkeypatch, people["aigerim"])
    before = _tickets(engine)
    _call(st, ExportAboutState.download_about, "acts_csv")
    assert paths == [] and _tickets(engine) == before


def test_a_role_without_the_export_is_refused(engine, monkeypatch, people, paths):
    """Staff may not export the audit trail: refused and audited, even if an event existed."""
    staff = people["bolat"]
    _export("audit_csv", staff)  # an event of their own (the service does not check roles)
    st = _state(ExportAboutState, engine, monkeypatch, staff)
    before, denied = _tickets(engine), _denials(engine)
    _call(st, ExportAboutState.download_about, "audit_csv")
    assert paths == [] and _tickets(engine) == before and _denials(engine) == denied + 1
    # An unknown or non-CSV kind is refused the same way.
    st = _state(ExportAboutState, engine, monkeypatch, people["aigerim"])
    for kind in ("subject_report_pdf", "nonsense", "export_about"):
        _call(st, ExportAboutState.download_about, kind)
    assert paths == [] and _denials(engine) == denied + 4


def test_anonymous_is_sent_to_login(engine, monkeypatch, people, paths):
    st = _state(ExportAboutState, engine, monkeypatch, None)
    denied = _denials(engine)
    _call(st, ExportAboutState.download_about, "audit_csv")
    assert paths == [] and _denials(engine) == denied + 1
