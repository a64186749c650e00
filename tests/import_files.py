"""Spreadsheets the import tests write themselves (kk/ru/en header styles, good and bad rows).

openpyxl is used here to *make* test input; the panel itself writes files only through
``services.tabular`` (tests are outside the rule of ``tests/test_exports_injection.py``).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

from openpyxl import Workbook

RU_HEADER = [
    "ФИО", "Телефон", "E-mail", "Место работы", "Должность", "Дата вступления",
    "Членский номер", "Статус", "Согласие на информирование: дата",
    "Согласие на информирование: номер документа", "Согласие на информирование: способ",
]  # fmt: skip

#: (row as written, what the test expects: "ok" or the catalog key of the refusal)
RU_ROWS = [
    (["Иванов Иван Иванович", "8 (701) 123-45-67", "ivanov@mail.kz", "Хабар", "Редактор",
      datetime(2021, 3, 12), "Ч-0001", "Активный", date(2025, 6, 1), "Протокол №5",
      "бумага"], "ok"),
    (["Сейтқали Айгүл Нұрланқызы", 87021234567, "aigul@mail.kz", "Kazinform", "Журналист",
      "12.03.2020", None, "белсенді", None, None, None], "ok"),
    (["Ахметов Ерлан Серік ұлы", "+7 777 765 43 21", "erlan@mail.kz", "PR Pro", "Директор",
      44000, None, "приостановлен", None, None, None], "ok"),
    # the same e-mail as row 2 (case differs): refused, not merged
    (["Петров Пётр", "87011112233", "IVANOV@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Активный", None, None, None], "import.duplicate_in_file"),
    # a Cyrillic "і" in the e-mail's local part
    (["Смирнова Анна", "87015556677", "\u0456vanova@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", None, None, None], "field.email_invalid"),
    # an invisible character in the name (a bidi override)
    (["Кузнецов Ол\u202eег", "87015556678", "kuz@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", None, None, None], "field.invisible_chars"),
    (["Сидоров", "87015556679", "sid@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", None, None, None], "import.full_name_unsplittable"),
    (["Орлов Олег", "123", "orlov@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", None, None, None], "field.phone_invalid"),
    (["Волков Илья", "87015550000", "volkov@mail.kz", "ТОО", "Менеджер", "31.02.2022",
      None, "Действует", None, None, None], "import.date_invalid"),
    # evidence without its document reference: never a consent without evidence
    (["Лебедев Антон", "87015550001", "leb@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", date(2025, 6, 1), None, "бумага"], "field.required"),
    # a consent dated before the first policy edition (2025-05-27)
    (["Козлов Максим", "87015550002", "koz@mail.kz", "ТОО", "Менеджер", "2022-01-01",
      None, "Действует", date(2024, 1, 10), "Письмо", "e-mail"], "import.consent_before_policy"),
]  # fmt: skip

KK_HEADER = ["Тегі", "Аты", "Әкесінің аты", "Телефон нөмірі", "Электрондық пошта",
             "Жұмыс орны", "Лауазымы", "Мүшелікке қабылданған күні"]  # fmt: skip
KK_ROWS = [
    ["Әбілқайыр", "Дәулет", "Маратұлы", "+7-705-111-22-33", "daulet@mail.kz", "Egemen",
     "Тілші", "01.09.2019"],
    ["Нұрпейісова", "Сәуле", None, "7051112234", "saule@mail.kz", "Abai.kz", "Редактор",
     date(2018, 5, 4)],
]  # fmt: skip

EN_HEADER = "Surname,First name,Phone,Email,Workplace,Position,Application date,Status,Language"
EN_ROWS = [
    "Smith,John,+77011234500,john@example.kz,Tengri,Analyst,2026-11-02,In review,English",
    "Brown,Kate,87011234501,kate@example.kz,Vlast,Editor,02.11.2026,submitted,ru",
    "Green,Ann,87011234502,ann@example.kz,Vlast,Editor,2026-11-01,approved,en",
]


def xlsx(header, rows, *, title_rows=(), merged=(), sheet="Реестр") -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for title in title_rows:
        ws.append(title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    for ref in merged:
        ws.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cached_formula(data: bytes, cell: str, formula: str, cached: str) -> bytes:
    """The workbook with ``cell`` turned into a formula whose saved value is ``cached`` (what
    Excel writes; openpyxl itself saves formulas without a value)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text, n = re.subn(
                    rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)',
                    f'<c r="{cell}" t="str"><f>{formula}</f><v>{cached}</v></c>',
                    text,
                )
                assert n == 1
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


def csv_bytes(header: str, rows: list[str], encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)
