"""pipeline.yaml: defaults, loading, one-line error messages, and the JSON Schema (generated from the same model)
agreeing with the validator."""

from __future__ import annotations

import datetime
import json
import re
import textwrap

import jsonschema
import pytest
import yaml
from apps import ROOT

from ci.config import DEFAULT, AllowlistEntry, Config, ConfigError, LicenseException, load_config
from ci.config.node_releases import lts
from ci.config.schema import SCHEMA_PATH, json_schema, schema_text


PACKAGE_JSON = json.dumps({"name": "app", "engines": {"node": ">=20.9.0"}})

SAMPLE = """\
version: 1
quality:
  max_warnings: 0
tests:
  node_versions: [20, 22, 24]
  coverage:
    lines: 80
    branches: 70
    functions: 70
    statements: 80
"""

FULL = """\
# yaml-language-server: $schema=../../ci/schemas/pipeline.schema.json
version: 1
node: 24
quality: {lint: true, typecheck: false, format: true, max_warnings: 5}
tests:
  node_versions: [18, 20, 22]
  shards: 4
  coverage: {lines: 80.5, branches: 70, functions: 70, statements: 80}
  integration: {enabled: false, config: jest.int.config.mjs, emulator_image: "motoserver/moto:5.1.4"}
  docs_patterns: ["**/*.md"]
build:
  bundler: webpack
  budgets:
    total_gzip_kb: 800
    route_gzip_kb: null
    routes: {"/": 150, "/listings": 200.5}
  baseline: sizes.json
  max_growth_pct: 5
security:
  audit:
    fail_on: critical
    on_unavailable: warn
    include_dev: false
    allowlist:
      - id: GHSA-abcd-efgh-ijkl
        reason: dev-only tool, never shipped
        expires: 2026-06-30
  secrets: {baseline: .secrets.baseline}
  sast: {rules: semgrep/}
  licenses:
    include_dev: true
    deny: ["GPL-*"]
    warn: []
    allow: [MIT, Apache-2.0]
    unknown: fail
    exceptions:
      - {package: sharp, reason: "LGPL libvips, dynamically linked"}
"""


def _error(text: str, **kwargs: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(textwrap.dedent(text), **kwargs)
    return str(info.value)


# Defaults and good files.


@pytest.mark.parametrize("text", [None, "", "\n", "# nothing configured yet\n", "version: 1\n", "quality:\n"])
def test_no_settings_means_defaults(text: str | None) -> None:
    assert load_config(text) == DEFAULT == Config()


def test_defaults() -> None:
    lts_today = lts(datetime.date.today())  # the LTS majors of the day (ci/config/node_releases.py): 22, 24, 26 now
    assert DEFAULT.version == 1 and DEFAULT.node == lts_today[0]
    assert DEFAULT.tests.node_versions == lts_today
    assert DEFAULT.tests.coverage.lines == 70
    assert DEFAULT.tests.docs_patterns == ["**/*.md", "docs/**"]
    assert DEFAULT.build.bundler == "turbopack" and DEFAULT.build.budgets.total_gzip_kb is None
    assert DEFAULT.security.audit.fail_on == "high" and DEFAULT.security.audit.on_unavailable == "fail"
    assert DEFAULT.security.licenses.deny == ["GPL-*", "AGPL-*"] and DEFAULT.security.licenses.warn == ["LGPL-*"]
    assert DEFAULT.tests.integration.emulator_image == "motoserver/moto:5.1.4" and DEFAULT.security.licenses.allow == []
    assert DEFAULT.build.budgets.routes == {} and DEFAULT.security.audit.allowlist == []
    assert Config().tests.node_versions is not DEFAULT.tests.node_versions  # no shared mutable defaults


def test_sample_file() -> None:
    config = load_config(SAMPLE, package_json=PACKAGE_JSON)
    assert config.tests.node_versions == [20, 22, 24]
    assert (config.tests.coverage.lines, config.tests.coverage.branches) == (80.0, 70.0)
    assert config.tests.coverage.statements == 80.0 and isinstance(config.tests.coverage.lines, float)
    assert config.quality == DEFAULT.quality and config.build == DEFAULT.build


def test_lighthouse_urls_take_a_path_or_an_entry_with_thresholds() -> None:
    config = load_config("lighthouse:\n  urls: [/, {path: /about, thresholds: {seo: 80}}]\n")
    assert [(u.path, u.thresholds.seo, u.thresholds.performance) for u in config.lighthouse.urls] == [
        ("/", None, None), ("/about", 80.0, None)]
    assert DEFAULT.lighthouse.urls[0].path == "/" and DEFAULT.lighthouse.form_factors == ["desktop", "mobile"]
    assert (DEFAULT.lighthouse.runs, DEFAULT.lighthouse.max_drop, DEFAULT.lighthouse.thresholds.accessibility) == (
        3, 10.0, 95.0)


def test_sample_app_config() -> None:
    app = ROOT / "examples" / "coagent"
    text = (app / "pipeline.yaml").read_text()
    config = load_config(text, package_json=(app / "package.json").read_text())
    assert config.tests.node_versions == [20, 22, 24]
    assert _schema_errors(text) == []


def test_full_file() -> None:
    config = load_config(FULL)
    assert config.node == 24 and config.quality.max_warnings == 5 and not config.quality.typecheck
    assert config.tests.shards == 4 and config.tests.coverage.lines == 80.5 and not config.tests.integration.enabled
    assert config.build.budgets.routes == {"/": 150.0, "/listings": 200.5}
    assert config.build.budgets.total_gzip_kb == 800.0 and config.build.budgets.route_gzip_kb is None
    entry = config.security.audit.allowlist[0]
    assert (entry.id, entry.expires) == ("GHSA-abcd-efgh-ijkl", datetime.date(2026, 6, 30))
    assert entry == AllowlistEntry(id="GHSA-abcd-efgh-ijkl", reason="dev-only tool, never shipped",
                                   expires=datetime.date(2026, 6, 30))
    assert config.security.licenses.exceptions == [
        LicenseException(package="sharp", reason="LGPL libvips, dynamically linked")
    ]
    assert (config.security.audit.fail_on, config.security.licenses.unknown) == ("critical", "fail")
    assert config.security.licenses.allow == ["MIT", "Apache-2.0"] and config.security.licenses.warn == []


def test_quoted_date_and_yes_as_text() -> None:
    config = load_config(
        'security:\n  audit:\n    allowlist:\n      - {id: "1", reason: yes, expires: "2027-01-31"}\n'
        "  sast:\n    rules: 'yes'\n"
    )
    assert config.security.audit.allowlist[0].expires == datetime.date(2027, 1, 31)
    assert config.security.sast.rules == "yes"
    assert config.security.audit.allowlist[0].reason == "yes"  # YAML 1.2: yes/no/on/off are text, not booleans


# Errors: one line each, at the right line, saying how to fix it.

ALLOWED_TOP = ("(allowed: build, environments, infra, install, lighthouse, node, notifications, quality, security, "
               "setup, tests, version)")
ALLOWED_QUALITY = "(allowed: format, lint, max_warnings, typecheck)"
ALLOWED_ENTRY = "(allowed: expires, id, reason)"
ALLOWLIST = "security:\n  audit:\n    allowlist:\n"

MALFORMED = [
    # unknown keys, at several depths, with suggestions
    ("version: 1\nquallity:\n  lint: true\n",
     f"pipeline.yaml:2: unknown key 'quallity' at top level; did you mean 'quality'? {ALLOWED_TOP}"),
    ("quality:\n  maxWarnings: 3\n",
     f"pipeline.yaml:2: unknown key 'maxWarnings' in quality; did you mean 'max_warnings'? {ALLOWED_QUALITY}"),
    ("quality:\n  max-warnings: 3\n",
     f"pipeline.yaml:2: unknown key 'max-warnings' in quality; did you mean 'max_warnings'? {ALLOWED_QUALITY}"),
    ("tests:\n  coverage:\n    line: 80\n",
     "pipeline.yaml:3: unknown key 'line' in tests.coverage; did you mean 'lines'? "
     "(allowed: branches, functions, lines, statements)"),
    (ALLOWLIST + "      - id: GHSA-1234\n        reason: ok\n        expire: 2026-01-01\n",
     f"pipeline.yaml:6: unknown key 'expire' in security.audit.allowlist[0]; did you mean 'expires'? {ALLOWED_ENTRY}"),
    ("deploy: true\n", f"pipeline.yaml:1: unknown key 'deploy' at top level; remove it or fix its name {ALLOWED_TOP}"),
    # wrong types
    ("quality:\n  max_warnings: lots\n",
     "pipeline.yaml:2: quality.max_warnings must be an integer >= 0, got 'lots'; write a whole number such as 0"),
    ("quality:\n  max_warnings: true\n",
     "pipeline.yaml:2: quality.max_warnings must be an integer >= 0, got true; write a whole number such as 0"),
    ("quality:\n  max_warnings: yes\n",
     "pipeline.yaml:2: quality.max_warnings must be an integer >= 0, got yes; write a whole number such as 0"),
    ("quality:\n  lint: yes\n", "pipeline.yaml:2: quality.lint must be true or false, got yes; write true or false"),
    ("quality:\n  lint: 1\n", "pipeline.yaml:2: quality.lint must be true or false, got 1; write true or false"),
    ("node: 22.5\n", "pipeline.yaml:1: node must be an integer from 18 to 30, got 22.5; write a whole number such as 22"),
    ("tests:\n  coverage: [80]\n",
     "pipeline.yaml:2: tests.coverage must be a mapping, got a list; indent its keys under it "
     "(allowed: branches, functions, lines, statements)"),
    ('tests:\n  coverage:\n    lines: "80"\n',
     "pipeline.yaml:3: tests.coverage.lines must be a number from 0 to 100, got '80'; write a number such as 70"),
    ("tests:\n  node_versions: 22\n",
     "pipeline.yaml:2: tests.node_versions must be a list, got 22; write it as [item, ...] or as '- item' lines"),
    ("tests:\n  node_versions: [22, '24']\n",
     "pipeline.yaml:2: tests.node_versions[1] must be an integer from 18 to 30, got '24'; "
     "write a whole number such as 20"),
    ("build:\n  baseline: 42\n",
     "pipeline.yaml:2: build.baseline must be a string, got 42; "
     "put it in quotes such as '.bayon/baselines/bundle-sizes.json'"),
    ("security:\n  licenses:\n    exceptions:\n      - {package: 42, reason: ok}\n",
     "pipeline.yaml:4: security.licenses.exceptions[0].package must be a non-empty string, got 42; "
     "put it in quotes such as 'sharp'"),
    # out of range
    ("tests:\n  shards: 0\n",
     "pipeline.yaml:2: tests.shards must be an integer from 1 to 32, got 0; write a whole number such as 1"),
    ("tests:\n  coverage:\n    lines: 101\n",
     "pipeline.yaml:3: tests.coverage.lines must be a number from 0 to 100, got 101; write a number such as 70"),
    ("build:\n  budgets:\n    routes:\n      /: -1\n",
     "pipeline.yaml:4: build.budgets.routes['/'] must be a number >= 0, got -1; write a number such as 150"),
    ("build:\n  max_growth_pct: .nan\n",
     "pipeline.yaml:2: build.max_growth_pct must be a number >= 0, got .nan; write a number such as 10"),
    ("tests:\n  shards: 33\n",
     "pipeline.yaml:2: tests.shards must be an integer from 1 to 32, got 33; write a whole number such as 1"),
    # bad enums, bad strings
    ("build:\n  bundler: vite\n",
     "pipeline.yaml:2: build.bundler must be one of 'turbopack', 'webpack', got 'vite'; pick one of those"),
    ("build:\n  bundler: webpak\n",
     "pipeline.yaml:2: build.bundler must be one of 'turbopack', 'webpack', got 'webpak'; did you mean 'webpack'?"),
    ("security:\n  audit:\n    fail_on: severe\n",
     "pipeline.yaml:3: security.audit.fail_on must be one of 'low', 'moderate', 'high', 'critical', got 'severe'; "
     "pick one of those"),
    ("security:\n  audit:\n    on_unavailable: wran\n",
     "pipeline.yaml:3: security.audit.on_unavailable must be one of 'fail', 'warn', got 'wran'; did you mean 'warn'?"),
    # version
    ("version: 2\n", "pipeline.yaml:1: version must be 1, got 2; this Bayon Pipeline reads version 1"),
    ('version: "1"\n', "pipeline.yaml:1: version must be 1, got '1'; this Bayon Pipeline reads version 1"),
    ("version: true\n", "pipeline.yaml:1: version must be 1, got true; this Bayon Pipeline reads version 1"),
    ("version: 1.0\n", "pipeline.yaml:1: version must be 1, got 1.0; this Bayon Pipeline reads version 1"),
    # duplicate keys
    ("tests: {}\nquality: {}\ntests: {}\n", "pipeline.yaml:3: duplicate key 'tests'; keep one"),
    ("quality:\n  lint: true\n  lint: false\n", "pipeline.yaml:3: duplicate key 'quality.lint'; keep one"),
    ("quality:\n  ? [lint]\n  : true\n",
     "pipeline.yaml:2: a key in quality must be a name, got a list; write name: value"),
    # YAML syntax and the file's shape
    ("quality:\n lint: true\n  format: false\n",
     "pipeline.yaml:3: YAML syntax error: mapping values are not allowed here; fix the indentation or quoting there"),
    ("quality:\n  lint: [true\n",
     "pipeline.yaml:2: YAML syntax error: expected ',' or ']', but got '<stream end>'; "
     "fix the indentation or quoting there"),
    ("quality:\n\tlint: true\n",
     "pipeline.yaml:2: YAML syntax error: found character '\\t' that cannot start any token; "
     "fix the indentation or quoting there"),
    ("- quality\n- tests\n",
     "pipeline.yaml:1: the file must be a mapping of sections (version, quality, ...); got a list"),
    ("quality\n", "pipeline.yaml:1: the file must be a mapping of sections (version, quality, ...); got 'quality'"),
    # mappings of names (route budgets) and list entries
    ("build:\n  budgets:\n    routes:\n      /: 150\n      listings: 200\n",
     "pipeline.yaml:5: name 'listings' in build.budgets.routes must match ^/; use a name such as '/'"),
    ("build:\n  budgets:\n    routes: [/]\n",
     "pipeline.yaml:3: build.budgets.routes must be a mapping of names to values, got a list; write name: value lines"),
    (ALLOWLIST + "      - {}\n",
     "pipeline.yaml:4: missing required key 'id' in security.audit.allowlist[0]; add id: GHSA-xxxx-xxxx-xxxx"),
    (ALLOWLIST + "      - GHSA-1234\n",
     f"pipeline.yaml:4: security.audit.allowlist[0] must be a mapping, got 'GHSA-1234'; indent its keys under it "
     f"{ALLOWED_ENTRY}"),
    # list items: required keys, dates
    (ALLOWLIST + "      - id: GHSA-1234\n        expires: 2026-01-01\n",
     "pipeline.yaml:4: missing required key 'reason' in security.audit.allowlist[0]; "
     "add reason: <why this advisory is accepted>"),
    (ALLOWLIST + "      - reason: unused code path\n        expires: 2026-01-01\n",
     "pipeline.yaml:4: missing required key 'id' in security.audit.allowlist[0]; add id: GHSA-xxxx-xxxx-xxxx"),
    (ALLOWLIST + "      - {id: GHSA-1, reason: ok, expires: 2026-01-01}\n      - {id: GHSA-2, reason: ok}\n",
     "pipeline.yaml:5: missing required key 'expires' in security.audit.allowlist[1]; add expires: 2026-06-30"),
    (ALLOWLIST + '      - id: GHSA-1234\n        reason: ""\n        expires: 2026-01-01\n',
     "pipeline.yaml:5: security.audit.allowlist[0].reason must be a non-empty string, got ''; "
     "write a string such as '<why this advisory is accepted>'"),
    (ALLOWLIST + "      - id: GHSA-1234\n        reason: ok\n        expires: soon\n",
     "pipeline.yaml:6: security.audit.allowlist[0].expires must be a date YYYY-MM-DD, got 'soon'; "
     "write a date such as 2026-06-30"),
    (ALLOWLIST + "      - id: GHSA-1234\n        reason: ok\n        expires: 2026-13-01\n",
     "pipeline.yaml:6: security.audit.allowlist[0].expires must be a date YYYY-MM-DD, got 2026-13-01; "
     "write a date such as 2026-06-30"),
    ("security:\n  licenses:\n    exceptions:\n      - package: sharp\n",
     "pipeline.yaml:4: missing required key 'reason' in security.licenses.exceptions[0]; "
     "add reason: <why this package's license is accepted>"),
    # node versions
    ("tests:\n  node_versions: []\n",
     "pipeline.yaml:2: tests.node_versions must not be empty; list at least one item, such as [20, 22, 24]"),
    ("tests:\n  node_versions:\n    - 22\n    - 24\n    - 22\n",
     "pipeline.yaml:5: tests.node_versions lists 22 twice; keep one"),
    ("tests:\n  node_versions: [22, 18]\n",
     "pipeline.yaml:2: tests.node_versions[1] is Node 18, below the app's engines.node '>=20.9.0' in package.json; "
     "use 20 or later, or lower engines.node"),
    ("node: 18\n",
     "pipeline.yaml:1: node is Node 18, below the app's engines.node '>=20.9.0' in package.json; "
     "use 20 or later, or lower engines.node"),
    ("tests:\n  node_versions: [24, 22, 24]\n", "pipeline.yaml:2: tests.node_versions lists 24 twice; keep one"),
    ("version: 1\nnotifications:\n  slack: x\n",
     "pipeline.yaml:3: notifications.slack must be a mapping, got 'x'; indent its keys under it (allowed: "
     "environments, events, timeout_s)"),
    ("lighthouse:\n  runs: 0\n",
     "pipeline.yaml:2: lighthouse.runs must be an integer from 1 to 15, got 0; write a whole number such as 3"),
    ("lighthouse:\n  urls: [about]\n",
     "pipeline.yaml:2: lighthouse.urls[0].path must be a string matching ^/, got 'about'; write a string such as "
     "'/about'"),
    ("lighthouse:\n  urls:\n    - {path: /about, thresholds: {perf: 80}}\n",
     "pipeline.yaml:3: unknown key 'perf' in lighthouse.urls[0].thresholds; remove it or fix its name (allowed: "
     "accessibility, best_practices, performance, seo)"),
    ("lighthouse:\n  form_factors: [desktop, tablet]\n",
     "pipeline.yaml:2: lighthouse.form_factors[1] must be one of 'desktop', 'mobile', got 'tablet'; pick one of those"),
    ("lighthouse:\n  max_drop: -1\n",
     "pipeline.yaml:2: lighthouse.max_drop must be a number from 0 to 100, got -1; write a number such as 10"),
    ("infra:\n  templates: [a.yaml, a.yaml]\n", "pipeline.yaml:2: infra.templates lists 'a.yaml' twice; keep one"),
    ("lighthouse:\n  urls:\n    - /\n    - {path: /, thresholds: {seo: 80}}\n",
     "pipeline.yaml:4: lighthouse.urls lists '/' twice; keep one"),
    ("environments:\n  production:\n    region: eu-west-1\n",
     "pipeline.yaml:3: missing required key 'stack_name' in environments.production; add stack_name: coagent-staging"),
    ("environments:\n  Prod_1:\n    region: eu-west-1\n",
     "pipeline.yaml:2: name 'Prod_1' in environments must match ^[a-z][a-z0-9-]*$; use a name such as 'staging'"),
    ("environments:\n  staging:\n    region: eu-west-1\n    stack_name: s\n    artifacts_bucket: bkt\n"
     "    parameters: {DbPassword: x}\n",
     "pipeline.yaml:6: environments.staging.parameters.DbPassword looks like a secret; pipeline.yaml holds plain "
     "values only: pass secrets as secret arguments (--npm-token env://NAME), or rename the variable if its value is "
     "none"),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED, ids=[m.split(": ", 1)[1][:60] for _, m in MALFORMED])
def test_malformed(text: str, expected: str) -> None:
    message = _error(text, package_json=PACKAGE_JSON)
    assert message == expected
    assert "\n" not in message


def test_error_carries_line_and_file_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("version: 1\n\nquality:\n  lint: maybe\n", filename="examples/coagent/pipeline.yaml")
    assert info.value.line == 4
    assert str(info.value).startswith("examples/coagent/pipeline.yaml:4: quality.lint must be true or false")


def test_control_character() -> None:
    assert _error("version: 1\nnode: 22\x07\n") == (
        "pipeline.yaml:2: YAML syntax error: special characters are not allowed; remove that character"
    )


@pytest.mark.parametrize(
    ("engines", "lowest_allowed"),
    [(">=20.9.0", 20), ("^22", 22), ("20.x", 20), (">=19 <25", 19), ("v24", 24), ("22 || 24", 22)],
)
def test_engines_lower_bound(engines: str, lowest_allowed: int) -> None:
    package_json = json.dumps({"engines": {"node": engines}})
    assert load_config(f"tests:\n  node_versions: [{lowest_allowed}]\n", package_json=package_json)
    with pytest.raises(ConfigError, match=rf"tests.node_versions\[0\] is Node {lowest_allowed - 1}, below"):
        load_config(f"tests:\n  node_versions: [{lowest_allowed - 1}]\n", package_json=package_json)


@pytest.mark.parametrize("package_json", [None, "{}", '{"engines": {"node": "*"}}', "not json", '{"engines": []}'])
def test_no_usable_engines_means_no_check(package_json: str | None) -> None:
    assert load_config("tests:\n  node_versions: [18]\n", package_json=package_json).tests.node_versions == [18]


def test_defaults_are_not_checked_against_engines() -> None:
    """Only majors written in the file are checked: an app without pipeline.yaml still loads."""
    assert load_config(None, package_json=json.dumps({"engines": {"node": ">=24"}})) == DEFAULT


# The JSON Schema: generated from the same model, committed, and agreeing with the validator.


class _EditorLoader(yaml.SafeLoader):
    """Reads YAML as editors do (YAML 1.2 core schema): only true/false are booleans, dates stay strings."""


_BOOL, _TIMESTAMP = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"
_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EditorLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _schema_errors(text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(json_schema())
    return [e.message for e in validator.iter_errors(yaml.load(text, Loader=_EditorLoader))]


def test_committed_schema_is_generated_one() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "run: python -m ci.config.schema --write"


def test_schema_is_valid_draft_2020_12() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Bayon Pipeline configuration (pipeline.yaml)"
    assert schema["properties"]["quality"]["$ref"] == "#/$defs/Quality"
    assert all(model["additionalProperties"] is False for model in [schema, *schema["$defs"].values()])
    assert schema["$defs"]["Quality"]["properties"]["max_warnings"] == {
        "title": "Max Warnings",
        "description": "ESLint warnings allowed before the gate fails.",
        "type": "integer",
        "minimum": 0,
        "default": 0,
    }
    assert schema["$defs"]["Build"]["properties"]["bundler"]["enum"] == ["turbopack", "webpack"]


def test_every_field_is_documented() -> None:
    schema = json_schema()
    for name, model in {"Config": schema, **schema["$defs"]}.items():
        assert model.get("description"), f"{name} has no doc"
        for key, prop in model["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no doc"


@pytest.mark.parametrize(
    "text",
    [SAMPLE, FULL, "", "version: 1\n", "quality:\n", "build:\n  budgets:\n    routes:\n    total_gzip_kb: null\n",
     "security:\n  audit:\n    allowlist: [{id: GHSA-1, reason: ok, expires: 2026-01-01}]\n",
     "lighthouse:\n  urls: [/, {path: /about, thresholds: {seo: 80}}]\n  runs: 1\n  form_factors: [mobile]\n",
     "environments:\n  staging: {region: eu-west-1, stack_name: coagent-staging, artifacts_bucket: coagent-art,\n"
     "            parameters: {Stage: staging}, allow_replacement: [ListingsBucket]}\n"],
)
def test_schema_accepts_good_files(text: str) -> None:
    load_config(text)
    assert _schema_errors(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "quallity: {}\n",
        "quality:\n  max_warnings: true\n",
        "quality:\n  max_warnings: -1\n",
        "quality:\n  lint: yes\n",
        "version: 2\n",
        "tests:\n  node_versions: []\n",
        "tests:\n  node_versions: [22, 22]\n",
        "tests:\n  coverage: [80]\n",
        "build:\n  bundler: vite\n",
        "build:\n  budgets:\n    routes: {listings: 100}\n",
        ALLOWLIST + "      - {id: GHSA-1, expires: 2026-01-01}\n",
        ALLOWLIST + "      - {id: GHSA-1, reason: ok, expires: soon}\n",
        ALLOWLIST + "      - GHSA-1\n",
        "tests:\n  node_versions: [22, '24']\n",
        "tests:\n  coverage:\n    lines: 101\n",
        "security:\n  licenses:\n    exceptions: [{package: '', reason: ok}]\n",
        "lighthouse:\n  urls: [about]\n",
        "lighthouse:\n  urls: [{path: /a, thresholds: {seo: 101}}]\n",
        "environments:\n  production:\n",
        "environments:\n  production: {region: eu-west-1, stack_name: s}\n",
        "- quality\n",
    ],
)
def test_schema_rejects_what_the_validator_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        load_config(text)
    assert _schema_errors(text), "the schema accepts a file the validator rejects"
