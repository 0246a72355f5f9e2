"""What `init` writes into an app repository: its pipeline.yaml and the workflows calling this module by reference
(the deploy ones only when the app has a template to deploy: without one there is no environment)."""

from __future__ import annotations

import posixpath
import re

from ci.adoption import pipeline_yaml, workflows
from ci.adoption.detect import App
from ci.core.errors import UsageError

MODULE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*(?:/[A-Za-z0-9_.-]+)+@[A-Za-z0-9_.+/-]+")
CHECKS_ONLY = ("ci.yml", "security.yml")
"""The workflows of an app without a template: no infrastructure to validate, no environment to deploy."""


def check_module(ref: str) -> str:
    """A module reference pinned to a version (a tag or a commit): what the workflows call."""
    if not MODULE_REF.fullmatch(ref):
        raise UsageError(f"--module {ref or '(empty)'}: give the module's Git reference pinned to a version, e.g. "
                         "github.com/ORG/bayon-pipeline@v0.1.0 (a tag or a commit SHA after @)")
    return ref


def written(app: App, module: str) -> dict[str, str]:
    """Path in the app repository -> text, for every file init writes."""
    caller = workflows.Caller(module=check_module(module), app=".",
                              template_dirs=tuple(sorted({posixpath.dirname(t.path) for t in app.templates})))
    flows = workflows.render(caller)
    if not app.templates:
        flows = {path: text for path, text in flows.items() if posixpath.basename(path) in CHECKS_ONLY}
    return {"pipeline.yaml": pipeline_yaml.render(app), **flows}
