"""The pipeline's GitHub workflows: every job is checkout plus one pinned dagger step on the sample app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PROJECT_OWN = {"tests.yml"}  # the project's own test workflow may be ordinary
ENGINE = json.loads((ROOT / "dagger.json").read_text())["engineVersion"]


def pipeline_workflows() -> list[Path]:
    return sorted(p for p in WORKFLOWS.glob("*.yml") if p.name not in PROJECT_OWN)


@pytest.mark.parametrize("path", pipeline_workflows(), ids=lambda p: p.name)
def test_every_job_is_checkout_plus_one_pinned_dagger_step(path: Path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"], f"{path.name}: set least-privilege permissions"
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        assert len(steps) == 2, f"{path.name}:{name} has {len(steps)} steps"
        assert steps[0]["uses"].startswith("actions/checkout@")
        dagger_step = steps[1]
        assert dagger_step["uses"].startswith("dagger/dagger-for-github@v8")
        assert dagger_step["with"]["version"] == ENGINE, "the action must run the engine dagger.json names"
        assert "--source examples/coagent" in dagger_step["with"]["call"]


def test_ci_runs_on_every_push_pull_request_and_by_hand():
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["**"]
    assert "pull_request" in triggers and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}
