"""The `validate-infra` gate: cfn-lint and `sam validate` on every template (`runner.infra_templates`), one step each."""

from __future__ import annotations

from ci.config import Config
from ci.core.errors import UsageError
from ci.core.step import Step
from ci.stages.infra import cfn_lint, sam_validate


def steps(config: Config, templates: list[str]) -> list[Step]:
    """cfn-lint's and then sam validate's step of each template; no template at all is a usage error, never a pass."""
    if not templates:
        raise UsageError("validate-infra: the app has no SAM/CloudFormation template (none found in its YAML/JSON "
                         "files); name them in pipeline.yaml's infra.templates")
    return [*cfn_lint.steps(config, templates), *sam_validate.steps(config, templates)]
