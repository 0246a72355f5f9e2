"""A real moto_server (server mode, 127.0.0.1, a free port) for the delivery tests: one per module, or one for the
session shared by the modules that opt in (`SHARES_MOTO`)."""

from __future__ import annotations

import subprocess
import uuid
from contextlib import contextmanager
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig

from ci.executors.local.services import free_port

REGION = "us-east-1"
ONE_TRY = BotoConfig(region_name=REGION, retries={"max_attempts": 1})


def _up(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def _server():
    """A moto_server on a free 127.0.0.1 port, stopped on the way out."""
    port = free_port()
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _up(url):
            assert process.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def shared_moto_url():
    with _server() as url:
        yield url


@pytest.fixture(scope="module")
def moto_url(request):
    """The module's moto server; modules that set `SHARES_MOTO = True` (every name they create is their own, and
    they never list what others made) share one for the session instead."""
    if getattr(request.module, "SHARES_MOTO", False):
        yield request.getfixturevalue("shared_moto_url")
        return
    with _server() as url:
        yield url


def moto_client(url: str, service: str):
    """A client of the moto server (any credentials do), one try per call."""
    return boto3.client(service, endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=ONE_TRY)


@pytest.fixture()
def s3(moto_url):
    return moto_client(moto_url, "s3")


@pytest.fixture()
def bucket(s3):
    """A fresh bucket of the module's moto server."""
    name = f"art-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
