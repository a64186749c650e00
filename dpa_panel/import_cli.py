"""``dpa-panel import members|applications FILE`` and
``dpa-panel import reconsent [OUT] [--invite]`` (issue 21): the command-line side of
``services.member_import`` and ``services.reconsent``.

Exit status: 0 when the file was read (imported, previewed with ``--dry-run``, or found to be
imported already — each says so), 1 when the file itself is refused (nothing written; the
reason is printed), 2 when the database cannot be used (``dpa_panel.cli``).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Refused cells printed on the terminal; the ``--report`` file has them all.
SHOWN_PROBLEMS = 50


def _actor(username: str):
    from sqlalchemy import select

    from dpa_panel.db import session_scope
    from dpa_panel.models import StaffUser
    from dpa_panel.services.audit import Actor

    if not username:
        return Actor.system()
    with session_scope() as session:
        user_id = session.scalar(
            select(StaffUser.id).where(StaffUser.username == username, StaffUser.is_active)
        )
    if user_id is None:
        raise SystemExit(f"dpa-panel: no active account {username!r}")
    return Actor.user(user_id, "cli")


def _mapping(loaded, pairs: list[str]) -> list[str]:
    """``--map "Моб.=phone"`` or ``--map 3=phone`` (1-based column); ``=`` alone ignores."""
    mapping = list(loaded.mapping)
    for pair in pairs:
        column, _, fld = pair.partition("=")
        column = column.strip()
        if column.isdigit():
            index = int(column) - 1
        elif column in loaded.header:
            index = loaded.header.index(column)
        else:
            raise SystemExit(f"dpa-panel: no column {column!r} in the file")
        if not 0 <= index < len(mapping):
            raise SystemExit(f"dpa-panel: no column {column!r} in the file")
        mapping[index] = fld.strip()
    return mapping


def _cmd_import(args) -> int:
    from dpa_panel.db import session_scope
    from dpa_panel.i18n import tr
    from dpa_panel.i18n.formatting import format_datetime
    from dpa_panel.services import member_import as mi
    from dpa_panel.services.errors import ServiceError

    language = args.language
    path = Path(args.file)
    actor = _actor(args.as_user)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"dpa-panel: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        loaded = mi.load(data, path.name, args.kind, args.sheet or None)
        mapping = _mapping(loaded, args.map)
        with session_scope() as session:
            if args.dry_run:
                plan = mi.plan(session, loaded, mapping)
                mi.record_preview(session, actor, plan)
                written = False
            else:
                outcome = mi.commit(session, actor, loaded, mapping)
                plan, written = outcome.plan, outcome.written
    except ServiceError as err:
        print(f"dpa-panel: {mi.explain(err, language)}", file=sys.stderr)
        return 1
    if plan.already_imported_at is not None:
        when = format_datetime(plan.already_imported_at, language)
        print(tr(language, "import.already_imported", when=when))
        return 0
    print(f"{path.name}: " + ", ".join(
        f"{tr(language, f'import.count.{k}')}: {v}" for k, v in plan.counts().items()
    ))  # fmt: skip
    for problem in plan.problems[:SHOWN_PROBLEMS]:
        label = mi.field_label(problem.field, language)
        print(f"  {problem.row}: {problem.column} ({label}): {problem.message(language)}")
    if len(plan.problems) > SHOWN_PROBLEMS:
        print("  " + tr(language, "import.refused_more", shown=SHOWN_PROBLEMS))
    if args.report:
        Path(args.report).write_bytes(mi.report_xlsx(plan, language))
    if args.dry_run:
        print("dry run: nothing written")
    elif written:
        print(tr(language, "import.done", count=len(plan.accepted), consents=plan.consents))
    else:
        print(tr(language, "import.nothing_to_import"))
    return 0


def _cmd_reconsent(args) -> int:
    """The list as .xlsx (OUT), and/or with ``--invite`` one invitation e-mail per listed member
    with an address who was not invited before (``services.reconsent``; queued in the outbox,
    ``dpa-panel notify`` sends)."""
    from dpa_panel.db import session_scope
    from dpa_panel.i18n import tr
    from dpa_panel.services import audit, reconsent
    from dpa_panel.services import member_import as mi

    if not args.out and not args.invite:
        print("dpa-panel: give OUT.xlsx, --invite, or both", file=sys.stderr)
        return 1
    actor = _actor(args.as_user)
    data = b""
    with session_scope() as session:
        if args.out:
            data = mi.reconsent_xlsx(session, args.language)
            audit.record(session, actor, "import.reconsent_exported", mi.ENTITY, "", {})
        if args.invite:
            outcome = reconsent.invite(session, actor)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"re-consent list written to {args.out}")
    if args.invite:
        print(tr(args.language, "import.invite_done", queued=outcome.queued,
                 already=outcome.already_invited))  # fmt: skip
    return 0


def add_parser(sub) -> None:
    """Register ``import`` under the ``dpa-panel`` command."""
    imp = sub.add_parser("import", help="import members or applications from .xlsx/.csv")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    for kind, text in (("members", "the member register"),
                       ("applications", "applications in progress")):  # fmt: skip
        cmd = imp_sub.add_parser(kind, help=f"import {text} from FILE (.xlsx or .csv)")
        cmd.add_argument("file")
        cmd.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        cmd.add_argument("--sheet", default="", help="sheet name (default: the first)")
        cmd.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                         help="correct a column's field (header text or 1-based number)")
        cmd.add_argument("--report", default="", help="write the refused rows to this .xlsx")
        cmd.add_argument("--language", default="kk", choices=("kk", "ru", "en"))
        cmd.add_argument("--as", dest="as_user", default="",
                         help="the staff account to record as importer (default: the system)")
        cmd.set_defaults(func=_cmd_import, kind=kind)
    reconsent = imp_sub.add_parser(
        "reconsent", help="write the imported members without an informing consent (.xlsx)"
    )
    reconsent.add_argument("out", nargs="?", default="", help="the list as .xlsx")
    reconsent.add_argument("--invite", action="store_true",
                           help="queue one invitation e-mail (link to /my) per listed member "
                                "with an address not invited before")
    reconsent.add_argument("--language", default="kk", choices=("kk", "ru", "en"))
    reconsent.add_argument("--as", dest="as_user", default="")
    reconsent.set_defaults(func=_cmd_reconsent)
