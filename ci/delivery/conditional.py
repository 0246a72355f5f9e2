"""What S3 answers to a conditional request (`If-Match`, `If-None-Match: *`) mean, for the objects bayon writes
only when they are as it last saw them (the environment's state and lock)."""

from __future__ import annotations

from botocore.exceptions import ClientError

REFUSED = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
"""The condition did not hold (412), or raced another conditional write of the same key (409)."""
MISSING = frozenset({"NoSuchKey", "404"})
"""There is no such object (also S3's answer to `If-Match` on a key that is gone)."""


def code(exc: ClientError) -> str:
    """The error code of a service answer (S3 gives only the HTTP status when the answer has no body)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def refused(exc: ClientError) -> bool:
    """Whether the object was not as expected: changed (412, 409) or gone (404)."""
    return code(exc) in REFUSED | MISSING


def missing(exc: ClientError) -> bool:
    return code(exc) in MISSING
