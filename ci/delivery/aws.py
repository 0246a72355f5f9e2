"""The AWS clients one delivery function uses for one environment, made once from its credentials and target and
handed to the deploy logic (tests hand it moto's clients, and Stubber-wrapped ones for Amplify and CodeDeploy)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import boto3

from ci.config import Config
from ci.delivery import credentials, target
from ci.delivery.amplify import http_put
from ci.delivery.clients import Target, client, unsigned_sts
from ci.delivery.clients import target as target_of
from ci.delivery.context import Context
from ci.delivery.smoke import http_get

SERVICES = ("s3", "cloudformation", "dynamodb", "cloudwatch", "sts", "amplify", "codedeploy", "iam")


@dataclass(frozen=True)
class Aws:
    """One client per service (`SERVICES`), the session they share (the SAM transform reads its region), where they
    talk to, and the two plain HTTP calls (the Amplify zip upload, the smoke tests' GET)."""

    session: boto3.Session
    where: Target
    s3: object
    cloudformation: object
    dynamodb: object
    cloudwatch: object
    sts: object
    amplify: object
    codedeploy: object
    iam: object
    put: Callable[[str, bytes], None] = http_put
    get: Callable[[str, float], tuple[int, bytes]] = http_get


def clients(session: boto3.Session, where: Target) -> Aws:
    """Every client of the environment, from one session."""
    return Aws(session, where, **{name: client(session, name, where) for name in SERVICES})


def connect(config: Config, env_name: str, given: credentials.Given, environ: Mapping[str, str] = os.environ,
            fetch: credentials.Fetch = credentials.urllib_fetch) -> tuple[Context, Aws]:
    """The run's context and clients for `environments.NAME`, with the credentials given (or the usual AWS
    environment): the one place a delivery function's clients are made."""
    environment = target.environment(config, env_name)
    where = target_of(environment, environ)
    session = credentials.session(given, environment.region, unsigned_sts(where), fetch)
    return Context(env_name, environment), clients(session, where)
