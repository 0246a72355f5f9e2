"""The README's first command on a machine with nothing else: a clean clone of this repository, PATH holding only
/usr/bin and /bin, `scripts/setup.sh && .venv/bin/bayon ci --source examples/coagent`; then `bayon doctor` and
`bayon security` find every tool setup installed without PATH. Clones the committed HEAD (commit first); shares
the pip configuration and BAYON_CACHE_DIR (the sample app's install) to stay affordable, and hard-links this
checkout's .bayon/tools (Semgrep's and the SAM CLI's virtualenvs, Lighthouse) into the clone: their install from
nothing is what `.ci/run` itself did on its fresh machine (scripts/test.sh runs scripts/setup.sh first); here
setup.sh's version checks find them current."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from apps import ROOT

pytestmark = pytest.mark.tools

BARE_PATH = "/usr/bin:/bin"


def first_command() -> str:
    """The first command of the README's first bash block."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return next(line for line in block.splitlines() if line.strip() and not line.startswith("#"))


def test_the_readmes_first_command_is_enough_in_a_clean_clone(tmp_path: Path):
    assert first_command() == "scripts/setup.sh && .venv/bin/bayon ci --source examples/coagent"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / ".bayon").mkdir()
    subprocess.run(["cp", "-al", str(ROOT / ".bayon" / "tools"), str(clone / ".bayon" / "tools")], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")} | {"PATH": BARE_PATH}
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", first_command()], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=3600)
    print(f"README's first command in a clean clone: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^ci: PASSED in [\d.]+ s \(\d+ finding\(s\)\)$", done.stdout, re.M), done.stdout[-2000:]

    doctor = subprocess.run([".venv/bin/bayon", "doctor"], cwd=clone, env=env, capture_output=True, text=True)
    assert doctor.returncode == 0 and doctor.stdout.strip().endswith("all tools present"), doctor.stdout
    for tool in ("detect-secrets", "semgrep", "moto_server", "cfn-lint", "sam"):
        assert re.search(rf"^✔ {tool} ", doctor.stdout, re.M), doctor.stdout

    out = clone / "security.json"
    subprocess.run([".venv/bin/bayon", "security", "--source", "examples/coagent", "--format", "json", "-o", str(out)],
                   cwd=clone, env=env, capture_output=True, text=True)
    steps = {s["id"]: s for s in json.loads(out.read_text())["steps"]}
    for step_id in ("security/secrets", "security/sast", "security/licenses", "security/sbom"):
        assert steps[step_id]["status"] == "passed", steps[step_id]  # each scanner ran, found by bayon itself
    assert {steps[i]["status"] for i in ("security/audit/prod", "security/audit/dev")} <= {"passed", "unavailable"}
