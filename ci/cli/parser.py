"""`bayon`'s command line, derived from the Dagger registration (`ci/schemas/functions.json`, `ci.cli.signature`):
one subcommand per function, one flag per argument, with Dagger's docs and defaults."""

from __future__ import annotations

import argparse
import functools
import typing
from collections.abc import Sequence

from ci.cli import signature
from ci.core.errors import UsageError
from ci.core.secret_refs import check_secret_ref
from ci.core.text import kebab

DESCRIPTION = "The Dagger module's functions run on this host, with the same names and flags as `dagger call`."


def add_parameter(parser: argparse.ArgumentParser, param: dict[str, typing.Any]) -> None:
    """One `dagger call` argument as a `bayon` flag: Directory → path, Secret → env:// or file:// reference."""
    name, kind, doc, default = param["name"], param["kind"], param["doc"], param["default"]
    flag = f"--{kebab(name)}"
    if kind == "repository":  # Dagger: the repository root; here: git finds it
        parser.add_argument(flag, dest=name, default=None, metavar="PATH",
                            help=f"{doc} (default: the git checkout holding --source)")
    elif kind == "directory":
        parser.add_argument(flag, dest=name, default=param["default_path"] or ".", metavar="PATH", help=doc)
    elif kind == "secret":
        parser.add_argument(flag, dest=name, metavar="env://NAME|file://PATH", help=doc,
                            type=functools.partial(_secret_ref, flag=flag))
    elif kind in ("list", "directories"):
        parser.add_argument(flag, dest=name, action="append", default=[],
                            metavar="PATH" if kind == "directories" else "NAME",
                            help=f"{doc} (repeat, or separate with commas)")
    elif kind == "bool":
        parser.add_argument(flag, dest=name, action="store_true", help=doc)
    elif param["required"]:
        parser.add_argument(name, nargs="?", metavar=name.upper(), help=doc)
        parser.add_argument(flag, dest=f"{name}_flag", metavar=name.upper(), help=f"same as {name.upper()}")
    else:
        parser.add_argument(flag, dest=name, default=default, type={"int": int, "str": str}[kind],
                            help=f"{doc} (default: {default})")


def _secret_ref(ref: str, flag: str) -> str:
    try:
        return check_secret_ref(ref, flag)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayon", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="FUNCTION")
    for name, fn in signature.load().items():
        sub = commands.add_parser(kebab(name), help=fn["doc"].split("\n")[0], description=fn["doc"])
        for param in fn["parameters"]:
            add_parameter(sub, param)
        sub.add_argument("-o", "--output", metavar="PATH", help="write the result to PATH (like `dagger call -o`)")
    commands.add_parser("doctor", help="check the host tools each stage needs and print how to install the missing ones")
    return parser


def flat(values: Sequence[str]) -> list[str]:
    """A repeatable list flag's values, commas splitting them too."""
    return [v for value in values for v in value.split(",") if v]


def secrets(name: str, args: argparse.Namespace) -> dict[str, str]:
    """Secret name (the flag, e.g. npm-token) → the reference given; values are read only when a step runs."""
    params = signature.load()[name]["parameters"]
    return {kebab(p["name"]): getattr(args, p["name"]) for p in params
            if p["kind"] == "secret" and getattr(args, p["name"])}
