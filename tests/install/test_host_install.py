"""The host install, end to end: ``deploy/install.sh`` into a scratch prefix, then the installed
app behind Debian's own nginx with a self-signed certificate (issue 22).

1. the installer runs into a temporary prefix (no systemd here: it installs the units without
   enabling them), creating its service user, against a fresh PostgreSQL database and Redis;
2. ``nginx -t`` (Debian's nginx, inside Debian's own nginx.conf) and ``systemd-analyze verify``
   pass on what it installed;
3. the app is started exactly as its installed unit says (ExecStart, Environment,
   EnvironmentFile, WorkingDirectory, User) and nginx in front of it on local ports; through
   the proxy: ``/healthz``, the security headers, a login (password over the websocket, ticket
   exchanged over https), the websocket with the session, a foreign ``Origin`` refused;
4. a second run changes nothing; a hand-edited env file is kept and its differences reported;
5. the installer re-run with ``--proxy caddy`` replaces the nginx site by a Caddyfile that
   ``caddy validate`` accepts and that Debian's Caddy serves: headers, redirect, login and
   websocket again;
6. ``--uninstall`` removes the install and keeps the database, the backups and the env file.

The tests run in file order (each step starts from the previous one). Skipped, saying why, when
not root, without PostgreSQL/Redis, or without Debian's nginx/caddy packages (`make
system-deps` installs them). The frontend build is the slow part: an existing ``.web`` of this
checkout (browser tests build one) or of the previous run is reused.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from dpa_panel import loadtest
from dpa_panel.loadtest import EventClient, EventError, state_name, var_values
from tests.dbutil import fresh_database, pg_unavailable_reason
from tests.install.helpers import ROOT, SYSTEM_PYTHON, binary, deploy_module, run_installer

render = deploy_module("host_render")

SERVICE_USER = "dpa-itest"
REDIS_URL = "redis://127.0.0.1:6379/11"
ADMIN, ADMIN_PASSWORD = "itest-admin", "install-test-password-2026"
STARTUP_SECONDS = 420
#: Where the built frontend (.web with node_modules) is kept between runs.
WEB_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dpa-panel-tests/web"
#: The host's network settings (proxy, CA bundle) that the app's npm build needs here; an
#: administrator puts the same into the env file when the host needs them.
NETWORK_ENV = ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "HTTP_PROXY",
               "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")  # fmt: skip


def _skip_reason() -> str | None:
    missing = [name for name in ("nginx", "caddy", "systemd-analyze", "openssl", "setpriv")
               if binary(name) is None]  # fmt: skip
    if missing:
        return (
            f"Debian packages missing: {', '.join(missing)} — run `make system-deps` as root "
            "(apt-get install nginx caddy)"
        )
    if os.geteuid() != 0:
        return "the host install test runs the installer as root (this run is not root)"
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} (Debian's python3) missing"
    return pg_unavailable_reason() or loadtest.redis_unavailable_reason(REDIS_URL)


@dataclass
class Host:
    prefix: Path
    layout: object
    db_url: str
    public_url: str
    https_port: int
    http_port: int
    app_port: int
    cert: Path
    key: Path
    first_run: subprocess.CompletedProcess
    args: list[str]

    @property
    def units(self) -> list[Path]:
        return sorted(self.layout.units.glob("*.service")) + sorted(
            self.layout.units.glob("*.timer")
        )


def _self_signed(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _reuse_frontend(code: Path) -> str:
    """Pre-fill the code directory's .web (the installer keeps it and hands it to the service
    user); Reflex reinstalls node_modules only when its package.json changed."""
    for source in (ROOT / ".web", WEB_CACHE):
        if (source / "node_modules").is_dir():
            code.mkdir(parents=True)
            subprocess.run(["cp", "-a", str(source), str(code / ".web")], check=True)
            return f"reused {source}"
    return "no frontend build to reuse: a full build"


def _save_frontend(code: Path) -> None:
    if WEB_CACHE.exists() or not (code / ".web" / "node_modules").is_dir():
        return
    WEB_CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = WEB_CACHE.with_name(f"web-{uuid.uuid4().hex[:6]}")
    subprocess.run(["cp", "-a", str(code / ".web"), str(partial)], check=True)
    subprocess.run(["chown", "-R", f"{os.geteuid()}:{os.getegid()}", str(partial)], check=True)
    partial.rename(WEB_CACHE)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    if reason := _skip_reason():
        pytest.skip(f"host install test skipped: {reason}")
    # A user left by an interrupted run would hide the installer's "create the user" step.
    subprocess.run(["userdel", SERVICE_USER], capture_output=True)
    # Under /var/tmp, world-traversable: the service user must reach its files (pytest's own
    # temporary directory is private to root).
    prefix = Path(tempfile.mkdtemp(prefix="dpa-install-", dir="/var/tmp"))
    prefix.chmod(0o755)
    layout = render.Layout(prefix)
    cert, key = _self_signed(prefix / "test-tls")
    reuse = _reuse_frontend(layout.code)
    ports = [loadtest.free_port() for _ in range(3)]
    https_port, http_port, app_port = ports
    public_url = f"https://127.0.0.1:{https_port}"
    try:
        with fresh_database("postgresql", tmp_path_factory.mktemp("db")) as db_url:
            args = [
                "--prefix", prefix, "--public-url", public_url, "--database-url", db_url,
                "--redis-url", REDIS_URL, "--user", SERVICE_USER, "--proxy", "nginx",
                "--app-port", app_port, "--http-port", http_port,
                "--tls-cert", cert, "--tls-key", key,
            ]  # fmt: skip
            started = time.monotonic()
            first = run_installer(*args)
            print(f"\ninstaller: {time.monotonic() - started:.0f} s ({reuse})")
            assert first.returncode == 0, first.stdout[-6000:]
            yield Host(prefix, layout, db_url, public_url, https_port, http_port, app_port,
                       cert, key, first, [str(a) for a in args])  # fmt: skip
    finally:
        started = time.monotonic()
        shutil.rmtree(prefix, ignore_errors=True)
        subprocess.run(["userdel", SERVICE_USER], capture_output=True)
        print(f"\nhost teardown: {time.monotonic() - started:.0f} s")


# --- reading the installed unit, starting app and proxy ---------------------------------------


def unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            name, value = line.split("=", 1)
            settings.setdefault(name.strip(), []).append(value.strip())
    return settings


def service_environment(host: Host, unit: Path) -> dict[str, str]:
    """What systemd would give the unit's process: Environment=, then EnvironmentFile=."""
    settings = unit_settings(unit)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update({k: os.environ[k] for k in NETWORK_ENV if k in os.environ})
    for assignment in settings.get("Environment", []):
        for item in shlex.split(assignment):
            name, value = item.split("=", 1)
            env[name] = value
    for env_file in settings.get("EnvironmentFile", []):
        env.update(render.read_env(Path(env_file.lstrip("-")).read_text()))
    return env


def run_as_service(host: Host, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A command the way the administrator runs one with the unit's environment and user."""
    unit = host.layout.units / "dpa-panel.service"
    user = pwd.getpwnam(unit_settings(unit)["User"][0])
    env = {**service_environment(host, unit), **kwargs.pop("extra_env", {})}
    return subprocess.run(
        command, env=env, cwd=unit_settings(unit)["WorkingDirectory"][0], user=user.pw_uid,
        group=user.pw_gid, extra_groups=[], capture_output=True, text=True, timeout=120, **kwargs,
    )  # fmt: skip


def nginx_conf(host: Host) -> Path:
    """Debian's own /etc/nginx/nginx.conf, including the installed sites-enabled instead of the
    system's, with its pid and logs in the prefix."""
    run = host.prefix / "test-nginx"
    run.mkdir(exist_ok=True)
    lines = []
    for line in Path("/etc/nginx/nginx.conf").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("pid "):
            line = f"pid {run}/nginx.pid;"
        elif stripped.startswith("error_log "):
            line = f"error_log {run}/error.log;"
        elif stripped.startswith("access_log "):
            line = f"access_log {run}/access.log;"
        elif stripped == "include /etc/nginx/sites-enabled/*;":
            line = f"include {host.layout.nginx_link.parent}/*;"
        lines.append(line)
    conf = run / "nginx.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def tls_context(host: Host) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(host.cert))


@dataclass
class Served:
    url: str
    app_log: Path
    proxy_log: Path
    doctor: str = ""

    def diagnostics(self) -> str:
        """Printed when the app or the proxy does not come up."""
        tail = self.app_log.read_text()[-3000:] if self.app_log.exists() else ""
        errors = self.proxy_log.read_text()[-1500:] if self.proxy_log.exists() else ""
        return (
            f"\n--- app log ---\n{tail}\n--- proxy log ---\n{errors}"
            f"\n--- dpa-panel doctor (at install) ---\n{self.doctor}"
        )


# --- 1-2: what the installer wrote ---------------------------------------------------------------


def test_installer_reports_every_step_doctor_and_what_is_left(host):
    out = host.first_run.stdout
    assert f"create system user {SERVICE_USER}" in out
    assert "--- dpa-panel doctor ---" in out and "PASS  migrations" in out, out[-3000:]
    assert "Still to do by the administrator" in out
    for todo in ("DNS:", "certificate", "create-admin", "organisation profile", "DPA_BACKUP_KEY"):
        assert todo in out, todo
    env_file = host.layout.env_file
    assert env_file.stat().st_mode & 0o777 == 0o600
    values = render.read_env(env_file.read_text())
    assert values["DPA_PUBLIC_URL"] == host.public_url
    for line in render.parse_env_template((ROOT / "deploy/env.example").read_text()):
        if line.generate:
            assert render.PLACEHOLDER not in values[line.key], line.key
    installed = {p.name for p in host.units}
    shipped = {p.name for p in (ROOT / "deploy/systemd").glob("*.service")}
    shipped |= {p.name for p in (ROOT / "deploy/systemd").glob("*.timer")}
    assert installed == shipped
    assert host.layout.nginx_link.resolve() == host.layout.nginx_site
    code_owner = host.layout.code.stat().st_uid
    assert code_owner == 0, "the code belongs to root; the service only writes its build dirs"
    assert (host.layout.code / ".web").stat().st_uid == pwd.getpwnam(SERVICE_USER).pw_uid


def test_nginx_accepts_the_installed_site(host):
    result = subprocess.run(
        [binary("nginx"), "-t", "-c", str(nginx_conf(host))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    version = render.nginx_version()
    print(f"nginx {'.'.join(map(str, version))}: {result.stderr.strip().splitlines()[-1]}")


def test_systemd_analyze_verifies_the_installed_units(host):
    result = subprocess.run(
        [binary("systemd-analyze"), "verify", *map(str, host.units)],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    # Any warning counts (a missing executable or path, an unknown directive, a bad user).
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


# --- 3: the installed app behind nginx ---------------------------------------------------------


def _doctor_output(host: Host) -> str:
    out = host.first_run.stdout
    return out[out.find("--- dpa-panel doctor ---") :].split("Still to do")[0]


class App:
    """The installed app, started as its unit says (ExecStart, Environment, EnvironmentFile,
    WorkingDirectory, User); it serves the whole module until ``stop``."""

    def __init__(self, host: Host) -> None:
        unit = host.layout.units / "dpa-panel.service"
        settings = unit_settings(unit)
        user = pwd.getpwnam(settings["User"][0])
        self.log = host.prefix / "test-app.log"
        self.url = f"http://127.0.0.1:{host.app_port}"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                shlex.split(settings["ExecStart"][0]), cwd=settings["WorkingDirectory"][0],
                env=service_environment(host, unit), user=user.pw_uid, group=user.pw_gid,
                extra_groups=[], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            _stop(self.proc)


def wait_until_served(url: str, host: Host, procs: dict, diagnostics) -> float:
    """Poll ``url`` (through the proxy) until it answers 200; fail early when a process died."""
    started = time.monotonic()
    while True:
        for name, proc in procs.items():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited" + diagnostics())
        try:
            if httpx.get(url, verify=tls_context(host), timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > STARTUP_SECONDS:
            pytest.fail(f"{url} did not answer" + diagnostics())
        time.sleep(1)


#: Public events in a row that must each answer (through the proxy, over wss://) before the
#: app counts as served. Later events take 0.05-0.4 s, but the first tab after a start has
#: waited over 10 s (a CI run: the namespace never connected) and once about 60 s (a local run)
#: before answering; the cause is not found yet (docs/deploy.md), so the tests that check what
#: is served start once events answer, and the fixture prints how long that took.
WARM_EVENTS = 4


def wait_until_events_served(url: str, diagnostics) -> tuple[float, list[str]]:
    """Open a tab and run the public form's load event until ``WARM_EVENTS`` succeed in a row;
    fail (with the logs) after ``STARTUP_SECONDS``. Returns the time taken and each attempt's
    outcome (printed: a slow first event after a start is worth seeing, not hiding)."""
    started, in_a_row, attempts = time.monotonic(), 0, []
    apply_state = state_name("dpa_panel.state.apply_state", "ApplyState")
    while in_a_row < WARM_EVENTS:
        began = time.monotonic()
        try:
            with EventClient(url, origin=url, timeout=60) as tab:
                updates, _ = tab.call(f"{apply_state}.load", path="/apply", timeout=60)
            ok = bool(var_values(updates, "policy_label"))
            in_a_row = in_a_row + 1 if ok else 0
            attempts.append(f"{'ok' if ok else 'no form'} {time.monotonic() - began:.2f} s")
        except EventError as exc:
            in_a_row = 0
            attempts.append(f"failed after {time.monotonic() - began:.1f} s: {exc}")
        if in_a_row < WARM_EVENTS and time.monotonic() - started > STARTUP_SECONDS:
            pytest.fail(f"events through {url} did not answer: {attempts}" + diagnostics())
    return time.monotonic() - started, attempts


@pytest.fixture(scope="module")
def app(host):
    started = App(host)
    os.environ["WEBSOCKET_CLIENT_CA_BUNDLE"] = str(host.cert)  # wss:// trusts the test cert
    try:
        yield started
    finally:
        os.environ.pop("WEBSOCKET_CLIENT_CA_BUNDLE", None)
        started.stop()


@pytest.fixture(scope="class")
def served(host, app):
    """nginx (Debian's package, Debian's nginx.conf) in front of the installed app."""
    conf = nginx_conf(host)
    nginx = subprocess.Popen(
        [binary("nginx"), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    served = Served(host.public_url, app.log, conf.parent / "error.log", _doctor_output(host))
    try:
        took = wait_until_served(f"{host.public_url}/", host, {"the app": app.proc, "nginx": nginx},
                                 served.diagnostics)  # fmt: skip
        print(f"\napp built and answering through nginx after {took:.0f} s")
        warm, attempts = wait_until_events_served(host.public_url, served.diagnostics)
        print(f"its events answered {WARM_EVENTS} times in a row after {warm:.1f} s more"
              f" ({'; '.join(attempts)})")  # fmt: skip
        _save_frontend(host.layout.code)
        yield served
    finally:
        _stop(nginx)


class TestServedBehindNginx:
    def test_healthz_and_security_headers_through_the_proxy(self, host, served):
        tls = tls_context(host)
        health = httpx.get(f"{served.url}/healthz", verify=tls)
        moved = httpx.get(f"{served.url}/login", verify=tls)
        page = httpx.get(f"{served.url}/login/", verify=tls)
        shown = f"\n/healthz: {dict(health.headers)}\n/login/: {dict(page.headers)}"
        # The app's own redirect stays on the public https origin (port included).
        assert moved.status_code in (301, 302, 307, 308), shown
        assert moved.headers["location"] == f"{served.url}/login/", dict(moved.headers)
        assert health.status_code == 200, health.text + shown
        assert health.json()["database"]["migrations_at_head"] is True
        assert health.json()["redis"]["ok"] is True
        assert health.headers["referrer-policy"] == "no-referrer", shown  # the app's own kept
        assert page.status_code == 200, shown
        csp = page.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, shown
        assert "max-age=31536000" in page.headers.get("strict-transport-security", ""), shown
        assert page.headers.get("x-content-type-options") == "nosniff", shown
        assert page.headers.get("x-frame-options") == "DENY", shown
        assert page.headers.get("referrer-policy") == "strict-origin-when-cross-origin", shown
        assert "camera=()" in page.headers.get("permissions-policy", ""), shown
        assert page.http_version in ("HTTP/1.1", "HTTP/2")
        plain = httpx.get(f"http://127.0.0.1:{host.http_port}/login", follow_redirects=False)
        assert plain.status_code == 301
        assert plain.headers["location"] == f"{served.url}/login"

    def test_login_and_websocket_through_the_proxy(self, host, served):
        created = run_as_service(
            host,
            [str(host.layout.code / ".venv/bin/dpa-panel"), "create-admin", ADMIN],
            input=ADMIN_PASSWORD + "\n",
        )
        assert created.returncode == 0, created.stdout + created.stderr
        cookie = log_in(host, served.url, ADMIN, ADMIN_PASSWORD)
        auth = state_name("dpa_panel.state.auth_state", "AuthState")
        with EventClient(served.url, cookie=cookie, origin=served.url) as tab:
            updates, _ = tab.call(f"{auth}.load_identity", {}, path="/admin/users")
        assert var_values(updates, "me_username") == [ADMIN], updates

    def test_only_the_public_origin_opens_the_websocket_through_the_proxy(self, host, served):
        """The websocket (the app's only Socket.IO transport) through the proxy: a page of
        another site cannot open it; credentialed CORS is granted to the public origin only."""
        with pytest.raises(EventError, match="connect failed"):
            EventClient(served.url, origin="https://evil.example")
        with pytest.raises(EventError, match="connect failed"):
            EventClient(served.url, origin=served.url.replace("127.0.0.1", "localhost"))
        with EventClient(served.url, origin=served.url) as tab:  # the control, over wss://
            apply_state = state_name("dpa_panel.state.apply_state", "ApplyState")
            updates, _ = tab.call(f"{apply_state}.load", path="/apply", timeout=60)
        assert var_values(updates, "policy_label"), "the public origin is served"
        tls = tls_context(host)
        foreign = httpx.get(f"{served.url}/ping", headers={"Origin": "https://evil.example"},
                            verify=tls)  # fmt: skip
        own = httpx.get(f"{served.url}/ping", headers={"Origin": served.url}, verify=tls)
        assert "access-control-allow-origin" not in foreign.headers, dict(foreign.headers)
        assert own.headers.get("access-control-allow-origin") == served.url, dict(own.headers)

    def test_doctor_checks_the_headers_through_the_proxy(self, host, served):
        result = run_as_service(
            host,
            [str(host.layout.code / ".venv/bin/dpa-panel"), "doctor", "--check-url"],
            extra_env={"SSL_CERT_FILE": str(host.cert)},
        )
        out = result.stdout + result.stderr
        print(out)
        for item in ("header CSP", "header HSTS", "header nosniff", "header referrer"):
            assert f"PASS  {item}" in out, out
        assert "PASS  https origin" in out and "PASS  redis" in out, out


#: Second-factor keys the login test set up (an admin must enrol right after the password),
#: and the last 30-second step each one used (a code is accepted once per account).
_TOTP: dict[str, tuple[str, int]] = {}


def _next_code(username: str) -> str:
    import pyotp

    secret, used = _TOTP[username]
    step = max(int(time.time()) // 30, used + 1)
    while step > int(time.time()) // 30 + 1:  # both usable steps spent: wait for the clock
        time.sleep(0.5)
    _TOTP[username] = (secret, step)
    return pyotp.TOTP(secret).generate_otp(step)


def log_in(host: Host, url: str, username: str, password: str) -> str:
    """A browser's login through the proxy: the password event over wss://, the second factor
    (set up on the first login, a code later), then the one-time ticket posted over https from
    the same origin with the ``dpa_browser`` cookie it is bound to (kept in one place: the
    ticket redemption is the step most likely to change)."""
    import pyotp

    auth = state_name("dpa_panel.state.auth_state", "AuthState")
    browser = uuid.uuid4().hex

    def ticket_or_step(ups: list[dict]) -> bool:
        return bool(loadtest.TICKET_RE.search(json.dumps(ups))) or any(
            step in ("code", "enrol") for step in var_values(ups, "login_step")
        )

    with EventClient(url, origin=url, cookie=f"dpa_browser={browser}") as tab:
        tab.call(f"{auth}.login", {"form_data": {"username": username, "password": password}},
                 path="/login")  # fmt: skip
        tab.wait_for(ticket_or_step)
        steps = var_values(tab.updates, "login_step")
        if "enrol" in steps:
            secret = next(v for v in var_values(tab.updates, "enrol_secret") if v)
            secret = secret.replace(" ", "")
            step = int(time.time()) // 30
            _TOTP[username] = (secret, step)
            code = pyotp.TOTP(secret).generate_otp(step)
            tab.call(f"{auth}.confirm_enrolment", {"form_data": {"code": code}}, path="/login")
            tab.call(f"{auth}.finish_enrolment", {}, path="/login")
        elif "code" in steps:
            tab.call(f"{auth}.submit_code", {"form_data": {"code": _next_code(username)}},
                     path="/login")  # fmt: skip
        tab.wait_for(lambda ups: bool(loadtest.TICKET_RE.search(json.dumps(ups))))
        match = loadtest.TICKET_RE.search(json.dumps(tab.updates))
    assert match, f"no login ticket for {username}: {tab.updates[-3:]}"
    response = httpx.post(
        f"{url}/api/auth/complete", data={"t": match.group(1)},
        headers={"Origin": url, "Cookie": f"dpa_browser={browser}"},
        verify=tls_context(host), follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, (response.status_code, dict(response.headers))
    set_cookie = response.headers.get("set-cookie", "")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie, set_cookie
    return f"dpa_session={response.cookies['dpa_session']}"


# --- 4: re-run, hand edits, proxy switch, uninstall --------------------------------------------


def _snapshot(host: Host) -> dict[str, float]:
    files = [host.layout.env_file, host.layout.nginx_site, *host.units, host.layout.manifest]
    return {str(p): p.stat().st_mtime_ns for p in files}


def test_a_second_run_changes_nothing_and_says_so(host):
    before = _snapshot(host)
    again = run_installer(*host.args)
    assert again.returncode == 0, again.stdout[-4000:]
    changed = [line for line in again.stdout.splitlines() if line.startswith("done:")]
    assert not changed, changed
    assert "Nothing changed: the installation is already up to date." in again.stdout
    assert _snapshot(host) == before


def test_a_hand_edited_env_file_is_kept_and_its_differences_reported(host):
    env_file = host.layout.env_file
    original = env_file.read_text()
    edited = "\n".join(
        line for line in original.splitlines() if not line.startswith("DPA_WORKERS=")
    )
    edited = edited.replace(host.public_url, "https://typo.example.kz") + "\n# my note\n"
    env_file.write_text(edited)
    try:
        again = run_installer(*host.args)
        assert again.returncode == 0, again.stdout[-4000:]
        assert env_file.read_text() == edited
        assert "DPA_WORKERS is missing" in again.stdout
        assert "DPA_PUBLIC_URL is 'https://typo.example.kz' in the file" in again.stdout
        secret = render.read_env(original)["DPA_SECRET_KEY"]
        assert secret not in again.stdout
    finally:
        env_file.write_text(original)


def _caddy_env(host: Host) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(host.prefix / "test-caddy"),
            "XDG_CONFIG_HOME": str(host.prefix / "test-caddy")}  # fmt: skip


@pytest.fixture(scope="class")
def caddy_front(host, app):
    """The installer re-run with ``--proxy caddy``, then Debian's Caddy serving the installed
    Caddyfile (its admin endpoint off: Debian's own caddy.service may hold port 2019)."""
    args = [a if a != "nginx" else "caddy" for a in host.args] + ["--acme-email", "it@test.kz"]
    switched = run_installer(*args)
    assert switched.returncode == 0, switched.stdout[-4000:]
    run_copy = host.prefix / "test-caddy" / "Caddyfile"
    run_copy.parent.mkdir(exist_ok=True)
    run_copy.write_text(host.layout.caddyfile.read_text().replace("{\n", "{\n\tadmin off\n", 1))
    log = host.prefix / "test-caddy" / "caddy.log"
    with open(log, "w") as out:
        caddy = subprocess.Popen(
            [binary("caddy"), "run", "--adapter", "caddyfile", "--config", str(run_copy)],
            env=_caddy_env(host), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    served = Served(host.public_url, app.log, log, _doctor_output(host))
    try:
        wait_until_served(f"{host.public_url}/healthz", host, {"the app": app.proc, "caddy": caddy},
                          served.diagnostics)  # fmt: skip
        yield served, switched
    finally:
        _stop(caddy)


class TestServedBehindCaddy:
    def test_switching_installs_a_caddyfile_that_caddy_validates(self, host, caddy_front):
        assert not host.layout.nginx_site.exists() and not host.layout.nginx_link.is_symlink()
        caddyfile = host.layout.caddyfile
        result = subprocess.run(
            [binary("caddy"), "validate", "--adapter", "caddyfile", "--config", str(caddyfile)],
            capture_output=True, text=True, timeout=60, env=_caddy_env(host),
        )  # fmt: skip
        assert result.returncode == 0, caddyfile.read_text() + result.stderr[-2000:]
        assert f"tls {host.cert} {host.key}" in caddyfile.read_text()

    def test_headers_redirect_and_websocket_through_caddy(self, host, caddy_front):
        served, _ = caddy_front
        tls = tls_context(host)
        health = httpx.get(f"{served.url}/healthz", verify=tls)
        moved = httpx.get(f"{served.url}/login", verify=tls)
        page = httpx.get(f"{served.url}/login/", verify=tls)
        shown = f"\n/healthz: {dict(health.headers)}\n/login/: {dict(page.headers)}"
        assert health.status_code == 200 and page.status_code == 200, shown
        assert moved.headers.get("location") == f"{served.url}/login/", dict(moved.headers)
        assert "frame-ancestors 'none'" in page.headers.get("content-security-policy", ""), shown
        assert "max-age=31536000" in page.headers.get("strict-transport-security", ""), shown
        assert page.headers.get("x-content-type-options") == "nosniff", shown
        assert page.headers.get("x-frame-options") == "DENY", shown
        assert health.headers.get("referrer-policy") == "no-referrer", shown
        assert page.headers.get("referrer-policy") == "strict-origin-when-cross-origin", shown
        assert "server" not in page.headers, shown
        cookie = log_in(host, served.url, ADMIN, ADMIN_PASSWORD)
        auth = state_name("dpa_panel.state.auth_state", "AuthState")
        with EventClient(served.url, cookie=cookie, origin=served.url) as tab:
            updates, _ = tab.call(f"{auth}.load_identity", {}, path="/admin/users")
        assert var_values(updates, "me_username") == [ADMIN], updates
        with pytest.raises(EventError, match="connect failed"):
            EventClient(served.url, origin="https://evil.example")


def test_uninstall_keeps_the_database_the_backups_and_the_env_file(host, app):
    app.stop()  # as `systemctl disable --now` would before the files go
    backup = host.layout.backups / "dpa-panel-20260101T000000Z.dpabak"
    backup.write_bytes(b"kept")
    removed = run_installer("--prefix", host.prefix, "--uninstall")
    assert removed.returncode == 0, removed.stdout
    assert not host.layout.code.exists() and not host.layout.caddyfile.exists()
    assert not any(host.layout.units.glob("dpa-panel*"))
    assert backup.read_bytes() == b"kept" and host.layout.env_file.exists()
    assert "Kept (never removed by --uninstall)" in removed.stdout
    engine = create_engine(host.db_url)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            users = conn.execute(text("SELECT username FROM staff_user")).scalars().all()
    finally:
        engine.dispose()
    assert revision, "the migrated database survives --uninstall"
    assert ADMIN in users or not users, "its rows too (the admin of the login test)"
    again = run_installer("--prefix", host.prefix, "--uninstall")
    assert again.returncode == 0 and "Nothing to remove" in again.stdout
