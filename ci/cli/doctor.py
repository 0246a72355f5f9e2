"""`bayon doctor`: which host tools each stage needs, which are missing, and the command that installs each; and how
the Node majors the host lacks are brought in (from npm, on first use).

Tools are looked up where the local executor looks (`ci.executors.local.tools`): bayon's own environment, the
project's `.bayon/tools/bin`, then PATH. An optional tool (for a stage still to come) is listed but never fails."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from ci.executors.local import node_runtime
from ci.executors.local.tools import chrome, find

MIN_NODE = 20


@dataclass(frozen=True)
class Tool:
    command: str
    stages: str
    install: str
    version_args: tuple[str, ...] = ("--version",)
    optional: bool = False
    locate: Callable[[], str | None] | None = None
    """Where the tool is, when not found as the local executor finds commands (Chromium: CHROME_PATH, else Debian's)."""


def _chromium() -> str | None:
    try:
        return chrome(os.environ)
    except ValueError:
        return None


TOOLS = (
    Tool("node", "every stage", "apt-get install -y nodejs  # Node.js 20 or newer"),
    Tool("npm", "every stage", "apt-get install -y npm"),
    Tool("git", "ci --base, security/secrets, security/sast --base", "apt-get install -y git"),
    Tool("detect-secrets", "security/secrets", "scripts/setup.sh  # detect-secrets 1.5.0 into .venv"),
    Tool("semgrep", "security/sast", "scripts/setup.sh  # Semgrep 1.185.0 in .bayon/tools, apart: it pins other "
                                     "versions of dagger-io's dependencies", ("--version", "--disable-version-check")),
    Tool("moto_server", "tests/integration", "scripts/setup.sh  # moto[server] into .venv"),
    Tool("cfn-lint", "validate-infra", "scripts/setup.sh  # cfn-lint 1.58.0 into .venv"),
    Tool("sam", "validate-infra, preview-changes, package", "scripts/setup.sh  # the SAM CLI 1.170.0 in .bayon/tools, "
                                                            "apart: it pins boto3 and cfn-lint versions of its own"),
    Tool("lighthouse", "lighthouse", "scripts/setup.sh  # Lighthouse 12.8.2 in .bayon/tools"),
    Tool("chromium", "lighthouse", "apt-get install -y chromium  # or set CHROME_PATH to a Chrome binary",
         optional=True, locate=_chromium),
)


def version(tool: Tool) -> str | None:
    """The tool's version line, or None when it is not on PATH."""
    path = tool.locate() if tool.locate else find(tool.command)
    if path is None:
        return None
    out = subprocess.run([path, *tool.version_args], capture_output=True, text=True, timeout=30)
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "present"


def node_too_old(line: str | None) -> bool:
    return bool(line) and line.startswith("v") and int(line[1:].split(".")[0]) < MIN_NODE


def node_majors() -> str:
    """The line on the Node majors other than the host's: where they come from and which are cached already."""
    name = node_runtime.package()
    if name is None:
        return ("! node majors    npm has no Node build for this host: only the host's Node runs the steps here; set "
                "tests.node_versions and node to its major, or run the others with `dagger call`")
    have = ", ".join(map(str, node_runtime.cached())) or "none yet"
    return (f"✔ node majors    any other major the app runs on is installed on first use from npm ({name}@<major>) "
            f"into {node_runtime.root()} (cached: {have})")


def main() -> int:
    """Print one line per tool; exit 3 when any that is not optional is missing or too old."""
    missing = 0
    for tool in TOOLS:
        line = version(tool)
        if line is None and tool.optional:
            print(f"– {tool.command:<14} missing, optional (for {tool.stages}); install: {tool.install}")
        elif line is None or (tool.command == "node" and node_too_old(line)):
            missing += 1
            problem = "missing" if line is None else f"{line} is older than Node {MIN_NODE}"
            print(f"✘ {tool.command:<14} {problem} (needed by {tool.stages}); install: {tool.install}")
        else:
            print(f"✔ {tool.command:<14} {line}")
    print(node_majors())
    print("all tools present" if not missing else f"{missing} tool(s) missing: install them with the commands above")
    return 3 if missing else 0
