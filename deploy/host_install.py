"""Install DPA Panel on a Debian/Ubuntu host with systemd (``deploy/install.sh``, issue 22).

Standard library only: it runs with the system's ``python3`` before the panel's virtual
environment exists. Everything lands under ``--prefix`` (default ``/``), so the same steps can
be exercised into a scratch directory (the tests in ``tests/install`` do exactly that):

* the service user (``--user``, default ``dpa``), the code (``PREFIX/opt/dpa-panel``), the
  state and backup directories;
* the virtual environment (``make setup`` in the code directory);
* ``PREFIX/etc/dpa-panel/env`` from ``deploy/env.example``, mode 600: every key whose line is
  preceded by ``# generate: <kind>`` gets a fresh random value (``GENERATORS``), the
  command-line options fill the origin, the database, Redis and the paths;
* every ``deploy/systemd/*.service`` and ``*.timer``, with the paths of the prefix;
* the proxy site (``--proxy nginx`` or ``caddy``), for the installed server's version;
* migrations, then ``dpa-panel doctor``; then what the administrator still has to do.

Why it is careful:

* **idempotent** — every file is compared before it is written; a second run reports
  "nothing changed";
* **the administrator's files stay theirs** — an existing env file or proxy site (certbot
  edits the nginx site) is never overwritten; its differences from a fresh rendering are
  reported instead (secrets are never printed);
* **nothing half-installed** — PostgreSQL and Redis are probed before anything is written,
  and a failure later in the run undoes what this run created or changed;
* **uninstall keeps the data** — ``--uninstall`` removes the code, the units, the proxy site
  and the state directory, never the database, the backups or the env file (it holds the
  backup key without which the backups cannot be restored).
"""

from __future__ import annotations

import argparse
import difflib
import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from host_files import (
    WRITABLE_FILES_IN_CODE,
    WRITABLE_IN_CODE,
    InstallError,
    Journal,
    source_files,
)
from host_render import (
    PLACEHOLDER,
    Layout,
    Site,
    caddyfile_is_stock,
    env_differences,
    nginx_version,
    probe_postgres,
    probe_redis,
    read_env,
    render_caddy,
    render_env,
    render_nginx,
    render_unit,
    sha,
)

SOURCE = Path(__file__).resolve().parent.parent


# --- the installer ---------------------------------------------------------------------------


@dataclass
class Options:
    prefix: Path
    dry_run: bool
    proxy: str
    public_url: str
    database_url: str
    redis_url: str
    user: str
    app_port: int
    http_port: int
    tls_cert: str
    tls_key: str
    acme_email: str
    data_location: str
    workers: int | None


def units_to_enable(layout: Layout, units: list[str]) -> list[str]:
    """Units started at boot: those with an [Install] section (the app, the timers, any
    long-running helper); the rest are oneshots that their timers start."""
    return [u for u in units if "[Install]" in (layout.units / u).read_text()]


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url.strip().rstrip("/"))
    if parts.scheme != "https" or not parts.hostname or parts.path or parts.query:
        raise InstallError(
            f"--public-url must be an https origin such as https://panel.example.kz (got {url!r})"
        )
    return parts.hostname, parts.port or 443


def _root_steps(layout: Layout) -> list[str]:
    return [
        "create the service user (useradd --system)",
        f"write {layout.code}, {layout.env_dir}, {layout.units}, the proxy site",
        f"create {layout.state} and {layout.backups} owned by the service user",
        "systemctl daemon-reload / enable --now, reload the proxy",
    ]


class Installer:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.layout = Layout(options.prefix)
        self.j = Journal(options.dry_run)
        self.manifest = self._read_manifest()
        self.todo_extra: list[str] = []
        self.selfsigned = False
        self.doctor_output = ""
        self.explicit: set[str] = set()
        self.proxy_sha: dict[str, str] = {}

    # -- helpers --
    def _read_manifest(self) -> dict:
        try:
            return json.loads(self.layout.manifest.read_text())
        except (OSError, ValueError):
            return {}

    def _ids(self) -> tuple[int, int, str]:
        try:
            entry = pwd.getpwnam(self.o.user)
        except KeyError:
            return -1, -1, self.o.user
        return entry.pw_uid, entry.pw_gid, grp.getgrgid(entry.pw_gid).gr_name

    def _run(
        self,
        cmd: list[str],
        *,
        env: dict | None = None,
        as_service: bool = False,
        check: bool = True,
        timeout: float = 1800,
        cwd: Path | None = None,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if as_service and os.geteuid() == 0:
            uid, gid, _ = self._ids()
            if uid != os.geteuid():
                kwargs.update(user=uid, group=gid, extra_groups=[])
        result = subprocess.run(
            cmd,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
            **kwargs,
        )
        if check and result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-25:]
            raise InstallError(
                f"{' '.join(cmd)} failed ({result.returncode}):\n  " + "\n  ".join(tail)
            )
        return result

    def service_env(self) -> dict[str, str]:
        """The app's environment as systemd gives it: the unit's Environment= plus the file."""
        env = {
            "PATH": f"{self.layout.code}/.venv/bin:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.layout.state),
            "LANG": "C.UTF-8",
            "DPA_PORT": str(self.o.app_port),
            "PYTHONUNBUFFERED": "1",
            "REFLEX_USE_NPM": "1",
        }
        if self.layout.env_file.is_file():
            env.update(read_env(self.layout.env_file.read_text()))
        return env

    def settings(self, host: str) -> dict[str, str]:
        """The env file values this run decides (the rest comes from env.example)."""
        values = {
            "DPA_PUBLIC_URL": self.o.public_url.rstrip("/"),
            "DPA_DOMAIN": host,
            "DPA_DATABASE_URL": self.o.database_url,
            "REFLEX_REDIS_URL": self.o.redis_url,
            "DPA_BACKUP_DIR": str(self.layout.backups),
            "DPA_WORKERS": str(self.o.workers or 2),
        }
        if self.o.acme_email:
            values["ACME_EMAIL"] = self.o.acme_email
        if self.o.data_location:
            values["DPA_DATA_LOCATION"] = self.o.data_location
        return values

    # -- preflight: nothing is written before these pass --
    def preflight(self) -> dict[str, str]:
        layout = self.layout
        if os.geteuid() != 0 and not self.o.dry_run:
            steps = "\n  - ".join(_root_steps(layout))
            raise InstallError(
                "run as root (sudo deploy/install.sh ...): these steps need it:\n  - "
                + steps
                + "\n(--dry-run shows the plan without root)"
            )
        problems = []
        if not shutil.which("make"):
            problems.append("make is missing: apt-get install make")
        try:
            import ensurepip  # noqa: F401
        except ImportError:
            problems.append("python3 -m venv cannot work: apt-get install python3-venv")
        existing = read_env(layout.env_file.read_text()) if layout.env_file.is_file() else {}
        public = self.o.public_url or existing.get("DPA_PUBLIC_URL", "")
        database = self.o.database_url or existing.get("DPA_DATABASE_URL", "")
        redis = (
            self.o.redis_url or existing.get("REFLEX_REDIS_URL", "") or "redis://127.0.0.1:6379/0"
        )
        if not public:
            problems.append("--public-url is required on the first install (https://your.host)")
        if not database or PLACEHOLDER in database:
            problems.append(
                "--database-url is required on the first install; create the database first:\n"
                "      sudo -u postgres createuser --pwprompt dpa\n"
                "      sudo -u postgres createdb -O dpa dpa_panel\n"
                "    then pass --database-url postgresql://dpa:PASSWORD@127.0.0.1:5432/dpa_panel"
            )
        if problems:
            raise InstallError("cannot install:\n  - " + "\n  - ".join(problems))
        # Compared with an existing env file: what this run was told, and the derived paths.
        given = {
            "DPA_PUBLIC_URL": self.o.public_url,
            "DPA_DOMAIN": self.o.public_url,
            "DPA_DATABASE_URL": self.o.database_url,
            "REFLEX_REDIS_URL": self.o.redis_url,
            "DPA_WORKERS": self.o.workers,
            "DPA_BACKUP_DIR": True,
        }
        self.explicit = {key for key, value in given.items() if value}
        self.o.public_url, self.o.database_url, self.o.redis_url = public, database, redis
        host, _port = _origin(public)
        down = [p for p in (probe_postgres(database), probe_redis(redis)) if p]
        if down:
            raise InstallError(
                "nothing was installed: the panel needs PostgreSQL and Redis running first:\n  - "
                + "\n  - ".join(down)
                + "\n  Debian/Ubuntu: apt-get install postgresql redis-server, then re-run."
            )
        if self.o.proxy == "nginx" and not (
            shutil.which("nginx") or Path("/usr/sbin/nginx").exists()
        ):
            self.j.note(
                "nginx is not installed: apt-get install nginx (the site is installed anyway)"
            )
        if self.o.proxy == "caddy" and not shutil.which("caddy"):
            self.j.note(
                "caddy is not installed: apt-get install caddy (the site is installed anyway)"
            )
        return self.settings(host)

    # -- steps --
    def ensure_user(self) -> None:
        try:
            pwd.getpwnam(self.o.user)
        except KeyError:
            self.j.change(f"create system user {self.o.user}")
            if not self.o.dry_run:
                self._run(
                    [
                        "useradd",
                        "--system",
                        "--user-group",
                        "--no-create-home",
                        "--home-dir",
                        "/var/lib/dpa-panel",
                        "--shell",
                        "/usr/sbin/nologin",
                        self.o.user,
                    ]
                )
                self.j.created_user = True

    def directories(self) -> None:
        uid, gid, _ = self._ids()
        uid, gid = max(uid, 0), max(gid, 0)
        self.j.mkdir(self.layout.code, 0o755)
        self.j.mkdir(self.layout.env_dir, 0o750, 0, gid)
        self.j.mkdir(self.layout.state, 0o700, uid, gid)
        self.j.mkdir(self.layout.backups, 0o700, uid, gid)

    def sync_code(self) -> list[str]:
        source, code = SOURCE, self.layout.code
        if source == code.resolve() if code.exists() else False:
            self.j.note(f"the code directory is this checkout ({code}): nothing to copy")
            return []
        names = source_files(source)
        changed = 0
        for name in names:
            src, dst = source / name, code / name
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
            data = src.read_bytes()
            if dst.is_file() and dst.read_bytes() == data and (dst.stat().st_mode & 0o777) == mode:
                continue
            changed += 1
            if self.o.dry_run:
                continue
            if not dst.exists():
                for parent in reversed([p for p in dst.parents if not p.exists()]):
                    parent.mkdir(mode=0o755)
            tmp = dst.with_name(f".{dst.name}.dpa-new")
            tmp.write_bytes(data)
            os.chmod(tmp, mode)
            os.replace(tmp, dst)
        stale = sorted(set(self.manifest.get("code_files", [])) - set(names))
        for name in stale:
            if not self.o.dry_run:
                (code / name).unlink(missing_ok=True)
        if changed or stale:
            self.j.change(
                f"copy the code to {code}: {changed} file(s) new or changed, {len(stale)} removed"
            )
        return names

    def make_setup(self) -> None:
        stamp = self.layout.code / ".venv" / ".installed"
        before = stamp.stat().st_mtime if stamp.exists() else None
        if self.o.dry_run:
            if before is None:
                self.j.change(f"create the virtual environment (make setup in {self.layout.code})")
            return
        python = sys.executable  # the interpreter install.sh chose (Debian: /usr/bin/python3)
        self._run(
            ["make", "-C", str(self.layout.code), "setup", f"PYTHON={python}"],
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
        after = stamp.stat().st_mtime if stamp.exists() else None
        if after != before:
            self.j.change(f"virtual environment {self.layout.code}/.venv (make setup)")

    def writable_dirs(self) -> None:
        uid, gid, _ = self._ids()
        for name in WRITABLE_IN_CODE:
            self.j.mkdir(self.layout.code / name, 0o750, max(uid, 0), max(gid, 0), keep_mode=True)
        for name in WRITABLE_FILES_IN_CODE:
            path = self.layout.code / name
            if not path.exists():
                self.j.write(path, "", 0o644)
            if not self.o.dry_run and uid >= 0 and path.stat().st_uid != uid:
                os.chown(path, uid, gid)
        if not self.o.dry_run and uid >= 0:
            # The build tree may be pre-filled (e.g. node_modules reused): all of it is the app's.
            for root, dirs, files in os.walk(self.layout.code / ".web"):
                for name in dirs + files:
                    path = os.path.join(root, name)
                    if os.lstat(path).st_uid != uid:
                        os.lchown(path, uid, gid)

    def env_file(self, settings: dict[str, str]) -> None:
        template = (SOURCE / "deploy" / "env.example").read_text()
        path = self.layout.env_file
        if path.is_file():
            told = {key: value for key, value in settings.items() if key in self.explicit}
            diffs = env_differences(path.read_text(), template, told)
            for diff in diffs:
                self.j.note(f"{path} kept; {diff}")
            if (path.stat().st_mode & 0o777) != 0o600:
                self.j.change(f"set mode 600 of {path} (it holds secrets)")
                if not self.o.dry_run:
                    os.chmod(path, 0o600)
            return
        text, generated = render_env(template, settings)
        self.j.write(path, text, 0o600, what=f"{path} (mode 600; fresh {', '.join(generated)})")

    def audit_keys(self, settings: dict[str, str]) -> None:
        """The audit checkpoint key pair (docs/security.md, signed checkpoints): the private
        key in ``audit.env`` (mode 600, loaded only by the checkpoint and backup units), the
        public key in the env file the web server reads. Made once; an existing pair is kept."""
        path = self.layout.env_dir / "audit.env"
        if path.is_file():
            return
        if self.o.dry_run:
            self.j.change(f"generate the audit checkpoint key pair ({path}, mode 600)")
            return
        venv = self.layout.code / ".venv" / "bin"
        result = self._run(
            [str(venv / "dpa-panel"), "audit", "checkpoint", "--generate-key"],
            cwd=self.layout.code,
        )
        pair = dict(
            line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("DPA_")
        )
        self.j.write(
            path,
            "# Written by deploy/install.sh: the audit checkpoint signing key. Only the\n"
            "# checkpoint and backup units load it; keep a copy off this host.\n"
            f"DPA_AUDIT_KEY={pair['DPA_AUDIT_KEY']}\n",
            0o600,
            what=f"{path} (mode 600; fresh audit checkpoint key)",
        )
        if self.layout.env_file.is_file():
            self.j.note(
                f"{self.layout.env_file} kept: set DPA_AUDIT_PUBLIC_KEY="
                f"{pair['DPA_AUDIT_PUBLIC_KEY']} in it (the new key's public half)"
            )
        else:
            settings["DPA_AUDIT_PUBLIC_KEY"] = pair["DPA_AUDIT_PUBLIC_KEY"]

    def tls(self, host: str) -> tuple[Path | None, Path | None]:
        if self.o.proxy != "nginx":
            if self.o.tls_cert and self.o.tls_key:
                return Path(self.o.tls_cert), Path(self.o.tls_key)
            return None, None
        if self.o.tls_cert and self.o.tls_key:
            return Path(self.o.tls_cert), Path(self.o.tls_key)
        live = self.layout.p(f"/etc/letsencrypt/live/{host}")
        if (live / "fullchain.pem").exists():
            return live / "fullchain.pem", live / "privkey.pem"
        cert, key = self.layout.tls_dir / "selfsigned.crt", self.layout.tls_dir / "selfsigned.key"
        if not cert.exists():
            self.j.change(f"make a temporary self-signed certificate for {host} in {cert.parent}")
            if not self.o.dry_run:
                self.j.mkdir(self.layout.tls_dir, 0o700)
                self._run(
                    [
                        "openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "rsa:2048",
                        "-nodes",
                        "-days",
                        "30",
                        "-subj",
                        f"/CN={host}",
                        "-addext",
                        f"subjectAltName=DNS:{host}",
                        "-keyout",
                        str(key),
                        "-out",
                        str(cert),
                    ]
                )
                self.j.created.extend([cert, key])
                os.chmod(key, 0o600)
        self.selfsigned = True
        return cert, key

    def units(self) -> list[str]:
        _uid, _gid, group = self._ids()
        names = []
        for unit in sorted((SOURCE / "deploy" / "systemd").glob("*.service")) + sorted(
            (SOURCE / "deploy" / "systemd").glob("*.timer")
        ):
            text = render_unit(unit.read_text(), self.layout, self.o.user, group, self.o.app_port)
            self.j.write(self.layout.units / unit.name, text)
            names.append(unit.name)
        for stale in sorted(set(self.manifest.get("units", [])) - set(names)):
            path = self.layout.units / stale
            if path.exists():
                self.j.change(f"remove {path} (no longer in deploy/systemd)")
                if not self.o.dry_run:
                    path.unlink()
        return names

    def proxy_site(self, site: Site) -> dict:
        if self.o.proxy == "nginx":
            text = render_nginx(
                (SOURCE / "deploy" / "nginx" / "dpa-panel.conf").read_text(),
                site,
                self.layout,
                nginx_version(),
            )
            self.j.mkdir(self.layout.acme_root, 0o755)
            self._site_file(self.layout.nginx_site, text)
            self.j.symlink(self.layout.nginx_link, "../sites-available/dpa-panel")
            return {"site": str(self.layout.nginx_site), "link": str(self.layout.nginx_link)}
        text = render_caddy((SOURCE / "deploy" / "Caddyfile").read_text(), site)
        target = self.layout.caddyfile
        previous = self.manifest.get("proxy_files", {})
        info: dict = {"site": str(target)}
        force = False
        if previous.get("site") in (str(self.layout.caddyfile), str(self.layout.caddy_site)):
            target = Path(previous["site"])  # installed by an earlier run
            info = {k: v for k, v in previous.items() if k in ("site", "orig")}
        elif target.is_file():
            current = target.read_text()
            if caddyfile_is_stock(current):
                backup = target.with_name("Caddyfile.dpa-panel-orig")
                self.j.change(f"keep the package's Caddyfile as {backup}")
                if not self.o.dry_run:
                    shutil.copy2(target, backup)
                    self.j.created.append(backup)
                info["orig"] = str(backup)
                force = True
            else:
                target = self.layout.caddy_site
                info = {"site": str(target)}
        if target == self.layout.caddy_site:
            self.todo_extra.append(
                f"your {self.layout.caddyfile} serves other sites: add `import {target.name}` "
                "to it (and move its `email` line into your global options), then "
                "systemctl reload caddy"
            )
        self._site_file(target, text, force=force)
        return info

    def _site_file(self, path: Path, text: str, force: bool = False) -> None:
        """Install the proxy site; an existing one that differs is the administrator's (certbot
        edits nginx sites): kept, differences shown — unless it is still what this installer
        wrote last time (then it is updated)."""
        ours = self.manifest.get("proxy_sha", {}).get(str(path))
        self.proxy_sha = {str(path): sha(text)}
        if path.is_file() and not force:
            current = path.read_text()
            if current != text and sha(current) != ours:
                diff = "".join(
                    difflib.unified_diff(
                        text.splitlines(True),
                        current.splitlines(True),
                        f"{path} (this release)",
                        f"{path} (on this host)",
                        n=1,
                    )
                )
                self.j.note(f"{path} was edited on this host: kept. Differences:\n{diff}")
                self.proxy_sha = {str(path): ours} if ours else {}
                return
        self.j.write(path, text)

    def migrate(self) -> str:
        if self.o.dry_run:
            self.j.change("run the database migrations (dpa-panel migrate)")
            return ""
        venv = self.layout.code / ".venv" / "bin"
        result = self._run(
            [str(venv / "dpa-panel"), "migrate"],
            env=self.service_env(),
            as_service=True,
            cwd=self.layout.code,
        )
        return result.stdout.strip()

    def systemd(self, units: list[str], units_changed: bool, proxy_changed: bool) -> None:
        if not self.layout.is_real_host or not Path("/run/systemd/system").is_dir():
            why = "prefix install" if not self.layout.is_real_host else "systemd is not running"
            self.j.note(f"{why}: units installed in {self.layout.units}, not enabled or started")
            return
        if self.o.dry_run:
            return
        # Units with an [Install] section are started by boot (the app, the timers, any
        # long-running helper); the others are oneshots their timers start.
        enable = units_to_enable(self.layout, units)
        if units_changed:
            self._run(["systemctl", "daemon-reload"])
        self._run(["systemctl", "enable", "--now", *enable])
        if self.j.changes:
            services = [u for u in enable if u.endswith(".service")]
            self._run(["systemctl", "restart", *services])
        if proxy_changed:
            if self.o.proxy == "nginx":
                self._run(["nginx", "-t"])
                self._run(["systemctl", "reload-or-restart", "nginx"])
            else:
                self._run(["systemctl", "reload-or-restart", "caddy"])

    def doctor(self) -> None:
        if self.o.dry_run:
            return
        venv = self.layout.code / ".venv" / "bin"
        result = self._run(
            [str(venv / "dpa-panel"), "doctor"],
            env=self.service_env(),
            as_service=True,
            check=False,
            cwd=self.layout.code,
        )
        print("\n--- dpa-panel doctor ---")
        print((result.stdout + result.stderr).rstrip())
        self.doctor_output = result.stdout

    # -- the whole run --
    def install(self) -> int:
        settings = self.preflight()
        host, https_port = _origin(self.o.public_url)
        print(
            f"DPA Panel installer: prefix {self.layout.prefix}, proxy {self.o.proxy}, "
            f"{self.o.public_url}" + (" (dry run: nothing is changed)" if self.o.dry_run else "")
        )
        try:
            self.ensure_user()
            self.directories()
            code_files = self.sync_code()
            self.make_setup()
            self.writable_dirs()
            self.audit_keys(settings)
            self.env_file(settings)
            cert, key = self.tls(host)
            before = len(self.j.changes)
            units = self.units()
            units_changed = len(self.j.changes) > before
            site = Site(
                host, https_port, self.o.http_port, self.o.app_port, cert, key, self.o.acme_email
            )
            before = len(self.j.changes)
            proxy_files = self.proxy_site(site)
            proxy_changed = len(self.j.changes) > before
            migrated = self.migrate()
            if not self.o.dry_run:
                self._write_manifest(code_files, units, proxy_files)
        except (InstallError, OSError, subprocess.SubprocessError) as exc:
            if not self.o.dry_run:
                self.j.undo()
            raise InstallError(f"{exc}\nthis run's changes were undone") from exc
        if migrated:
            print(migrated)
        self.systemd(units, units_changed, proxy_changed)
        self.doctor()
        self.summary(host)
        return 0

    def _write_manifest(self, code_files: list[str], units: list[str], proxy: dict) -> None:
        previous = self.manifest
        data = {
            "source": str(SOURCE),
            "user": self.o.user,
            "proxy": self.o.proxy,
            "user_created": previous.get("user_created", self.j.created_user),
            "code_files": code_files,
            "units": units,
            "proxy_files": proxy,
            "proxy_sha": self.proxy_sha,
        }
        old_proxy = previous.get("proxy_files", {})
        if old_proxy and old_proxy.get("site") != proxy.get("site"):
            self._remove_proxy(old_proxy, previous.get("proxy", ""))
        if data != {k: previous.get(k) for k in data}:
            self.j.write(
                self.layout.manifest,
                json.dumps(data, indent=1) + "\n",
                0o600,
                what=f"{self.layout.manifest} (what --uninstall removes)",
            )

    def _remove_code(self, manifest: dict) -> None:
        """The copied files, the virtual environment and the build directories; the code
        directory itself when nothing else is left in it. A checkout used in place is kept."""
        code = self.layout.code
        if not code.exists():
            return
        if Path(manifest.get("source", "")) == code.resolve():
            self.j.note(f"{code} is the checkout the installer ran from: kept")
            return
        self.j.change(f"remove the code, its virtual environment and build files in {code}")
        if self.o.dry_run:
            return
        for name in manifest.get("code_files", []):
            (code / name).unlink(missing_ok=True)
        for name in (".venv", *WRITABLE_IN_CODE, *WRITABLE_FILES_IN_CODE, "dpa_panel.egg-info"):
            path = code / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        for directory in sorted((p for p in code.rglob("*") if p.is_dir()), reverse=True):
            if directory.name == "__pycache__":
                shutil.rmtree(directory)
            elif not any(directory.iterdir()):
                directory.rmdir()
        if any(code.iterdir()):
            left = ", ".join(sorted(p.name for p in code.iterdir())[:8])
            self.j.note(f"{code} kept: it holds files the installer did not put there ({left})")
        else:
            code.rmdir()

    def _remove_proxy(self, files: dict, proxy: str) -> None:
        for key in ("link", "site"):
            if key in files and (Path(files[key]).exists() or Path(files[key]).is_symlink()):
                self.j.change(f"remove the {proxy} site {files[key]}")
                if not self.o.dry_run:
                    Path(files[key]).unlink()
        if "orig" in files and Path(files["orig"]).exists() and proxy == "caddy":
            self.j.change(f"restore the package's Caddyfile from {files['orig']}")
            if not self.o.dry_run:
                os.replace(files["orig"], self.layout.caddyfile)

    def summary(self, host: str) -> None:
        real = [c for c in self.j.changes]
        print()
        if not real:
            print("Nothing changed: the installation is already up to date.")
        else:
            verb = "would change" if self.o.dry_run else "changed"
            print(f"{len(real)} step(s) {verb}.")
        env = read_env(self.layout.env_file.read_text()) if self.layout.env_file.is_file() else {}
        todo = [f"DNS: point the A/AAAA records of {host} at this host"]
        if self.o.proxy == "nginx":
            if self.selfsigned:
                todo.append(
                    f"certificate: a temporary self-signed one is in use; get a real one with\n"
                    f"      certbot certonly --webroot -w {self.layout.acme_root} -d {host}\n"
                    f"    then re-run this installer with --tls-cert/--tls-key (or edit "
                    f"{self.layout.nginx_site}) and reload nginx"
                )
            else:
                todo.append("certificate: check that renewal is scheduled (certbot.timer)")
        else:
            todo.append(
                "certificate: Caddy obtains it by itself once DNS points here and ports "
                "80 and 443 are reachable"
            )
        if "Republic of Kazakhstan, Almaty — host panel-db-1" in env.get("DPA_DATA_LOCATION", ""):
            todo.append(
                f"DPA_DATA_LOCATION in {self.layout.env_file} is still the example: "
                "state where the database and backups really are (policy clause 4.3)"
            )
        for key, value in env.items():
            if PLACEHOLDER in value and key.startswith(("DPA_", "REFLEX_")):
                todo.append(
                    f"{key} in {self.layout.env_file} still holds {PLACEHOLDER}: fill it in"
                )
        if self.o.proxy == "caddy" and env.get("ACME_EMAIL", "").endswith("example.kz"):
            todo.append("ACME_EMAIL: pass --acme-email (the Caddyfile has no contact address)")
        todo.extend(self.todo_extra)
        bin_ = self.layout.code / ".venv" / "bin" / "dpa-panel"
        todo += [
            "the first admin account:\n"
            f"      systemd-run --pipe --wait --uid={self.o.user} "
            f"-p EnvironmentFile={self.layout.env_file} {bin_} create-admin admin",
            "the organisation profile: log in as that admin, then /admin/organisation (name, "
            "BIN, data-protection e-mail, responsible person: doctor FAILs until complete), "
            "/admin/settings (data location, deployment checklist) and /policy-versions (the "
            "organisation's policy text)",
            f"the backup key: copy DPA_BACKUP_KEY from {self.layout.env_file} into the "
            "organisation's password safe (without it no backup can be restored)",
            "the first backup and retention sweep (doctor FAILs until they ran):\n"
            "      systemctl start dpa-panel-backup.service dpa-panel-sweep.service",
            f"then: {bin_} doctor --check-url (with the env file loaded) — every line PASS",
        ]
        print("\nStill to do by the administrator:")
        for number, item in enumerate(todo, 1):
            print(f"  {number}. {item}")

    # -- uninstall --
    def uninstall(self) -> int:
        layout = self.layout
        if os.geteuid() != 0 and not self.o.dry_run:
            raise InstallError(
                "run as root: removing the units, the code and the proxy site needs it"
            )
        manifest = self.manifest
        if not manifest:
            print(
                f"Nothing to remove: no installation by this installer under {layout.prefix} "
                f"({layout.manifest} not found)."
            )
            return 0
        units = manifest.get("units", [])
        if layout.is_real_host and Path("/run/systemd/system").is_dir() and not self.o.dry_run:
            active = [u for u in units if (layout.units / u).exists()]
            self._run(["systemctl", "disable", "--now", *active], check=False)
        for unit in units:
            path = layout.units / unit
            if path.exists():
                self.j.change(f"remove {path}")
                if not self.o.dry_run:
                    path.unlink()
        if layout.is_real_host and Path("/run/systemd/system").is_dir() and not self.o.dry_run:
            self._run(["systemctl", "daemon-reload"], check=False)
        self._remove_proxy(manifest.get("proxy_files", {}), manifest.get("proxy", ""))
        self._remove_code(manifest)
        # The signed audit checkpoints are evidence of the trail: kept, like the backups.
        leftovers = [p for p in layout.state.iterdir() if p.name != "audit"] if (
            layout.state.is_dir()) else []  # fmt: skip
        for path in (*leftovers, layout.tls_dir):
            if path.exists():
                self.j.change(f"remove {path}")
                if not self.o.dry_run:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        if not self.o.dry_run:
            layout.manifest.unlink(missing_ok=True)
        print("\nKept (never removed by --uninstall):")
        print("  - the database (DPA_DATABASE_URL): drop it yourself if you must")
        print(f"  - the backups in {layout.backups}")
        print(f"  - {layout.env_file}: it holds DPA_BACKUP_KEY, needed to restore those backups")
        print(f"  - {layout.env_dir / 'audit.env'} and {layout.state / 'audit'}: the audit "
              "checkpoint key and the signed checkpoints")  # fmt: skip
        print(f"  - the service user {manifest.get('user', self.o.user)} (it owns the backups)")
        return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deploy/install.sh", description="Install DPA Panel on this host (see docs/deploy.md)."
    )
    parser.add_argument("--prefix", default="/", help="install under this directory (default /)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change")
    parser.add_argument(
        "--uninstall",
        action="store_true",
        help="remove what was installed; keeps the database, backups, env file",
    )
    parser.add_argument("--proxy", choices=("nginx", "caddy"), default="nginx")
    parser.add_argument("--public-url", default="", help="https://your.host[:port] (first install)")
    parser.add_argument("--database-url", default="", help="postgresql://… (first install)")
    parser.add_argument("--redis-url", default="", help="default redis://127.0.0.1:6379/0")
    parser.add_argument("--user", default="dpa", help="service user (created when missing)")
    parser.add_argument("--app-port", type=int, default=3000, help="the app's loopback port")
    parser.add_argument("--http-port", type=int, default=80, help="the proxy's plain-http port")
    parser.add_argument("--tls-cert", default="", help="certificate (chain) file for the proxy")
    parser.add_argument("--tls-key", default="", help="its private key file")
    parser.add_argument("--acme-email", default="", help="Caddy: ACME contact address")
    parser.add_argument("--data-location", default="", help="DPA_DATA_LOCATION (policy 4.3)")
    parser.add_argument("--workers", type=int, default=None, help="DPA_WORKERS (default 2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.umask(0o022)
    args = parse_args(argv)
    options = Options(
        prefix=Path(args.prefix).resolve(),
        dry_run=args.dry_run,
        proxy=args.proxy,
        public_url=args.public_url,
        database_url=args.database_url,
        redis_url=args.redis_url,
        user=args.user,
        app_port=args.app_port,
        http_port=args.http_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        acme_email=args.acme_email,
        data_location=args.data_location,
        workers=args.workers,
    )
    installer = Installer(options)
    try:
        return installer.uninstall() if args.uninstall else installer.install()
    except InstallError as exc:
        print(f"install.sh: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
