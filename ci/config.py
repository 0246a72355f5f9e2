"""`pipeline.yaml`, the one config file in an app repo: its shape, its validator and its JSON Schema.

The config is described once, as the frozen dataclasses below: a field's type hint is its type, its metadata holds
its `doc` and constraints (`min`/`max` bound numbers, `pattern` strings, list items and dict keys, `non_empty`
strings and lists, `unique` list items, `examples` feed hints and the schema). Both the validator (`load_config`) and
the published schema (`json_schema`, written to `ci/schemas/pipeline.schema.json` by
`python -m ci.config --write-schema`) are derived from them, so the two cannot disagree.

Every field has a default, so an app without the file works; a section left empty (`quality:`) means its defaults.
The YAML is composed, not loaded, so every value keeps its line: each problem is one `ConfigError` reading
`pipeline.yaml:LINE: what is wrong; how to fix it`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import sys
from collections.abc import Collection
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import date
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, NoReturn, get_args, get_origin, get_type_hints

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

SCHEMA_PATH = Path(__file__).parent / "schemas" / "pipeline.schema.json"
REQUIRED: Any = MISSING
ENVIRONMENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _f(default: Any, doc: str, **meta: Any) -> Any:
    """A config field: its default (`REQUIRED` for none), its doc and its constraints."""
    meta = {"doc": doc, **meta}
    if default is REQUIRED:
        return field(metadata=meta)
    if isinstance(default, type):
        return field(default_factory=default, metadata=meta)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Quality:
    """The code-quality stage: ESLint, tsc and Prettier, run concurrently."""

    lint: bool = _f(True, "Run ESLint and fail on any error.")
    typecheck: bool = _f(True, "Run `tsc --noEmit` and fail on any type error.")
    format: bool = _f(True, "Run `prettier --list-different` and fail on any unformatted file.")
    max_warnings: int = _f(0, "ESLint warnings allowed before the gate fails.", min=0)


@dataclass(frozen=True)
class Coverage:
    """Minimum Jest coverage per metric, in percent; the unit-test gate fails below any of them."""

    lines: float = _f(70.0, "Minimum line coverage, in percent.", min=0, max=100)
    branches: float = _f(70.0, "Minimum branch coverage, in percent.", min=0, max=100)
    functions: float = _f(70.0, "Minimum function coverage, in percent.", min=0, max=100)
    statements: float = _f(70.0, "Minimum statement coverage, in percent.", min=0, max=100)


@dataclass(frozen=True)
class Integration:
    """Integration tests against an AWS emulator the pipeline starts."""

    enabled: bool = _f(True, "Run the integration tests.")
    config: str = _f("jest.integration.config.mjs", "Jest config file for the integration tests, relative to the app.")
    emulator_image: str = _f("motoserver/moto:5.1.4", "Container image of the AWS emulator (moto in server mode).")


@dataclass(frozen=True)
class Tests:
    """The unit and integration tests."""

    __test__ = False  # not a pytest test class

    node_versions: list[int] = _f(
        [22, 24],
        "Node majors the unit tests run on, in parallel: the test matrix.",
        min=18, max=30, non_empty=True, unique=True, examples=[[20, 22, 24]],
    )
    shards: int = _f(1, "How many parts the unit tests are split into, run in parallel and merged.", min=1, max=32)
    coverage: Coverage = _f(Coverage, "Coverage thresholds of the unit-test gate.")
    integration: Integration = _f(Integration, "Integration tests against the AWS emulator.")
    docs_patterns: list[str] = _f(
        ["**/*.md", "docs/**"],
        "Path globs of documentation (`**` spans directories): when `ci --base` finds only these changed, it skips "
        "tests and build. Matched relative to the app, or to the repository root for paths outside the app.",
        examples=[["**/*.md", "docs/**", "**/*.png"]],
    )


@dataclass(frozen=True)
class Budgets:
    """Bundle-size budgets for the JavaScript each exported page loads, in kB (1000 bytes) after gzip."""

    total_gzip_kb: float | None = _f(
        None, "Budget for the distinct scripts of all routes together; none by default.", min=0, examples=[800]
    )
    route_gzip_kb: float | None = _f(
        None, "Budget for each route not listed in routes; none by default.", min=0, examples=[200]
    )
    routes: dict[str, float] = _f(
        {}, "Budget per route path, overriding route_gzip_kb.", min=0, pattern="^/", examples=[{"/": 150}]
    )


@dataclass(frozen=True)
class Build:
    """The production build (`next build`, static export) and its bundle-size gate."""

    bundler: Literal["turbopack", "webpack"] = _f("turbopack", "Bundler `next build` uses.")
    budgets: Budgets = _f(Budgets, "Bundle-size budgets.")
    baseline: str = _f(
        ".bayon/baselines/bundle-sizes.json", "Baseline bundle-size file in the app repo, compared against the build."
    )
    max_growth_pct: float = _f(10.0, "Growth over the baseline, in percent, that fails the gate.", min=0)


@dataclass(frozen=True)
class AllowlistEntry:
    """An accepted advisory: the audit gate ignores it until it expires."""

    id: str = _f(REQUIRED, "Advisory id: its GHSA id or npm's numeric id (for Snyk also its SNYK-... or CVE id).",
                 non_empty=True, examples=["GHSA-xxxx-xxxx-xxxx"])
    reason: str = _f(REQUIRED, "Why this advisory is accepted.", non_empty=True)
    expires: date = _f(REQUIRED, "Date (YYYY-MM-DD) after which the entry fails the gate.", examples=["2026-06-30"])


@dataclass(frozen=True)
class Audit:
    """The dependency audit (`npm audit`)."""

    fail_on: Literal["low", "moderate", "high", "critical"] = _f("high", "Lowest severity that fails the gate.")
    on_unavailable: Literal["fail", "warn"] = _f(
        "fail", "What an unreachable advisory service does to the gate: fail it, or only warn."
    )
    include_dev: bool = _f(True, "Audit dev dependencies too (reported apart from production ones).")
    allowlist: list[AllowlistEntry] = _f([], "Accepted advisories, each with a reason and an expiry date.")


@dataclass(frozen=True)
class SecretsScan:
    """The secrets scan of the working tree and the git history."""

    baseline: str = _f(".secrets.baseline", "Baseline file of accepted findings, in the app repo.")


@dataclass(frozen=True)
class Sast:
    """Static analysis with Semgrep, on rules kept in the repo."""

    rules: str = _f(".bayon/semgrep", "Semgrep rules directory or file in the app repo.")


@dataclass(frozen=True)
class LicenseException:
    """A package whose license is accepted whatever the lists say."""

    package: str = _f(REQUIRED, "npm package name.", non_empty=True, examples=["sharp"])
    reason: str = _f(REQUIRED, "Why this package's license is accepted.", non_empty=True)


@dataclass(frozen=True)
class Licenses:
    """License compliance of the installed dependencies."""

    include_dev: bool = _f(False, "Check dev dependencies too.")
    deny: list[str] = _f(["GPL-*", "AGPL-*"], "SPDX license id globs that fail the gate.")
    warn: list[str] = _f(["LGPL-*"], "SPDX license id globs that only warn.")
    allow: list[str] = _f(
        [], "SPDX license id globs that pass even when deny or warn match; if any, every other license warns.",
        examples=[["MIT"]])
    unknown: Literal["warn", "fail"] = _f("warn", "What an unknown or missing license does: warn, or fail the gate.")
    exceptions: list[LicenseException] = _f([], "Packages whose license is accepted, each with a reason.")


@dataclass(frozen=True)
class Security:
    """The security stage: dependency audit, secrets, SAST and licenses."""

    audit: Audit = _f(Audit, "Dependency audit.")
    secrets: SecretsScan = _f(SecretsScan, "Secrets scan.")
    sast: Sast = _f(Sast, "Static analysis (Semgrep).")
    licenses: Licenses = _f(Licenses, "License compliance.")


@dataclass(frozen=True)
class Thresholds:
    """Minimum Lighthouse category scores (0-100)."""

    performance: int = _f(90, "Minimum performance score.", min=0, max=100)
    accessibility: int = _f(95, "Minimum accessibility score.", min=0, max=100)
    best_practices: int = _f(90, "Minimum best-practices score.", min=0, max=100)
    seo: int = _f(95, "Minimum SEO score.", min=0, max=100)


@dataclass(frozen=True)
class Lighthouse:
    """Lighthouse audits of the built site."""

    urls: list[str] = _f(["/"], "Paths of the pages to audit.", pattern="^/", non_empty=True)
    runs: int = _f(3, "Runs per page and preset; the median run counts.", min=1, max=10)
    presets: list[Literal["desktop", "mobile"]] = _f(
        ["desktop", "mobile"], "Device presets to audit with.", non_empty=True, unique=True
    )
    thresholds: Thresholds = _f(Thresholds, "Minimum category scores.")


@dataclass(frozen=True)
class Infra:
    """The SAM backend template and its checks."""

    template: str = _f("backend/template.yaml", "SAM template, relative to the app.")
    cfn_lint: bool = _f(True, "Check the template with cfn-lint.")


@dataclass(frozen=True)
class Environment:
    """A deployment target: a CloudFormation stack for the backend and an Amplify app for the frontend."""

    stack_name: str = _f(
        REQUIRED, "CloudFormation stack the backend deploys to.", non_empty=True, examples=["coagent-production"]
    )
    region: str = _f("us-east-1", "AWS region.", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    amplify_app_id: str | None = _f(
        None, "Amplify app the frontend deploys to; none skips the frontend deployment.", examples=["d1a2b3c4d5e6f7"]
    )
    amplify_branch: str = _f("main", "Amplify branch the frontend deploys to.")
    url: str | None = _f(
        None, "Public URL of the deployed app, for smoke tests.", pattern="^https?://",
        examples=["https://coagent.example.com"],
    )
    smoke_paths: list[str] = _f(["/"], "Paths the smoke test requests after a deployment.", pattern="^/")
    approvals: int = _f(
        0, "Approvals a deployment needs; documentation only: the GitHub environment's rules enforce it.", min=0, max=6
    )


@dataclass(frozen=True)
class Slack:
    """Slack notifications about pipeline runs."""

    enabled: bool = _f(False, "Send Slack notifications.")
    channel: str | None = _f(None, "Channel to post to; none uses the webhook's own channel.", examples=["#deploys"])
    on: list[Literal["success", "failure", "always"]] = _f(["failure"], "Outcomes that notify.", unique=True)


@dataclass(frozen=True)
class Notifications:
    """Where the pipeline reports its outcome."""

    slack: Slack = _f(Slack, "Slack notifications.")


@dataclass(frozen=True)
class Config:
    """Bayon Pipeline configuration of one app (pipeline.yaml). Every key is optional."""

    version: Literal[1] = _f(1, "Version of this file's format.")
    node: int = _f(22, "Node major for the steps that run on one version (lint, build, ...).", min=18, max=30)
    quality: Quality = _f(Quality, "Code quality: ESLint, tsc and Prettier.")
    tests: Tests = _f(Tests, "Unit tests (Node matrix, shards, coverage) and integration tests.")
    build: Build = _f(Build, "Production build and bundle-size budgets.")
    security: Security = _f(Security, "Dependency audit, secrets scan, SAST and license compliance.")
    lighthouse: Lighthouse = _f(Lighthouse, "Lighthouse audits.")
    infra: Infra = _f(Infra, "The SAM backend template.")
    environments: dict[str, Environment] = _f(
        {}, "Deployment targets by name.", pattern=ENVIRONMENT_NAME,
        examples=[{"production": {"stack_name": "coagent-production"}}],
    )
    notifications: Notifications = _f(Notifications, "Notifications.")


DEFAULT = Config()


class ConfigError(Exception):
    """A problem in pipeline.yaml; `str()` is the one-line `FILE:LINE: what is wrong; how to fix it`."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line


def load_config(text: str | None, *, filename: str = "pipeline.yaml", package_json: str | None = None) -> Config:
    """The validated config from the file's text (None or empty: the defaults); raises `ConfigError`.

    `package_json` (the app's package.json text) lets Node majors written in the file be checked against the lower
    bound of its `engines.node`.
    """
    try:
        root = yaml.compose(text or "", Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = min(mark.line + 1, len((text or "").splitlines()))  # an error at the end is on the last line
        message = f"YAML syntax error: {e.problem}; fix the indentation or quoting there"
        raise ConfigError(filename, line, message) from None
    except ReaderError as e:
        line = (text or "").count("\n", 0, e.position) + 1
        raise ConfigError(filename, line, f"YAML syntax error: {e.reason}; remove that character")
    if root is None:
        return Config()
    reader = _Reader(filename)
    if not isinstance(root, MappingNode) and not _is_null(root):
        reader.fail(root, f"the file must be a mapping of sections (version, quality, ...); got {_got(root)}")
    config = reader.read(root, Config, {}, "")
    reader.check_engines(config, package_json)
    return config


class _Reader:
    """Turns composed YAML nodes into config values, field by field, remembering the line of each value's path."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[str, int] = {}

    def fail(self, node: Node, message: str) -> NoReturn:
        raise ConfigError(self.filename, node.start_mark.line + 1, message)

    def read(self, node: Node, tp: Any, meta: dict[str, Any], path: str) -> Any:
        """The value of type `tp` at `node`; `meta` holds the constraints of the field it belongs to."""
        self.lines[path] = node.start_mark.line + 1
        origin, args = get_origin(tp), get_args(tp)
        if origin is UnionType:
            return None if _is_null(node) else self.read(node, _optional_of(tp), meta, path)
        if is_dataclass(tp):
            return self.read_object(node, tp, path)
        if origin is list:
            return self.read_list(node, args[0], meta, path)
        if origin is dict:
            return self.read_dict(node, args[1], meta, path)
        return self.read_scalar(node, tp, meta, path)

    def read_object(self, node: Node, cls: type, path: str) -> Any:
        specs = {f.name: f for f in fields(cls)}
        where = f"in {path}" if path else "at top level"
        allowed = f"(allowed: {', '.join(sorted(specs))})"
        if not (isinstance(node, MappingNode) or _is_null(node)):
            self.fail(node, f"{path} must be a mapping, got {_got(node)}; indent its keys under it {allowed}")
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for key_node, value_node in node.value if isinstance(node, MappingNode) else []:
            key = self.key(key_node, path, values)
            if key not in specs:
                guess = _suggest(key, specs)
                fix = f"did you mean {guess!r}?" if guess else "remove it or fix its name"
                self.fail(key_node, f"unknown key {key!r} {where}; {fix} {allowed}")
            meta = {**specs[key].metadata, "sample": _sample(specs[key])}
            values[key] = self.read(value_node, hints[key], meta, _join(path, key))
        for name, spec in specs.items():
            if name not in values and _default(spec) is MISSING:
                self.fail(node, f"missing required key {name!r} in {path}; add {name}: {_sample(spec)}")
        return cls(**values)

    def read_list(self, node: Node, item: Any, meta: dict[str, Any], path: str) -> list[Any]:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{path} must be a list, got {_got(node)}; write it as [item, ...] or as '- item' lines")
        if meta.get("non_empty") and not node.value:
            self.fail(node, f"{path} must not be empty; list at least one item, such as {json.dumps(meta['sample'])}")
        item_meta = {**meta, "sample": meta["sample"][0] if meta["sample"] else None}
        items = [self.read(n, item, item_meta, f"{path}[{i}]") for i, n in enumerate(node.value)]
        for i, value in enumerate(items):
            if meta.get("unique") and value in items[:i]:
                self.fail(node.value[i], f"{path} lists {_show(value)} twice; keep one")
        return items

    def read_dict(self, node: Node, value_type: Any, meta: dict[str, Any], path: str) -> dict[str, Any]:
        if not (isinstance(node, MappingNode) or _is_null(node)):
            self.fail(node, f"{path} must be a mapping of names to values, got {_got(node)}; write name: value lines")
        values: dict[str, Any] = {}
        for key_node, value_node in node.value if isinstance(node, MappingNode) else []:
            key = self.key(key_node, path, values)
            pattern = meta.get("pattern")
            if pattern and not re.search(pattern, key):
                example = next(iter(meta["sample"]))
                self.fail(key_node, f"name {key!r} in {path} must match {pattern}; use a name such as {example!r}")
            value_meta = {**meta, "pattern": None, "sample": next(iter(meta["sample"].values()), None)}
            values[key] = self.read(value_node, value_type, value_meta, _join(path, key))
        return values

    def key(self, node: Node, path: str, seen: dict[str, Any]) -> str:
        """A mapping key's name, refusing complex keys and duplicates."""
        if not isinstance(node, ScalarNode):
            self.fail(node, f"a key in {path or 'the file'} must be a name, got {_got(node)}; write name: value")
        if node.value in seen:
            self.fail(node, f"duplicate key {_join(path, node.value)!r}; keep one")
        return node.value

    def read_scalar(self, node: Node, tp: Any, meta: dict[str, Any], path: str) -> Any:
        value = _scalar(node)
        if _valid(value, node, tp, meta):
            return _parse_date(value) if tp is date else float(value) if tp is float else value
        self.fail(node, f"{path} must be {_expected(tp, meta)}, got {_got(node)}; {_fix(value, tp, meta, path)}")

    def check_engines(self, config: Config, package_json: str | None) -> None:
        """Node majors written in the file must not be below the app's `engines.node` lower bound."""
        spec, minimum = _engines_node(package_json)
        if minimum is None:
            return
        majors = {"node": config.node}
        majors.update((f"tests.node_versions[{i}]", v) for i, v in enumerate(config.tests.node_versions))
        for path, major in majors.items():
            if path in self.lines and major < minimum:
                raise ConfigError(
                    self.filename,
                    self.lines[path],
                    f"{path} is Node {major}, below the app's engines.node {spec!r} in package.json; "
                    f"use {minimum} or later, or lower engines.node",
                )


def _engines_node(package_json: str | None) -> tuple[str, int | None]:
    """package.json's `engines.node` and the major of its lower bound (`>=20.9.0`, `^20`, `20.x`), if it has one."""
    try:
        spec = json.loads(package_json or "{}").get("engines", {}).get("node")
    except (ValueError, AttributeError):
        return "", None
    match = re.match(r"\s*(?:>=?|\^|~|=)?\s*v?(\d+)", spec) if isinstance(spec, str) else None
    return (spec, int(match.group(1))) if match else ("", None)


_YAML_BOOLS = {"true", "false", "True", "False", "TRUE", "FALSE"}  # YAML 1.2's: no yes/no/on/off
_CONSTRUCTOR = SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
}


def _scalar(node: Node) -> Any:
    """A scalar node's value (dates stay text); None for null, lists and mappings."""
    if not isinstance(node, ScalarNode) or _is_null(node):
        return None
    construct = _SCALARS.get(node.tag)
    return construct(node) if construct else node.value


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _valid(value: Any, node: Node, tp: Any, meta: dict[str, Any]) -> bool:
    """Whether a scalar value has type `tp` and meets the field's constraints."""
    if get_origin(tp) is Literal:
        return any(value == choice and type(value) is type(choice) for choice in get_args(tp))
    if tp is bool:
        return isinstance(value, bool) and node.value in _YAML_BOOLS
    if tp is date:
        return isinstance(value, str) and _parse_date(value) is not None
    if tp is str:
        if not isinstance(value, str) or (meta.get("non_empty") and not value):
            return False
        return not meta.get("pattern") or re.search(meta["pattern"], value) is not None
    number = int if tp is int else (int, float)
    return (
        isinstance(value, number)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and meta.get("min", -math.inf) <= value <= meta.get("max", math.inf)
    )


def _parse_date(text: str) -> date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return date.fromisoformat(text) if re.match(DATE_PATTERN, text) else None
    except ValueError:
        return None


def _expected(tp: Any, meta: dict[str, Any]) -> str:
    """What a valid value is, as in 'X must be <this>'."""
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        return _show(choices[0]) if len(choices) == 1 else f"one of {', '.join(map(_show, choices))}"
    if tp is date:
        return "a date YYYY-MM-DD"
    if tp is bool:
        return "true or false"
    if tp is str:
        if meta.get("pattern"):
            return f"a string matching {meta['pattern']}"
        return "a non-empty string" if meta.get("non_empty") else "a string"
    low, high = meta.get("min"), meta.get("max")
    bounds = f" from {low} to {high}" if None not in (low, high) else f" >= {low}" if low is not None else ""
    return ("an integer" if tp is int else "a number") + bounds


def _fix(value: Any, tp: Any, meta: dict[str, Any], path: str) -> str:
    """How to fix a bad scalar value."""
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        if len(choices) == 1:
            return f"this Bayon Pipeline reads {path} {_show(choices[0])}"
        guess = _suggest(value, [str(c) for c in choices]) if isinstance(value, str) else None
        return f"did you mean {guess!r}?" if guess else "pick one of those"
    if tp is date:
        return "write a date such as 2026-06-30"
    if tp is bool:
        return "write true or false"
    if tp is str:
        verb = "write a string" if isinstance(value, str) else "put it in quotes"
        return f"{verb} such as {meta['sample']!r}"
    return f"write {'a whole number' if tp is int else 'a number'} such as {_show(meta['sample'])}"


def _default(spec: dataclasses.Field[Any]) -> Any:
    """A field's default value (a fresh one), or MISSING for a required field."""
    return spec.default_factory() if spec.default_factory is not MISSING else spec.default


def _sample(spec: dataclasses.Field[Any]) -> Any:
    """A value to show in hints: the field's first example, else its default, else its doc as `<...>`."""
    if spec.metadata.get("examples"):
        return spec.metadata["examples"][0]
    default = _default(spec)
    if default is not MISSING:
        return default
    doc = spec.metadata["doc"].rstrip(".")
    return f"<{doc[0].lower()}{doc[1:]}>"


def _suggest(word: str, choices: Collection[str]) -> str | None:
    """The allowed name closest to `word`, reading camelCase and kebab-case as snake_case."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", word).replace("-", "_").lower()
    if snake in choices:
        return snake
    close = difflib.get_close_matches(snake, list(choices), n=1)
    return close[0] if close else None


def _got(node: Node) -> str:
    """A node as written, for 'got ...'."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if _is_null(node):
        return "null"
    return repr(node.value) if node.tag == "tag:yaml.org,2002:str" else node.value


def _show(value: Any) -> str:
    """A value for a message: strings quoted, whole floats without '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _join(path: str, key: str) -> str:
    """The path of `key` under `path`: `a.b`, or `a['/']` for a key that is not a plain name."""
    if path and not re.fullmatch(r"[A-Za-z_][\w-]*", key):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _optional_of(tp: Any) -> Any:
    """X in `X | None`."""
    (inner,) = [a for a in get_args(tp) if a is not NoneType]
    return inner


# JSON Schema, derived from the same dataclasses.

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of pipeline.yaml, for editors and other tools."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Bayon Pipeline configuration (pipeline.yaml)",
        **_schema(Config, {}),
    }


def _schema(tp: Any, meta: dict[str, Any]) -> dict[str, Any]:
    origin, args = get_origin(tp), get_args(tp)
    if origin is UnionType:
        schema = _schema(_optional_of(tp), meta)
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = list(dict.fromkeys([*kinds, "null"]))
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if is_dataclass(tp):
        return _object_schema(tp)
    if origin is list:
        schema = {"type": "array", "items": _schema(args[0], meta)}
        if meta.get("non_empty"):
            schema["minItems"] = 1
        if meta.get("unique"):
            schema["uniqueItems"] = True
        return schema
    if origin is dict:
        schema = {"type": ["object", "null"], "additionalProperties": _schema(args[1], {**meta, "pattern": None})}
        if meta.get("pattern"):
            schema["propertyNames"] = {"pattern": meta["pattern"]}
        return schema
    if origin is Literal:
        return {"type": _JSON_TYPES[type(args[0])], "enum": list(args)}
    if tp is date:
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    schema = {"type": _JSON_TYPES[tp]}
    if tp is str:
        if meta.get("non_empty"):
            schema["minLength"] = 1
        if meta.get("pattern"):
            schema["pattern"] = meta["pattern"]
    elif tp is not bool:
        schema.update({key: meta[name] for key, name in (("minimum", "min"), ("maximum", "max")) if name in meta})
    return schema


def _object_schema(cls: type) -> dict[str, Any]:
    hints = get_type_hints(cls)
    properties, required = {}, []
    for spec in fields(cls):
        prop = {"title": spec.name.replace("_", " ").capitalize(), "description": spec.metadata["doc"]}
        prop.update((k, v) for k, v in _schema(hints[spec.name], dict(spec.metadata)).items() if k != "description")
        default = _default(spec)
        if default is not MISSING:
            prop["default"] = dataclasses.asdict(default) if is_dataclass(default) else default
        else:
            required.append(spec.name)
        if spec.metadata.get("examples"):
            prop["examples"] = spec.metadata["examples"]
        properties[spec.name] = prop
    schema: dict[str, Any] = {
        "type": "object" if required else ["object", "null"],
        "description": (cls.__doc__ or "").strip(),
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return schema


def schema_text() -> str:
    """The schema file's exact content."""
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-schema"]:
        SCHEMA_PATH.parent.mkdir(exist_ok=True)
        SCHEMA_PATH.write_text(schema_text())
        print(f"wrote {SCHEMA_PATH}")
    elif sys.argv[1:]:
        sys.exit("usage: python -m ci.config [--write-schema]")
    else:
        print(schema_text(), end="")
