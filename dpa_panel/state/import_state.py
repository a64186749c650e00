"""``/admin/import``: upload a spreadsheet, correct the column mapping, preview the refused
rows, confirm (issue 21). The work is ``services.member_import``'s; this state only holds what
the page shows.

The uploaded bytes stay in backend-only state (``_data``) and are parsed on the server; the
public vars carry column headers, field codes, row numbers, reasons and counts — never a cell
value of a person (those are in the downloadable report only). Every handler, the upload one
included, is guarded by ``@requires("members.import")``.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.services import audit, reconsent, tabular
from dpa_panel.services import import_columns as cols
from dpa_panel.services import member_import as mi
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.import_reader import max_bytes
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

IMPORT = "members.import"
UPLOAD_ID = "import-upload"
#: Refused cells listed on the page; the report has every one.
SHOWN_PROBLEMS = 200
IGNORE = "-"  # the select's value for "ignore this column" (a select needs a non-empty value)


class ImportState(AuthState):
    kind: str = "members"
    sheet_name: str = ""
    file_name: str = ""
    columns: list[dict[str, str]] = []
    counts: list[dict[str, str]] = []
    problems: list[dict[str, str]] = []
    problems_more: str = ""
    formulas_note: str = ""
    can_confirm: bool = False
    confirming: bool = False
    confirm_text: str = ""
    inviting: bool = False
    invite_text: str = ""
    error: str = ""
    notice: str = ""
    _data: bytes = b""
    _mapping: list[str] = []

    def _clear_on_denial(self):
        self._reset_file()
        self.inviting, self.invite_text = False, ""

    def _reset_file(self) -> None:
        self._data, self._mapping = b"", []
        self.file_name, self.columns, self.counts, self.problems = "", [], [], []
        self.problems_more = self.formulas_note = self.confirm_text = ""
        self.can_confirm = self.confirming = False

    @rx.var
    def field_options(self) -> list[dict[str, str]]:
        """The fields a column of this kind of file can be given, labelled in the UI language."""
        options = [{"value": IGNORE, "label": tr(self.locale, "import.ignore")}]
        for f in cols.fields_for(self.kind):
            options.append({"value": f, "label": mi.field_label(f, self.locale)})
        return options

    @rx.var
    def has_file(self) -> bool:
        return bool(self.columns)

    @requires(IMPORT)
    def load(self):
        self.error = self.notice = ""
        self._reset_file()

    @requires(IMPORT)
    def set_kind(self, value: str):
        if value in mi.KINDS:
            self.kind = value
        self.error = self.notice = ""
        self._reset_file()

    @requires(IMPORT)
    def set_sheet_name(self, value: str):
        self.sheet_name = str(value)[:100]

    def _show(self, loaded: mi.Loaded) -> None:
        """Plan with the current mapping (a read transaction) and fill the page's vars."""
        self.columns = [
            {"index": str(i), "header": h or f"#{i + 1}", "field": f or IGNORE}
            for i, (h, f) in enumerate(zip(loaded.header, self._mapping, strict=True))
        ]
        self.counts, self.problems, self.problems_more = [], [], ""
        self.can_confirm = self.confirming = False
        self.formulas_note = (
            tr(self.locale, "import.formulas_note", count=loaded.sheet.formula_cells)
            if loaded.sheet.formula_cells else ""
        )  # fmt: skip
        try:
            with session_scope() as session:
                plan = mi.plan(session, loaded, self._mapping)
                mi.record_preview(session, actor_for(self), plan)
        except ServiceError as err:
            self.error = mi.explain(err, self.locale)
            return
        self.error = ""
        if plan.already_imported_at is not None:
            when = format_datetime(plan.already_imported_at, self.locale)
            self.notice = tr(self.locale, "import.already_imported", when=when)
            return
        self.counts = [
            {"label": tr(self.locale, f"import.count.{k}"), "value": str(v), "key": k}
            for k, v in plan.counts().items()
        ]
        self.problems = [
            {"row": str(p.row), "column": p.column, "field": mi.field_label(p.field, self.locale),
             "reason": p.message(self.locale)}
            for p in plan.problems[:SHOWN_PROBLEMS]
        ]  # fmt: skip
        if len(plan.problems) > SHOWN_PROBLEMS:
            self.problems_more = tr(self.locale, "import.refused_more", shown=SHOWN_PROBLEMS)
        self.can_confirm = bool(plan.accepted)
        self.confirm_text = tr(self.locale, "import.confirm_text", file=self.file_name,
                               count=len(plan.accepted))  # fmt: skip

    def _load(self) -> mi.Loaded | None:
        try:
            return mi.load(self._data, self.file_name, self.kind, self.sheet_name or None)
        except ServiceError as err:
            self.error = mi.explain(err, self.locale)
            return None

    @requires(IMPORT)
    async def handle_upload(self, files: list[rx.UploadFile]):
        """Read the chosen file (at most the size limit, plus one byte to notice more)."""
        self.error = self.notice = ""
        self._reset_file()
        if not files:
            self.error = tr(self.locale, "import.no_file")
            return
        upload = files[0]
        data = await upload.read(max_bytes() + 1)
        self._data, self.file_name = data, (upload.name or "")[:200]
        await asyncio.to_thread(self._read_and_show)

    def _read_and_show(self) -> None:
        loaded = self._load()
        if loaded is None:
            self._data = b""
            return
        self._mapping = list(loaded.mapping)
        self._show(loaded)

    @requires(IMPORT)
    def set_field(self, index: str, value: str):
        """The user corrects one column's field; the preview is computed again."""
        if not self._data or not str(index).isdigit():
            return
        position = int(index)
        if not 0 <= position < len(self._mapping):
            return
        fld = "" if value == IGNORE else str(value)
        if fld and fld not in cols.fields_for(self.kind):
            return
        self._mapping[position] = fld
        self.notice = ""
        loaded = self._load()
        if loaded is not None:
            self._show(loaded)

    @requires(IMPORT)
    def ask_confirm(self):
        self.confirming = self.can_confirm

    @requires(IMPORT)
    def cancel_confirm(self):
        self.confirming = False

    @requires(IMPORT)
    def confirm(self):
        """Write the accepted rows (one transaction, planned again under the lock)."""
        self.confirming = False
        loaded = self._load() if self._data else None
        if loaded is None:
            self.error = self.error or tr(self.locale, "import.no_file")
            return
        try:
            with session_scope() as session:
                outcome = mi.commit(session, actor_for(self), loaded, self._mapping)
        except ServiceError as err:
            self.error = mi.explain(err, self.locale)
            return
        plan = outcome.plan
        if plan.already_imported_at is not None:
            when = format_datetime(plan.already_imported_at, self.locale)
            self.notice = tr(self.locale, "import.already_imported", when=when)
        elif outcome.written:
            self.notice = tr(self.locale, "import.done", count=len(plan.accepted),
                             consents=plan.consents)  # fmt: skip
        else:
            self.notice = tr(self.locale, "import.nothing_to_import")
        self.can_confirm = False

    @requires(IMPORT)
    def download_report(self):
        """The refused rows with their values and reasons, as XLSX (through the one writer)."""
        loaded = self._load() if self._data else None
        if loaded is None:
            return
        try:
            with session_scope() as session:
                plan = mi.plan(session, loaded, self._mapping)
                audit.record(session, actor_for(self), "import.report_downloaded", mi.ENTITY,
                             "", {"kind": self.kind, "sha256": plan.sha256})  # fmt: skip
        except ServiceError as err:
            self.error = mi.explain(err, self.locale)
            return
        return rx.download(data=mi.report_xlsx(plan, self.locale),
                           filename=tabular.export_filename("import-report", "xlsx"))

    @requires(IMPORT)
    def download_reconsent(self):
        """Imported members without an informing consent, for a re-consent campaign."""
        with session_scope() as session:
            data = mi.reconsent_xlsx(session, self.locale)
            audit.record(session, actor_for(self), "import.reconsent_exported", mi.ENTITY, "", {})
        return rx.download(data=data, filename=tabular.export_filename("reconsent", "xlsx"))

    @requires(IMPORT)
    def ask_invite(self):
        """First step of the re-consent invitations: say how many people would get an e-mail
        (nobody is written to here)."""
        self.error = self.notice = ""
        with session_scope() as session:
            count = reconsent.pending_count(session)
        if not count:
            self.inviting, self.invite_text = False, ""
            self.notice = tr(self.locale, "import.invite_none")
            return
        self.inviting = True
        self.invite_text = tr(self.locale, "import.invite_confirm_text", count=count)

    @requires(IMPORT)
    def cancel_invite(self):
        self.inviting, self.invite_text = False, ""

    @requires(IMPORT)
    def invite(self):
        """Queue the invitations (one transaction, one audit event with the counts)."""
        if not self.inviting:
            return
        self.inviting, self.invite_text = False, ""
        with session_scope() as session:
            outcome = reconsent.invite(session, actor_for(self))
        self.notice = tr(self.locale, "import.invite_done", queued=outcome.queued,
                         already=outcome.already_invited)  # fmt: skip
