"""`sam validate` on each template: `infra/sam-validate/<template>`, in `infra.region`, without credentials.

`sam validate` translates the template as CloudFormation's SAM transform would, locally: it needs a region but no
account. The step gets none of the host's AWS settings: no credentials (the local executor passes no AWS_* variable;
the container has none), no shared config or credentials file, no instance metadata, no telemetry.

Its output is text. A template it rejects exits 1 after "... was invalid SAM Template." with one `Error:` line listing
the exceptions (`[InvalidResourceException('Id', 'why'), ...]`): each is a finding. Any other outcome (no region, a
traceback, a template it cannot find) is a crash, never a verdict on the template.
"""

from __future__ import annotations

import ast
import functools

from ci.config import Config
from ci.core.findings import finding
from ci.core.report import Finding
from ci.core.text import SAM_CLI, sam_version
from ci.core.step import PYTHON_IMAGE, Judgement, ReportError, Step, StepRun, python_tool

PREFIX = "infra/sam-validate/"
TOOL = "sam"
RULE = "sam/invalid-template"
SCRIPT = 'sam --version && exec sam validate --template "$1" --region "$2"'
NO_AWS = {"SAM_CLI_TELEMETRY": "0", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
          "AWS_EC2_METADATA_DISABLED": "true"}
"""What keeps the host's AWS settings out: no shared config or credentials file, no instance metadata lookup."""
VALID, INVALID = "is a valid SAM Template", "was invalid SAM Template"


def step_id(template: str) -> str:
    return PREFIX + template


def steps(config: Config, templates: list[str]) -> list[Step]:
    """One `sam validate` per template, in a Python image with the SAM CLI pinned (locally .bayon/tools/bin/sam)."""
    return [Step(id=step_id(template), tool=TOOL, judge=functools.partial(judge, template=template), env=NO_AWS,
                 argv=("sh", "-c", SCRIPT, TOOL, template, config.infra.region),
                 tool_image=PYTHON_IMAGE, tool_install=python_tool(SAM_CLI), timeout_s=300)
            for template in templates]


def errors(stderr: str) -> list[str]:
    """The messages of the exceptions on sam's `Error:` line (`[E('Id', 'why')] ...`: 'Id: why'), else the line."""
    messages = []
    for line in (ln.removeprefix("Error: ") for ln in stderr.splitlines() if ln.startswith("Error: ")):
        try:
            calls = [n for n in ast.walk(ast.parse(line, mode="eval")) if isinstance(n, ast.Call)]
        except SyntaxError:
            calls = []
        found = [": ".join(str(a.value) for a in call.args if isinstance(a, ast.Constant))
                 for call in calls if isinstance(call.func, ast.Name) and call.func.id.endswith("Exception")]
        messages += [m for m in found if m] or [line]
    return messages


def judge(run: StepRun, template: str) -> Judgement:
    """Valid passes; invalid fails with a finding per error (in `template`); anything else crashed."""
    tool_version = sam_version(run.stdout)
    if run.exit_code == 0 and VALID in run.stdout:
        return Judgement("passed", reason=f"sam {tool_version or '?'}: a valid SAM template", tool_version=tool_version)
    if run.exit_code == 1 and INVALID in run.stdout:
        found: list[Finding] = [finding(RULE, "error", template, None, None, m)
                                for m in errors(run.stderr) or ["sam validate gave no reason"]]
        return Judgement("failed", tuple(found), f"sam {tool_version or '?'}: {len(found)} error(s)",
                         tool_version=tool_version)
    raise ReportError(f"sam validate said neither that {template} is valid nor that it is invalid "
                      f"(exit code {run.exit_code})")
