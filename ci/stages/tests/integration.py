"""The integration-test stage: the app's Jest integration suite against moto, an AWS emulator the pipeline starts.

In Dagger moto is a service container bound as `moto`; locally `moto_server` runs on a free 127.0.0.1 port. Either
way the tests get its URL in `AWS_ENDPOINT_URL`, which the AWS SDK v3 honours, and fake credentials. Jest's results
are judged as the unit tests' are (`ci.jest`): a failed test is a finding at its file and line.
"""

from __future__ import annotations

from ci.stages.tests import jest
from ci.config import Config
from ci.core.step import Service, Step

STEP_ID = "tests/integration"
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
    """The integration-test step, unless pipeline.yaml turned it off."""
    integration = config.tests.integration
    if not integration.enabled:
        return []
    argv = (jest.BIN, "-c", integration.config, "--ci", "--json", f"--outputFile={{reports}}/{jest.RESULTS}",
            "--testLocationInResults", "--reporters=default", "--reporters=jest-junit")
    return [Step(id=STEP_ID, tool="jest", argv=argv, judge=jest.judge, node_major=config.node,
                 env={**AWS_ENV, **jest.ENV}, services=(moto(integration.emulator_image),),
                 outputs=(jest.RESULTS, jest.JUNIT), package="jest", timeout_s=600)]
