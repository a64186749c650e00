"""Russian catalog."""

MESSAGES: dict[str, str] = {
    "app.name": "Панель защиты персональных данных",
    "app.org": "Ассоциация специалистов в сфере PR и медиа",
    "app.skip_to_content": "Перейти к содержанию",
    "locale.label": "Язык",
    "locale.kk": "Қазақша",
    "locale.ru": "Русский",
    "locale.en": "English",
    "nav.home": "Главная",
    "nav.login": "Вход для сотрудников",
    "nav.privacy": "Политика конфиденциальности",
    "home.title": "Персональные данные — по закону",
    "home.lead": (
        "Ассоциация обрабатывает персональные данные членов и заявителей в соответствии с Законом "
        "Республики Казахстан № 94-V «О персональных данных и их защите» и своей политикой "
        "конфиденциальности."
    ),
    "home.public_heading": "Заявителям и членам Ассоциации",
    "home.public_text": (
        "Узнайте, как собираются, используются, хранятся и защищаются ваши данные и как отозвать "
        "согласие."
    ),
    "home.staff_heading": "Сотрудникам Ассоциации",
    "home.staff_text": (
        "Уполномоченные сотрудники входят в систему для работы с заявками, согласиями и запросами."
    ),
    "privacy.title": "Политика конфиденциальности",
    "privacy.version": "Редакция",
    "privacy.effective": "Действует с",
    "privacy.sha256": "SHA-256 текста",
    "privacy.translation_note": "Это перевод. Определяющим является текст на казахском языке.",
    "privacy.other_editions": "Другие редакции",
    "privacy.not_found": "Такой редакции политики нет.",
    "footer.data_location": "Персональные данные обрабатываются и хранятся в Республике Казахстан.",
    "purpose.application_review": "Рассмотрение заявлений о вступлении в Ассоциацию",
    "purpose.member_register": "Ведение внутреннего реестра членов",
    "purpose.informing": "Информирование об инициативах, мероприятиях и новостях",
    "purpose.feedback": "Обратная связь с пользователями",
    "purpose.statistics": "Статистическая и аналитическая отчётность (обезличенно)",
    "subject_status.active": "Активен",
    "subject_status.blocked": "Заблокирован",
    "subject_status.destroyed": "Уничтожен",
    "application_status.submitted": "Подана",
    "application_status.in_review": "На рассмотрении",
    "application_status.info_requested": "Запрошены сведения",
    "application_status.approved": "Одобрена",
    "application_status.rejected": "Отклонена",
    "application_status.withdrawn": "Отозвана",
    "member_status.active": "Действует",
    "member_status.suspended": "Приостановлено",
    "member_status.ended": "Прекращено",
    "consent_channel.web_form": "Веб-форма",
    "consent_channel.paper": "На бумаге",
    "consent_channel.email": "Электронная почта",
    "consent_channel.in_person": "Лично",
    "role.admin": "Администратор",
    "role.staff": "Сотрудник",
    "role.compliance": "Ответственный за защиту данных",
    "role.board": "Член правления",
    "education_level.secondary": "Среднее",
    "education_level.vocational": "Среднее специальное",
    "education_level.bachelor": "Бакалавриат",
    "education_level.master": "Магистратура",
    "education_level.doctorate": "Докторантура",
    "education_level.other": "Другое",
    "workplace_category.media": "СМИ",
    "workplace_category.pr_agency": "PR-агентство",
    "workplace_category.corporate": "Корпоративные коммуникации",
    "workplace_category.government": "Государственный сектор",
    "workplace_category.ngo": "Некоммерческий сектор",
    "workplace_category.education": "Образование и наука",
    "workplace_category.freelance": "Фриланс",
    "workplace_category.other": "Другое",
    "position_level.junior": "Младший специалист",
    "position_level.specialist": "Специалист",
    "position_level.senior": "Старший специалист",
    "position_level.head": "Руководитель подразделения",
    "position_level.executive": "Первый руководитель",
    "position_level.other": "Другое",
    "consent.sentence.application_review": (
        "Я даю согласие Ассоциации на обработку персональных данных, указанных в пункте 2.1 её Политики конфиденциальности, для рассмотрения моего заявления о вступлении в Ассоциацию."
    ),
    "consent.sentence.member_register": (
        "В случае принятия моего заявления я даю согласие на хранение моих персональных данных во внутреннем реестре членов Ассоциации."
    ),
    "consent.sentence.informing": (
        "Я даю согласие на получение информации об инициативах, мероприятиях и новостях Ассоциации по электронной почте и телефону."
    ),
    "consent.sentence.feedback": "Я даю согласие на то, чтобы Ассоциация связывалась со мной для обратной связи.",
}
