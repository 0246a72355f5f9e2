"""Secret references for the local CLI: `env://NAME` or `file://PATH`, as Dagger's CLI takes them.

A reference is validated when the command line is parsed, but its value is read only at the last moment, straight
into the environment of the one process that needs it; it never reaches argv, logs or reports.
"""

from __future__ import annotations

import os
from pathlib import Path

from ci.core.errors import UsageError

SCHEMES = ("env://", "file://")


def check_secret_ref(ref: str, flag: str) -> str:
    """Reject anything that is not a secret reference (a pasted value must never be accepted)."""
    if not ref.startswith(SCHEMES) or len(ref.split("://", 1)[1]) == 0:
        raise UsageError(f"{flag} takes a secret reference such as env://NAME or file://PATH, not a value")
    return ref


def resolve(ref: str) -> str:
    """The secret's value, read now."""
    scheme, _, rest = ref.partition("://")
    if scheme == "env":
        value = os.environ.get(rest)
        if value is None:
            raise UsageError(f"secret {ref}: environment variable {rest} is not set; export it or pass file://PATH")
        return value
    path = Path(rest)
    if not path.is_file():
        raise UsageError(f"secret {ref}: no such file {rest}; pass the path of a file holding the secret")
    return path.read_text().rstrip("\n")
