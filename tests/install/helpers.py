"""Shared by the installer tests: the installer's modules, how to run it, what the host has."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALL_SH = DEPLOY / "install.sh"
#: Debian's own interpreter: the one an administrator's `sudo deploy/install.sh` finds. (A
#: pyenv interpreter under /root could not be run by the service user.)
SYSTEM_PYTHON = "/usr/bin/python3"


def deploy_module(name: str):
    """``deploy/host_render.py`` or ``deploy/host_install.py`` (plain scripts, not a package)."""
    if str(DEPLOY) not in sys.path:
        sys.path.insert(0, str(DEPLOY))
    return importlib.import_module(name)


def installer_env() -> dict[str, str]:
    """The environment of an administrator's shell: no PYTHONPATH pointing at this checkout
    (the installed code must import its own copy)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["DPA_INSTALL_PYTHON"] = SYSTEM_PYTHON if Path(SYSTEM_PYTHON).exists() else sys.executable
    return env


def run_installer(
    *args: str, timeout: float = 900, user: int | None = None, script: Path = INSTALL_SH
):
    """``sh deploy/install.sh ARGS``; stdout and stderr together in ``.stdout``."""
    command = ["sh", str(script), *map(str, args)]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(
        command,
        env=installer_env(),
        cwd="/",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
