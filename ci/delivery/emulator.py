"""The emulator profile (a target with an endpoint URL: moto): moto does not run the SAM transform and cannot create
API Gateway resources from the translated template (a RestApi from an OpenAPI body has no methods: HTTP 500), so the
template is translated here (`ci.delivery.sam`) and the resource types moto cannot create are dropped, with
everything that refers to them. What was dropped is returned, for a warning; real AWS gets the template untouched.

The types moto's CloudFormation creates are `emulator_types.json`, generated from moto's own model registry
(`python -m ci.delivery.emulator --write`; a test checks it is current with the installed moto): any other type
(Amplify, Cognito, CloudWatch alarms, ...) moto skips on a creation ("No Moto CloudFormation support") and then
fails an update whose outputs refer to it (HTTP 500), so it is dropped too.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
from pathlib import Path
from typing import Any

TYPES = Path(__file__).with_name("emulator_types.json")
UNSUPPORTED_PREFIXES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")
UNSUPPORTED_TYPES = frozenset({"AWS::Lambda::Permission"})
"""Types moto models but cannot create from a translated SAM template."""
CUSTOM_PREFIXES = ("Custom::", "AWS::CloudFormation::CustomResource")
"""Custom resources: moto models them all."""


def from_moto() -> list[str]:
    """The resource types moto's CloudFormation creates (its model registry and its null models; dev only)."""
    from moto.cloudformation import parsing  # noqa: PLC0415 (a dev tool: only the generator needs it)

    return sorted(t for t in set(parsing.get_model_map()) | set(parsing.NULL_MODELS) if t.count("::") == 2)


@functools.cache
def creatable() -> frozenset[str]:
    return frozenset(json.loads(TYPES.read_text()))


def _unsupported(resource_type: str) -> bool:
    if resource_type.startswith(CUSTOM_PREFIXES):
        return False
    return (resource_type.startswith(UNSUPPORTED_PREFIXES) or resource_type in UNSUPPORTED_TYPES
            or resource_type not in creatable())


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


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate emulator_types.json from the installed moto.")
    parser.add_argument("--write", action="store_true")
    text = json.dumps(from_moto(), indent=0) + "\n"
    if parser.parse_args().write:
        TYPES.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
