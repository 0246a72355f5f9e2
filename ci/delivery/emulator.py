"""The emulator profile (a target with an endpoint URL: moto): moto does not run the SAM transform and cannot create
API Gateway resources from the translated template (a RestApi from an OpenAPI body has no methods: HTTP 500), so the
template is translated here (`ci.delivery.sam`) and the resource types moto cannot create are dropped, with
everything that refers to them. What was dropped is returned, for a warning; real AWS gets the template untouched."""

from __future__ import annotations

import copy
import json
from typing import Any

UNSUPPORTED_PREFIXES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")
UNSUPPORTED_TYPES = frozenset({"AWS::Lambda::Permission"})


def _unsupported(resource_type: str) -> bool:
    return resource_type.startswith(UNSUPPORTED_PREFIXES) or resource_type in UNSUPPORTED_TYPES


def _refers(value: Any, ids: set[str]) -> bool:
    """Whether a template value refers to any of `ids` (Ref, GetAtt, Sub, DependsOn)."""
    text = json.dumps(value)
    return any(f'"{i}"' in text or f'"{i}.' in text or "${" + i + "}" in text or "${" + i + "." in text for i in ids)


def profile(template: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The template without what the emulator cannot create, and what was dropped: (logical id or `Outputs.X`,
    type). A resource or output referring to a dropped resource goes too."""
    result = copy.deepcopy(template)
    resources = result.get("Resources", {})
    dropped = {i: r.get("Type", "") for i, r in resources.items() if _unsupported(r.get("Type", ""))}
    while True:
        more = {i: r.get("Type", "") for i, r in resources.items()
                if i not in dropped and _refers(r, set(dropped))}
        if not more:
            break
        dropped.update(more)
    result["Resources"] = {i: r for i, r in resources.items() if i not in dropped}
    outputs = {name: o for name, o in (result.get("Outputs") or {}).items() if _refers(o, set(dropped))}
    if "Outputs" in result:
        result["Outputs"] = {n: o for n, o in result["Outputs"].items() if n not in outputs}
    return result, [*sorted(dropped.items()), *((f"Outputs.{n}", "output") for n in sorted(outputs))]
