"""The host installer's rules, without installing anything (fast; part of every run).

What it writes (env file, units, proxy sites) is checked as rendered text; what it refuses —
no PostgreSQL, no Redis, no root — is checked by running ``deploy/install.sh`` into an empty
prefix and finding the prefix still empty. The full install is tests/install/test_host_install.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.install.helpers import DEPLOY, binary, deploy_module, run_installer

render = deploy_module("host_render")
ENV_EXAMPLE = (DEPLOY / "env.example").read_text()


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the env file ------------------------------------------------------------------------------


def test_every_marked_secret_gets_a_fresh_value_and_every_key_is_kept():
    from dpa_panel.services.backup import parse_key

    settings = {"DPA_PUBLIC_URL": "https://panel.test.kz", "REFLEX_REDIS_URL": "redis://r/0"}
    first, generated = render.render_env(ENV_EXAMPLE, settings)
    second, _ = render.render_env(ENV_EXAMPLE, settings)
    values = render.read_env(first)
    marked = [line.key for line in render.parse_env_template(ENV_EXAMPLE) if line.generate]
    assert {"DPA_SECRET_KEY", "DPA_BACKUP_KEY"} <= set(marked)
    assert sorted(generated) == sorted(marked)
    for key in marked:
        assert render.PLACEHOLDER not in values[key], key
        assert values[key] != render.read_env(second)[key], f"{key} is not fresh per install"
    assert len(values["DPA_SECRET_KEY"]) >= 32
    assert len(parse_key(values["DPA_BACKUP_KEY"])) == 32  # the backup module accepts it
    example_keys = {line.key for line in render.parse_env_template(ENV_EXAMPLE) if line.key}
    assert example_keys <= set(values)
    assert values["DPA_PUBLIC_URL"] == "https://panel.test.kz"
    assert values["REFLEX_REDIS_URL"] == "redis://r/0"  # commented out in the example: appended


def test_a_secret_added_to_env_example_later_is_generated_too():
    """Other features add keys (e.g. an audit or SMTP key): the marker is all they need."""
    template = ENV_EXAMPLE + (
        "\n# generate: secret\nDPA_AUDIT_KEY=CHANGE-ME\n"
        "DPA_OTHER_TOKEN=CHANGE-ME  # generate: hex-32\n"
        "DPA_PLAIN=kept-as-is\n"
    )
    values = render.read_env(render.render_env(template, {})[0])
    assert len(values["DPA_AUDIT_KEY"]) >= 32 and "CHANGE" not in values["DPA_AUDIT_KEY"]
    assert len(values["DPA_OTHER_TOKEN"]) == 64 and "#" not in values["DPA_OTHER_TOKEN"]
    assert values["DPA_PLAIN"] == "kept-as-is"


def test_differences_of_a_hand_edited_env_file_are_reported_without_secrets():
    told = {"DPA_PUBLIC_URL": "https://a.test.kz", "DPA_DATABASE_URL": "postgresql://dpa@db/x"}
    text, _ = render.render_env(ENV_EXAMPLE, told)
    secret = render.read_env(text)["DPA_SECRET_KEY"]
    edited = "\n".join(
        line for line in text.splitlines() if not line.startswith("DPA_WORKERS=")
    ).replace("https://a.test.kz", "https://b.test.kz")
    edited += "\nDPA_DATABASE_URL=postgresql://dpa:hunter2@db/x\n"
    notes = render.env_differences(
        edited,
        ENV_EXAMPLE,
        {"DPA_PUBLIC_URL": "https://a.test.kz", "DPA_DATABASE_URL": "postgresql://dpa:pw2@db/x"},
    )
    joined = "\n".join(notes)
    assert "DPA_WORKERS is missing" in joined
    assert "DPA_PUBLIC_URL is 'https://b.test.kz'" in joined and "https://a.test.kz" in joined
    assert "hunter2" not in joined and "pw2" not in joined and ":***@" in joined
    assert secret not in joined
    assert render.env_differences(text, ENV_EXAMPLE, told) == []  # the control


# --- units and proxy sites ---------------------------------------------------------------------


def _directives(text: str) -> str:
    """The configuration without its comments (which mention directives they do not use)."""
    return "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines())


def _site(**kw):
    values = {"host": "panel.test.kz", "https_port": 8443, "http_port": 8080, "app_port": 3111}
    return render.Site(**{**values, **kw})


def test_units_get_the_prefix_paths_user_and_port(tmp_path):
    layout = render.Layout(tmp_path)
    units = sorted((DEPLOY / "systemd").glob("*.service")) + sorted(
        (DEPLOY / "systemd").glob("*.timer")
    )
    assert {"dpa-panel.service", "dpa-panel-backup.timer", "dpa-panel-sweep.timer"} <= {
        u.name for u in units
    }
    for unit in units:
        text = render.render_unit(unit.read_text(), layout, "svc", "svcgrp", 3111)
        for line in text.splitlines():
            if not line.startswith("#"):
                assert "/opt/dpa-panel" not in line.replace(str(layout.code), ""), line
                assert "/etc/dpa-panel/env" not in line.replace(str(layout.env_file), ""), line
        if "User=" in text:
            assert "User=svc\n" in text and "Group=svcgrp\n" in text
    app = render.render_unit(
        (DEPLOY / "systemd/dpa-panel.service").read_text(), layout, "s", "g", 3111
    )
    assert "DPA_PORT=3111" in app and f"ExecStart={layout.code}/.venv/bin/python" in app


@pytest.mark.parametrize(
    ("version", "http2_on"), [((1, 22, 1), False), ((1, 24, 0), False), ((1, 25, 1), True)]
)
def test_nginx_site_uses_the_http2_syntax_of_the_installed_version(tmp_path, version, http2_on):
    text = _directives(
        render.render_nginx(
            (DEPLOY / "nginx/dpa-panel.conf").read_text(), _site(), render.Layout(tmp_path), version
        )
    )
    assert ("http2 on;" in text) is http2_on
    assert ("listen 8443 ssl http2;" in text) is not http2_on
    assert "listen 8080;" in text and "server 127.0.0.1:3111;" in text
    assert "server_name panel.test.kz;" in text and "panel.example.kz" not in text
    assert "return 301 https://$host:8443$request_uri;" in text


def test_caddyfile_has_no_placeholder_left_and_keeps_the_websocket_route():
    text = _directives(
        render.render_caddy((DEPLOY / "Caddyfile").read_text(), _site(acme_email="it@test.kz"))
    )
    assert "{$" not in text
    assert "panel.test.kz:8443 {" in text and "http_port 8080" in text
    assert "email it@test.kz" in text and "reverse_proxy @event 127.0.0.1:3111" in text
    assert "stream_timeout" not in text and "stream_close_delay" not in text  # Caddy 2.6.2


def test_debian_stock_caddyfile_is_recognised_and_a_real_one_is_not():
    stock = Path("/etc/caddy/Caddyfile")
    if stock.exists() and "file_server" in stock.read_text():
        assert render.caddyfile_is_stock(stock.read_text())
    assert render.caddyfile_is_stock(":80 {\n\troot * /usr/share/caddy\n\tfile_server\n}\n")
    assert not render.caddyfile_is_stock("shop.example.kz {\n\treverse_proxy :8000\n}\n")


@pytest.mark.skipif(binary("caddy") is None, reason="caddy not installed (make system-deps)")
def test_caddy_validates_the_caddyfile_as_compose_and_the_installer_use_it(tmp_path):
    """Debian's Caddy (2.6.2) loads deploy/Caddyfile: with compose's environment variables,
    and as the installer renders it."""
    caddy = binary("caddy")
    compose_env = {
        **os.environ,
        "DPA_DOMAIN": "panel.test.kz",
        "ACME_EMAIL": "it@test.kz",
        "DPA_UPSTREAM": "app:3000",
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    rendered = tmp_path / "Caddyfile"
    rendered.write_text(render.render_caddy((DEPLOY / "Caddyfile").read_text(), _site()))
    for config in (DEPLOY / "Caddyfile", rendered):
        result = subprocess.run(
            [caddy, "validate", "--adapter", "caddyfile", "--config", str(config)],
            env=compose_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"{config}:\n{result.stderr[-2000:]}"


# --- refusals: nothing is written --------------------------------------------------------------


def _first_install_args(prefix: Path, db_port: int, redis_port: int) -> list[str]:
    return [
        "--prefix",
        prefix,
        "--public-url",
        "https://panel.test.kz",
        "--database-url",
        f"postgresql://dpa@127.0.0.1:{db_port}/dpa_panel",
        "--redis-url",
        f"redis://127.0.0.1:{redis_port}/0",
    ]


def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("the installer's own checks run as root here (this run is not root)")


def test_missing_postgresql_and_redis_install_nothing(tmp_path):
    _needs_root()
    prefix = tmp_path / "root"
    prefix.mkdir()
    result = run_installer(*_first_install_args(prefix, _closed_port(), _closed_port()))
    assert result.returncode == 2, result.stdout
    assert "nothing was installed" in result.stdout
    assert "PostgreSQL at 127.0.0.1" in result.stdout and "Redis at 127.0.0.1" in result.stdout
    assert "apt-get install postgresql redis-server" in result.stdout
    assert list(prefix.iterdir()) == []


def test_missing_redis_alone_is_named(tmp_path):
    _needs_root()
    from tests.dbutil import pg_unavailable_reason

    if reason := pg_unavailable_reason():
        pytest.skip(reason)
    prefix = tmp_path / "root"
    prefix.mkdir()
    result = run_installer(*_first_install_args(prefix, 5432, _closed_port()))
    assert result.returncode == 2
    assert "Redis at 127.0.0.1" in result.stdout and "PostgreSQL at" not in result.stdout
    assert list(prefix.iterdir()) == []


def test_first_install_without_database_url_says_how_to_create_it(tmp_path):
    _needs_root()
    result = run_installer("--prefix", tmp_path, "--public-url", "https://panel.test.kz")
    assert result.returncode == 2
    assert "--database-url is required" in result.stdout and "createdb -O dpa" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_non_root_run_says_what_needs_root(tmp_path):
    prefix = tmp_path / "root"
    prefix.mkdir()
    tmp_path.chmod(0o755)
    user = 65534 if os.geteuid() == 0 else None  # run as `nobody` when we are root
    # `nobody` must be able to read the installer: a checkout cloned into a private (0700)
    # directory is not, nor is pytest's own (0700) temporary root, so it runs a copy of
    # deploy/ from a world-readable temporary folder.
    with tempfile.TemporaryDirectory() as readable:
        copy = Path(readable) / "deploy"
        shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for path in [Path(readable), copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        result = run_installer(
            *_first_install_args(prefix, 5432, 6379), user=user, script=copy / "install.sh"
        )
    assert result.returncode == 2, result.stdout
    assert "run as root" in result.stdout
    for step in ("create the service user", "systemctl", "/etc/systemd/system"):
        assert step in result.stdout
    assert list(prefix.iterdir()) == []


def test_dry_run_lists_the_plan_and_writes_nothing(tmp_path):
    from tests.dbutil import pg_unavailable_reason

    if reason := pg_unavailable_reason():
        pytest.skip(reason)
    prefix = tmp_path / "root"
    prefix.mkdir()
    result = run_installer(*_first_install_args(prefix, 5432, 6379), "--dry-run")
    assert result.returncode == 0, result.stdout
    for planned in (
        "would: create directory",
        "would: install",
        "env (mode 600; fresh",
        "dpa-panel.service",
        "sites-available/dpa-panel",
        "dpa-panel migrate",
    ):
        assert planned in result.stdout, planned
    assert list(prefix.iterdir()) == []


# --- what is left to the administrator, what starts at boot -----------------------------------


def _installer(prefix: Path, proxy: str = "nginx"):
    host_install = deploy_module("host_install")
    options = host_install.Options(
        prefix=prefix, dry_run=True, proxy=proxy, public_url="https://panel.test.kz",
        database_url="", redis_url="", user="dpa", app_port=3000, http_port=80, tls_cert="",
        tls_key="", acme_email="", data_location="", workers=None,
    )  # fmt: skip
    return host_install.Installer(options)


def test_the_to_do_list_names_every_key_still_holding_a_placeholder(tmp_path, capsys):
    installer = _installer(tmp_path)
    env_file = installer.layout.env_file
    env_file.parent.mkdir(parents=True)
    template = ENV_EXAMPLE + "\nDPA_SMTP_URL=smtp://user:CHANGE-ME@mail.example.kz:587\n"
    env_file.write_text(render.render_env(template, {})[0])
    installer.summary("panel.test.kz")
    out = capsys.readouterr().out
    assert "DPA_SMTP_URL" in out and "still holds CHANGE-ME" in out
    assert "DPA_SECRET_KEY" not in out.split("Still to do")[1].split("the first admin")[0]
    for item in (
        "DNS:",
        "certificate",
        "create-admin",
        "organisation profile",
        "DPA_DATA_LOCATION",
    ):
        assert item in out, item


def test_the_app_and_every_timer_start_at_boot_and_the_oneshots_do_not(tmp_path):
    host_install = deploy_module("host_install")
    layout = render.Layout(tmp_path)
    layout.units.mkdir(parents=True)
    names = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        (layout.units / unit.name).write_text(unit.read_text())
        names.append(unit.name)
    enabled = host_install.units_to_enable(layout, names)
    assert "dpa-panel.service" in enabled
    assert {n for n in names if n.endswith(".timer")} <= set(enabled)
    assert "dpa-panel-backup.service" not in enabled and "dpa-panel-sweep.service" not in enabled
