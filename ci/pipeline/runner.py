"""The one runner both faces call: gates, fixers, outputs, plans, report files and the coverage merge.

The Dagger module (`ci/main.py`) and `bayon` (`ci/cli/`) hand it their own executor and only adapt what it returns
to their world: strings, Directories and Changesets for Dagger; stdout, files and exit codes for `bayon`. Every
verdict is decided here, so the two faces cannot judge the same run differently.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import anyio

from ci.config import Config, ConfigError, load_config, node
from ci.config.loader import key_line
from ci.core.errors import BayonError, UsageError, unwrap_groups
from ci.core.executor import Executor, Setup
from ci.core.report import Finding, Report, StepResult
from ci.core.scheduler import Aggregate, run_steps
from ci.core.step import ReportError, Step
from ci.delivery import clients, credentials, packaging, plan_history, preview, target
from ci.core.text import kebab
from ci.integrations import github, github_comments
from ci.integrations.github_rest import API_URL, Client
from ci.output import sarif
from ci.output.render import dumps, render
from ci.pipeline import docs_only
from ci.pipeline.registry import FIXERS, GATES, OUTPUTS, STAGES, ci_members, steps_of
from ci.stages.infra import templates
from ci.stages.performance import lighthouse as lh
from ci.stages.setup import changes
from ci.stages.tests import integration, unit

CODE_SCANNING_ID = "security/code-scanning"
PR_COMMENT_ID = "github/pr-comment"
PR_COMMENT_MARKER = "ci-summary"
NO_STEPS = frozenset({"promote", "deploy", "rollback", "smoke", "history", "configure_github", "check_approval",
                      "route", "init"})
"""Functions that run no step: their work is boto3 or GitHub API calls in the caller's process (the delivery ones'
phases are the report's steps); route and init only read the app's files."""
PLANNED_RELEASE_PREFIX = "releases/<commit-sha>/code"
"""Where `plan package` shows the code going: the release id is the --commit-sha of the call."""


class StepDidNotRun(BayonError):
    """A fixer or output step crashed or exited non-zero, so there is nothing to return (`bayon` exits 1)."""

    exit_code = 1


async def load(executor: Executor) -> Config:
    """The app's pipeline.yaml (defaults when absent), checked against its package.json engines; the Node majors it
    leaves out chosen from the app's own version files (`ci.config.node`); an integration suite it turns on
    explicitly checked to exist."""
    text = await executor.read_source_file("pipeline.yaml")
    files = {name: await executor.read_source_file(name) for name in node.APP_FILES}
    config = node.with_app_node(load_config(text, package_json=files["package.json"]), files, date.today())
    integration_config = config.tests.integration.config
    present = config.tests.integration.enabled and await executor.read_source_file(integration_config) is not None
    problem = integration.missing_config(config, present)
    if problem:
        raise ConfigError("pipeline.yaml", key_line(text, ("tests", "integration", "enabled")), problem)
    return config


async def infra_templates(executor: Executor, config: Config) -> list[str]:
    """The app's SAM/CloudFormation templates (`ci.stages.infra.templates`): pipeline.yaml's `infra.templates`, else
    every template found in the source."""
    paths = list(config.infra.templates) or templates.candidates(await executor.source_paths(templates.CANDIDATE_GLOBS))
    return templates.chosen(config, {path: await executor.read_source_file(path) for path in paths})


def setup_of(config: Config) -> Setup:
    """What the app needs before its steps (pipeline.yaml `install.env`, `setup`)."""
    return Setup(env=config.install.env, commands=tuple(config.setup))


def selected(only: Sequence[str] = (), skip: Sequence[str] = ()) -> dict[str, str]:
    """Stage name → why `--only` / `--skip` leave it out (stages not named run). A stage is named as the command line
    names functions (`unit-tests`) or as Python does (`unit_tests`); reasons show the command-line spelling."""
    for flag, names in (("--only", only), ("--skip", skip)):
        for name in names:
            if name.replace("-", "_") not in STAGES:
                raise UsageError(f"{flag} {name}: no such stage; choose from {', '.join(map(kebab, STAGES))}")
    only, skip = ([name.replace("-", "_") for name in names] for names in (only, skip))
    return {name: (f"--skip {kebab(name)}" if name in skip else f"not in --only {','.join(map(kebab, only))}")
            for name in STAGES if (only and name not in only) or name in skip}


def ci_steps(config: Config, only: Sequence[str] = (), skip: Sequence[str] = (),
             docs_only_reason: str | None = None, caches: bool = True) -> tuple[list[Step], dict[str, str]]:
    """Every stage's steps, and why those left out are skipped: `--only` / `--skip`, or `docs_only_reason` for the
    test and build steps when `--base` found documentation changes only."""
    left_out = selected(only, skip)
    steps, reasons = [], {}
    for name, stage_steps in ci_members(config, caches).items():
        steps += stage_steps
        if name in left_out:
            reasons.update({s.id: left_out[name] for s in stage_steps})
        elif docs_only_reason:
            reasons.update({s.id: docs_only_reason for s in stage_steps
                            if s.id.startswith(changes.SKIPPED_PREFIXES)})
    return steps, reasons


async def _ci(executor: Executor, config: Config, only: Sequence[str], skip: Sequence[str], base: str,
              caches: bool) -> Report:
    """Every stage at once; `base` first runs the git step, whose docs-only verdict skips the test and build steps.

    A stage whose steps are all left out runs none of its stage-level judges either (they would judge nothing).
    """
    scope, reason = await docs_only.detect(executor, base, config.tests.docs_patterns) if base else (None, None)
    steps, reasons = ci_steps(config, only, skip, reason, caches)
    left_out = selected(only, skip)
    members: dict[str, list[str]] = {}
    aggregates: list[Aggregate] = []
    for name, stage_steps in ci_members(config, caches).items():
        ids = members[name] = [s.id for s in stage_steps]
        if name not in left_out and not (ids and all(i in reasons for i in ids)):
            aggregates += [_recorded(a, ids) for a in STAGES[name].aggregates(config)]
    allowed = frozenset().union(*(stage.allowed_unavailable(config) for name, stage in STAGES.items()
                                  if name not in left_out))
    report = await run_steps("ci", executor, steps, allowed_unavailable=allowed, skip_reasons=reasons,
                             aggregates=aggregates, setup=setup_of(config))
    return replace(report, steps=(scope, *report.steps) if scope else report.steps,
                   stages={name: tuple(ids) for name, ids in members.items()})


def _recorded(aggregate: Aggregate, ids: list[str]) -> Aggregate:
    """The aggregate, also noting the id of the result it adds among its stage's step ids."""

    def judge(report: Report) -> tuple[StepResult, tuple[Finding, ...]]:
        result, found = aggregate(report)
        ids.append(result.id)
        return result, found

    return judge


def _one_stage(function: str, report: Report) -> Report:
    """A single function's report, its steps (installs aside) grouped as one stage named after the function."""
    return replace(report, stages={function: tuple(s.id for s in report.steps if not s.id.startswith("setup/"))})


@unwrap_groups
async def gate(function: str, executor: Executor, only: Sequence[str] = (), skip: Sequence[str] = (),
               shard: str | None = None, base: str = "", baseline: str = "",
               upload: github.Upload | None = None, no_cache: bool = False,
               comment: github_comments.PullRequest | None = None) -> Report:
    """Run a gate function: `ci` (every stage) or one stage or step; `shard` (i/n) runs one shard of unit_tests;
    `base` (a git revision, `ci` only) skips the test and build steps when only documentation changed since it;
    `baseline` (`build` only) is the bundle-size baseline file in the source, instead of `build.baseline`;
    `upload` (`security`) sends the merged SARIF to GitHub code scanning as one more step; `no_cache` builds the
    steps without tool caches (no cache flags, no cache volumes); `comment` (`ci`) puts the report into the pull
    request's comment as one more step, which never fails the gate."""
    if shard is not None and function != "unit_tests":
        raise UsageError(f"--shard {shard}: only unit-tests runs by shard")
    if base and function != "ci" and not (function in GATES and GATES[function].takes_base):
        takers = ", ".join(["ci", *(name for name, stage in GATES.items() if stage.takes_base)])
        raise UsageError(f"--base {base}: only {takers} take a base revision")
    one = unit.Shard.parse(shard) if shard is not None else None
    config = await load(executor)
    if baseline:
        config = await _with_baseline(function, executor, config, baseline)
    if one is not None:
        report = _one_stage(function, await run_steps(function, executor, unit.stage_steps(config, one),
                                                      aggregates=unit.aggregates(config, one), setup=setup_of(config)))
    elif function == "ci":
        report = await _ci(executor, config, only, skip, base, not no_cache)
    elif function == "lighthouse":
        report = await lighthouse(executor)
    elif function in GATES:
        stage = GATES[function]
        templates = await infra_templates(executor, config) if stage.takes_templates else ()
        steps = stage.build(config, base, caches=not no_cache, templates=templates)
        report = _one_stage(function, await run_steps(function, executor, steps, stage.allowed_unavailable(config),
                                                      aggregates=stage.aggregates(config), setup=setup_of(config)))
    else:
        raise UsageError(f"no gate {function!r}; choose from ci, {', '.join(GATES)}")
    report = await code_scanning(report, upload) if upload is not None else report
    return await pr_comment(report, comment) if comment is not None else report


async def _with_baseline(function: str, executor: Executor, config: Config, baseline: str) -> Config:
    """The config with `build.baseline` set to a `--baseline` file, which must exist in the source."""
    if function != "build":
        raise UsageError(f"--baseline {baseline}: only build compares bundle sizes with a baseline")
    if await executor.read_source_file(baseline) is None:
        raise UsageError(f"--baseline {baseline}: no such file in the source; give its path relative to the app, "
                         f"e.g. {config.build.baseline}")
    return config.model_copy(update={"build": config.build.model_copy(update={"baseline": baseline})})


@dataclass(frozen=True)
class Ran:
    """A fixer's or output's one step and the report of its run: the face fetches the changes or directory."""

    step: Step
    report: Report

    @property
    def result(self) -> StepResult:
        return next(s for s in self.report.steps if s.id == self.step.id)


async def _run_one(function: str, executor: Executor, step: Step, config: Config) -> Ran:
    return Ran(step, _one_stage(function, await run_steps(function, executor, [step], setup=setup_of(config))))


async def fix(function: str, executor: Executor, no_cache: bool = False) -> Ran:
    """Run a fixer (`lint_fix`, `format_fix`; `no_cache`: without tool caches) and judge it. A fixer that ran
    (passed, or failed on what it could not fix) has changes to return; one that crashed or did not run raises
    StepDidNotRun with its reason."""
    config = await load(executor)
    (step,) = FIXERS[function](config, caches=not no_cache)
    ran = await _run_one(function, executor, step, config)
    if ran.result.status not in ("passed", "failed"):
        raise StepDidNotRun(f"{step.id} {ran.result.status}: {ran.result.reason}; nothing was changed")
    return ran


async def output(function: str, executor: Executor, no_cache: bool = False) -> tuple[Ran, str]:
    """Run an output function's step (`build_output`) and the directory it writes, relative to its workdir; the
    directory is returned whatever the step's judge says, but only once the step exited 0 (else StepDidNotRun) and
    wrote it (else a UsageError saying why not, e.g. a server-rendered app has no static export); `no_cache`: without
    tool caches."""
    out = OUTPUTS[function]
    config = await load(executor)
    (step,) = out.steps(config, caches=not no_cache)
    ran = await _run_one(function, executor, step, config)
    if ran.result.exit_code != 0:
        raise StepDidNotRun(f"{step.id} {ran.result.status}: {ran.result.reason or 'exited non-zero'}; "
                            f"no {out.path}/ to return")
    prefix = f"{step.id}/"
    why = out.absent({k.removeprefix(prefix): v for k, v in ran.report.artifacts.items() if k.startswith(prefix)})
    if why:
        raise UsageError(f"{function.replace('_', '-')}: {why}")
    return ran, out.path


@unwrap_groups
async def preview_changes(executor: Executor, env_name: str, given: credentials.Given) -> Report:
    """`preview-changes --env NAME` (`ci.delivery.preview`): package the environment's template, create its stack's
    change set, flag stateful replacements and deletions, delete the change set; never executes, never cached."""
    config = await load(executor)
    report = await preview.run(executor, config, env_name, await _templates_for(executor, config, env_name), given)
    return _one_stage("preview_changes", report)


async def _templates_for(executor: Executor, config: Config, env_name: str) -> list[str]:
    """The templates found, unless the environment names its own (then none need be looked for)."""
    chosen = config.environments.get(env_name)
    return [] if chosen is not None and chosen.template else await infra_templates(executor, config)


async def merge_coverage(executor: Executor, directories: Sequence[tuple[str, Mapping[str, bytes]]]) -> Report:
    """Merge the shards' coverage (each directory's coverage-final.json files by path) and apply the coverage gate."""
    return unit.merge_report((await load(executor)).tests, directories)


async def plan(function: str, executor: Executor) -> str:
    """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values); first
    the app's setup (its install env and setup commands, per Node major the steps install for) when it has one."""
    config = await load(executor)
    name = function.replace("-", "_")
    templates = await infra_templates(executor, config) if name in GATES and GATES[name].takes_templates else ()
    if name in NO_STEPS:
        return "[]\n"
    if name in ("preview_changes", "package"):
        steps = await _package_steps(executor, config, release=name == "package")
    elif name == "accept":
        steps = _accept_steps(config)
    elif name == "deployment_plan":  # its git step; the commits come from the release and the state at run time
        steps = [plan_history.step("<release commit>", "<deployed release commit>")]
    else:
        steps = steps_of(name, config, templates)
    setup = setup_of(config).plan({s.node_major for s in steps if s.installs})
    return json.dumps([*setup, *(s.plan() for s in steps)], indent=2) + "\n"


async def _package_steps(executor: Executor, config: Config, release: bool) -> list[Step]:
    """The package step of each configured environment (`preview-changes`' change set, and `package`'s uploads, run
    in the caller); for `package` under the release's prefix, with the static export's build when an environment
    deploys a frontend."""
    steps = []
    for env_name, environment in sorted(config.environments.items()):
        template = target.template(config, env_name, await _templates_for(executor, config, env_name))
        steps.append(packaging.package_step(env_name, environment, template, clients.target(environment),
                                            prefix=PLANNED_RELEASE_PREFIX if release else None))
    if release and any(e.amplify for e in config.environments.values()):
        steps += OUTPUTS["build_output"].steps(config)
    return steps


def _accept_steps(config: Config) -> list[Step]:
    """What `accept` runs for each environment: the deployed-stack tests (the outputs are read from the stack at
    run time: shown as placeholders) and Lighthouse against its site URL."""
    steps = []
    for env_name, environment in sorted(config.environments.items()):
        steps.append(integration.deployed_step(config, env_name, {"<OutputKey>": "<from the stack>"},
                                               environment.region, clients.target(environment).endpoint_url,
                                               credentials.CREDENTIAL_SECRETS))
        if environment.site_url:
            steps += lh.site_steps(config, environment.site_url, env_name)
    return steps


def report_files(report: Report) -> dict[str, bytes]:
    """The report files the runner writes for `reports`: the JSON, Markdown and merged SARIF report, and for
    `lighthouse` the baseline it measured (`lighthouse-baseline.json`). Each tool's own report files
    (`report.artifacts`, by step id) come from the executor that ran it."""
    measured = {lh.NEW_BASELINE: report.artifacts[lh.NEW_BASELINE]} if lh.NEW_BASELINE in report.artifacts else {}
    return {"report.json": dumps(report).encode(), "report.md": render(report, "markdown").encode(),
            sarif.FILE: sarif.dumps(report), **measured}


async def reports(function: str, executor: Executor, shard: str | None = None, base: str = "",
                  no_cache: bool = False, url: str = "", runs: int = 0) -> Report:
    """Run a gate for its report files, pass or fail (`reports --function NAME`); `url` and `runs` are lighthouse's."""
    function = function.replace("-", "_")
    if function == "lighthouse":
        return await lighthouse(executor, url, runs)
    if url or runs:
        raise UsageError(f"--url/--runs: only reports --function lighthouse takes them, not {kebab(function)}")
    return await gate(function, executor, shard=shard, base=base, no_cache=no_cache)


def audited_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"--url {url}: give the deployed site's base URL, e.g. https://staging.example.com")
    return url


def with_runs(config: Config, runs: int) -> Config:
    """The config with lighthouse.runs replaced by `runs` (0: as it is); UsageError outside 0-15."""
    if not 0 <= runs <= 15:
        raise UsageError(f"--runs {runs}: give 1 to 15 runs per URL and form factor (0: lighthouse.runs)")
    if not runs:
        return config
    return config.model_copy(update={"lighthouse": config.lighthouse.model_copy(update={"runs": runs})})


@unwrap_groups
async def lighthouse(executor: Executor, url: str = "", runs: int = 0) -> Report:
    """Audit the app's production build (served by the step), or the deployed site at `url`, `runs` times per URL
    path and form factor (0: lighthouse.runs). The report's artifacts hold the baseline this run measured
    (`lh.NEW_BASELINE`) when every run was measured."""
    config = with_runs(await load(executor), runs)
    steps = lh.steps(config, audited_url(url) if url else "")
    report = _one_stage("lighthouse", await run_steps("lighthouse", executor, steps, setup=setup_of(config)))
    prefix = f"{lh.STEP_ID}/"
    files = {k.removeprefix(prefix): v for k, v in report.artifacts.items() if k.startswith(prefix)}
    try:
        measured = lh.new_baseline(files, config.lighthouse)
    except ReportError:
        return report
    return replace(report, artifacts={**report.artifacts, lh.NEW_BASELINE: measured})


def measured_baseline(report: Report) -> bytes:
    """What `--update-baseline` writes: the baseline a lighthouse run measured; StepDidNotRun when a run is missing."""
    if lh.NEW_BASELINE not in report.artifacts:
        step = next((s for s in report.steps if s.id == lh.STEP_ID), None)
        why = f"{step.id} {step.status}: {' '.join(step.reason.split())}" if step else "the audits did not run"
        raise StepDidNotRun(f"{why}; no baseline written")
    return report.artifacts[lh.NEW_BASELINE]


def upload_report(report: Report, upload: github.Upload,
                  transport: github.Transport = github.urllib_transport) -> StepResult:
    """Upload a report's merged SARIF (located results only: code scanning shows no other); the step saying how it
    went, `crashed` with the one-line reason when GitHub refused it."""
    started = time.monotonic()
    log, dropped = sarif.located(sarif.log(report, upload.repo_path))
    left_out = f"; {dropped} result(s) without a file left out" if dropped else ""
    try:
        sarif_id = github.upload_sarif(json.dumps(log).encode(), upload, transport)
    except github.GitHubError as exc:
        return StepResult(CODE_SCANNING_ID, "github", "crashed", reason=str(exc),
                          duration_s=time.monotonic() - started)
    reason = (f"uploaded {sarif.result_count(log)} result(s) in {len(log['runs'])} run(s) for "
              f"{upload.commit_sha[:12]} ({upload.ref}), SARIF id {sarif_id}{left_out}")
    return StepResult(CODE_SCANNING_ID, "github", "passed", reason=reason, duration_s=time.monotonic() - started)


async def code_scanning(report: Report, upload: github.Upload,
                        transport: github.Transport = github.urllib_transport) -> Report:
    """The report plus one step: its merged SARIF uploaded to GitHub code scanning (`crashed`, failing the gate, when
    GitHub refuses it)."""
    result = await anyio.to_thread.run_sync(upload_report, report, upload, transport)
    stages = {name: (*ids, result.id) if name == report.function else ids for name, ids in report.stages.items()}
    return replace(report, steps=(*report.steps, result), stages=stages)


def _comment_step(report: Report, pull: github_comments.PullRequest,
                  transport: github.Transport) -> tuple[StepResult, tuple[Finding, ...]]:
    started = time.monotonic()
    if pull.from_fork:
        return StepResult(PR_COMMENT_ID, "github", "skipped", reason=github_comments.FORK_NOTE), ()
    client = Client(pull.repository, pull.token, transport, pull.api_url or API_URL)
    try:
        comment_id, created = github_comments.upsert(client, pull.number, PR_COMMENT_MARKER, render(report, "markdown"))
    except github.GitHubError as exc:
        why = f"no pull-request comment: {exc}"
        return (StepResult(PR_COMMENT_ID, "github", "unavailable", reason=why, duration_s=time.monotonic() - started),
                (Finding(PR_COMMENT_ID, "github", "github/pr-comment", "warning", None, None, None, why),))
    reason = f"{'created' if created else 'updated'} comment {comment_id} on pull request #{pull.number}"
    return StepResult(PR_COMMENT_ID, "github", "passed", reason=reason, duration_s=time.monotonic() - started), ()


async def pr_comment(report: Report, pull: github_comments.PullRequest,
                     transport: github.Transport = github.urllib_transport) -> Report:
    """The report plus one step: its Markdown as the pull request's one summary comment, updated in place. A
    refused comment is a warning and an allowed `unavailable` step, never a failed gate; a fork's pull request
    gets none (its token is read-only), and the step says so."""
    result, found = await anyio.to_thread.run_sync(_comment_step, report, pull, transport)
    stages = {name: (*ids, result.id) if name == report.function else ids for name, ids in report.stages.items()}
    return replace(report, steps=(*report.steps, result), findings=(*report.findings, *found), stages=stages,
                   allowed_unavailable=report.allowed_unavailable | {result.id})
