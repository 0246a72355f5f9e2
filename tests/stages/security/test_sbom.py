"""The SBOM judge on a recorded `npm sbom` CycloneDX document and on broken ones (the real run is in
test_security.py, where the stage exports it)."""

from __future__ import annotations

import json

import pytest
from apps import FIXTURES

from ci.stages.security import sbom
from ci.core.scheduler import judge_run
from ci.core.step import ReportError, StepRun

RECORDED = (FIXTURES / "security" / "sbom.cdx.json").read_bytes()


def judged(data: bytes | None):
    return sbom.judge(StepRun(exit_code=0, files={sbom.SBOM: data}))


def edited(change) -> bytes:
    bom = json.loads(RECORDED)
    change(bom)
    return json.dumps(bom).encode()


def test_a_recorded_sbom_passes_and_counts_dev_components():
    judgement = judged(RECORDED)
    assert judgement.status == "passed" and not judgement.findings
    assert judgement.reason == "4 component(s) (3 production, 1 dev), CycloneDX 1.5, of coagent@0.1.0"


@pytest.mark.parametrize(("data", "message"), [
    (None, "npm sbom wrote no SBOM"),
    (b"", "npm sbom wrote no SBOM"),
    (b"npm error ESBOMPROBLEMS", "is not JSON"),
    (b'{"spdxVersion": "SPDX-2.3"}', "is not a CycloneDX SBOM"),
    (edited(lambda b: b.pop("specVersion")), "is not a CycloneDX SBOM"),
    (edited(lambda b: b.pop("components")), "has no components list"),
])
def test_what_is_not_a_cyclonedx_sbom_crashes(data, message):
    with pytest.raises(ReportError, match=message):
        judged(data)


def test_an_empty_or_incomplete_component_list_fails():
    empty = judged(edited(lambda b: b.update(components=[])))
    assert empty.status == "failed" and [f.rule for f in empty.findings] == ["sbom/empty"]
    partial = judged(edited(lambda b: b["components"][1].pop("version")))
    assert partial.status == "failed"
    assert [(f.rule, f.message) for f in partial.findings] == [("sbom/component", "component #1 lacks version")]


def test_npm_sbom_failing_is_a_crash_with_its_stderr():
    run = StepRun(exit_code=1, stderr="npm error code ESBOMPROBLEMS\nnpm error missing: react@19.3.1")
    judgement = judge_run(sbom.step(22), run)
    assert judgement.status == "crashed" and "missing: react@19.3.1" in judgement.reason


def test_the_step_writes_the_whole_tree_to_the_reports():
    step = sbom.step(22)
    assert step.outputs == ("sbom.cdx.json",) and step.argv[-1] == "{reports}/sbom.cdx.json"
    assert "--omit" not in step.argv[2]  # npm/cli#7909: --omit dev drops production packages shared with dev ones
