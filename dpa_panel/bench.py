"""``make bench``: seed synthetic data into throw-away databases and time operations.

Prints one line per measured operation: ``name  engine  N  median_ms  (runs)``, or for
throughput operations ``name  engine  N  events/s``. SQLite always; PostgreSQL when
``DPA_BENCH_PG_URL`` (default: the local test server) answers — a fresh database is created and
dropped. Each later capability registers its operations in ``OPERATIONS`` so the figures stay
comparable from issue to issue.

Groups: ``subjects`` operations run against ``--subjects`` synthetic subjects; ``audit``
operations against ``--audit-events`` chained audit events (built in bulk, see
``seed_audit_events``); ``disclosures`` operations against ``--disclosures`` register rows
(bulk, ``seed_disclosures``); ``audit-append`` operations append ``--audit-appends`` events on
top of that chain and report events per second; ``subjects-write`` operations (public submissions)
run last, because they add subjects and audit events the other groups do not expect.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from dpa_panel import demo, migrate, settings
from dpa_panel.db import make_engine, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent, DataSubject
from dpa_panel.models.types import almaty_month
from dpa_panel.services import applications, audit, members, submission
from dpa_panel.services import statistics as board_stats

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Events each audit-append line appends (in all, over its writers): at about 3,000/s a run of
#: a few seconds, long enough that one linker pause or checkpoint does not make the figure.
AUDIT_APPENDS = 12_000


@dataclass(frozen=True)
class Operation:
    """A timed operation: ``fn(engine, n)``; ``runs=None`` means the ``--runs`` setting.

    A ``rate`` operation is run once and must return how many items it processed (or that
    count and the seconds it timed itself, when part of its work is not part of the rate);
    its line shows items per second instead of a median. ``per``: a rate operation whose goal
    is stated as "so many items in so many seconds" also prints the seconds that many items
    take at the measured rate (the sweep destroys the 10,000 subjects the bench made due plus
    those the seed had already made due, so its own count is not the goal's).
    """

    fn: Callable[[Engine, int], object]
    group: str = "subjects"
    runs: int | None = None
    rate: bool = False
    per: int | None = None


#: name -> operation, timed several times; the median is reported.
OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str,
    *,
    group: str = "subjects",
    runs: int | None = None,
    rate: bool = False,
    per: int | None = None,
):
    def register(fn):
        OPERATIONS[name] = Operation(fn, group, runs, rate, per)
        return fn

    return register


@operation("count subjects by status (GROUP BY)")
def _count_by_status(engine: Engine, _n: int):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT status, COUNT(*) FROM membership_application GROUP BY status")
        ).all()


# --- application pipeline and member register -------------------------------------------------

#: Tables the subject seed fills (analysed on PostgreSQL after the bulk load).
SUBJECT_TABLES = (
    "data_subject",
    "membership_application",
    "member",
    "consent",
    "application_event",
    "staff_user",
)
#: The staff search of the pipeline benchmark: a common surname stem (about 5% of subjects).
PIPELINE_SEARCH = "ахмет"


def _pipeline_page(engine: Engine, q: applications.ApplicationQuery) -> int:
    with Session(engine) as session:
        rows, total = applications.list_applications(session, q)
    assert len(rows) == min(q.page_size, total) and total > 0, (q, total)
    return total


@operation("pipeline page (search+filter+sort, 50)")
def _pipeline_search_page(engine: Engine, _n: int):
    q = applications.ApplicationQuery(search=PIPELINE_SEARCH, status="approved")
    return _pipeline_page(engine, q)


@operation("pipeline page (search+filter, by surname, 50)")
def _pipeline_search_surname_page(engine: Engine, _n: int):
    q = applications.ApplicationQuery(search=PIPELINE_SEARCH, status="approved", sort="surname")
    return _pipeline_page(engine, q)


@operation("pipeline page (filter, newest first, 50)")
def _pipeline_filter_page(engine: Engine, _n: int):
    return _pipeline_page(engine, applications.ApplicationQuery(status="approved"))


@operation("pipeline board counts (GROUP BY)")
def _pipeline_counts(engine: Engine, n: int):
    with Session(engine) as session:
        counts = applications.status_counts(session, applications.ApplicationQuery())
    assert sum(counts.values()) == n, counts
    return counts


@operation("pipeline board counts (GROUP BY, search)")
def _pipeline_counts_search(engine: Engine, _n: int):
    with Session(engine) as session:
        q = applications.ApplicationQuery(search=PIPELINE_SEARCH)
        return applications.status_counts(session, q)


@operation("pipeline board columns (6 x 20)")
def _pipeline_board(engine: Engine, _n: int):
    with Session(engine) as session:
        return applications.board_columns(session, applications.ApplicationQuery())


@operation("member register page (50)")
def _member_page(engine: Engine, _n: int):
    with Session(engine) as session:
        rows, total = members.list_members(session, members.MemberQuery())
    assert len(rows) == 50 and total > 0
    return total


@operation("member register page (search, by surname, 50)")
def _member_search_page(engine: Engine, _n: int):
    with Session(engine) as session:
        q = members.MemberQuery(search=PIPELINE_SEARCH, sort="surname")
        rows, total = members.list_members(session, q)
    assert rows and total > 0
    return total


# --- board statistics (anonymised dashboards) -----------------------------------------------

BOARD_DASHBOARD = "board dashboard recompute (all charts)"
BOARD_RAW_SQL = "board dashboard raw SQL only"


@operation(BOARD_DASHBOARD)
def _board_dashboard(engine: Engine, _n: int):
    """Every board table for all time: the aggregate statements plus suppression/folding."""
    with Session(engine) as session:
        tables = board_stats.dashboard(session, board_stats.StatsFilter())
    assert tables["applications_per_month"][-1]["total"] == _n, tables["applications_per_month"]
    return tables


@operation(BOARD_RAW_SQL)
def _board_raw_sql(engine: Engine, _n: int):
    """The same aggregate statements alone (the floor the dashboard is compared with)."""
    with Session(engine) as session:
        return board_stats.raw_aggregates(session, board_stats.StatsFilter())


# --- board statistics releases (issue 14) ----------------------------------------------------

STATS_PUBLISH = "stats release publish (compute + audit)"
STATS_BOARD_PAGE = "stats board page from stored release (read + build)"


def _prepare_stats(engine: Engine) -> int:
    """Publish every due release but the last (untimed), so the timed publish is audited
    jointly with a realistic history; returns the month left for the timed operation."""
    from dpa_panel.services import stats_releases
    from dpa_panel.services.audit import Actor

    with Session(engine) as session:
        due = stats_releases.due_periods(session)
    for period in due[:-1]:
        with Session(engine) as session:
            stats_releases.publish(session, period, Actor.system())
            session.commit()
    return due[-1]


@operation(STATS_PUBLISH, group="stats", runs=3)
def _stats_publish(engine: Engine, _n: int):
    """One month's release: SQL snapshot, suppression, the audit over every earlier release,
    the stored cells; rolled back so that each run publishes the same month."""
    from dpa_panel.services import stats_releases
    from dpa_panel.services.audit import Actor

    with Session(engine) as session:
        period = stats_releases.due_periods(session)[0]
        release = stats_releases.publish(session, period, Actor.system())
        summary = json.loads(release.choices)
        session.rollback()
    return summary


@operation(STATS_BOARD_PAGE, group="stats-read")
def _stats_board_page(engine: Engine, _n: int):
    """What the board page's handler does: read the release list and every shown cell of the
    releases up to the newest (no recomputation), and build the page's tables and charts."""
    from dpa_panel.services import stats_releases
    from dpa_panel.state.statistics_state import release_view

    with Session(engine) as session:
        listed = stats_releases.releases(session)
        cells = stats_releases.board_cells(session, listed[0].period)
    shown, _plotted = release_view(cells, "month", listed[0].period, "kk")
    assert shown["applications"]
    return shown


#: (numerator, denominator) operations whose ratio of medians gets its own line.
RATIOS = [(BOARD_DASHBOARD, BOARD_RAW_SQL)]


_SUBMISSIONS = iter(range(1, 10**9))


def _bench_form(i: int) -> dict[str, str]:
    return {
        "surname": "Бенчмаркова",
        "first_name": "Айгерім",
        "patronymic": "Ерланқызы",
        "phone": f"+7 701 {i % 1000:03d} {i % 100:02d} {i % 97:02d}",
        "email": f"bench.{uuid.uuid4().hex[:12]}@example.kz",
        "workplace": "«Бенч Медиа» ЖШС",
        "workplace_category": "media",
        "position": "Редактор",
        "position_level": "senior",
        "education_level": "master",
        "education": "ҚазҰУ",
        "experience_years": "5",
        "experience": "Редакция",
        "other_info": "",
    }


@operation("application submit (server time)", group="subjects-write", runs=20)
def _application_submit(engine: Engine, _n: int):
    """One public submission in its own transaction; a new client IP each time, so the
    per-IP rate limit does not trip."""
    i = next(_SUBMISSIONS)
    with session_scope(engine) as session:
        application = submission.submit_application(
            session,
            _bench_form(i),
            {"application_review", "member_register", "informing"},
            language="kk",
            client_ip=f"198.18.{i // 250 % 250}.{i % 250 + 1}",
        )
    return application.id


# --- privacy centre (issue 20) ---------------------------------------------------------------

_PRIVACY_RUNS = iter(range(1, 1_000_000))


_INFORMED: dict[str, list[tuple[int, str]]] = {}


def _nth_informed_subject(engine: Engine, i: int) -> tuple[int, str]:
    """(id, e-mail) of the i-th subject on the mailing list; the list is read once per
    database (outside the median: only the first run pays for it)."""
    from dpa_panel.services import consent

    key = str(engine.url)
    if key not in _INFORMED:
        with Session(engine) as session:
            _INFORMED[key] = [tuple(r) for r in session.execute(
                select(DataSubject.id, DataSubject.email)
                .where(consent.processable_subjects_clause("informing"))
                .order_by(DataSubject.id)
                .limit(2000)
            )]  # fmt: skip
    return _INFORMED[key][i % len(_INFORMED[key])]


@operation("privacy centre: code issue + verify (server time)", group="subjects-write", runs=20)
def _privacy_code(engine: Engine, _n: int):
    """/my's two steps for one person: queue the code through the outbox, then check it and
    issue the session ticket (two transactions, as two events); a new person and source
    address each run, so the throttle does not trip."""
    from dpa_panel.services import subject_access

    i = next(_PRIVACY_RUNS)
    _id, email = _nth_informed_subject(engine, i)
    ip = f"198.19.{i // 250 % 250}.{i % 250 + 1}"
    with session_scope(engine) as session:
        subject_access.request_code(session, email, client_ip=ip, language="kk", code="246810")
    with session_scope(engine) as session:
        outcome = subject_access.verify_code(session, email, "246810", client_ip=ip,
                                             browser="bench")  # fmt: skip
    assert outcome.ticket, outcome.error
    return outcome


@operation("one-click unsubscribe (server time)", group="subjects-write", runs=20)
def _one_click_unsubscribe(engine: Engine, _n: int):
    """The RFC 8058 POST's work: check the signed token, withdraw "informing" in the ledger."""
    from dpa_panel.services import unsubscribe

    subject_id, _email = _nth_informed_subject(engine, 1000 + next(_PRIVACY_RUNS))
    token = unsubscribe.make_token(subject_id)
    with session_scope(engine) as session:
        assert unsubscribe.unsubscribe(session, token, client_ip="198.19.0.1") == "done"


# --- audit trail -----------------------------------------------------------------------------

#: (action, weight, entity_type, actor kind) — roughly what a busy year of the panel looks like.
AUDIT_ACTIONS = [
    ("subject.view", 30, "subject", "user"),
    ("subject.search", 14, "", "user"),
    ("subject.update", 8, "subject", "user"),
    ("application.view", 9, "application", "user"),
    ("application.status_change", 5, "application", "user"),
    ("application.submit", 6, "application", "public"),
    ("consent.record", 6, "consent", "public"),
    ("consent.withdraw", 1, "consent", "user"),
    ("member.view", 5, "member", "user"),
    ("member.update", 2, "member", "user"),
    ("export.csv", 1, "", "user"),
    ("auth.login", 7, "staff_user", "user"),
    ("auth.login_failed", 1, "staff_user", "public"),
    ("auth.logout", 4, "staff_user", "user"),
    ("retention.run", 1, "", "system"),
]
AUDIT_STAFF_USERS = 40
#: The viewer benchmark's filter: one action over the last 30 days (Almaty calendar days).
VIEWER_ACTION = "subject.update"
VIEWER_DAYS = 30


def seed_audit_events(
    engine: Engine, n: int, *, seed: int = 2025, end: datetime | None = None, days: int = 730
) -> int:
    """Append ``n`` synthetic events to the chain in bulk, keeping the chain valid.

    Hashes are chained in Python with ``audit.compute_hash`` and rows are written with
    chunked ``executemany`` inserts (explicit ids), then ``audit_chain_head`` is moved to the
    new last link. Times are spread evenly over ``days`` days before ``end``, strictly
    increasing with the id. One transaction; returns the number of events written.
    """
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    table = AuditEvent.__table__
    names, weights = zip(*((a[0], a[1]) for a in AUDIT_ACTIONS), strict=True)
    meta = {a[0]: (a[2], a[3]) for a in AUDIT_ACTIONS}
    field_sets = [["phone"], ["email"], ["phone", "email"], ["workplace", "position"], ["notes"]]
    with engine.begin() as conn:
        head = conn.execute(
            select(
                AuditChainHead.last_hash, AuditChainHead.last_event_id, AuditChainHead.event_count
            ).where(AuditChainHead.id == 1)
        ).one()
        prev_hash, last_id = head.last_hash, head.last_event_id
        start = end - timedelta(days=days)
        step_us = max(1, int(days * 86_400_000_000 / max(n, 1)))
        chunk: list[dict] = []
        for i in range(n):
            action = rng.choices(names, weights)[0]
            entity_type, kind = meta[action]
            occurred_at = start + timedelta(microseconds=i * step_us + rng.randrange(step_us))
            if kind == "user":
                actor_id = rng.randint(1, AUDIT_STAFF_USERS)
                client_ip = f"10.0.{actor_id}.{rng.randint(2, 250)}"
            else:
                actor_id = None
                client_ip = (
                    "" if kind == "system" else f"{rng.randint(2, 223)}.{rng.randint(0, 255)}.0.7"
                )
            entity_id = str(rng.randint(1, 100_000)) if entity_type else ""
            if action.endswith(".update"):
                details = {"fields": rng.choice(field_sets)}
            elif action.endswith("status_change"):
                details = {"from": "submitted", "to": "in_review"}
            else:
                details = {}
            details_text = json.dumps(details, sort_keys=True, separators=(",", ":"))
            event_hash = audit.compute_hash(
                occurred_at=occurred_at,
                actor_type=kind,
                actor_id=actor_id,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                client_ip=client_ip,
                details=details_text,
                prev_hash=prev_hash,
            )
            last_id += 1
            chunk.append(
                {
                    "id": last_id,
                    "occurred_at": occurred_at,
                    "actor_type": kind,
                    "actor_id": actor_id,
                    "action": action,
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "client_ip": client_ip,
                    "details": details_text,
                    "prev_hash": prev_hash,
                    "hash": event_hash,
                }
            )
            prev_hash = event_hash
            if len(chunk) == 5000:
                conn.execute(insert(table), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(table), chunk)
        conn.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(last_hash=prev_hash, last_event_id=last_id, event_count=head.event_count + n)
        )
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('audit_event', 'id'), "
                    "GREATEST(COALESCE((SELECT MAX(id) FROM audit_event), 1), 1))"
                )
            )
    return n


def _viewer_filter(last_day_local=None) -> audit.AuditFilter:
    today = last_day_local or datetime.now(ZoneInfo(settings.DISPLAY_TZ)).date()
    return audit.AuditFilter(
        action=VIEWER_ACTION,
        date_from=today - timedelta(days=VIEWER_DAYS - 1),
        date_to=today,
    )


@operation("audit verify", group="audit", runs=1)
def _audit_verify(engine: Engine, n: int):
    with Session(engine) as session:
        result = audit.verify_chain(session)
    assert result.ok, result.describe()
    assert result.checked >= n, (result.checked, n)  # + the stats releases published before
    return result


@operation("audit viewer page (filtered, page of 50)", group="audit")
def _audit_viewer_filtered(engine: Engine, _n: int):
    with Session(engine) as session:
        rows, total = audit.query_events(session, _viewer_filter(), page=1, page_size=50)
    assert len(rows) == min(50, total) and total > 0
    return total


@operation("audit viewer page (unfiltered, page of 50)", group="audit")
def _audit_viewer_unfiltered(engine: Engine, n: int):
    with Session(engine) as session:
        rows, total = audit.query_events(session, audit.AuditFilter(), page=1, page_size=50)
    assert len(rows) == 50 and total >= n  # + the stats releases published before
    return total


@operation("audit distinct actions (viewer filter list)", group="audit")
def _audit_distinct_actions(engine: Engine, _n: int):
    with Session(engine) as session:
        return audit.distinct_actions(session)


@operation("audit append (single writer)", group="audit-append", rate=True)
def _audit_append(engine: Engine, n: int) -> int:
    actor = audit.Actor.user(1, "10.0.1.10")
    for i in range(n):
        with session_scope(engine) as session:
            audit.record(session, actor, "subject.view", "subject", i, {})
    audit.settle(engine)  # every event linked (PostgreSQL's background linker), inside the time
    return n


# --- retention (policy 4.4/7.2) ---------------------------------------------------------------

SWEEP_SUBJECTS = 10_000


@operation("retention countdown page + bucket counts")
def _retention_countdown(engine: Engine, _n: int):
    from dpa_panel.services import retention

    today = retention.local_date(datetime.now(UTC))
    with Session(engine) as session:
        retention.countdown(session, today=today, page=3)
        retention.bucket_counts(session, today=today)


def _prepare_sweep(engine: Engine, n: int) -> int:
    """Make the ``n`` newest subjects due (a destruction scheduled yesterday)."""
    from dpa_panel.services import retention

    with session_scope(engine) as session:
        ids = list(
            session.scalars(
                select(DataSubject.id)
                .where(DataSubject.status == "active")
                .order_by(DataSubject.id.desc())
                .limit(n)
            )
        )
        due = datetime.now(UTC) - timedelta(days=1)
        session.execute(
            update(DataSubject)
            .where(DataSubject.id.in_(ids))
            # A bulk UPDATE skips the ORM listener: the stored statistics key goes along.
            .values(destruction_due_at=due, destruction_due_month=almaty_month(due))
        )
        retention.recompute_retention(session, ids)
    return len(ids)


@operation(f"retention sweep ({SWEEP_SUBJECTS:,} due subjects)", group="retention-sweep",
           rate=True, per=SWEEP_SUBJECTS)  # fmt: skip
def _retention_sweep(engine: Engine, _n: int) -> int:
    from dpa_panel.services import retention

    report = retention.run_sweep(engine, as_of=datetime.now(UTC), actor=audit.Actor.system())
    return len(report.destroyed)


# --- disclosure register (policy clause 5) ----------------------------------------------------

DISCLOSURES = 10_000
#: (body name, body type) of the bench's authority requests
DISCLOSURE_BODIES = [
    ("Қазақстан Республикасы Ішкі істер министрлігі", "law_enforcement"),
    ("Генеральная прокуратура Республики Казахстан", "prosecutor"),
    ("Агентство по финансовому мониторингу", "financial_monitoring"),
    ("Мемлекеттік кірістер комитеті", "tax"),
    ("Антикоррупционная служба", "anti_corruption"),
]


def seed_disclosures(engine: Engine, n: int = DISCLOSURES, *, seed: int = 5) -> int:
    """``n`` register rows in bulk (statuses mixed, 1-3 subjects each, disclosed ones with
    fields and a digest), as a year of a very busy register would look."""
    from dpa_panel.models import Disclosure, DisclosureSubject, StaffUser
    from dpa_panel.models.subject import fold_for_search

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        staff = list(conn.execute(select(StaffUser.__table__.c.id)).scalars())
        subject_ids = list(conn.execute(select(DataSubject.__table__.c.id).limit(5000)).scalars())
        first = (
            conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM disclosure")).scalar() or 0
        ) + 1
        rows, links = [], []
        statuses = ["received", "under_review", "approved", "disclosed", "refused"]
        for i in range(first, first + n):
            status = rng.choices(statuses, weights=[5, 3, 2, 70, 20])[0]
            kind = rng.choice(["authority"] * 9 + ["third_party"])
            body, body_type = rng.choice(DISCLOSURE_BODIES)
            if kind == "third_party":
                body, body_type = "«Бенч Серіктес» ЖШС", "third_party"
            day = (now - timedelta(days=rng.randint(0, 730))).date()
            disclosed = status == "disclosed"
            # disclosed a few days after the request (never in the future)
            disclosed_at = min(
                now,
                datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
                + timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 600)),
            )
            rows.append(
                dict(
                    id=i, reference=f"DR-{day.year}-{i:06d}", kind=kind, status=status,
                    body_type=body_type, body_name=body,
                    body_department="", body_search=fold_for_search(body + "\n"),
                    request_number=f"{i}/{day.year}", request_date=day, received_via="post",
                    legal_basis="Закон РК", legal_article="Art. 11",
                    answer_due_on=day + timedelta(days=10), recipient="",
                    requested_categories='["contacts","identity"]',
                    justifications='{"identity":"x"}', refusal_reason="",
                    created_by_id=rng.choice(staff), created_at=now, updated_at=now,
                    decided_by_id=None, decided_at=None,
                    disclosed_by_id=rng.choice(staff) if disclosed else None,
                    disclosed_at=disclosed_at if disclosed else None,
                    sent_via="courier" if disclosed else "",
                    package_format="csv" if disclosed else "",
                    package_sha256=uuid.uuid4().hex * 2 if disclosed else "",
                    package_rows=1 if disclosed else 0,
                    package_fields='["surname","first_name"]' if disclosed else "[]",
                )
            )  # fmt: skip
            for sid in rng.sample(subject_ids, rng.randint(1, 3)):
                links.append(dict(disclosure_id=i, subject_id=sid,
                                  fields='["surname","first_name"]', consent_id=None))  # fmt: skip
        for start in range(0, len(rows), 2000):
            conn.execute(insert(Disclosure.__table__), rows[start : start + 2000])
        for start in range(0, len(links), 5000):
            conn.execute(insert(DisclosureSubject.__table__), links[start : start + 5000])
        demo.fix_pg_sequences(conn, [Disclosure.__table__])
    demo.analyze_after_bulk_load(engine, ["disclosure", "disclosure_subject"], vacuum=True)
    return n


@operation(f"board dashboard recompute (+{DISCLOSURES:,} disclosures)",
           group="disclosures")  # fmt: skip
def _board_dashboard_with_disclosures(engine: Engine, _n: int):
    """The same, once the register holds the bench's disclosures (the disclosures chart)."""
    with Session(engine) as session:
        tables = board_stats.dashboard(session, board_stats.StatsFilter())
    assert tables["disclosures_per_quarter"][-1]["total"] != 0, tables["disclosures_per_quarter"]
    return tables


@operation(f"disclosure log CSV export ({DISCLOSURES:,})", group="disclosures", runs=3)
def _disclosure_log_csv(engine: Engine, _n: int):
    from dpa_panel.services import disclosures as ds

    with Session(engine) as session:
        size = sum(len(chunk) for chunk in ds.log_csv(session, ds.DisclosureFilter()))
    assert size > 0
    return size


@operation(f"disclosure log XLSX export ({DISCLOSURES:,})", group="disclosures", runs=3)
def _disclosure_log_xlsx(engine: Engine, _n: int):
    from dpa_panel.services import disclosures as ds

    with tempfile.TemporaryDirectory() as tmp, Session(engine) as session:
        return ds.log_xlsx(session, ds.DisclosureFilter(), Path(tmp) / "log.xlsx")


from dpa_panel import bench_exports  # noqa: E402 (issues 18/19: the log through the registry)

bench_exports.register(operation, DISCLOSURES)


@operation("disclosure register page (status+body filter, 50)", group="disclosures")
def _disclosure_register_page(engine: Engine, _n: int):
    from dpa_panel.services import disclosures as ds

    flt = ds.DisclosureFilter(status="disclosed", body="прокуратура")
    with Session(engine) as session:
        rows, total = ds.list_disclosures(session, audit.Actor.system(), flt, page=2,
                                          page_size=50)  # fmt: skip
        session.rollback()  # the listing's audit event is not part of what is measured
    assert rows and total > 50
    return total


@operation("disclosure register page (unfiltered, 50)", group="disclosures")
def _disclosure_register_unfiltered(engine: Engine, _n: int):
    from dpa_panel.services import disclosures as ds

    with Session(engine) as session:
        rows, _total = ds.list_disclosures(session, audit.Actor.system(), ds.DisclosureFilter(),
                                           page=1, page_size=50)  # fmt: skip
        session.rollback()
    assert len(rows) == 50


# --- data-subject requests (issue 16): dpa_panel/bench_requests.py -----------------------

from dpa_panel import bench_requests  # noqa: E402
from dpa_panel.bench_requests import REQUESTS, seed_requests  # noqa: E402

bench_requests.register(operation)


# --- runner ----------------------------------------------------------------------------------


@contextmanager
def _database(kind: str, tmp: Path, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"dpa_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_reachable(pg_url: str) -> str | None:
    try:
        engine = create_engine(pg_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0]


#: The machine line's work: this many audit-hash contents built and hashed (pure Python and
#: C, no database): 0.5–0.7 s on this 2-core machine (session 12).
MACHINE_UNITS = 200_000


def machine_reference_ms(runs: int = 5) -> float:
    """The median time of a fixed piece of CPU work like the panel's own (``_content`` and
    SHA-256 of an audit event, ``MACHINE_UNITS`` times). This machine's speed moves from day
    to day and within an hour (it measured 1.9 s for ten million additions on a slow day);
    printed first, so that figures from different runs can be compared by it (decision
    19-audit-12)."""
    import hashlib

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for i in range(MACHINE_UNITS):
            content = audit._content("2026-12-07T11:30:00.000000+00:00", "user", i, "subject.view",
                                     "subject", str(i), "10.0.2.1", "{}", "0" * 64)  # fmt: skip
            hashlib.sha256(content.encode()).hexdigest()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _line(name: str, engine_name: str, n: int, ms: float, runs: int) -> str:
    return f"{name:<48} {engine_name:<10} N={n:<8} median {ms:10.1f} ms  ({runs} runs)"


def _rate_line(name: str, engine_name: str, n: int, seconds: float) -> str:
    return (
        f"{name:<48} {engine_name:<10} N={n:<8} {n / seconds:10.0f} events/s"
        f" ({seconds:.2f} s, 1 run)"
    )


def _per_line(name: str, engine_name: str, per: int, n: int, seconds: float) -> str:
    """``per`` items' time at the rate of ``n`` items in ``seconds``."""
    return (
        f"{name + f': {per:,} at this rate':<48} {engine_name:<10} N={per:<8}"
        f" {seconds * per / n:10.2f} s"
    )


def run(
    kind: str,
    n: int,
    runs: int,
    pg_url: str,
    *,
    audit_events: int = 1_000_000,
    audit_appends: int = AUDIT_APPENDS,
    disclosures: int = DISCLOSURES,
    requests: int = REQUESTS,
    only: tuple[str, ...] = (),
) -> list[str]:
    """Seed ``n`` subjects and time every group (``only``: just the named groups)."""
    lines: list[str] = []

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    medians: dict[str, float] = {}

    def timed(group: str, size: int) -> None:
        if only and group not in only and group.split("-")[0] not in only:
            return
        for name, op in OPERATIONS.items():
            if op.group != group:
                continue
            if op.rate:
                t0 = time.perf_counter()
                done = op.fn(engine, size)
                seconds = time.perf_counter() - t0
                if isinstance(done, tuple):
                    done, seconds = done
                emit(_rate_line(name, kind, done, seconds))
                if op.per and done:
                    emit(_per_line(name, kind, op.per, done, seconds))
                continue
            op_runs = op.runs or runs
            timings = []
            for _ in range(op_runs):
                t0 = time.perf_counter()
                op.fn(engine, size)
                timings.append((time.perf_counter() - t0) * 1000)
            medians[name] = statistics.median(timings)
            emit(_line(name, kind, size, medians[name], op_runs))
        for top, bottom in RATIOS:
            if top in medians and bottom in medians and group == OPERATIONS[top].group:
                emit(
                    f"{'ratio: ' + top + ' / raw SQL':<48} {kind:<10} N={size:<8} "
                    f"{medians[top] / medians[bottom]:10.2f} x"
                )

    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp), pg_url) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            demo.seed_staff(engine)
            demo.seed_subjects(engine, n)
            demo.analyze_after_bulk_load(engine, list(SUBJECT_TABLES), vacuum=True)
            emit(
                _line(
                    "seed subjects (bulk insert)",
                    kind,
                    n,
                    (time.perf_counter() - started) * 1000,
                    1,
                )
            )
            timed("subjects", n)
            if not only or "stats" in only:  # publishing solves integer programs: only when asked
                started = time.perf_counter()
                _prepare_stats(engine)
                emit(_line("stats releases: publish the history", kind, n,
                           (time.perf_counter() - started) * 1000, 1))  # fmt: skip
                timed("stats", n)
                from dpa_panel.services import stats_releases
                from dpa_panel.services.audit import Actor

                with Session(engine) as session:  # the last month too, for the board page
                    stats_releases.publish(
                        session, stats_releases.due_periods(session)[0], Actor.system()
                    )
                    session.commit()
                timed("stats-read", n)

            if requests > 0 and (not only or "requests" in only):
                started = time.perf_counter()
                seed_requests(engine, requests)
                emit(_line("seed requests (bulk insert)", kind, requests,
                           (time.perf_counter() - started) * 1000, 1))  # fmt: skip
                timed("requests", requests)
                timed("requests-notify", requests)

            if disclosures > 0 and (not only or "disclosures" in only):
                started = time.perf_counter()
                seed_disclosures(engine, disclosures)
                emit(
                    _line(
                        "seed disclosures (bulk insert)",
                        kind,
                        disclosures,
                        (time.perf_counter() - started) * 1000,
                        1,
                    )
                )
                timed("disclosures", disclosures)

            if audit_events > 0 and (not only or "audit" in only):
                started = time.perf_counter()
                seed_audit_events(engine, audit_events)
                demo.analyze_after_bulk_load(engine, ["audit_event"], vacuum=True)
                emit(
                    _line(
                        "seed audit events (bulk, chained)",
                        kind,
                        audit_events,
                        (time.perf_counter() - started) * 1000,
                        1,
                    )
                )
                timed("audit", audit_events)
            if audit_appends > 0:
                from dpa_panel import bench_audit  # issue 19: 1/2/4 concurrent audited writers

                bench_audit.register(operation)
                bench_audit.prepare(engine)
                timed("audit-append", audit_appends)
            # Last: these add rows (and audit events) that the groups above do not expect.
            timed("subjects-write", n)
            if not only or "retention-sweep" in only:
                from dpa_panel import bench_sweep  # issue 19: analysed as in production

                bench_sweep.prepare(engine, min(SWEEP_SUBJECTS, n))
                timed("retention-sweep", n)
            if not only or "import" in only:  # issue 21: adds 10,000 subjects per run
                from dpa_panel import bench_import

                bench_import.register(operation)
                bench_import.prepare()
                timed("import", bench_import.ROWS)
        finally:
            engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--audit-appends", type=int, default=AUDIT_APPENDS)
    parser.add_argument("--disclosures", type=int, default=DISCLOSURES)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument(
        "--only", default="", help="comma-separated groups to time (default: all), e.g. requests"
    )
    args = parser.parse_args(argv)
    print(_line("(reference) this machine: CPU work unit", "python", MACHINE_UNITS,
                machine_reference_ms(), 5), flush=True)  # fmt: skip
    options = dict(
        audit_events=args.audit_events,
        audit_appends=args.audit_appends,
        disclosures=args.disclosures,
        requests=args.requests,
        only=tuple(g for g in args.only.split(",") if g),
    )
    run("sqlite", args.subjects, args.runs, args.pg_url, **options)
    reason = _pg_reachable(args.pg_url)
    if reason:
        print(f"postgresql: SKIPPED — not reachable at {args.pg_url}: {reason}")
    else:
        run("postgresql", args.subjects, args.runs, args.pg_url, **options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
