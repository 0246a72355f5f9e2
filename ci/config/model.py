"""The shape of `pipeline.yaml`: frozen pydantic models, each field with its default, doc, constraints and examples.

The loader validates a file against these models and the published JSON Schema is generated from them, so the two
cannot disagree. Every field has a default, so an app without the file works; a section left empty (`quality:`) means
its defaults. Validation is strict: "80" is no number, 1.5 no integer, 1 no boolean, and numbers are finite.
"""

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from .node_releases import lts

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _none_as_empty(value: Any) -> Any:
    """A key left empty (`quality:`, `routes:`) as an empty mapping: its defaults."""
    return {} if value is None else value


def _unique(items: list[Any]) -> list[Any]:
    """The list, unless it names an item twice (pydantic has no unique-items constraint)."""
    for index, item in enumerate(items):
        if item in items[:index]:
            raise PydanticCustomError("unique", "{item} is listed twice", {"item": item, "index": index})
    return items


def _iso_date(value: Any) -> Any:
    """YYYY-MM-DD text as a date; other text, numbers and the rest fail the strict date check after this."""
    return date.fromisoformat(value) if isinstance(value, str) and re.match(DATE_PATTERN, value) else value


def _whole_number(value: Any) -> Any:
    """An integer as written; pydantic matches a Literal by equality even in strict mode (`true` and `1.0` equal 1)."""
    if type(value) is not int:
        raise PydanticCustomError("int_type", "Input should be a whole number")
    return value


MIN_NODE, MAX_NODE = 18, 30
NodeMajor = Annotated[int, Field(ge=MIN_NODE, le=MAX_NODE)]
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PASSPHRASE|PWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH",
                         re.IGNORECASE)
"""An environment variable name that says it holds a secret: such values never go into pipeline.yaml."""


def _no_secret_names(env: dict[str, str]) -> dict[str, str]:
    """The mapping, unless a name looks like a token or password (secrets travel as --npm-token & co, never here)."""
    for name in env:
        if SECRET_NAME.search(name):
            raise PydanticCustomError("secret_name", "{name} looks like a secret", {"name": name})
    return env


EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(json_schema_extra={"pattern": DATE_PATTERN})]


class _Model(BaseModel):
    """Frozen, no unknown keys, no coercion, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class _Section(_Model):
    """A model whose keys all have defaults: left empty, it means them."""

    model_config = ConfigDict(json_schema_extra={"type": ["object", "null"]})

    @model_validator(mode="before")
    @classmethod
    def _empty_means_defaults(cls, data: Any) -> Any:
        return _none_as_empty(data)


class Install(_Section):
    """The dependency install (`npm ci`) every step stands on."""

    env: Annotated[dict[EnvName, str], BeforeValidator(_none_as_empty), AfterValidator(_no_secret_names)] = Field(
        {}, examples=[{"PUPPETEER_SKIP_DOWNLOAD": "1", "CYPRESS_INSTALL_BINARY": "0"}],
        json_schema_extra={"type": ["object", "null"], "additionalProperties": False},
        description="Environment variables for the install and the setup commands (plain values, never secrets: "
        "a name that looks like a token or password is refused).",
    )


class Quality(_Section):
    """The code-quality stage: ESLint, tsc and Prettier, run concurrently."""

    lint: bool = Field(True, description="Run ESLint and fail on any error.")
    typecheck: bool = Field(True, description="Run `tsc --noEmit` and fail on any type error.")
    format: bool = Field(True, description="Run `prettier --list-different` and fail on any unformatted file.")
    max_warnings: int = Field(0, ge=0, description="ESLint warnings allowed before the gate fails.")


class Coverage(_Section):
    """Minimum Jest coverage per metric, in percent; the unit-test gate fails below any of them."""

    lines: float = Field(70.0, ge=0, le=100, description="Minimum line coverage, in percent.")
    branches: float = Field(70.0, ge=0, le=100, description="Minimum branch coverage, in percent.")
    functions: float = Field(70.0, ge=0, le=100, description="Minimum function coverage, in percent.")
    statements: float = Field(70.0, ge=0, le=100, description="Minimum statement coverage, in percent.")


class Integration(_Section):
    """Integration tests against an AWS emulator the pipeline starts."""

    enabled: bool = Field(True, description="Run the integration tests.")
    config: str = Field(
        "jest.integration.config.mjs", description="Jest config file for the integration tests, relative to the app."
    )
    emulator_image: str = Field(
        "motoserver/moto:5.1.4", description="Container image of the AWS emulator (moto in server mode)."
    )
    deployed_config: str = Field(
        "jest.deployed.config.mjs", description="Jest config of the tests `accept` runs against a deployed stack "
        "(its outputs as STACK_<OutputKey> variables, the environment's credentials); skipped when the app has none.",
    )


class Tests(_Section):
    """The unit and integration tests."""

    __test__ = False  # not a pytest test class

    unit: bool = Field(True, description="Run the unit tests (Jest on every Node major) and the coverage gate; false "
                       "for an app whose unit tests are not Jest's.")
    node_versions: Annotated[list[NodeMajor], AfterValidator(_unique)] = Field(
        default_factory=lambda: lts(date.today()), min_length=1, json_schema_extra={"uniqueItems": True},
        examples=[[20, 22, 24]],
        description="Node majors the unit tests run on, in parallel: the test matrix. Unset: the one major of the "
        "app's .nvmrc, .node-version or .tool-versions, else the supported majors its package.json engines.node "
        "admits, else the Node LTS majors of the day.",
    )
    shards: int = Field(
        1, ge=1, le=32, description="How many parts the unit tests are split into, run in parallel and merged."
    )
    coverage: Coverage = Field(Coverage(), description="Coverage thresholds of the unit-test gate.")
    integration: Integration = Field(Integration(), description="Integration tests against the AWS emulator.")
    docs_patterns: list[str] = Field(
        ["**/*.md", "docs/**"], examples=[["**/*.md", "docs/**", "**/*.png"]],
        description="Path globs of documentation (`**` spans directories): when `ci --base` finds only these changed, "
        "it skips tests and build. Matched relative to the app, or to the repository root for paths outside the app.",
    )


class Budgets(_Section):
    """Bundle-size budgets for the JavaScript each exported page loads, in kB (1000 bytes) after gzip."""

    total_gzip_kb: float | None = Field(
        None, ge=0, examples=[800],
        description="Budget for the distinct scripts of all routes together; none by default.",
    )
    route_gzip_kb: float | None = Field(
        None, ge=0, examples=[200], description="Budget for each route not listed in routes; none by default."
    )
    routes: Annotated[
        dict[Annotated[str, Field(pattern="^/")], Annotated[float, Field(ge=0)]], BeforeValidator(_none_as_empty)
    ] = Field(
        {}, examples=[{"/": 150}], json_schema_extra={"type": ["object", "null"], "additionalProperties": False},
        description="Budget per route path, overriding route_gzip_kb.",
    )


class Build(_Section):
    """The production build (`next build`, static export) and its bundle-size gate."""

    bundler: Literal["turbopack", "webpack"] = Field("turbopack", description="Bundler `next build` uses.")
    budgets: Budgets = Field(Budgets(), description="Bundle-size budgets.")
    baseline: str = Field(
        ".bayon/baselines/bundle-sizes.json",
        description="Baseline bundle-size file in the app repo, compared against the build.",
    )
    max_growth_pct: float = Field(10.0, ge=0, description="Growth over the baseline, in percent, that fails the gate.")


class AllowlistEntry(_Model):
    """An accepted advisory: the audit gate ignores it until it expires."""

    id: str = Field(
        min_length=1, examples=["GHSA-xxxx-xxxx-xxxx"],
        description="Advisory id: its GHSA id or npm's numeric id (for Snyk also its SNYK-... or CVE id).",
    )
    reason: str = Field(min_length=1, description="Why this advisory is accepted.")
    expires: IsoDate = Field(
        examples=["2026-06-30"], description="Date (YYYY-MM-DD) after which the entry fails the gate."
    )


class Audit(_Section):
    """The dependency audit (`npm audit`)."""

    fail_on: Literal["low", "moderate", "high", "critical"] = Field(
        "high", description="Lowest severity that fails the gate."
    )
    on_unavailable: Literal["fail", "warn"] = Field(
        "fail", description="What an unreachable advisory service does to the gate: fail it, or only warn."
    )
    include_dev: bool = Field(True, description="Audit dev dependencies too (reported apart from production ones).")
    allowlist: list[AllowlistEntry] = Field(
        [], description="Accepted advisories, each with a reason and an expiry date."
    )


class SecretsScan(_Section):
    """The secrets scan of the working tree and the git history."""

    baseline: str = Field(".secrets.baseline", description="Baseline file of accepted findings, in the app repo.")


class Sast(_Section):
    """Static analysis with Semgrep, on rules kept in the repo."""

    rules: str = Field(".bayon/semgrep", description="Semgrep rules directory or file in the app repo.")


class LicenseException(_Model):
    """A package whose license is accepted whatever the lists say."""

    package: str = Field(min_length=1, examples=["sharp"], description="npm package name.")
    reason: str = Field(min_length=1, description="Why this package's license is accepted.")


class Licenses(_Section):
    """License compliance of the installed dependencies."""

    include_dev: bool = Field(False, description="Check dev dependencies too.")
    deny: list[str] = Field(["GPL-*", "AGPL-*"], description="SPDX license id globs that fail the gate.")
    warn: list[str] = Field(["LGPL-*"], description="SPDX license id globs that only warn.")
    allow: list[str] = Field(
        [], examples=[["MIT"]],
        description="SPDX license id globs that pass even when deny or warn match; if any, every other license warns.",
    )
    unknown: Literal["warn", "fail"] = Field(
        "warn", description="What an unknown or missing license does: warn, or fail the gate."
    )
    exceptions: list[LicenseException] = Field(
        [], description="Packages whose license is accepted, each with a reason."
    )


class Security(_Section):
    """The security stage: dependency audit, secrets, SAST and licenses."""

    audit: Audit = Field(Audit(), description="Dependency audit.")
    secrets: SecretsScan = Field(SecretsScan(), description="Secrets scan.")
    sast: Sast = Field(Sast(), description="Static analysis (Semgrep).")
    licenses: Licenses = Field(Licenses(), description="License compliance.")


LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best_practices", "seo")
"""The categories a threshold and the baseline cover, as pipeline.yaml names them (Lighthouse's `best-practices`)."""
Score = Annotated[float, Field(ge=0, le=100)]


class Thresholds(_Section):
    """Minimum Lighthouse score per category, 0-100, of the median run of each URL and form factor."""

    performance: Score = Field(90.0, description="Minimum performance score.")
    accessibility: Score = Field(95.0, description="Minimum accessibility score.")
    best_practices: Score = Field(90.0, description="Minimum best-practices score.")
    seo: Score = Field(95.0, description="Minimum SEO score.")


class ThresholdOverrides(_Section):
    """Thresholds for one URL; a category left out keeps lighthouse.thresholds'."""

    performance: Score | None = Field(None, examples=[80], description="Minimum performance score for this URL.")
    accessibility: Score | None = Field(None, examples=[80], description="Minimum accessibility score for this URL.")
    best_practices: Score | None = Field(None, examples=[80], description="Minimum best-practices score for this URL.")
    seo: Score | None = Field(None, examples=[80], description="Minimum SEO score for this URL.")


UrlPath = Annotated[str, Field(pattern="^/", examples=["/about"])]


class LighthouseUrl(_Model):
    """A URL path audited with thresholds of its own."""

    path: UrlPath = Field(description="The path, from the site's root (e.g. /pricing).")
    thresholds: ThresholdOverrides = Field(ThresholdOverrides(), description="This path's thresholds.")


class MetricBudgets(_Section):
    """Budgets for Lighthouse's metrics of the median run (as Lighthouse CI's assertions allow); none by default."""

    lcp_ms: float | None = Field(None, ge=0, examples=[2500], description="Largest Contentful Paint, in ms.")
    cls: float | None = Field(None, ge=0, examples=[0.1], description="Cumulative Layout Shift (unitless).")
    tbt_ms: float | None = Field(None, ge=0, examples=[200], description="Total Blocking Time, in ms.")


def _path_as_entry(value: Any) -> Any:
    """A URL written as its path alone (`- /about`) as the entry `{path: /about}`."""
    return {"path": value} if isinstance(value, str) else value


def _unique_paths(urls: list["LighthouseUrl"]) -> list["LighthouseUrl"]:
    """The URLs, unless a path is listed twice (its runs would be counted as one page's)."""
    _unique([url.path for url in urls])
    return urls


def _urls_schema(schema: dict[str, Any]) -> None:
    """The published schema of lighthouse.urls' items: an entry, or its path alone (what `_path_as_entry` reads)."""
    item = schema["properties"]["urls"]["items"]
    schema["properties"]["urls"]["items"] = {"anyOf": [item, {"type": "string", "pattern": "^/"}]}


class Lighthouse(_Section):
    """Lighthouse audits of the production build (or a deployed site), desktop and mobile."""

    model_config = ConfigDict(json_schema_extra=lambda schema: (_urls_schema(schema), schema.update(
        {"type": ["object", "null"]}))[-1])

    urls: Annotated[list[Annotated[LighthouseUrl, BeforeValidator(_path_as_entry)]], Field(min_length=1),
                    AfterValidator(_unique_paths)] = Field(
        [LighthouseUrl(path="/")], examples=[["/", {"path": "/about", "thresholds": {"performance": 80}}]],
        description="URL paths to audit: a path, or {path, thresholds} to override thresholds for it.",
    )
    runs: int = Field(3, ge=1, le=15, description="Runs per URL and form factor (one at a time); the median counts.")
    form_factors: Annotated[list[Literal["desktop", "mobile"]], Field(min_length=1), AfterValidator(_unique)] = Field(
        ["desktop", "mobile"], json_schema_extra={"uniqueItems": True}, description="Form factors to audit."
    )
    thresholds: Thresholds = Field(Thresholds(), description="Minimum score per category (0-100).")
    budgets: MetricBudgets = Field(MetricBudgets(), description="Budgets for LCP, CLS and TBT.")
    baseline: str = Field(
        ".bayon/baselines/lighthouse.json",
        description="Baseline file in the app repo (each score's median and spread); `--update-baseline` writes it.",
    )
    max_drop: float = Field(
        10.0, ge=0, le=100,
        description="Points (0-100) a score may drop below the baseline; a bigger drop fails only when it is also "
        "outside the spread measured in both runs.",
    )


class Infra(_Section):
    """The SAM/CloudFormation templates `validate-infra` checks and `preview-changes` packages."""

    templates: Annotated[list[Annotated[str, Field(min_length=1)]], AfterValidator(_unique)] = Field(
        [], examples=[["backend/template.yaml"]], json_schema_extra={"uniqueItems": True},
        description="Template files, relative to the app. Empty: every SAM/CloudFormation template found in it.",
    )
    region: str = Field(
        "us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
        description="Region `sam validate` resolves templates in (it needs one, but no credentials) and cfn-lint "
                    "checks them for (unless a template names its own in `Metadata: cfn-lint: config: regions`).",
    )


class Amplify(_Model):
    """The Amplify Hosting app and branch a static frontend is deployed to (manual deployments: a zip of the site)."""

    app_id: str = Field(pattern=r"^d[a-z0-9]{1,20}$", examples=["d1a2b3c4d5e6f7"], description="Amplify app id.")
    branch: str = Field(min_length=1, max_length=255, examples=["main"], description="The app's branch to deploy.")


class SmokeCheck(_Model):
    """One smoke test after a deploy (and after a rollback): an HTTP check (`url`, or `output` + `path`), or a
    resource check (`table` or `bucket`, a logical id of the stack)."""

    name: str | None = Field(None, min_length=1, examples=["listings API"], description="Shown in the report.")
    url: str | None = Field(None, pattern=r"^https?://", examples=["https://staging.example.com/"],
                            description="HTTP check: this absolute URL.")
    output: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", examples=["ApiUrl"],
                               description="HTTP check: the stack output holding the base URL (`path` is appended).")
    path: str = Field("", examples=["/listings"], description="Appended to the output's URL (HTTP checks).")
    status: int = Field(200, ge=100, le=599, description="The HTTP status expected.")
    contains: str | None = Field(None, min_length=1, examples=["listings"], description="Text the body must contain.")
    max_latency_ms: int | None = Field(None, ge=1, examples=[2000], description="Slowest acceptable answer, in ms.")
    retries: int = Field(3, ge=0, le=20, description="Attempts after the first, with exponential backoff.")
    backoff_s: float = Field(2.0, ge=0, le=60, description="Wait before the first retry; doubled each time.")
    table: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", examples=["ListingsTable"],
                              description="Resource check: this DynamoDB table of the stack is readable.")
    bucket: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", examples=["ListingsBucket"],
                               description="Resource check: this S3 bucket of the stack is reachable.")

    @model_validator(mode="after")
    def _one_kind(self) -> "SmokeCheck":
        kinds = [k for k, on in (("url", self.url), ("output", self.output), ("table", self.table),
                                 ("bucket", self.bucket)) if on]
        if len(kinds) != 1:
            fix = "keep one of them" if kinds else "add one, e.g. output: ApiUrl or table: ListingsTable"
            raise PydanticCustomError("smoke_kind", "a smoke check has exactly one of url, output, table or bucket, "
                                      "got {got}; {fix}", {"got": ", ".join(kinds) or "none", "fix": fix})
        return self

    @property
    def kind(self) -> str:
        return "http" if self.url or self.output else "table" if self.table else "bucket"

    @property
    def label(self) -> str:
        return self.name or self.url or (f"{self.output}{self.path}" if self.output else self.table or self.bucket)


class Timeouts(_Section):
    """The longest each deploy phase may take, in seconds; a phase over its limit fails the deploy (and, once the
    change set ran, rolls it back)."""

    lock: int = Field(300, ge=0, le=7200, description="Waiting for another deploy's lock on the environment.")
    preflight: int = Field(120, ge=1, le=3600, description="Credentials, stack status, release checksums.")
    change_set: int = Field(1800, ge=1, le=14400, description="Creating, executing and waiting for the change set.")
    frontend: int = Field(900, ge=1, le=7200, description="The Amplify deployment of the frontend zip.")
    smoke: int = Field(300, ge=1, le=3600, description="All smoke checks together, retries included.")
    rollback: int = Field(1800, ge=1, le=14400, description="Restoring the last known good release.")
    backup: int = Field(600, ge=1, le=7200, description="Each on-demand DynamoDB backup of safeguards.backup_tables, "
                        "until AVAILABLE (over it, the deploy stops before any change).")


GITHUB_LOGIN = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})|[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})$"
"""A GitHub user login, or a team as `org/team-slug`."""
GITHUB_ENVIRONMENT = r"^[^'\"`,;\\]{1,255}$"
LOGICAL_ID = r"^[A-Za-z0-9]+$"
MAX_REVIEWERS = 6
"""GitHub's limit of users and teams on one environment's required reviewers."""


class Trigger(_Model):
    """What deploys an environment by itself (route): a push to a branch, or a release tag of one kind."""

    branch: str | None = Field(None, pattern=r"^[A-Za-z0-9._/-]{1,255}$", examples=["develop"],
                               description="A push to this branch deploys (dev: develop).")
    tags: Literal["rc", "release"] | None = Field(
        None, description="rc: a pushed rc-X.Y.Z[.N] tag deploys (staging); release: a pushed vX.Y.Z tag (production).",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> "Trigger":
        if (self.branch is None) == (self.tags is None):
            got = "both" if self.branch else "neither"
            raise PydanticCustomError("trigger_kind", "a trigger has exactly one of branch or tags, got {got}; e.g. "
                                      "branch: develop or tags: rc", {"got": got})
        return self


class Approval(_Model):
    """One GitHub environment whose required reviewers approve before the deploy; any ONE of them suffices, so
    two approvals are two of these in sequence, with disjoint reviewer lists."""

    github_environment: str = Field(pattern=GITHUB_ENVIRONMENT, examples=["production-approval"],
                                    description="The GitHub environment of this approval (its job waits there).")
    reviewers: Annotated[list[Annotated[str, Field(pattern=GITHUB_LOGIN)]], AfterValidator(_unique),
                         Field(min_length=1, max_length=MAX_REVIEWERS)] = Field(
        examples=[["alice", "acme/release-managers"]], json_schema_extra={"uniqueItems": True},
        description="Users (login) or teams (org/team-slug) who may approve: up to six; one approval suffices.",
    )
    prevent_self_review: bool = Field(True, description="The person who started the run cannot approve it.")


class Safeguards(_Section):
    """What a deploy does to protect the environment before it changes anything."""

    backup_tables: Annotated[list[Annotated[str, Field(pattern=LOGICAL_ID)]], AfterValidator(_unique)] = Field(
        [], examples=[["ListingsTable"]], json_schema_extra={"uniqueItems": True},
        description="Logical ids of the stack's DynamoDB tables backed up on demand before each deploy (a failed "
        "backup stops the deploy before any change); the current template and parameters are always copied first.",
    )
    protect_stack: bool = Field(
        False, description="Termination protection on the stack, and a stack policy denying the replacement or "
        "deletion of its stateful resources (a deploy overrides it only with --override-reason).",
    )


class Environment(_Model):
    """A deployment target: one CloudFormation stack in one account and region."""

    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", examples=["eu-west-1"], description="AWS region.")
    stack_name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$", examples=["coagent-staging"], description="CloudFormation stack."
    )
    artifacts_bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", examples=["coagent-artifacts-staging"],
        description="S3 bucket `sam package` uploads the code and template to.",
    )
    template: str | None = Field(
        None, min_length=1, description="The template of this stack; unset: the one of infra.templates (or found).",
    )
    parameters: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")], str],
                          BeforeValidator(_none_as_empty), AfterValidator(_no_secret_names)] = Field(
        {}, examples=[{"Stage": "staging"}], json_schema_extra={"type": ["object", "null"]},
        description="Template parameters (plain values, never secrets: a name that looks like a password is refused).",
    )
    endpoint_url: str | None = Field(
        None, pattern=r"^https?://", examples=["http://127.0.0.1:5000"],
        description="An AWS endpoint instead of AWS's (an emulator such as moto); AWS_ENDPOINT_URL also works.",
    )
    allow_replacement: Annotated[list[str], AfterValidator(_unique)] = Field(
        [], examples=[["ListingsBucket"]], json_schema_extra={"uniqueItems": True},
        description="Logical ids of stateful resources whose replacement or deletion is accepted.",
    )
    github_environment: str | None = Field(
        None, pattern=GITHUB_ENVIRONMENT, examples=["staging"],
        description="The GitHub environment the deploy job runs in (its secrets, branch and tag policy, wait timer), "
        "e.g. development; configure-github creates it.",
    )
    trigger: Trigger | None = Field(
        None, examples=[{"branch": "develop"}, {"tags": "rc"}],
        description="What deploys this environment by itself (route); unset: only a manual dispatch.",
    )
    promote_from: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]*$", examples=["staging"],
        description="The environment a release must have been deployed to successfully first; deploy copies it "
        "from that environment's bucket (promote, checksums verified), never rebuilt.",
    )
    approvals: list[Approval] = Field(
        [], examples=[[{"github_environment": "production-approval", "reviewers": ["alice", "bob"]},
                       {"github_environment": "production", "reviewers": ["carol", "dave"]}]],
        description="The approvals before the deploy, in order (GitHub environments with required reviewers).",
    )
    approval_timeout_hours: float | None = Field(
        None, gt=0, le=720, examples=[48],
        description="Deploy refuses when the run waited longer than this from its start to the deploy job's start "
        "(GitHub itself waits up to 30 days); needs --github-run-id.",
    )
    wait_timer_minutes: int = Field(
        0, ge=0, le=43200, examples=[5],
        description="GitHub's wait before the deploy job starts once approved (a last chance to cancel).",
    )
    safeguards: Safeguards = Field(Safeguards(), description="Backups and stack protection before each deploy.")
    amplify: Amplify | None = Field(
        None, description="Where the static frontend goes; unset: only the backend (the stack) deploys.",
    )
    url: str | None = Field(
        None, pattern=r"^https?://[^\s]+$", examples=["https://staging.coagent.example.com"],
        description="The deployed site's base URL: what `accept` audits with Lighthouse and the GitHub deployment "
        "links to; unset: the Amplify branch's own URL (https://BRANCH.APP_ID.amplifyapp.com) when amplify is set.",
    )
    runtime_config: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")],
                                   Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")]],
                              BeforeValidator(_none_as_empty)] = Field(
        {}, examples=[{"apiUrl": "ApiUrl"}], json_schema_extra={"type": ["object", "null"]},
        description="config.json written beside the static site at deploy: key -> the stack output giving its value "
        "(empty: every output by its name); the app reads it at start, so one build serves every environment.",
    )
    smoke: list[SmokeCheck] = Field(
        [], examples=[[{"output": "ApiUrl", "path": "/listings", "contains": "listings"}, {"table": "ListingsTable"}]],
        description="Smoke tests run after the deploy and after a rollback.",
    )
    alarms: Annotated[list[Annotated[str, Field(min_length=1, max_length=255)]], AfterValidator(_unique)] = Field(
        [], examples=[["coagent-staging-5xx"]], json_schema_extra={"uniqueItems": True},
        description="CloudWatch alarm names watched for monitoring_minutes after the deploy (any in ALARM rolls "
        "back); those that exist before it are also the stack update's RollbackConfiguration.",
    )
    monitoring_minutes: float = Field(
        5.0, ge=0, le=180, description="How long the alarms are watched after the smoke tests pass.",
    )
    timeouts: Timeouts = Field(Timeouts(), description="The longest each deploy phase may take, in seconds.")

    @property
    def site_url(self) -> str | None:
        """The deployed site's base URL: `url`, else the Amplify branch's default domain, else None."""
        if self.url or not self.amplify:
            return self.url
        return f"https://{self.amplify.branch.replace('/', '-')}.{self.amplify.app_id}.amplifyapp.com"

    @model_validator(mode="after")
    def _approvals_apart(self) -> "Environment":
        names = [a.github_environment for a in self.approvals]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise PydanticCustomError("approvals_apart", "approvals name the GitHub environment {name} twice; "
                                          "give each approval its own environment", {"name": name})
        seen: dict[str, str] = {}
        for approval in self.approvals:
            for reviewer in approval.reviewers:
                if reviewer.lower() in seen:
                    raise PydanticCustomError(
                        "approvals_apart", "{reviewer} approves in both {first} and {second}; two approvals need "
                        "disjoint reviewer lists", {"reviewer": reviewer, "first": seen[reviewer.lower()],
                                                    "second": approval.github_environment})
                seen[reviewer.lower()] = approval.github_environment
        if self.approvals and self.github_environment is None:
            raise PydanticCustomError("approvals_apart", "approvals need github_environment (the deploy job's "
                                      "environment); set it, e.g. github_environment: production", {})
        return self


EnvRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]


class Slack(_Section):
    """Slack messages (an incoming webhook, given as --slack-webhook) about deploys and rollbacks."""

    events: Annotated[list[Literal["success", "failure", "rollback"]], AfterValidator(_unique),
                      Field(min_length=1)] = Field(
        ["success", "failure", "rollback"], json_schema_extra={"uniqueItems": True},
        description="Which outcomes are posted: a deploy that succeeded, one that failed (nothing changed, or at no "
        "known release), a rollback (automatic or manual).",
    )
    environments: Annotated[list[EnvRef], AfterValidator(_unique)] = Field(
        [], examples=[["staging", "production"]], json_schema_extra={"uniqueItems": True},
        description="The environments whose deploys are posted; empty: every one.",
    )
    timeout_s: float = Field(10.0, gt=0, le=60, description="The longest a post may take; it never fails a deploy.")


class PagerDuty(_Section):
    """PagerDuty alerts (Events API v2, the routing key given as --pagerduty-routing-key) for failures and
    rollbacks."""

    environments: Annotated[list[EnvRef], AfterValidator(_unique), Field(min_length=1)] = Field(
        ["production"], json_schema_extra={"uniqueItems": True},
        description="The environments whose failed deploys and rollbacks page.",
    )
    severity: Literal["critical", "error", "warning", "info"] = Field("critical", description="The alert's severity.")
    timeout_s: float = Field(10.0, gt=0, le=60, description="The longest the event may take; it never fails a deploy.")


class Notifications(_Section):
    """Who hears about deploys and rollbacks; a failed notification is reported, never fails or blocks one."""

    slack: Slack | None = Field(None, description="Slack (Block Kit) messages; unset: none.")
    pagerduty: PagerDuty | None = Field(None, description="PagerDuty alerts; unset: none.")


class Config(_Section, title="Bayon Pipeline configuration (pipeline.yaml)"):
    """Bayon Pipeline configuration of one app (pipeline.yaml). Every key is optional."""

    version: Annotated[Literal[1], BeforeValidator(_whole_number)] = Field(1, description="Version of this file's format.")
    node: NodeMajor = Field(
        default_factory=lambda: lts(date.today())[0], examples=[22],
        description="Node major for the steps that run on one version (lint, build, ...). Unset: the first (oldest) "
        "of the majors tests.node_versions defaults to.",
    )
    install: Install = Field(Install(), description="The dependency install (`npm ci`).")
    setup: list[Annotated[str, Field(min_length=1)]] = Field(
        [], examples=[["npm ci --prefix backend/src", "npx prisma generate"]],
        description="Shell commands run in the app directory after the install and before every stage; a failing "
        "one stops the stages.",
    )
    quality: Quality = Field(Quality(), description="Code quality: ESLint, tsc and Prettier.")
    tests: Tests = Field(
        default_factory=Tests, description="Unit tests (Node matrix, shards, coverage) and integration tests."
    )
    build: Build = Field(Build(), description="Production build and bundle-size budgets.")
    security: Security = Field(Security(), description="Dependency audit, secrets scan, SAST and license compliance.")
    lighthouse: Lighthouse = Field(Lighthouse(), description="Lighthouse audits: thresholds, budgets, baseline.")
    infra: Infra = Field(Infra(), description="SAM/CloudFormation templates to validate and package.")
    environments: Annotated[dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")], Environment],
                            BeforeValidator(_none_as_empty)] = Field(
        {}, examples=[{"staging": {"region": "eu-west-1", "stack_name": "coagent-staging",
                                   "artifacts_bucket": "coagent-artifacts-staging", "github_environment": "staging"}}],
        json_schema_extra={"type": ["object", "null"]},
        description="Deployment targets by name (`--env NAME`).",
    )
    notifications: Notifications = Field(Notifications(), description="Slack and PagerDuty about deploys.")

    @model_validator(mode="after")
    def _environments_named(self) -> "Config":
        for name, env in self.environments.items():
            if env.promote_from is not None and env.promote_from not in self.environments:
                raise PydanticCustomError("unknown_environment", "{other} is no environment here; name one of {known}",
                                          {"at": ("environments", name, "promote_from"), "other": env.promote_from,
                                           "known": _names(self)})
            if env.promote_from == name:
                raise PydanticCustomError("unknown_environment", "an environment cannot promote from itself; name "
                                          "the one before it (e.g. staging)",
                                          {"at": ("environments", name, "promote_from")})
        for kind in ("slack", "pagerduty"):
            section = getattr(self.notifications, kind)
            for index, other in enumerate(section.environments if section else ()):
                if other not in self.environments:
                    raise PydanticCustomError("unknown_environment", "{other} is no environment here; name one of "
                                              "{known}", {"at": ("notifications", kind, "environments", index),
                                                          "other": other, "known": _names(self)})
        return self


def _names(config: Config) -> str:
    return ", ".join(config.environments) or "(none: add environments first)"


DEFAULT = Config()
