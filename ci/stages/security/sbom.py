"""The SBOM: a CycloneDX JSON bill of materials of the installed dependencies (`npm sbom`), exported with the reports.

`npm sbom` reads the installed tree and the lockfile, offline. It prints the SBOM, which the step writes to
`sbom.cdx.json` in its report directory, so `reports --function security` (or `sbom`) exports it as
`security/sbom/sbom.cdx.json`. The judge checks that it is CycloneDX JSON listing the components.

Every installed package is listed; dev dependencies carry the `cdx:npm:package:development` property. `--omit dev` is
not used: npm 11 then also drops production packages that a dev dependency shares (npm/cli#7909; in the sample app
react, react-dom, scheduler and four more), and an SBOM must not miss what ships.
"""

from __future__ import annotations

import json

from ci.core.findings import finding, verdict
from ci.core.step import Judgement, ReportError, Step, StepRun

STEP_ID = "security/sbom"
SBOM = "sbom.cdx.json"
ARGV = ("sh", "-c", 'exec npm sbom --sbom-format cyclonedx --sbom-type application > "$1"', "npm-sbom",
        "{reports}/" + SBOM)
REQUIRED = ("bom-ref", "name", "version", "purl")
DEVELOPMENT = "cdx:npm:package:development"


def missing(component: object) -> list[str]:
    """The identifying fields a component lacks."""
    return [k for k in REQUIRED if not (isinstance(component, dict) and component.get(k))]


def is_dev(component: dict) -> bool:
    return any(p.get("name") == DEVELOPMENT for p in component.get("properties") or [] if isinstance(p, dict))


def judge(run: StepRun) -> Judgement:
    """CycloneDX JSON with `bomFormat`, `specVersion` and a non-empty component list, each naming its package."""
    data = run.files.get(SBOM)
    if not data:
        raise ReportError(f"npm sbom wrote no SBOM ({SBOM})")
    try:
        bom = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"{SBOM} is not JSON: {exc}") from exc
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX" or not isinstance(bom.get("specVersion"), str):
        raise ReportError(f"{SBOM} is not a CycloneDX SBOM (no bomFormat CycloneDX with a specVersion)")
    components = bom.get("components")
    if not isinstance(components, list):
        raise ReportError(f"{SBOM} has no components list")
    app = (bom.get("metadata") or {}).get("component") or {}
    found = [finding("sbom/component", "error", SBOM, None, None, f"component #{i} lacks {', '.join(gaps)}")
             for i, c in enumerate(components) if (gaps := missing(c))]
    if not components:
        found.append(finding("sbom/empty", "error", SBOM, None, None,
                             "the SBOM lists no components; the app's production dependencies are missing from it"))
    result = verdict(found)
    dev = sum(1 for c in components if isinstance(c, dict) and is_dev(c))
    what = (f"{len(components)} component(s) ({len(components) - dev} production, {dev} dev), "
            f"CycloneDX {bom['specVersion']}, of {app.get('bom-ref', 'the app')}")
    return Judgement(result.status, result.findings, what if not found else f"{what}: {result.reason}")


def step(node_major: int) -> Step:
    # npm sbom exits non-zero when it cannot describe the tree (e.g. ESBOMPROBLEMS: a missing dependency): a crash.
    return Step(id=STEP_ID, tool="npm-sbom", argv=ARGV, node_major=node_major, outputs=(SBOM,),
                finding_codes=frozenset(), timeout_s=300, judge=judge)
