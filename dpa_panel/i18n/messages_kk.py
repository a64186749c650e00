"""Kazakh catalog (default language)."""

MESSAGES: dict[str, str] = {
    "app.name": "Дербес деректерді қорғау панелі",
    "app.org": "PR және медиа саласы мамандары Ассоциациясы",
    "app.skip_to_content": "Мазмұнға өту",
    "locale.label": "Тіл",
    "locale.kk": "Қазақша",
    "locale.ru": "Русский",
    "locale.en": "English",
    "nav.home": "Басты бет",
    "nav.login": "Қызметкерлер кіреді",
    "nav.privacy": "Құпиялылық саясаты",
    "home.title": "Дербес деректер — заң аясында",
    "home.lead": (
        "Ассоциация мүшелері мен өтініш берушілердің дербес деректерін Қазақстан Республикасының "
        "«Дербес деректер және оларды қорғау туралы» № 94-V Заңына және өзінің құпиялылық "
        "саясатына сәйкес өңдейді."
    ),
    "home.public_heading": "Өтініш берушілер мен мүшелерге",
    "home.public_text": (
        "Деректеріңіз қалай жиналатынын, пайдаланылатынын, сақталатынын және қорғалатынын, "
        "келісімді қалай кері қайтарып алуға болатынын біліңіз."
    ),
    "home.staff_heading": "Ассоциация қызметкерлеріне",
    "home.staff_text": (
        "Уәкілетті қызметкерлер өтінімдермен, келісімдермен және сұраулармен жұмыс істеу үшін "
        "жүйеге кіреді."
    ),
    "privacy.title": "Құпиялылық саясаты",
    "privacy.version": "Редакция",
    "privacy.effective": "Күшіне енген күні",
    "privacy.sha256": "Мәтіннің SHA-256 хэші",
    "privacy.translation_note": "Бұл — аударма. Қазақ тіліндегі мәтін негізгі болып табылады.",
    "privacy.other_editions": "Басқа редакциялар",
    "privacy.not_found": "Саясаттың мұндай редакциясы жоқ.",
    "footer.data_location": "Дербес деректер Қазақстан Республикасының аумағында өңделіп, сақталады.",
    "purpose.application_review": "Ассоциацияға мүшелікке өтінімдерді қарау",
    "purpose.member_register": "Ассоциация мүшелерінің ішкі тізілімін жүргізу",
    "purpose.informing": "Бастамалар, іс-шаралар мен жаңалықтар туралы ақпарат беру",
    "purpose.feedback": "Пайдаланушылармен кері байланыс",
    "purpose.statistics": "Статистикалық және аналитикалық есептілік (дербестендірілмеген)",
    "subject_status.active": "Белсенді",
    "subject_status.blocked": "Бұғатталған",
    "subject_status.destroyed": "Жойылған",
    "application_status.submitted": "Берілді",
    "application_status.in_review": "Қаралуда",
    "application_status.info_requested": "Мәлімет сұралды",
    "application_status.approved": "Мақұлданды",
    "application_status.rejected": "Қабылданбады",
    "application_status.withdrawn": "Кері қайтарылды",
    "member_status.active": "Белсенді",
    "member_status.suspended": "Тоқтатылған",
    "member_status.ended": "Аяқталған",
    "consent_channel.web_form": "Веб-форма",
    "consent_channel.paper": "Қағаз түрінде",
    "consent_channel.email": "Электрондық пошта",
    "consent_channel.in_person": "Жеке өзі",
    "role.admin": "Әкімші",
    "role.staff": "Қызметкер",
    "role.compliance": "Деректерді қорғауға жауапты",
    "role.board": "Басқарма мүшесі",
    "education_level.secondary": "Орта",
    "education_level.vocational": "Арнаулы орта",
    "education_level.bachelor": "Бакалавриат",
    "education_level.master": "Магистратура",
    "education_level.doctorate": "Докторантура",
    "education_level.other": "Басқа",
    "workplace_category.media": "БАҚ",
    "workplace_category.pr_agency": "PR-агенттік",
    "workplace_category.corporate": "Корпоративтік коммуникациялар",
    "workplace_category.government": "Мемлекеттік сектор",
    "workplace_category.ngo": "Коммерциялық емес сектор",
    "workplace_category.education": "Білім және ғылым",
    "workplace_category.freelance": "Фриланс",
    "workplace_category.other": "Басқа",
    "position_level.junior": "Кіші маман",
    "position_level.specialist": "Маман",
    "position_level.senior": "Аға маман",
    "position_level.head": "Бөлім басшысы",
    "position_level.executive": "Бірінші басшы",
    "position_level.other": "Басқа",
    "consent.sentence.application_review": (
        "Ассоциацияның Құпиялылық саясатының 2.1-тармағында көрсетілген дербес деректерімді мүшелікке өтінімімді қарау үшін өңдеуіне келісемін."
    ),
    "consent.sentence.member_register": (
        "Өтінімім қабылданған жағдайда, дербес деректерімнің Ассоциация мүшелерінің ішкі тізілімінде сақталуына келісемін."
    ),
    "consent.sentence.informing": (
        "Ассоциацияның бастамалары, іс-шаралары мен жаңалықтары туралы ақпаратты электрондық пошта және телефон арқылы алуға келісемін."
    ),
    "consent.sentence.feedback": "Кері байланыс беру үшін Ассоциацияның менімен байланысуына келісемін.",
}
