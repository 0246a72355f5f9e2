"""The integration-test stage: the app's Jest integration suite against moto, an AWS emulator the pipeline starts;
and the suite `accept` runs against a deployed stack.

In Dagger moto is a service container bound as `moto`; locally `moto_server` runs on a free 127.0.0.1 port. Either
way the tests get its URL in `AWS_ENDPOINT_URL`, which the AWS SDK v3 honours, and fake credentials. Against a
deployed stack the tests get its outputs as `STACK_<OutputKey>` variables and the environment's credentials as
secrets of that one step. Jest's results are judged as the unit tests' are (`ci.jest`): a failed test is a finding
at its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping

from ci.stages.tests import jest
from ci.config import Config
from ci.core.step import Needs, Service, Step

STEP_ID = "tests/integration"
ENABLED_KEY = "tests.integration.enabled"
MOTO_PORT = 5000
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1"}


def moto(image: str) -> Service:
    """moto in server mode, listening on every interface of its container (on loopback locally)."""
    return Service(
        name="moto", image=image, port=MOTO_PORT, args=("-H", "0.0.0.0", "-p", str(MOTO_PORT)),
        local_argv=("moto_server", "-H", "127.0.0.1", "-p", "{port}"), url_env="AWS_ENDPOINT_URL",
    )


def steps(config: Config) -> list[Step]:
    """The integration-test step, unless pipeline.yaml turned it off; skipped when the app has no such Jest config."""
    integration = config.tests.integration
    if not integration.enabled:
        return []
    needs = Needs("jest", off_key=ENABLED_KEY, file=integration.config, file_key="tests.integration.config")
    return [Step(id=STEP_ID, tool="jest", argv=_argv(integration.config), judge=jest.judge, node_major=config.node,
                 env={**AWS_ENV, **jest.ENV}, services=(moto(integration.emulator_image),),
                 outputs=(jest.RESULTS, jest.JUNIT), package="jest", timeout_s=600, tools=(jest.REPORTER,),
                 needs=needs)]


def deployed_step(config: Config, env_name: str, outputs: Mapping[str, str], region: str,
                  endpoint_url: str | None, secrets: Mapping[str, str]) -> Step:
    """The suite of tests.integration.deployed_config against environment `env_name`'s stack: each output as
    `STACK_<OutputKey>`, the region, an emulator's endpoint when the environment has one, and `secrets` (env var ->
    secret name: the environment's credentials) for this step only. Skipped when the app has no such config."""
    integration = config.tests.integration
    env = {**{f"STACK_{key}": value for key, value in sorted(outputs.items())}, "AWS_REGION": region,
           "AWS_DEFAULT_REGION": region, "BAYON_ENVIRONMENT": env_name, **jest.ENV,
           **({"AWS_ENDPOINT_URL": endpoint_url} if endpoint_url else {})}
    needs = Needs("jest", file=integration.deployed_config, file_key="tests.integration.deployed_config")
    return Step(id=f"tests/deployed/{env_name}", tool="jest", argv=_argv(integration.deployed_config),
                judge=jest.judge, node_major=config.node, env=env, secrets=secrets,
                outputs=(jest.RESULTS, jest.JUNIT), package="jest", timeout_s=900, tools=(jest.REPORTER,),
                needs=needs)


def _argv(jest_config: str) -> tuple[str, ...]:
    return (jest.BIN, "-c", jest_config, "--ci", "--json", f"--outputFile={{reports}}/{jest.RESULTS}",
            "--testLocationInResults", *jest.REPORTERS)


def missing_config(config: Config, present: bool) -> str | None:
    """Why pipeline.yaml is wrong when it turns the integration tests on explicitly but the app has no such Jest
    config (left at its default, a missing config only skips the step)."""
    integration = config.tests.integration
    if present or not (integration.enabled and "enabled" in integration.model_fields_set):
        return None
    return (f"{ENABLED_KEY} is true but the app has no {integration.config} (tests.integration.config); add it, "
            f"point tests.integration.config at the app's integration Jest config, or set {ENABLED_KEY}: false")
