"""The sample app and the fixtures for tests: paths, a clean copy of the app, and a local run on a source."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from ci.core.sources import ignored
from ci.executors.local import LocalExecutor

ROOT = Path(__file__).resolve().parent.parent
COAGENT = ROOT / "examples" / "coagent"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_app(dest: Path) -> Path:
    """A copy of the sample app without installs or build output (what a fresh checkout holds)."""
    shutil.copytree(COAGENT, dest, ignore=lambda d, names: {
        n for n in names if ignored((Path(d) / n).relative_to(COAGENT).as_posix())})
    return dest


def server_rendered(app: Path) -> Path:
    """The app made server-rendered: `output: "export"` taken out of its next.config, so `next build` writes no out/."""
    config = app / "next.config.ts"
    config.write_text(config.read_text().replace('  output: "export",\n', ""))
    assert 'output: "export"' not in config.read_text()
    return app


def run_local(coro_fn, source: Path, secrets: dict[str, str] | None = None):
    """Run `coro_fn(executor)` with a LocalExecutor on `source` and return its result."""

    async def main():
        async with LocalExecutor(source, secrets) as executor:
            return await coro_fn(executor)

    return asyncio.run(main())
