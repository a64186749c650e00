"""Importing an association's existing members or applications from a spreadsheet (issue 21).

Three steps, each usable alone (the CLI and the admin page use the same ones):

1. ``load`` reads the file (``services.import_reader``: refuses what is not a usable
   spreadsheet), finds the header row and proposes a column mapping
   (``services.import_columns``).
2. ``plan`` checks every row with the rules of the public form (``services.validation``:
   NFC, invisible and control characters, lengths, phone to E.164, e-mail, choices), the
   membership facts, and the consent evidence, and finds duplicates — same e-mail, or same
   name and phone — within the file and against the register. Duplicates are refused and
   reported, never merged. Nothing is written.
3. ``commit`` writes the accepted rows in the caller's one transaction (all or nothing),
   after taking the writers' lock and planning again (so the decision is taken on what is in
   the database now), and appends ONE audit event with the counts.

**Idempotent.** The SHA-256 of the file's bytes is stored (``import_batch``, unique per
kind): the same file again writes nothing and says when it was imported. Each imported
person's natural key (e-mail, name and phone) is stored too (``import_row``): a corrected file
that repeats people an earlier file brought in skips them ("already imported") and adds only
the rest.

**Consent evidence is never invented.** A purpose gets a consent row only when the row carries
the date, the document reference and the channel (paper or e-mail) of that consent; it is
recorded under the policy edition in force on that date, with the sentence of that purpose in
the person's language, and ``evidence_text`` saying which file and row it came from. A date
before the first edition refuses the row. Members imported without an "informing" consent are
listed for a re-consent campaign (``reconsent_rows``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, select, text
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import tr
from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    ImportBatch,
    ImportRow,
    Member,
    MembershipApplication,
    PolicyVersion,
)
from dpa_panel.models.subject import compose_search_text, fold_for_search
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import OPEN_APPLICATION_STATUSES
from dpa_panel.services import audit, retention, tabular
from dpa_panel.services import import_columns as cols
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.import_reader import Sheet, read_sheet
from dpa_panel.services.policy_texts import text_sha256
from dpa_panel.services.validation import clean_text, validate_field

_TZ = ZoneInfo(settings.DISPLAY_TZ)
KINDS = ("members", "applications")
ENTITY = "import_batch"
#: Choice fields a legacy file often lacks: a file without the column gets "other" (the
#: code the form itself offers for "none of these"); a column that is there is validated.
DEFAULTED_CHOICES = ("workplace_category", "position_level", "education_level")
#: Language of a person when the file has no language column (the panel's first language).
DEFAULT_LANGUAGE = "kk"
MEMBERSHIP_NUMBER_MAX = 20
EVIDENCE_REF_MAX = 200


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def natural_key(subject: dict[str, Any]) -> str:
    """The digest ``import_row`` keeps for a person: e-mail (case-insensitive), folded full
    name and phone. A row with the same e-mail but another name is not "already imported":
    it is a duplicate, and refused as one."""
    name = _name_key(subject["surname"], subject["first_name"], subject.get("patronymic"))
    parts = (subject["email"].lower(), name, subject["phone"])
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_TZ).astimezone(UTC)


# --- step 1: the file ------------------------------------------------------------------------


@dataclass
class Loaded:
    """A read file: its bytes' digest, the sheet, the header row and the proposed mapping."""

    kind: str
    filename: str
    sha256: str
    sheet: Sheet
    header_index: int
    header: list[str]
    mapping: list[str]

    @property
    def data_rows(self) -> list[list[Any]]:
        return self.sheet.rows[self.header_index + 1 :]

    def sheet_row_number(self, index: int) -> int:
        """The row number the user sees in their spreadsheet for data row ``index``."""
        return self.header_index + 2 + index


def load(data: bytes, filename: str, kind: str, sheet: str | None = None) -> Loaded:
    """Read the file and propose a mapping; ``ServiceError("import.bad.*")`` for a bad file."""
    if kind not in KINDS:
        raise ServiceError("import.bad.kind")
    read = read_sheet(data, filename, sheet)
    header_index = cols.find_header_row(read.rows, kind)
    if header_index < 0:
        raise ServiceError("import.bad.no_header")
    if len(read.rows) <= header_index + 1:
        raise ServiceError("import.bad.empty")
    for _first, last, ref in read.merged_rows:
        if last >= header_index + 1:  # merged_rows are 1-based, header_index 0-based
            raise ServiceError("import.bad.merged", ref=ref)
    header = [cols.cell_text(v) or "" for v in read.rows[header_index]]
    mapping = cols.propose_mapping(read.rows[header_index], kind)
    return Loaded(kind, filename, file_sha256(data), read, header_index, header, mapping)


def check_mapping(mapping: list[str], kind: str, width: int) -> list[str]:
    """The mapping as given, checked: one known field per column at most once; raises
    ``ServiceError`` for an unknown field, a field given twice or a missing required one."""
    if len(mapping) != width:
        raise ServiceError("import.mapping.bad")
    allowed = set(cols.fields_for(kind))
    seen: set[str] = set()
    for fld in mapping:
        if not fld:
            continue
        if fld not in allowed:
            raise ServiceError("import.mapping.bad")
        if fld in seen:
            raise ServiceError("import.mapping.twice", field=fld)
        seen.add(fld)
    missing = cols.missing_fields(mapping, kind)
    if missing:
        raise ServiceError("import.bad.missing_columns", fields=",".join(missing))
    return list(mapping)


# --- step 2: the plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why one cell of one row is refused: ``key`` (+ ``params``) is a catalog message."""

    row: int
    column: str
    field: str
    value: str
    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def message(self, language: str) -> str:
        return tr(language, self.key, **dict(self.params))


@dataclass
class Evidence:
    purpose: str
    day: date
    ref: str
    channel: str
    edition_id: int


@dataclass
class Accepted:
    row: int
    subject: dict[str, Any]
    evidence: list[Evidence]
    key: str
    membership_number: str = ""
    joined: date | None = None
    status: str = ""
    ended: date | None = None
    submitted: date | None = None


@dataclass
class Plan:
    kind: str
    filename: str
    sha256: str
    sheet: str
    rows_total: int
    accepted: list[Accepted] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused_rows: list[int] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)
    formula_cells: int = 0
    #: When this very file was imported before (then nothing else is planned).
    already_imported_at: datetime | None = None

    @property
    def consents(self) -> int:
        return sum(len(a.evidence) for a in self.accepted)

    @property
    def without_informing(self) -> int:
        return sum(1 for a in self.accepted if all(e.purpose != "informing" for e in a.evidence))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows_total,
            "accepted": len(self.accepted),
            "refused": len(self.refused_rows),
            "skipped": len(self.skipped_rows),
            "consents": self.consents,
            "without_informing": self.without_informing,
            "formulas": self.formula_cells,
        }


class _Row:
    """Collects one row's values and problems."""

    def __init__(self, number: int, cells: dict[str, Any], columns: dict[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.problems: list[Problem] = []

    def text(self, fld: str) -> str:
        return cols.cell_text(self.cells.get(fld)) or ""

    def refuse(self, fld: str, key: str, value: object = None, **params: Any) -> None:
        shown = self.text(fld) if value is None else str(value)
        self.problems.append(
            Problem(self.number, self.columns.get(fld, ""), fld, shown[:200], key,
                    tuple(sorted(params.items())))
        )  # fmt: skip

    def date(self, fld: str, today: date, *, required: bool) -> date | None:
        try:
            day = cols.parse_date(self.cells.get(fld))
        except ValueError:
            self.refuse(fld, "import.date_invalid")
            return None
        if day is None:
            if required:
                self.refuse(fld, "field.required")
            return None
        if day > today:
            self.refuse(fld, "import.date_future")
            return None
        return day


def _editions(session: Session) -> list[tuple[date, int]]:
    return sorted(session.execute(select(PolicyVersion.effective_date, PolicyVersion.id)).all())


def _edition_on(editions: list[tuple[date, int]], day: date) -> int | None:
    found = None
    for effective, edition_id in editions:
        if effective <= day:
            found = edition_id
    return found


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CYRILLIC"):
        if name.startswith(script):
            return script
    return ""


def mixed_script_domain(email: str) -> bool:
    """Whether a label of the address's domain mixes Latin and Cyrillic letters (``mаil.kz``
    with a Cyrillic ``а``): a look-alike that would send mail elsewhere. (The local part is
    ASCII already — ``validation.validate_email``; ``.қаз`` alone is fine.)"""
    for label in email.rpartition("@")[2].split("."):
        if len({_script(ch) for ch in label if ch.isalpha()} - {""}) > 1:
            return True
    return False


def _subject_values(row: _Row, mapped: set[str]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    raw = {f: row.text(f) for f in cols.SUBJECT_FIELDS}
    if "surname" not in mapped and "full_name" in mapped:
        full, error = clean_text(row.text("full_name"), 302, required=True)
        if error:
            row.refuse("full_name", error)
        else:
            parts = cols.split_full_name(full)
            if parts is None:
                row.refuse("full_name", "import.full_name_unsplittable")
            else:
                raw["surname"], raw["first_name"] = parts[0], parts[1]
                raw["patronymic"] = parts[2] or ""
    for fld in DEFAULTED_CHOICES:
        if fld not in mapped:
            raw[fld] = "other"
        elif raw[fld]:
            vocabulary = fld
            raw[fld] = cols.choice_code(vocabulary, raw[fld]) or raw[fld]
    from_full_name = "surname" not in mapped
    name_refused = from_full_name and bool(row.problems)
    for fld, rule_value in raw.items():
        if fld == "language":
            continue
        value, error = validate_field(fld, rule_value)
        is_name = fld in ("surname", "first_name", "patronymic")
        if error and not (is_name and name_refused):
            source = "full_name" if is_name and from_full_name else fld
            row.refuse(source, error, rule_value if source != fld else None)
        if fld == "email" and not error and mixed_script_domain(value):
            row.refuse("email", "import.email_mixed_script")
        values[fld] = value
    language = DEFAULT_LANGUAGE
    if "language" in mapped and raw["language"].strip():
        code = cols.language_code(raw["language"])
        if code is None:
            row.refuse("language", "import.language_invalid")
        else:
            language = code
    values["language"] = language
    return values


def _evidence(row: _Row, mapped: set[str], today: date, editions) -> list[Evidence]:
    found = []
    for purpose in cols.EVIDENCE_PURPOSES:
        names = {part: f"consent_{purpose}_{part}" for part in cols.EVIDENCE_PARTS}
        if not any(n in mapped and row.text(n).strip() for n in names.values()):
            continue  # no evidence for this purpose: no consent, nothing invented
        day = row.date(names["date"], today, required=True)
        ref, error = clean_text(row.text(names["ref"]), EVIDENCE_REF_MAX, required=True)
        if error:
            row.refuse(names["ref"], error)
        channel = cols.channel_code(row.text(names["channel"]))
        if channel is None:
            row.refuse(names["channel"], "import.channel_invalid")
        if day is None or error or channel is None:
            continue
        edition_id = _edition_on(editions, day)
        if edition_id is None:
            row.refuse(names["date"], "import.consent_before_policy")
            continue
        found.append(Evidence(purpose, day, ref, channel, edition_id))
    return found


def _membership(row: _Row, mapped: set[str], accepted: Accepted, today: date) -> None:
    number, error = clean_text(row.text("membership_number"), MEMBERSHIP_NUMBER_MAX,
                               required=False)  # fmt: skip
    if error:
        row.refuse("membership_number", error)
    accepted.membership_number = number
    accepted.joined = row.date("joined", today, required=True)
    status = "active"
    if "status" in mapped:
        text = row.text("status").strip()
        status = cols.choice_code("member_status", text) if text else None
        if status is None:
            row.refuse("status", "import.member_status_invalid" if text else "field.required")
            status = "active"
    accepted.status = status
    ended = row.date("ended", today, required=(status == "ended"))
    if ended is not None and status != "ended":
        row.refuse("ended", "import.ended_without_status")
    if ended is not None and accepted.joined is not None and ended < accepted.joined:
        row.refuse("ended", "import.ended_before_joined")
    accepted.ended = ended


def _application(row: _Row, accepted: Accepted, today: date) -> None:
    accepted.submitted = row.date("submitted", today, required=True)
    text = row.text("status").strip()
    status = cols.choice_code("application_status", text) if text else None
    if not text:
        row.refuse("status", "field.required")
    elif status is None:
        row.refuse("status", "import.application_status_invalid")
    elif status not in OPEN_APPLICATION_STATUSES:
        row.refuse("status", "import.application_status_closed")
    accepted.status = status or ""


def _register_keys(session: Session) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Everyone in the register (not destroyed): e-mail -> id and (name, phone) -> id."""
    by_email: dict[str, int] = {}
    by_name_phone: dict[tuple[str, str], int] = {}
    query = select(
        DataSubject.id, DataSubject.email, DataSubject.surname, DataSubject.first_name,
        DataSubject.patronymic, DataSubject.phone,
    ).where(DataSubject.status != "destroyed")  # fmt: skip
    for sid, email, surname, first, patronymic, phone in session.execute(query):
        by_email.setdefault(email.lower(), sid)
        by_name_phone.setdefault((_name_key(surname, first, patronymic), phone), sid)
    return by_email, by_name_phone


def _name_key(surname: str, first: str, patronymic: str | None) -> str:
    return fold_for_search(" ".join(p for p in (surname, first, patronymic or "") if p))


def _imported_keys(session: Session, kind: str, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        found.update(
            session.scalars(
                select(ImportRow.natural_key).where(
                    ImportRow.kind == kind, ImportRow.natural_key.in_(chunk)
                )
            )
        )
    return found


def plan(
    session: Session, loaded: Loaded, mapping: list[str] | None = None, *, today: date | None = None
) -> Plan:
    """Check every row (see the module docstring); writes nothing."""
    kind = loaded.kind
    mapping = check_mapping(loaded.mapping if mapping is None else mapping, kind,
                            len(loaded.header))  # fmt: skip
    today = today or retention.local_date(utcnow())
    result = Plan(kind, loaded.filename, loaded.sha256, loaded.sheet.name,
                  len(loaded.data_rows), formula_cells=loaded.sheet.formula_cells)  # fmt: skip
    previous = session.scalar(
        select(ImportBatch.imported_at).where(
            ImportBatch.kind == kind, ImportBatch.sha256 == loaded.sha256
        )
    )
    if previous is not None:
        result.already_imported_at = previous
        return result

    mapped = {f for f in mapping if f}
    columns = {f: loaded.header[i] for i, f in enumerate(mapping) if f}
    editions = _editions(session)
    candidates: list[tuple[_Row, Accepted]] = []
    for index, raw in enumerate(loaded.data_rows):
        if all(v is None or str(v).strip() == "" for v in raw):
            result.rows_total -= 1  # a blank line between rows is not a row
            continue
        cells = {f: (raw[i] if i < len(raw) else None) for i, f in enumerate(mapping) if f}
        row = _Row(loaded.sheet_row_number(index), cells, columns)
        subject = _subject_values(row, mapped)
        accepted = Accepted(row.number, subject or {}, _evidence(row, mapped, today, editions), "")
        if kind == "members":
            _membership(row, mapped, accepted, today)
        else:
            _application(row, accepted, today)
        candidates.append((row, accepted))

    _check_duplicates(session, kind, candidates)
    for row, accepted in candidates:
        if row.problems:
            result.problems.extend(row.problems)
            result.refused_rows.append(row.number)
        elif accepted.key == "skip":
            result.skipped_rows.append(row.number)
        else:
            result.accepted.append(accepted)
    return result


def _check_duplicates(session: Session, kind: str, candidates) -> None:
    """Refuse rows that repeat an earlier row of the file or someone in the register; mark
    ``skip`` the rows an earlier import of this kind already brought in."""
    valid = [(r, a) for r, a in candidates if not r.problems]
    for _row, accepted in valid:
        accepted.key = natural_key(accepted.subject)
    already = _imported_keys(session, kind, [a.key for _, a in valid])
    by_email, by_name_phone = _register_keys(session)
    seen_email: dict[str, int] = {}
    seen_name_phone: dict[tuple[str, str], int] = {}
    numbers: dict[str, int] = {}
    taken_numbers = _taken_numbers(session, {a.membership_number for _, a in valid})
    for row, accepted in valid:
        s = accepted.subject
        email = s["email"].lower()
        name_phone = (_name_key(s["surname"], s["first_name"], s["patronymic"]), s["phone"])
        if accepted.key in already:
            accepted.key = "skip"
            continue
        if email in seen_email:
            row.refuse("email", "import.duplicate_in_file", row=seen_email[email])
        elif name_phone in seen_name_phone:
            row.refuse("phone", "import.duplicate_name_phone_in_file",
                       row=seen_name_phone[name_phone])  # fmt: skip
        elif email in by_email:
            row.refuse("email", "import.duplicate_in_register")
        elif name_phone in by_name_phone:
            row.refuse("phone", "import.duplicate_name_phone_in_register")
        seen_email.setdefault(email, row.number)
        seen_name_phone.setdefault(name_phone, row.number)
        number = accepted.membership_number
        if number:
            if number in numbers:
                row.refuse("membership_number", "import.number_in_file", row=numbers[number])
            elif number in taken_numbers:
                row.refuse("membership_number", "import.number_in_register")
            numbers.setdefault(number, row.number)


def _taken_numbers(session: Session, numbers: set[str]) -> set[str]:
    wanted = sorted(n for n in numbers if n)
    taken: set[str] = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        taken.update(session.scalars(select(Member.membership_number).where(
            Member.membership_number.in_(chunk))))  # fmt: skip
    return taken


# --- step 3: writing -------------------------------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    batch_id: int | None = None
    written: bool = False


class _Numbers:
    """The panel's ``PRMA-<year>-NNNNNN`` numbering for members a file gives no number,
    continuing after the highest number of each year and skipping the file's own numbers."""

    def __init__(self, session: Session, given: set[str]) -> None:
        self._session = session
        self._given = given
        self._last: dict[int, int] = {}

    def next(self, year: int) -> str:
        if year not in self._last:
            prefix = f"PRMA-{year}-"
            highest = self._session.scalar(
                select(func.max(Member.membership_number)).where(
                    and_(Member.membership_number >= prefix,
                         Member.membership_number < f"PRMA-{year}.")
                )
            )  # fmt: skip
            tail = highest[len(prefix) :] if highest else ""
            self._last[year] = int(tail) if tail.isdigit() else 0
        while True:
            self._last[year] += 1
            number = f"PRMA-{year}-{self._last[year]:06d}"
            if number not in self._given:
                return number


def _allocate_ids(session: Session, table, count: int) -> list[int]:
    """``count`` fresh primary keys of ``table`` for a bulk insert. PostgreSQL draws them from
    the table's sequence (safe beside concurrent inserts); SQLite continues after the highest
    id, which is safe because the caller holds the database write lock (``lock_writers``)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": count}
        ))  # fmt: skip
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


class _Rows:
    """The rows of one import as Core bulk inserts (an executemany per table: ORM objects for
    10,000 people cost more than the database work). Derived month keys come from the
    columns' Core defaults (``models.types.derived_default``), ``search_text`` from
    ``compose_search_text`` — the same values the ORM listeners would store."""

    def __init__(self, session: Session, the_plan: Plan, actor: Actor, batch_id: int,
                 now: datetime) -> None:  # fmt: skip
        self.session, self.plan, self.actor, self.batch_id, self.now = (
            session, the_plan, actor, batch_id, now)  # fmt: skip

    def _insert(self, model, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 2000):
            self.session.execute(insert(model.__table__), rows[start : start + 2000])

    def write(self) -> list[int]:
        the_plan, now = self.plan, self.now
        ids = _allocate_ids(self.session, DataSubject.__table__, len(the_plan.accepted))
        subjects, links, consents, members, applications, events = [], [], [], [], [], []
        numbers = _Numbers(self.session, {a.membership_number for a in the_plan.accepted})
        app_ids = (_allocate_ids(self.session, MembershipApplication.__table__, len(ids))
                   if the_plan.kind == "applications" else [])  # fmt: skip
        for index, (accepted, sid) in enumerate(zip(the_plan.accepted, ids, strict=True)):
            values = dict(accepted.subject)
            language = values["language"]
            subjects.append({**values, "id": sid, "status": "active", "created_at": now,
                             "updated_at": now, "search_text": compose_search_text(values)})
            links.append({"batch_id": self.batch_id, "kind": the_plan.kind,
                          "row_number": accepted.row, "natural_key": accepted.key,
                          "subject_id": sid})  # fmt: skip
            for ev in accepted.evidence:
                sentence = tr(language, f"consent.sentence.{ev.purpose}")
                moment = _midnight_utc(ev.day)
                consents.append({
                    "subject_id": sid, "purpose_code": ev.purpose, "granted_at": moment,
                    "policy_version_id": ev.edition_id, "channel": ev.channel,
                    "language": language, "consent_text": sentence,
                    "consent_text_sha256": text_sha256(sentence), "evidence_ref": ev.ref,
                    "evidence_received_at": moment,
                    "evidence_text": tr(language, "import.evidence_text",
                                        file=the_plan.filename, row=accepted.row),
                    "recorded_by_id": self.actor.user_id,
                })  # fmt: skip
            if the_plan.kind == "members":
                joined = accepted.joined or retention.local_date(now)
                members.append({
                    "subject_id": sid, "application_id": None,
                    "membership_number": accepted.membership_number
                    or numbers.next(joined.year),
                    "since": joined, "status": accepted.status,
                    "ended_at": _midnight_utc(accepted.ended) if accepted.ended else None,
                })  # fmt: skip
            else:
                day = accepted.submitted or retention.local_date(now)
                submitted, app_id = _midnight_utc(day), app_ids[index]
                applications.append({
                    "id": app_id, "reference": f"A-{day.year}-{app_id:06d}",
                    "subject_id": sid, "submitted_at": submitted, "status": accepted.status,
                    "language": language, "updated_at": now,
                })  # fmt: skip
                events.append({
                    "application_id": app_id, "occurred_at": submitted,
                    "actor_id": self.actor.user_id, "kind": "submitted",
                    "to_status": accepted.status,
                })  # fmt: skip
        self._insert(DataSubject, subjects)
        self._insert(MembershipApplication, applications)
        self._insert(ApplicationEvent, events)
        self._insert(Member, members)
        self._insert(Consent, consents)
        self._insert(ImportRow, links)
        return ids


def commit(
    session: Session,
    actor: Actor,
    loaded: Loaded,
    mapping: list[str] | None = None,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Plan again under the writers' lock and write the accepted rows (one transaction: the
    caller's ``session_scope``). The same file a second time writes nothing."""
    now = now or utcnow()
    audit.lock_writers(session)
    the_plan = plan(session, loaded, mapping, today=retention.local_date(now))
    if the_plan.already_imported_at is not None or not the_plan.accepted:
        return Outcome(the_plan)

    batch = ImportBatch(
        kind=the_plan.kind, sha256=the_plan.sha256, filename=the_plan.filename[:200],
        sheet=the_plan.sheet[:100], rows_total=the_plan.rows_total,
        rows_imported=len(the_plan.accepted), rows_refused=len(the_plan.refused_rows),
        rows_skipped=len(the_plan.skipped_rows), consents=the_plan.consents,
        actor_id=actor.user_id, imported_at=now,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    rows = _Rows(session, the_plan, actor, batch.id, now)
    subject_ids = rows.write()
    retention.recompute_retention(session, subject_ids)
    audit.record(
        session, actor, "import.completed", ENTITY, batch.id,
        {"kind": the_plan.kind, "sha256": the_plan.sha256, **the_plan.counts()},
    )  # fmt: skip
    return Outcome(the_plan, batch.id, True)


def record_preview(session: Session, actor: Actor, the_plan: Plan) -> None:
    """Audit a preview or dry run (the register was compared with the file): counts only."""
    details = {"kind": the_plan.kind, "sha256": the_plan.sha256, **the_plan.counts()}
    audit.record(session, actor, "import.previewed", ENTITY, "", details)


# --- what the user reads ---------------------------------------------------------------------


def field_label(fld: str, language: str) -> str:
    """A field's name for people (``import.field.*`` or the subject field's own label)."""
    if fld in cols.SUBJECT_FIELDS and fld != "language":
        return tr(language, f"subject.{fld}")
    if fld.startswith("consent_"):
        purpose, part = fld[len("consent_") :].rsplit("_", 1)
        return tr(language, f"import.evidence.{part}", purpose=tr(language, f"purpose.{purpose}"))
    return tr(language, f"import.field.{fld}")


REPORT_COLUMNS = ("import.report.row", "import.report.column", "import.report.field",
                  "import.report.value", "import.report.reason")  # fmt: skip


def report_rows(the_plan: Plan, language: str) -> Iterator[list[Any]]:
    for p in the_plan.problems:
        yield [p.row, p.column, field_label(p.field, language), p.value, p.message(language)]


def report_xlsx(the_plan: Plan, language: str) -> bytes:
    """The refused rows, one line per refused cell, with the reason in ``language``, and a
    summary sheet — written by the one writer (``services.tabular``)."""
    book = tabular.XlsxBook(title=tr(language, "import.report.title"))
    header = [tr(language, k) for k in REPORT_COLUMNS]
    refused = book.sheet(tr(language, "import.report.sheet_refused"), header,
                         widths=[8, 28, 28, 36, 70])  # fmt: skip
    refused.rows(report_rows(the_plan, language))
    summary = book.sheet(tr(language, "import.report.sheet_summary"),
                         [tr(language, "import.report.what"), tr(language, "import.report.count")],
                         widths=[48, 12])  # fmt: skip
    for name, value in the_plan.counts().items():
        summary.row([tr(language, f"import.count.{name}"), value])
    # Issue 18: generated at (Almaty time) and the refused sheet's SHA-256.
    book.about(tabular.About(title=tr(language, "import.report.title"), language=language,
                             generated_at=utcnow()), refused)  # fmt: skip
    return book.to_bytes()


# --- the re-consent campaign -----------------------------------------------------------------

RECONSENT_COLUMNS = ("subject.surname", "subject.first_name", "subject.patronymic",
                     "subject.email", "import.field.language", "import.field.membership_number")


def reconsent_rows(session: Session) -> Iterator[list[Any]]:
    """Imported members (active) without an "informing" consent in force, for a campaign
    asking them for one. Streams in batches of 1,000."""
    from sqlalchemy import exists

    informing = exists().where(
        Consent.subject_id == DataSubject.id,
        Consent.purpose_code == "informing",
        Consent.withdrawn_at.is_(None),
    )
    query = (
        select(DataSubject.surname, DataSubject.first_name, DataSubject.patronymic,
               DataSubject.email, DataSubject.language, Member.membership_number)
        .join(ImportRow, and_(ImportRow.subject_id == DataSubject.id, ImportRow.kind == "members"))
        .join(Member, Member.subject_id == DataSubject.id)
        .where(DataSubject.status == "active", Member.status != "ended", ~informing)
        .order_by(DataSubject.surname, DataSubject.id)
        .execution_options(yield_per=1000)
    )  # fmt: skip
    for row in session.execute(query):
        yield list(row)


def reconsent_xlsx(session: Session, language: str) -> bytes:
    header = [tr(language, k) for k in RECONSENT_COLUMNS]
    book = tabular.XlsxBook(title=tr(language, "import.reconsent.title"))
    data = book.sheet(tr(language, "import.reconsent.sheet"), header,
                      widths=[22, 18, 22, 32, 10, 20])  # fmt: skip
    # The language as its name, not its code (issue 18; decision 18-gaps-2).
    names = {code: tr(language, f"gaps.language.{code}") for code in ("kk", "ru", "en")}
    data.rows([*r[:4], names.get(r[4], r[4]), r[5]] for r in reconsent_rows(session))
    book.about(tabular.About(title=tr(language, "import.reconsent.title"), language=language,
                             generated_at=utcnow()), data)  # fmt: skip
    return book.to_bytes()


def group_problems(the_plan: Plan) -> dict[int, list[Problem]]:
    grouped: dict[int, list[Problem]] = defaultdict(list)
    for p in the_plan.problems:
        grouped[p.row].append(p)
    return grouped


def explain(err: ServiceError, language: str) -> str:
    """A refusal of the whole file in ``language``, with field codes shown as their labels."""
    params = dict(err.params)
    if "fields" in params:
        params["fields"] = ", ".join(
            field_label(f, language) for f in str(params["fields"]).split(",") if f
        )
    if err.key == "import.mapping.twice":
        params["field"] = field_label(err.field, language)
    return tr(language, err.key, **params)
