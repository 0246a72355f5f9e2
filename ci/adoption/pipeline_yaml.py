"""The commented pipeline.yaml `init` writes: what was detected in the app turned into the few keys that differ
from the defaults, each with a comment saying where it came from, and (when the app has a template) the three
environments of the promotion dev -> staging -> production with placeholders to replace."""

from __future__ import annotations

from ci.adoption.detect import App

REGION = "us-east-1"
DEFAULT_INTEGRATION_CONFIG = "jest.integration.config.mjs"
AMPLIFY_BRANCHES = {"dev": "develop", "staging": "staging", "production": "main"}


def _tools(app: App) -> list[str]:
    lines = ["# Code quality: each tool runs when the app has it (read from package.json's dependencies)."]
    off = [key for key, has in (("lint", app.lint), ("typecheck", app.typecheck), ("format", app.format)) if not has]
    if off:
        lines += ["quality:", *(f"  {key}: false  # no {tool} in package.json" for key, tool in
                                (("lint", "eslint"), ("typecheck", "typescript"), ("format", "prettier"))
                                if key in off)]
    else:
        lines += ["quality:", "  max_warnings: 0  # ESLint, tsc and Prettier found"]
    engines = (f"engines.node {app.engines_node!r} in package.json: the tests run on each LTS major it allows"
               if app.engines_node else "no engines.node in package.json: the tests run on the current LTS majors")
    lines += ["", f"# Tests: {engines} (or set tests.node_versions)."]
    keys = [] if app.unit else ["  unit: false  # no jest in package.json"]
    if app.integration_config is None:
        keys += ["  integration:", "    enabled: false  # no jest.integration.config.* found"]
    elif app.integration_config != DEFAULT_INTEGRATION_CONFIG:
        keys += ["  integration:", f"    config: {app.integration_config}  # found in the app"]
    else:
        lines += [f"# Integration tests: {app.integration_config} found (run against the AWS emulator the pipeline "
                  "starts)."]
    return [*lines, *(["tests:", *keys] if keys else [])]


def _environments(app: App) -> list[str]:
    if not app.templates:
        return ["", "# No SAM/CloudFormation template found: no environments (add one, then `environments:` with",
                "# region, stack_name and artifacts_bucket per deployment target; see the pipeline's README)."]
    first = app.templates[0]
    lines = ["", "# SAM/CloudFormation: " + ", ".join(t.path for t in app.templates) + " found."]
    if len(app.templates) > 1:
        lines += ["infra:", "  templates:", *(f"    - {t.path}" for t in app.templates)]
    smoke = [*(f"      - {{ output: {o} }}  # an HTTP check of the stack's {o}" for o in first.url_outputs),
             *(f"      - {{ table: {t} }}" for t in first.tables), *(f"      - {{ bucket: {b} }}" for b in first.buckets)]
    lines += [
        "",
        "# The promotion: develop -> dev automatically; an rc-X.Y.Z tag -> staging (one approval); a vX.Y.Z tag ->",
        "# production (two approvals, only the release staging deployed, copied from staging's bucket, never rebuilt).",
        "# Replace the region, the bucket names (globally unique) and the reviewers; `configure-github` then creates",
        "# the GitHub environments and their reviewers, and each environment's AWS role goes into the repository",
        "# variables AWS_ROLE_ARN_DEV, AWS_ROLE_ARN_STAGING and AWS_ROLE_ARN_PRODUCTION.",
        "environments:",
    ]
    for name, extra in (
        ("dev", ["    github_environment: development", "    trigger: { branch: develop }"]),
        ("staging", ["    github_environment: staging", "    trigger: { tags: rc }",
                     "    approvals:  # who approves: users (login) or teams (org/team), up to six",
                     "      - { github_environment: staging, reviewers: [your-org/developers] }",
                     "    approval_timeout_hours: 24"]),
        ("production", ["    github_environment: production", "    trigger: { tags: release }",
                        "    promote_from: staging",
                        "    approvals:  # any ONE reviewer approves an environment: two approvals, two environments",
                        "      - { github_environment: production-approval, reviewers: [your-org/release-managers] }",
                        "      - { github_environment: production, reviewers: [your-org/product-owners] }",
                        "    approval_timeout_hours: 48",
                        "    wait_timer_minutes: 5",
                        "    safeguards:",
                        f"      backup_tables: [{', '.join(first.tables)}]  # the template's DynamoDB tables",
                        "      protect_stack: true"]),
    ):
        lines += [f"  {name}:", f"    region: {REGION}", f"    stack_name: {app.name}-{name}",
                  f"    artifacts_bucket: {app.name}-artifacts-{name}"]
        if len(app.templates) > 1:
            lines += [f"    template: {first.path}  # the stack's template (several were found)"]
        lines += extra
        lines += ["    smoke:", *smoke] if smoke else []
        if app.static_export:
            lines += [f"    # amplify: {{ app_id: d1a2b3c4d5e6f7, branch: {AMPLIFY_BRANCHES[name]} }}  # the static "
                      "export to your Amplify app"]
    return lines


def render(app: App) -> str:
    """The file's text (it passes the config loader as written)."""
    frontend = ("Next static export (output: \"export\"): the build writes out/" if app.static_export
                else "Next without a static export: a server-rendered app (Lighthouse serves it with `next start`)")
    lines = [
        f"# Bayon Pipeline configuration of {app.name}, written by `bayon init` from what the app has. Every key is",
        "# optional (unset: the default); the schema with every key and its description is the pipeline's",
        "# ci/schemas/pipeline.schema.json.",
        f"# Frontend: {frontend}.",
        "version: 1",
        "",
        *_tools(app),
        *_environments(app),
        "",
        "# Who hears about deploys: Slack (secret SLACK_WEBHOOK_URL) and PagerDuty (secret PAGERDUTY_ROUTING_KEY);",
        "# uncomment once the secrets exist.",
        "# notifications:",
        "#   slack: { environments: [staging, production] }",
        "#   pagerduty: { environments: [production] }",
    ]
    return "\n".join(lines) + "\n"
