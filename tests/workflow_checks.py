"""Checks every workflow the pipeline writes or runs must pass: actionlint, GitHub's workflow JSON schema (the one
check-jsonschema vendors from schemastore), the one-step shape, and each dagger call's function and flags against
the registration (ci/schemas/functions.json)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ci.cli import signature
from ci.core.text import kebab

ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or "actionlint"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
FLAG = re.compile(r"(?:^|[\s'+])(--[a-z][a-z0-9-]*)")
DAGGER_CALL_FLAGS = {"-o", "--output"}
"""`dagger call`'s own flags the workflows use: -o writes the result to a file (the job summary)."""

def actionlint(paths: list[Path]) -> list[dict]:
    """actionlint's findings (its JSON), none when clean; its exit code must agree with what it printed."""
    ran = subprocess.run([ACTIONLINT, "-no-color", "-format", "{{json .}}", *map(str, paths)], capture_output=True,
                         text=True)
    found = json.loads(ran.stdout or "[]")
    assert ran.returncode == (1 if found else 0), ran.stderr
    return found


def schema_errors(paths: list[Path]) -> str:
    """What check-jsonschema says against GitHub's workflow schema (vendored, offline); empty when valid."""
    ran = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                          "--no-cache", *map(str, paths)], capture_output=True, text=True)
    return "" if ran.returncode == 0 else ran.stdout + ran.stderr


def dagger_steps(workflow: dict) -> dict[str, dict]:
    """Job id -> its dagger/dagger-for-github step."""
    return {name: step for name, job in workflow["jobs"].items() for step in job["steps"]
            if step.get("uses", "").startswith("dagger/dagger-for-github@")}


def shape_problems(workflow: dict, engine: str, module: str | None) -> list[str]:
    """Every job: actions/checkout, then exactly one pinned dagger step; with `module`, that step calls it by
    reference (`module:` input) with `--source .`."""
    problems = []
    for name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        uses = [s.get("uses", "") for s in steps]
        if len(steps) != 2 or not uses[0].startswith("actions/checkout@") or not uses[1].startswith(
                "dagger/dagger-for-github@v8"):
            problems.append(f"{name}: steps {uses} are not checkout + one dagger step")
            continue
        given = steps[1]["with"]
        if given.get("version") != engine:
            problems.append(f"{name}: version {given.get('version')} is not the engine {engine}")
        if module is not None and (given.get("module") != module or " --source . " not in f" {given['call']} "):
            problems.append(f"{name}: does not call {module} with --source .")
    return problems


def call_flags(call: str) -> tuple[str, list[str]]:
    """A `call:` string's function and the flags it passes (those inside an expression's string literals too, e.g.
    `${{ cond && '--github-token env://GITHUB_TOKEN' || '' }}`)."""
    literals = [lit for expr in EXPRESSION.findall(call) for lit in re.findall(r"'([^']*)'", expr)]
    plain = EXPRESSION.sub("X", call)
    flags = FLAG.findall(" ".join([plain, *literals]))
    return plain.split()[0], flags


def unregistered(workflow: dict) -> set[tuple[str, str]]:
    """(function, flag) pairs the workflow's calls use that the registration lacks ("" as the flag: the function)."""
    functions = {kebab(name): {f"--{kebab(p['name'])}" for p in fn["parameters"]}
                 for name, fn in signature.load().items()}
    missing = set()
    for step in dagger_steps(workflow).values():
        function, flags = call_flags(step["with"]["call"])
        if function not in functions:
            missing.add((function, ""))
            continue
        missing |= {(function, f) for f in flags if f not in functions[function] | DAGGER_CALL_FLAGS}
    return missing


def takes_the_repository() -> set[str]:
    """The functions (kebab names) with a `repo` argument: the repository with its `.git`, beside `--source`."""
    return {kebab(name) for name, fn in signature.load().items()
            if any(p["kind"] == "repository" for p in fn["parameters"])}


def missing_repo_path(workflow: dict) -> list[str]:
    """Jobs calling a function that takes the repository with an app that is not at its root (`--source` other than
    `.`) without `--repo-path`: the function would look for the app at the repository's root and refuse."""
    repository = takes_the_repository()
    problems = []
    for name, step in dagger_steps(workflow).items():
        call = step["with"]["call"]
        function, flags = call_flags(call)
        source = re.search(r"--source[= ](\S+)", call)
        if function in repository and (source is None or source[1] != ".") and "--repo-path" not in flags:
            problems.append(f"{name}: {function} --source {source[1] if source else '(none)'} without --repo-path")
    return problems


PUSHER_TEXT = re.compile(r"github\.(?:ref_name|ref|head_ref|base_ref)\b|github\.event\.(?P<path>[\w.]+)")
TYPED_EVENT_FIELDS = {"sha", "before", "number", "fork", "created", "forced"}
"""Event fields GitHub gives as a commit SHA, a number or a boolean: nothing a pusher can turn into shell syntax."""


def spliced_text(workflow: dict) -> list[str]:
    """Jobs whose `call:` splices pusher-chosen text into the script dagger-for-github runs (it pastes `call:` into
    bash): github.ref, ref_name, head_ref, base_ref, any github.event field but a SHA, number or boolean. Such a
    value belongs in the step's `env:`, the call naming it quoted ("$REF")."""
    problems = []
    for name, step in dagger_steps(workflow).items():
        for expression in EXPRESSION.findall(step["with"]["call"]):
            for found in PUSHER_TEXT.finditer(expression):
                if found["path"] is None or found["path"].rsplit(".", 1)[-1] not in TYPED_EVENT_FIELDS:
                    problems.append(f"{name}: {found[0]} spliced into the script; pass it in the step's env")
    return problems


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
