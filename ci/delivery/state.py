"""The per-environment delivery state: one small JSON object, `bayon/state/<environment>.json` in the environment's
artifacts bucket, and this module is its one owner (later issues extend it here, never fork it).

Every write is conditional: `If-Match: <the ETag read>`, or `If-None-Match: *` when there was none, so a run that
read an older state can never overwrite a newer one. The JSON is written with sorted keys, indented; every moment is
ISO 8601 UTC text to the second (`2026-12-02T02:18:36Z`); a release is its full 40-hex commit SHA, lower case.
A stored state that is not valid (bad JSON, another shape, another environment's) is moved aside to
`bayon/state/<environment>.corrupt-<UTC>.json`, never deleted, and rebuilt from the stack.

State (the top-level object):
- `schema_version` (2): the shape below. Version 1 (no `safeguards` in deployments) still loads, and is written back
  as 2; a state with a newer version is refused ("upgrade bayon"), never rewritten.
- `environment`: the environment's name in pipeline.yaml; a state naming another environment is corrupt.
- `last_known_good` (release or null): the release the environment last ran successfully (deployed, smoke-tested
  and watched): what an automatic rollback restores.
- `current` (release or null): the release the environment runs now; null before the first deploy and after an
  `unrecoverable` run.
- `history` (list of deployments, oldest first, the last 100 kept): every deploy or rollback run that finished.
  `rollback` without `--to` goes to the last known good before the current one: the history read as a stack (a
  deploy pushes its release, a rollback to X pops back down to X), so rolling back twice goes back twice.
- `attempt` (object or null): the deploy or rollback in progress; a run that died leaves it here, and the next one
  finds it and finishes or reverts it.
- `incidents` (list, oldest first, the last 50 kept): every failure that needed a rollback, and every state rebuilt
  from the stack (outcome `unchanged`).

Deployment (an item of `history`):
- `release`: the release deployed (for a rollback: the one rolled back to).
- `kind`: `deploy` or `rollback` (a manual rollback; an automatic one is the `rolled_back` outcome of its deploy).
- `outcome`: `deployed` (the release now runs), `rolled_back` (it failed; the last known good was restored),
  `unrecoverable` (it failed and the environment is at no known release) or `unchanged` (stopped before anything
  was executed).
- `started`, `finished`: when the run began and ended.
- `run_id`: the run that did it (a CI run id, or the local run's id).
- `previous` (release or null): what the environment ran before.
- `reason`: why it failed, or "" when it did not.
- `safeguards` (object or null; version 2): what a deploy did to protect the environment before changing it (null:
  a rollback, or a version 1 record).

Safeguards (`safeguards` of a deployment):
- `snapshot` (text or null): the key prefix in the bucket of the copy of the stack's template (`template.json`, as
  CloudFormation had it) and parameters (`parameters.json`) taken before the change; null when there was no stack.
- `backups`: the on-demand DynamoDB backups taken first, each `logical_id`, `table` (its physical name), `name`,
  `arn`, `status` (AVAILABLE) and `created`.
- `protected`: termination protection and the stack policy were in place after the deploy.
- `override_reason`: why this deploy lifted the stack policy for its execution (`--override-reason`), or "".

Attempt (`attempt`):
- `release`, `kind`, `previous`: as in a deployment.
- `run_id`, `owner`: the run and who started it (the lock's holder).
- `started`: when it began.
- `phase`: the phase it reached (`change_set`, `traffic`, `frontend`, `smoke`, `alarms`, `rollback`).
- `stack_existed`: whether the stack existed before it (its first creation or not).
- `executed`: whether its change set was executed: from then on, a failure means a rollback.
- `policy_lifted`: why the stack policy is lifted now (`--override-reason` for the execution, or the rollback's
  put-back); "" when it is not. A run dying before the protection is back leaves it set: the next deploy's resume
  or rollback protects the stack again.
- `policy_before` (text or null): the stack policy an override lifted when it is not bayon's (protect_stack off, a
  policy found on the stack): the next run's resume or rollback puts this text back; null otherwise.

Incident (an item of `incidents`):
- `id`: its identifier, unique in the environment.
- `at`: when the failure was detected.
- `release`: the release that failed; `restored` (release or null): the one brought back (null: none).
- `phase`, `reason`: where and why it failed.
- `evidence`: lines that show it (each smoke check's result, the alarm's reason, the failed Amplify step, the stack's
  failure events, ...; never a presigned URL or a credential).
- `outcome`: as in a deployment (`rolled_back` or `unrecoverable`).
- `run_id`: the run that hit it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ci.core.errors import BayonError, one_line
from ci.delivery import conditional
from ci.delivery.utc import Moment, compact

SCHEMA_VERSION = 2
LOADS = (1, 2)
"""The schema versions this bayon reads (it writes only the newest)."""
MAX_DEPLOYMENTS = 100
MAX_INCIDENTS = 50

Outcome = Literal["deployed", "rolled_back", "unrecoverable", "unchanged"]
Kind = Literal["deploy", "rollback"]
Release = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
Text = Annotated[str, Field(min_length=1)]


def short(release: str | None) -> str | None:
    """The first 12 hex digits of a release id (how tables and titles show it); None stays None."""
    return None if release is None else release[:12]


class _Model(BaseModel):
    """Frozen, no unknown keys, no coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Backup(_Model):
    """One on-demand DynamoDB backup a deploy took before changing anything."""

    logical_id: Text
    table: Text
    name: Text
    arn: Text
    status: Text
    created: Moment


class Safeguards(_Model):
    """What a deploy did to protect the environment (see the module docstring)."""

    snapshot: Text | None = None
    backups: tuple[Backup, ...] = ()
    protected: bool = False
    override_reason: str = ""


class Deployment(_Model):
    """One deploy or rollback run that finished (see the module docstring for every field)."""

    release: Release
    kind: Kind
    outcome: Outcome
    started: Moment
    finished: Moment
    run_id: Text
    previous: Release | None
    reason: str = ""
    safeguards: Safeguards | None = None


class Attempt(_Model):
    """The deploy or rollback in progress."""

    release: Release
    kind: Kind
    run_id: Text
    owner: Text
    started: Moment
    phase: Text
    previous: Release | None
    stack_existed: bool
    executed: bool = False
    policy_lifted: str = ""
    """Why the stack policy is lifted now ("" when it is not): a run dying before it is put back leaves that to
    the next run's resume or rollback."""
    policy_before: str | None = None
    """The stack policy an override lifted when it is not bayon's (protect_stack off): put back as it was by the
    next run if this one dies first; None when there is none (protect_stack puts bayon's back instead)."""


class Incident(_Model):
    """A failure that needed a rollback."""

    id: Text
    at: Moment
    release: Release
    restored: Release | None
    phase: Text
    reason: str
    evidence: tuple[str, ...]
    outcome: Outcome
    run_id: Text


class EnvState(_Model):
    """The state of one environment; every method is pure and returns a new state."""

    schema_version: Literal[1, 2] = SCHEMA_VERSION
    environment: Text
    last_known_good: Release | None = None
    current: Release | None = None
    history: tuple[Deployment, ...] = ()
    attempt: Attempt | None = None
    incidents: tuple[Incident, ...] = ()

    def deployed(self) -> set[str]:
        """Every release the history shows deployed here (outcome `deployed`), and the last known good (a state
        rebuilt from the stack has no history): what a manual rollback may target."""
        found = {d.release for d in self.history if d.outcome == "deployed"}
        return found | {self.last_known_good} if self.last_known_good else found

    def rollback_target(self) -> str | None:
        """The last known good before the current one: the history replayed as a stack (a deploy pushes its
        release, a rollback to X pops down to X), its top dropped when it is the current release; None when
        there is nothing to go back to."""
        stack: list[str] = []
        for d in self.history:
            if d.kind == "rollback" and d.outcome == "rolled_back" and d.release in stack:
                del stack[stack.index(d.release) + 1:]
            elif d.kind == "deploy" and d.outcome == "deployed" and (not stack or stack[-1] != d.release):
                stack.append(d.release)
        if stack and stack[-1] == self.current:
            stack.pop()
        return stack[-1] if stack else None

    def with_attempt(self, attempt: Attempt) -> EnvState:
        """This state with `attempt` in progress (replacing any other)."""
        return self.model_copy(update={"attempt": attempt})

    def recorded(self, deployment: Deployment) -> EnvState:
        """This state once `deployment` finished: in the history (the last 100 kept), its attempt cleared, and
        `deployed` makes its release current and last known good; `rolled_back` makes the last known good
        current again (a manual rollback: the release it went back to, now also the last known good);
        `unrecoverable` leaves no current release; `unchanged` changes neither."""
        current = {"deployed": deployment.release, "rolled_back": self.last_known_good, "unrecoverable": None,
                   "unchanged": self.current}[deployment.outcome]
        good = deployment.release if deployment.outcome == "deployed" else self.last_known_good
        if deployment.kind == "rollback" and deployment.outcome == "rolled_back":  # rollback --to: it runs again
            current = good = deployment.release
        return self.model_copy(update={"history": (*self.history, deployment)[-MAX_DEPLOYMENTS:], "attempt": None,
                                       "current": current, "last_known_good": good})

    def with_incident(self, incident: Incident) -> EnvState:
        """This state with `incident` recorded (the last 50 kept)."""
        return self.model_copy(update={"incidents": (*self.incidents, incident)[-MAX_INCIDENTS:]})


class StateError(BayonError):
    """The state could not be read or written."""

    exit_code = 1


class StateCorrupt(StateError):
    """The stored state is not a valid state of this environment. The caller quarantines it (`Store.quarantine`)
    and rebuilds the state from the stack, and says so after this message."""

    def __init__(self, where: str, detail: str):
        super().__init__(f"{where} is not a valid state ({detail})")
        self.where, self.detail = where, detail


class StateTooNew(StateError):
    """The stored state has a schema newer than this bayon: never quarantined nor rewritten."""


class StateConflict(StateError):
    """Someone else wrote (or removed) the state since this run read it."""


class Store:
    """The state object of one environment in its artifacts bucket, read and written through an injected S3 client;
    `clock` (seconds since the epoch) names quarantined copies."""

    def __init__(self, s3: Any, bucket: str, environment: str, clock: Callable[[], float] = time.time):
        self.s3, self.bucket, self.environment, self.clock = s3, bucket, environment, clock
        self.key = f"bayon/state/{environment}.json"
        self.where = f"s3://{bucket}/{self.key}"

    def load(self) -> tuple[EnvState, str | None]:
        """The state and its ETag; a fresh state and None when there is none yet. StateCorrupt when it is not a
        valid state of this environment, StateTooNew when a newer bayon wrote it."""
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.key)
            body = got["Body"].read()
        except ClientError as exc:
            if conditional.missing(exc):
                return EnvState(environment=self.environment), None
            raise self._failed("read", "s3:GetObject", exc) from None
        except BotoCoreError as exc:
            raise self._failed("read", "s3:GetObject", exc) from None
        return self._parsed(body), got["ETag"]

    def save(self, state: EnvState, etag: str | None) -> str:
        """Write `state` if the stored one is still the one read (`etag`; None: still absent); the new ETag.
        StateConflict when someone else wrote it in between."""
        if state.environment != self.environment:
            raise StateError(f"refusing to write the state of environment {state.environment} to {self.where}")
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        state = state.model_copy(update={"schema_version": SCHEMA_VERSION})  # an older shape read is written anew
        try:
            return self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=to_bytes(state),
                                      ContentType="application/json", **condition)["ETag"]
        except ClientError as exc:
            if conditional.refused(exc):
                raise StateConflict(f"{self.where} changed since this run read it (another run wrote or removed it); "
                                    f"nothing was overwritten: see `bayon history --env {self.environment}`, then "
                                    "run again") from None
            raise self._failed("write", "s3:PutObject", exc) from None
        except BotoCoreError as exc:
            raise self._failed("write", "s3:PutObject", exc) from None

    def quarantine(self) -> str:
        """Move the stored object aside, to `bayon/state/<environment>.corrupt-<UTC>.json`; its new key. The original
        is deleted only if unchanged since it was copied (StateConflict otherwise)."""
        aside = f"bayon/state/{self.environment}.corrupt-{compact(self.clock())}.json"
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.key)
            self.s3.put_object(Bucket=self.bucket, Key=aside, Body=got["Body"].read(), IfNoneMatch="*")
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=got["ETag"])
        except ClientError as exc:
            if conditional.refused(exc):
                raise StateConflict(f"{self.where} changed while bayon moved it aside to {aside}; run again") from None
            raise self._failed("move aside", "s3:GetObject, s3:PutObject and s3:DeleteObject", exc) from None
        except BotoCoreError as exc:
            raise self._failed("move aside", "s3:GetObject, s3:PutObject and s3:DeleteObject", exc) from None
        return aside

    def _parsed(self, body: bytes) -> EnvState:
        try:
            data = json.loads(body)
        except ValueError as exc:  # bad UTF-8 or bad JSON
            raise StateCorrupt(self.where, f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise StateCorrupt(self.where, f"a JSON {type(data).__name__}, not an object")
        version = data.get("schema_version")
        if type(version) is int and version > SCHEMA_VERSION:
            raise StateTooNew(f"{self.where} has schema_version {version}, newer than this bayon's "
                              f"{SCHEMA_VERSION}: upgrade bayon (the state is left as it is)")
        if type(version) is not int or version not in LOADS:
            raise StateCorrupt(self.where, f"schema_version is {json.dumps(version)}, not one of "
                               f"{', '.join(map(str, LOADS))}")
        if data.get("environment") != self.environment:
            raise StateCorrupt(self.where, f"it is the state of environment {data.get('environment')!r}")
        try:
            return EnvState.model_validate_json(body)
        except ValidationError as exc:
            raise StateCorrupt(self.where, _first_error(exc)) from None

    def _failed(self, action: str, permission: str, exc: Exception) -> StateError:
        return StateError(f"could not {action} {self.where}: {one_line(exc)}; check that the bucket exists "
                          f"(environments.{self.environment}.artifacts_bucket) and the credentials allow {permission}")


def to_bytes(state: EnvState) -> bytes:
    """The state as stored: JSON, keys sorted, indented, a final newline."""
    return (json.dumps(state.model_dump(mode="json"), sort_keys=True, indent=2) + "\n").encode()


def _first_error(exc: ValidationError) -> str:
    """`history.2.release: String should match pattern ...` (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "the object"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"
