"""The host installer's file operations (``deploy/install.sh``, issue 22): which files of the
checkout are copied, and a journal that writes only what differs, reports every change (or, in a
dry run, what it would change) and undoes this run's changes when a later step fails.
Standard library only, like the rest of the installer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class InstallError(Exception):
    """Refused or failed; the message tells the administrator what to do."""


#: Files of the source tree that are never copied to the code directory.
SKIP_PARTS = {
    ".git",
    ".venv",
    ".web",
    ".states",
    "__pycache__",
    "node_modules",
    "backups",
    ".pytest_cache",
    ".ruff_cache",
    "uploaded_files",
}
#: The service writes these inside the (otherwise read-only, root-owned) code directory: Reflex
#: builds the pages into .web, keeps lock files in reflex.lock/ and, on its first start,
#: rewrites .gitignore (so that file is not copied from the source but left to the service).
WRITABLE_IN_CODE = (".web", ".states", "uploaded_files", "reflex.lock")
WRITABLE_FILES_IN_CODE = (".gitignore",)

# --- the journal: what this run changed, to report it and to undo it on failure ---------------


@dataclass
class Journal:
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: list[Path] = field(default_factory=list)
    replaced: dict[Path, bytes] = field(default_factory=dict)
    created_user: bool = False

    def change(self, text: str) -> None:
        self.changes.append(text)
        print(("would: " if self.dry_run else "done:  ") + text, flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print("note:  " + text, flush=True)

    def mkdir(
        self, path: Path, mode: int, uid: int = 0, gid: int = 0, keep_mode: bool = False
    ) -> None:
        """Create ``path`` (and parents) with ``mode``/owner; fix mode/owner if they differ
        (``keep_mode``: only the owner — the service recreates such directories itself)."""
        if not path.exists():
            missing = [path, *[p for p in path.parents if not p.exists()]]
            self.change(f"create directory {path} (mode {mode:o})")
            if self.dry_run:
                return
            path.mkdir(parents=True, mode=0o755)
            self.created.extend(reversed(missing))
            os.chmod(path, mode)
            os.chown(path, uid, gid)
            return
        st = path.stat()
        if keep_mode:
            mode = st.st_mode & 0o7777
        if (st.st_mode & 0o7777) != mode or (st.st_uid, st.st_gid) != (uid, gid):
            self.change(f"set mode {mode:o} and owner of {path}")
            if not self.dry_run:
                os.chmod(path, mode)
                os.chown(path, uid, gid)

    def write(self, path: Path, data: str | bytes, mode: int = 0o644, what: str = "") -> bool:
        """Write ``data`` when it differs; True when something was (or would be) written."""
        data = data.encode() if isinstance(data, str) else data
        old = path.read_bytes() if path.is_file() else None
        label = what or str(path)
        if old == data:
            if (path.stat().st_mode & 0o7777) != mode:
                self.change(f"set mode {mode:o} of {label}")
                if not self.dry_run:
                    os.chmod(path, mode)
                return True
            return False
        self.change(("update " if old is not None else "install ") + label)
        if self.dry_run:
            return True
        if old is None:
            for parent in reversed([p for p in path.parents if not p.exists()]):
                parent.mkdir(mode=0o755)
                self.created.append(parent)
            self.created.append(path)
        elif path not in self.replaced:
            self.replaced[path] = old
        tmp = path.with_name(f".{path.name}.dpa-new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        return True

    def symlink(self, path: Path, target: str) -> None:
        if path.is_symlink() and os.readlink(path) == target:
            return
        if path.exists() and not path.is_symlink():
            raise InstallError(f"{path} exists and is not a link: move it away and re-run")
        self.change(f"link {path} -> {target}")
        if self.dry_run:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.symlink_to(target)
        self.created.append(path)

    def undo(self) -> None:
        """Put back what this run replaced, remove what it created (newest first)."""
        for path, data in self.replaced.items():
            path.write_bytes(data)
        for path in reversed(self.created):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def source_files(source: Path) -> list[str]:
    """Relative paths of the source tree to copy: git's view (tracked and new, not ignored)
    when it is a checkout, else every file outside the build and cache directories."""
    names: list[str] = []
    git = shutil.which("git")
    if git and (source / ".git").exists():
        result = subprocess.run(
            [
                git,
                "-C",
                str(source),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=False,
        )
        if result.returncode == 0:
            names = [n for n in result.stdout.decode().split("\0") if n]
    if not names:
        names = [
            str(path.relative_to(source))
            for path in source.rglob("*")
            if path.is_file() or path.is_symlink()
        ]
    return sorted(
        name
        for name in set(names)
        if not SKIP_PARTS.intersection(Path(name).parts)
        and name not in WRITABLE_FILES_IN_CODE
        and (source / name).is_file()
        and not name.endswith((".pyc", ".db", ".db-wal", ".db-shm"))
    )
