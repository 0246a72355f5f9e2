"""One environment on the moto server for the deploy tests: its bucket, releases stored as `package` stores them, the
clients (moto's; a Stubber-wrapped Amplify client, which botocore validates against Amplify's model), a local HTTP
server for the smoke check, a watched alarm, fake time, and the assertions every fault ends with."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import boto3
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from ci.config import load_config
from ci.delivery import lock, release, replacement, stack, state
from ci.delivery.aws import Aws, clients
from ci.delivery.clients import Target
from ci.delivery.context import Context
from ci.delivery.template_text import load
from tests.delivery.conftest import REGION, moto_client
from tests.delivery.fake_time import FakeTime
from tests.delivery.local_http import Answer, serve

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COMMITS = [f"{n}" * 40 for n in "123456789"]
APP, BRANCH, JOB = "d1coagenttest", "main", "7"
UPLOAD_URL = "https://aws-amplify-prod.s3.amazonaws.com/d1/main/7.zip?X-Amz-Signature=planted-signature"
_names = itertools.count(1)
SESSION = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
"""One session for every test's clients: botocore loads each service model once."""


def template(stack_name: str, visibility: int = 30, broken: bool = False) -> dict:
    """A stack with the table whose items must survive every fault, and a queue whose settings tell releases apart;
    `broken` adds a queue with an invalid name, which makes moto fail the update as a real stack update fails."""
    body = {"AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "ListingsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}},
                "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {
                    "QueueName": f"{stack_name}-jobs", "VisibilityTimeout": visibility}}},
            "Outputs": {"JobsUrl": {"Value": {"Ref": "Jobs"}}}}
    if broken:
        body["Resources"]["Broken"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "not a valid name!!"}}
    return body


def site(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("index.html", f"<h1>{text}</h1>")
    return out.getvalue()


def _summary(status: str) -> dict:
    return {"jobArn": f"arn:aws:amplify:{REGION}:123456789012:apps/{APP}/branches/{BRANCH}/jobs/{JOB}", "jobId": JOB,
            "commitId": "manual", "commitMessage": "Manual deployment", "commitTime": NOW, "startTime": NOW, "status": status, "jobType": "MANUAL"}


def answered(client, operation: str, response: dict, calls: list[dict]) -> None:
    """`operation` answered here instead of by the server (a call moto lacks), as Stubber answers: the call's
    parameters validated by botocore against the service model (and recorded in `calls`), `response` validated here
    against the operation's output shape, or, with an `Error` key, its code checked against the operation's
    errors and raised as a ClientError; every other call still goes to moto."""
    model = client.meta.service_model.operation_model(operation)
    if "Error" in response:
        assert response["Error"]["Code"] in {e.name for e in model.error_shapes}, response
        status = 400
    else:
        validate_parameters(response, model.output_shape)
        status = 200
    event = f"{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(f"before-parameter-build.{event}", lambda params, **_: calls.append(dict(params)))
    client.meta.events.register(f"before-call.{event}",
                                lambda **_: (AWSResponse("https://answered.invalid", status, {}, None), response))


@dataclass
class World:
    """One environment and what a test does to it."""

    url: str
    name: str
    amplify: bool = False
    alarm: bool = True
    monitoring_minutes: float = 0
    retries: int = 2
    health: list[Answer] = field(default_factory=list)
    """What the smoke check's URL answers next, in turn (the last one from then on); empty: 200 ok."""
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    fake: FakeTime = field(default_factory=FakeTime)
    stack_name: str = ""
    bucket: str = ""
    safeguards: str = ""
    """environments.NAME.safeguards as YAML flow text, e.g. `{backup_tables: [ListingsTable], protect_stack: true}`."""
    upstream: World | None = None
    """The promote_from environment: its block goes into this one's pipeline.yaml."""

    def __post_init__(self) -> None:
        self._aws, self._clients = None, {}
        n = next(_names)
        self.stack_name, self.bucket = f"t{n}-{self.name}", f"t{n}-{self.name}-artifacts"
        self.alarm_name = f"{self.stack_name}-5xx"
        self.s3 = self.client("s3")
        self.s3.create_bucket(Bucket=self.bucket)
        self.cloudwatch = self.client("cloudwatch")
        if self.alarm:
            self.cloudwatch.put_metric_alarm(AlarmName=self.alarm_name, MetricName="5XXError", Namespace="AWS/ApiGateway",
                                             Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                             ComparisonOperator="GreaterThanOrEqualToThreshold")
        self._stack = ExitStack()
        base, self.seen = self._stack.enter_context(serve(self._answer))
        self.health_url = f"{base}/health"
        self.amplify_client = boto3.client("amplify", region_name=REGION, aws_access_key_id="x",
                                           aws_secret_access_key="x")
        self.stubber = self._stack.enter_context(Stubber(self.amplify_client))

    def close(self) -> None:
        self._stack.close()

    def _answer(self, number: int, path: str) -> Answer:
        """The next scripted answer (the last one stays), else 200 ok."""
        if len(self.health) > 1:
            return self.health.pop(0)
        return self.health[0] if self.health else Answer(200, b"ok")

    @property
    def config_text(self) -> str:
        return "environments:\n" + self.block + (self.upstream.block if self.upstream else "")

    @property
    def block(self) -> str:
        """This environment's entry under `environments:`."""
        amplify = f"\n    amplify: {{app_id: {APP}, branch: {BRANCH}}}" if self.amplify else ""
        alarms = f"\n    alarms: [{self.alarm_name}]" if self.alarm else ""
        guarded = f"\n    safeguards: {self.safeguards}" if self.safeguards else ""
        guarded += f"\n    promote_from: {self.upstream.name}" if self.upstream else ""
        return (f"  {self.name}:\n    region: {REGION}\n    stack_name: {self.stack_name}\n"
                f"    artifacts_bucket: {self.bucket}\n    endpoint_url: {self.url}{amplify}{alarms}{guarded}\n"
                f"    monitoring_minutes: {self.monitoring_minutes}\n"
                f"    smoke:\n      - {{url: '{self.health_url}', contains: ok, retries: {self.retries}, backoff_s: 1}}\n"
                f"      - {{table: ListingsTable}}\n"
                f"    timeouts: {{lock: 0, frontend: 60, smoke: 30}}\n")

    def context(self, **overrides) -> Context:
        environment = load_config(self.config_text).environments[self.name]
        given = {"run_id": "run-test", "owner": "tester", "delay_s": 1, "clock": self.fake.clock,
                 "sleep": self.fake.sleep, **overrides}
        return Context(self.name, environment, **given)

    def aws(self, fresh: bool = False) -> Aws:
        """The run's clients: made once (a test that hooks into a client's events asks for `fresh` ones)."""
        if fresh or self._aws is None:
            made = clients(SESSION, Target(REGION, self.url, max_attempts=1))
            made = replace(made, amplify=self.amplify_client, put=lambda url, data: self.uploads.append((url, data)))
            if fresh:
                return made
            self._aws = made
        return self._aws

    def client(self, service: str):
        """A plain moto client of the test's own (what the assertions read with), made once per service."""
        if service not in self._clients:
            self._clients[service] = moto_client(self.url, service)
        return self._clients[service]

    def store(self, commit: str, body: dict, frontend: bytes | None = None, tags: tuple[str, ...] = (),
              also: tuple[str, ...] = ()) -> str:
        """A release as `package` stores it (with parameters for the environments `also` names too); its id."""
        files = {release.TEMPLATE: json.dumps(release.portable(body, self.bucket)).encode(),
                 release.PARAMETERS: json.dumps({name: {} for name in (self.name, *also)}).encode()}
        if frontend is not None:
            files[release.FRONTEND] = frontend
        return release.store(self.s3, self.bucket, commit, tags, files, NOW).release_id

    def expect_frontend(self, final: str = "SUCCEED", polls: int = 1) -> None:
        """One Amplify deployment: create, start, `polls` RUNNING answers, then `final` (or a stop_job)."""
        keys = {"appId": APP, "branchName": BRANCH}
        self.stubber.add_response("create_deployment", {"jobId": JOB, "fileUploadUrls": {},
                                                        "zipUploadUrl": UPLOAD_URL}, keys)
        self.stubber.add_response("start_deployment", {"jobSummary": _summary("PENDING")}, {**keys, "jobId": JOB})
        for _ in range(polls):
            self.stubber.add_response("get_job", {"job": {"summary": _summary("RUNNING"), "steps": []}})
        if final == "STOP":
            self.stubber.add_response("stop_job", {"jobSummary": _summary("CANCELLING")}, {**keys, "jobId": JOB})
            return
        steps = [{"stepName": "DEPLOY", "startTime": NOW, "endTime": NOW, "status": final,
                  **({"statusReason": "CustomerError: the zip has no index.html"} if final == "FAILED" else {})}]
        self.stubber.add_response("get_job", {"job": {"summary": _summary(final), "steps": steps}})

    # what every fault must leave behind

    def table_name(self) -> str:
        return stack.resources(self.client("cloudformation"), self.stack_name)["ListingsTable"]

    def put_items(self, count: int = 3) -> None:
        dynamodb = self.client("dynamodb")
        for i in range(count):
            dynamodb.put_item(TableName=self.table_name(), Item={"id": {"S": f"listing-{i}"}, "n": {"N": str(i)}})

    def items(self) -> tuple[int, str]:
        """The table's item count and a checksum of its items."""
        found = self.client("dynamodb").scan(TableName=self.table_name())["Items"]
        return len(found), hashlib.sha256(json.dumps(sorted(found, key=json.dumps), sort_keys=True).encode()).hexdigest()

    def state(self) -> state.EnvState:
        return state.Store(self.s3, self.bucket, self.name).load()[0]

    def lock_present(self) -> bool:
        return "Contents" in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=lock.key(self.name))

    def deployed_visibility(self) -> int:
        cfn = self.client("cloudformation")
        body = cfn.get_template(StackName=self.stack_name)["TemplateBody"]
        body = json.loads(body) if isinstance(body, str) else body
        return body["Resources"]["Jobs"]["Properties"]["VisibilityTimeout"]

    def assert_at(self, release_id: str, visibility: int, items: tuple[int, str]) -> None:
        """The environment runs `release_id` (tag and template), the table's items are as they were, the lock is
        released and the state agrees, with no attempt left in progress."""
        cfn = self.client("cloudformation")
        assert stack.tagged_release(cfn, self.stack_name) == release_id
        assert self.deployed_visibility() == visibility
        assert self.items() == items
        assert not self.lock_present()
        found = self.state()
        assert (found.last_known_good, found.current, found.attempt) == (release_id, release_id, None)


def enforce_stack_policy(client, reader, stack_name: str, refused: list[str]) -> None:
    """Make `client`'s UpdateStack and ExecuteChangeSet obey the stack's policy as CloudFormation does (moto stores
    a policy and never enforces it): the change is computed from the templates (`replacement.diff` of the deployed
    template, read with `reader`, and the one sent, or the one its change set was created with), and a change that
    deletes (`Update:Delete`) or replaces (`Update:Replace`) a logical id a Deny statement names is refused with a
    ClientError (what was denied goes into `refused`)."""
    sent: dict[str, str] = {}

    def created(params, **_):
        body = params["body"]
        if body.get("StackName") == stack_name and "TemplateBody" in body:
            sent[body["ChangeSetName"]] = body["TemplateBody"]

    def obeyed(params, model, **_):
        body = params["body"]
        if body.get("StackName") != stack_name:
            return None
        new = body.get("TemplateBody") if model.name == "UpdateStack" else sent.get(body.get("ChangeSetName", ""))
        if new is None:  # UsePreviousTemplate (a retag): nothing replaced or deleted
            return None
        policy = reader.get_stack_policy(StackName=stack_name).get("StackPolicyBody")
        deployed = reader.get_template(StackName=stack_name)["TemplateBody"]
        changes = replacement.diff(load(deployed, "deployed"), load(new, "sent"))
        wanted = {c.logical_id: "Update:Delete" if c.action == "Remove" else "Update:Replace" for c in changes
                  if c.action == "Remove" or (c.action == "Modify" and c.replacement == "True")}
        denied = sorted(i for i, action in wanted.items() if policy and _denies(json.loads(policy), i, action))
        if not denied:
            return None
        refused.extend(denied)
        error = {"Error": {"Code": "ValidationError", "Message": f"Action denied by stack policy: {wanted[denied[0]]} "
                           f"on LogicalResourceId/{denied[0]}"}}
        return AWSResponse("https://answered.invalid", 400, {}, None), error

    client.meta.events.register("before-call.cloudformation.CreateChangeSet", created)
    client.meta.events.register("before-call.cloudformation.UpdateStack", obeyed)
    client.meta.events.register("before-call.cloudformation.ExecuteChangeSet", obeyed)


def _denies(policy: dict, logical_id: str, action: str) -> bool:
    """Whether a Deny statement of the policy covers `action` on `logical_id` (explicit deny wins, as on AWS)."""
    for s in policy.get("Statement", []):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if s["Effect"] == "Deny" and (action in actions or "Update:*" in actions) and (
                "*" in resources or f"LogicalResourceId/{logical_id}" in resources):
            return True
    return False
