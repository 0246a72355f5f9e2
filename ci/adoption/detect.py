"""What an app has, read from its files (for `init`): its name, which tools its package.json brings, whether Next
exports it statically, its Jest integration config, its Node engines, and its SAM/CloudFormation templates with the
stateful resources and URL outputs in them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from ci.core.cfn_template import load_yaml

NEXT_CONFIGS = ("next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")
INTEGRATION_CONFIGS = ("jest.integration.config.mjs", "jest.integration.config.js", "jest.integration.config.cjs",
                       "jest.integration.config.ts")
STATIC_EXPORT = re.compile(r"""output\s*:\s*["']export["']""")
INTEGRATION_SCRIPT = re.compile(r"""(?:-c|--config)[= ]["']?(?P<path>[^\s"']+)""")
FILES = ("package.json", *NEXT_CONFIGS, *INTEGRATION_CONFIGS)
"""The app files `detect` reads, relative to the app."""


@dataclass(frozen=True)
class Template:
    """One template: its path, and the logical ids of its tables, buckets and URL outputs."""

    path: str
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    url_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class App:
    name: str
    engines_node: str | None
    lint: bool
    typecheck: bool
    format: bool
    unit: bool
    integration_config: str | None
    static_export: bool
    templates: tuple[Template, ...]


def _package(text: str | None) -> dict:
    if not text:
        return {}
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _mapping(package: dict, key: str) -> dict:
    """A package.json object field; anything else (absent, a list, a string) as empty."""
    value = package.get(key)
    return value if isinstance(value, dict) else {}


def stack_prefix(name: str) -> str:
    """A name usable in stack and bucket names: lower case, letters, digits and dashes, starting with a letter."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.split("/")[-1].lower()).strip("-")
    return (cleaned if cleaned[:1].isalpha() else f"app-{cleaned}".rstrip("-"))[:40]


def template(path: str, text: str | None) -> Template:
    """The stateful resources and URL outputs of one template (none when it does not parse)."""
    try:
        document = load_yaml(text or "")
    except yaml.YAMLError:  # validate-infra reports it; nothing to detect in it
        return Template(path)
    if not isinstance(document, dict):
        return Template(path)
    resources = document.get("Resources") or {}
    outputs = tuple(sorted(k for k in (document.get("Outputs") or {}) if k.lower().endswith("url")))
    return Template(path, _of_type(resources, "AWS::DynamoDB::Table"), _of_type(resources, "AWS::S3::Bucket"),
                    outputs)


def _of_type(resources: dict, kind: str) -> tuple[str, ...]:
    return tuple(sorted(k for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == kind))


def not_an_app(files: Mapping[str, str | None]) -> str | None:
    """Why init cannot adopt this directory (no package.json, or no Next.js in it), with the fix; None when it can."""
    if files.get("package.json") is None:
        return ("init: this directory has no package.json; run init where the Next.js app's package.json is "
                "(e.g. --source web)")
    try:
        parsed = json.loads(files["package.json"])
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return "init: package.json is not a JSON object; fix it (npm refuses it too), then run init again"
    if "next" not in {**_mapping(parsed, "dependencies"), **_mapping(parsed, "devDependencies")}:
        return ("init: package.json has no next dependency, and Bayon Pipeline builds Next.js apps; run init in the "
                "Next.js app's directory, or add next to its dependencies")
    return None


def detect(files: Mapping[str, str | None], templates: Mapping[str, str | None], default_name: str) -> App:
    """The app, from its files (path -> text, None when absent) and its templates (path -> text)."""
    package = _package(files.get("package.json"))
    deps = {**_mapping(package, "dependencies"), **_mapping(package, "devDependencies")}
    scripts = {k: v for k, v in _mapping(package, "scripts").items() if isinstance(v, str)}
    engines = _mapping(package, "engines")
    integration = next((p for p in INTEGRATION_CONFIGS if files.get(p) is not None), None)
    script = INTEGRATION_SCRIPT.search(scripts.get("test:integration", ""))
    if script and files.get(script["path"]) is not None:
        integration = script["path"]
    static = any(STATIC_EXPORT.search(files.get(p) or "") for p in NEXT_CONFIGS)
    return App(
        name=stack_prefix(str(package.get("name") or default_name)),
        engines_node=engines["node"] if isinstance(engines.get("node"), str) else None,
        lint="eslint" in deps, typecheck="typescript" in deps, format="prettier" in deps,
        unit="jest" in deps or "jest" in scripts.get("test", ""),
        integration_config=integration, static_export=static,
        templates=tuple(template(path, text) for path, text in sorted(templates.items())),
    )
