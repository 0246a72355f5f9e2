"""Packaging a SAM template for an environment: `sam build` then `sam package` into its artifacts bucket, one tool
step; the result is the packaged template (code in S3 under a prefix: the stack's name for a preview,
`releases/<id>/code` for a release; `CodeUri: s3://...`), which a change set or deploy can use.

The step runs on the source as given (a tool-image step): the build directory and the packaged template go into
`{reports}`, never into the source. `sam build` of a Node function runs npm in its build copy, so the image has Node
and npm (Node's official image of the pipeline's default Node major; Debian's nodejs is 18) and the SAM CLI in a
venv of Debian's Python (its pins conflict with boto3's, so it stays a tool, never a library). The credentials reach
this step only as secret variables (`CREDENTIAL_SECRETS`); an emulator endpoint as AWS_ENDPOINT_URL (`sam package`
has no --endpoint-url).
"""

from __future__ import annotations

import json
import posixpath
import shlex

from ci.config.model import Environment
from ci.core.executor import RUN_ID_PLACEHOLDER
from ci.core.text import SAM_CLI, sam_version
from ci.core.step import DEFAULT_NODE_MAJOR, Judgement, ReportError, Step, StepRun, node_image
from ci.delivery.clients import ENDPOINT_ENV, Target
from ci.delivery.credentials import CREDENTIAL_SECRETS

SAM_IMAGE = node_image(DEFAULT_NODE_MAJOR)
SAM_VENV = "/opt/sam"
SAM_INSTALL = (
    ("apt-get", "update", "-qq"),
    ("apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-venv"),
    ("python3", "-m", "venv", SAM_VENV),
    (f"{SAM_VENV}/bin/pip", "install", "--no-cache-dir", "--disable-pip-version-check", SAM_CLI),
    ("ln", "-s", f"{SAM_VENV}/bin/sam", "/usr/local/bin/sam"),
)
PACKAGED = "packaged.json"
SAM_ENV = {"SAM_CLI_TELEMETRY": "0", "SAM_CLI_DISABLE_UPDATE_CHECK": "1", "BAYON_RUN_ID": RUN_ID_PLACEHOLDER}
"""Plain output, and a run id fresh on every run: the engine never serves the upload from its cache."""
TIMEOUT_S = 900


def step_id(env_name: str) -> str:
    return f"infra/package/{env_name}"


def script(template: str, environment: Environment, prefix: str) -> str:
    """The shell line: the SAM CLI's version (the judge reports it), build into `{reports}/build` without the
    credentials (it runs npm, and the dependencies' install scripts with it), then package the built template into
    the bucket under `prefix` as JSON (the one command that needs them)."""
    built = "{reports}/build"
    build = ["sam", "build", "--template-file", template, "--build-dir", built]
    package = ["sam", "package", "--template-file", f"{built}/template.yaml", "--s3-bucket",
               environment.artifacts_bucket, "--s3-prefix", prefix, "--region", environment.region,
               "--output-template-file", f"{{reports}}/{PACKAGED}", "--use-json", "--no-progressbar"]
    unset = ["env", *(arg for var in sorted(CREDENTIAL_SECRETS) for arg in ("-u", var))]
    return f"sam --version && {shlex.join([*unset, *build])} && {shlex.join(package)}"


def package_step(env_name: str, environment: Environment, template: str, where: Target,
                 prefix: str | None = None) -> Step:
    """The packaging step for one environment's template (a path relative to the source), its code uploaded under
    `prefix` in the artifacts bucket: the stack's name unless given (a release's is `releases/<id>/code`)."""
    env = {**SAM_ENV, **({ENDPOINT_ENV: where.endpoint_url} if where.endpoint_url else {})}
    line = script(posixpath.normpath(template), environment, prefix or environment.stack_name)
    return Step(id=step_id(env_name), tool="sam", argv=("sh", "-c", line),
                judge=judge, env=env, secrets=CREDENTIAL_SECRETS, outputs=(PACKAGED,), tool_image=SAM_IMAGE,
                tool_install=SAM_INSTALL, timeout_s=TIMEOUT_S, finding_codes=frozenset())


def packaged(files) -> dict:
    """The packaged template from the step's files; ReportError when it is missing or no template."""
    data = files.get(PACKAGED)
    if data is None:
        raise ReportError(f"sam package wrote no {PACKAGED}")
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"{PACKAGED} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise ReportError(f"{PACKAGED} has no Resources: not a template")
    return document


def judge(run: StepRun) -> Judgement:
    """Passed once the packaged template is there (a non-zero exit never gets here: it is a crash)."""
    resources = packaged(run.files)["Resources"]
    version = sam_version(run.stdout)
    return Judgement("passed", (), f"packaged {len(resources)} resource(s) with SAM CLI {version or '?'}",
                     tool_version=version)
