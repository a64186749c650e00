"""The disclosure register (policy clause 5) on both engines: lifecycle, four eyes, written
consent for third parties, holds, minimisation, reproducible packages, log exports, filters,
and an audit trail without personal values."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS
from dpa_panel.models import (
    AuditEvent,
    DataSubject,
    Disclosure,
    DisclosureEvent,
    DisclosureSubject,
    LegalHold,
    Member,
)
from dpa_panel.models.types import almaty_month
from dpa_panel.services import disclosures as ds
from dpa_panel.services import requests as rq
from dpa_panel.services import retention as rt
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.errors import ServiceError, ValidationFailed
from tests.pipeline_helpers import make_staff

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SURNAMES = ["Сейтқали", "Омарова", "Ким", "Әбілқасымов"]


@pytest.fixture
def users(engine):
    return (
        make_staff(engine, "officer", "compliance"),
        make_staff(engine, "reviewer", "compliance"),
    )


@pytest.fixture
def officer(users):
    return Actor.user(users[0])


@pytest.fixture
def reviewer(users):
    return Actor.user(users[1])


def _subject(session: Session, n: int, *, member: bool = False) -> int:
    s = DataSubject(
        surname=SURNAMES[n % len(SURNAMES)],
        first_name=f"Айгерім{n}",
        patronymic="Нұрланқызы",
        phone=f"+7701123{n:04d}",
        email=f"person{n}@example.kz",
        workplace=f"Qazaq Media {n}",
        workplace_category="media",
        position="Editor",
        position_level="senior",
        education_level="master",
        education="KazNU",
        experience_years=7,
        experience="newsroom",
        other_info="speaks three languages",
        created_at=NOW - 800 * DAY,
        updated_at=NOW - 800 * DAY,
    )
    session.add(s)
    session.flush()
    if member:
        session.add(
            Member(
                subject_id=s.id,
                membership_number=f"PRMA-2025-{s.id:06d}",
                since=date(2025, 6, 1),
            )
        )
        session.flush()
    return s.id


@pytest.fixture
def subjects(engine):
    with session_scope(engine) as s:
        return [_subject(s, n, member=(n % 2 == 0)) for n in range(4)]


def _form(subject_ids, **kw) -> ds.DisclosureForm:
    values = dict(
        kind="authority",
        body_name="ҚР Ішкі істер министрлігі",
        body_department="Алматы қаласы ПД",
        request_number="12-3/456",
        request_date="2026-11-18",
        received_via="post",
        legal_basis="Жедел-іздестіру қызметі туралы заң",
        legal_article="Art. 11",
        answer_due_on="2026-11-30",
        requested_categories=["identity", "contacts"],
        subject_ids=list(subject_ids),
    )
    values.update(kw)
    if values["kind"] == "third_party":
        values.setdefault("body_type", "third_party")
    else:
        values.setdefault("body_type", "law_enforcement")
    return ds.DisclosureForm(**values)


def _create(engine, actor, subject_ids, **kw) -> int:
    with session_scope(engine) as s:
        return ds.create_disclosure(s, actor, _form(subject_ids, **kw), now=NOW).id


def _active_holds(session: Session, disclosure_id: int) -> list[LegalHold]:
    return list(
        session.scalars(
            select(LegalHold).where(
                LegalHold.source_ref == f"disclosure:{disclosure_id}",
                LegalHold.lifted_at.is_(None),
            )
        )
    )


def _approved(engine, officer, reviewer, subject_ids, picks, justifications=None, **kw) -> int:
    did = _create(engine, officer, subject_ids, **kw)
    cats = {ds.FIELD_CATEGORY[f] for fields in picks.values() for f in fields}
    texts = justifications or {c: f"needed for {c}" for c in cats}
    with session_scope(engine) as s:
        ds.set_selection(s, officer, did, picks, texts, now=NOW)
        ds.submit_for_review(s, officer, did, now=NOW)
    with session_scope(engine) as s:
        ds.approve(s, reviewer, did, now=NOW)
    return did


# --- lifecycle ---------------------------------------------------------------------------------


def test_full_lifecycle(engine, officer, reviewer, subjects):
    a, b = subjects[0], subjects[1]
    did = _create(engine, officer, [a, b])
    with session_scope(engine) as s:
        d = s.get(Disclosure, did)
        assert d.reference == f"DR-2026-{did:06d}" and d.status == "received"
        assert d.body_type == "law_enforcement" and d.disclosed_month is None
        assert sorted(h.subject_id for h in _active_holds(s, did)) == sorted([a, b])
        assert rt.active_holds(s, a)  # the sweep will not destroy
        view = ds.get_disclosure(s, officer, did)
        assert view.can_edit and not view.can_submit and not view.can_approve
        assert [sid for sid, _ in view.subjects] == sorted([a, b])

        picks = {a: ["surname", "first_name", "email"], b: ["surname"]}
        ds.set_selection(
            s, officer, did, picks, {"identity": "to identify", "contacts": "to reach"}
        )
        ds.submit_for_review(s, officer, did)
    with session_scope(engine) as s:
        with pytest.raises(ServiceError) as err:
            ds.approve(s, officer, did)
        assert err.value.key == "disclosure.own_request"
    with session_scope(engine) as s:
        view = ds.get_disclosure(s, reviewer, did)
        assert view.can_approve and view.can_refuse
        assert not ds.get_disclosure(s, officer, did).can_approve
        ds.approve(s, reviewer, did)
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, "csv", "courier", now=NOW + DAY)
    with session_scope(engine) as s:
        d = s.get(Disclosure, did)
        assert d.status == "disclosed" and d.sent_via == "courier" and d.package_rows == 2
        assert d.disclosed_at == NOW + DAY and d.package_format == "csv"
        assert d.disclosed_month == almaty_month(NOW + DAY)  # the board chart's stored key
        assert json.loads(d.package_fields) == ["surname", "first_name", "email"]
        assert _active_holds(s, did) == []
        assert rt.active_holds(s, a) == []
        view = ds.get_disclosure(s, officer, did)
        assert view.body_type == "law_enforcement"
        assert [h.status for h in view.history] == [
            "received",
            "under_review",
            "approved",
            "disclosed",
        ]
        assert view.history[2].by == "reviewer" and view.decided_by == "reviewer"
        comparison = {c.category: c for c in view.comparison}
        assert comparison["identity"].requested and comparison["identity"].picked_fields == 2
        assert comparison["identity"].subjects_picked == 2
        assert comparison["contacts"].picked_fields == 1
        assert not comparison["work"].requested and comparison["work"].picked_fields == 0
        name, media, data = ds.package_bytes(s, did)
        assert hashlib.sha256(data).hexdigest() == d.package_sha256
        assert name == f"{d.reference}-package.csv" and media.startswith("text/csv")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0] == ["no", "surname", "first_name", "email"]
        by_subject = {r[1]: r for r in rows[1:]}
        assert len(rows) == 3
        sa, sb = s.get(DataSubject, a), s.get(DataSubject, b)
        assert by_subject[sa.surname] == ["1", sa.surname, sa.first_name, sa.email]
        assert by_subject[sb.surname] == ["2", sb.surname, "", ""]  # only what was picked
        text = data.decode("utf-8-sig")
        for value in (sa.phone, sb.email, sb.first_name, sa.workplace, sa.patronymic):
            assert value not in text
        # Only closed requests can be listed on the subject page as disclosed.
        about = ds.subject_disclosures(s, b)
        assert about[0]["reference"] == d.reference and about[0]["fields"] == ["surname"]
        assert verify_chain(s).ok


def test_closed_request_cannot_change(engine, officer, reviewer, subjects):
    did = _approved(engine, officer, reviewer, subjects[:1], {subjects[0]: ["surname"]})
    with session_scope(engine) as s:
        with pytest.raises(ServiceError) as err:
            ds.set_selection(s, officer, did, {}, {})
        assert err.value.key == "disclosure.not_editable"
        ds.disclose(s, officer, did, "pdf", "email", now=NOW)
    for call in (
        lambda s: ds.approve(s, reviewer, did),
        lambda s: ds.refuse(s, reviewer, did, "late"),
        lambda s: ds.disclose(s, officer, did, "csv", "email"),
        lambda s: ds.submit_for_review(s, officer, did),
    ):
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            call(s)
        assert err.value.key == "disclosure.bad_status"


def test_editing_under_review_sends_it_back(engine, officer, reviewer, subjects):
    sid = subjects[0]
    did = _create(engine, officer, [sid])
    with session_scope(engine) as s:
        ds.set_selection(s, officer, did, {sid: ["surname"]}, {"identity": "why"})
        ds.submit_for_review(s, officer, did)
        # The reviewer changes the selection: it goes back, and they become an author.
        ds.set_selection(s, reviewer, did, {sid: ["email"]}, {"contacts": "why"})
        assert s.get(Disclosure, did).status == "received"
        ds.submit_for_review(s, officer, did)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.approve(s, reviewer, did)
    assert err.value.key == "disclosure.own_request"
    third = Actor.user(make_staff(engine, "third", "compliance"))
    with session_scope(engine) as s:
        ds.approve(s, third, did)
        assert s.get(Disclosure, did).status == "approved"


def test_refusal_rules_and_holds(engine, officer, reviewer, subjects):
    sid = subjects[0]
    # From received the officer may refuse their own request (nothing is disclosed).
    first = _create(engine, officer, [sid])
    with session_scope(engine) as s:
        with pytest.raises(ServiceError) as err:
            ds.refuse(s, officer, first, "   ")
        assert err.value.key == "disclosure.reason_required"
    with session_scope(engine) as s:
        ds.refuse(s, officer, first, "No legal basis cited", now=NOW)
        d = s.get(Disclosure, first)
        assert d.status == "refused" and d.refusal_reason == "No legal basis cited"
        assert _active_holds(s, first) == []
    # Under review only a second user decides.
    second = _create(engine, officer, [sid])
    with session_scope(engine) as s:
        ds.set_selection(s, officer, second, {sid: ["surname"]}, {"identity": "why"})
        ds.submit_for_review(s, officer, second)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.refuse(s, officer, second, "changed my mind")
    assert err.value.key == "disclosure.own_request"
    with session_scope(engine) as s:
        assert len(_active_holds(s, second)) == 1
        ds.refuse(s, reviewer, second, "Scope wider than the article allows")
        assert _active_holds(s, second) == []
        view = ds.get_disclosure(s, officer, second)
        assert view.history[-1].status == "refused" and view.decision_reason
        assert not (view.can_edit or view.can_approve or view.can_refuse or view.can_disclose)


def test_holds_of_two_requests_are_independent(engine, officer, reviewer, subjects):
    sid = subjects[0]
    one = _create(engine, officer, [sid])
    two = _create(engine, officer, [sid])
    with session_scope(engine) as s:
        ds.refuse(s, officer, one, "duplicate")
        assert len(rt.active_holds(s, sid)) == 1
        assert len(_active_holds(s, two)) == 1


# --- validation ----------------------------------------------------------------------------------


def test_form_validation(engine, officer, subjects):
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed) as err:
            ds.create_disclosure(
                s,
                officer,
                _form(
                    [],
                    kind="police",
                    body_name=" ",
                    request_date="2026-13-01",
                    answer_due_on="",
                    received_via="fax",
                    requested_categories=[],
                    legal_article="",
                ),
                now=NOW,
            )
    assert err.value.errors == {
        "kind": "field.choice_invalid",
        "body_name": "field.required",
        "received_via": "field.choice_invalid",
        "request_date": "disclosure.bad_date",
        "answer_due_on": "field.required",
        "requested_categories": "disclosure.no_categories",
        "subject_ids": "disclosure.no_subjects",
    }
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        ds.create_disclosure(
            s,
            officer,
            _form(
                subjects, request_date="2026-11-25", answer_due_on="2026-11-24", legal_article=""
            ),  # fmt: skip
            now=NOW,
        )
    assert err.value.errors == {
        "legal_article": "field.required",
        "request_date": "disclosure.date_in_future",
        "answer_due_on": "disclosure.due_before_request",
    }
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.create_disclosure(s, officer, _form([999_999]), now=NOW)
    assert err.value.key == "disclosure.subject_not_found"
    # The coded type of body: required for an authority request, from its vocabulary; a
    # transfer to a third party is of type third_party and of no other.
    for kind, body_type, expected in (
        ("authority", "", "field.required"),
        ("authority", "police", "field.choice_invalid"),
        ("authority", "third_party", "field.choice_invalid"),
        ("third_party", "court", "field.choice_invalid"),
    ):
        with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            ds.create_disclosure(
                s, officer, _form(subjects, kind=kind, body_type=body_type), now=NOW
            )
        assert err.value.errors == {"body_type": expected}, (kind, body_type)
    with session_scope(engine) as s:
        assert s.scalars(select(Disclosure)).all() == []
        assert s.scalars(select(LegalHold)).all() == []


def test_selection_validation_changes_nothing(engine, officer, subjects):
    a, b = subjects[0], subjects[1]
    did = _create(engine, officer, [a])
    with session_scope(engine) as s:
        ds.set_selection(s, officer, did, {a: ["surname"]}, {"identity": "to identify"})
    cases = [
        ({a: ["surname", "shoe_size"]}, {"identity": "x"}, {"picks": "disclosure.unknown_field"}),
        ({b: ["surname"]}, {"identity": "x"}, {"picks": "disclosure.unknown_subject"}),
        (
            {a: ["workplace"]},
            {"work": "x"},
            {"picks": "disclosure.category_not_requested"},
        ),
        (
            {a: ["surname", "email"]},
            {"identity": "x", "contacts": "  "},
            {"just_contacts": "disclosure.justification_required"},
        ),
        ({a: ["surname"]}, {"identity": "x", "hobbies": "y"}, {"justifications":
                                                               "field.choice_invalid"}),
    ]  # fmt: skip
    for picks, texts, expected in cases:
        with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            ds.set_selection(s, officer, did, picks, texts)
        assert err.value.errors == expected
    with session_scope(engine) as s:
        link = s.scalars(
            select(DisclosureSubject).where(DisclosureSubject.disclosure_id == did)
        ).one()
        assert json.loads(link.fields) == ["surname"]
        assert json.loads(s.get(Disclosure, did).justifications) == {"identity": "to identify"}
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "disclosure.selection_changed")
        ).all()
        assert len(events) == 1
        # An empty selection cannot be submitted.
        ds.set_selection(s, officer, did, {}, {"identity": "dropped"})
        assert json.loads(s.get(Disclosure, did).justifications) == {}
        with pytest.raises(ServiceError) as e:
            ds.submit_for_review(s, officer, did)
        assert e.value.key == "disclosure.empty_selection"


# --- third parties (clause 5.1) ----------------------------------------------------------------


def test_third_party_needs_written_consent(engine, officer, reviewer, subjects):
    a, b = subjects[0], subjects[1]
    third = dict(kind="third_party", body_name="ТОО «Медиа Аудит»", legal_article="",
                 legal_basis="Written consent, policy clause 5.1",
                 recipient="ТОО «Медиа Аудит»")  # fmt: skip
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.create_disclosure(s, officer, _form([a], **third), now=NOW)
    assert err.value.key == "disclosure.no_written_consent" and err.value.params["subject_id"] == a
    with session_scope(engine) as s:
        with pytest.raises(ServiceError) as err:
            ds.record_transfer_consent(s, officer, a, "ТОО «Медиа Аудит»", channel="web_form",
                                       evidence_ref="x", evidence_received_at=NOW)  # fmt: skip
        assert err.value.key == "disclosure.consent_not_written"
        with pytest.raises(ServiceError) as err:
            ds.record_transfer_consent(
                s,
                officer,
                a,
                "ТОО «Медиа Аудит»",
                channel="paper",
                evidence_ref="Archive 7/12",
                evidence_received_at=None,
            )
        assert err.value.key == "consent.evidence_required"
    with session_scope(engine) as s:
        consent = ds.record_transfer_consent(
            s, officer, a, "тоо «медиа  аудит»", channel="paper", evidence_ref="Archive 7/12",
            evidence_received_at=NOW - DAY, language="ru", now=NOW,
        )  # fmt: skip
        consent_id = consent.id
        assert consent.purpose_code == "transfer" and "тоо «медиа  аудит»" in consent.consent_text
        # A consent to another recipient does not count.
        ds.record_transfer_consent(
            s,
            officer,
            b,
            "Other LLP",
            channel="email",
            evidence_ref="mail 1",
            evidence_received_at=NOW - DAY,
            now=NOW,
        )
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.create_disclosure(s, officer, _form([a, b], **third), now=NOW)
    assert err.value.key == "disclosure.no_written_consent" and err.value.params["subject_id"] == b
    # The form may leave the type of body empty for a transfer: it is third_party.
    did = _create(engine, officer, [a], body_type="", **third)
    with session_scope(engine) as s:
        assert s.get(Disclosure, did).body_type == "third_party"
        link = s.scalars(
            select(DisclosureSubject).where(DisclosureSubject.disclosure_id == did)
        ).one()
        assert link.consent_id == consent_id
        assert ds.get_disclosure(s, officer, did).recipient == "ТОО «Медиа Аудит»"
        ds.set_selection(s, officer, did, {a: ["email"]}, {"contacts": "newsletter audit"})
        ds.submit_for_review(s, officer, did)
    with session_scope(engine) as s:
        ds.approve(s, reviewer, did)
        # Withdrawn before the transfer: it may not happen.
        ds.withdraw_transfer_consent(s, officer, consent_id, channel="email",
                                     evidence="letter of 20.11", now=NOW + DAY)  # fmt: skip
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        ds.disclose(s, officer, did, "csv", "email", now=NOW + 2 * DAY)
    assert err.value.key == "disclosure.no_written_consent"
    with session_scope(engine) as s:
        ds.refuse(s, reviewer, did, "Consent withdrawn")
        assert _active_holds(s, did) == []


# --- packages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_package_is_reproducible(engine, officer, reviewer, subjects, fmt):
    a, b = subjects[0], subjects[2]  # subject 0 and 2 are members
    picks = {a: ["surname", "membership_number"], b: ["phone"]}
    did = _approved(engine, officer, reviewer, [a, b], picks,
                    requested_categories=["identity", "contacts", "membership"])  # fmt: skip
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, fmt, "e_government", now=NOW + DAY)
    with session_scope(engine) as s:
        d = s.get(Disclosure, did)
        name, media, first = ds.package_bytes(s, did)
        _, _, second = ds.package_bytes(s, did)
        assert first == second and hashlib.sha256(first).hexdigest() == d.package_sha256
        assert name.endswith(f".{fmt}") and media == ds.MEDIA_TYPES[fmt]
        assert json.loads(d.package_fields) == ["surname", "phone", "membership_number"]
        if fmt == "xlsx":
            from openpyxl import load_workbook

            ws = load_workbook(io.BytesIO(first)).active
            rows = [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
            sa, sb = s.get(DataSubject, a), s.get(DataSubject, b)
            number = s.scalars(select(Member.membership_number).where(Member.subject_id == a)).one()
            # The phone starts with "+": written as text behind a quote (services.tabular).
            assert rows == [
                ["no", "surname", "phone", "membership_number"],
                ["1", sa.surname, "", number],
                ["2", "", "'" + sb.phone, ""],
            ]
            assert all(c.data_type == "s" for r in ws.iter_rows() for c in r if c.value)
            assert ws["A1"].font.b and ws.freeze_panes == "A2"
        # Rectified since: the package can no longer be rebuilt as sent.
        s.get(DataSubject, a).surname = "Жаңа"
        s.flush()
        with pytest.raises(ServiceError) as err:
            ds.package_bytes(s, did)
        assert err.value.key == "disclosure.package_changed"


def test_package_download_export(engine, officer, reviewer, subjects):
    did = _approved(engine, officer, reviewer, subjects[:1], {subjects[0]: ["surname"]})
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, "csv", "email", now=NOW)
        digest = s.get(Disclosure, did).package_sha256
    export = EXPORTS["disclosure_package"]
    assert export.permission == "disclosures.manage"
    params = {"kind": "disclosure_package", "disclosure_id": did}
    data = b"".join(export.stream(params, 1))
    assert hashlib.sha256(data).hexdigest() == digest
    assert export.filename(params).endswith(".csv")
    assert export.media_type_of(params).startswith("text/csv")


# --- the register, filters and log exports -------------------------------------------------------


def _seed_register(engine, officer, reviewer, subjects) -> list[int]:
    ids = [
        _create(engine, officer, subjects[:2], request_date="2026-10-01"),
        _create(engine, officer, subjects[1:3], body_name="Генеральная прокуратура РК",
                body_department="", request_date="2026-10-15", received_via="e_government",
                body_type="prosecutor"),
        _approved(engine, officer, reviewer, subjects[:1], {subjects[0]: ["email"]},
                  request_date="2026-11-02"),
    ]  # fmt: skip
    with session_scope(engine) as s:
        ds.refuse(s, officer, ids[0], "incomplete")
        ds.disclose(s, officer, ids[2], "csv", "courier", now=NOW)
    return ids


def test_list_and_filters(engine, officer, reviewer, subjects):
    ids = _seed_register(engine, officer, reviewer, subjects)

    def listed(**kw) -> list[int]:
        with session_scope(engine) as s:
            rows, total = ds.list_disclosures(
                s, officer, ds.disclosure_filter_from_strings(**kw), page=1, page_size=50
            )
        assert total == len(rows)
        return [r.id for r in rows]

    assert listed() == [ids[2], ids[1], ids[0]]  # newest request first
    assert listed(status="refused") == [ids[0]]
    assert listed(kind="third_party") == []
    assert listed(body="прокуратура") == [ids[1]]
    assert listed(body="ПРОКУРАТУРА рк") == [ids[1]]
    assert listed(body="алматы") == [ids[2], ids[0]]  # the department is searched too
    assert listed(date_from="2026-10-15", date_to="2026-11-01") == [ids[1]]
    with session_scope(engine) as s:
        rows, total = ds.list_disclosures(s, officer, ds.DisclosureFilter(), page=2, page_size=2)
        assert total == 3 and [r.id for r in rows] == [ids[0]]
        assert rows[0].subjects == 2 and rows[0].created_by == "officer"
        assert rows[0].body_type == "law_enforcement"
    with pytest.raises(ServiceError) as err:
        ds.disclosure_filter_from_strings(date_from="01.10.2026")
    assert err.value.key == "disclosure.bad_date"
    with pytest.raises(ServiceError):
        ds.disclosure_filter_from_strings(status="lost")


def _db_log(engine, flt, language="en") -> list[list[str]]:
    """The log rows as the export writer writes them: labels and Almaty times."""
    from dpa_panel.services import disclosure_exports as files

    with session_scope(engine) as s:
        return [[str(c) for c in files.log_table_row(r, language)]
                for r in ds.iter_log_rows(s, flt, batch=2)]  # fmt: skip


def test_log_csv_matches_the_database(engine, officer, reviewer, subjects):
    """Issue 18: the header is the first line and nothing follows the last row; codes are
    labels, times Almaty with the offset; generated-at and the digests go beside the file."""
    from dpa_panel.services import tabular

    ids = _seed_register(engine, officer, reviewer, subjects)
    flt = ds.DisclosureFilter()
    about = tabular.About(title="log", language="en", generated_at=NOW)
    with session_scope(engine) as s:
        data = b"".join(ds.log_csv(s, flt, language="en", now=NOW, batch=2, about=about))
        expected_digest = ds.log_digest(ds.iter_log_rows(s, flt))
        refs = {i: s.get(Disclosure, i).reference for i in ids}
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "Reference" and len(rows[0]) == len(ds.LOG_COLUMNS)
    body = rows[1:]
    assert body == _db_log(engine, flt)
    assert [r[0] for r in body] == [refs[ids[0]], refs[ids[1]], refs[ids[2]]]
    # Beside the file: rows, the file's and the table's SHA-256, the register digest.
    assert about.rows == 3
    assert about.file_sha256 == hashlib.sha256(data).hexdigest()
    assert about.table_sha256 == tabular.table_digest(rows)
    assert (("SHA-256 of the register rows", expected_digest) in about.extra)
    text = tabular.about_text(about).decode("utf-8-sig")
    assert expected_digest in text and "2026-11-20 13:00:00+05:00" in text
    disclosed = dict(zip(ds.LOG_COLUMNS, body[2], strict=True))
    with session_scope(engine) as s:
        d = s.get(Disclosure, ids[2])
        assert disclosed["package_sha256"] == d.package_sha256
        assert disclosed["disclosed_fields"] == "E-mail" and disclosed["sent_via"] == "Courier"
        assert disclosed["disclosed_at"].endswith("+05:00")
    assert [dict(zip(ds.LOG_COLUMNS, r, strict=True))["body_type"] for r in body] == [
        "Law enforcement (police)",
        "Prosecutor's office",
        "Law enforcement (police)",
    ]
    assert rows[0][ds.LOG_COLUMNS.index("body_type")] == "Type of body"
    # Filtered export: only the refused one.
    with session_scope(engine) as s:
        only = b"".join(ds.log_csv(s, ds.DisclosureFilter(status="refused"), now=NOW))
    assert len(list(csv.reader(io.StringIO(only.decode("utf-8-sig"))))) == 2


def test_log_xlsx_and_pdf(engine, officer, reviewer, subjects, tmp_path):
    import pandas as pd
    from openpyxl import load_workbook

    from dpa_panel.services import tabular

    _seed_register(engine, officer, reviewer, subjects)
    flt = ds.DisclosureFilter(date_from=date(2026, 10, 10))
    path = tmp_path / "log.xlsx"
    with session_scope(engine) as s:
        assert ds.log_xlsx(s, flt, path, language="ru", now=NOW, batch=1) == 2
        digest = ds.log_digest(ds.iter_log_rows(s, flt))
        pdf = ds.log_pdf(s, flt, language="kk", now=NOW)
    frames = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    assert list(frames) == ["Данные", "О файле"]
    frame = frames["Данные"]
    assert list(frame.columns)[0] == "Номер в реестре"
    assert frame.values.tolist() == _db_log(engine, flt, "ru")
    about = dict(frames["О файле"].values.tolist())
    assert about["Сформирован (время Алматы)"] == "2026-11-20 13:00:00+05:00"
    assert about["SHA-256 строк журнала"] == digest and about["Число строк"] == "2"
    assert about["SHA-256 таблицы"] == tabular.table_digest(
        [list(frame.columns), *frame.values.tolist()])
    ws = load_workbook(path)["Данные"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    assert ws.column_dimensions["D"].width == ds.LOG_WIDTHS["body_name"]
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_log_exports_are_registered():
    for kind in ("disclosure_log_csv", "disclosure_log_xlsx", "disclosure_log_pdf"):
        assert EXPORTS[kind].permission == "disclosures.manage"


def test_log_export_streams_through_the_registry(engine, officer, reviewer, subjects):
    _seed_register(engine, officer, reviewer, subjects)
    params = {"kind": "disclosure_log_xlsx", "status": "disclosed", "language": "en"}
    data = b"".join(EXPORTS["disclosure_log_xlsx"].stream(params, 1))
    assert data[:2] == b"PK"
    csv_data = b"".join(EXPORTS["disclosure_log_csv"].stream({**params, "kind": "x"}, 1))
    assert csv_data.decode("utf-8-sig").count("\r\n") == 2  # header and the one disclosed
    # The type filter travels as ``disclosure_kind`` (``kind`` names the export).
    none = b"".join(
        EXPORTS["disclosure_log_csv"].stream({"disclosure_kind": "third_party"}, 1)
    ).decode("utf-8-sig")
    assert none.count("\r\n") == 1  # the header only


# --- the subject, the report, the audit trail -----------------------------------------------------


def test_subject_report_lists_disclosures(engine, officer, reviewer, subjects):
    sid = subjects[0]
    did = _approved(engine, officer, reviewer, [sid], {sid: ["surname", "email"]})
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, "csv", "post", now=NOW)
    with session_scope(engine) as s:
        report = rq.subject_report(s, officer, sid)
        assert [d["id"] for d in report["disclosures"]] == [did]
        assert report["disclosures"][0]["fields"] == ["surname", "email"]
        json.loads(rq.report_json(report))
        assert rq.report_pdf(report, "ru").startswith(b"%PDF")
        assert ds.subject_disclosures(s, subjects[3]) == []


def test_search_subjects(engine, officer, subjects):
    with session_scope(engine) as s:
        hits = ds.search_subjects(s, officer, "омаро")
        assert [h["id"] for h in hits] == [subjects[1]]
        assert hits[0]["name"].startswith("Омарова")
        number = s.scalars(select(Member.membership_number).where(
            Member.subject_id == subjects[2])).one()  # fmt: skip
        assert [h["id"] for h in ds.search_subjects(s, officer, number.lower())] == [subjects[2]]
        assert hits[0]["reference"] == ""
        assert ds.search_subjects(s, officer, "a") == []
        s.get(DataSubject, subjects[1]).status = "destroyed"
        s.flush()
        assert ds.search_subjects(s, officer, "омаро") == []
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "disclosure.subject_search")
        ).all()
        assert len(events) == 4 and all("омаро" not in e.details for e in events)


def test_audit_events_carry_no_personal_values(engine, officer, reviewer, subjects):
    a = subjects[0]
    did = _approved(engine, officer, reviewer, [a], {a: ["surname", "email", "phone"]})
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, "xlsx", "email", now=NOW)
        ds.get_disclosure(s, officer, did)
        ds.list_disclosures(s, officer, ds.DisclosureFilter(body="Ішкі"), page=1, page_size=10)
        subject = s.get(DataSubject, a)
        values = [subject.surname, subject.first_name, subject.email, subject.phone,
                  "Ішкі", "needed for"]  # fmt: skip
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("disclosure.%"))).all()
        actions = {e.action for e in events}
        assert {
            "disclosure.created",
            "disclosure.selection_changed",
            "disclosure.submitted",
            "disclosure.approved",
            "disclosure.disclosed",
            "disclosure.viewed",
            "disclosure.list",
        } <= actions
        for event in events:
            for value in values:
                assert value not in event.details, (event.action, value)
        disclosed = next(e for e in events if e.action == "disclosure.disclosed")
        details = json.loads(disclosed.details)
        assert details["fields"] == ["surname", "phone", "email"]
        assert details["digest"] == s.get(Disclosure, did).package_sha256
        assert details["subject_ids"] == [a]
        kinds = [
            e.kind
            for e in s.scalars(select(DisclosureEvent).where(DisclosureEvent.disclosure_id == did))
        ]
        assert kinds == ["created", "selection", "submitted", "approved", "disclosed"]


def test_demo_register_is_idempotent(engine):
    from dpa_panel import demo

    demo.seed_staff(engine)
    demo.seed_subjects(engine, 80, now=NOW)
    assert demo.seed_disclosures(engine, now=NOW) == 5
    assert demo.seed_disclosures(engine, now=NOW) == 0
    with session_scope(engine) as s:
        rows = s.scalars(select(Disclosure).order_by(Disclosure.id)).all()
        assert [d.status for d in rows] == [
            "received",
            "under_review",
            "disclosed",
            "refused",
            "approved",
        ]
        assert {d.kind for d in rows} == {"authority", "third_party"}
        disclosed = rows[2]
        assert ds.package_bytes(s, disclosed.id)[2][:4] == b"%PDF"
        assert verify_chain(s).ok


# --- the operator block (issue 17) ---------------------------------------------------------------

#: A BIN with a valid check digit (as in tests/test_breaches.py).
OPERATOR_BIN = "180240005439"
OPERATOR = {
    "name_kk": "Мамандар қауымдастығы", "name_ru": "Ассоциация специалистов",
    "name_en": "Association of Specialists", "bin": OPERATOR_BIN,
    "address": "Алматы, Абай д-лы 1", "dp_email": "dpo@association.kz",
}  # fmt: skip
#: SHA-256 of the packages of ``_operator_case`` as the panel wrote them before the operator
#: block existed (computed with the code of commit 84806ae): a package disclosed then
#: (``operator`` NULL) must keep rebuilding to exactly these bytes.
PRE_OPERATOR_DIGESTS = {
    "csv": "eb3ee8730f507ed8ec45767408557be3eb6da8e76b7b219ffb5cc099eff0140c",
    "xlsx": "fc931b3faabe96b6dfbc4ff1c9d19488514dd5ef69edbd4524929d12fea67d35",
    "pdf": "5c74332be2514c33b11e3a220f2f16e85f4b911bca8d5f490e1067b7e884024b",
}


def _set_profile(engine, officer, **changes) -> None:
    from dpa_panel.services import org_profile

    with session_scope(engine) as s:
        org_profile.update_profile(s, officer, {**OPERATOR, **changes})


def _operator_case(engine, officer, reviewer, subjects, fmt: str) -> int:
    a, b = subjects[0], subjects[2]
    picks = {a: ["surname", "membership_number"], b: ["phone"]}
    did = _approved(engine, officer, reviewer, [a, b], picks,
                    requested_categories=["identity", "contacts", "membership"])  # fmt: skip
    with session_scope(engine) as s:
        ds.disclose(s, officer, did, fmt, "e_government", now=NOW + DAY)
    return did


def _sheets(data: bytes) -> dict[str, list[list[str]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return {
        ws.title: [["" if c is None else c for c in r] for r in ws.iter_rows(values_only=True)]
        for ws in book.worksheets
    }


def _pdf_text_per_font(pdf: bytes) -> list[str]:
    """The text of an fpdf2 PDF read once with each font's ToUnicode map (see
    ``tests.test_requests._pdf_text``, which merges the maps of all fonts)."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    maps = []
    for s in streams:
        pairs = re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,})>", s)
        if pairs:
            maps.append({int(a, 16): bytes.fromhex(b.decode()).decode("utf-16-be")
                         for a, b in pairs})  # fmt: skip
    literals = []
    for s in streams:
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", s, re.S):
            literals.append(re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)),
                literal, flags=re.S,
            ))  # fmt: skip

    def decode(data: bytes, cmap: dict[int, str]) -> str:
        pairs = (data[i : i + 2] for i in range(0, len(data) - 1, 2))
        return "".join(cmap.get(int.from_bytes(p, "big"), "?") for p in pairs)

    return ["\n".join(decode(d, cmap) for d in literals) for cmap in maps]


def test_xlsx_package_carries_the_frozen_operator_sheet(engine, officer, reviewer, subjects):
    from dpa_panel.services import disclosure_exports as files

    _set_profile(engine, officer)
    did = _operator_case(engine, officer, reviewer, subjects, "xlsx")
    with session_scope(engine) as s:
        d = s.get(Disclosure, did)
        _, _, sent = ds.package_bytes(s, did)
        assert hashlib.sha256(sent).hexdigest() == d.package_sha256
        sheets = _sheets(sent)
        # The data sheet stays first and header-first; the operator is a second sheet.
        assert list(sheets) == ["package", files.OPERATOR_SHEET]
        assert sheets["package"][0] == ["no", "surname", "phone", "membership_number"]
        operator = sheets[files.OPERATOR_SHEET]
        assert operator[0] == list(files.OPERATOR_HEADER)
        values = dict(operator[1:])
        assert values == {
            files.OPERATOR_LABELS["name_kk"]: OPERATOR["name_kk"],
            files.OPERATOR_LABELS["name_ru"]: OPERATOR["name_ru"],
            files.OPERATOR_LABELS["name_en"]: OPERATOR["name_en"],
            files.OPERATOR_LABELS["bin"]: OPERATOR_BIN,
            files.OPERATOR_LABELS["address"]: OPERATOR["address"],
            files.OPERATOR_LABELS["dp_email"]: OPERATOR["dp_email"],
        }
    # The profile changes afterwards: the package sent is still rebuilt byte for byte.
    _set_profile(engine, officer, name_kk="Жаңа атау", address="Астана, Мәңгілік Ел 2",
                 dp_email="privacy@new.kz")  # fmt: skip
    with session_scope(engine) as s:
        _, _, again = ds.package_bytes(s, did)
        assert again == sent
        assert hashlib.sha256(again).hexdigest() == s.get(Disclosure, did).package_sha256
        assert OPERATOR["address"] in dict(_sheets(again)[files.OPERATOR_SHEET][1:]).values()


def test_pdf_package_is_headed_by_the_frozen_operator(engine, officer, reviewer, subjects):
    _set_profile(engine, officer)
    did = _operator_case(engine, officer, reviewer, subjects, "pdf")
    with session_scope(engine) as s:
        _, _, sent = ds.package_bytes(s, did)
        reference = s.get(Disclosure, did).reference
    # The package uses a regular and a bold font, each with its own glyph numbering: the
    # operator block and the request line are regular, so they read back with one map.
    text = next(t for t in _pdf_text_per_font(sent) if reference in t)
    for value in (OPERATOR["name_kk"], OPERATOR_BIN, OPERATOR["address"], OPERATOR["dp_email"]):
        assert value in text
    assert text.index(OPERATOR_BIN) < text.index(reference)  # the operator heads the package
    _set_profile(engine, officer, dp_email="privacy@new.kz")
    with session_scope(engine) as s:
        assert ds.package_bytes(s, did)[2] == sent


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_package_sent_before_the_operator_block_rebuilds_as_sent(
    engine, officer, reviewer, subjects, fmt
):
    """A package disclosed before issue 17 has ``operator`` NULL and the digest of the old
    layout: it rebuilds to those bytes, whatever the profile says today."""
    _set_profile(engine, officer)
    did = _operator_case(engine, officer, reviewer, subjects, fmt)
    with session_scope(engine) as s:
        d = s.get(Disclosure, did)
        new_digest = d.package_sha256
        # What the register holds for a package sent before the change:
        d.operator = None
        d.package_sha256 = PRE_OPERATOR_DIGESTS[fmt]
        s.add(d)
    with session_scope(engine) as s:
        _, _, data = ds.package_bytes(s, did)
        assert hashlib.sha256(data).hexdigest() == PRE_OPERATOR_DIGESTS[fmt]
        if fmt != "csv":
            assert new_digest != PRE_OPERATOR_DIGESTS[fmt]  # the new layout differs
        else:
            # A CSV package stays data only (header first): same bytes before and after.
            assert new_digest == PRE_OPERATOR_DIGESTS[fmt]
        if fmt == "xlsx":
            assert list(_sheets(data)) == ["package"]
