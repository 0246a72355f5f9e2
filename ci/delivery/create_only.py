"""The properties whose change replaces a resource (CloudFormation's `createOnlyProperties`), by resource type.

The table `create_only.json` is generated from the resource provider schemas cfn-lint ships (`python -m
ci.delivery.create_only --write`; a test checks it is current with the installed cfn-lint), so the Dagger module
runtime needs no cfn-lint. The schemas miss some (AWS's docs say "Update requires: Replacement"), kept in
`OVERRIDES`.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

TABLE = Path(__file__).with_name("create_only.json")
REGION = "us-east-1"
OVERRIDES: dict[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("KeySchema",),
    "AWS::Cognito::UserPool": ("AliasAttributes", "UsernameAttributes"),
}
"""Replacement-forcing properties the schemas leave out (checked against cfn-lint 1.58's schemas: absent there)."""


def from_cfn_lint() -> dict[str, list[str]]:
    """Every resource type's top-level create-only properties, from cfn-lint's provider schemas (dev only)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # noqa: PLC0415 (a dev tool: only the generator needs it)

    table = {}
    for resource_type in PROVIDER_SCHEMA_MANAGER.get_resource_types(REGION):
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
        names = sorted({p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.count("/") >= 2})
        if names:
            table[resource_type] = names
    return dict(sorted(table.items()))


@functools.cache
def table() -> dict[str, frozenset[str]]:
    """Resource type → the top-level properties whose change forces a replacement (schemas plus `OVERRIDES`)."""
    loaded = json.loads(TABLE.read_text())
    types = set(loaded) | set(OVERRIDES)
    return {t: frozenset(loaded.get(t, ())) | frozenset(OVERRIDES.get(t, ())) for t in types}


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate create_only.json from cfn-lint's schemas.")
    parser.add_argument("--write", action="store_true")
    text = json.dumps(from_cfn_lint(), separators=(",", ":")) + "\n"
    if parser.parse_args().write:
        TABLE.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
