"""The catalogs follow docs/glossary.md: one term per concept per language (issue 18)."""

from __future__ import annotations

import re

import pytest

from dpa_panel.i18n import CATALOGS

LAW_TITLE = "«Дербес деректер және оларды қорғау туралы»"
#: A command a person types is quoted and kept as it is («dpa-panel retention sweep»).
_COMMAND = re.compile(r"[«“]dpa-panel[^»”]*[»”]")

BANNED = {
    "kk": {
        r"[Дд]ербес\s+дерек": "«жеке деректер» (the policy's term)",
        r"[Өө]тініш(?!\s+беруш)": "«өтінім» (application) or «сұрау» (request)",
        r"[Кк]ері\s+қайтар(?!ып\s+ал)": "«кері қайтарып алу» (policy 7.1)",
        r"дербестендір": "«иесіздендірілген»",
        r"[Ққ]ауымдастық": "«Ассоциация»",
        r"[Аа]шып\s+бер": "«деректерді беру»",
        r"[Кк]омплаенс": "«жауапты тұлға»",
        r"sweep": "«мерзімі өткен деректерді жою»",
    },
    "ru": {
        r"[Зз]аявлени": "«заявка»",
        r"[Рр]аскрыт": "«передача данных»",
        r"(?<![А-Яа-яЁё])ассоциаци": "«Ассоциация» (capitalised)",
        r"[Кк]омплаенс": "«ответственный за организацию обработки персональных данных»",
        r"[Оо]тветственный за защиту": "«ответственный за организацию обработки …»",
        r"прогон|sweep": "«уничтожение данных с истёкшим сроком»",
        # «обращение» stays only for writing to the Association in general ("e-mail for
        # enquiries about personal data") and an error's reference number.
        r"(?<!номер )[Оо]бращени(?!й по персональным)": "«запрос»",
    },
    "en": {
        r"[Cc]ompliance officer": "“person responsible for personal-data processing”",
        r"[Ss]weep": "“destruction of expired data”",
    },
}


@pytest.mark.parametrize("locale", sorted(BANNED))
def test_no_banned_variant(locale):
    found = []
    for key, text in CATALOGS[locale].items():
        text = _COMMAND.sub("", text.replace(LAW_TITLE, ""))
        for pattern, use in BANNED[locale].items():
            if re.search(pattern, text):
                found.append(f"{key}: {pattern!r} in {text[:80]!r} — use {use}")
    assert not found, "\n".join(found)


def test_the_check_can_fail():
    text = "Дербес деректерді өңдеу"
    assert re.search(next(iter(BANNED["kk"])), text)
    assert not re.search(next(iter(BANNED["kk"])), f"{LAW_TITLE} Заңы".replace(LAW_TITLE, ""))


def test_the_key_terms_are_used():
    assert "Жеке деректер" in CATALOGS["kk"]["footer.data_location"]
    assert CATALOGS["kk"]["nav.applications"] == "Өтінімдер"
    assert CATALOGS["ru"]["nav.applications"] == "Заявки"
    assert CATALOGS["ru"]["disclosure.title"] == "Реестр передачи данных"
    assert CATALOGS["kk"]["disclosure.title"] == "Деректерді беру тізілімі"
    assert "sweep" not in CATALOGS["kk"]["retention.sweep"]
