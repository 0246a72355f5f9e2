"""boto3 clients for an environment: its region, its endpoint (`environments.NAME.endpoint_url`, else
AWS_ENDPOINT_URL: an emulator such as moto) and bounded retries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import boto3
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig

from ci.config.model import Environment

ENDPOINT_ENV = "AWS_ENDPOINT_URL"


@dataclass(frozen=True)
class Target:
    """Where the clients talk to: a region, and an endpoint when not AWS's own."""

    region: str
    endpoint_url: str | None = None
    max_attempts: int = 3

    @property
    def emulator(self) -> bool:
        """An endpoint other than AWS's: the emulator profile applies (`ci.delivery.emulator`)."""
        return self.endpoint_url is not None


def target(environment: Environment, environ: Mapping[str, str] = os.environ, max_attempts: int = 3) -> Target:
    """The environment's target; its `endpoint_url` wins over AWS_ENDPOINT_URL."""
    return Target(environment.region, environment.endpoint_url or environ.get(ENDPOINT_ENV) or None, max_attempts)


def _config(where: Target, **extra) -> BotoConfig:
    return BotoConfig(region_name=where.region, retries={"max_attempts": where.max_attempts, "mode": "standard"},
                      **extra)


def client(aws: boto3.Session, service: str, where: Target):
    """A client of `service` for the target, with the session's credentials."""
    return aws.client(service, endpoint_url=where.endpoint_url, config=_config(where))


def unsigned_sts(where: Target):
    """An STS client without credentials: `assume_role_with_web_identity` needs none (it brings a token)."""
    return boto3.client("sts", endpoint_url=where.endpoint_url, config=_config(where, signature_version=UNSIGNED))
