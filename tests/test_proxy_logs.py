"""The shipped proxy configurations keep the tab token out of their access logs (issue 15).

The event websocket's URL carries ``?token=<tab token>``. The access-log parts of
``deploy/Caddyfile`` and ``deploy/nginx/dpa-panel.conf`` are cut out of the shipped files and
run for real (Caddy / nginx from the host, skipped when absent) in front of a fixed answer; a
request with a token must leave no trace of it in the log, and other query text must stay.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SECRET = "TabTokenThatMustNotBeLogged"
URL_PATH = f"/_event/?EIO=4&token={SECRET}&transport=websocket"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hit(port: int, path: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):  # noqa: S310
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _block(text: str, opening: str) -> str:
    """The brace-balanced block that starts at ``opening``."""
    start = text.index(opening)
    depth = 0
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise AssertionError(f"unbalanced block {opening!r}")


def _run(command: list[str], log: Path, port: int, paths: list[str]) -> str:
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=open(log.with_suffix(".err"), "w")
    )  # noqa: SIM115
    try:
        for path in paths:
            _hit(port, path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if text.count("_event") + text.count("/other") >= len(paths):
                return text
            time.sleep(0.1)
        return log.read_text() if log.exists() else ""
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy is not installed")
def test_caddy_access_log_has_no_tab_token(tmp_path):
    shipped = (DEPLOY / "Caddyfile").read_text()
    log_block = _block(shipped, "log {")
    log_file = tmp_path / "access.log"
    log_block = log_block.replace("output stderr", f"output file {log_file}")
    port = _free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(f'{{\n\tadmin off\n}}\n:{port} {{\n\trespond "ok"\n{log_block}\n}}\n')
    text = _run(
        ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        log_file,
        port,
        [URL_PATH, "/other?page=2"],
    )
    assert "/_event/" in text, "the request was logged"
    assert SECRET not in text
    assert "page=2" in text, "other query text is kept"


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")
def test_nginx_access_log_has_no_tab_token(tmp_path):
    shipped = (DEPLOY / "nginx" / "dpa-panel.conf").read_text()
    mapping = _block(shipped, "map $request_uri $dpa_loggable_uri")
    log_format = re.search(r"log_format dpa_panel .*?;", shipped, re.S).group(0)
    assert shipped.count("access_log /var/log/nginx/access.log dpa_panel;") == 2, (
        "both server blocks log with the filtered format"
    )
    log_file = tmp_path / "access.log"
    port = _free_port()
    temp = " ".join(
        f"{name}_temp_path {tmp_path};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n{temp}\n{mapping}\n{log_format}\n"
        f"server {{ listen 127.0.0.1:{port}; access_log {log_file} dpa_panel;"
        f' location / {{ return 200 "ok"; }} }}\n}}\n'
    )
    text = _run(["nginx", "-c", str(config)], log_file, port, [URL_PATH, "/other?page=2"])
    assert "/_event/" in text, "the request was logged"
    assert SECRET not in text
    assert "page=2" in text, "other query text is kept"
