"""Recognising an imported sheet's columns and turning its cells into field values (issue 21).

* **Headers** are matched on a folded spelling (NFC, case-folded, ``ё``→``е``, punctuation
  as spaces) against the Kazakh, Russian and English names people give these columns
  (``HEADER_NAMES``); consent-evidence columns are recognised by their words (a consent word,
  a purpose word and "date"/"document"/"channel"). The result is only a proposal: the user
  can correct every column's field on the page (or the CLI's ``--map``).
* **Full names** (ФИО / аты-жөні) in one column are split surname, first name, patronymic —
  the order of Kazakh and Russian registers. Kazakh patronymics written in two words
  (``Нұрлан ұлы``) stay one patronymic. A name that cannot be split without guessing
  (one word, initials, five words) is refused for that row, never guessed.
* **Dates** come as Excel dates, Excel serial numbers (a date column formatted as a number)
  or text: ``31.12.2020``, ``31/12/2020``, ``2020-12-31``, ``31.12.20`` (day first, as in
  Kazakhstan). Ambiguous or impossible dates are refused for the row.
* **Numbers** read by Excel (a phone ``87011234567`` or a number ``7`` stored as numbers)
  become their digits as text, so the /apply validation sees what a person would have typed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from dpa_panel.i18n import tr
from dpa_panel.models.vocab import (
    APPLICATION_STATUSES,
    EDUCATION_LEVELS,
    MEMBER_STATUSES,
    POSITION_LEVELS,
    WORKPLACE_CATEGORIES,
)

#: Purposes whose consent a file may carry evidence for (statistics is never asked: clause 3).
EVIDENCE_PURPOSES = ("application_review", "member_register", "informing", "feedback")
EVIDENCE_PARTS = ("date", "ref", "channel")
#: The channels a paper trail can show (``consent.channel``).
EVIDENCE_CHANNELS = ("paper", "email")

SUBJECT_FIELDS = (
    "surname", "first_name", "patronymic", "phone", "email", "workplace",
    "workplace_category", "position", "position_level", "education_level", "education",
    "experience_years", "experience", "other_info", "language",
)  # fmt: skip
MEMBER_FIELDS = ("membership_number", "joined", "status", "ended")
APPLICATION_FIELDS = ("submitted", "status")
EVIDENCE_FIELDS = tuple(f"consent_{p}_{part}" for p in EVIDENCE_PURPOSES for part in EVIDENCE_PARTS)


def fields_for(kind: str) -> tuple[str, ...]:
    """Every field a column of a ``kind`` file can be mapped to, in display order."""
    own = MEMBER_FIELDS if kind == "members" else APPLICATION_FIELDS
    return ("full_name", *SUBJECT_FIELDS, *own, *EVIDENCE_FIELDS)


def required_fields(kind: str) -> tuple[str, ...]:
    """Columns a file must have (``full_name`` stands for surname + first name)."""
    own = ("joined",) if kind == "members" else ("submitted", "status")
    return ("surname", "first_name", "phone", "email", "workplace", "position", *own)


def fold_header(text: object) -> str:
    """A header's comparable spelling: ``"E-mail:"`` and ``"e mail"`` are the same."""
    value = unicodedata.normalize("NFC", str(text or "")).casefold().replace("ё", "е")
    value = re.sub(r"[^\w]+", " ", value)
    return " ".join(value.split())


_NAMES: dict[str, tuple[str, ...]] = {
    "full_name": (
        "фио", "ф и о", "фамилия имя отчество", "полное имя", "аты жөні", "тегі аты әкесінің аты",
        "толық аты жөні", "аты жөні тегі", "full name", "name surname", "surname name",
        "surname first name patronymic",
    ),
    "surname": ("фамилия", "тегі", "surname", "last name", "family name"),
    "first_name": ("имя", "аты", "first name", "given name", "name"),
    "patronymic": ("отчество", "әкесінің аты", "patronymic", "middle name"),
    "phone": (
        "телефон", "тел", "номер телефона", "мобильный телефон", "мобильный", "сотовый",
        "контактный телефон", "телефон нөмірі", "ұялы телефон", "байланыс телефоны",
        "phone", "phone number", "mobile", "mobile phone", "tel", "telephone",
    ),
    "email": (
        "email", "e mail", "эл почта", "электронная почта", "адрес электронной почты", "почта",
        "электрондық пошта", "эл пошта", "электрондық пошта мекенжайы", "mail", "e mail address",
        "email address",
    ),
    "workplace": (
        "место работы", "организация", "работодатель", "жұмыс орны", "ұйым", "workplace",
        "employer", "organisation", "organization", "company", "place of work",
    ),
    "workplace_category": (
        "сфера", "сектор", "сфера деятельности", "категория места работы", "сала", "қызмет саласы",
        "sector", "workplace category", "industry",
    ),
    "position": (
        "должность", "лауазым", "лауазымы", "position", "job title", "title", "role",
    ),
    "position_level": (
        "уровень должности", "лауазым деңгейі", "position level", "seniority", "level",
    ),
    "education_level": (
        "уровень образования", "білім деңгейі", "education level", "degree",
    ),
    "education": (
        "образование", "білімі", "білім", "education", "учебное заведение", "оқу орны",
    ),
    "experience_years": (
        "стаж", "стаж лет", "стаж работы лет", "опыт лет", "еңбек өтілі", "жұмыс өтілі",
        "өтілі", "years of experience", "experience years",
    ),
    "experience": (
        "опыт работы", "профессиональный опыт", "опыт", "тәжірибе", "кәсіби тәжірибе",
        "жұмыс тәжірибесі", "experience", "professional experience", "work experience",
    ),
    "other_info": (
        "примечание", "примечания", "дополнительно", "дополнительная информация", "комментарий",
        "қосымша", "қосымша ақпарат", "ескерту", "other information", "other info", "notes",
        "note", "comment", "comments",
    ),
    "language": ("язык", "язык общения", "тіл", "байланыс тілі", "language"),
    "membership_number": (
        "членский номер", "номер члена", "номер членского билета", "членский билет",
        "номер билета", "мүшелік нөмірі", "мүшелік билеті", "мүшелік билетінің нөмірі",
        "membership number", "member number", "member no", "membership no", "card number",
    ),
    "joined": (
        "дата вступления", "дата приема", "дата принятия", "член с", "член ассоциации с",
        "мүшелікке қабылданған күні", "қабылданған күні", "мүше болған күні", "кірген күні",
        "joined", "date joined", "joined date", "member since", "joining date",
    ),
    "status": (
        "статус", "статус членства", "статус заявки", "мәртебе", "мәртебесі", "мүшелік мәртебесі",
        "өтінім мәртебесі", "status", "membership status", "application status",
    ),
    "ended": (
        "дата выхода", "дата прекращения", "дата прекращения членства", "шыққан күні",
        "мүшелік тоқтатылған күні", "ended", "end date", "date left", "left",
    ),
    "submitted": (
        "дата заявки", "дата заявления", "дата подачи", "дата подачи заявки",
        "өтінім берілген күні", "өтініш берілген күні", "өтінім күні", "өтініш күні",
        "submitted", "date submitted", "application date", "submitted on",
    ),
}  # fmt: skip
#: Folded header -> field.
HEADER_NAMES: dict[str, str] = {
    fold_header(name): fld for fld, names in _NAMES.items() for name in names
}

_CONSENT_WORDS = ("соглас", "келісім", "consent")
_PURPOSE_WORDS = {
    "application_review": ("рассмотр", "заявк", "заявлен", "өтінім", "өтініш", "application"),
    "member_register": ("реестр", "тізілім", "register", "registry"),
    "informing": ("информир", "рассылк", "ақпарат", "informing", "newsletter", "news"),
    "feedback": ("обратн", "кері байланыс", "feedback"),
}
_PART_WORDS = {
    "channel": ("способ", "канал", "арна", "тәсіл", "channel", "how given", "form of"),
    "date": ("дата", "күні", "date"),
    "ref": ("документ", "номер", "ссылка", "реквизит", "құжат", "нөмір", "reference", "ref",
            "document", "number"),
}  # fmt: skip


def _evidence_field(folded: str) -> str | None:
    if not any(w in folded for w in _CONSENT_WORDS):
        return None
    purposes = [p for p, words in _PURPOSE_WORDS.items() if any(w in folded for w in words)]
    if len(purposes) != 1:
        return None
    for part in ("channel", "date", "ref"):
        if any(w in folded for w in _PART_WORDS[part]):
            return f"consent_{purposes[0]}_{part}"
    return None


def field_for_header(header: object, kind: str) -> str | None:
    """The field a header names, or ``None`` when it names none of ``fields_for(kind)``."""
    folded = fold_header(header)
    if not folded:
        return None
    fld = HEADER_NAMES.get(folded) or _evidence_field(folded)
    return fld if fld in fields_for(kind) else None


def propose_mapping(header: list[object], kind: str) -> list[str]:
    """One field per column ("" = ignored); a field already taken by an earlier column is
    not given twice (the later column is ignored, and the user may change it)."""
    taken: set[str] = set()
    mapping = []
    for cell in header:
        fld = field_for_header(cell, kind)
        if fld is None or fld in taken:
            mapping.append("")
            continue
        taken.add(fld)
        mapping.append(fld)
    return mapping


def find_header_row(rows: list[list[Any]], kind: str, search: int = 10) -> int:
    """Index of the row that names the most known fields among the first ``search`` rows
    (titles and blank lines often sit above the header); -1 when none names two."""
    best, best_index = 1, -1
    for index, row in enumerate(rows[:search]):
        known = sum(1 for f in propose_mapping(row, kind) if f)
        if known > best:
            best, best_index = known, index
    return best_index


def missing_fields(mapping: list[str], kind: str) -> list[str]:
    """Required fields no column is mapped to (surname and first name count as given when a
    full-name column is mapped)."""
    present = set(mapping)
    if "full_name" in present:
        present |= {"surname", "first_name"}
    return [f for f in required_fields(kind) if f not in present]


# --- cells -> text, dates, names -------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as the text a person would have typed (``None`` for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value)


#: Excel's day zero (its 1900 leap-year bug makes serial 60 a non-existent day; dates after
#: 1 March 1900, i.e. every realistic one, count from 30 December 1899).
_EXCEL_EPOCH = date(1899, 12, 30)
_EARLIEST = date(1900, 3, 1)
_DMY = re.compile(r"^(\d{1,2})[./\-](\d{1,2})[./\-](\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})[./\-](\d{1,2})[./\-](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


def parse_date(value: Any) -> date | None:
    """A date from an Excel date, an Excel serial number or text (see the module docstring);
    ``None`` when the cell is empty. Raises ``ValueError`` when it is not a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:
            return None
        if not 61 <= value < 2958466:  # 1 March 1900 .. 31 December 9999
            raise ValueError("serial out of range")
        return _EXCEL_EPOCH + timedelta(days=int(value))
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    if text.isdigit() and 3 <= len(text) <= 5:  # a serial number saved as text by a CSV export
        return parse_date(int(text))
    m = _YMD.match(text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 100:
            year += 2000 if year <= date.today().year % 100 else 1900
        return date(year, month, day)
    raise ValueError("not a date")


#: Words that end a Kazakh (or Azerbaijani/Uzbek-style) patronymic written in two words.
_PATRONYMIC_TAILS = frozenset(("ұлы", "қызы", "улы", "кызы", "оглы", "оглу", "кизи", "uly", "kyzy"))
_INITIAL = re.compile(r"^\w\.(\w\.)?$")


def split_full_name(text: str) -> tuple[str, str, str | None] | None:
    """``(surname, first name, patronymic or None)`` of "Surname First [Patronymic]", or
    ``None`` when it cannot be split without guessing."""
    words = unicodedata.normalize("NFC", text).split()
    if any(_INITIAL.match(w) for w in words):
        return None
    if len(words) == 4 and words[3].casefold() in _PATRONYMIC_TAILS:
        return words[0], words[1], f"{words[2]} {words[3]}"
    if len(words) == 3:
        return words[0], words[1], words[2]
    if len(words) == 2:
        return words[0], words[1], None
    return None


def _labels(vocabulary: str, codes: tuple[str, ...]) -> dict[str, str]:
    """Folded code or label (in any of the three languages) -> code."""
    found = {}
    for code in codes:
        found[fold_header(code)] = code
        for lang in ("kk", "ru", "en"):
            found[fold_header(tr(lang, f"{vocabulary}.{code}"))] = code
    return found


_CHOICES: dict[str, dict[str, str]] = {}
#: How registers commonly spell a status besides the panel's own labels.
_EXTRA_CHOICES = {
    "member_status": {
        "active": ("активный", "активен", "действующий", "член", "белсенді мүше", "current"),
        "suspended": ("приостановлен", "приостановлена", "уақытша тоқтатылған", "paused"),
        "ended": ("прекращен", "прекращена", "выбыл", "вышел", "исключен", "шықты", "left"),
    },
    "application_status": {
        "submitted": ("подано", "новая", "новое", "жаңа", "new"),
        "in_review": ("в работе", "рассматривается", "review"),
        "info_requested": ("запрошена информация", "нужны сведения"),
    },
}


def choice_code(vocabulary: str, value: str) -> str | None:
    """The code a cell names by code or by its label in kk/ru/en; ``None`` if none."""
    if vocabulary not in _CHOICES:
        codes = {
            "workplace_category": WORKPLACE_CATEGORIES,
            "position_level": POSITION_LEVELS,
            "education_level": EDUCATION_LEVELS,
            "member_status": MEMBER_STATUSES,
            "application_status": APPLICATION_STATUSES,
        }[vocabulary]
        _CHOICES[vocabulary] = _labels(vocabulary, codes)
        for code, names in _EXTRA_CHOICES.get(vocabulary, {}).items():
            _CHOICES[vocabulary].update({fold_header(n): code for n in names})
    return _CHOICES[vocabulary].get(fold_header(value))


_LANGUAGES = {
    "kk": ("kk", "kz", "қазақ", "қазақша", "қазақ тілі", "казахский", "kazakh"),
    "ru": ("ru", "орыс", "орысша", "орыс тілі", "русский", "russian"),
    "en": ("en", "ағылшын", "ағылшынша", "английский", "english"),
}
_LANGUAGE_CODES = {fold_header(n): code for code, names in _LANGUAGES.items() for n in names}
_CHANNELS = {
    "paper": ("paper", "бумага", "бумажный", "бумажное", "на бумаге", "письменно", "қағаз",
              "қағаз жүзінде", "жазбаша"),
    "email": ("email", "e mail", "электронная почта", "эл почта", "по почте e mail",
              "электрондық пошта", "эл пошта"),
}  # fmt: skip
_CHANNEL_CODES = {fold_header(n): code for code, names in _CHANNELS.items() for n in names}


def language_code(value: str) -> str | None:
    return _LANGUAGE_CODES.get(fold_header(value))


def channel_code(value: str) -> str | None:
    return _CHANNEL_CODES.get(fold_header(value))
