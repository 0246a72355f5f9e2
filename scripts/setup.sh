#!/usr/bin/env bash
# Set up Bayon Pipeline on this host: everything `bayon` runs locally. A virtualenv in .venv with the pinned runtime
# dependencies, `bayon`, moto's server (tests/integration), detect-secrets 1.5.0 (security/secrets) and cfn-lint
# 1.58.0 (validate-infra); Semgrep 1.185.0 (security/sast) and the SAM CLI 1.170.0 (validate-infra, preview-changes) in virtualenvs of their own
# under .bayon/tools, and Lighthouse 12.8.2 (lighthouse) installed there by npm, each linked into .bayon/tools/bin. The local
# executor looks in .venv/bin and .bayon/tools/bin before PATH, so nothing needs adding to PATH.
# Needs Python 3.11+ and Node.js 20+ with npm (run `.venv/bin/bayon doctor` afterwards to check).
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

pip_install() { "$1" -m pip install -q --disable-pip-version-check "${@:2}"; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip_install .venv/bin/python -r requirements.lock
pip_install .venv/bin/python --no-deps -e .
# The host tools of the local stages, at the versions the dev lock pins.
pip_install .venv/bin/python -c requirements-dev.lock 'moto[server]' detect-secrets==1.5.0 cfn-lint==1.58.0

# Semgrep gets an environment of its own: it pins other versions of dagger-io's dependencies.
semgrep=1.185.0 tools=.bayon/tools
if [ "$("$tools/semgrep/bin/semgrep" --version --disable-version-check 2>/dev/null)" != "$semgrep" ]; then
  rm -rf "$tools/semgrep" && "$python" -m venv "$tools/semgrep"
  pip_install "$tools/semgrep/bin/python" "semgrep==$semgrep"
fi
mkdir -p "$tools/bin" && ln -sf ../semgrep/bin/semgrep "$tools/bin/semgrep"

# The SAM CLI (validate-infra, preview-changes) too: it pins boto3 and cfn-lint versions of its own.
sam=1.170.0
if [ "$("$tools/sam/bin/sam" --version 2>/dev/null)" != "SAM CLI, version $sam" ]; then
  rm -rf "$tools/sam" && "$python" -m venv "$tools/sam"
  pip_install "$tools/sam/bin/python" "aws-sam-cli==$sam"
fi
ln -sf ../sam/bin/sam "$tools/bin/sam"

# Lighthouse (lighthouse): 12.8.2 is the newest that supports Node 20; Chromium is the system's (CHROME_PATH).
lighthouse=12.8.2
if [ "$(node -p "require('./$tools/lighthouse/node_modules/lighthouse/package.json').version" 2>/dev/null)" != "$lighthouse" ]; then
  rm -rf "$tools/lighthouse" && mkdir -p "$tools/lighthouse"
  (cd "$tools/lighthouse" && echo '{"private": true}' > package.json \
    && npm install -q --no-audit --no-fund --save-exact "lighthouse@$lighthouse" >/dev/null)
fi
ln -sf ../lighthouse/node_modules/.bin/lighthouse "$tools/bin/lighthouse"
echo "setup: ready; run .venv/bin/bayon --help" >&2
