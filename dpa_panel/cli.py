"""``dpa-panel``: the command line for operators (migrations, demo data, later: admin tasks)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from dpa_panel import settings


def _cmd_migrate(_args) -> int:
    from dpa_panel import migrate

    migrate.upgrade()
    print(f"database at revision {migrate.current_revision()} ({_safe_url()})")
    return 0


def _cmd_seed(args) -> int:
    from dpa_panel import demo
    from dpa_panel.db import get_engine

    started = time.perf_counter()
    report = demo.seed_subjects(get_engine(), args.subjects, seed=args.seed)
    staff = demo.seed_staff(get_engine())
    print(
        f"seeded {report.subjects} subjects, {report.applications} applications, "
        f"{report.members} members, {report.consents} consents, {staff} staff accounts "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _cmd_demo(args) -> int:
    """Migrate, load demo data if the database is empty, print the demo accounts."""
    from dpa_panel import demo, migrate
    from dpa_panel.db import get_engine

    migrate.upgrade()
    report = demo.seed_demo(get_engine(), subjects=args.subjects)
    if report is None:
        print("demo data: database already has subjects, nothing added")
    else:
        print(
            f"demo data: {report.subjects} subjects, {report.applications} applications, "
            f"{report.members} members, {report.consents} consents"
        )
    from dpa_panel import stats_cli

    print(stats_cli.publish_due_for_demo())
    print("demo accounts (username / password / role / TOTP key for an authenticator app):")
    for username, role, _name, password in demo.DEMO_ACCOUNTS:
        totp = demo.DEMO_TOTP_SECRETS.get(username, "")
        print(f"  {username:<12} {password:<26} {role:<11} {totp}".rstrip())
    return 0


def _cmd_audit_verify(_args) -> int:
    """Walk the audit hash chain, then check every signed checkpoint against it; exit 0 when
    both hold, 1 at the first broken link or any failed checkpoint."""
    from dpa_panel.db import get_engine, session_scope
    from dpa_panel.services import audit_checkpoints as checkpoints
    from dpa_panel.services.audit import link, verify_chain

    link(get_engine())  # PostgreSQL: link what committed since the last link first
    with session_scope() as session:
        result = verify_chain(session)
        print(result.describe())
        try:
            public = checkpoints.verifying_key()
        except checkpoints.CheckpointError as err:
            print(f"audit checkpoints NOT CHECKED: {err}")
            return 0 if result.ok else 1
        verdict = checkpoints.verify_checkpoints(session, public=public)
    print(verdict.describe())
    for problem in verdict.problems[1:]:
        print(f"  also: {problem}")
    if verdict.missing_file:
        print(f"  (no checkpoint file at {settings.audit_checkpoint_path()})")
    return 0 if result.ok and verdict.ok else 1


def _cmd_audit_link(_args) -> int:
    """PostgreSQL: link every committed, settled, unlinked audit event into the chain (the
    panel does this right after each commit; this is for after a crash). SQLite: nothing."""
    from dpa_panel.db import get_engine
    from dpa_panel.services.audit import link

    print(f"audit link: {link(get_engine())} events linked")
    return 0


def _cmd_audit_checkpoint(args) -> int:
    """Sign the audit chain head and append it to the checkpoint file (and print the line, so
    the system journal keeps a copy); with --generate-key, print a new key pair."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import audit_checkpoints as checkpoints

    if args.generate_key:
        private, public = checkpoints.generate_key()
        print(f"DPA_AUDIT_KEY={private}")
        print(f"DPA_AUDIT_PUBLIC_KEY={public}")
        return 0
    try:
        with session_scope() as session:
            record = checkpoints.write_checkpoint(session)
    except checkpoints.CheckpointError as err:
        print(f"checkpoint refused: {err}", file=sys.stderr)
        return 2
    print(f"audit checkpoint appended to {settings.audit_checkpoint_path()}:")
    print(json.dumps(record, sort_keys=True, separators=(",", ":")))
    return 0


def _cmd_retention_sweep(args) -> int:
    """Destroy every subject due by ``--as-of`` (default: now) and not held, in batches with an
    all-or-nothing outcome per subject; one line per subject and a summary (exit 1 when a
    subject's destruction failed: it is left untouched, the others go on).
    ``DPA_SWEEP_DELAY_MS`` (tests only) sleeps that many milliseconds after each subject."""
    import os
    from datetime import date

    from dpa_panel.db import get_engine
    from dpa_panel.models.types import utcnow
    from dpa_panel.services import retention
    from dpa_panel.services.audit import Actor

    now = utcnow()
    as_of = now
    if args.as_of:
        day = date.fromisoformat(args.as_of)
        if not args.dry_run and day > retention.local_date(now):
            print("refused: --as-of is in the future (only --dry-run looks ahead)", file=sys.stderr)
            return 2
        # End of that Almaty day, but never later than now for a real sweep.
        end = retention.local_midnight_utc(day) + retention.timedelta(days=1, microseconds=-1)
        as_of = end if args.dry_run else min(end, now)
    delay = max(0, int(os.environ.get("DPA_SWEEP_DELAY_MS", "0") or 0)) / 1000

    def progress(due, outcome: str) -> None:
        print(
            f"{due.subject_id}\t{retention.local_date(due.due_at).isoformat()}\t"
            f"{due.purpose or 'request'}:{due.event}\t{outcome}",
            flush=True,
        )

    report = retention.run_sweep(
        get_engine(),
        as_of=as_of,
        actor=Actor.system(),
        dry_run=args.dry_run,
        progress=progress,
        between=(lambda: time.sleep(delay)) if delay else None,
    )
    if not report.dry_run:
        _record_sweep_run(report)
    verb = "would destroy" if report.dry_run else "destroyed"
    count = len(report.due) if report.dry_run else len(report.destroyed)
    print(
        f"sweep {report.batch_id}: {verb} {count} subject(s), skipped {len(report.skipped)}, "
        f"failed {len(report.failed)}, due {len(report.due)}, as of {report.as_of.isoformat()}, "
        f"{report.seconds:.1f} s"
    )
    for subject_id, error in report.failed:
        print(f"failed: subject {subject_id}: {error}", file=sys.stderr)
    return 1 if report.failed else 0


def _record_sweep_run(report) -> None:
    """Append ``retention.sweep_ran`` (counts only) so ``dpa-panel doctor`` can tell when the
    sweep last ran, even a run that found nothing due (``run_sweep`` records per subject)."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import audit
    from dpa_panel.services.doctor import SWEEP_ACTION

    with session_scope() as session:
        audit.record(
            session,
            audit.Actor.system(),
            SWEEP_ACTION,
            "retention_sweep",
            report.batch_id,
            details={
                "as_of": report.as_of.isoformat(),
                "due": len(report.due),
                "destroyed": len(report.destroyed),
                "skipped": len(report.skipped),
                "failed": len(report.failed),
                "seconds": round(report.seconds, 1),
                "via": "cli",
            },
        )


def _cmd_backup(args) -> int:
    """Write an encrypted backup (or, with --generate-key, print a new DPA_BACKUP_KEY)."""
    from pathlib import Path

    from dpa_panel.services import backup

    if args.generate_key:
        print(backup.generate_key())
        return 0
    try:
        result = backup.create_backup(out=Path(args.out) if args.out else None)
    except backup.BackupError as err:
        print(f"backup refused: {err}", file=sys.stderr)
        return 2
    counts = result.header.get("row_counts", {})
    print(
        f"backup written: {result.path} ({result.size} bytes, sha256 {result.sha256}); "
        f"{result.header.get('engine')} at revision {result.header.get('alembic_revision')}, "
        f"{len(counts)} tables, {sum(counts.values())} rows"
    )
    if result.checkpoint is not None:
        print(
            f"audit checkpoint: event {result.checkpoint['event_id']} "
            f"({result.checkpoint['seq']} events) signed into {settings.audit_checkpoint_path()}"
        )
    else:
        print(f"warning: {result.checkpoint_note}", file=sys.stderr)
    return 0


def _cmd_restore(args) -> int:
    """Authenticate a backup file, restore it into the configured database, check it."""
    from pathlib import Path

    from dpa_panel.services import backup, restore

    path = Path(args.file)
    try:
        key = backup.parse_key(settings.backup_key())
        if args.verify_only:
            header = backup.verify_file(path, key)
            print(
                f"backup OK: {header.get('engine')}, created {header.get('created_at')}, "
                f"revision {header.get('alembic_revision')}, "
                f"{sum((header.get('row_counts') or {}).values())} rows"
            )
            return 0
        result = restore.restore_backup(path, key=key, replace=args.yes)
    except (backup.BackupError, OSError) as err:
        print(f"restore refused: {err}", file=sys.stderr)
        return 2
    if not result.ok:
        for problem in result.problems:
            print(f"restore check FAILED: {problem}", file=sys.stderr)
        print("restore rolled back: the target database was left unchanged", file=sys.stderr)
        return 1
    print(
        f"restored {path.name} into {_safe_url()}: {len(result.row_counts)} tables, "
        f"{sum(result.row_counts.values())} rows, audit chain verified"
    )
    _warn_about_checkpoints_after_restore()
    return 0


def _warn_about_checkpoints_after_restore() -> None:
    """An older backup restored: the checkpoints signed since it was taken now (rightly)
    report the lost events. Say so at once, with what to do, instead of at the next verify."""
    from dpa_panel.db import session_scope
    from dpa_panel.services import audit_checkpoints as checkpoints

    try:
        public = checkpoints.verifying_key()
    except checkpoints.CheckpointError:
        return
    with session_scope() as session:
        verdict = checkpoints.verify_checkpoints(session, public=public)
    if not verdict.ok:
        print(
            f"warning: {verdict.describe()} — the restored trail ends before checkpoints in "
            f"{settings.audit_checkpoint_path()}; keep that file as the record of what the "
            "restore lost and start a new one (docs/deploy.md, 'After restoring an older backup')",
            file=sys.stderr,
        )


def _cmd_doctor(args) -> int:
    """Check the deployment; PASS/WARN/FAIL per item, exit 1 on any FAIL."""
    from dpa_panel.services import doctor

    checks = doctor.run_checks(
        check_url=args.check_url,
        backup_max_hours=args.backup_max_age_hours,
        sweep_max_hours=args.sweep_max_age_hours,
    )
    for check in checks:
        print(check.line())
    failed = sum(check.status == doctor.FAIL for check in checks)
    warned = sum(check.status == doctor.WARN for check in checks)
    print(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0


def _cmd_notify(args) -> int:
    """Queue the request reminders due today and deliver the outbox (exit 1 when
    DPA_SMTP_URL is invalid; mail then stays queued)."""
    from dpa_panel.db import session_scope
    from dpa_panel.i18n.formatting import to_local
    from dpa_panel.models.types import utcnow
    from dpa_panel.services import breaches, mail, notify, outbox

    started = time.perf_counter()
    now = utcnow()
    try:
        config = mail.configured()
    except mail.MailConfigError as err:
        print(f"error: {err}; nothing sent", file=sys.stderr)
        config = err
    with session_scope() as session:
        report = notify.queue_reminders(session, today=to_local(now).date(), now=now)
        from dpa_panel.services import privacy_centre  # issue 20: expired packages, codes

        purged = privacy_centre.purge_expired(session, now=now)
    with session_scope() as session:  # issue 17: breach deadlines, through the same outbox
        breach_reminders = breaches.queue_breach_reminders(session, now=now)
    print(
        f"reminders: {report.queued} queued, {report.already_queued} already queued, "
        f"{report.no_recipient} request(s) without anyone to remind (no e-mail address)"
    )
    print(f"privacy centre: {purged['packages']} expired package(s) blanked, "
          f"{purged['codes']} code(s), {purged['sessions']} session(s) and "
          f"{purged['mails']} sent mail(s) to data subjects removed")
    print(f"breach reminders: {breach_reminders} queued")
    if isinstance(config, Exception):
        return 1
    if config is None or args.queue_only:
        with session_scope() as session:
            waiting = outbox.pending_count(session)
        print(
            f"DPA_SMTP_URL is not set: {waiting} message(s) kept in the outbox"
            if config is None else f"--queue-only: {waiting} message(s) wait in the outbox"
        )  # fmt: skip
        return 0
    delivery = outbox.deliver(session_scope, config, now=now)
    print(f"outbox via {config.describe()}: {delivery.describe()}")
    print(f"done in {time.perf_counter() - started:.2f} s")
    return 0


def _read_password(prompt: str) -> str:
    """From the terminal (asked twice) or, when piped, the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(prompt)
        if first != getpass.getpass("repeat: "):
            raise SystemExit("passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\n")


def _cmd_create_admin(args) -> int:
    """Create the first (or another) admin account."""
    from dpa_panel import migrate
    from dpa_panel.db import session_scope
    from dpa_panel.i18n import tr
    from dpa_panel.services import accounts
    from dpa_panel.services.audit import Actor
    from dpa_panel.services.errors import ServiceError

    migrate.upgrade()
    password = _read_password(f"password for {args.username}: ")
    try:
        with session_scope() as session:
            user = accounts.create_account(
                session,
                Actor.system(),
                username=args.username,
                full_name=args.full_name,
                role="admin",
                password=password,
                must_change_password=False,
            )
            created = user.username
    except ServiceError as err:
        print(f"refused: {tr('en', err.key)}", file=sys.stderr)
        return 2
    print(f"admin account {created!r} created")
    return 0


def _safe_url() -> str:
    """The database URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url()).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpa-panel", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply Alembic migrations up to head").set_defaults(
        func=_cmd_migrate
    )

    seed = sub.add_parser("seed", help="add synthetic subjects (demo, bench and tests only)")
    seed.add_argument("--subjects", type=int, default=1000)
    seed.add_argument("--seed", type=int, default=2025)
    seed.set_defaults(func=_cmd_seed)

    demo = sub.add_parser("demo", help="migrate, load demo data when empty, list demo accounts")
    demo.add_argument("--subjects", type=int, default=300)
    demo.set_defaults(func=_cmd_demo)

    audit = sub.add_parser("audit", help="audit trail tasks")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "verify",
        help="check the audit hash chain and its signed checkpoints; exit 1 on any problem",
    ).set_defaults(func=_cmd_audit_verify)
    audit_sub.add_parser(
        "link", help="link committed audit events the panel has not linked yet (PostgreSQL)"
    ).set_defaults(func=_cmd_audit_link)
    checkpoint = audit_sub.add_parser(
        "checkpoint",
        help="sign the chain head (DPA_AUDIT_KEY) into DPA_AUDIT_CHECKPOINT_PATH",
    )
    checkpoint.add_argument(
        "--generate-key", action="store_true", help="print a new Ed25519 key pair and exit"
    )
    checkpoint.set_defaults(func=_cmd_audit_checkpoint)

    retention = sub.add_parser("retention", help="retention tasks (policy clauses 4.4, 7.2)")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    sweep = retention_sub.add_parser(
        "sweep", help="destroy every subject due and not held (all or nothing per subject)"
    )
    sweep.add_argument("--dry-run", action="store_true", help="list, destroy nothing")
    sweep.add_argument("--as-of", default="", help="YYYY-MM-DD (Almaty); default: now")
    sweep.set_defaults(func=_cmd_retention_sweep)

    backup = sub.add_parser(
        "backup", help="write an encrypted backup of the database (key: DPA_BACKUP_KEY)"
    )
    backup.add_argument(
        "--out", default="", help="file or directory (default: DPA_BACKUP_DIR, timestamped)"
    )
    backup.add_argument(
        "--generate-key", action="store_true", help="print a new random DPA_BACKUP_KEY and exit"
    )
    backup.set_defaults(func=_cmd_backup)

    restore = sub.add_parser(
        "restore", help="restore an encrypted backup into the configured (empty) database"
    )
    restore.add_argument("file")
    restore.add_argument(
        "--yes", action="store_true", help="overwrite a database that is not empty"
    )
    restore.add_argument(
        "--verify-only", action="store_true", help="authenticate the file, restore nothing"
    )
    restore.set_defaults(func=_cmd_restore)

    notify = sub.add_parser(
        "notify", help="queue due request reminders and send the e-mail outbox (DPA_SMTP_URL)"
    )
    notify.add_argument(
        "--queue-only", action="store_true", help="queue reminders but do not send anything"
    )
    notify.set_defaults(func=_cmd_notify)

    doctor = sub.add_parser("doctor", help="check a production deployment (exit 1 on any FAIL)")
    doctor.add_argument(
        "--check-url",
        nargs="?",
        const="",
        default=None,
        metavar="URL",
        help="fetch URL (default: DPA_PUBLIC_URL) and check its security headers",
    )
    doctor.add_argument("--backup-max-age-hours", type=float, default=26.0)
    doctor.add_argument("--sweep-max-age-hours", type=float, default=48.0)
    doctor.set_defaults(func=_cmd_doctor)

    admin = sub.add_parser(
        "create-admin", help="create an admin account (password from prompt or stdin)"
    )
    admin.add_argument("username")
    admin.add_argument("--full-name", default="")
    admin.set_defaults(func=_cmd_create_admin)

    from dpa_panel import stats_cli

    stats_cli.register(sub)
    from dpa_panel import import_cli  # issue 21: dpa-panel import members|applications|reconsent

    import_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import InterfaceError, OperationalError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (OperationalError, InterfaceError) as exc:
        # An unreachable or unusable database is the operator's first problem: one line
        # (which database, what the driver said), not a traceback.
        from dpa_panel.prod import first_line

        print(f"dpa-panel: cannot use the database at {_safe_url()}: {first_line(exc)}",
              file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":
    sys.exit(main())
