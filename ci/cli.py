"""`bayon`: the Dagger module's functions run on this host, with the same names and flags as `dagger call`.

The command line is derived from the Dagger registration of `Ci` (function names, arguments, docs, defaults; through
`ci/schemas/functions.json`, kept equal to it by a test), so the two cannot drift; what each function does comes from
`ci.functions`, run by the local executor.
Exit codes: 0 passed, 1 gate failed, 2 usage or config error, 3 could not run (a tool or service missing).
"""

from __future__ import annotations

import argparse
import functools
import asyncio
import json
import os
import shutil
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from . import doctor, functions, github_api, signature
from .config import ConfigError
from .errors import BayonError, UsageError
from .gate import run_steps
from .local_executor import LocalExecutor
from .progress import ProgressExecutor
from .render import render
from .secrets import check_ref, resolve
from .unit_tests import MERGE_INPUTS

EXIT_PASSED, EXIT_FAILED = 0, 1


def kebab(name: str) -> str:
    return name.replace("_", "-")


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
        parser.add_argument(flag, dest=name, action="append", default=[], metavar="PATH" if kind == "directories" else "NAME",
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
        return check_ref(ref, flag)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayon", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="FUNCTION")
    for name, fn in signature.load().items():
        sub = commands.add_parser(kebab(name), help=fn["doc"].split("\n")[0], description=fn["doc"])
        for param in fn["parameters"]:
            add_parameter(sub, param)
        sub.add_argument("-o", "--output", metavar="PATH", help="write the result to PATH (like `dagger call -o`)")
    commands.add_parser("doctor", help="check the host tools each stage needs and print how to install the missing ones")
    return parser


def _flat(values: Sequence[str]) -> list[str]:
    return [v for value in values for v in value.split(",") if v]


def _secrets(name: str, args: argparse.Namespace) -> dict[str, str]:
    """Secret name (the flag, e.g. npm-token) → the reference given; values are read only when a step runs."""
    params = signature.load()[name]["parameters"]
    return {kebab(p["name"]): getattr(args, p["name"]) for p in params
            if p["kind"] == "secret" and getattr(args, p["name"])}


def _coverage_files(path: str) -> tuple[str, dict[str, bytes]]:
    """A `--shards` directory as merge-coverage takes it: its coverage files by relative path."""
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"--shards {path}: not a directory; pass each shard's exported reports directory")
    return path, {p.relative_to(root).as_posix(): p.read_bytes() for name in MERGE_INPUTS for p in root.rglob(name)}


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


async def _export(name: str, executor: ProgressExecutor, local: LocalExecutor, output: str | None) -> int:
    """Run an output function's step and copy the directory it wrote to `-o PATH`, once the step exited 0."""
    if not output:
        raise UsageError(f"{kebab(name)}: give -o PATH, the directory to write the output to")
    step, path = await functions.output(name, executor)
    report = await run_steps(name, executor, [step])
    if next(s for s in report.steps if s.id == step.id).exit_code != 0:
        sys.stderr.write(render(report, "table"))
        return EXIT_FAILED
    shutil.copytree(local.workspace / step.workdir / path, output, dirs_exist_ok=True)
    print(f"wrote {path}/ to {output}", file=sys.stderr)
    return EXIT_PASSED


def _upload(args: argparse.Namespace) -> github_api.Upload | None:
    """Where `--github-token` sends the merged SARIF, checked before anything runs; None without a token."""
    if not getattr(args, "github_token", None):
        return None
    return github_api.Upload(args.github_repository, args.commit_sha, args.ref,
                             resolve(args.github_token), args.repo_path).check()


async def call(args: argparse.Namespace) -> int:
    """Run one function locally; returns the exit code."""
    name = args.command.replace("-", "_")
    upload = _upload(args)
    async with LocalExecutor(Path(args.source), _secrets(name, args), getattr(args, "repo", None),
                             getattr(args, "repo_path", "")) as local:
        executor = ProgressExecutor(local)
        if name == "plan":
            target = args.function or args.function_flag
            if not target:
                raise UsageError("plan: name the function to plan, e.g. `bayon plan quality`")
            _emit(await functions.plan(target, executor), args.output)
            return EXIT_PASSED
        if name == "reports":
            report = await functions.gate(args.function.replace("-", "_"), executor, shard=args.shard,
                                          base=args.base)
            out, files = Path(args.output or "reports"), functions.report_files(report)
            for rel, data in files.items():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_bytes(data)
            print(f"wrote {len(files)} report file(s) to {out}", file=sys.stderr)
            return EXIT_PASSED
        if name in functions.OUTPUTS:
            return await _export(name, executor, local, args.output)
        if name in functions.FIXERS:
            report = await run_steps(name, executor, functions.FIXERS[name](await functions.load(executor)))
            changed = local.changed_files()
            local.apply(changed)
            print("\n".join(f"fixed {path}" for path in changed) or "nothing to fix", file=sys.stderr)
        elif name == "merge_coverage":
            report = await functions.merge_coverage(executor, [_coverage_files(p) for p in _flat(args.shards)])
        else:
            report = await functions.gate(name, executor, _flat(getattr(args, "only", [])), _flat(getattr(args, "skip", [])),
                                          getattr(args, "shard", None), getattr(args, "base", ""),
                                          getattr(args, "baseline", ""))
            if upload is not None:
                report = await functions.code_scanning(report, upload)
        fmt = getattr(args, "format", "table")
        _emit(render(report, fmt, getattr(args, "repo_path", "")), args.output)
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as summary:
                summary.write(render(report, "markdown"))
        return EXIT_PASSED if report.passed else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return doctor.main()
        return asyncio.run(call(args))
    except KeyboardInterrupt:
        print("bayon: interrupted; every child process was stopped", file=sys.stderr)
        return 130
    except (BayonError, ConfigError) as exc:  # task-group errors arrive unwrapped (`errors.unwrap_groups`)
        print(f"bayon: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)


if __name__ == "__main__":
    sys.exit(main())
