"""Before a step runs: does the app have what it needs (`Step.needs`)? A tool the app does not depend on, or a
config file it does not have, is reported with the fix instead of a stack trace or a silent pass.

`verdict` is pure; `verdicts` reads package.json and the needed files through the executor, once per run. An app
without a package.json is left to the dependency install, which fails on it with its own message.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from ci.core.executor import Executor
from ci.core.step import Judgement, Step

DECLARING = ("dependencies", "devDependencies", "optionalDependencies")
"""The package.json sections npm installs for the app (`npm ci`)."""


def declared(package_json: str) -> frozenset[str]:
    """The packages the app's package.json declares (none when it is unreadable)."""
    try:
        manifest = json.loads(package_json)
    except ValueError:
        return frozenset()
    if not isinstance(manifest, dict):
        return frozenset()
    return frozenset(name for section in DECLARING if isinstance(manifest.get(section), dict)
                     for name in manifest[section])


def verdict(step: Step, packages: Collection[str] | None, files: Collection[str]) -> Judgement | None:
    """The step's verdict without running it, when the app lacks what it needs; None when it can run (`packages`
    None: no package.json to check against)."""
    needs = step.needs
    if needs.file is not None and needs.file not in files:
        key = f" ({needs.file_key})" if needs.file_key else ""
        return Judgement("skipped", reason=f"the app has no {needs.file}{key}: nothing to run")
    if needs.package is None or packages is None or needs.package in packages:
        return None
    missing = f"{needs.package} is not a dependency of the app"
    if needs.optional:
        return Judgement("skipped", reason=missing)
    fix = f"add it to {needs.section}" + (f" or set {needs.off_key}: false" if needs.off_key else "")
    return Judgement("crashed", reason=f"{missing}: {fix}")


async def verdicts(executor: Executor, steps: Sequence[Step]) -> dict[str, Judgement]:
    """Step id → its verdict, for the steps the app cannot run (reads only what the steps need)."""
    packages = None
    if any(s.needs.package for s in steps):
        manifest = await executor.read_source_file("package.json")
        packages = None if manifest is None else declared(manifest)
    wanted = sorted({s.needs.file for s in steps if s.needs.file})
    files = {name for name in wanted if await executor.read_source_file(name) is not None}
    return {s.id: found for s in steps if (found := verdict(s, packages, files)) is not None}
