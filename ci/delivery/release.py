"""Immutable releases in an environment's artifacts bucket, identified by the full commit SHA (tags are aliases).

Layout: `releases/<id>/` holds the portable packaged template (`template.json`: the bucket's name replaced by
`BUCKET_MARKER`, so one release serves every environment's bucket), `parameters.json`, the optional `frontend.zip`
and `code/<md5>` (what `sam package --s3-prefix releases/<id>/code` uploaded), with `manifest.json` (every object's
sha256 and size) written once with `If-None-Match: *`. `releases/tags/<tag>.json` names a tag's release, also written
once: a tag never moves. A release is never rebuilt: its objects are verified against the manifest before use, and
`promote` copies them, byte for byte, into the next environment's bucket (its own credentials: no CopyObject).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from ci.core.errors import BayonError, one_line
from ci.delivery.bucket_refs import BUCKET_MARKER, bound, code_keys, portable

__all__ = ["BUCKET_MARKER", "ChecksumMismatch", "Manifest", "ReleaseError", "ReleaseNotFound", "StoredObject", "bound",
           "code_keys", "fetch", "manifest", "portable", "promote", "release_id", "resolve", "store", "verify"]

TEMPLATE = "template.json"
PARAMETERS = "parameters.json"
FRONTEND = "frontend.zip"
MANIFEST = "manifest.json"
FILES = (TEMPLATE, PARAMETERS, FRONTEND)
REQUIRED = (TEMPLATE, PARAMETERS)
CODE = "code/"
ROOT = "releases/"
TAGS = "releases/tags/"
CHUNK = 1024 * 1024
SHA = re.compile(r"[0-9a-fA-F]{40}")
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")

Hex40 = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
EXACT = ConfigDict(extra="forbid")


class ReleaseError(BayonError):
    """A release is missing, malformed or would change: one line with the fix (exit 1)."""

    exit_code = 1


class ChecksumMismatch(ReleaseError):
    """A stored object no longer matches the manifest's sha256: it was changed after packaging."""

    def __init__(self, bucket: str, key: str, expected: str, actual: str):
        self.key, self.expected, self.actual = key, expected, actual
        super().__init__(f"s3://{bucket}/{key} does not match its release manifest (sha256 {expected[:12]} expected, "
                         f"{actual[:12]} found): it changed after packaging; restore the object, or package a new "
                         "commit (a release is never re-uploaded)")


class ReleaseNotFound(ReleaseError):
    """No such release (or tag) in the bucket."""


@dataclass(frozen=True, config=EXACT)
class StoredObject:
    """One object of a release: its name in the release (`template.json`, `code/<md5>`), key, sha256 and size."""

    name: str
    key: str
    sha256: Hex64
    size: Annotated[int, Field(ge=0)]


@dataclass(frozen=True, config=EXACT)
class Manifest:
    """What a release is: its id, commit, tags at packaging, creation time (ISO 8601 UTC) and every object."""

    release_id: Hex40
    commit: Hex40
    tags: tuple[str, ...]
    created: Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
    objects: tuple[StoredObject, ...]

    def has(self, name: str) -> bool:
        return any(o.name == name for o in self.objects)

    def object(self, name: str) -> StoredObject:
        """The object of that name; ReleaseError when the release has none (e.g. packaged without a frontend)."""
        found = next((o for o in self.objects if o.name == name), None)
        if found is None:
            raise ReleaseError(f"release {self.release_id} has no {name}; package a commit that has it")
        return found

    def to_bytes(self) -> bytes:
        return _MANIFEST.dump_json(self, indent=2) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        """The manifest stored at `where` (its s3:// address, for the message); ReleaseError when it is not one."""
        try:
            found = _MANIFEST.validate_json(data, strict=True)
        except ValidationError as exc:
            error = exc.errors()[0]
            place = ".".join(str(part) for part in error["loc"]) or "document"
            raise ReleaseError(f"{where} is not a valid release manifest ({place}: {error['msg']}); restore it, or "
                               "package a new commit") from None
        keys = [f"{ROOT}{found.release_id}/{o.name}" for o in found.objects]
        if keys != [o.key for o in found.objects] or len(set(keys)) != len(keys):
            raise ReleaseError(f"{where} is not a valid release manifest (object keys are not releases/"
                               f"{found.release_id}/<name>, once each); restore it, or package a new commit")
        return found


_MANIFEST = TypeAdapter(Manifest)


def release_id(commit: str) -> str:
    """The release id of a commit: its full SHA, lower case; a short or malformed SHA is refused with the fix."""
    given = commit.strip()
    if SHA.fullmatch(given):
        return given.lower()
    if re.fullmatch(r"[0-9a-fA-F]{7,39}", given):
        raise ReleaseError(f"release id {given} is a short commit SHA; pass the full 40-hex `git rev-parse HEAD`")
    raise ReleaseError(f"release id {given!r} is not a commit SHA; pass the full 40-hex `git rev-parse HEAD`")


# --- S3 ------------------------------------------------------------------------------------------------------------

def _absent(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404")


@contextmanager
def _s3(bucket: str, key: str) -> Iterator[None]:
    """Service and endpoint errors as one ReleaseError line naming the object and the fix."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            raise ReleaseError(f"bucket {bucket} does not exist; create it, or fix the environment's "
                               "artifacts_bucket") from None
        raise ReleaseError(f"s3://{bucket}/{key}: {one_line(exc)}; check that the environment's credentials may "
                           f"read and write s3://{bucket}") from None
    except BotoCoreError as exc:
        raise ReleaseError(f"s3://{bucket}/{key}: {one_line(exc)}; check the environment's region and "
                           "endpoint") from None


def _body(s3, bucket: str, key: str):
    """The object's streaming body; None when there is no such key."""
    with _s3(bucket, key):
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            if _absent(exc):
                return None
            raise


def _get(s3, bucket: str, key: str) -> bytes | None:
    body = _body(s3, bucket, key)
    if body is None:
        return None
    with _s3(bucket, key):
        return body.read()


def _put_once(s3, bucket: str, key: str, data: bytes) -> bool:
    """Write the object only if absent (`If-None-Match: *`); False when it was already there."""
    with _s3(bucket, key):
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                return False
            raise
    return True


def _put(s3, bucket: str, key: str, data: bytes) -> None:
    with _s3(bucket, key):
        s3.put_object(Bucket=bucket, Key=key, Body=data)


RESTORE = "restore it, or package a new commit (a release is never re-uploaded)"


def _missing(bucket: str, key: str, fix: str = RESTORE) -> ReleaseError:
    return ReleaseError(f"s3://{bucket}/{key} is missing; {fix}")


def _hashed(s3, bucket: str, key: str, fix: str = RESTORE) -> tuple[str, int]:
    """The object's sha256 and size, streamed in chunks; ReleaseError (with `fix`) when it is missing."""
    body = _body(s3, bucket, key)
    if body is None:
        raise _missing(bucket, key, fix)
    digest, size = hashlib.sha256(), 0
    with _s3(bucket, key):
        for chunk in body.iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _stored(name: str, rid: str, data: bytes) -> StoredObject:
    return StoredObject(name, f"{ROOT}{rid}/{name}", hashlib.sha256(data).hexdigest(), len(data))


def _check(bucket: str, expected: StoredObject, sha256: str) -> None:
    if sha256 != expected.sha256:
        raise ChecksumMismatch(bucket, expected.key, expected.sha256, sha256)


# --- releases and tags -----------------------------------------------------------------------------------------

def _manifest_key(rid: str) -> str:
    return f"{ROOT}{rid}/{MANIFEST}"


def _tag_key(tag: str) -> str:
    return f"{TAGS}{tag}.json"


def _tag(tag: str) -> str:
    """A valid tag name (not a SHA: it would read as a release id); ReleaseError otherwise."""
    if not TAG.fullmatch(tag) or SHA.fullmatch(tag):
        raise ReleaseError(f"tag {tag!r} is not a valid release tag; use letters, digits, '.', '_', '+' and '-' "
                           "(1-128, not a 40-hex SHA)")
    return tag


def _tagged(s3, bucket: str, tag: str) -> str | None:
    """The release a tag names in the bucket; None when the tag is not there."""
    key = _tag_key(tag)
    data = _get(s3, bucket, key)
    if data is None:
        return None
    try:
        named = json.loads(data)
    except ValueError:
        named = None
    rid = named.get("release") if isinstance(named, dict) else None
    if not isinstance(rid, str) or not SHA.fullmatch(rid):
        raise ReleaseError(f"s3://{bucket}/{key} is not a release tag ({{\"release\": \"<40-hex id>\"}}); "
                           "restore it, or delete it and tag again")
    return rid.lower()


def add_tags(s3, bucket: str, rid: str, tags: Iterable[str]) -> None:
    """Tag a stored release (aliases written once each; a tag naming another release is refused)."""
    wanted = tuple(dict.fromkeys(_tag(tag) for tag in tags))
    for tag in wanted:
        _same_tag(s3, bucket, tag, rid)
    _write_tags(s3, bucket, rid, wanted)


def _write_tags(s3, bucket: str, rid: str, tags: Iterable[str]) -> None:
    """Each tag's alias, written once; a tag already naming another release is refused (a tag never moves)."""
    for tag in tags:
        data = json.dumps({"release": rid}).encode()
        if not _put_once(s3, bucket, _tag_key(tag), data):
            _same_tag(s3, bucket, tag, rid)


def _same_tag(s3, bucket: str, tag: str, rid: str) -> None:
    """ReleaseError when the tag is in the bucket and names another release."""
    named = _tagged(s3, bucket, tag)
    if named not in (None, rid):
        raise ReleaseError(f"tag {tag} already names release {named} in s3://{bucket}; a tag never moves to another "
                           "release: choose a new tag")


def _rid(s3, bucket: str, ref: str) -> str:
    """The release id `ref` names: itself when a full SHA, else the tag's release."""
    if SHA.fullmatch(ref.strip()):
        return ref.strip().lower()
    named = _tagged(s3, bucket, _tag(ref))
    if named is None:
        hint = " (a short SHA? pass the full 40-hex commit)" if re.fullmatch(r"[0-9a-fA-F]{7,39}", ref) else ""
        raise ReleaseNotFound(f"no release or tag {ref}{hint} in s3://{bucket}; package it (`bayon package --env "
                              "ENV`) or promote it there (`bayon promote --from ENV --to ENV`) first")
    return named


def _load(s3, bucket: str, rid: str) -> tuple[Manifest, bytes] | None:
    """The release's manifest and its exact bytes; None when there is none."""
    key = _manifest_key(rid)
    data = _get(s3, bucket, key)
    if data is None:
        return None
    found = Manifest.from_bytes(data, f"s3://{bucket}/{key}")
    if found.release_id != rid:
        raise ReleaseError(f"s3://{bucket}/{key} is the manifest of release {found.release_id}, not {rid}; restore "
                           "it, or package a new commit")
    return found, data


def _not_found(bucket: str, rid: str) -> ReleaseNotFound:
    return ReleaseNotFound(f"no release {rid} in s3://{bucket}; package it (`bayon package --env ENV`) or promote it "
                           "there (`bayon promote --from ENV --to ENV`) first")


def resolve(s3, bucket: str, ref: str) -> str:
    """The release id that `ref` (a release id or a tag) names in the bucket; ReleaseNotFound when absent."""
    rid = _rid(s3, bucket, ref)
    key = _manifest_key(rid)
    with _s3(bucket, key):
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _absent(exc):
                raise _not_found(bucket, rid) from None
            raise
    return rid


def _found(s3, bucket: str, ref: str) -> tuple[Manifest, bytes]:
    """The manifest (and its bytes) of the release `ref` names; ReleaseNotFound when absent."""
    rid = _rid(s3, bucket, ref)
    loaded = _load(s3, bucket, rid)
    if loaded is None:
        raise _not_found(bucket, rid)
    return loaded


def manifest(s3, bucket: str, ref: str) -> Manifest:
    """The manifest of the release `ref` (id or tag) names; ReleaseNotFound when absent."""
    return _found(s3, bucket, ref)[0]


def _json_object(files: Mapping[str, bytes], name: str) -> dict:
    try:
        document = json.loads(files[name])
    except ValueError as exc:
        raise ReleaseError(f"{name} is not JSON ({exc}); package again") from None
    if not isinstance(document, dict):
        raise ReleaseError(f"{name} is not a JSON object; package again")
    return document


def _contents(rid: str, files: Mapping[str, bytes], bucket: str) -> tuple[list[StoredObject], list[str]]:
    """The release's own files as stored objects and the names of the code objects its template references, after
    checking the files' names, that the template is portable and references only this release's code."""
    if set(files) - set(FILES) or any(name not in files for name in REQUIRED):
        raise ReleaseError(f"a release is {', '.join(FILES)} (the last optional), not {', '.join(sorted(files))}")
    template = _json_object(files, TEMPLATE)
    _json_object(files, PARAMETERS)
    if portable(template, bucket) != template:
        raise ReleaseError(f"{TEMPLATE} still names bucket {bucket}; store portable(template, bucket)")
    prefix = f"{ROOT}{rid}/"
    outside = [key for key in code_keys(template) if not key.startswith(prefix + CODE)]
    if outside:
        raise ReleaseError(f"{TEMPLATE} references {outside[0]}, outside {prefix}{CODE}; package with "
                           f"`sam package --s3-prefix {prefix}code`")
    code = [key.removeprefix(prefix) for key in code_keys(template)]
    return [_stored(name, rid, files[name]) for name in FILES if name in files], code


def _same(found: Manifest, own: Sequence[StoredObject], code: Sequence[str], bucket: str) -> Manifest:
    """The stored manifest when it has these files and code objects; ReleaseError otherwise (immutable)."""
    names = {o.name for o in found.objects if o.name.startswith(CODE)}
    if {o for o in found.objects if not o.name.startswith(CODE)} != set(own) or names != set(code):
        raise ReleaseError(f"release {found.release_id} exists in s3://{bucket} with other contents: a release is "
                           "immutable; package a new commit")
    return found


def store(s3, bucket: str, commit: str, tags: Sequence[str], files: Mapping[str, bytes], now: datetime) -> Manifest:
    """Store a release: its files (`template.json` portable, `parameters.json`, optional `frontend.zip`) and the code
    objects `sam package` uploaded (hashed from the bucket), then the manifest once, then the tags. Storing the same
    release again returns its manifest untouched (new tags are still written); other contents are refused."""
    rid = release_id(commit)
    wanted = tuple(dict.fromkeys(_tag(tag) for tag in tags))
    own, code = _contents(rid, files, bucket)
    for tag in wanted:
        _same_tag(s3, bucket, tag, rid)
    existing = _load(s3, bucket, rid)
    if existing is not None:
        found = _same(existing[0], own, code, bucket)
        _write_tags(s3, bucket, rid, wanted)
        return found
    upload = f"run `sam package --s3-prefix {ROOT}{rid}/code` into s3://{bucket} first"
    keys = {name: f"{ROOT}{rid}/{name}" for name in code}
    hashed = [StoredObject(name, key, *_hashed(s3, bucket, key, upload)) for name, key in keys.items()]
    for stored in own:
        _put(s3, bucket, stored.key, files[stored.name])
    found = Manifest(rid, rid, wanted, now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), (*own, *hashed))
    if not _put_once(s3, bucket, _manifest_key(rid), found.to_bytes()):
        raced = _load(s3, bucket, rid)
        found = _same(raced[0], own, code, bucket) if raced else found
    _write_tags(s3, bucket, rid, wanted)
    return found


def fetch(s3, bucket: str, found: Manifest, names: Iterable[str]) -> dict[str, bytes]:
    """The named objects of the release, each verified against the manifest's sha256 (ChecksumMismatch if not)."""
    fetched = {}
    for name in names:
        stored = found.object(name)
        data = _get(s3, bucket, stored.key)
        if data is None:
            raise _missing(bucket, stored.key)
        _check(bucket, stored, hashlib.sha256(data).hexdigest())
        fetched[name] = data
    return fetched


def verify(s3, bucket: str, found: Manifest) -> None:
    """Every object of the release (code zips too) streamed and hashed against the manifest."""
    for stored in found.objects:
        _check(bucket, stored, _hashed(s3, bucket, stored.key)[0])


def promote(src_s3, src_bucket: str, dst_s3, dst_bucket: str, ref: str) -> tuple[Manifest, bool]:
    """Copy the release `ref` names from one environment's bucket to another's (each with its own client): every
    object read and verified at the source, written and verified at the destination, then the manifest, byte for
    byte, once; then its tags. (manifest, False) when the destination already had it (verified there)."""
    found, data = _found(src_s3, src_bucket, ref)
    rid = found.release_id
    tags = (*found.tags, *([] if SHA.fullmatch(ref.strip()) or ref in found.tags else [ref]))
    for tag in tags:
        _same_tag(dst_s3, dst_bucket, tag, rid)
    there = _load(dst_s3, dst_bucket, rid)
    if there is None:
        for stored in found.objects:
            _put(dst_s3, dst_bucket, stored.key, fetch(src_s3, src_bucket, found, [stored.name])[stored.name])
            _check(dst_bucket, stored, _hashed(dst_s3, dst_bucket, stored.key)[0])
        copied = _put_once(dst_s3, dst_bucket, _manifest_key(rid), data)
        there = None if copied else _load(dst_s3, dst_bucket, rid)
    if there is not None:
        if there[1] != data:
            raise ReleaseError(f"release {rid} in s3://{dst_bucket} differs from the one in s3://{src_bucket}: a "
                               "release is immutable; restore its manifest, or promote a new commit")
        verify(dst_s3, dst_bucket, there[0])
    _write_tags(dst_s3, dst_bucket, rid, tags)
    return found, there is None
