"""Smoke tests of a deployed environment, from `environments.NAME.smoke`: HTTP checks (a URL, or a stack output and a
path: status, body text, latency) and resource checks (a table of the stack readable, a bucket reachable), each
retried with exponential backoff until it passes, runs out of retries, or the phase's deadline comes."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ci.config.model import SmokeCheck
from ci.core.errors import one_line
from ci.delivery.phases import SMOKE, PhaseFailed

REQUEST_TIMEOUT_S = 30.0
"""The longest one HTTP attempt may take (less when the deadline is nearer)."""

Attempt = Callable[[float], tuple[bool, str]]
"""One try of a check, given its timeout in seconds: passed, and what was seen."""


@dataclass(frozen=True)
class CheckResult:
    """How one check ended: passed or not, after how many attempts, the last one's latency, and what was seen."""

    label: str
    kind: str
    passed: bool
    attempts: int
    latency_ms: float | None
    detail: str


class _Unresolved(Exception):
    """The check names a stack output or resource the stack does not have."""


def http_get(url: str, timeout_s: float) -> tuple[int, bytes]:
    """GET the URL: its status and body (an HTTP error status is an answer too, not an exception)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def run(checks: Sequence[SmokeCheck], outputs: Mapping[str, str], resources: Mapping[str, str], dynamodb, s3,
        deadline: float, clock: Callable[[], float], sleep: Callable[[float], None],
        get: Callable[[str, float], tuple[int, bytes]] = http_get) -> list[CheckResult]:
    """Every check's result, in order (a failed one does not stop the others). `outputs`: the stack's outputs by
    name; `resources`: its physical ids by logical id; `deadline`: the `clock()` time the whole run must end by."""
    results = []
    for check in checks:
        try:
            attempt = _attempt(check, outputs, resources, dynamodb, s3, get)
        except _Unresolved as exc:
            results.append(CheckResult(check.label, check.kind, False, 0, None, str(exc)))
            continue
        results.append(_retried(check, attempt, deadline, clock, sleep))
    return results


def require_passed(results: Sequence[CheckResult]) -> None:
    """PhaseFailed naming the failed checks (every result is evidence), unless all passed."""
    failed = [r for r in results if not r.passed]
    if failed:
        summary = "; ".join(f"{r.label}: {r.detail}" for r in failed)
        raise PhaseFailed(SMOKE, f"{len(failed)} of {len(results)} smoke checks failed: {summary}",
                          [f"{'passed' if r.passed else 'FAILED'} {r.kind} {r.label} after {r.attempts} "
                           f"attempt(s): {r.detail}" for r in results])


def _retried(check: SmokeCheck, attempt: Attempt, deadline: float, clock: Callable[[], float],
             sleep: Callable[[float], None]) -> CheckResult:
    """Try the check until it passes, its retries are spent, or the deadline would pass before the next try."""
    attempts, latency_ms, seen = 0, None, "not run: the smoke phase's deadline had passed"
    while (remaining := deadline - clock()) > 0:
        attempts += 1
        began = clock()
        passed, seen = attempt(min(remaining, REQUEST_TIMEOUT_S))
        latency_ms = (clock() - began) * 1000
        if passed and check.max_latency_ms is not None and latency_ms > check.max_latency_ms:
            passed, seen = False, f"{seen}, in {latency_ms:.0f} ms: over max_latency_ms {check.max_latency_ms}"
        if passed:
            return CheckResult(check.label, check.kind, True, attempts, latency_ms, f"{seen} in {latency_ms:.0f} ms")
        if attempts > check.retries:
            break
        wait = check.backoff_s * 2 ** (attempts - 1)
        if clock() + wait >= deadline:
            seen = f"{seen}; the smoke phase's deadline came before retry {attempts}"
            break
        sleep(wait)
    return CheckResult(check.label, check.kind, False, attempts, latency_ms, seen)


def _attempt(check: SmokeCheck, outputs: Mapping[str, str], resources: Mapping[str, str], dynamodb, s3,
             get: Callable[[str, float], tuple[int, bytes]]) -> Attempt:
    """The one try of this check, its stack output or logical id resolved (_Unresolved when the stack lacks it)."""
    if check.kind == "http":
        return _http(check, _url(check, outputs), get)
    name = _physical(check.table or check.bucket or "", resources)
    if check.kind == "table":
        return _aws(lambda: (dynamodb.describe_table(TableName=name), dynamodb.scan(TableName=name, Limit=1)),
                    f"table {name}", "readable")
    return _aws(lambda: s3.head_bucket(Bucket=name), f"bucket {name}", "reachable")


def _url(check: SmokeCheck, outputs: Mapping[str, str]) -> str:
    if check.url:
        return check.url
    if check.output not in outputs:
        raise _Unresolved(f"the stack has no output {check.output} (its outputs: {', '.join(sorted(outputs)) or 'none'}"
                          "); fix the smoke check's output, or add it to the template's Outputs")
    base = outputs[check.output]
    return f"{base.rstrip('/')}/{check.path.lstrip('/')}" if check.path else base


def _physical(logical_id: str, resources: Mapping[str, str]) -> str:
    if logical_id not in resources:
        raise _Unresolved(f"the stack has no resource {logical_id} (its logical ids: "
                          f"{', '.join(sorted(resources)) or 'none'}); fix the smoke check's logical id")
    return resources[logical_id]


def _http(check: SmokeCheck, url: str, get: Callable[[str, float], tuple[int, bytes]]) -> Attempt:
    def attempt(timeout_s: float) -> tuple[bool, str]:
        try:
            status, body = get(url, timeout_s)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # no answer, a bad URL, a broken answer
            return False, f"no answer from {url}: {one_line(exc)}"
        if status != check.status:
            return False, f"{url} answered {status}, expected {check.status}"
        if check.contains and check.contains.encode() not in body:
            return False, f"{url} answered {status} without {check.contains!r} in its {len(body)}-byte body"
        return True, f"{url} answered {status}"

    return attempt


def _aws(call: Callable[[], object], subject: str, passed: str) -> Attempt:
    def attempt(_timeout_s: float) -> tuple[bool, str]:  # the client's own timeouts apply
        try:
            call()
        except (ClientError, BotoCoreError) as exc:
            return False, f"{subject}: {one_line(exc)}"
        return True, f"{subject} {passed}"

    return attempt
