"""Which Node majors an app runs on when pipeline.yaml does not say (pure: planted file texts, fixed days)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ci.config import ConfigError, load_config
from ci.config.node import admits, choose, with_app_node
from ci.config.node_releases import lts, supported

TODAY = date(2026, 12, 1)


def engines(spec: str) -> dict[str, str]:
    return {"package.json": json.dumps({"name": "app", "engines": {"node": spec}}, indent=2)}


# the release schedule

def test_the_lts_majors_of_a_day():
    assert lts(TODAY) == supported(TODAY) == [22, 24, 26]
    assert lts(date(2026, 4, 29)) == [20, 22, 24] and lts(date(2026, 4, 30)) == [22, 24]  # 20: end of life 04-30
    assert lts(date(2026, 10, 27)) == [22, 24] and lts(date(2026, 10, 28)) == [22, 24, 26]  # 26: LTS from 10-28
    assert supported(date(2026, 5, 31)) == [22, 24, 25, 26]  # 25 is current (never LTS) until 2026-06-01
    assert lts(date(2040, 1, 1)) == [26]  # past the table: its newest LTS major, not nothing


# the choice

@pytest.mark.parametrize(("files", "majors"), [
    ({".nvmrc": "22\n"}, [22]),
    ({".nvmrc": "v24.11.1\n"}, [24]),
    ({".nvmrc": "# pinned for the team\n\nlts/jod\n"}, [22]),
    ({".nvmrc": "lts/*"}, [26]),
    ({".nvmrc": "node"}, [26]),
    ({".node-version": "24.1"}, [24]),
    ({".tool-versions": "python 3.12.1\nnodejs 22.11.0 20.18.0\n"}, [22]),
    ({".tool-versions": "python 3.12.1\n", ".node-version": "24"}, [24]),  # no nodejs line: the next file decides
    ({".nvmrc": "24", **engines(">=20.9.0")}, [24]),  # a version file wins over engines
    (engines(">=20.9.0"), [22, 24, 26]),  # 20 is end-of-life: not among the supported majors
    (engines("^22 || ^24"), [22, 24]),
    (engines("22 - 24"), [22, 24]),
    (engines(">=22 <26"), [22, 24]),
    (engines("<24"), [22]),
    (engines(">24"), [26]),
    (engines(">24.1"), [24, 26]),
    (engines("~24.1 || 26.x"), [24, 26]),
    (engines(">= 24"), [24, 26]),
    (engines("*"), [22, 24, 26]),
    ({}, [22, 24, 26]),  # nothing declared: the LTS majors of the day
    ({"package.json": "{not json"}, [22, 24, 26]),
])
def test_the_majors_come_from_the_apps_own_files(files: dict[str, str], majors: list[int]):
    assert choose(files, TODAY) == majors


@pytest.mark.parametrize(("files", "message"), [
    ({".nvmrc": "hydrogenium\n"}, ".nvmrc:1: .nvmrc names Node 'hydrogenium', which the pipeline cannot read as a "
                                  "major; write a major such as 22, or set tests.node_versions and node in pipeline.yaml"),
    ({".nvmrc": "\n16.20.0\n"}, ".nvmrc:2: .nvmrc names Node 16; the pipeline runs Node 18 to 30: update .nvmrc, or "
                                "set tests.node_versions and node in pipeline.yaml"),
    (engines("^18"), "package.json:4: engines.node '^18' admits none of the supported Node majors (22, 24, 26); "
                     "widen it, or set tests.node_versions and node in pipeline.yaml"),
    (engines("latest please"), "package.json:4: engines.node 'latest please' is not a version range the pipeline "
                               "reads; write one such as '>=22', or set tests.node_versions and node in pipeline.yaml"),
])
def test_a_file_the_choice_cannot_use_is_one_line_naming_the_fix(files: dict[str, str], message: str):
    with pytest.raises(ConfigError) as caught:
        choose(files, TODAY)
    assert str(caught.value) == message


@pytest.mark.parametrize(("spec", "major", "expected"), [
    (">=20.9.0", 20, True), (">=20.9.0", 19, False), ("<20.0.0", 20, False), ("<20.0.1", 20, True),
    ("<=20", 20, True), ("<=20.3", 21, False), ("^0.12 || 22.x", 22, True), ("=24.0.0", 24, True),
    ("v24", 24, True), (">=18 <20 || >=22", 21, False), ("20.1.2 - 22", 23, False), ("x", 27, True),
    ("nope", 22, None), (">=22 <bad", 22, None),
])
def test_a_range_admits_a_major_when_it_admits_one_of_its_versions(spec: str, major: int, expected: bool | None):
    assert admits(spec, major) is expected


# pipeline.yaml stays the override

def test_pipeline_yaml_overrides_each_of_the_two_on_its_own():
    files = {".nvmrc": "24\n"}
    chosen = with_app_node(load_config(None), files, TODAY)
    assert (chosen.node, chosen.tests.node_versions) == (24, [24])
    matrix_set = with_app_node(load_config("tests:\n  node_versions: [22, 26]\n"), files, TODAY)
    assert (matrix_set.node, matrix_set.tests.node_versions) == (24, [22, 26])
    node_set = with_app_node(load_config("node: 26\n"), files, TODAY)
    assert (node_set.node, node_set.tests.node_versions) == (26, [24])
    both = load_config("node: 26\ntests:\n  node_versions: [22]\n")
    assert with_app_node(both, {".nvmrc": "not a version"}, TODAY) is both  # the app's files are not even read


def test_the_oldest_major_the_app_admits_runs_the_single_version_steps():
    chosen = with_app_node(load_config("quality:\n  max_warnings: 3\n"), engines(">=24"), TODAY)
    assert (chosen.node, chosen.tests.node_versions, chosen.quality.max_warnings) == (24, [24, 26], 3)
