"""The runner's `load`: pipeline.yaml plus what it reads of the app (Node version files, the integration config)
through the executor, on planted app files."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

from ci.config import ConfigError
from ci.config.node_releases import lts
from ci.pipeline import runner

PACKAGE = json.dumps({"name": "app", "engines": {"node": ">=24"}}, indent=2)


class Files:
    """An executor that only reads planted files."""

    name = "files"

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    async def read_source_file(self, path: str) -> str | None:
        return self.files.get(path)


def load(files: dict[str, str]):
    return asyncio.run(runner.load(Files(files)))


def test_the_node_majors_come_from_the_apps_files_where_pipeline_yaml_is_silent():
    assert (load({".nvmrc": "v26.1.0\n", "package.json": PACKAGE}).tests.node_versions) == [26]
    config = load({"package.json": PACKAGE, "pipeline.yaml": "node: 26\n"})
    assert (config.node, config.tests.node_versions) == (26, [m for m in lts(date.today()) if m >= 24])
    assert load({}).tests.node_versions == lts(date.today())


def test_a_version_file_the_pipeline_cannot_read_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^\.node-version:1: \.node-version names Node 'banana'"):
        load({".node-version": "banana\n"})


def test_an_integration_suite_turned_on_but_missing_is_a_config_error_at_its_key():
    yaml = "version: 1\ntests:\n  integration:\n    enabled: true\n"
    with pytest.raises(ConfigError) as caught:
        load({"pipeline.yaml": yaml})
    assert str(caught.value).startswith("pipeline.yaml:4: tests.integration.enabled is true but the app has no "
                                        "jest.integration.config.mjs (tests.integration.config)")
    assert load({"pipeline.yaml": yaml, "jest.integration.config.mjs": "export default {};\n"})
    assert load({"pipeline.yaml": "tests:\n  shards: 2\n"}).tests.integration.enabled  # the default: skipped later
