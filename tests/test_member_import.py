"""Importing members and applications from spreadsheets (issue 21), on SQLite and PostgreSQL.

The files are written by the tests (``tests/import_files.py``) in Kazakh, Russian and English
header styles with good and bad rows, and read back through the service as an upload would be.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import (
    AuditEvent,
    Consent,
    DataSubject,
    ImportBatch,
    ImportRow,
    Member,
    MembershipApplication,
    StaffUser,
)
from dpa_panel.services import audit, retention, submission
from dpa_panel.services import import_columns as cols
from dpa_panel.services import member_import as mi
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from tests.import_files import (
    EN_HEADER,
    EN_ROWS,
    KK_HEADER,
    KK_ROWS,
    RU_HEADER,
    RU_ROWS,
    csv_bytes,
    with_cached_formula,
    xlsx,
)

TODAY = date(2026, 12, 6)


def _ru_file(**kw) -> bytes:
    return xlsx(RU_HEADER, [r for r, _ in RU_ROWS], title_rows=[["Реестр членов"]],
                merged=["A1:E1"], **kw)  # fmt: skip


@pytest.fixture
def admin(engine) -> Actor:
    with session_scope(engine) as s:
        user = StaffUser(username="importer", role="admin", password_hash="x")
        s.add(user)
        s.flush()
        return Actor.user(user.id, "127.0.0.1")


def _count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


# --- columns, names, phones, dates (no database) ---------------------------------------------


def test_headers_are_recognised_in_kazakh_russian_and_english():
    assert cols.propose_mapping(KK_HEADER, "members") == [
        "surname", "first_name", "patronymic", "phone", "email", "workplace", "position",
        "joined",
    ]  # fmt: skip
    assert cols.propose_mapping(RU_HEADER, "members")[:3] == ["full_name", "phone", "email"]
    assert cols.propose_mapping(RU_HEADER, "members")[-3:] == [
        "consent_informing_date", "consent_informing_ref", "consent_informing_channel",
    ]  # fmt: skip
    assert cols.propose_mapping(EN_HEADER.split(","), "applications") == [
        "surname", "first_name", "phone", "email", "workplace", "position", "submitted",
        "status", "language",
    ]  # fmt: skip
    # spelling variants fold together; an unknown header is ignored, not guessed
    assert cols.field_for_header("  E-MAIL: ", "members") == "email"
    assert cols.field_for_header("Ф.И.О.", "members") == "full_name"
    assert cols.field_for_header("Любимый цвет", "members") is None
    # a field of the other kind is not offered
    assert cols.field_for_header("Дата вступления", "applications") is None


def test_full_names_split_only_when_it_needs_no_guess():
    assert cols.split_full_name("Иванов Иван Иванович") == ("Иванов", "Иван", "Иванович")
    assert cols.split_full_name("Ахметов Ерлан Серік ұлы") == ("Ахметов", "Ерлан", "Серік ұлы")
    assert cols.split_full_name("Smith John") == ("Smith", "John", None)
    for bad in ("Сидоров", "Иванов И.И.", "Иванов И. И.", "a b c d e"):
        assert cols.split_full_name(bad) is None, bad


def test_dates_from_excel_serials_cells_and_text():
    assert cols.parse_date(44000) == date(2020, 6, 18)
    assert cols.parse_date(44000.0) == date(2020, 6, 18)
    assert cols.parse_date(datetime(2021, 3, 12, 0, 0)) == date(2021, 3, 12)
    assert cols.parse_date("12.03.2020") == date(2020, 3, 12)
    assert cols.parse_date("12/03/2020") == date(2020, 3, 12)
    assert cols.parse_date("2020-03-12") == date(2020, 3, 12)
    assert cols.parse_date("2020-03-12 00:00:00") == date(2020, 3, 12)
    assert cols.parse_date("12.03.99") == date(1999, 3, 12)
    assert cols.parse_date(None) is None and cols.parse_date("  ") is None
    for bad in ("31.02.2022", "вчера", "2020-13-01", -5):
        with pytest.raises(ValueError):
            cols.parse_date(bad)


def test_numbers_read_by_excel_become_the_digits_a_person_typed():
    assert cols.cell_text(87011234567) == "87011234567"
    assert cols.cell_text(7011234567.0) == "7011234567"
    assert cols.cell_text(datetime(2020, 1, 2)) == "2020-01-02"


# --- bad files: a clear refusal, nothing written ---------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "name", "key"),
    [
        (PNG, "members.xlsx", "import.bad.not_spreadsheet"),
        (PNG, "members.csv", "import.bad.not_spreadsheet"),
        (b"%PDF-1.7\n", "members.pdf", "import.bad.extension"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "members.xlsx",
         "import.bad.protected_or_xls"),
        (b"PK\x03\x04" + b"garbage" * 20, "members.xlsx", "import.bad.corrupted"),
        (b"", "members.csv", "import.bad.empty"),
        (xlsx([], []), "members.xlsx", "import.bad.empty"),
        (xlsx(["Любимый цвет", "Размер обуви"], [["синий", 42]]), "m.xlsx", "import.bad.no_header"),
        (xlsx(["Фамилия", "Имя", "Телефон"], [["A", "B", "87011234567"]]), "m.xlsx",
         "import.bad.missing_columns"),
        (xlsx(KK_HEADER, KK_ROWS, merged=["F2:F3"]), "m.xlsx", "import.bad.merged"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_a_clear_reason(engine, admin, data, name, key):
    with pytest.raises(ServiceError) as err, session_scope(engine) as s:
        loaded = mi.load(data, name, "members")
        mi.commit(s, admin, loaded)
    assert err.value.key == key
    message = mi.explain(err.value, "kk")
    assert message and "{" not in message and message != key
    assert _count(engine, DataSubject) == 0 and _count(engine, ImportBatch) == 0


def test_limits_on_size_and_rows(monkeypatch):
    data = xlsx(KK_HEADER, KK_ROWS)
    monkeypatch.setenv("DPA_IMPORT_MAX_ROWS", "1")
    with pytest.raises(ServiceError, match="import.bad.too_many_rows"):
        mi.load(data, "m.xlsx", "members")
    monkeypatch.setenv("DPA_IMPORT_MAX_BYTES", "1000")
    with pytest.raises(ServiceError, match="import.bad.too_big"):
        mi.load(data, "m.xlsx", "members")


def test_a_missing_sheet_names_the_sheets_there_are():
    with pytest.raises(ServiceError) as err:
        mi.load(xlsx(KK_HEADER, KK_ROWS, sheet="Мүшелер"), "m.xlsx", "members", sheet="Лист2")
    assert "Мүшелер" in mi.explain(err.value, "ru")


def test_formulas_are_not_evaluated_their_saved_value_is_used(engine, admin):
    data = with_cached_formula(xlsx(KK_HEADER, KK_ROWS), "F2", 'CONCATENATE("Ege","men")',
                               "Egemen Qazaqstan")  # fmt: skip
    loaded = mi.load(data, "f.xlsx", "members")
    assert loaded.sheet.formula_cells == 1
    with session_scope(engine) as s:
        outcome = mi.commit(s, admin, loaded)
    assert outcome.written and outcome.plan.counts()["formulas"] == 1
    with session_scope(engine) as s:
        assert s.scalar(select(DataSubject.workplace).where(
            DataSubject.email == "daulet@mail.kz")) == "Egemen Qazaqstan"  # fmt: skip


# --- rows: the /apply rules, duplicates, evidence --------------------------------------------


def test_every_bad_row_is_refused_with_its_reason_and_good_rows_pass(engine):
    loaded = mi.load(_ru_file(), "reg.xlsx", "members")
    assert loaded.header_index == 1  # the title row above the header is skipped
    with session_scope(engine) as s:
        plan = mi.plan(s, loaded, today=TODAY)
    problems = mi.group_problems(plan)
    for index, (_row, expected) in enumerate(RU_ROWS):
        number = index + 3  # title row, header row, then data
        keys = [p.key for p in problems.get(number, [])]
        if expected == "ok":
            assert not keys, (number, keys)
        else:
            assert expected in keys, (number, keys)
    assert plan.counts()["accepted"] == 3 and plan.counts()["refused"] == len(RU_ROWS) - 3
    first = plan.accepted[0].subject
    assert (first["surname"], first["first_name"], first["patronymic"]) == (
        "Иванов", "Иван", "Иванович")  # fmt: skip
    assert [a.subject["phone"] for a in plan.accepted] == [
        "+77011234567", "+77021234567", "+77777654321"]  # fmt: skip
    # the reason is given in the user's language, per cell
    dup = problems[6][0]
    assert dup.field == "email" and dup.column == "E-mail"
    assert dup.message("kk") == tr("kk", "import.duplicate_in_file", row=3)


def test_duplicates_against_the_register_are_refused_never_merged(engine, admin):
    with session_scope(engine) as s:
        submission.submit_application(
            s,
            {"surname": "Әбілқайыр", "first_name": "Дәулет", "patronymic": "Маратұлы",
             "phone": "+77059998877", "email": "other@mail.kz", "workplace": "X",
             "workplace_category": "media", "position": "Y", "position_level": "junior",
             "education_level": "bachelor"},
            {"application_review"}, language="kk", client_ip="10.0.0.1",
        )  # fmt: skip
        submission.submit_application(
            s,
            {"surname": "Другой", "first_name": "Человек", "phone": "+77051110000",
             "email": "SAULE@mail.kz", "workplace": "X", "workplace_category": "media",
             "position": "Y", "position_level": "junior", "education_level": "bachelor"},
            {"application_review"}, language="ru", client_ip="10.0.0.2",
        )  # fmt: skip
    rows = [list(KK_ROWS[0]), list(KK_ROWS[1])]
    rows[0][3] = "+77059998877"  # same name and phone as the first applicant
    loaded = mi.load(xlsx(KK_HEADER, rows), "kk.xlsx", "members")
    with session_scope(engine) as s:
        outcome = mi.commit(s, admin, loaded)
    keys = sorted(p.key for p in outcome.plan.problems)
    assert keys == ["import.duplicate_in_register", "import.duplicate_name_phone_in_register"]
    assert not outcome.written
    assert _count(engine, DataSubject) == 2 and _count(engine, ImportBatch) == 0


def test_members_are_imported_with_their_facts_evidence_and_retention(engine, admin):
    loaded = mi.load(_ru_file(), "reg.xlsx", "members")
    with session_scope(engine) as s:
        outcome = mi.commit(s, admin, loaded)
    assert outcome.written
    with session_scope(engine) as s:
        members = {
            m.membership_number: (m.since, m.status)
            for m in s.scalars(select(Member).order_by(Member.id))
        }
        # the given number is kept; the others get the panel's numbering by the year joined
        assert members == {
            "Ч-0001": (date(2021, 3, 12), "active"),
            "PRMA-2020-000001": (date(2020, 3, 12), "active"),
            "PRMA-2020-000002": (date(2020, 6, 18), "suspended"),
        }
        consents = s.scalars(select(Consent)).all()
        assert len(consents) == 1  # only the row with evidence; nothing invented
        c = consents[0]
        assert (c.purpose_code, c.channel, c.evidence_ref) == ("informing", "paper", "Протокол №5")
        assert retention.local_date(c.granted_at) == date(2025, 6, 1)
        assert c.evidence_received_at == c.granted_at and c.recorded_by_id == admin.user_id
        assert c.policy_version_id == 1 and "reg.xlsx" in c.evidence_text
        # retention was computed by the usual rules: the same as a recomputation gives
        before = s.execute(text("SELECT id, retention_due_at, retention_purpose FROM data_subject"
                                " ORDER BY id")).all()  # fmt: skip
        retention.recompute_all(s)
        after = s.execute(text("SELECT id, retention_due_at, retention_purpose FROM data_subject"
                               " ORDER BY id")).all()  # fmt: skip
        assert before == after
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.completed")).one()
        assert '"accepted":3' in event.details.replace(" ", "")
        assert '"refused":8' in event.details.replace(" ", "")
        assert audit.verify_chain(s).ok
        # two members came without an informing consent: the re-consent list has them
        listed = sorted(r[3] for r in mi.reconsent_rows(s))
        assert listed == ["aigul@mail.kz", "erlan@mail.kz"]


def test_the_same_file_again_adds_nothing_and_a_corrected_one_only_the_new_rows(engine, admin):
    data = _ru_file()
    with session_scope(engine) as s:
        assert mi.commit(s, admin, mi.load(data, "reg.xlsx", "members")).written
    subjects = _count(engine, DataSubject)
    with session_scope(engine) as s:
        again = mi.commit(s, admin, mi.load(data, "reg-copy.xlsx", "members"))
    assert not again.written and again.plan.already_imported_at is not None
    assert _count(engine, DataSubject) == subjects and _count(engine, ImportBatch) == 1
    # the corrected file: the refused phone fixed; the three imported rows are skipped
    rows = [list(r) for r, _ in RU_ROWS]
    rows[7][1] = "87015550003"
    corrected = xlsx(RU_HEADER, rows)
    with session_scope(engine) as s:
        outcome = mi.commit(s, admin, mi.load(corrected, "reg-fixed.xlsx", "members"))
    assert outcome.written
    assert outcome.plan.counts()["skipped"] == 3 and outcome.plan.counts()["accepted"] == 1
    assert _count(engine, DataSubject) == subjects + 1
    assert _count(engine, ImportRow) == subjects + 1


def test_a_failure_while_writing_leaves_nothing_behind(engine, admin, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "recompute_retention", boom)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        mi.commit(s, admin, mi.load(_ru_file(), "reg.xlsx", "members"))
    for model in (DataSubject, Member, Consent, ImportBatch, ImportRow):
        assert _count(engine, model) == 0, model
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(
            AuditEvent.action == "import.completed")) == 0  # fmt: skip


def test_applications_land_in_the_pipeline_in_their_stated_status(engine, admin):
    loaded = mi.load(csv_bytes(EN_HEADER, EN_ROWS), "applications.csv", "applications")
    with session_scope(engine) as s:
        outcome = mi.commit(s, admin, loaded)
    assert outcome.written
    assert [p.key for p in outcome.plan.problems] == ["import.application_status_closed"]
    with session_scope(engine) as s:
        rows = s.execute(
            select(MembershipApplication.status, MembershipApplication.reference,
                   DataSubject.language, MembershipApplication.submitted_at)
            .join(DataSubject, DataSubject.id == MembershipApplication.subject_id)
            .order_by(MembershipApplication.id)
        ).all()  # fmt: skip
        assert [(r[0], r[2]) for r in rows] == [("in_review", "en"), ("submitted", "ru")]
        assert all(r[1].startswith("A-2026-") for r in rows)
        assert retention.local_date(rows[1][3]) == date(2026, 11, 2)
        assert s.scalar(select(func.count()).select_from(Consent)) == 0  # no evidence given


def test_a_csv_in_windows_1251_with_semicolons_is_read():
    data = csv_bytes(EN_HEADER.replace(",", ";"), [r.replace(",", ";") for r in EN_ROWS],
                     encoding="cp1251")  # fmt: skip
    loaded = mi.load(data, "a.csv", "applications")
    assert loaded.mapping[0] == "surname" and len(loaded.data_rows) == 3


def test_the_user_corrects_the_mapping(engine):
    header = ["Фамилия", "Имя", "Моб.", "Почта", "Место работы", "Должность", "Принят"]
    rows = [["Ким", "Анна", "87011230000", "kim@mail.kz", "ТОО", "Юрист", "01.02.2020"]]
    loaded = mi.load(xlsx(header, rows), "m.xlsx", "members")
    assert loaded.mapping[2] == "" and loaded.mapping[6] == ""
    with pytest.raises(ServiceError) as err, session_scope(engine) as s:
        mi.plan(s, loaded)
    assert err.value.key == "import.bad.missing_columns"
    assert tr("en", "subject.phone") in mi.explain(err.value, "en")
    mapping = list(loaded.mapping)
    mapping[2], mapping[6] = "phone", "joined"
    with session_scope(engine) as s:
        plan = mi.plan(s, loaded, mapping)
    assert plan.counts()["accepted"] == 1
    mapping[6] = "phone"
    with pytest.raises(ServiceError, match="import.mapping.twice"), session_scope(engine) as s:
        mi.plan(s, loaded, mapping)


def test_the_report_lists_every_refused_cell_in_the_users_language(engine):
    loaded = mi.load(_ru_file(), "reg.xlsx", "members")
    with session_scope(engine) as s:
        plan = mi.plan(s, loaded, today=TODAY)
    data = mi.report_xlsx(plan, "kk")
    book = load_workbook(io.BytesIO(data), read_only=True)
    refused = list(book[tr("kk", "import.report.sheet_refused")].iter_rows(values_only=True))
    assert refused[0] == tuple(tr("kk", k) for k in mi.REPORT_COLUMNS)
    assert len(refused) - 1 == len(plan.problems) == 8
    reasons = {r[4] for r in refused[1:]}
    assert tr("kk", "import.duplicate_in_file", row=3) in reasons
    assert tr("kk", "field.invisible_chars") in reasons
    # a value that looks like a formula is neutralised by the one writer
    phone_row = next(r for r in refused[1:] if r[0] == 10)
    assert phone_row[3] == "123"


def test_look_alike_letters_in_an_e_mail_are_refused(engine):
    header = ["Фамилия", "Имя", "Телефон", "E-mail", "Место работы", "Должность", "Дата вступления"]
    rows = [
        ["Ким", "Анна", "87011230001", "anna@m\u0430il.kz", "ТОО", "Юрист", "01.02.2020"],
        ["Ли", "Ольга", "87011230002", "olga\u0430@mail.kz", "ТОО", "Юрист", "01.02.2020"],
        ["Ан", "Ирина", "87011230003", "irina@сайт.қаз", "ТОО", "Юрист", "01.02.2020"],
    ]
    loaded = mi.load(xlsx(header, rows), "m.xlsx", "members")
    with session_scope(engine) as s:
        plan = mi.plan(s, loaded, today=TODAY)
    keys = {p.row: p.key for p in plan.problems}
    assert keys == {2: "import.email_mixed_script", 3: "field.email_invalid"}
    assert [a.subject["email"] for a in plan.accepted] == ["irina@сайт.қаз"]
