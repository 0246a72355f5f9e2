"""Where the local executor finds the host tools it runs (moto_server, detect-secrets' Python, semgrep, Chromium).

First bayon's own environment (its Python's `bin/`: `scripts/setup.sh` installs moto's server and detect-secrets
there), then `.bayon/tools/bin` next to the project (setup.sh links Semgrep there from a virtualenv of its own),
then PATH: nothing is found only by luck on PATH, and no caller has to change it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_TOOLS = Path(__file__).resolve().parents[3] / ".bayon" / "tools" / "bin"
"""Tools scripts/setup.sh installs apart from bayon's environment, in the checkout that holds `ci/`."""


def tool_path(path: str | None) -> str:
    """A PATH value with bayon's own bin directory and the project's tools in front of `path`."""
    return os.pathsep.join(filter(None, (os.path.dirname(sys.executable), str(PROJECT_TOOLS), path)))


def find(command: str) -> str | None:
    """Where `command` is, looked up in `tool_path` order, or None."""
    return shutil.which(command, path=tool_path(os.environ.get("PATH")))


DEBIAN_CHROMIUM = "/usr/bin/chromium"
NO_CHROMIUM = ("Chromium is not installed at {path}: install Debian's package (`apt-get install -y chromium`) or set "
               "CHROME_PATH to a Chrome or Chromium binary; `bayon doctor` checks it")


def chrome(environ: Mapping[str, str]) -> str:
    """The browser a step drives (Lighthouse): `CHROME_PATH`, else Debian's Chromium; ValueError with the fix when
    it is not an executable file."""
    path = environ.get("CHROME_PATH") or DEBIAN_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ValueError(NO_CHROMIUM.format(path=path))
    return path
