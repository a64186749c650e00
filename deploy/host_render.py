"""What ``deploy/install.sh`` writes, as pure functions (no file system, no root): the env file
from ``deploy/env.example``, the systemd units, the nginx site and the Caddyfile for one host,
and the PostgreSQL/Redis probes run before anything is written. ``host_install.py`` does the
writing; ``tests/install`` test these directly and through the installer.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

PLACEHOLDER = "CHANGE-ME"
MARKER_RE = re.compile(r"#\s*generate:\s*([A-Za-z0-9_-]+)")
KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
#: Values made for ``# generate: <kind>`` lines of env.example (an unknown kind: "secret").
GENERATORS = {
    # 64 URL-safe characters (DPA_SECRET_KEY needs >= 32).
    "secret": lambda: secrets.token_urlsafe(48),
    # 32 random bytes, URL-safe base64: the format of DPA_BACKUP_KEY (services/backup.py).
    "base64-32": lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"),
    "password": lambda: secrets.token_urlsafe(24),
    "hex-32": lambda: secrets.token_hex(32),
}
NGINX_HTTP2_DIRECTIVE = (1, 25, 1)  # `http2 on;` exists from nginx 1.25.1


@dataclass(frozen=True)
class Layout:
    """Where everything goes under ``prefix`` (``/`` on a real host)."""

    prefix: Path

    def p(self, path: str) -> Path:
        return self.prefix / path.lstrip("/")

    @property
    def code(self) -> Path:
        return self.p("/opt/dpa-panel")

    @property
    def env_dir(self) -> Path:
        return self.p("/etc/dpa-panel")

    @property
    def env_file(self) -> Path:
        return self.env_dir / "env"

    @property
    def manifest(self) -> Path:
        return self.env_dir / "installed.json"

    @property
    def tls_dir(self) -> Path:
        return self.env_dir / "tls"

    @property
    def state(self) -> Path:
        return self.p("/var/lib/dpa-panel")

    @property
    def backups(self) -> Path:
        return self.p("/var/backups/dpa-panel")

    @property
    def units(self) -> Path:
        return self.p("/etc/systemd/system")

    @property
    def acme_root(self) -> Path:
        return self.p("/var/www/letsencrypt")

    @property
    def nginx_site(self) -> Path:
        return self.p("/etc/nginx/sites-available/dpa-panel")

    @property
    def nginx_link(self) -> Path:
        return self.p("/etc/nginx/sites-enabled/dpa-panel")

    @property
    def caddyfile(self) -> Path:
        return self.p("/etc/caddy/Caddyfile")

    @property
    def caddy_site(self) -> Path:
        """Where the site goes when the host's Caddyfile already serves other sites."""
        return self.p("/etc/caddy/dpa-panel.caddy")

    @property
    def is_real_host(self) -> bool:
        return self.prefix == Path("/")


# --- env file --------------------------------------------------------------------------------


@dataclass
class EnvLine:
    text: str
    key: str | None = None
    value: str = ""
    generate: str | None = None


def parse_env_template(text: str) -> list[EnvLine]:
    """env.example as lines; a ``# generate: kind`` comment marks the next ``KEY=`` line (an
    inline ``KEY=value  # generate: kind`` works too and the marker is dropped)."""
    lines, pending = [], None
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            if match := MARKER_RE.match(stripped):
                pending = match.group(1)
            lines.append(EnvLine(raw))
            continue
        match = KEY_RE.match(stripped)
        if not match:
            lines.append(EnvLine(raw))
            pending = None if not stripped else pending
            continue
        key, value = match.groups()
        if inline := MARKER_RE.search(value):
            pending = inline.group(1)
            value = value[: inline.start()].rstrip()
        lines.append(EnvLine(raw, key, value, pending))
        pending = None
    return lines


def read_env(text: str) -> dict[str, str]:
    """KEY=VALUE pairs as systemd's EnvironmentFile reads them (comments skipped, one level of
    surrounding quotes removed)."""
    values = {}
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if match := KEY_RE.match(stripped):
            key, value = match.groups()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key] = value
    return values


def render_env(template: str, settings: dict[str, str]) -> tuple[str, list[str]]:
    """The new env file: generated secrets, ``settings`` filled in (appended when the template
    has no active line for them). Returns the text and the generated keys."""
    out, generated, seen = [], [], set()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"# Written by deploy/install.sh on {stamp} from deploy/env.example.")
    out.append("# Yours from now on: re-running the installer keeps it and reports differences.")
    for line in parse_env_template(template):
        if line.key is None:
            out.append(line.text)
            continue
        seen.add(line.key)
        if line.key in settings:
            value = settings[line.key]
        elif line.generate:
            maker = GENERATORS.get(line.generate, GENERATORS["secret"])
            value = maker()
            generated.append(line.key)
        else:
            value = line.value
        out.append(f"{line.key}={value}")
    extra = [key for key in settings if key not in seen]
    if extra:
        out.append("")
        out.append("# --- set by deploy/install.sh for this host ---")
        out.extend(f"{key}={settings[key]}" for key in extra)
    return "\n".join(out) + "\n", generated


def env_differences(existing: str, template: str, settings: dict[str, str]) -> list[str]:
    """What a hand-edited env file lacks or says differently (no secret values printed)."""
    have = read_env(existing)
    notes = []
    for line in parse_env_template(template):
        if line.key and line.key not in have:
            how = f"a fresh value (# generate: {line.generate})" if line.generate else line.value
            notes.append(f"{line.key} is missing (env.example has it; add it with {how})")
    for key, wanted in settings.items():
        if key in have and have[key] != wanted:
            notes.append(
                f"{key} is {mask(have[key])!r} in the file; this run would set {mask(wanted)!r}"
            )
        elif key not in have:
            notes.append(f"{key} is missing; this run would set {mask(wanted)!r}")
    for key, value in have.items():
        if PLACEHOLDER in value and (key.startswith("DPA_") or key.startswith("REFLEX_")):
            notes.append(f"{key} still holds the {PLACEHOLDER} placeholder")
    return notes


def mask(value: str) -> str:
    """A URL's password replaced by ***; other values unchanged."""
    parts = urlsplit(value)
    if parts.scheme and parts.password:
        return value.replace(f":{parts.password}@", ":***@", 1)
    return value


# --- rendering units and proxy sites ---------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The public side: host, ports, upstream and certificate paths."""

    host: str
    https_port: int
    http_port: int
    app_port: int
    cert: Path | None = None
    key: Path | None = None
    acme_email: str = ""

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.app_port}"


def render_unit(text: str, layout: Layout, user: str, group: str, app_port: int) -> str:
    """A unit of deploy/systemd with the prefix's paths, the service user and the app port."""
    for path, target in (
        ("/opt/dpa-panel", layout.code),
        ("/etc/dpa-panel", layout.env_dir),  # env, and audit.env (the checkpoint signing key)
        ("/var/backups/dpa-panel", layout.backups),
        ("/var/lib/dpa-panel", layout.state),
    ):
        text = text.replace(path, str(target))
    text = re.sub(r"(?m)^User=.*$", f"User={user}", text)
    text = re.sub(r"(?m)^Group=.*$", f"Group={group}", text)
    return re.sub(r"\bDPA_PORT=\d+", f"DPA_PORT={app_port}", text)


def nginx_version(binary: str | None = None) -> tuple[int, ...] | None:
    binary = binary or shutil.which("nginx") or "/usr/sbin/nginx"
    try:
        result = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr + result.stdout)
    return tuple(int(part) for part in match.groups()) if match else None


def render_nginx(text: str, site: Site, layout: Layout, version: tuple[int, ...] | None) -> str:
    """deploy/nginx/dpa-panel.conf for this host. ``listen … ssl http2`` loads on every nginx
    from 1.9.5 (Debian 12: 1.22.1, Ubuntu 24.04: 1.24.0); nginx 1.25.1+ deprecates it in favour
    of ``http2 on;``, which the installer then writes instead."""
    new_http2 = version is not None and version >= NGINX_HTTP2_DIRECTIVE
    redirect_port = "" if site.https_port == 443 else f":{site.https_port}"
    out = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        stripped = line.strip()
        if match := re.fullmatch(r"listen (\[::\]:)?443 ssl http2;", stripped):
            address = f"{match.group(1) or ''}{site.https_port}"
            if new_http2:
                out.append(f"{indent}listen {address} ssl;")
                if not match.group(1):
                    out.append(f"{indent}http2 on;")
            else:
                out.append(f"{indent}listen {address} ssl http2;")
            continue
        if match := re.fullmatch(r"listen (\[::\]:)?80;", stripped):
            out.append(f"{indent}listen {match.group(1) or ''}{site.http_port};")
            continue
        line = line.replace("panel.example.kz", site.host)
        line = line.replace("server 127.0.0.1:3000;", f"server {site.upstream};")
        line = line.replace(
            "https://$host$request_uri", f"https://$host{redirect_port}$request_uri"
        )
        line = line.replace("root /var/www/letsencrypt;", f"root {layout.acme_root};")
        if stripped.startswith("ssl_certificate ") and site.cert:
            line = f"{indent}ssl_certificate     {site.cert};"
        elif stripped.startswith("ssl_certificate_key ") and site.key:
            line = f"{indent}ssl_certificate_key {site.key};"
        out.append(line)
    return "\n".join(out) + "\n"


def render_caddy(text: str, site: Site) -> str:
    """deploy/Caddyfile with the placeholders filled (Debian's caddy.service does not read the
    panel's env file). Loads on Caddy 2.6.2 (Debian 12, Ubuntu 24.04) and later."""
    address = site.host if site.https_port == 443 else f"{site.host}:{site.https_port}"
    text = text.replace("{$DPA_DOMAIN}", address).replace("{$DPA_UPSTREAM}", site.upstream)
    global_lines = []
    if site.acme_email:
        text = text.replace("{$ACME_EMAIL}", site.acme_email)
    else:
        text = re.sub(r"(?m)^\s*email \{\$ACME_EMAIL\}\n", "", text)
    if site.http_port != 80:
        global_lines.append(f"\thttp_port {site.http_port}")
    if global_lines:
        text = text.replace("{\n", "{\n" + "\n".join(global_lines) + "\n", 1)
    if site.cert and site.key:
        text = text.replace(f"{address} {{\n", f"{address} {{\n\ttls {site.cert} {site.key}\n", 1)
    return text


def caddyfile_is_stock(text: str) -> bool:
    """The Caddyfile Debian's package ships (a welcome page on :80) — safe to replace."""
    body = "".join("".join(line.split("#", 1)[0].split()) for line in text.splitlines())
    return body in ("", ":80{root*/usr/share/caddyfile_server}")


# --- probes ----------------------------------------------------------------------------------


def probe_postgres(url: str, timeout: float = 3) -> str | None:
    """None when something accepts connections where ``url`` points; otherwise why not."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return f"DPA_DATABASE_URL must be a postgresql:// URL (got {parts.scheme or 'none'}://)"
    host = unquote(parts.hostname or "")
    port = parts.port or 5432
    if not host or host.startswith("/"):
        sock_path = Path(host or "/var/run/postgresql") / f".s.PGSQL.{port}"
        return None if sock_path.exists() else f"no PostgreSQL socket at {sock_path}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"PostgreSQL at {host}:{port} does not answer ({exc.strerror or exc})"


def probe_redis(url: str, timeout: float = 3) -> str | None:
    """None when Redis at ``url`` answers PING (after AUTH when the URL has a password)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if parts.password:
                user = unquote(parts.username or "")
                args = [user, unquote(parts.password)] if user else [unquote(parts.password)]
                sock.sendall(_resp("AUTH", *args))
                reply = sock.recv(256)
                if not reply.startswith(b"+OK"):
                    return f"Redis at {host}:{port} refused the password"
            sock.sendall(_resp("PING"))
            reply = sock.recv(256)
    except OSError as exc:
        return f"Redis at {host}:{port} does not answer ({exc.strerror or exc})"
    if not reply.startswith(b"+PONG"):
        return f"Redis at {host}:{port} answered {reply[:60]!r} to PING"
    return None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _resp(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
