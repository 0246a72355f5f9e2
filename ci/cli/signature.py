"""The Dagger functions' signatures as plain data, so `bayon` builds its command line without importing Dagger.

`ci/schemas/functions.json` is derived from the module's registration (`python -m ci.cli.signature --write`); a test
keeps it equal to the registration, so `bayon` and `dagger call` cannot drift, while `bayon` starts in a fraction
of the time that importing the Dagger SDK takes.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).parent.parent / "schemas" / "functions.json"


def dagger_functions() -> dict[str, Any]:
    """The module's functions as Dagger registers them (the constructor excluded); imports the SDK."""
    from ci.main import Ci

    return {name: fn for name, fn in Ci.__dagger_object_type__.functions.items() if name}


def _base_type(annotation: Any) -> Any:
    """`X | None` → X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def kind_of(param: Any) -> str:
    """How a parameter reads on a command line: directory, repository, directories, secret, list, bool, str, int."""
    import dagger

    base = _base_type(param.resolved_type)
    if base is dagger.Directory:
        return "repository" if param.default_path == "/" else "directory"
    if base is dagger.Secret:
        return "secret"
    if typing.get_origin(base) is list:
        return "directories" if typing.get_args(base)[0] is dagger.Directory else "list"
    return {bool: "bool", int: "int", str: "str"}[base]


def from_registration() -> dict[str, Any]:
    """The signatures, read from the Dagger registration."""
    return {
        name: {
            "doc": fn.doc or "",
            "parameters": [
                {
                    "name": p.name,
                    "kind": kind_of(p),
                    "doc": p.doc or "",
                    "required": not p.is_optional,
                    "default": json.loads(p.default_value) if p.default_value is not None else None,
                    "default_path": p.default_path,
                }
                for p in fn.parameters.values()
            ],
        }
        for name, fn in sorted(dagger_functions().items())
    }


def load() -> dict[str, Any]:
    """The committed signatures (what `bayon` uses)."""
    return json.loads(SPEC_PATH.read_text())


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m ci.cli.signature --write")
    SPEC_PATH.write_text(json.dumps(from_registration(), indent=2) + "\n")
