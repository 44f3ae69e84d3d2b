# Shared by scripts/demo and scripts/test: a virtual environment in .venv with the project installed.
# Works on a fresh Debian/Ubuntu with Python 3.11+; installs python3-venv with apt-get if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Python 3.11 ou plus récent est nécessaire (python3 --version)." >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "Installation de python3-venv (apt-get)…"
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
fi
extras="${1:-}"
stamp=".venv/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
