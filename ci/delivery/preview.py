"""`preview-changes --env NAME`: package the environment's template (`ci.delivery.packaging`), create a change set for
its stack, render its rows with what replaces, flag stateful replacements and deletions, and delete the change set.
Nothing is ever executed. The boto3 calls run here, in the caller's process (the Dagger module runtime, or bayon),
with the credentials of `ci.delivery.credentials`; the package step gets them as secrets only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import anyio
import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ci.config import Config
from ci.core.errors import UsageError, one_line
from ci.core.executor import Executor
from ci.core.findings import finding
from ci.core.report import Finding, Report, StepResult, Table
from ci.core.scheduler import run_steps
from ci.delivery import changeset, credentials, emulator, packaging, replacement, sam, stateful, target
from ci.delivery.clients import Target, client, unsigned_sts
from ci.delivery.clients import target as target_of
from ci.delivery.template_text import declared_lines, load

FUNCTION = "preview_changes"
DROPPED = "infra/emulator-dropped"
CHANGE_COLUMNS = ("action", "logical id", "type", "replacement", "decided by")
CHANGE_KEYS = ("action", "logical_id", "type", "replacement", "decided_by")
"""The columns of the change-set table in the report, and the keys of the rows they show."""


def step_id(env_name: str) -> str:
    return f"infra/change-set/{env_name}"


@dataclass(frozen=True)
class Request:
    """One preview: the environment by name, the template path (relative to the source) and text, how to wait."""

    env_name: str
    template: str
    delay_s: int = 2
    source_text: str = ""
    """The template's text in the source: where findings point."""


async def run(executor: Executor, config: Config, env_name: str, found: list[str], given: credentials.Given,
              fetch: credentials.Fetch = credentials.urllib_fetch,
              environ: Mapping[str, str] = os.environ, delay_s: int = 2) -> Report:
    """The preview's report: the package step, then the change-set step, with its rows as the report's table."""
    environment = target.environment(config, env_name)
    path = target.template(config, env_name, found)
    text = await executor.read_source_file(path)
    if text is None:
        raise UsageError(f"environments.{env_name}.template names {path}, which the app does not have; fix the path "
                         "(relative to the app)")
    request = Request(env_name, path, delay_s, text)
    where = target_of(environment, environ)
    aws = await anyio.to_thread.run_sync(credentials.session, given, environment.region, unsigned_sts(where), fetch)
    executor.give_secrets(credentials.secret_values(aws))
    step = packaging.package_step(env_name, environment, request.template, where)
    packaged = await run_steps(FUNCTION, executor, [step])
    result = next(s for s in packaged.steps if s.id == step.id)
    if result.status != "passed":
        blocked = StepResult(step_id(env_name), "cloudformation", "skipped", reason=f"{step.id} {result.status}",
                             blocked_by=step.id)
        return replace(packaged, steps=(*packaged.steps, blocked))
    document = packaging.packaged({packaging.PACKAGED: packaged.artifacts[f"{step.id}/{packaging.PACKAGED}"]})
    started = time.monotonic()
    outcome, own, rows = await anyio.to_thread.run_sync(_change_set, aws, where, environment, request, document)
    outcome = replace(outcome, duration_s=time.monotonic() - started)
    return replace(packaged, steps=(*packaged.steps, outcome), findings=(*packaged.findings, *own),
                   duration_s=packaged.duration_s + outcome.duration_s,
                   tables=(*packaged.tables, change_table(env_name, rows)))


def change_table(env_name: str, rows: tuple[dict[str, str], ...]) -> Table:
    """The change set as a summary table of the report (`ci.core.report.Table`): one row per resource change."""
    return Table(title=f"change set: {env_name}" + ("" if rows else " (no changes)"), columns=CHANGE_COLUMNS,
                 rows=tuple(tuple(row[key] for key in CHANGE_KEYS) for row in rows), step=step_id(env_name))


def _change_set(aws: boto3.Session, where: Target, environment, request: Request,
                document: dict) -> tuple[StepResult, tuple[Finding, ...], tuple[dict[str, str], ...]]:
    """Create, describe and delete the change set; its verdict, findings and rows (a refusal is `crashed`)."""
    sid = step_id(request.env_name)
    cfn = client(aws, "cloudformation", where)
    parameters = dict(environment.parameters)
    findings: list[Finding] = []
    try:
        new = document
        if where.emulator:
            new, dropped = emulator.profile(sam.translated(document, parameters, aws, client(aws, "iam", where)))
            findings += _dropped(dropped, request.template, request.env_name) if dropped else []
        shown = changeset.preview(cfn, environment.stack_name, new, parameters, request.delay_s)
        changes = list(shown.changes)
        if where.emulator or any(c.action == "Modify" and not c.replacement for c in changes):
            plain = new if where.emulator else sam.translated(document, parameters, aws, client(aws, "iam", where))
            decided = replacement.diff(_deployed(cfn, environment.stack_name, where, shown), plain)
            changes = decided if where.emulator else replacement.completed(changes, decided)
    except (changeset.ChangeSetError, UsageError) as exc:
        return StepResult(sid, "cloudformation", "crashed", reason=str(exc)), tuple(_own(findings, sid)), ()
    except (ClientError, BotoCoreError) as exc:  # describe_stacks, get_template: the service or the endpoint failed
        return StepResult(sid, "cloudformation", "crashed", reason=one_line(exc)), tuple(_own(findings, sid)), ()
    lines = declared_lines(request.source_text, [c.logical_id for c in changes])
    findings += stateful.findings(changes, environment.allow_replacement, request.env_name, request.template, lines)
    errors = sum(f.severity == "error" for f in findings)
    replaced = sum(c.replacement == "True" for c in changes)
    summary = ("no changes" if not changes else f"{len(changes)} change(s), {replaced} replacement(s)")
    reason = (f"{shown.change_set_type} change set for {environment.stack_name}: {summary}; deleted, never executed"
              + (f"; {errors} stateful resource(s) replaced or deleted" if errors else ""))
    status = "failed" if errors else "passed"
    return (StepResult(sid, "cloudformation", status, reason=reason), tuple(_own(findings, sid)),
            tuple(c.row() for c in changes))


def _deployed(cfn, stack_name: str, where: Target, shown: changeset.Preview) -> dict:
    """The stack's deployed template as plain CloudFormation (AWS: the processed one; the emulator keeps what it was
    sent, already translated); empty for a stack the change set would create."""
    if shown.change_set_type == "CREATE":
        return {}
    stage = {} if where.emulator else {"TemplateStage": "Processed"}
    body = cfn.get_template(StackName=stack_name, **stage)["TemplateBody"]
    return load(body, f"the deployed template of {stack_name}")


def _dropped(dropped: list[tuple[str, str]], template: str, env_name: str) -> list[Finding]:
    listed = ", ".join(f"{i} ({kind})" for i, kind in dropped)
    return [finding(DROPPED, "warning", template, None, None,
                    f"{env_name}: the emulator cannot create these, so the preview leaves them out (real AWS gets "
                    f"the template untouched): {listed}", dropped=[i for i, _ in dropped])]


def _own(found: list[Finding], sid: str) -> list[Finding]:
    return [replace(f, step=sid, tool="cloudformation") for f in found]
