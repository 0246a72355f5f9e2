"""The artifacts bucket's name in a packaged template: `portable` replaces it by BUCKET_MARKER, so one stored release
serves every environment; `bound` puts one environment's bucket back; `code_keys` lists the objects it references.

`sam package` writes the bucket as `s3://bucket/key` strings (CodeUri, ContentUri, DefinitionUri...), as `S3Bucket`
(Lambda `Code`, layers) or a `Bucket`/`Key` pair (`BodyS3Location`), and as https URLs (nested stacks' `TemplateURL`,
applications' `Location`), path-style or virtual-hosted; every other string is left as it is.
"""

from __future__ import annotations

import re

BUCKET_MARKER = "{{bayon:artifacts-bucket}}"
HOST = r"s3(?:[.-][a-z0-9.-]*)?\.amazonaws\.com(?:\.cn)?"
"""An S3 https host: `s3.amazonaws.com`, `s3.eu-west-1.amazonaws.com`, `s3-us-west-2.amazonaws.com`..."""


def _split(text: str, bucket: str) -> tuple[str, str, str] | None:
    """(before, after, key) when `text` is an `s3://bucket/key` or https S3 URL of `bucket` (before + bucket +
    after == text); None otherwise."""
    name = re.escape(bucket)
    for pattern in (rf"(s3://){name}((?:/(.*))?)", rf"(https://){name}(\.{HOST}/(.*))",
                    rf"(https://{HOST}/){name}(/(.*))"):
        found = re.fullmatch(pattern, text)
        if found:
            return found.group(1), found.group(2), (found.group(3) or "").split("?")[0]
    return None


def _swap(node: object, old: str, new: str, keys: list[str]) -> object:
    """`node` with every reference to bucket `old` made one to `new`; the keys it referenced appended to `keys`."""
    if isinstance(node, str):
        parts = _split(node, old)
        if parts is None:
            return node
        keys += [parts[2]] if parts[2] else []
        return parts[0] + new + parts[1]
    if isinstance(node, list):
        return [_swap(item, old, new, keys) for item in node]
    if not isinstance(node, dict):
        return node
    swapped = {name: _swap(value, old, new, keys) for name, value in node.items()}
    for bucket, key in (("S3Bucket", "S3Key"), ("Bucket", "Key")):
        if node.get(bucket) == old and (key in node or bucket == "S3Bucket"):
            swapped[bucket] = new
            keys += [node[key]] if isinstance(node.get(key), str) else []
    return swapped


def portable(template: dict, bucket: str) -> dict:
    """The template with the bucket's name replaced by BUCKET_MARKER: `s3://` strings, `S3Bucket` (and `Bucket` of
    a Bucket/Key pair) values, and https S3 URLs (path or virtual-hosted style) of that bucket."""
    return _swap(template, bucket, BUCKET_MARKER, [])  # type: ignore[return-value]


def bound(template: dict, bucket: str) -> dict:
    """A portable template bound to one environment's bucket (the inverse of `portable`)."""
    return _swap(template, BUCKET_MARKER, bucket, [])  # type: ignore[return-value]


def code_keys(template: dict) -> list[str]:
    """The keys a portable template references in the artifacts bucket, sorted, once each."""
    keys: list[str] = []
    _swap(template, BUCKET_MARKER, BUCKET_MARKER, keys)
    return sorted(set(keys))
