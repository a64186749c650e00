"""Synthetic data: realistic Kazakh/Russian subjects, applications, members, consents, staff.

Used by ``make run`` (demo data on an empty database), by ``make bench`` and by the tests;
never by a production code path. Rows are built in Python and written with bulk
``executemany`` inserts so that 100,000 subjects take seconds, not minutes.

Applications are spread from the effective date of policy edition v1 (2025-05-27) to "now",
so every generated consent points at an edition that was in force when it was given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

from dpa_panel.i18n import tr
from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    PolicyVersion,
    StaffUser,
)
from dpa_panel.models.subject import compose_search_text
from dpa_panel.services.applications import local_date
from dpa_panel.services.passwords import hash_password
from dpa_panel.services.policy_texts import SHIPPED_EDITIONS, text_sha256

# --- name material -------------------------------------------------------------------------

KZ_SURNAME_STEMS = [
    "Ахмет",
    "Нұрлан",
    "Жұмабек",
    "Қасым",
    "Серікбай",
    "Омар",
    "Тоқтар",
    "Байжан",
    "Ермек",
    "Мұрат",
    "Сәрсенбай",
    "Оспан",
    "Құдайберген",
    "Жақсылық",
    "Бекмұхамед",
    "Исабек",
    "Төлеу",
    "Шәкен",
    "Әбілқасым",
    "Сейітқали",
    "Дүйсен",
    "Қожахмет",
    "Есен",
    "Рысқұл",
    "Иманғали",
]
KZ_MALE = [
    "Айбек",
    "Нұрлан",
    "Ерлан",
    "Дәурен",
    "Асқар",
    "Бауыржан",
    "Арман",
    "Ержан",
    "Тимур",
    "Серік",
    "Мұрат",
    "Қанат",
    "Ақжол",
    "Әлихан",
    "Диас",
    "Санжар",
    "Ернар",
    "Олжас",
]
KZ_FEMALE = [
    "Айгүл",
    "Айжан",
    "Гүлнар",
    "Динара",
    "Жанар",
    "Сәуле",
    "Меруерт",
    "Әйгерім",
    "Дана",
    "Аружан",
    "Камила",
    "Ақмарал",
    "Назерке",
    "Томирис",
    "Жансая",
    "Ботагөз",
    "Мөлдір",
]
RU_SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Ким",
    "Пак",
]
RU_MALE = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Евгений",
    "Владимир",
]
RU_FEMALE = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Екатерина",
    "Татьяна",
    "Ирина",
    "Юлия",
    "Светлана",
    "Виктория",
    "Ксения",
]
# Father's name -> (male patronymic, female patronymic), Russian style.
RU_PATRONYMICS = [
    ("Александрович", "Александровна"),
    ("Сергеевич", "Сергеевна"),
    ("Викторович", "Викторовна"),
    ("Николаевич", "Николаевна"),
    ("Владимирович", "Владимировна"),
    ("Игоревич", "Игоревна"),
    ("Ерланович", "Ерлановна"),
    ("Маратович", "Маратовна"),
    ("Болатович", "Болатовна"),
]

TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "sch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "a",
            "g",
            "q",
            "n",
            "o",
            "u",
            "u",
            "h",
            "i",
        ],
        strict=True,
    )
)
MAIL_DOMAINS = ["gmail.com", "mail.ru", "yandex.kz", "inbox.kz", "outlook.com", "list.ru"]
PHONE_PREFIXES = [
    "700",
    "701",
    "702",
    "705",
    "707",
    "708",
    "747",
    "771",
    "775",
    "776",
    "777",
    "778",
]

# (name, category) — fictional employers typical of the sector.
EMPLOYERS = [
    ("«Дала Медиа» ЖШС", "media"),
    ("«Qalam News» ақпарат агенттігі", "media"),
    ("«Жаңа Дәуір» газеті", "media"),
    ("ТОО «Степь Медиа Групп»", "media"),
    ("«Astana Daily» порталы", "media"),
    ("Телеканал «Алатау ТВ»", "media"),
    ("«Nomad PR Group»", "pr_agency"),
    ("PR-агентство «Тұмар Коммуникейшнс»", "pr_agency"),
    ("«Steppe Communications»", "pr_agency"),
    ("«Bayterek Comms» агенттігі", "pr_agency"),
    ("АО «КазЭнергоСервис», департамент коммуникаций", "corporate"),
    ("«Қазақ Темір Жол Логистика» баспасөз қызметі", "corporate"),
    ("Банк «Алтын Сенім», PR-служба", "corporate"),
    ("Алматы қаласы әкімдігінің баспасөз қызметі", "government"),
    ("Министерство культуры и информации, пресс-служба", "government"),
    ("«Ашық Қоғам» қоғамдық қоры", "ngo"),
    ("ОФ «Медиа Сауаттылық»", "ngo"),
    ("Әл-Фараби атындағы ҚазҰУ, журналистика факультеті", "education"),
    ("Университет КИМЭП, школа медиа", "education"),
    ("Самозанятый журналист", "freelance"),
    ("Фрилансер, контент-маркетинг", "freelance"),
    ("ИП «Сапар Ивент»", "other"),
]
# (title, level)
POSITIONS = [
    ("Тілші", "specialist"),
    ("Корреспондент", "specialist"),
    ("Редактор", "senior"),
    ("Бас редактор", "executive"),
    ("PR-менеджер", "specialist"),
    ("PR-директор", "executive"),
    ("Баспасөз хатшысы", "senior"),
    ("SMM-маман", "specialist"),
    ("Стажёр", "junior"),
    ("Коммуникациялар бөлімінің басшысы", "head"),
    ("Продюсер", "senior"),
    ("Копирайтер", "specialist"),
    ("Медиа-аналитик", "specialist"),
    ("Руководитель пресс-службы", "head"),
    ("Младший редактор", "junior"),
]
EDUCATION = [
    ("bachelor", "Әл-Фараби атындағы ҚазҰУ, журналистика"),
    ("bachelor", "ЕНУ им. Л. Н. Гумилёва, связи с общественностью"),
    ("master", "КИМЭП, магистр медиа и коммуникаций"),
    ("master", "ҚазҰУ, магистратура, халықаралық журналистика"),
    ("doctorate", "PhD, журналистика, ҚазҰУ"),
    ("vocational", "Алматинский колледж связи, издательское дело"),
    ("secondary", "Орта мектеп"),
    ("other", "Курсы цифрового маркетинга"),
]
EXPERIENCE = [
    "Жаңалықтар редакциясында жұмыс тәжірибесі",
    "Опыт в корпоративных коммуникациях",
    "Ведение социальных сетей бренда",
    "Телевизиялық репортаждар",
    "Организация пресс-конференций",
    "Антикризисные коммуникации",
    "Деректер журналистикасы",
]
OTHER_INFO = [
    "",
    "",
    "",
    "Мүшелікке ұсынған: Ассоциация мүшесі",
    "Интересуюсь медиаграмотностью",
    "Готов(а) участвовать в комитете по этике",
]

# --- demo accounts -----------------------------------------------------------------------------

DEMO_ACCOUNTS = [
    # username, role, full name, password — each meets the password policy of its role
    # (services/passwords.py; tests/test_passwords.py checks them): 12+ characters, 15+ for the
    # admin, not built from the username, not common, not repetitive or sequential.
    ("admin", "admin", "Әкімші Демо", "Altyn-Kyran-Demo-2026"),
    ("staff", "staff", "Айжан Серікбаева", "Kok-Tobe-Demo-2026!"),
    ("staff2", "staff", "Дмитрий Ким", "Medeu-Rink-Demo-2026!"),
    ("compliance", "compliance", "Гүлнар Оспанова", "Charyn-Canyon-Demo-2026!"),
    ("compliance2", "compliance", "Арман Тоқтаров", "Kolsai-Lake-Demo-2026!"),
    ("board", "board", "Бауыржан Ахметов", "Baiterek-Demo-2026!"),
]

#: Known TOTP secrets of the demo accounts whose role requires a second factor, so that
#: ``make run`` can be tried with any authenticator app (README) and tests can compute codes
#: (``services.two_factor.code_at``). Demo data only: never in production.
DEMO_TOTP_SECRETS = {
    "admin": "IXZGWU3AJ2DUVF7E4GTVJ2SD6EQKZYCT",
    "compliance": "462UVOKCGJOKOE2GTVZRIK664MWPJ2VG",
    "compliance2": "WUKC2NHFP7OMVJCURWSHCXF6L6DCAIKI",
}

REJECTION_REASON = "Кәсіби тәжірибе талаптарға сәйкес келмейді"
INFO_QUESTION = "Жұмыс орнынан анықтама жіберіңізші / Пришлите, пожалуйста, справку с места работы"

STATUS_WEIGHTS = {
    "submitted": 6,
    "in_review": 7,
    "info_requested": 3,
    "approved": 56,
    "rejected": 16,
    "withdrawn": 12,
}


@dataclass
class SeedReport:
    subjects: int = 0
    applications: int = 0
    members: int = 0
    consents: int = 0
    events: int = 0
    staff: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _translit(value: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in value.lower() if ch.isalnum())


def _kazakh_surname(stem: str, female: bool) -> str:
    """Ахмет -> Ахметов/Ахметова; Серікбай -> Серікбаев/Серікбаева; Сейітқали stays as is."""
    if stem.endswith("и"):
        return stem
    if stem.endswith("ай"):
        stem = stem[:-1] + "е"
    return (
        stem + ("ова" if female else "ов")
        if not stem.endswith("е")
        else stem + ("ва" if female else "в")
    )


def _person(rng: random.Random) -> dict:
    female = rng.random() < 0.55
    if rng.random() < 0.7:  # Kazakh name
        stem = rng.choice(KZ_SURNAME_STEMS)
        surname = _kazakh_surname(stem, female)
        first = rng.choice(KZ_FEMALE if female else KZ_MALE)
        father = rng.choice(KZ_MALE)
        if rng.random() < 0.5:
            patronymic = father + ("қызы" if female else "ұлы")
        else:
            male_p, female_p = rng.choice(RU_PATRONYMICS)
            patronymic = female_p if female else male_p
        if rng.random() < 0.08:
            patronymic = None
        language = "kk" if rng.random() < 0.7 else "ru"
    else:  # Russian name
        base = rng.choice(RU_SURNAMES)
        surname = base + ("а" if female and base.endswith(("ов", "ев", "ин")) else "")
        first = rng.choice(RU_FEMALE if female else RU_MALE)
        male_p, female_p = rng.choice(RU_PATRONYMICS)
        patronymic = female_p if female else male_p
        language = "ru"
    return {"surname": surname, "first_name": first, "patronymic": patronymic, "language": language}


def _next_id(conn, table) -> int:
    return (conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar() or 0) + 1


def fix_pg_sequences(conn, tables) -> None:
    """After a bulk insert with explicit ids, move each table's id sequence past its largest id
    (PostgreSQL; SQLite takes the next id from the table itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"
            )
        )


def _chunks(rows: list[dict], size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def build_rows(
    n: int,
    *,
    first_ids: dict[str, int],
    policy_version_id: int,
    now: datetime,
    seed: int,
    start: datetime,
    staff_ids: tuple[int, ...] = (),
) -> dict[str, list[dict]]:
    """Generate row dicts for ``n`` subjects (pure function of its arguments).

    Each application gets a timeline consistent with its status (``application_event``);
    when ``staff_ids`` are given, applications that were picked up are assigned to one of
    them, who is also the actor of the timeline's status changes.
    """
    rng = random.Random(seed)
    span = (now - start).total_seconds()
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    sentences = {
        (lang, purpose): tr(lang, f"consent.sentence.{purpose}")
        for lang in ("kk", "ru")
        for purpose in ("application_review", "member_register", "informing", "feedback")
    }
    hashes = {key: text_sha256(value) for key, value in sentences.items()}
    subjects, applications, members, consents, events = [], [], [], [], []
    sid, aid, mid, cid, eid = (
        first_ids[k] for k in ("subject", "application", "member", "consent", "event")
    )
    member_seq: dict[int, int] = {}
    for _ in range(n):
        person = _person(rng)
        submitted = start + timedelta(seconds=rng.random() * span)
        employer, category = rng.choice(EMPLOYERS)
        title, level = rng.choice(POSITIONS)
        edu_level, edu_text = rng.choice(EDUCATION)
        years = rng.randint(0, 30)
        lang = person["language"]
        email_user = f"{_translit(person['first_name'])}.{_translit(person['surname'])}{sid % 9973}"
        subjects.append(
            {
                "id": sid,
                **person,
                "phone": "+7" + rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}",
                "email": f"{email_user}@{rng.choice(MAIL_DOMAINS)}",
                "workplace": employer,
                "workplace_category": category,
                "position": title,
                "position_level": level,
                "education_level": edu_level,
                "education": edu_text,
                "experience_years": years,
                "experience": f"{rng.choice(EXPERIENCE)}, {years} ж./лет",
                "other_info": rng.choice(OTHER_INFO),
                "status": "active",
                "created_at": submitted,
                "updated_at": submitted,
            }
        )
        subjects[-1]["search_text"] = compose_search_text(subjects[-1])
        age_days = (now - submitted).days
        status = rng.choices(statuses, weights)[0]
        if age_days > 60 and status in ("submitted", "in_review", "info_requested"):
            status = rng.choice(("approved", "approved", "rejected", "withdrawn"))
        decided = None
        if status in ("approved", "rejected", "withdrawn"):
            decided = min(
                now, submitted + timedelta(days=rng.randint(1, 45), hours=rng.randint(0, 9))
            )
        # The timeline: submitted, then (unless still untouched) picked up for review, maybe
        # a question to the applicant, then the decision; every step a legal transition.
        path = ["submitted"]
        if status in ("in_review", "info_requested", "approved") or (
            status in ("rejected", "withdrawn") and rng.random() < 0.7
        ):
            path.append("in_review")
        if status == "info_requested" or (status != "submitted" and rng.random() < 0.15):
            if path[-1] != "in_review":
                path.append("in_review")
            path.append("info_requested")
            if status in ("approved", "in_review"):
                path.append("in_review")
        if status not in ("submitted", "in_review", "info_requested"):
            path.append(status)
        elif path[-1] != status:
            path.append(status)
        assignee = rng.choice(staff_ids) if staff_ids and len(path) > 1 else None
        last = decided or min(now, submitted + timedelta(days=rng.randint(1, 20)))
        step = (last - submitted) / max(1, len(path) - 1)
        events.append(
            {
                "id": eid,
                "application_id": aid,
                "occurred_at": submitted,
                "actor_id": None,
                "kind": "submitted",
                "from_status": None,
                "to_status": "submitted",
                "text": "",
            }
        )
        eid += 1
        for i, (before, after) in enumerate(zip(path, path[1:], strict=False), start=1):
            events.append(
                {
                    "id": eid,
                    "application_id": aid,
                    "occurred_at": decided if after == status and decided else submitted + step * i,
                    "actor_id": assignee,
                    "kind": "status_changed",
                    "from_status": before,
                    "to_status": after,
                    "text": INFO_QUESTION
                    if after == "info_requested"
                    else (REJECTION_REASON if after == "rejected" else ""),
                }
            )
            eid += 1
        applications.append(
            {
                "id": aid,
                "reference": f"A-{submitted.year}-{aid:06d}",
                "subject_id": sid,
                "submitted_at": submitted,
                "status": status,
                "assignee_id": assignee,
                "decision": status if decided else None,
                "decided_at": decided,
                "reason": REJECTION_REASON if status == "rejected" else "",
                "closed_at": decided if status in ("rejected", "withdrawn") else None,
                "language": lang,
                "updated_at": decided or submitted,
            }
        )

        def consent(
            purpose: str,
            granted: datetime,
            withdrawn: datetime | None,
            _lang: str = lang,
            _sid: int = sid,
        ) -> None:
            nonlocal cid
            channel = "web_form" if rng.random() < 0.92 else rng.choice(("paper", "email"))
            consents.append(
                {
                    "id": cid,
                    "subject_id": _sid,
                    "purpose_code": purpose,
                    "granted_at": granted,
                    "policy_version_id": policy_version_id,
                    "channel": channel,
                    "language": _lang,
                    "consent_text": sentences[(_lang, purpose)],
                    "consent_text_sha256": hashes[(_lang, purpose)],
                    "evidence_ref": "" if channel == "web_form" else f"ВХ-{cid}",
                    "evidence_text": ""
                    if channel == "web_form"
                    else "Қол қойылған өтініш / подписанное заявление",
                    "recorded_by_id": None,
                    "withdrawn_at": withdrawn,
                    "withdrawal_channel": "email" if withdrawn else None,
                    "withdrawal_evidence": "Хат / письмо" if withdrawn else "",
                    "withdrawal_recorded_by_id": None,
                }
            )
            cid += 1

        consent("application_review", submitted, decided if status == "withdrawn" else None)
        if rng.random() < 0.9:
            consent("member_register", submitted, None)
        for purpose, p_grant, p_withdraw in (("informing", 0.6, 0.12), ("feedback", 0.4, 0.06)):
            if rng.random() < p_grant:
                withdrawn = None
                if rng.random() < p_withdraw and age_days > 2:
                    withdrawn = submitted + timedelta(
                        seconds=rng.random() * (now - submitted).total_seconds()
                    )
                consent(purpose, submitted, withdrawn)

        if status == "approved":
            year = decided.year
            member_seq[year] = member_seq.get(year, 0) + 1
            m_status, ended = "active", None
            roll = rng.random()
            if roll < 0.08 and (now - decided).days > 30:
                m_status = "ended"
                ended = decided + timedelta(days=rng.randint(30, max(31, (now - decided).days)))
                ended = min(ended, now)
            elif roll < 0.11:
                m_status = "suspended"
            members.append(
                {
                    "id": mid,
                    "subject_id": sid,
                    "application_id": aid,
                    "membership_number": f"PRMA-{year}-{mid:06d}",
                    # The Almaty date, as an approval sets it (a UTC date put evening
                    # approvals on a month's last day into the wrong month).
                    "since": local_date(decided),
                    "status": m_status,
                    "ended_at": ended,
                }
            )
            mid += 1
        sid += 1
        aid += 1
    return {
        "subjects": subjects,
        "applications": applications,
        "members": members,
        "consents": consents,
        "events": events,
    }


def analyze_after_bulk_load(engine: Engine, tables: list[str], *, vacuum: bool = False) -> None:
    """PostgreSQL: ``ANALYZE`` the bulk-loaded tables (issue 19: until autovacuum gets there the
    planner would plan on the counts of the empty tables — one DELETE of the sweep scanned its
    table that way). With ``vacuum``, ``VACUUM ANALYZE``: also the visibility map autovacuum
    would have set, so the bench measures index-only scans as production runs them. SQLite:
    nothing."""
    if engine.dialect.name != "postgresql":
        return
    verb = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f'{verb} "{table}"')


def seed_subjects(
    engine: Engine, n: int, *, seed: int = 2025, now: datetime | None = None
) -> SeedReport:
    """Add ``n`` synthetic subjects with applications, members and consents (one transaction)."""
    import time

    now = now or datetime.now(UTC)
    start = datetime.combine(SHIPPED_EDITIONS["v1"], datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=5
    )
    report = SeedReport()
    tables = {
        "subject": DataSubject.__table__,
        "application": MembershipApplication.__table__,
        "member": Member.__table__,
        "consent": Consent.__table__,
        "event": ApplicationEvent.__table__,
    }
    with engine.begin() as conn:
        policy_id = conn.execute(
            select(PolicyVersion.__table__.c.id).where(PolicyVersion.__table__.c.label == "v1")
        ).scalar_one()
        first_ids = {k: _next_id(conn, t) for k, t in tables.items()}
        staff_table = StaffUser.__table__
        staff_ids = tuple(
            conn.execute(
                select(staff_table.c.id)
                .where(
                    staff_table.c.role.in_(("staff", "admin")), staff_table.c.is_active.is_(True)
                )
                .order_by(staff_table.c.id)
            ).scalars()
        )
        t0 = time.perf_counter()
        rows = build_rows(
            n,
            first_ids=first_ids,
            policy_version_id=policy_id,
            now=now,
            seed=seed + first_ids["subject"],
            start=start,
            staff_ids=staff_ids,
        )
        report.timings["generate_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for key, table in (
            ("subjects", tables["subject"]),
            ("applications", tables["application"]),
            ("members", tables["member"]),
            ("consents", tables["consent"]),
            ("events", tables["event"]),
        ):
            for chunk in _chunks(rows[key]):
                conn.execute(insert(table), chunk)
        fix_pg_sequences(conn, tables.values())
        report.timings["insert_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    from sqlmodel import Session

    from dpa_panel.services import retention

    with Session(engine) as session:
        retention.recompute_retention(session, [row["id"] for row in rows["subjects"]])
        session.commit()
    report.timings["retention_s"] = time.perf_counter() - t0
    analyze_after_bulk_load(engine, [t.name for t in tables.values()])
    report.subjects = len(rows["subjects"])
    report.applications = len(rows["applications"])
    report.members = len(rows["members"])
    report.consents = len(rows["consents"])
    report.events = len(rows["events"])
    return report


def seed_staff(engine: Engine, *, secret_key: str | None = None) -> int:
    """Create the demo accounts that do not exist yet; returns how many were created.

    Admin and compliance demo accounts get their known second factor (``DEMO_TOTP_SECRETS``)
    already confirmed, as if enrolled; the others have none (it is optional for them).
    ``secret_key``: the ``DPA_SECRET_KEY`` of the server that will read them (default: this
    process's).
    """
    from dpa_panel.models import TwoFactor
    from dpa_panel.services.two_factor import encrypt_secret

    created = 0
    table = StaffUser.__table__
    with engine.begin() as conn:
        existing = set(conn.execute(select(table.c.username)).scalars())
        now = datetime.now(UTC)
        for username, role, full_name, password in DEMO_ACCOUNTS:
            if username in existing:
                continue
            result = conn.execute(
                insert(table).values(
                    username=username,
                    role=role,
                    full_name=full_name,
                    password_hash=hash_password(password),
                    is_active=True,
                    must_change_password=False,
                    failed_attempts=0,
                    created_at=now,
                    password_changed_at=now,
                )
            )
            if username in DEMO_TOTP_SECRETS:
                conn.execute(
                    insert(TwoFactor.__table__).values(
                        user_id=result.inserted_primary_key[0],
                        secret_enc=encrypt_secret(DEMO_TOTP_SECRETS[username], key=secret_key),
                        created_at=now,
                        confirmed_at=now,
                    )
                )
            created += 1
    return created


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(DataSubject.__table__)).scalar()


def seed_disclosures(engine: Engine, *, now: datetime | None = None) -> int:
    """A few register entries between the demo users ``compliance`` and ``compliance2``, one
    per status and a third-party transfer on a written consent (policy clause 5). Only when
    the register is empty and both accounts and some active members exist; returns how many
    were created."""
    from sqlmodel import Session

    from dpa_panel.models import Disclosure
    from dpa_panel.services import disclosures as ds
    from dpa_panel.services.audit import Actor

    now = now or datetime.now(UTC)
    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Disclosure.__table__)):
            return 0
        users = dict(
            session.execute(
                select(StaffUser.username, StaffUser.id).where(
                    StaffUser.username.in_(("compliance", "compliance2"))
                )
            ).all()
        )
        ids = list(
            session.scalars(
                select(Member.subject_id)
                .join(DataSubject, DataSubject.id == Member.subject_id)
                .where(DataSubject.status == "active", Member.status == "active")
                .order_by(Member.subject_id)
                .limit(8)
            )
        )
        if len(users) < 2 or len(ids) < 8:
            return 0
        officer, reviewer = Actor.user(users["compliance"]), Actor.user(users["compliance2"])
        day = timedelta(days=1)
        today = (now + timedelta(hours=5)).date()

        def form(subjects, days_ago, **kw) -> ds.DisclosureForm:
            values = dict(
                kind="authority",
                body_type="law_enforcement",
                body_name="Қазақстан Республикасы Ішкі істер министрлігі",
                body_department="Алматы қаласының Полиция департаменті",
                request_number=f"ИИМ-{days_ago:02d}/{subjects[0]}",
                request_date=(today - days_ago * day).isoformat(),
                received_via="post",
                legal_basis="Қылмыстық істі тергеу (сотқа дейінгі тергеп-тексеру)",
                legal_article="ҚР ҚПК 122-бабы",
                answer_due_on=(today - days_ago * day + 10 * day).isoformat(),
                requested_categories=["identity", "contacts"],
                subject_ids=list(subjects),
            )
            values.update(kw)
            return ds.DisclosureForm(**values)

        just = {"identity": "Сұраудағы тұлғаны сәйкестендіру үшін",
                "contacts": "Тергеушінің хабарласуы үшін",
                "membership": "Мүшелік фактісін растау үшін"}  # fmt: skip
        created = 0
        # 1. received: just recorded
        ds.create_disclosure(session, officer, form(ids[:2], 2), now=now)
        # 2. under review
        d = ds.create_disclosure(
            session, officer,
            form(ids[2:3], 5, body_name="Қазақстан Республикасының Бас прокуратурасы",
                 body_type="prosecutor", body_department="", received_via="e_government",
                 legal_article="Art. 6",
                 legal_basis="Закон РК «О прокуратуре»"),
            now=now,
        )  # fmt: skip
        ds.set_selection(session, officer, d.id, {ids[2]: ["surname", "first_name", "phone"]},
                         just, now=now)  # fmt: skip
        ds.submit_for_review(session, officer, d.id, now=now)
        # 3. disclosed
        d = ds.create_disclosure(
            session, officer,
            form(ids[3:5], 20, requested_categories=["identity", "membership"]), now=now,
        )  # fmt: skip
        ds.set_selection(
            session, officer, d.id,
            {ids[3]: ["surname", "first_name", "membership_number"], ids[4]: ["surname"]},
            just, now=now,
        )  # fmt: skip
        ds.submit_for_review(session, officer, d.id, now=now)
        ds.approve(session, reviewer, d.id, now=now)
        ds.disclose(session, officer, d.id, "pdf", "courier", now=now)
        # 4. refused by the reviewer
        d = ds.create_disclosure(
            session, reviewer,
            form(ids[5:6], 12, body_name="Мемлекеттік кірістер департаменті", body_type="tax",
                 body_department="",
                 requested_categories=["identity", "contacts", "work"], received_via="email"),
            now=now,
        )  # fmt: skip
        ds.set_selection(session, reviewer, d.id, {ids[5]: ["surname", "email"]}, just, now=now)
        ds.submit_for_review(session, reviewer, d.id, now=now)
        ds.refuse(session, officer, d.id, "Сұрауда заңды негіз көрсетілмеген", now=now)
        # 5. third party on a written consent, approved
        recipient = "«Медиа Альянс» ЖШС"
        for sid in ids[6:8]:
            ds.record_transfer_consent(
                session, officer, sid, recipient, channel="paper",
                evidence_ref=f"Архив 5.1/{sid}", evidence_received_at=now - 3 * day, now=now,
            )  # fmt: skip
        d = ds.create_disclosure(
            session, officer,
            form(ids[6:8], 3, kind="third_party", body_type="third_party", body_name=recipient,
                 body_department="",
                 recipient=recipient, legal_article="", received_via="courier",
                 legal_basis="Субъектінің жазбаша келісімі (саясаттың 5.1-тармағы)",
                 requested_categories=["identity", "contacts"]),
            now=now,
        )  # fmt: skip
        ds.set_selection(session, officer, d.id, {sid: ["surname", "first_name", "email"]
                                                  for sid in ids[6:8]}, just, now=now)  # fmt: skip
        ds.submit_for_review(session, officer, d.id, now=now)
        ds.approve(session, reviewer, d.id, now=now)
        created = 5
        session.commit()
    return created


def seed_demo(engine: Engine, subjects: int = 300) -> SeedReport | None:
    """Demo data for ``make run``: only when there are no subjects yet (idempotent); the
    disclosure register gets its demo entries whenever it is empty."""
    staff = seed_staff(engine)
    if not database_is_empty(engine):
        seed_disclosures(engine)
        return None
    report = seed_subjects(engine, subjects)
    report.staff = staff
    seed_disclosures(engine)
    return report
