#!/usr/bin/env bash
# Set up Bayon Pipeline on this host: a virtualenv in .venv with the pinned runtime dependencies and `bayon`.
# Needs Python 3.11+ and Node.js 20+ with npm (run `.venv/bin/bayon doctor` afterwards to check the rest).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python 3.11 or newer is needed (found $("$python" --version 2>&1)); set PYTHON=python3.x" >&2; exit 2; }
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "setup: the Python venv module is missing; run \`sudo apt-get install python3-venv\`" >&2; exit 2
  fi
fi
command -v node >/dev/null || { echo "setup: Node.js 20+ is missing; run \`sudo apt-get install nodejs npm\`" >&2; exit 3; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
echo "setup: ready; run .venv/bin/bayon --help" >&2
