#!/usr/bin/env bash
# Install everything the test suite needs (apt packages as root, Python dev dependencies, moto, the sample app's
# node modules through the pipeline's own install cache), then run the tests. Extra arguments go to pytest.
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

scripts/setup.sh
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.lock
# Semgrep (security/sast) gets an environment of its own: it pins other versions of dagger-io's dependencies.
if ! command -v semgrep >/dev/null; then
  tools=.bayon/tools
  [ -x "$tools/semgrep/bin/semgrep" ] || { python3 -m venv "$tools/semgrep" \
    && "$tools/semgrep/bin/pip" install -q --disable-pip-version-check semgrep==1.185.0; }
  mkdir -p "$tools/bin" && ln -sf ../semgrep/bin/semgrep "$tools/bin/semgrep"
  export PATH="$PWD/$tools/bin:$PATH"
fi
exec .venv/bin/python -m pytest "$@"
