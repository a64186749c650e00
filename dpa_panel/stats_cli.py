"""``dpa-panel stats``: publish the due statistics releases and export a stored one.

Kept apart from ``cli.py`` (which only registers it) so that the release commands, their
messages and exit codes live in one place. A refusal (open or future month, already
published, out of order, audit past its time limit) prints the reason, exits 1 and writes
nothing: each release is one transaction.
"""

from __future__ import annotations

import json
import sys

#: The operator's language for command-line messages.
CLI_LOCALE = "en"


def _refusal(exc) -> str:
    from dpa_panel.i18n import tr

    return tr(CLI_LOCALE, exc.key, **exc.params)


def _report(period: int, what: str, summary: dict) -> None:
    from dpa_panel.services.stats_release_data import month_label

    hidden = json.dumps(summary["hidden"])
    print(f"{month_label(period)}\t{what}\thidden {hidden}\taudit {summary['audit']['seconds']} s")


def cmd_publish(args) -> int:
    """Publish every due release (or ``--period``); ``--dry-run`` computes and audits only."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import stats_releases as releases
    from dpa_panel.services.audit import Actor
    from dpa_panel.services.errors import ServiceError
    from dpa_panel.services.stats_audit import AuditTimeout
    from dpa_panel.services.stats_release_data import month_label, parse_period

    try:
        periods = [parse_period(args.period)] if args.period else None
    except ValueError:
        print(_refusal(ServiceError("stats.release_bad_period", period=args.period)),
              file=sys.stderr)  # fmt: skip
        return 2
    with session_scope() as session:
        due = periods or releases.due_periods(session)
    if not due:
        print("nothing due: every closed month is published")
        return 0
    for period in due:
        try:
            with session_scope() as session:
                if args.dry_run:
                    releases.check_publishable(session, period)
                    cand = releases.protect(session, period, releases.effective_k())
                    summary = cand.choices()
                    _report(period, "dry run", summary)
                    continue
                release = releases.publish(session, period, Actor.system())
                summary = json.loads(release.choices)
                _report(period, f"published as release {release.id}", summary)
        except AuditTimeout:
            err = ServiceError("stats.release_audit_timeout", period=month_label(period))
            print(_refusal(err), file=sys.stderr)
            return 1
        except ServiceError as exc:
            print(_refusal(exc), file=sys.stderr)
            return 1
    return 0


def cmd_export(args) -> int:
    """Write one stored release as JSON or CSV to stdout (or ``--out``)."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import stats_releases as releases
    from dpa_panel.services.errors import ServiceError

    about = None
    try:
        with session_scope() as session:
            if args.format == "json":
                data = releases.export_json(session, args.release)
            else:  # issue 18: in words, through the export writer; metadata beside the file
                from pathlib import Path

                from dpa_panel.exports import release_table
                from dpa_panel.i18n import normalise_locale
                from dpa_panel.models.types import utcnow
                from dpa_panel.services import tabular

                lang = normalise_locale(args.language)
                title, header, rows = release_table(session, args.release, lang)
                about = tabular.About(title=title, language=lang, generated_at=utcnow(),
                                      filename=Path(args.out).name if args.out else "")
                data = b"".join(tabular.table_chunks("csv", header, rows, about=about))
    except ServiceError as exc:
        print(_refusal(exc), file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "wb") as handle:
            handle.write(data)
        if about is not None:  # <name>.about.txt beside the CSV (decision 18-exports-1)
            with open(tabular.about_filename(args.out), "wb") as handle:
                handle.write(tabular.about_text(about))
    else:
        sys.stdout.buffer.write(data)
    return 0


def publish_due_for_demo() -> str:
    """``dpa-panel demo``: publish every due release but the newest, so the board's page has
    data and the compliance preview has a release awaiting publication (the timer publishes
    it). A refusal (the audit's time limit) is reported, not raised: the demo still starts."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import stats_releases as releases
    from dpa_panel.services.audit import Actor
    from dpa_panel.services.errors import ServiceError

    published = 0
    with session_scope() as session:
        due = releases.due_periods(session)
    for period in due[:-1]:
        try:
            with session_scope() as session:
                releases.publish(session, period, Actor.system())
            published += 1
        except ServiceError as exc:
            return f"statistics releases: {published} published, then: {_refusal(exc)}"
    return f"statistics releases: {published} published"


def register(sub) -> None:
    """Add ``stats publish`` and ``stats export`` to the ``dpa-panel`` parser."""
    stats = sub.add_parser("stats", help="board statistics releases (policy clause 3)")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    publish = stats_sub.add_parser(
        "publish", help="publish the due monthly releases (idempotent; a refusal writes nothing)"
    )
    publish.add_argument("--period", default="", help="YYYY-MM: only this (closed) month")
    publish.add_argument("--dry-run", action="store_true", help="compute and audit, store nothing")
    publish.set_defaults(func=cmd_publish)
    export = stats_sub.add_parser("export", help="one release, every shown cell, JSON or CSV")
    export.add_argument("--release", type=int, required=True)
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--out", default="", help="file (default: standard output); a CSV gets "
                        "its <name>.about.txt beside it")
    export.add_argument("--language", default="kk", help="kk, ru or en: a CSV's labels")
    export.set_defaults(func=cmd_export)
