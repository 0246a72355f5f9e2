"""`deploy` and its automatic rollback against moto in server mode (started and stopped here, 127.0.0.1, a free port):
two real releases of the sample app (`sam build` + `sam package` through `bayon package`'s own code, the local
executor; the second differs by an environment variable of the function, so deploying it runs a real change set),
then, on one environment (backend only, smoke checks on ListingsTable, ListingsBucket and a local health URL),
release 1 deployed (the stack's first creation, not measured) and three rounds of:

1. release 2 deployed onto release 1: the measured deploy;
2. a manual `rollback --to` release 1 (so the failed deploy applies the very change set the measured one did);
3. the smoke failure planted (the health URL answers 500 while the stack runs release 2) and release 2 deployed
   again: its change set executes, its smoke phase fails, and it rolls back to release 1 on its own, which is where
   the next round starts.

The pipeline's own time per phase is printed (the report's steps) for the measured deploy and the failed one; the
configured waits (the smoke checks' retry backoff, every `Context.sleep`) are recorded and skipped, not counted, and
stack polls wait `delay_s` = 1 s (moto finishes at once: none is needed). The ratio is the median time from failure
detection (the end of the failed `deploy/smoke`) to the restored last known good (the end of `rollback/smoke`) over
the measured deploy's median total phase time (target <= 1.0: the stored release is reused, nothing is rebuilt).
Exits 1 unless the environment ends at the last known good release (stack tag and state) with every run as planned.
Packaging is timed, once per release, and counts on neither side.

    .venv/bin/python benchmarks/deploy.py      # BAYON_CACHE_DIR=... reuses the tool caches
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.waiter
import yaml

from common import Bench, machine

from ci.config import load_config
from ci.core.report import Report
from ci.delivery import credentials, stack, state
from ci.delivery.aws import clients
from ci.delivery.clients import Target
from ci.delivery.context import Context
from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog
from ci.delivery.rollback import rollback
from ci.executors.local import LocalExecutor
from ci.executors.local.services import free_port
from ci.pipeline import deliver

TARGET = 1.0
ROUNDS = 3
REGION, ENV = "us-east-1", "bench"
STACK, BUCKET = "coagent-bench", "coagent-bench-artifacts"
KEY_ID, SECRET = "AKIABENCHDEPLOY00001", "bench-deploy-secret"
COMMITS = [hashlib.sha1(f"bayon deploy benchmark release {n}".encode()).hexdigest() for n in (1, 2)]
TEMPLATE = "backend/template.yaml"
CHANGE = ("          BUCKET_NAME: !Ref ListingsBucket\n",
          "          BUCKET_NAME: !Ref ListingsBucket\n          RELEASE_NOTE: second\n")
"""Release 2's template change: one more environment variable of ListingsFunction (a Modify in its change set)."""
DELAY_S = 1
SMOKE_RETRIES, SMOKE_BACKOFF_S = 2, 1.0


@contextmanager
def moto_server():
    """moto_server on 127.0.0.1 and a free port, stopped however the block ends; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _up(url):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("moto_server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _up(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@dataclass
class Health:
    """The health URL the smoke test checks: 200 "ok", or 500 while the fault is planted and the stack runs the
    broken release (read from its `bayon:release` tag, as a real endpoint would be broken by what is deployed)."""

    cfn: object
    broken: str | None = None
    answers: list[int] = field(default_factory=list)

    def status(self) -> int:
        code = 500 if self.broken and stack.tagged_release(self.cfn, STACK) == self.broken else 200
        self.answers.append(code)
        return code


@contextmanager
def health_server(health: Health):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = health.status()
            body = b"ok" if code == 200 else b"planted failure"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Waits:
    """The run's configured waits: `Context.sleep` recorded and skipped; the stack waiters' polls (botocore's own
    sleep, `delay_s` each) recorded and really slept (the stack is really waited for)."""

    def __init__(self) -> None:
        self.skipped: list[float] = []
        self.polled: list[float] = []
        real = time.sleep

        class _Time:  # what botocore.waiter uses of the time module
            def __getattr__(self, name):
                return getattr(time, name)

            @staticmethod
            def sleep(seconds: float) -> None:
                self.polled.append(seconds)
                real(seconds)

        botocore.waiter.time = _Time()

    def sleep(self, seconds: float) -> None:
        self.skipped.append(seconds)

    def reset(self) -> None:
        self.skipped.clear()
        self.polled.clear()


def configure(app: Path, moto_url: str, health_url: str) -> None:
    config = yaml.safe_load((app / "pipeline.yaml").read_text())
    config["environments"] = {ENV: {
        "region": REGION, "endpoint_url": moto_url, "stack_name": STACK, "artifacts_bucket": BUCKET,
        "monitoring_minutes": 0, "parameters": {},
        "smoke": [{"name": "health", "url": health_url, "contains": "ok", "retries": SMOKE_RETRIES,
                   "backoff_s": SMOKE_BACKOFF_S},
                  {"table": "ListingsTable"}, {"bucket": "ListingsBucket"}]}}
    config.pop("notifications")  # the sample's name its own environments, replaced here
    (app / "pipeline.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def package(app: Path, commit: str) -> float:
    async def main() -> Report:
        async with LocalExecutor(app) as local:
            return await deliver.package(local, ENV, credentials.Given(KEY_ID, SECRET), commit, [])

    t = time.perf_counter()
    report = asyncio.run(main())
    took = time.perf_counter() - t
    if not report.passed:
        sys.exit(f"packaging {commit[:12]} failed: " + "; ".join(f"{s.id} {s.status}: {s.reason}"
                                                                  for s in report.steps if s.status != "passed"))
    print(f"package {commit[:12]}: {took:.1f} s ({', '.join(f'{s.id} {s.duration_s:.1f}s' for s in report.steps)})"
          ", not counted below")
    return took


@dataclass
class Run:
    report: Report
    ends: dict[str, float]
    """When each phase ended (monotonic seconds), from its progress line."""
    skipped: list[float]
    polled: list[float]
    calls: list[tuple[str, str, float]]
    """The CloudFormation calls: (phase, operation, seconds), in order."""

    def retag_s(self) -> float:
        """The seconds of the emulator-only retag in `deploy/execute`: moto does not tag a stack from an UPDATE
        change set's Tags, so `ci.delivery.stack.retag` updates the stack once more (UsePreviousTemplate) and waits
        for it; AWS needs none of it. Every CloudFormation call from that UpdateStack to the phase's end."""
        ours = [(op, took) for phase, op, took in self.calls if phase == "deploy/execute"]
        start = next((i for i, (op, _) in enumerate(ours) if op == "UpdateStack"), None)
        return 0.0 if start is None else sum(took for _, took in ours[start:])


def run(function, app: Path, moto_url: str, waits: Waits, arg: str) -> Run:
    environment = load_config((app / "pipeline.yaml").read_text()).environments[ENV]
    ctx = Context(ENV, environment, run_id=f"bench-{time.time_ns()}", owner="benchmark", delay_s=DELAY_S,
                  sleep=waits.sleep)
    session = boto3.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    aws = clients(session, Target(REGION, moto_url, max_attempts=1))
    ends: dict[str, float] = {}
    phase, started, calls = [""], {}, []

    def before(model, context, **_):
        started[id(context)] = time.monotonic()

    def after(model, context, **_):
        calls.append((phase[0], model.name, time.monotonic() - started.pop(id(context), time.monotonic())))

    aws.cloudformation.meta.events.register("before-call.cloudformation", before)
    aws.cloudformation.meta.events.register("after-call.cloudformation", after)

    def progress(line: str) -> None:
        step = line.split(":", 1)[0]
        if line.endswith(": started"):
            phase[0] = step
        if ": done in " in line or ": FAILED after " in line:
            ends[step] = time.monotonic()
        if not (line.endswith(": started") or ": done in " in line):  # the change set's rows, failures
            print(f"    {line}")

    waits.reset()
    report = function(aws, ctx, arg, PhaseLog(progress))
    return Run(report, ends, list(waits.skipped), list(waits.polled), calls)


def deploying(aws, ctx, ref, log):
    return deploy(aws, ctx, Request(ref), log)


def phases(title: str, runs: list[Run]) -> None:
    """The phases of one kind of run, each round's time and the median (seconds), and the waits each round had."""
    print(f"{title}: outcome {', '.join(r.report.outcome or '?' for r in runs)}")
    heads = " ".join(f"{'round ' + str(i):>9}" for i in range(1, len(runs) + 1))
    print(f"  {'phase':<20} {heads} {'median':>9}")
    for step in runs[0].report.steps:
        took = [next((s.duration_s for s in r.report.steps if s.id == step.id), 0.0) for r in runs]
        print(f"  {step.id:<20} " + " ".join(f"{t:9.3f}" for t in took) + f" {statistics.median(took):9.3f}"
              f"  {step.status}: {step.reason[:90]}")
    totals = [total(r) for r in runs]
    print(f"  {'total':<20} " + " ".join(f"{t:9.3f}" for t in totals) + f" {statistics.median(totals):9.3f}")
    print(f"  CloudFormation calls (round 1): " + ", ".join(f"{op} x{n}" for op, n in _tally(runs[0].calls)))
    print(f"  configured waits skipped (Context.sleep, not counted): "
          + ", ".join(f"{len(r.skipped)} ({sum(r.skipped):.1f} s)" for r in runs)
          + "; stack waiter polls slept (counted): " + ", ".join(f"{len(r.polled)} ({sum(r.polled):.1f} s)"
                                                                  for r in runs))


def _tally(calls: list[tuple[str, str, float]]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for _, op, _ in calls:
        counts[op] = counts.get(op, 0) + 1
    return list(counts.items())


def total(found: Run) -> float:
    return sum(s.duration_s for s in found.report.steps)


def main() -> None:
    # aws-sam-translator warns "There are unpublished metrics" whenever a Translator is collected (the deploy's SAM
    # transform for the emulator never publishes them): noise here
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    bench = Bench()
    waits = Waits()
    try:
        print(f"benchmark: deploy, then a deploy with a planted smoke failure and its automatic rollback, against "
              f"moto ({machine()})")
        with moto_server() as moto_url:
            s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION, aws_access_key_id=KEY_ID,
                              aws_secret_access_key=SECRET)
            s3.create_bucket(Bucket=BUCKET)
            cfn = boto3.client("cloudformation", endpoint_url=moto_url, region_name=REGION,
                               aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
            health = Health(cfn)
            with health_server(health) as health_url:
                configure(bench.app, moto_url, health_url)
                first, second = COMMITS
                package(bench.app, first)
                template = bench.app / TEMPLATE
                text = template.read_text()
                if CHANGE[0] not in text:
                    sys.exit(f"{TEMPLATE} no longer has the line release 2 changes: {CHANGE[0].strip()}")
                template.write_text(text.replace(CHANGE[0], CHANGE[1], 1))
                package(bench.app, second)
                ok = measure(bench.app, moto_url, waits, health, s3, cfn, first, second)
        sys.exit(0 if ok else 1)
    finally:
        bench.close()


def measure(app: Path, moto_url: str, waits: Waits, health: Health, s3, cfn, first: str, second: str) -> bool:
    print(f"deploy {first[:12]} (the stack's first creation, not measured)")
    created = run(deploying, app, moto_url, waits, first)
    if created.report.outcome != "deployed":
        sys.exit(f"the first deploy ended {created.report.outcome}: {created.report.delivery.get('reason')}")
    measured, manual, failed, restores = [], [], [], []
    ok = True
    for i in range(1, ROUNDS + 1):
        print(f"round {i}: deploy {second[:12]} onto {first[:12]} (measured)")
        measured.append(run(deploying, app, moto_url, waits, second))
        print(f"round {i}: rollback --to {first[:12]} (so the failed deploy runs the same change set)")
        manual.append(run(rollback, app, moto_url, waits, first))
        print(f"round {i}: smoke failure planted (the health URL answers 500 while the stack runs {second[:12]}); "
              f"deploy {second[:12]} again")
        health.broken = second
        failed.append(run(deploying, app, moto_url, waits, second))
        health.broken = None
        ok &= (measured[-1].report.outcome, manual[-1].report.outcome, failed[-1].report.outcome) == (
            "deployed", "rolled_back", "rolled_back")
        for found in (measured[-1], failed[-1]):
            executed = next((s for s in found.report.steps if s.id == "deploy/execute"), None)
            if executed is None or "executed" not in executed.reason:
                print(f"round {i}: a deploy executed no change set: the comparison does not hold")
                ok = False
        detected, restored = failed[-1].ends.get("deploy/smoke"), failed[-1].ends.get("rollback/smoke")
        if detected is None or restored is None:
            sys.exit(f"round {i}: the failed deploy has no failed deploy/smoke and restored rollback/smoke: "
                     f"{[(s.id, s.status) for s in failed[-1].report.steps]}")
        restores.append(restored - detected)

    print()
    phases(f"measured deploy {first[:12]} -> {second[:12]}", measured)
    phases(f"manual rollback {second[:12]} -> {first[:12]} (for reference, not in the ratio)", manual)
    phases(f"failed deploy of {second[:12]} and its automatic rollback to {first[:12]}", failed)
    print(f"failure detection (end of deploy/smoke) to restored last known good (end of rollback/smoke): "
          + ", ".join(f"{r:.3f}" for r in restores) + f" s; median {statistics.median(restores):.3f} s")
    print(f"health URL answers: {' '.join(map(str, health.answers))}")

    tagged = stack.tagged_release(cfn, STACK)
    found, _ = state.Store(s3, BUCKET, ENV).load()
    ended = tagged == found.current == found.last_known_good == first and found.attempt is None
    print(f"environment: stack tagged {(tagged or 'nothing')[:12]}, state current {(found.current or 'none')[:12]}, "
          f"last known good {(found.last_known_good or 'none')[:12]}, attempt "
          f"{'none' if found.attempt is None else found.attempt.phase}: "
          + ("at the last known good release" if ended else "NOT at the last known good release"))
    deploy_s, restore_s = statistics.median(total(r) for r in measured), statistics.median(restores)
    print(f"median deploy {deploy_s:.3f} s | median restore {restore_s:.3f} s (configured waits excluded)")
    retag = statistics.median(r.retag_s() for r in measured)
    if retag:
        print(f"of the deploy, the emulator-only retag (an UpdateStack after the change set, which AWS does not need): "
              f"median {retag:.3f} s; without it the ratio would be {restore_s / (deploy_s - retag):.2f}")
    print(f"target <= {TARGET}")
    print(f"restore/deploy ratio: {restore_s / deploy_s:.2f}")
    return ok and ended


if __name__ == "__main__":
    main()
