#!/usr/bin/env bash
# Install everything the test suite needs (apt packages as root, what scripts/setup.sh installs, the Python dev
# dependencies), then run the tests on two workers. Extra arguments go to pytest (BAYON_TEST_WORKERS=0: one process).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v git >/dev/null || need_apt+=(git)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test: missing ${need_apt[*]}; run \`sudo apt-get install ${need_apt[*]}\` first" >&2; exit 3
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

scripts/setup.sh  # bayon and every host tool it runs (moto, detect-secrets, Semgrep)
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.lock
# Two workers (pytest-xdist), each taking whole test files (their module fixtures stay in one process), sharing
# one install cache: an app's `npm ci` per lockfile and Node major happens once for both (installs lock each other).
export BAYON_CACHE_DIR="${BAYON_CACHE_DIR:-$(mktemp -d -t bayon-test-cache.XXXXXX)}"
exec .venv/bin/python -m pytest -n "${BAYON_TEST_WORKERS:-2}" --dist loadfile "$@"
