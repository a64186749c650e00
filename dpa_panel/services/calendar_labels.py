"""The calendar's seeded names and sources in the reader's language (issue 18).

Migrations 0004 and 0012 stored each public holiday's name as "Kazakh / English" and its source
in English; the calendar page showed both languages at once, and English sources to everyone.
Those stored texts are looked up here and shown from the catalog (``holiday_name.<code>``,
``calendar_source.<code>``) in the page's language; a name or source an administrator typed is
shown as typed. The stored values are unchanged (the audit trail and deadlines refer to them).
"""

from __future__ import annotations

from dpa_panel.i18n import catalog
from dpa_panel.services.calendar import TRANSFER_SOURCE

_LAW = 'Labour Code Art. 84; Law "On holidays in the Republic of Kazakhstan"'
_RELIGIOUS = (
    'Labour Code of the RK Art. 84 p. 5: a day off; not moved by the transfer rule (Law "On '
    'holidays in the RK" Art. 5 covers state and national holidays only)'
)
_DEADLINE = "Law 94-V Art. 24 (secondary source; confirm against the current text): "

#: Stored name -> code of its label.
NAMES = {
    "Жаңа жыл / New Year": "new_year",
    "Православиелік Рождество / Orthodox Christmas": "orthodox_christmas",
    "Халықаралық әйелдер күні / International Women's Day": "womens_day",
    "Наурыз мейрамы / Nauryz": "nauryz",
    "Қазақстан халқының бірлігі мерекесі / Unity Day": "unity_day",
    "Отан қорғаушы күні / Defender of the Fatherland Day": "defender_day",
    "Жеңіс күні / Victory Day": "victory_day",
    "Құрбан айт (1-күн) / Kurban Ait, day 1": "kurban_ait",
    "Астана күні / Capital Day": "capital_day",
    "Конституция күні / Constitution Day": "constitution_day",
    "Республика күні / Republic Day": "republic_day",
    "Тәуелсіздік күні / Independence Day": "independence_day",
    "Демалыс күні ауыстырылды / Перенесённый выходной": "moved_day_off",
    "Жұмыс күні (жексенбі) / Рабочее воскресенье": "working_sunday",
}

#: Stored source -> code of its label.
SOURCES = {
    _LAW: "holiday_law",
    _RELIGIOUS: "religious",
    _RELIGIOUS + "; movable date, estimate until the government publishes it": "religious_movable",
    (
        "Order of the Minister of Labour and Social Protection of the RK (announced November "
        "2024): the day off of Sunday 5 January 2025 moved to Friday 3 January (Labour Code "
        "Art. 85 p. 3)"
    ): "transfer_2025",
    TRANSFER_SOURCE: "transfer_rule",
    _DEADLINE + "information on the subject's data within 3 working days": "deadline_access",
    _DEADLINE + "1 working day": "deadline_one_day",
    _DEADLINE + "stop processing within 1 working day": "deadline_withdrawal",
    "Association's own decision (no statutory period read in Law 94-V); adjust if needed": (
        "deadline_complaint"
    ),
}


def holiday_name(locale: str, stored: str) -> str:
    code = NAMES.get(stored)
    return catalog(locale)[f"holiday_name.{code}"] if code else stored


def source_text(locale: str, stored: str) -> str:
    code = SOURCES.get(stored)
    return catalog(locale)[f"calendar_source.{code}"] if code else stored
