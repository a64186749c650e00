"""Issue 18, point 5: ask first, naming the target, then act — through the real handlers and
their ``requires`` guard, on both engines. Covers: a denied role, one's own account refused, a
stale or mismatched confirmation changing nothing, cancel, the readable sweep preview (audited)
and the legal-hold subject search; plus the board's per-column limits in SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import AuditEvent, DataSubject, DestructionAct, LegalHold, StaffUser
from dpa_panel.models.requests import Holiday
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, auth, calendar, sweep_preview
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.state import guard
from tests.handler_call import run_handler
from tests.test_retention import NOW, make

PW = "Long-Enough-Password-For-Admins-1"
DAY = timedelta(days=1)


def _account(s, username: str, role: str) -> int:
    user = accounts.create_account(
        s, Actor.system(), username=username, full_name=username.title(), role=role,
        password=PW, must_change_password=False,
    )  # fmt: skip
    return user.id


@pytest.fixture
def people(engine):
    with Session(engine) as s:
        ids = {
            "root": _account(s, "root", "admin"),
            "second": _account(s, "second", "admin"),
            "aigerim": _account(s, "aigerim", "compliance"),
            "bolat": _account(s, "bolat", "staff"),
        }
        s.commit()
    return ids


def _token(engine, user_id: int) -> str:
    with Session(engine) as s:
        ticket = auth.issue_ticket(s, user_id, "login")
        token, _row = auth.start_session(s, ticket)
        s.commit()
    return token


def _state(cls, engine, monkeypatch, user_id: int | None, locale: str = "en"):
    """A fresh tab of ``cls`` whose websocket carries ``user_id``'s session cookie."""
    from reflex.state import State

    import dpa_panel.dpa_panel  # noqa: F401  (registers the app's states)

    token = _token(engine, user_id) if user_id else ""
    monkeypatch.setattr(guard, "session_token", lambda _state: token)
    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.locale = locale
    return state


def _call(state, handler, *args):
    return run_handler(handler.fn(state, *args))


def _user(engine, user_id: int) -> StaffUser:
    with Session(engine) as s:
        return s.get(StaffUser, user_id)


def _audits(engine, action: str) -> int:
    with Session(engine) as s:
        return s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


# --- accounts ----------------------------------------------------------------------------------


def test_deactivate_asks_naming_the_account_then_acts(engine, monkeypatch, people):
    from dpa_panel.state.admin_state import AdminState

    st = _state(AdminState, engine, monkeypatch, people["root"])
    _call(st, AdminState.load)
    _call(st, AdminState.ask, "deactivate", str(people["aigerim"]), "")
    assert st.confirm_open and st.action_error == ""
    assert st.confirm_text == tr(
        "en", "confirm.deactivate.text", username="aigerim", role=tr("en", "role.compliance")
    )
    assert f"«aigerim» ({tr('en', 'role.compliance')})" in st.confirm_text
    assert _user(engine, people["aigerim"]).is_active, "asking changes nothing"
    _call(st, AdminState.confirm, st.confirm_token)
    assert not st.confirm_open and st.notice == tr("en", "accounts.deactivated")
    assert not _user(engine, people["aigerim"]).is_active


def test_cancel_and_stale_or_mismatched_confirmations_change_nothing(engine, monkeypatch, people):
    from dpa_panel.state.admin_state import AdminState

    st = _state(AdminState, engine, monkeypatch, people["root"])
    _call(st, AdminState.load)
    _call(st, AdminState.ask, "deactivate", str(people["aigerim"]), "")
    _call(st, AdminState.cancel_confirm)
    assert not st.confirm_open and st.confirm_token == ""
    # After cancel, the old token is stale.
    _call(st, AdminState.confirm, f"deactivate:{people['aigerim']}:")
    assert st.action_error == tr("en", "confirm.stale")
    assert _user(engine, people["aigerim"]).is_active
    # Asked about aigerim, a crafted confirmation for bolat is refused (and consumes the ask).
    _call(st, AdminState.ask, "deactivate", str(people["aigerim"]), "")
    _call(st, AdminState.confirm, f"deactivate:{people['bolat']}:")
    assert st.action_error == tr("en", "confirm.stale") and not st.confirm_open
    _call(st, AdminState.confirm, f"deactivate:{people['aigerim']}:")
    assert st.action_error == tr("en", "confirm.stale"), "the refused ask is gone"
    assert _user(engine, people["aigerim"]).is_active and _user(engine, people["bolat"]).is_active
    # A role ask confirmed as a deactivation: refused too.
    _call(st, AdminState.ask, "role", str(people["bolat"]), "board")
    _call(st, AdminState.confirm, f"deactivate:{people['bolat']}:")
    assert st.action_error == tr("en", "confirm.stale")
    assert _user(engine, people["bolat"]).role == "staff"


def test_ones_own_account_cannot_be_deactivated_or_demoted(engine, monkeypatch, people):
    from dpa_panel.state.admin_state import AdminState

    st = _state(AdminState, engine, monkeypatch, people["root"])
    _call(st, AdminState.load)
    assert st.own_id == str(people["root"])
    for kind, value in (("deactivate", ""), ("role", "staff")):
        _call(st, AdminState.ask, kind, str(people["root"]), value)
        assert st.action_error == tr("en", "confirm.not_self") and not st.confirm_open
    # Even a hand-made confirmation is refused by the service (the other admin exists, so it
    # is not the last-admin rule that stops it).
    st._pending = st.confirm_token = f"deactivate:{people['root']}:"
    _call(st, AdminState.confirm, f"deactivate:{people['root']}:")
    assert st.action_error == tr("en", "confirm.not_self")
    me = _user(engine, people["root"])
    assert me.is_active and me.role == "admin"
    with Session(engine) as s, pytest.raises(ServiceError) as err:
        accounts.change_role(s, Actor.user(people["root"]), people["root"], "board")
    assert err.value.key == "confirm.not_self"


def test_role_change_and_password_reset_ask_first(engine, monkeypatch, people):
    from dpa_panel.state.admin_state import AdminState

    st = _state(AdminState, engine, monkeypatch, people["root"])
    _call(st, AdminState.load)
    _call(st, AdminState.ask, "role", str(people["bolat"]), "board")
    assert "«bolat»" in st.confirm_text and tr("en", "role.board") in st.confirm_text
    assert _user(engine, people["bolat"]).role == "staff"
    _call(st, AdminState.confirm, st.confirm_token)
    assert _user(engine, people["bolat"]).role == "board"

    before = _user(engine, people["aigerim"]).password_hash
    _call(st, AdminState.ask, "reset_password", str(people["aigerim"]), "")
    assert "«aigerim»" in st.confirm_text and st.temporary_password == ""
    assert _user(engine, people["aigerim"]).password_hash == before
    _call(st, AdminState.confirm, st.confirm_token)
    assert st.temporary_password and st.temporary_for == "aigerim"
    assert _user(engine, people["aigerim"]).password_hash != before


def test_a_denied_role_cannot_ask_or_confirm(engine, monkeypatch, people):
    from dpa_panel.state.admin_state import AdminState

    st = _state(AdminState, engine, monkeypatch, people["bolat"])
    denied = _audits(engine, "access.denied")
    _call(st, AdminState.ask, "deactivate", str(people["aigerim"]), "")
    assert not st.confirm_open
    st._pending = f"deactivate:{people['aigerim']}:"  # as if asked before the role changed
    _call(st, AdminState.confirm, f"deactivate:{people['aigerim']}:")
    assert _user(engine, people["aigerim"]).is_active
    assert _audits(engine, "access.denied") == denied + 2


# --- calendar and disclosure ---------------------------------------------------------------------


def test_calendar_removal_asks_naming_the_day(engine, monkeypatch, people):
    from datetime import date

    from dpa_panel.state.calendar_state import CalendarState

    day = date(utcnow().year, 11, 3)
    with session_scope(engine) as s:
        calendar.add_holiday(s, Actor.system(), day, "Test holiday", "decree 1")
    st = _state(CalendarState, engine, monkeypatch, people["aigerim"])
    _call(st, CalendarState.load)
    _call(st, CalendarState.ask_remove_holiday, day.isoformat())
    assert st.confirm_open and "Test holiday" in st.confirm_text
    _call(st, CalendarState.remove_holiday, f"remove:{day.replace(day=4).isoformat()}")
    assert st.action_error == tr("en", "confirm.stale")
    with Session(engine) as s:
        assert s.get(Holiday, day) is not None, "a mismatched confirmation removes nothing"
    _call(st, CalendarState.ask_remove_holiday, day.isoformat())
    _call(st, CalendarState.remove_holiday, st.confirm_token)
    assert st.notice == tr("en", "calendar.holiday_removed")
    with Session(engine) as s:
        assert s.get(Holiday, day) is None
    denied = _state(CalendarState, engine, monkeypatch, people["bolat"])
    _call(denied, CalendarState.ask_remove_holiday, day.isoformat())
    assert not denied.confirm_open


# --- retention: the readable preview, the sweep and one destruction -----------------------------


def _due_subjects(engine, n: int = 3) -> list[int]:
    with session_scope(engine) as s:
        return [
            make(s, app=("rejected", NOW - 800 * DAY), destruction_due_at=utcnow() - DAY)
            for _ in range(n)
        ]


def test_sweep_preview_names_references_and_what_goes(engine, monkeypatch, people):
    from dpa_panel.state.retention_state import RetentionState

    ids = _due_subjects(engine)
    st = _state(RetentionState, engine, monkeypatch, people["aigerim"])
    _call(st, RetentionState.load)
    reads = _audits(engine, "retention.sweep_previewed")
    _call(st, RetentionState.preview_sweep)
    assert st.preview_total == len(ids)
    row = st.preview[0]
    assert row["name"] == "Сейтқали Айгерім Нұрланқызы"
    assert row["reference"] == f"A-2024-{ids[0]:06d}"
    assert tr("en", "confirm.destroys.subject") in row["destroys"]
    assert tr("en", "confirm.destroys.applications") in row["destroys"]
    assert _audits(engine, "retention.sweep_previewed") == reads + 1

    # The sweep asks naming the count; a stale count is refused.
    _call(st, RetentionState.ask_sweep)
    assert st.confirm_open and st.confirm_token == f"sweep:{len(ids)}"
    assert str(len(ids)) in st.confirm_text
    _call(st, RetentionState.confirm, "sweep:99")
    assert st.action_error == tr("en", "confirm.stale")
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(DestructionAct)) == 0

    # One subject: asked naming them, then destroyed alone.
    _call(st, RetentionState.ask_destroy, str(ids[0]))
    assert "Сейтқали Айгерім" in st.confirm_text and f"A-2024-{ids[0]:06d}" in st.confirm_text
    _call(st, RetentionState.confirm, st.confirm_token)
    with Session(engine) as s:
        assert s.get(DataSubject, ids[0]).status == "destroyed"
        assert s.get(DataSubject, ids[1]).status == "active"

    _call(st, RetentionState.ask_sweep)
    assert st.confirm_token == f"sweep:{len(ids) - 1}"
    _call(st, RetentionState.confirm, st.confirm_token)
    assert st.notice == tr("en", "retention.sweep_done", count=len(ids) - 1)
    with Session(engine) as s:
        assert {s.get(DataSubject, i).status for i in ids} == {"destroyed"}


def test_retention_is_compliance_only(engine, monkeypatch, people):
    from dpa_panel.state.retention_state import RetentionState

    _due_subjects(engine, 1)
    for who in ("root", "bolat"):
        st = _state(RetentionState, engine, monkeypatch, people[who])
        _call(st, RetentionState.preview_sweep)
        assert st.preview == [] and st.preview_total == 0
        _call(st, RetentionState.search_hold_subject, {"query": "Сейтқали"})
        assert st.hold_hits == []


def test_legal_hold_by_searching_name_or_reference(engine, monkeypatch, people):
    from dpa_panel.state.retention_state import RetentionState

    ids = _due_subjects(engine, 2)
    st = _state(RetentionState, engine, monkeypatch, people["aigerim"])
    _call(st, RetentionState.load)
    _call(st, RetentionState.place_hold, {"reason": "court", "ends_on": ""})
    assert st.action_error == tr("en", "confirm.choose_subject")
    _call(st, RetentionState.search_hold_subject, {"query": "сейтқали"})
    assert st.hold_total == 2 and {h["id"] for h in st.hold_hits} == {str(i) for i in ids}
    _call(st, RetentionState.search_hold_subject, {"query": f"a-2024-{ids[1]:06d}"})
    assert [h["id"] for h in st.hold_hits] == [str(ids[1])]
    assert _audits(engine, "retention.subject_search") == 2
    _call(st, RetentionState.choose_hold_subject, str(ids[0]))  # not among these results
    assert st.action_error == tr("en", "confirm.stale") and st.hold_choice == ""
    _call(st, RetentionState.choose_hold_subject, str(ids[1]))
    assert st.hold_choice == f"A-2024-{ids[1]:06d} · Сейтқали Айгерім Нұрланқызы"
    _call(st, RetentionState.place_hold, {"reason": "Authority request", "ends_on": ""})
    assert st.notice == tr("en", "retention.hold_placed")
    with Session(engine) as s:
        assert [h.subject_id for h in s.scalars(select(LegalHold))] == [ids[1]]
        # The held subject leaves the sweep preview.
        due, total = sweep_preview.due_page(s, as_of=utcnow())
    assert [d.subject_id for d in due] == [ids[0]] and total == 1


def test_search_pages_and_escapes_wildcards(engine):
    with session_scope(engine) as s:
        for _ in range(12):
            make(s, app=("rejected", NOW - 800 * DAY))
    with Session(engine) as s:
        today = utcnow().date()
        first, total = sweep_preview.find_subjects(s, "Айгерім", today=today, page_size=5)
        third, _ = sweep_preview.find_subjects(s, "Айгерім", today=today, page=3, page_size=5)
        assert total == 12 and len(first) == 5 and len(third) == 2
        assert sweep_preview.find_subjects(s, "%", today=today) == ([], 0)
        assert sweep_preview.find_subjects(s, "  ", today=today) == ([], 0)


# --- the board: per-column limits in SQL -------------------------------------------------------


@pytest.mark.parametrize("search", ["", "Ахметова"])
def test_board_columns_take_a_limit_per_status(engine, search):
    from dpa_panel.services import applications
    from tests.pipeline_helpers import submit

    for _ in range(5):
        submit(engine)
    with Session(engine) as s:
        q = applications.ApplicationQuery(search=search)
        cols = applications.board_columns(s, q, per_column=2, limits={"submitted": 4})
        assert len(cols["submitted"]) == 4
        cols = applications.board_columns(s, q, per_column=2)
        assert len(cols["submitted"]) == 2


def test_show_more_raises_one_column(engine, monkeypatch, people):
    from dpa_panel.state.pipeline_state import BOARD_CARDS, BOARD_MORE, PipelineState
    from tests.pipeline_helpers import submit

    for _ in range(BOARD_CARDS + 3):
        submit(engine)
    st = _state(PipelineState, engine, monkeypatch, people["bolat"])
    _call(st, PipelineState.load)
    assert len(st.columns["submitted"]) == BOARD_CARDS
    _call(st, PipelineState.show_more, "submitted")
    assert st.limits["submitted"] == BOARD_CARDS + BOARD_MORE
    assert len(st.columns["submitted"]) == BOARD_CARDS + 3
    _call(st, PipelineState.toggle_filters)
    assert st.filters_open
    _call(st, PipelineState.apply_filters, {"search": ""})
    assert not st.filters_open and st.limits["submitted"] == BOARD_CARDS


def test_disclosure_approval_asks_naming_it(engine, monkeypatch, people):
    from dpa_panel.models import Disclosure
    from dpa_panel.services import disclosures as ds
    from dpa_panel.state.disclosures_state import DisclosureDetailState as D
    from tests.test_disclosures import NOW as D_NOW
    from tests.test_disclosures import _create, _subject

    with session_scope(engine) as s:
        sids = [_subject(s, n) for n in range(2)]
    officer = Actor.user(people["aigerim"])
    did = _create(engine, officer, sids)
    with session_scope(engine) as s:
        picks = {sid: ["surname"] for sid in sids}
        ds.set_selection(s, officer, did, picks, {"identity": "needed"}, now=D_NOW)
        ds.submit_for_review(s, officer, did, now=D_NOW)
    with session_scope(engine) as s:
        reviewer = _account(s, "reviewer", "compliance")
    monkeypatch.setattr(D, "_disclosure_id", lambda self: did)

    st = _state(D, engine, monkeypatch, reviewer)
    _call(st, D.load)
    _call(st, D.ask_approve)
    assert st.confirm_open and st.facts["reference"] in st.confirm_text
    assert "ҚР Ішкі істер министрлігі" in st.confirm_text and " 2 " in st.confirm_text
    _call(st, D.approve, f"approve:{did + 1}")  # not the one asked about
    assert st.action_error == tr("en", "confirm.stale")
    with Session(engine) as s:
        assert s.get(Disclosure, did).status == "under_review"
    _call(st, D.ask_approve)
    _call(st, D.approve, st.confirm_token)
    assert st.notice == tr("en", "disclosure.approved")
    with Session(engine) as s:
        assert s.get(Disclosure, did).status == "approved"
    # The creator may not approve (four eyes): no question is asked.
    creator = _state(D, engine, monkeypatch, people["aigerim"])
    _call(creator, D.load)
    _call(creator, D.ask_approve)
    assert not creator.confirm_open and creator.action_error
    # A role without the permission is refused by the guard.
    staff = _state(D, engine, monkeypatch, people["bolat"])
    _call(staff, D.ask_approve)
    assert not staff.confirm_open


def test_destruction_acts_say_who_destroyed_in_words(engine, monkeypatch, people):
    """The acts table names the destroyer as the audit log does — "the system" for the
    scheduled sweep, the staff member's name and role for one destroyed by hand — never
    the stored code (``system``, ``user``)."""
    from dpa_panel.services import retention as rt
    from dpa_panel.state.retention_state import RetentionState

    _due_subjects(engine, 1)
    assert len(rt.run_sweep(engine, as_of=utcnow(), actor=Actor.system()).destroyed) == 1
    by_hand = _due_subjects(engine, 1)[0]
    st = _state(RetentionState, engine, monkeypatch, people["aigerim"])
    _call(st, RetentionState.load)
    _call(st, RetentionState.ask_destroy, str(by_hand))
    _call(st, RetentionState.confirm, st.confirm_token)
    _call(st, RetentionState.load)
    staff = tr("en", "audit.actor_with_role", name="aigerim", role=tr("en", "role.compliance"))
    assert sorted(a["by"] for a in st.acts) == sorted([tr("en", "audit.actor_system"), staff])
