"""Issue 18 gaps: the "About this file" link beside every CSV download, readable filters in
the About text, destruction acts' categories and ground in words, language names in the
re-consent list (decisions 18-gaps-*)."""

from __future__ import annotations

KK = {
    "gaps.about_link": "Файл туралы (жасалған уақыты, SHA-256)",
    "gaps.about_none": "Бұл түрдегі файлды сіз әлі жүктеп алған жоқсыз. Алдымен CSV файлын "
    "жүктеп алыңыз.",
    "gaps.filter.other": "Басқа сүзгі",
    "gaps.act.categories_recorded": "Санаттар (актіде жазылғандай, хэш қамтиды)",
    "gaps.act.rule_recorded": "Ереже (актіде жазылғандай, хэш қамтиды)",
    "gaps.language.kk": "қазақ тілі",
    "gaps.language.ru": "орыс тілі",
    "gaps.language.en": "ағылшын тілі",
}

RU = {
    "gaps.about_link": "О файле (время создания, SHA-256)",
    "gaps.about_none": "Вы ещё не скачивали файл этого вида. Сначала скачайте CSV.",
    "gaps.filter.other": "Другой фильтр",
    "gaps.act.categories_recorded": "Категории (как записано в акте, покрыто хешем)",
    "gaps.act.rule_recorded": "Правило (как записано в акте, покрыто хешем)",
    "gaps.language.kk": "казахский",
    "gaps.language.ru": "русский",
    "gaps.language.en": "английский",
}

EN = {
    "gaps.about_link": "About this file (generated at, SHA-256)",
    "gaps.about_none": "You have not downloaded a file of this kind yet. Download the CSV "
    "first.",
    "gaps.filter.other": "Other filter",
    "gaps.act.categories_recorded": "Categories (as recorded in the act, covered by its hash)",
    "gaps.act.rule_recorded": "Rule (as recorded in the act, covered by its hash)",
    "gaps.language.kk": "Kazakh",
    "gaps.language.ru": "Russian",
    "gaps.language.en": "English",
}
