"""Which environment and which template a delivery function works on, from pipeline.yaml: `environments.NAME`, and
its `template`, else the one template `infra.templates` names or the source holds."""

from __future__ import annotations

from ci.config import Config
from ci.config.model import Environment
from ci.core.errors import UsageError


def environment(config: Config, name: str) -> Environment:
    """`environments.NAME`; UsageError listing the configured ones, or saying which keys to add."""
    if not name:
        raise UsageError("--env: name the environment, one of pipeline.yaml's environments")
    if name not in config.environments:
        if not config.environments:
            raise UsageError(f"--env {name}: pipeline.yaml has no environments; add environments.{name} with region, "
                             "stack_name and artifacts_bucket")
        raise UsageError(f"--env {name}: no such environment; pipeline.yaml has {', '.join(sorted(config.environments))}")
    return config.environments[name]


def template(config: Config, name: str, found: list[str]) -> str:
    """The environment's template: its `template` key, else the one found (`runner.infra_templates`)."""
    chosen = config.environments[name].template
    if chosen:
        return chosen
    if not found:
        raise UsageError(f"--env {name}: the app has no SAM/CloudFormation template; add one, or set "
                         f"environments.{name}.template")
    if len(found) > 1:
        raise UsageError(f"--env {name}: {len(found)} templates ({', '.join(found)}); set environments.{name}.template "
                         "to the stack's")
    return found[0]
