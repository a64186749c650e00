"""The PDF disclosure package, layout 2 (issue 18): written for the authority that asked.

* **Language** (decision 18-documents-4): the register does not record a language per request,
  and a package must rebuild byte for byte years later, so layout 2 is bilingual — every label
  and every coded value in Kazakh (the state language) and Russian, as the package title
  always was (Law "On languages" Art. 8-9: documents to state bodies in Kazakh or Russian).
* **Fixed wording.** The labels below are frozen literals, not catalog keys: a reworded
  catalog must never change the bytes of a package that was sent.
* **Readable values.** Field names become labels (``Тегі / Фамилия``), codes become words
  (``PR-агенттік / PR-агентство``), the member-since date ``DD.MM.YYYY``, the moment of
  disclosure Almaty time with the offset. No record id or digest is in the package (its own
  SHA-256 is recorded in the register, which is where the authority's copy is verified).
* Layout 1 (field names, UTC) stays in ``services.disclosure_exports._pdf_bytes``: a package
  sent with it still rebuilds to the recorded digest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dpa_panel.models import Disclosure
from dpa_panel.services.documents.pdf import Document, clean

LAYOUT = 2
#: The title of layout 2 (layout 1 keeps its own, older wording).
TITLE = "Жеке деректерді беру / Передача персональных данных"
ROW_LABEL = "№"
REQUEST_LABELS = {
    "reference": "Тіркеу нөмірі / Регистрационный номер",
    "body": "Сұрау жіберген орган / Орган, направивший запрос",
    "request": "Сұраудың нөмірі мен күні / Номер и дата запроса",
    "basis": "Құқықтық негіз / Правовое основание",
    "disclosed_at": "Берілген уақыты / Время передачи",
    "rows": "Субъектілер саны / Число субъектов",
}
ALMATY = "Алматы уақыты / время Алматы"
FIELD_LABELS = {
    "surname": "Тегі / Фамилия",
    "first_name": "Аты / Имя",
    "patronymic": "Әкесінің аты / Отчество",
    "phone": "Байланыс телефоны / Контактный телефон",
    "email": "Электрондық пошта / Электронная почта",
    "workplace": "Жұмыс орны / Место работы",
    "workplace_category": "Сала / Сфера",
    "position": "Лауазымы / Должность",
    "position_level": "Лауазым деңгейі / Уровень должности",
    "education_level": "Білім деңгейі / Уровень образования",
    "education": "Білімі (оқу орны, мамандығы) / Образование (учебное заведение, специальность)",
    "experience_years": "Кәсіби өтілі, жыл / Профессиональный стаж, лет",
    "experience": "Кәсіби тәжірибесі / Профессиональный опыт",
    "membership_number": "Мүшелік нөмірі / Членский номер",
    "member_since": "Мүше болған күні / Член ассоциации с",
    "member_status": "Мүшелік мәртебесі / Статус членства",
    "other_info": "Өзге мәліметтер / Иные сведения",
    "language": "Тілі / Язык",
}
VALUE_LABELS = {
    "workplace_category": {
        "media": "БАҚ / СМИ",
        "pr_agency": "PR-агенттік / PR-агентство",
        "corporate": "Корпоративтік коммуникациялар / Корпоративные коммуникации",
        "government": "Мемлекеттік сектор / Государственный сектор",
        "ngo": "Коммерциялық емес сектор / Некоммерческий сектор",
        "education": "Білім және ғылым / Образование и наука",
        "freelance": "Фриланс / Фриланс",
        "other": "Басқа / Другое",
    },
    "position_level": {
        "junior": "Кіші маман / Младший специалист",
        "specialist": "Маман / Специалист",
        "senior": "Аға маман / Старший специалист",
        "head": "Бөлім басшысы / Руководитель подразделения",
        "executive": "Бірінші басшы / Первый руководитель",
        "other": "Басқа / Другое",
    },
    "education_level": {
        "secondary": "Орта / Среднее",
        "vocational": "Арнаулы орта / Среднее специальное",
        "bachelor": "Бакалавриат / Бакалавриат",
        "master": "Магистратура / Магистратура",
        "doctorate": "Докторантура / Докторантура",
        "other": "Басқа / Другое",
    },
    "member_status": {
        "active": "Белсенді / Действует",
        "suspended": "Уақытша тоқтатылған / Приостановлено",
        "ended": "Аяқталған / Прекращено",
    },
    "language": {
        "kk": "Қазақ тілі / Казахский язык",
        "ru": "Орыс тілі / Русский язык",
        "en": "Ағылшын тілі / Английский язык",
    },  # fmt: skip
}
DATE_FIELDS = frozenset({"member_since"})


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def value_text(name: str, value: str) -> str:
    """A package cell as the authority reads it (layout 1 wrote the raw cell)."""
    if not value:
        return ""
    if name in VALUE_LABELS:
        return VALUE_LABELS[name].get(value, value)
    if name in DATE_FIELDS:
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return value


def moment_text(moment: datetime) -> str:
    """``21.11.2026 13:00 (UTC+05:00, Алматы уақыты / время Алматы)`` — fixed, not catalog."""
    from dpa_panel.i18n.formatting import to_local

    local = to_local(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    offset = local.strftime("%z")
    return f"{local.strftime('%d.%m.%Y %H:%M')} (UTC{offset[:3]}:{offset[3:]}, {ALMATY})"


def render(
    disclosure: Disclosure,
    columns: list[str],
    rows: list[list[str]],
    moment: datetime,
    operator: list[list[str]] | None,
) -> Document:
    """Layout 2 of the PDF package (``columns``/``rows`` as ``_package_rows`` gives them)."""
    doc = Document(title=disclosure.reference, creation=moment)
    if operator is not None:
        doc.operator([f"{label}: {value}" for label, value in operator])
    doc.title(TITLE)
    body = disclosure.body_name + (
        f", {disclosure.body_department}" if disclosure.body_department else ""
    )
    basis = f"{disclosure.legal_article} {disclosure.legal_basis}".strip()
    request = f"{disclosure.request_number} / {disclosure.request_date.strftime('%d.%m.%Y')}"
    for key, value in (
        ("reference", disclosure.reference), ("body", body), ("request", request),
        ("basis", basis), ("disclosed_at", moment_text(moment)), ("rows", str(len(rows))),
    ):  # fmt: skip
        doc.field(REQUEST_LABELS[key], value)
    doc.space(3)
    for row in rows:
        doc.subheading(f"{ROW_LABEL} {row[0]}")
        for name, value in zip(columns[1:], row[1:], strict=True):
            doc.field(field_label(name), value_text(name, value), indent=3)
        doc.space(2)
    return doc


__all__ = ["LAYOUT", "TITLE", "clean", "field_label", "moment_text", "render", "value_text"]
