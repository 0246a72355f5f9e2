"""`route`: the app's pipeline.yaml read, the event routed (`ci.delivery.routing`), the route rendered."""

from __future__ import annotations

from ci.core.executor import Executor
from ci.delivery import routing
from ci.pipeline.runner import load


async def route(executor: Executor, event: str, ref: str, base_ref: str = "", environment: str = "",
                release: str = "", schedule: str = "", fmt: str = "table") -> str:
    """The stages and the environment of one event, as text or JSON; a malformed tag or flag is a UsageError."""
    config = await load(executor)
    return routing.render(routing.route(config, event, ref, base_ref, environment, release, schedule), fmt)
