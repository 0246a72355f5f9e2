"""The GitHub workflows of an app, rendered from one set of templates (`templates/`) for two callers: an app
repository that adopted the pipeline (`init`: the module by reference, `--source .`) and this repository, whose
sample app sits in a subdirectory and whose workflows call the module checked out with it
(`python -m ci.adoption.workflows --write` renders them; a test keeps them equal)."""

from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
NAMES = ("ci.yml", "security.yml", "validate-infrastructure.yml", "deploy-dev.yml", "deploy-staging.yml",
         "deploy-production.yml", "rollback.yml")
WORKFLOWS_DIR = ".github/workflows"
ENGINE_VERSION = "v0.21.11"
"""The Dagger engine the workflows install: the module's dagger.json engineVersion (a test keeps them equal)."""
TEMPLATE_GLOBS = ("**/template.yaml", "**/template.yml", "**/*.template")
"""Any SAM/CloudFormation template anywhere runs the infrastructure validation."""


@dataclass(frozen=True)
class Caller:
    """Who runs the workflows: `module` (a Git reference such as github.com/ORG/REPO@v0.1.0; empty: the module in
    the checkout), where the app sits in the repository (`app`, "." at the root), the directories of its templates,
    and extra paths whose change re-validates the infrastructure."""

    module: str
    app: str
    template_dirs: tuple[str, ...]
    extra_paths: tuple[str, ...] = ()

    def _in_app(self, path: str) -> str:
        return path if self.app == "." else posixpath.join(self.app, path)

    def paths(self) -> list[str]:
        """validate-infrastructure's path filters."""
        dirs = [self._in_app(f"{d}/**") for d in self.template_dirs if d not in ("", ".")]
        return [*dirs, self._in_app("pipeline.yaml"), *TEMPLATE_GLOBS, *self.extra_paths,
                f"{WORKFLOWS_DIR}/validate-infrastructure.yml"]

    def render(self, template: str) -> str:
        module = f"          module: {self.module}\n" if self.module else ""
        paths = "\n".join(f'      - "{p}"' for p in self.paths())
        return (template.replace("@MODULE@", module).replace("      @PATHS@", paths)
                .replace("@ENGINE@", ENGINE_VERSION).replace("@SOURCE@", self.app)
                .replace("@REPO_PATH@", "" if self.app == "." else f" --repo-path {self.app}"))


def render(caller: Caller) -> dict[str, str]:
    """Each workflow's path in the repository -> its text."""
    return {f"{WORKFLOWS_DIR}/{name}": caller.render((TEMPLATES / name).read_text()) for name in NAMES}


SAMPLE = Caller(module="", app="examples/coagent", template_dirs=("backend",),
                extra_paths=("ci/stages/infra/**", "ci/scripts/cfn-lint-rules/**"))
"""This repository: the sample app in examples/coagent, the module checked out beside it (its own infra checks
re-validate the sample's templates)."""


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m ci.adoption.workflows --write  (from the repository root)")
    for path, text in render(SAMPLE).items():
        Path(path).write_text(text)
