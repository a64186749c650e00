#!/bin/sh
# DPA Panel host installer (issue 22): Debian 12 / Ubuntu 24.04 with systemd, PostgreSQL,
# Redis and nginx or Caddy on the same host. The work is done by host_install.py (Python
# standard library only, so it runs before the panel's virtual environment exists).
#
#   sudo deploy/install.sh --public-url https://panel.example.kz \
#        --database-url postgresql://dpa:PASSWORD@127.0.0.1:5432/dpa_panel [--proxy caddy]
#   sudo deploy/install.sh --dry-run ...        # show what would change, change nothing
#   sudo deploy/install.sh --uninstall          # keeps the database, the backups and the env file
#
# Re-running it changes nothing when nothing changed. See docs/deploy.md ("Host installer").
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
python=${DPA_INSTALL_PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "install.sh: $python not found: apt-get install python3 python3-venv make" >&2
    exit 2
fi
exec "$python" "$here/host_install.py" "$@"
