"""The page frame (issue 18, points 4 and 6): navigation groups, landmarks' names, the notice
of a page refused for the visitor's role."""

from __future__ import annotations

KK = {
    "nav.group.people": "Өтінімдер, мүшелер",
    "nav.group.requests": "Сұраулар, келісімдер",
    "nav.group.retention": "Сақтау",
    "nav.group.disclosures": "Деректерді беру, бұзушылықтар",
    "nav.group.governance": "Бақылау",
    "nav.group.admin": "Әкімшілік",
    "nav.main_label": "Негізгі мәзір",
    "nav.site_label": "Сайт",
    "nav.logged_in_as": "Жүйеге кірген",
    "shell.refused": "Сұралған бет сіздің рөліңіз үшін қолжетімсіз, сондықтан бастапқы "
    "бетіңіз ашылды.",
}

RU = {
    "nav.group.people": "Заявки и члены",
    "nav.group.requests": "Запросы и согласия",
    "nav.group.retention": "Хранение",
    "nav.group.disclosures": "Передача данных, нарушения",
    "nav.group.governance": "Контроль",
    "nav.group.admin": "Администрирование",
    "nav.main_label": "Основное меню",
    "nav.site_label": "Сайт",
    "nav.logged_in_as": "Вы вошли как",
    "shell.refused": "Запрошенная страница недоступна для вашей роли, поэтому открыта ваша "
    "начальная страница.",
}

EN = {
    "nav.group.people": "Applications & members",
    "nav.group.requests": "Requests & consents",
    "nav.group.retention": "Retention",
    "nav.group.disclosures": "Disclosures & breaches",
    "nav.group.governance": "Oversight",
    "nav.group.admin": "Administration",
    "nav.main_label": "Main menu",
    "nav.site_label": "Site",
    "nav.logged_in_as": "Logged in as",
    "shell.refused": "The page you asked for is not available for your role, so your start "
    "page was opened instead.",
}
