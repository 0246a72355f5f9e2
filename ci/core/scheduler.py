"""Run a stage's steps concurrently through an executor and turn what they did into a `Report`.

This is where fail-closed lives: a step that could not run, exited with an unexpected code, or left no readable
report is `crashed` (with the tool's stderr in the reason), never `passed`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from collections.abc import Callable, Iterable, Sequence

import anyio

from ci.core import preflight
from ci.core.errors import BayonError, one_line, unwrap_groups
from ci.core.executor import NO_SETUP, SETUP_PREFIX, Executor, Setup, install_id
from ci.core.report import Finding, Report, StepResult, Table
from ci.core.step import Judgement, ReportError, Step, StepRun
from ci.core.text import stderr_tail, strip_ansi


def judge_run(step: Step, run: StepRun) -> Judgement:
    """Apply the step's judge, but only to a run whose exit code the step declared; anything else crashed."""
    if run.error:
        return Judgement("crashed", reason=run.error)
    code = run.exit_code
    if code not in step.ok_codes | step.finding_codes:
        detail = stderr_tail(run.stderr) or stderr_tail(run.stdout) or "(no output)"
        return Judgement("crashed", reason=f"{step.tool} exited with code {code}:\n{detail}")
    try:
        return step.judge(run)
    except ReportError as exc:
        detail = stderr_tail(run.stderr)
        return Judgement("crashed", reason=f"{exc}" + (f"\n{detail}" if detail else ""))


def to_result(step: Step, run: StepRun, judgement: Judgement) -> StepResult:
    return StepResult(
        id=step.id,
        tool=step.tool,
        status=judgement.status,
        tool_version=judgement.tool_version or run.tool_version,
        exit_code=run.exit_code,
        duration_s=run.duration_s,
        reason=strip_ansi(judgement.reason),
        started_s=run.started_s,
        services=run.services,
    )


def plain(result: StepResult) -> StepResult:
    """A result made elsewhere (an install, a stage-level judge) with the escapes taken out of its reason."""
    return replace(result, reason=strip_ansi(result.reason))


def plain_findings(found: Iterable[Finding], **attribution: str) -> tuple[Finding, ...]:
    """Findings with the escapes taken out of their messages (and `step` and `tool` set, when given)."""
    return tuple(replace(f, message=strip_ansi(f.message), **attribution) for f in found)


def skipped(step: Step, reason: str, blocked_by: str | None = None) -> StepResult:
    return StepResult(id=step.id, tool=step.tool, status="skipped", reason=reason, blocked_by=blocked_by)


Aggregate = Callable[[Report], tuple[StepResult, tuple[Finding, ...]]]
"""A stage-level judge over its steps' results and artifacts (e.g. merged coverage against thresholds); pure."""


@unwrap_groups
async def run_steps(
    function: str,
    executor: Executor,
    steps: Sequence[Step],
    allowed_unavailable: Iterable[str] = (),
    skip_reasons: dict[str, str] | None = None,
    aggregates: Sequence[Aggregate] = (),
    setup: Setup = NO_SETUP,
) -> Report:
    """Run every runnable step concurrently, each as soon as its Node major's install and `setup` commands (shared,
    memoized) are done; one failure never hides another, but a failed install or setup command skips its steps. A
    step the app lacks the tool or file for is not run: `preflight` decides it. An executor that raises (it must
    not) crashes that step only; a `BayonError` (a tool or service missing) ends the run with that error, never with
    an ExceptionGroup.

    `aggregates` then judge the steps together; each adds one step result (and its findings) to the report.
    """
    started = time.monotonic()
    skip_reasons = dict(skip_reasons or {})
    runnable: list[Step] = []
    results: dict[str, StepResult] = {}
    findings: dict[str, tuple[Finding, ...]] = {}
    artifacts: dict[str, bytes] = {}
    tables: dict[str, tuple[Table, ...]] = {}
    for step in steps:
        reason = skip_reasons.get(step.id) or executor.unavailable_reason(step)
        if reason:
            results[step.id] = skipped(step, reason)
        else:
            runnable.append(step)
    decided = await preflight.verdicts(executor, runnable)
    for step in [s for s in runnable if s.id in decided]:
        results[step.id] = StepResult(step.id, step.tool, decided[step.id].status, reason=decided[step.id].reason)
        runnable.remove(step)

    installs: dict[int, tuple[StepResult, ...]] = {}
    install_locks: dict[int, anyio.Lock] = {}

    async def install(major: int) -> tuple[StepResult, ...]:
        """Once per major, the install then the setup commands; the first step needing them runs them, the others
        wait (majors install concurrently)."""
        async with install_locks.setdefault(major, anyio.Lock()):
            if major not in installs:
                t = time.monotonic()
                try:
                    done = (plain(await executor.install(major, setup)),)
                    if done[0].status == "passed" and setup.commands:
                        done += tuple(plain(r) for r in await executor.run_setup(major, setup))
                except BayonError:
                    raise
                except Exception as exc:  # an executor must not raise; if one does, that install crashed
                    done = (StepResult(install_id(major), "npm", "crashed", reason=one_line(exc),
                                       duration_s=time.monotonic() - t, started_s=t - started),)
                installs[major] = done
        return installs[major]

    async def one(step: Step) -> None:
        prepared = await install(step.node_major) if step.installs else ()
        failed = next((r for r in prepared if r.status != "passed"), None)
        if failed is not None:
            what = "setup command" if failed.id.startswith(SETUP_PREFIX) else "dependency install"
            results[step.id] = skipped(step, f"{what} failed ({failed.id})", failed.id)
            return
        try:
            run = await executor.run(step)
        except BayonError:
            raise  # a missing tool or service ends the whole run (exit 3), as designed
        except Exception as exc:  # defend: the step crashed with the message, its siblings finish
            run = StepRun(exit_code=None, error=one_line(exc))
        judgement = judge_run(step, run)
        results[step.id] = to_result(step, run, judgement)
        findings[step.id] = plain_findings(judgement.findings, step=step.id, tool=step.tool)
        tables[step.id] = tuple(replace(table, step=step.id) for table in judgement.tables)
        artifacts.update({f"{step.id}/{name}": data for name, data in run.files.items() if data is not None})

    async with anyio.create_task_group() as group:
        for step in runnable:
            group.start_soon(one, step)

    ordered = [results[s.id] for s in steps]
    report = Report(
        function=function,
        steps=(*{r.id: r for _, done in sorted(installs.items()) for r in done}.values(), *ordered),
        findings=tuple(f for s in steps for f in findings.get(s.id, ())),
        duration_s=time.monotonic() - started,
        allowed_unavailable=frozenset(allowed_unavailable),
        artifacts=artifacts,
        tables=tuple(t for s in steps for t in tables.get(s.id, ())),
    )
    for aggregate in aggregates:
        result, found = aggregate(report)
        report = replace(report, steps=(*report.steps, plain(result)),
                         findings=(*report.findings, *plain_findings(found)))
    return report
