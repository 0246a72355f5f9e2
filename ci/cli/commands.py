"""What each `bayon` command does: the runner (`ci.pipeline.runner`) run by the local executor, its results turned
into stdout, files and exit codes. Imported only once the command line parsed, so `bayon --help` stays fast."""

from __future__ import annotations

import argparse
import os
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path

from ci.cli.parser import flat, kebab, secrets
from ci.cli.progress import ProgressExecutor
from ci.core.errors import UsageError
from ci.core.report import Report
from ci.core.secret_refs import resolve
from ci.delivery import credentials
from ci.executors.local import LocalExecutor
from ci.integrations import github
from ci.integrations.github_comments import PullRequest
from ci.integrations.github_rest import API_URL, Client as GitHubClient
from ci.output.render import failure_line, render
from ci.pipeline import accept as accepting, adoption, approval, deliver, deployment_plan, github_setup, routing, runner
from ci.pipeline.announce import Audience
from ci.pipeline.registry import FIXERS, OUTPUTS
from ci.stages.tests.unit import MERGE_INPUTS

EXIT_PASSED, EXIT_FAILED = 0, 1
DELIVERY = frozenset({"package", "promote", "deploy", "rollback", "smoke", "history", "accept"})
"""The delivery functions (`ci.pipeline.deliver`): their exit codes come from their outcome."""
GITHUB = frozenset({"configure_github", "check_approval"})
"""The functions that only talk to GitHub's API (`ci.pipeline.github_setup`, `ci.pipeline.approval`)."""


def _coverage_files(path: str) -> tuple[str, dict[str, bytes]]:
    """A `--shards` directory as merge-coverage takes it: its coverage files by relative path."""
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"--shards {path}: not a directory; pass each shard's exported reports directory")
    return path, {p.relative_to(root).as_posix(): p.read_bytes() for name in MERGE_INPUTS for p in root.rglob(name)}


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


def _upload(args: argparse.Namespace) -> github.Upload | None:
    """Where `security`'s `--github-token` sends the merged SARIF, checked before anything runs; None without a
    token."""
    if not args.github_token:
        return None
    return github.Upload(args.github_repository, args.commit_sha, args.ref,
                         resolve(args.github_token), args.repo_path).check()


def _pull_request(args: argparse.Namespace) -> PullRequest | None:
    """Where `ci` comments, checked before anything runs; None without --pull-request."""
    if not getattr(args, "pull_request", 0):
        return None
    token = "" if args.from_fork or not args.github_token else resolve(args.github_token)
    return PullRequest(args.github_repository, args.pull_request, token, args.from_fork).check()


def _read(ref: str | None) -> str | None:
    """A secret reference's value (env://NAME, file://PATH), None when none was given."""
    return resolve(ref) if ref else None


def _given(args: argparse.Namespace, prefix: str = "") -> credentials.Given:
    """The AWS credential flags (`prefix`: promote's and deploy's `from_` ones), their references read now for the
    AWS client (none given: the usual AWS environment, read by boto3 itself); the OIDC request goes with a role ARN
    (without one, to the environment's own credentials unless only a `from_` role takes it)."""
    role = getattr(args, f"{prefix}aws_role_arn")
    oidc = role or not prefix and args.command != "promote" and not getattr(args, "from_aws_role_arn", "")
    return credentials.Given(_read(getattr(args, f"{prefix}aws_access_key_id")),
                             _read(getattr(args, f"{prefix}aws_secret_access_key")),
                             _read(getattr(args, f"{prefix}aws_session_token")), role,
                             args.oidc_request_url if oidc else "", _read(args.oidc_request_token) if oidc else None)


def write_reports(report: Report, out: Path) -> int:
    """The runner's report files and each tool's own report files, under `out`."""
    files = {**runner.report_files(report), **report.artifacts}
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return len(files)


async def _export(name: str, executor: ProgressExecutor, local: LocalExecutor, output: str | None,
                  no_cache: bool) -> int:
    """An output function: its step's directory copied to `-o PATH`, once the step exited 0."""
    if not output:
        raise UsageError(f"{kebab(name)}: give -o PATH, the directory to write the output to")
    ran, path = await runner.output(name, executor, no_cache)
    shutil.copytree(local.workspace(ran.step.node_major) / ran.step.workdir / path, output, dirs_exist_ok=True)
    print(f"wrote {path}/ to {output}", file=sys.stderr)
    return EXIT_PASSED


async def _fix(name: str, executor: ProgressExecutor, local: LocalExecutor, repo_path: str, no_cache: bool) -> Report:
    """A fixer: the files it changed copied back into the source; its report says what it could not fix."""
    ran = await runner.fix(name, executor, no_cache)
    changed = local.changed_files(ran.step)
    local.apply(ran.step, changed)
    shown = [f"{repo_path.strip('/')}/{path}" if repo_path.strip("/") else path for path in changed]
    print("\n".join(f"fixed {path}" for path in shown) or "nothing to fix", file=sys.stderr)
    return ran.report


async def _lighthouse(args: argparse.Namespace, executor: ProgressExecutor, local: LocalExecutor,
                      repo_path: str) -> Report:
    """The audits; `--update-baseline` writes what they measured into the app (lighthouse.baseline), as a fixer
    writes the source, whatever the thresholds said."""
    report = await runner.lighthouse(executor, args.url, args.runs)
    if args.update_baseline:
        path = (await runner.load(executor)).lighthouse.baseline
        target = local.source / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(runner.measured_baseline(report))
        print(f"wrote {posixpath.join(repo_path.strip('/'), path) if repo_path.strip('/') else path}",
              file=sys.stderr)
    return report


def _commit(args: argparse.Namespace) -> str:
    """`--commit-sha`, else the HEAD of the git checkout holding the source when the app's files are committed."""
    if args.commit_sha:
        return args.commit_sha
    source = Path(args.source)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=source, capture_output=True,
                               text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        raise UsageError(f"--commit-sha: {source} is not in a git checkout; pass the full SHA of the commit to "
                         "package") from None
    if dirty:
        raise UsageError(f"--commit-sha: {len(dirty)} file(s) of {source} differ from HEAD (e.g. {dirty[0][3:]}); "
                         "commit them (a release is one commit), or pass --commit-sha") from None
    return head.stdout.strip()


def _client(args: argparse.Namespace) -> GitHubClient | None:
    """The GitHub client of `--github-token` (its reference read now) for `--github-repository`; None without."""
    if not getattr(args, "github_token", None):
        return None
    return GitHubClient(args.github_repository, resolve(args.github_token),
                        api_url=getattr(args, "github_api_url", "") or API_URL)


def _audience(args: argparse.Namespace) -> Audience:
    """Where a deploy or rollback is announced, the secret references read now (for those HTTP calls only)."""
    return Audience(_client(args), args.github_run_id, getattr(args, "github_job", ""), _read(args.slack_webhook),
                    _read(args.pagerduty_routing_key))


async def _deliver(name: str, args: argparse.Namespace, executor: ProgressExecutor, repo_path: str) -> int:
    """A delivery function: its report printed, the exit code its outcome says (4: rolled back, 5: at no known
    release); `history --incident ID` prints that incident's Markdown."""
    env, given = getattr(args, "env", None) or getattr(args, "env_flag", None) or "", _given(args)
    if name == "history" and args.incident:
        _emit(await deliver.incident_report(executor, env, given, args.incident), args.output)
        return EXIT_PASSED
    if name == "package":
        report = await deliver.package(executor, env, given, _commit(args), flat(args.tag))
    elif name == "promote":
        source = _given(args, "from_")
        report = await deliver.promote(executor, getattr(args, "from") or getattr(args, "from_flag") or "",
                                       args.to or args.to_flag or "", args.release or args.release_flag or "",
                                       source, given)
    elif name == "deploy":
        report = await deliver.deploy(executor, env, given, args.release or args.release_flag or "", args.dry_run,
                                      _given(args, "from_"), args.override_reason, _audience(args))
    elif name == "rollback":
        report = await deliver.rollback(executor, env, given, args.to, _audience(args))
    elif name == "accept":
        report = await accepting.accept(executor, env, given, args.release or args.release_flag or "",
                                        flat(args.skip), args.runs, _client(args), args.tag)
    else:
        report = await (deliver.smoke if name == "smoke" else deliver.history)(executor, env, given)
    _emit(render(report, args.format, repo_path), args.output)
    if not report.passed:
        print(f"bayon: {failure_line(report)}", file=sys.stderr)
    if report.delivery.get("incident"):
        print(f"bayon: incident report: bayon history --env {env} --incident {report.delivery['incident']}",
              file=sys.stderr)
    return deliver.exit_code(report)


async def _github(name: str, args: argparse.Namespace, executor: ProgressExecutor) -> int:
    """configure-github or check-approval: the report printed; exit 1 (one line on stderr) when it refuses."""
    token = resolve(args.github_token) if args.github_token else None
    repository = args.github_repository or args.github_repository_flag or ""
    if name == "configure_github":
        report = await github_setup.configure_github(executor, token or "", repository, args.dry_run,
                                                     args.github_api_url)
    else:
        report = await approval.check_approval(executor, args.env or args.env_flag or "",
                                               args.github_run_id or args.github_run_id_flag or "",
                                               args.github_job or args.github_job_flag or "", token, repository,
                                               args.github_api_url)
    _emit(render(report, args.format, ""), args.output)
    if not report.passed:
        print(f"bayon: {failure_line(report)}", file=sys.stderr)
    return deliver.exit_code(report)


async def call(args: argparse.Namespace) -> int:
    """Run one function locally; returns the exit code."""
    name = args.command.replace("-", "_")
    upload = _upload(args) if name == "security" else None
    comment = _pull_request(args) if name == "ci" else None
    repo_path = getattr(args, "repo_path", "")
    no_cache = getattr(args, "no_cache", False)
    async with LocalExecutor(Path(args.source), secrets(name, args), getattr(args, "repo", None), repo_path) as local:
        executor = ProgressExecutor(local)
        if name == "plan":
            target = args.function or args.function_flag
            if not target:
                raise UsageError("plan: name the function to plan, e.g. `bayon plan quality`")
            _emit(await runner.plan(target, executor), args.output)
            return EXIT_PASSED
        if name == "route":
            _emit(await routing.route(executor, args.event or args.event_flag or "", args.ref or args.ref_flag or "",
                                      args.base_ref, args.environment, args.release, args.schedule, args.format),
                  args.output)
            return EXIT_PASSED
        if name == "init":
            for path, text in (await adoption.init(executor, args.module, args.force)).items():
                (local.source / path).parent.mkdir(parents=True, exist_ok=True)
                (local.source / path).write_text(text)
                print(f"wrote {path}", file=sys.stderr)
            return EXIT_PASSED
        if name == "reports":
            out = Path(args.output or "reports")
            report = await runner.reports(args.function, executor, args.shard, args.base, no_cache, args.url,
                                          args.runs)
            count = write_reports(report, out)
            print(f"wrote {count} report file(s) to {out}", file=sys.stderr)
            return EXIT_PASSED
        if name in DELIVERY:
            return await _deliver(name, args, executor, repo_path)
        if name in GITHUB:
            return await _github(name, args, executor)
        if name == "deployment_plan":
            _emit(await deployment_plan.deployment_plan(executor, args.env or args.env_flag or "",
                                                        args.release or args.release_flag or "", _given(args),
                                                        _given(args, "from_"), _client(args), args.tag, args.format),
                  args.output)
            return EXIT_PASSED
        if name in OUTPUTS:
            return await _export(name, executor, local, args.output, no_cache)
        if name in FIXERS:
            report = await _fix(name, executor, local, repo_path, no_cache)
        elif name == "preview_changes":
            report = await runner.preview_changes(executor, args.env or args.env_flag or "", _given(args))
        elif name == "lighthouse":
            report = await _lighthouse(args, executor, local, repo_path)
        elif name == "merge_coverage":
            report = await runner.merge_coverage(executor, [_coverage_files(p) for p in flat(args.shards)])
        else:
            report = await runner.gate(name, executor, flat(getattr(args, "only", [])), flat(getattr(args, "skip", [])),
                                       getattr(args, "shard", None), getattr(args, "base", ""),
                                       getattr(args, "baseline", ""), upload=upload, no_cache=no_cache,
                                       comment=comment)
        fmt = getattr(args, "format", "table")
        _emit(render(report, fmt, repo_path), args.output)
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as summary:
                summary.write(render(report, "markdown"))
        return EXIT_PASSED if report.passed else EXIT_FAILED
