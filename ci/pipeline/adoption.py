"""`init`: the app's files read through the executor, what it has detected (`ci.adoption.detect`), and the files to
write into it (`ci.adoption.adopt`); the faces write them (bayon) or return them as a Changeset (Dagger)."""

from __future__ import annotations

from ci.adoption import adopt, detect
from ci.config import DEFAULT
from ci.core.errors import UsageError
from ci.core.executor import Executor
from ci.pipeline.runner import infra_templates


async def init(executor: Executor, module: str, force: bool = False) -> dict[str, str]:
    """Path -> text of pipeline.yaml and the workflows; files already there are refused unless `force`."""
    adopt.check_module(module)
    files = {path: await executor.read_source_file(path) for path in detect.FILES}
    refused = detect.not_an_app(files)
    if refused:
        raise UsageError(refused)
    found = await infra_templates(executor, DEFAULT)
    app = detect.detect(files, {path: await executor.read_source_file(path) for path in found}, "app")
    written = adopt.written(app, module)
    present = [path for path in written if await executor.read_source_file(path) is not None]
    if present and not force:
        raise UsageError(f"init: {', '.join(present)} exist(s); pass --force to overwrite, or move them away first")
    return written
