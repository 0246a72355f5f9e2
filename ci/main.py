"""The Dagger face: one documented function per pipeline stage or step, each a thin call into the runner.

Gates return their report when they pass and fail the call (non-zero `dagger call` exit) with the report as the
error when they do not. The local CLI `bayon` is derived from these declarations (names, flags, docs).
"""

from __future__ import annotations

import sys
from typing import Annotated

import dagger
from dagger import DefaultPath, Doc, Ignore, function, object_type

from ci.core.errors import UsageError
from ci.core.report import Report
from ci.core.sources import REPO_IGNORE, SOURCE_IGNORE
from ci.delivery import credentials
from ci.executors.dagger import DaggerExecutor
from ci.integrations import github
from ci.integrations.github_comments import PullRequest
from ci.integrations.github_rest import API_URL, Client
from ci.output.render import failure_line, render
from ci.pipeline import accept as accepting, adoption, approval, deliver, deployment_plan, github_setup, routing, runner
from ci.pipeline.announce import Audience
from ci.stages.tests.unit import MERGE_INPUTS

Source = Annotated[
    dagger.Directory,
    DefaultPath("."),
    Ignore(list(SOURCE_IGNORE)),
    Doc("The app to run on (its package.json, lockfile and pipeline.yaml at the top), e.g. examples/coagent"),
]
Repo = Annotated[
    dagger.Directory,
    DefaultPath("/"),
    Ignore(list(REPO_IGNORE)),
    Doc("The git repository holding the source, with its history (.git): what --base compares and the secrets scan "
        "and SAST read"),
]
Base = Annotated[str, Doc("A git revision (PR base, previous commit): when only docs changed since it, skip tests and "
                          "build")]
ScanBase = Annotated[str, Doc("A git revision (PR base, previous commit): scan the commits since it for secrets and report "
                              "only SAST findings new against it; none scans the whole history")]
GitHubToken = Annotated[dagger.Secret | None, Doc("A token that may upload code scanning results (security-events: "
                                                  "write): with it the merged SARIF goes to GitHub code scanning")]
GitHubRepository = Annotated[str, Doc("The repository to upload the SARIF to, owner/name (in Actions: "
                                      "github.repository)")]
CommitSha = Annotated[str, Doc("The full SHA of the commit the SARIF describes (in Actions: github.sha)")]
GitRef = Annotated[str, Doc("The full ref the SARIF describes, e.g. refs/heads/main (in Actions: github.ref)")]
CommentToken = Annotated[dagger.Secret | None, Doc("A token that may comment on the pull request (pull-requests: write; "
                                                   "in Actions: env://GITHUB_TOKEN): with --pull-request, the report "
                                                   "goes into one comment, updated in place")]
CommentRepository = Annotated[str, Doc("The repository of the pull request, owner/name (in Actions: "
                                       "github.repository)")]
PullRequestNumber = Annotated[int, Doc("The pull request to comment on (in Actions: "
                                       "github.event.pull_request.number || 0); 0: no comment")]
FromFork = Annotated[bool, Doc("The pull request comes from a fork: its token is read-only, so no comment is tried "
                               "(the report says why)")]
AdminToken = Annotated[dagger.Secret, Doc("A token with Administration: write on the repository: a fine-grained "
                                          "personal access token or a GitHub App's (the workflow's GITHUB_TOKEN "
                                          "cannot have it)")]
SetupRepository = Annotated[str, Doc("The repository whose environments to configure, owner/name")]
GitHubApiUrl = Annotated[str, Doc("The GitHub REST API's base URL; empty: https://api.github.com (GitHub Enterprise "
                                  "Server: https://HOST/api/v3)")]
SetupDryRun = Annotated[bool, Doc("Only read: print what would change, change nothing")]
RunId = Annotated[str, Doc("The workflow run's id (in Actions: github.run_id)")]
JobName = Annotated[str, Doc("This job's name in the run as GitHub shows it (its `name:`, else its id)")]
ActionsToken = Annotated[dagger.Secret, Doc("A token that may read the run and its jobs (actions: read; in Actions: "
                                            "env://GITHUB_TOKEN)")]
RunRepository = Annotated[str, Doc("The repository of the run, owner/name (in Actions: github.repository)")]
Format = Annotated[str, Doc("How to print the report: table, json, markdown or github (annotations + table)")]
RepoPath = Annotated[str, Doc("Where the source sits in the repository, prefixed to annotation paths (e.g. examples/coagent)")]
FixRepoPath = Annotated[str, Doc("Where the source sits in the repository: the changes are rooted there, so `export "
                                 "--path .` from the repository root writes into the app (e.g. examples/coagent)")]
NpmToken = Annotated[dagger.Secret | None, Doc("Token for a private npm registry, given to the install step only")]
SnykToken = Annotated[dagger.Secret | None, Doc("Snyk API token: with it the audit also runs `snyk test` (without it, "
                                                "that step is skipped)")]
Stages = Annotated[list[str] | None, Doc("Run only these stages of ci (e.g. quality)")]
SkipStages = Annotated[list[str] | None, Doc("Skip these stages of ci (reported as skipped)")]
GateName = Annotated[str, Doc("The gate whose reports to export: ci, quality, lint, typecheck, format-check, unit-tests, "
                              "integration-tests, build, security, audit, secrets, sast, licenses, sbom, "
                              "validate-infra or lighthouse")]
PlanName = Annotated[str, Doc("The function to plan: ci, quality, lint, typecheck, format-check, unit-tests, "
                              "integration-tests, build, build-output, security, audit, secrets, sast, licenses, sbom, "
                              "validate-infra, lighthouse, lint-fix, format-fix, preview-changes or package (its package "
                              "step per environment, and the static export's build), accept (each environment's "
                              "deployed-stack tests and site audit), deployment-plan (its git step); promote, deploy, rollback, smoke, history, "
                              "configure-github, check-approval, route or init run none (boto3 or GitHub API calls, "
                              "the app's files read: [])")]
AuditUrl = Annotated[str, Doc("Audit this deployed site (its base URL, e.g. https://staging.example.com) instead of "
                              "the app's production build: no build, no server")]
Runs = Annotated[int, Doc("Lighthouse runs per URL path and form factor, instead of lighthouse.runs (the median "
                          "counts)")]
UpdateBaseline = Annotated[bool, Doc("Write the measured baseline into the app (lighthouse.baseline); bayon only: in "
                                     "Dagger export lighthouse-baseline.json from `reports --function lighthouse`")]
Shard = Annotated[str | None, Doc("Run only shard i of n of the unit tests (e.g. 1/2), for a CI matrix; the coverage "
                                  "gate is then left to merge-coverage")]
Baseline = Annotated[str, Doc("Bundle-size baseline file in the source, instead of build.baseline "
                              "(e.g. .bayon/baselines/main.json)")]
NoCache = Annotated[bool, Doc("Run without tool caches: no cache flags (ESLint, Prettier, tsc --incremental) and no "
                              "cache volumes (theirs, Next's .next/cache)")]
EnvName = Annotated[str, Doc("The environment of pipeline.yaml's environments to preview (its stack, region, "
                              "artifacts bucket), e.g. staging")]
AwsAccessKeyId = Annotated[dagger.Secret | None, Doc("AWS access key id (with --aws-secret-access-key); or use "
                                                     "--aws-role-arn with GitHub's OIDC")]
AwsSecretAccessKey = Annotated[dagger.Secret | None, Doc("AWS secret access key, with --aws-access-key-id")]
AwsSessionToken = Annotated[dagger.Secret | None, Doc("AWS session token of temporary keys, with the two above")]
AwsRoleArn = Annotated[str, Doc("IAM role to assume with GitHub's OIDC token (with --oidc-request-url and "
                                "--oidc-request-token; the job needs `permissions: id-token: write`)")]
OidcRequestUrl = Annotated[str, Doc("GitHub's OIDC token request URL (in Actions: ACTIONS_ID_TOKEN_REQUEST_URL)")]
OidcRequestToken = Annotated[dagger.Secret | None, Doc("GitHub's OIDC request token (in Actions: "
                                                       "env://ACTIONS_ID_TOKEN_REQUEST_TOKEN)")]
DeployEnv = Annotated[str, Doc("The environment of pipeline.yaml's environments (its stack, region, artifacts bucket, "
                               "Amplify app, smoke tests, alarms), e.g. staging")]
ReleaseRef = Annotated[str, Doc("The release: its id (the commit's full SHA) or a tag given to `package --tag`")]
PackageCommit = Annotated[str, Doc("The full SHA of the commit being packaged: the release's id (in Actions: "
                                   "github.sha; bayon: the checkout's HEAD when the tree is clean)")]
ReleaseTags = Annotated[list[str] | None, Doc("Tags naming the release (aliases, e.g. rc-1.4.0), written once each")]
DryRun = Annotated[bool, Doc("Stop after printing the change set (it is deleted, nothing executed)")]
RollbackTo = Annotated[str, Doc("The release to go back to (id or tag; it must have been deployed to the environment); "
                                "default: the last known good before the current one")]
IncidentId = Annotated[str, Doc("Print this incident's Markdown report (its id as `history` lists it) instead of the "
                                 "tables")]
FromEnv = Annotated[str, Doc("The environment whose bucket holds the release (its credentials: --from-aws-*)")]
ToEnv = Annotated[str, Doc("The environment to copy it into (its credentials: --aws-*)")]
FromAccessKeyId = Annotated[dagger.Secret | None, Doc("AWS access key id of the --from environment's account")]
FromSecretAccessKey = Annotated[dagger.Secret | None, Doc("AWS secret access key of the --from environment's account")]
FromSessionToken = Annotated[dagger.Secret | None, Doc("AWS session token of the --from environment's temporary keys")]
FromRoleArn = Annotated[str, Doc("IAM role of the --from environment's account to assume with GitHub's OIDC token")]
AcceptSkip = Annotated[list[str] | None, Doc("Leave these parts out (reported skipped): integration (the deployed-stack "
                                             "tests), lighthouse")]
AcceptRuns = Annotated[int, Doc("Lighthouse runs per URL path and form factor, instead of lighthouse.runs")]
AcceptTag = Annotated[str, Doc("The release candidate's tag (rc-X.Y.Z[.N]; in Actions: github.ref_name): with "
                               "--github-token its GitHub release is published as ready once everything passed")]
ReleaseToken = Annotated[dagger.Secret | None, Doc("A token that may write the repository's releases (contents: "
                                                   "write; in Actions: env://GITHUB_TOKEN)")]
DeployToken = Annotated[dagger.Secret | None, Doc("A token for the GitHub records: the deployment and its statuses "
                                                  "(deployments: write) and the run's timing for the approval "
                                                  "timeout (actions: read); in Actions: env://GITHUB_TOKEN")]
SlackWebhook = Annotated[dagger.Secret | None, Doc("Slack incoming webhook URL (notifications.slack): the outcome "
                                                   "posted; a failed post is a warning, never a failed deploy")]
PagerDutyKey = Annotated[dagger.Secret | None, Doc("PagerDuty Events API v2 routing key (notifications.pagerduty): "
                                                   "failures and rollbacks page")]
DeployRunId = Annotated[str, Doc("The workflow run's id (in Actions: github.run_id): the approval timeout's start "
                                 "and the run's own GitHub deployment")]
DeployJob = Annotated[str, Doc("This job's name in the run (its `name:`): the approval timeout's end")]
RecordsRepository = Annotated[str, Doc("The repository the GitHub records go to, owner/name (in Actions: "
                                       "github.repository)")]
PlanEnv = Annotated[str, Doc("The environment the release is about to be deployed to (its stack, state, artifacts "
                             "bucket; promote_from's state and bucket too), e.g. production")]
PlanRelease = Annotated[str, Doc("The release to plan: its id (the commit's full SHA) or a tag given to `package --tag`")]
PlanTag = Annotated[str, Doc("The git tag whose GitHub release holds the notes (in Actions: github.ref_name); default: "
                             "--release when it is a tag, else the release's first tag")]
PlanFormat = Annotated[str, Doc("markdown (the job summary, the release's notes) or json (the evidence)")]
ChecksToken = Annotated[dagger.Secret | None, Doc("A token that reads the commit's check runs and writes the plan "
                                                  "into the tag's release notes (checks: read, contents: write; in "
                                                  "Actions: env://GITHUB_TOKEN); without it those items are unknown")]
ChecksRepository = Annotated[str, Doc("The repository of the check runs and releases, owner/name (in Actions: "
                                      "github.repository)")]
EventName = Annotated[str, Doc("The GitHub event: push (a tag push too: refs/tags/...), pull_request, schedule or "
                                "workflow_dispatch (in Actions: github.event_name)")]
EventRef = Annotated[str, Doc("The full ref of the event, e.g. refs/heads/develop or refs/tags/rc-1.4.0 (in Actions: "
                              "github.ref)")]
BaseRef = Annotated[str, Doc("A pull request's target branch (in Actions: github.base_ref)")]
DispatchEnv = Annotated[str, Doc("A manual dispatch's environment input: deploy this environment of pipeline.yaml")]
DispatchRelease = Annotated[str, Doc("A manual dispatch's release input: a release tag (vX.Y.Z, rc-X.Y.Z[.N]) or a "
                                     "commit's full SHA")]
ScheduleName = Annotated[str, Doc("Which scheduled run: security or performance")]
RouteFormat = Annotated[str, Doc("How to print the route: table or json")]
ModuleRef = Annotated[str, Doc("This module's Git reference pinned to a version, which the workflows call (`dagger -m "
                              "REF call ... --source .`), e.g. github.com/ORG/bayon-pipeline@v0.1.0")]
Force = Annotated[bool, Doc("Overwrite pipeline.yaml and the workflows when the app has them already")]
UpstreamAccessKeyId = Annotated[dagger.Secret | None, Doc("AWS access key id of the promote_from environment's "
                                                          "account (read its state and release)")]
UpstreamSecretAccessKey = Annotated[dagger.Secret | None, Doc("AWS secret access key of the promote_from "
                                                              "environment's account")]
UpstreamSessionToken = Annotated[dagger.Secret | None, Doc("AWS session token of the promote_from environment's "
                                                           "temporary keys")]
UpstreamRoleArn = Annotated[str, Doc("IAM role of the promote_from environment's account to assume with GitHub's "
                                     "OIDC token")]
OverrideReason = Annotated[str, Doc("Lift the stack policy (safeguards.protect_stack) for this deploy's execution, "
                                    "e.g. to replace a table on purpose; the reason goes into the state")]
ShardReports = Annotated[list[dagger.Directory], Doc("Each shard's exported reports directory "
                                                     "(`reports --function unit-tests --shard i/n`)")]


class GateFailed(Exception):
    """The gate's verdict was "failed": the message is a line of its own (the SDK prefixes it with its own text),
    then the whole report, so the failing call shows it with every annotation at the start of a line."""


def _executor(source: dagger.Directory, npm_token: dagger.Secret | None, repo: dagger.Directory | None = None,
              repo_path: str = "", snyk_token: dagger.Secret | None = None) -> DaggerExecutor:
    given = {"npm-token": npm_token, "snyk-token": snyk_token}
    return DaggerExecutor(source, secrets={name: s for name, s in given.items() if s}, repo=repo, repo_path=repo_path)


async def _gate(name: str, source: dagger.Directory, fmt: str, repo_path: str, npm_token: dagger.Secret | None,
                only: list[str] | None = None, skip: list[str] | None = None, shard: str | None = None,
                no_cache: bool = False) -> str:
    report = await runner.gate(name, _executor(source, npm_token), only or (), skip or (), shard, no_cache=no_cache)
    return _verdict(report, fmt, repo_path)


async def _upload(token: dagger.Secret | None, repository: str, commit_sha: str, ref: str,
                  repo_path: str) -> github.Upload | None:
    """Where to upload the merged SARIF, checked before anything runs; None without a token."""
    if token is None:
        return None
    return github.Upload(repository, commit_sha, ref, await token.plaintext(), repo_path).check()


async def _pull_request(token: dagger.Secret | None, repository: str, number: int,
                        from_fork: bool) -> PullRequest | None:
    """Where `ci` comments, checked before anything runs; None without a pull request number."""
    if not number:
        return None
    plain = "" if from_fork or token is None else await token.plaintext()
    return PullRequest(repository, number, plain, from_fork).check()


def _verdict(report: Report, fmt: str, repo_path: str) -> str:
    """The rendered report when it passed; otherwise GateFailed with it, so the call fails."""
    text = render(report, fmt, repo_path)
    if not report.passed:
        raise GateFailed(f"{failure_line(report)}\n{text}")
    return text


async def _plain(secret: dagger.Secret | None) -> str | None:
    """A secret's value, read here in the module runtime for the AWS client only (never an argv, env or log)."""
    return await secret.plaintext() if secret is not None else None


async def _given(key_id: dagger.Secret | None, secret_key: dagger.Secret | None, token: dagger.Secret | None,
                 role_arn: str, oidc_url: str, oidc_token: dagger.Secret | None) -> credentials.Given:
    """The AWS credential arguments, their plaintext read here for the AWS clients only."""
    return credentials.Given(await _plain(key_id), await _plain(secret_key), await _plain(token), role_arn, oidc_url,
                             await _plain(oidc_token))


async def _github_client(token: dagger.Secret | None, repository: str, api_url: str) -> Client | None:
    """The GitHub client of a token (its plaintext read here, for the REST calls only); None without one."""
    if token is None:
        return None
    return Client(repository, await token.plaintext(), api_url=api_url or API_URL)


async def _audience(github_token: dagger.Secret | None, repository: str, api_url: str, run_id: str, job: str,
                    slack_webhook: dagger.Secret | None, pagerduty_key: dagger.Secret | None) -> Audience:
    """Where a deploy or rollback is announced; the secrets' plaintext read here for those HTTP calls only."""
    return Audience(await _github_client(github_token, repository, api_url), run_id, job, await _plain(slack_webhook),
                    await _plain(pagerduty_key))


async def _coverage_files(directory: dagger.Directory) -> dict[str, bytes]:
    """The coverage files merge-coverage reads from an exported reports directory, by path."""
    paths = [path for name in MERGE_INPUTS for path in await directory.glob(f"**/{name}")]
    return {path: (await directory.file(path).contents()).encode() for path in paths}


async def _fix(name: str, source: dagger.Directory, npm_token: dagger.Secret | None,
               repo_path: str, no_cache: bool) -> dagger.Changeset:
    """The fixer's changes, once the runner judged that it ran; what it could not fix goes to the function's log.
    A crashed fixer fails the call with its reason."""
    executor = _executor(source, npm_token)
    ran = await runner.fix(name, executor, no_cache)
    if not ran.report.passed:
        print(render(ran.report, "table"), file=sys.stderr)
    return await executor.changes(ran.step, repo_path)


@object_type
class Ci:
    """Bayon Pipeline: CI/CD stages for a Next.js + TypeScript app on AWS, as Dagger Functions."""

    @function
    async def ci(self, source: Source, repo: Repo, only: Stages = None, skip: SkipStages = None, base: Base = "",
                 format: Format = "table", repo_path: RepoPath = "", npm_token: NpmToken = None,
                 no_cache: NoCache = False, github_token: CommentToken = None,
                 github_repository: CommentRepository = "", pull_request: PullRequestNumber = 0,
                 from_fork: FromFork = False) -> str:
        """Run every stage of continuous integration concurrently; with --base, a docs-only change skips tests and
        build (in Dagger, --repo-path tells where the source sits in the repository; bayon asks git); with
        --pull-request, the report is the pull request's comment (a failed comment is a warning, never a failed
        ci)."""
        comment = await _pull_request(github_token, github_repository, pull_request, from_fork)
        executor = _executor(source, npm_token, repo, repo_path)
        report = await runner.gate("ci", executor, only or (), skip or (), base=base, no_cache=no_cache,
                                   comment=comment)
        return _verdict(report, format, repo_path)

    @function
    async def quality(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                      npm_token: NpmToken = None, no_cache: NoCache = False) -> str:
        """Code quality: ESLint, TypeScript and Prettier, run concurrently."""
        return await _gate("quality", source, format, repo_path, npm_token, no_cache=no_cache)

    @function
    async def lint(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                   npm_token: NpmToken = None, no_cache: NoCache = False) -> str:
        """ESLint: fails on any error or on more warnings than quality.max_warnings."""
        return await _gate("lint", source, format, repo_path, npm_token, no_cache=no_cache)

    @function
    async def typecheck(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                        npm_token: NpmToken = None, no_cache: NoCache = False) -> str:
        """TypeScript: `tsc --noEmit`; fails on any diagnostic."""
        return await _gate("typecheck", source, format, repo_path, npm_token, no_cache=no_cache)

    @function
    async def format_check(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                           npm_token: NpmToken = None, no_cache: NoCache = False) -> str:
        """Prettier: fails on any file that is not formatted."""
        return await _gate("format_check", source, format, repo_path, npm_token, no_cache=no_cache)

    @function
    async def lint_fix(self, source: Source, repo_path: FixRepoPath = "", npm_token: NpmToken = None,
                       no_cache: NoCache = False) -> dagger.Changeset:
        """`eslint --fix`: the changes to export (`dagger call lint-fix --source=. export --path=.`); fails when
        ESLint crashed, and logs what it could not fix."""
        return await _fix("lint_fix", source, npm_token, repo_path, no_cache)

    @function
    async def format_fix(self, source: Source, repo_path: FixRepoPath = "", npm_token: NpmToken = None,
                         no_cache: NoCache = False) -> dagger.Changeset:
        """`prettier --write`: the changes to export (`dagger call format-fix --source=. export --path=.`); fails
        when Prettier crashed."""
        return await _fix("format_fix", source, npm_token, repo_path, no_cache)

    @function
    async def unit_tests(self, source: Source, shard: Shard = None, format: Format = "table", repo_path: RepoPath = "",
                         npm_token: NpmToken = None) -> str:
        """Jest with coverage on every configured Node major (and shard), in parallel; then the coverage gate."""
        return await _gate("unit_tests", source, format, repo_path, npm_token, shard=shard)

    @function
    async def merge_coverage(self, source: Source, shards: ShardReports, format: Format = "table",
                             repo_path: RepoPath = "") -> str:
        """Merge the coverage data of `unit-tests --shard i/n` runs and apply the coverage gate (no Jest needed)."""
        directories = [(f"shards[{i}]", await _coverage_files(d)) for i, d in enumerate(shards)]
        report = await runner.merge_coverage(_executor(source, None), directories)
        return _verdict(report, format, repo_path)

    @function
    async def integration_tests(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                                npm_token: NpmToken = None) -> str:
        """Jest's integration tests (tests.integration.config) against moto, an AWS emulator run as a service."""
        return await _gate("integration_tests", source, format, repo_path, npm_token)

    @function
    async def build(self, source: Source, baseline: Baseline = "", format: Format = "table", repo_path: RepoPath = "",
                    npm_token: NpmToken = None, no_cache: NoCache = False) -> str:
        """`next build` (static export or server-rendered) and the JavaScript each page loads, raw and gzip, against
        build.budgets and the baseline file (growth over build.max_growth_pct fails)."""
        report = await runner.gate("build", _executor(source, npm_token), baseline=baseline, no_cache=no_cache)
        return _verdict(report, format, repo_path)

    @function
    async def build_output(self, source: Source, npm_token: NpmToken = None,
                           no_cache: NoCache = False) -> dagger.Directory:
        """The static site `next build` exports (out/), whatever the budgets say
        (`dagger call build-output --source=. export --path=out`); a server-rendered app has none."""
        executor = _executor(source, npm_token)
        ran, path = await runner.output("build_output", executor, no_cache)
        return executor.output_of(ran.step, path)

    @function(cache="never")
    async def security(self, source: Source, repo: Repo, base: ScanBase = "", format: Format = "table",
                       repo_path: RepoPath = "", npm_token: NpmToken = None, snyk_token: SnykToken = None,
                       github_token: GitHubToken = None, github_repository: GitHubRepository = "",
                       commit_sha: CommitSha = "", ref: GitRef = "") -> str:
        """Security: dependency audit, licenses, SBOM, the secrets scan (tree and history) and SAST, run concurrently,
        each reporting even when another fails; with --github-token the merged SARIF goes to code scanning. Never
        cached (advisories change without any commit)."""
        upload = await _upload(github_token, github_repository, commit_sha, ref, repo_path)
        executor = _executor(source, npm_token, repo, repo_path, snyk_token)
        return _verdict(await runner.gate("security", executor, base=base, upload=upload), format, repo_path)

    @function
    async def secrets(self, source: Source, repo: Repo, base: ScanBase = "", format: Format = "table",
                      repo_path: RepoPath = "") -> str:
        """Secrets in the working tree and the git history (detect-secrets); any the baseline does not accept fails.
        Findings show rule, file, line, commit and the value's SHA-1, never any part of the value."""
        executor = _executor(source, None, repo, repo_path)
        return _verdict(await runner.gate("secrets", executor, base=base), format, repo_path)

    @function
    async def sast(self, source: Source, repo: Repo, base: ScanBase = "", format: Format = "table",
                   repo_path: RepoPath = "") -> str:
        """Semgrep OSS with the pipeline's own rules (and security.sast.rules), offline; with --base, only findings
        new against it."""
        executor = _executor(source, None, repo, repo_path)
        return _verdict(await runner.gate("sast", executor, base=base), format, repo_path)

    @function(cache="never")
    async def audit(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                    npm_token: NpmToken = None, snyk_token: SnykToken = None) -> str:
        """`npm audit` of the production and dev dependencies, reported apart (and Snyk given a token); fails from
        security.audit.fail_on up, on an expired allowlist entry, and when advisories cannot be fetched."""
        executor = _executor(source, npm_token, snyk_token=snyk_token)
        return _verdict(await runner.gate("audit", executor), format, repo_path)

    @function
    async def licenses(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                       npm_token: NpmToken = None) -> str:
        """Licenses of the installed dependencies against security.licenses (SPDX expressions; GPL/AGPL fail)."""
        return await _gate("licenses", source, format, repo_path, npm_token)

    @function
    async def sbom(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                   npm_token: NpmToken = None) -> str:
        """A CycloneDX SBOM of the installed dependencies (dev ones flagged), checked; `reports --function sbom`
        exports it."""
        return await _gate("sbom", source, format, repo_path, npm_token)

    @function
    async def validate_infra(self, source: Source, format: Format = "table", repo_path: RepoPath = "") -> str:
        """cfn-lint and `sam validate` (in infra.region, without credentials) on every SAM/CloudFormation template
        (infra.templates, else every one found), one process each; stateful resources without a Retain/Snapshot
        DeletionPolicy and UpdateReplacePolicy are warned about."""
        return _verdict(await runner.gate("validate_infra", _executor(source, None)), format, repo_path)

    @function(cache="never")
    async def lighthouse(self, source: Source, url: AuditUrl = "", runs: Runs = 0,
                         update_baseline: UpdateBaseline = False, format: Format = "table", repo_path: RepoPath = "",
                         npm_token: NpmToken = None) -> str:
        """Lighthouse on every lighthouse.urls path, desktop and mobile, runs one at a time: the production build
        served (a static export by a small file server, else `next start`) or the site at --url; median scores
        against thresholds, budgets and the noise-aware baseline. Never cached."""
        if update_baseline:
            raise UsageError("--update-baseline: a Dagger function cannot write into the app; run `dagger call "
                             "reports --function lighthouse --source=. export --path=reports` and copy "
                             "reports/lighthouse-baseline.json to lighthouse.baseline (or `bayon lighthouse "
                             "--update-baseline`)")
        report = await runner.lighthouse(_executor(source, npm_token), url, runs)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def reports(self, source: Source, repo: Repo, function: GateName = "ci", base: ScanBase = "",
                      npm_token: NpmToken = None, shard: Shard = None, snyk_token: SnykToken = None,
                      repo_path: RepoPath = "", no_cache: NoCache = False, url: AuditUrl = "",
                      runs: Runs = 0) -> dagger.Directory:
        """Run a gate and return its report files (report.json, report.md, report.sarif, each tool's report; for
        lighthouse every run's JSON and HTML and lighthouse-baseline.json), pass or fail; never cached, so a
        security report is always fresh (--url and --runs: lighthouse's)."""
        executor = _executor(source, npm_token, repo, repo_path, snyk_token=snyk_token)
        report = await runner.reports(function, executor, shard=shard, base=base, no_cache=no_cache, url=url,
                                      runs=runs)
        return executor.report_directory(runner.report_files(report), executor.step_reports(report))

    @function(cache="never")
    async def preview_changes(self, source: Source, env: EnvName, format: Format = "table", repo_path: RepoPath = "",
                              aws_access_key_id: AwsAccessKeyId = None, aws_secret_access_key: AwsSecretAccessKey = None,
                              aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                              oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """Package the environment's template (`sam build` + `sam package` into its artifacts bucket), create a
        change set for its stack, show each change (action, logical id, type, replacement) and fail on a stateful
        resource replaced or deleted (unless environments.NAME.allow_replacement names it); the change set is always
        deleted, never executed. Never cached."""
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        report = await runner.preview_changes(_executor(source, None), env, given)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def package(self, source: Source, env: DeployEnv, commit_sha: PackageCommit = "", tag: ReleaseTags = None,
                      format: Format = "table", repo_path: RepoPath = "", npm_token: NpmToken = None,
                      aws_access_key_id: AwsAccessKeyId = None, aws_secret_access_key: AwsSecretAccessKey = None,
                      aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                      oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """Build the commit's immutable release (`sam build` + `sam package`, and the static export zipped when an
        environment deploys a frontend) and store it in the environment's artifacts bucket under its id, with a
        manifest of every object's checksum written once; a release already stored is verified, never rebuilt."""
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        report = await deliver.package(_executor(source, npm_token), env, given, commit_sha, tag or ())
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def promote(self, source: Source, from_: FromEnv, to: ToEnv, release: ReleaseRef, format: Format = "table",
                      repo_path: RepoPath = "", aws_access_key_id: AwsAccessKeyId = None,
                      aws_secret_access_key: AwsSecretAccessKey = None, aws_session_token: AwsSessionToken = None,
                      aws_role_arn: AwsRoleArn = "", from_aws_access_key_id: FromAccessKeyId = None,
                      from_aws_secret_access_key: FromSecretAccessKey = None,
                      from_aws_session_token: FromSessionToken = None, from_aws_role_arn: FromRoleArn = "",
                      oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """Copy a stored release from one environment's artifacts bucket into the next's (read with the --from
        credentials, written with the others), every object's checksum verified there; nothing is rebuilt."""
        source_given = await _given(from_aws_access_key_id, from_aws_secret_access_key, from_aws_session_token,
                                    from_aws_role_arn, oidc_request_url if from_aws_role_arn else "",
                                    oidc_request_token if from_aws_role_arn else None)
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url if aws_role_arn else "", oidc_request_token if aws_role_arn else None)
        report = await deliver.promote(_executor(source, None), from_, to, release, source_given, given)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def deploy(self, source: Source, env: DeployEnv, release: ReleaseRef, dry_run: DryRun = False,
                     override_reason: OverrideReason = "", format: Format = "table", repo_path: RepoPath = "",
                     aws_access_key_id: AwsAccessKeyId = None, aws_secret_access_key: AwsSecretAccessKey = None,
                     aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                     from_aws_access_key_id: UpstreamAccessKeyId = None,
                     from_aws_secret_access_key: UpstreamSecretAccessKey = None,
                     from_aws_session_token: UpstreamSessionToken = None, from_aws_role_arn: UpstreamRoleArn = "",
                     oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None,
                     github_token: DeployToken = None, github_repository: RecordsRepository = "",
                     github_api_url: GitHubApiUrl = "", github_run_id: DeployRunId = "", github_job: DeployJob = "",
                     slack_webhook: SlackWebhook = None, pagerduty_routing_key: PagerDutyKey = None) -> str:
        """Deploy a stored release to the environment: with approval_timeout_hours, the run's wait for its approvals
        checked first; its lock; with promote_from, the release must have been
        deployed there successfully and is copied from there (checksums verified, never rebuilt); a preflight; the
        safeguards (template and parameters copied, DynamoDB backups, stack protection); the change set printed
        and executed; the frontend zip to Amplify with the environment's config.json, smoke tests, the alarms
        watched; any failure after the change set ran restores the last known good release (the error's first
        line says `rolled back to RELEASE` or `NOT at a known release`; the JSON report's `outcome`); with a token
        its GitHub deployment and statuses, and the notifications (never failing it). Never cached."""
        audience = await _audience(github_token, github_repository, github_api_url, github_run_id, github_job,
                                   slack_webhook, pagerduty_routing_key)
        from_given = await _given(from_aws_access_key_id, from_aws_secret_access_key, from_aws_session_token,
                                  from_aws_role_arn, oidc_request_url if from_aws_role_arn else "",
                                  oidc_request_token if from_aws_role_arn else None)
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url if aws_role_arn or not from_aws_role_arn else "",
                             oidc_request_token if aws_role_arn or not from_aws_role_arn else None)
        report = await deliver.deploy(_executor(source, None), env, given, release, dry_run, from_given,
                                      override_reason, audience)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def rollback(self, source: Source, env: DeployEnv, to: RollbackTo = "", format: Format = "table",
                       repo_path: RepoPath = "", aws_access_key_id: AwsAccessKeyId = None,
                       aws_secret_access_key: AwsSecretAccessKey = None, aws_session_token: AwsSessionToken = None,
                       aws_role_arn: AwsRoleArn = "", oidc_request_url: OidcRequestUrl = "",
                       oidc_request_token: OidcRequestToken = None, github_token: DeployToken = None,
                       github_repository: RecordsRepository = "", github_api_url: GitHubApiUrl = "",
                       github_run_id: DeployRunId = "", slack_webhook: SlackWebhook = None,
                       pagerduty_routing_key: PagerDutyKey = None) -> str:
        """Bring the environment back to a release it ran before (the stored template, parameters and frontend zip,
        then the smoke tests): --to names it, by default the last known good before the current one; with a token
        its GitHub deployment and statuses, and the notifications (never failing it). Never cached."""
        audience = await _audience(github_token, github_repository, github_api_url, github_run_id, "",
                                   slack_webhook, pagerduty_routing_key)
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        report = await deliver.rollback(_executor(source, None), env, given, to, audience)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def smoke(self, source: Source, env: DeployEnv, format: Format = "table", repo_path: RepoPath = "",
                    aws_access_key_id: AwsAccessKeyId = None, aws_secret_access_key: AwsSecretAccessKey = None,
                    aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                    oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """The environment's smoke tests (environments.NAME.smoke: HTTP checks, tables, buckets) against what it
        runs now. Never cached."""
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        return _verdict(await deliver.smoke(_executor(source, None), env, given), format, repo_path)

    @function(cache="never")
    async def history(self, source: Source, env: DeployEnv, incident: IncidentId = "", format: Format = "table",
                      repo_path: RepoPath = "",
                      aws_access_key_id: AwsAccessKeyId = None, aws_secret_access_key: AwsSecretAccessKey = None,
                      aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                      oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """The environment's deployments, incidents and last known good release (table, or JSON with --format
        json), from its state file; --incident ID prints that incident's Markdown report. Never cached."""
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        if incident:
            return await deliver.incident_report(_executor(source, None), env, given, incident)
        return _verdict(await deliver.history(_executor(source, None), env, given), format, repo_path)

    @function(cache="never")
    async def accept(self, source: Source, env: DeployEnv, release: ReleaseRef, skip: AcceptSkip = None,
                     runs: AcceptRuns = 0, tag: AcceptTag = "", github_token: ReleaseToken = None,
                     github_repository: RecordsRepository = "", github_api_url: GitHubApiUrl = "",
                     format: Format = "table", repo_path: RepoPath = "",
                     npm_token: NpmToken = None, aws_access_key_id: AwsAccessKeyId = None,
                     aws_secret_access_key: AwsSecretAccessKey = None, aws_session_token: AwsSessionToken = None,
                     aws_role_arn: AwsRoleArn = "", oidc_request_url: OidcRequestUrl = "",
                     oidc_request_token: OidcRequestToken = None) -> str:
        """Accept a deployed release (staging after its deploy): check the environment runs it, run the app's
        deployed-stack tests (tests.integration.deployed_config; the stack's outputs as STACK_<OutputKey>, the
        credentials as secret variables of that step only), then Lighthouse against the environment's site URL;
        with --tag and --github-token the rc's GitHub release is published as ready once all passed. Never cached."""
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url, oidc_request_token)
        client = await _github_client(github_token, github_repository, github_api_url)
        report = await accepting.accept(_executor(source, npm_token), env, given, release, skip or (), runs,
                                        client, tag)
        return _verdict(report, format, repo_path)

    @function(cache="never")
    async def configure_github(self, source: Source, github_token: AdminToken, github_repository: SetupRepository,
                               dry_run: SetupDryRun = False, github_api_url: GitHubApiUrl = "",
                               format: Format = "table") -> str:
        """Create or update the GitHub environments pipeline.yaml describes (name patterns from each trigger, the
        wait timer, the approvals' reviewers and prevent_self_review), printing each change; idempotent: a second
        run changes nothing. Never cached."""
        report = await github_setup.configure_github(_executor(source, None), await github_token.plaintext(),
                                                     github_repository, dry_run, github_api_url)
        return _verdict(report, format, "")

    @function(cache="never")
    async def check_approval(self, source: Source, env: DeployEnv, github_run_id: RunId, github_job: JobName,
                             github_token: ActionsToken, github_repository: RunRepository,
                             github_api_url: GitHubApiUrl = "", format: Format = "table") -> str:
        """Refuse when the run waited longer for its approvals than environments.ENV.approval_timeout_hours (from
        the run's start to the start of --github-job; GitHub itself waits 30 days). Never cached."""
        report = await approval.check_approval(_executor(source, None), env, github_run_id, github_job,
                                               await github_token.plaintext(), github_repository, github_api_url)
        return _verdict(report, format, "")

    @function(cache="never")
    async def deployment_plan(self, source: Source, repo: Repo, env: PlanEnv, release: PlanRelease, tag: PlanTag = "",
                              github_token: ChecksToken = None, github_repository: ChecksRepository = "",
                              github_api_url: GitHubApiUrl = "", format: PlanFormat = "markdown",
                              repo_path: RepoPath = "",
                              aws_access_key_id: AwsAccessKeyId = None,
                              aws_secret_access_key: AwsSecretAccessKey = None,
                              aws_session_token: AwsSessionToken = None, aws_role_arn: AwsRoleArn = "",
                              from_aws_access_key_id: FromAccessKeyId = None,
                              from_aws_secret_access_key: FromSecretAccessKey = None,
                              from_aws_session_token: FromSessionToken = None, from_aws_role_arn: FromRoleArn = "",
                              oidc_request_url: OidcRequestUrl = "", oidc_request_token: OidcRequestToken = None) -> str:
        """The deployment plan as Markdown: the checklist (the commit's check runs, the release on the environment
        before, release notes, a rollback target), each item ticked or not with its source, and the risk derived
        from a change set of the stored release (created, listed, always deleted, never executed), the lockfile diff
        and the conventional commits since the deployed release (git over --repo). Never cached."""
        from_given = await _given(from_aws_access_key_id, from_aws_secret_access_key, from_aws_session_token,
                                  from_aws_role_arn, oidc_request_url if from_aws_role_arn else "",
                                  oidc_request_token if from_aws_role_arn else None)
        given = await _given(aws_access_key_id, aws_secret_access_key, aws_session_token, aws_role_arn,
                             oidc_request_url if aws_role_arn else "", oidc_request_token if aws_role_arn else None)
        client = await _github_client(github_token, github_repository, github_api_url)
        return await deployment_plan.deployment_plan(_executor(source, None, repo, repo_path), env, release, given,
                                                     from_given, client, tag, format)

    @function
    async def plan(self, source: Source, function: PlanName) -> str:
        """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values)."""
        return await runner.plan(function, _executor(source, None))

    @function
    async def route(self, source: Source, event: EventName, ref: EventRef, base_ref: BaseRef = "",
                    environment: DispatchEnv = "", release: DispatchRelease = "", schedule: ScheduleName = "",
                    format: RouteFormat = "table") -> str:
        """The trigger table: the stages an event runs and the environment it deploys (develop -> dev, rc-* tags ->
        staging, v* tags -> production from pipeline.yaml's triggers; other branches and pull requests: checks
        only; a schedule: its stage; a manual dispatch: its environment); a malformed release tag fails (exit 2)."""
        return await routing.route(_executor(source, None), event, ref, base_ref, environment, release, schedule,
                                   format)

    @function
    async def init(self, source: Source, module: ModuleRef = "github.com/ORG/bayon-pipeline@v0.1.0",
                   force: Force = False) -> dagger.Changeset:
        """Adopt the pipeline: a commented pipeline.yaml detected from the app (its package.json tools and engines,
        Next static export, SAM templates, Jest integration config) and the workflows calling this module by
        reference (.github/workflows: ci, security, and with a template validate-infrastructure, deploy-dev,
        deploy-staging, deploy-production, rollback); the changes to export (`export --path .`). An existing
        pipeline.yaml or workflow is refused unless --force."""
        written = await adoption.init(_executor(source, None), module, force)
        after = source
        for path, text in written.items():
            after = after.with_new_file(path, text)
        return after.changes(source)
