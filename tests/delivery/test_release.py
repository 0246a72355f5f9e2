"""Releases against a real moto S3 server: stored once and immutable, tags as aliases that never move, checksums
verified on every read (an object changed behind the manifest's back is caught), promotion between two buckets with
two clients (read and verified at the source, written and verified at the destination, the manifest byte for byte),
and a packaged template made portable and bound to another environment's bucket."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from ci.delivery import release
from ci.delivery.release import BUCKET_MARKER, ChecksumMismatch, ReleaseError, ReleaseNotFound
from tests.delivery.conftest import moto_client

SHARES_MOTO = True

RID = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"
NOW = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)
CODE = {"code/77ab": b"layer zip", "code/9f1c": b"zip of the listings function " * 4000}  # sorted, as listed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def s3(moto_url):
    return moto_client(moto_url, "s3")


@pytest.fixture
def bucket(s3, request):
    name = f"rel-{request.node.name.replace('_', '-')[5:40].strip('-')}"
    s3.create_bucket(Bucket=name)
    return name


def _template(rid: str = RID) -> dict:
    """A portable packaged template referencing two code objects of release `rid`."""
    code = f"releases/{rid}/code"
    return {"Transform": "AWS::Serverless-2016-10-31", "Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": f"s3://{BUCKET_MARKER}/{code}/9f1c"}},
        "Layer": {"Type": "AWS::Lambda::LayerVersion",
                  "Properties": {"Content": {"S3Bucket": BUCKET_MARKER, "S3Key": f"{code}/77ab"}}}}}


def _files(rid: str = RID, parameters: dict | None = None, frontend: bytes | None = b"PK static site") -> dict:
    files = {release.TEMPLATE: json.dumps(_template(rid)).encode(),
             release.PARAMETERS: json.dumps(parameters or {"dev": {"Stage": "dev"}}).encode()}
    return {**files, release.FRONTEND: frontend} if frontend is not None else files


def _packaged(s3, bucket: str, rid: str = RID) -> dict:
    """What `sam package --s3-prefix releases/<id>/code` uploaded, and the release's files."""
    for name, data in CODE.items():
        s3.put_object(Bucket=bucket, Key=f"releases/{rid}/{name}", Body=data)
    return _files(rid)


def _body(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _calls(client) -> list[tuple[str, dict]]:
    """Every operation the client sends from now on, with its parameters (botocore's own event)."""
    seen: list[tuple[str, dict]] = []
    client.meta.events.register("provide-client-params.s3", lambda params, model, **_: seen.append((model.name,
                                                                                                   dict(params))))
    return seen


def test_release_id_is_the_full_sha_and_refuses_short_or_malformed_ones():
    assert release.release_id(f" {RID.upper()}\n") == RID
    with pytest.raises(ReleaseError, match=r"^release id 0123456 is a short commit SHA; pass the full 40-hex "
                                           r"`git rev-parse HEAD`$"):
        release.release_id("0123456")
    with pytest.raises(ReleaseError, match=r"^release id 'v1.2' is not a commit SHA; pass the full 40-hex"):
        release.release_id("v1.2")


def test_store_writes_the_release_once_and_storing_it_again_changes_nothing(s3, bucket):
    files = _packaged(s3, bucket)
    found = release.store(s3, bucket, RID.upper(), ["v1.0", "v1.0", "latest-green"], files, NOW)
    assert (found.release_id, found.commit, found.tags, found.created) == (RID, RID, ("v1.0", "latest-green"),
                                                                          "2026-12-02T03:04:05Z")
    expected = {**{n: files[n] for n in (release.TEMPLATE, release.PARAMETERS, release.FRONTEND)}, **CODE}
    assert [(o.name, o.key, o.sha256, o.size) for o in found.objects] == [
        (name, f"releases/{RID}/{name}", _sha(data), len(data)) for name, data in expected.items()]
    for name, data in files.items():
        assert _body(s3, bucket, f"releases/{RID}/{name}") == data
    key = f"releases/{RID}/manifest.json"
    assert _body(s3, bucket, key) == found.to_bytes()
    assert release.Manifest.from_bytes(found.to_bytes(), "here") == found
    assert release.manifest(s3, bucket, RID) == found

    calls = _calls(s3)
    again = release.store(s3, bucket, RID, ["v1.0"], files, datetime(2027, 1, 1, tzinfo=UTC))
    assert again == found and again.created == "2026-12-02T03:04:05Z"
    assert [(op, p["Key"]) for op, p in calls if op == "PutObject"] == [("PutObject", "releases/tags/v1.0.json")]
    assert all(p.get("IfNoneMatch") == "*" for op, p in calls if op == "PutObject")  # a tag, written once at most

    changed = {**files, release.PARAMETERS: b'{"dev": {"Stage": "other"}}'}
    with pytest.raises(ReleaseError, match=rf"^release {RID} exists in s3://{bucket} with other contents: a release "
                                           "is immutable; package a new commit$"):
        release.store(s3, bucket, RID, [], changed, NOW)
    with pytest.raises(ReleaseError, match="with other contents"):
        release.store(s3, bucket, RID, [], {k: v for k, v in files.items() if k != release.FRONTEND}, NOW)
    assert _body(s3, bucket, f"releases/{RID}/parameters.json") == files[release.PARAMETERS]
    assert _body(s3, bucket, key) == found.to_bytes()


def test_a_release_without_frontend_is_stored_and_asking_for_one_says_so(s3, bucket):
    found = release.store(s3, bucket, RID, [], {**_packaged(s3, bucket)} | {release.FRONTEND: b""}, NOW)
    assert found.has(release.FRONTEND) and found.object(release.FRONTEND).size == 0
    for name, data in CODE.items():
        s3.put_object(Bucket=bucket, Key=f"releases/{OTHER}/{name}", Body=data)
    bare = release.store(s3, bucket, OTHER, [], _files(OTHER, frontend=None), NOW)
    assert not bare.has(release.FRONTEND) and [o.name for o in bare.objects][:2] == [release.TEMPLATE,
                                                                                     release.PARAMETERS]
    with pytest.raises(ReleaseError, match=rf"^release {OTHER} has no frontend.zip; package a commit that has it$"):
        release.fetch(s3, bucket, bare, [release.FRONTEND])


def test_tags_resolve_to_their_release_and_never_move(s3, bucket):
    release.store(s3, bucket, RID, ["v1.0"], _packaged(s3, bucket), NOW)
    assert release.resolve(s3, bucket, "v1.0") == RID
    assert release.resolve(s3, bucket, RID.upper()) == RID
    assert json.loads(_body(s3, bucket, "releases/tags/v1.0.json")) == {"release": RID}
    assert release.manifest(s3, bucket, "v1.0").release_id == RID
    with pytest.raises(ReleaseError, match=rf"^tag v1.0 already names release {RID} in s3://{bucket}; a tag never "
                                           "moves to another release: choose a new tag$"):
        release.store(s3, bucket, OTHER, ["v1.0"], _packaged(s3, bucket, OTHER), NOW)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"releases/{OTHER}/manifest")["KeyCount"] == 0
    assert json.loads(_body(s3, bucket, "releases/tags/v1.0.json")) == {"release": RID}
    with pytest.raises(ReleaseNotFound, match=rf"^no release or tag v9 in s3://{bucket}; package it \(`bayon "
                                              r"package --env ENV`\) or promote it there"):
        release.resolve(s3, bucket, "v9")
    with pytest.raises(ReleaseNotFound, match=r"^no release or tag 0123456 \(a short SHA\? pass the full 40-hex "):
        release.resolve(s3, bucket, "0123456")
    with pytest.raises(ReleaseNotFound, match=rf"^no release {OTHER} in s3://{bucket}; package it"):
        release.resolve(s3, bucket, OTHER)
    with pytest.raises(ReleaseNotFound, match=rf"^no release {OTHER} in"):
        release.manifest(s3, bucket, OTHER)
    with pytest.raises(ReleaseError, match=r"^tag '../up' is not a valid release tag; use letters"):
        release.resolve(s3, bucket, "../up")
    with pytest.raises(ReleaseError, match=r"^tag '0123456789abcdef0123456789abcdef01234567' is not a valid"):
        release.store(s3, bucket, OTHER, [RID], _files(OTHER), NOW)
    s3.put_object(Bucket=bucket, Key="releases/tags/broken.json", Body=b'{"release": "abc"}')
    with pytest.raises(ReleaseError, match=rf"^s3://{bucket}/releases/tags/broken.json is not a release tag "):
        release.resolve(s3, bucket, "broken")


def test_an_object_changed_behind_the_manifest_is_caught_by_fetch_and_verify(s3, bucket):
    files = _packaged(s3, bucket)
    found = release.store(s3, bucket, RID, [], files, NOW)
    release.verify(s3, bucket, found)
    assert release.fetch(s3, bucket, found, [release.TEMPLATE, release.FRONTEND]) == {
        release.TEMPLATE: files[release.TEMPLATE], release.FRONTEND: files[release.FRONTEND]}
    key = f"releases/{RID}/frontend.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=b"PK tampered")
    message = (rf"^s3://{bucket}/{key} does not match its release manifest \(sha256 "
               rf"{_sha(files[release.FRONTEND])[:12]} expected, {_sha(b'PK tampered')[:12]} found\): it changed "
               "after packaging; restore the object, or package a new commit \\(a release is never re-uploaded\\)$")
    with pytest.raises(ChecksumMismatch, match=message) as caught:
        release.fetch(s3, bucket, found, [release.FRONTEND])
    assert (caught.value.key, caught.value.expected, caught.value.actual) == (
        key, _sha(files[release.FRONTEND]), _sha(b"PK tampered"))
    with pytest.raises(ChecksumMismatch, match=message):
        release.verify(s3, bucket, found)
    s3.put_object(Bucket=bucket, Key=key, Body=files[release.FRONTEND])  # restored
    code = f"releases/{RID}/code/9f1c"
    s3.put_object(Bucket=bucket, Key=code, Body=CODE["code/9f1c"] + b"!")
    assert release.fetch(s3, bucket, found, [release.TEMPLATE]) == {release.TEMPLATE: files[release.TEMPLATE]}
    with pytest.raises(ChecksumMismatch, match=rf"^s3://{bucket}/{code} does not match"):
        release.verify(s3, bucket, found)
    s3.delete_object(Bucket=bucket, Key=code)
    with pytest.raises(ReleaseError, match=rf"^s3://{bucket}/{code} is missing; restore it, or package a new commit"):
        release.verify(s3, bucket, found)
    assert _body(s3, bucket, key) == files[release.FRONTEND]  # never re-uploaded by a read


def test_a_manifest_or_tag_that_is_not_valid_is_an_error_naming_its_key(s3, bucket):
    key = f"releases/{RID}/manifest.json"
    for body, detail in ((b"{not json", r"document: Invalid JSON"),
                         (json.dumps({"release_id": RID}).encode(), r"commit: Field required"),
                         (release.Manifest(RID, RID, (), "2026-12-02T03:04:05Z", (release.StoredObject(
                             "template.json", f"releases/{OTHER}/template.json", "0" * 64, 1),)).to_bytes(),
                          r"object keys are not releases/")):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        with pytest.raises(ReleaseError, match=rf"^s3://{bucket}/{key} is not a valid release manifest \({detail}"):
            release.manifest(s3, bucket, RID)
    other = release.Manifest(OTHER, OTHER, (), "2026-12-02T03:04:05Z", ())
    s3.put_object(Bucket=bucket, Key=key, Body=other.to_bytes())
    with pytest.raises(ReleaseError, match=rf"^s3://{bucket}/{key} is the manifest of release {OTHER}, not {RID}"):
        release.manifest(s3, bucket, RID)
    with pytest.raises(ReleaseError, match=r"^here is not a valid release manifest \(objects.0.size: Input should "):
        release.Manifest.from_bytes(json.dumps({**json.loads(other.to_bytes()), "objects": [
            {"name": "a", "key": f"releases/{OTHER}/a", "sha256": "0" * 64, "size": "1"}]}).encode(), "here")


def test_store_refuses_what_is_not_a_release_before_writing_anything(s3, bucket):
    files = _packaged(s3, bucket)
    bound = json.dumps(release.bound(_template(), bucket)).encode()
    stray = json.dumps(_template(OTHER)).encode()
    for given, message in (({**files, release.TEMPLATE: bound}, rf"^template.json still names bucket {bucket}; "
                                                                r"store portable\(template, bucket\)$"),
                           ({**files, release.TEMPLATE: stray}, rf"^template.json references releases/{OTHER}/code/"
                            rf"77ab, outside releases/{RID}/code/; package with `sam package --s3-prefix "
                            rf"releases/{RID}/code`$"),
                           ({**files, release.TEMPLATE: b"Resources: {}"}, r"^template.json is not JSON \("),
                           ({**files, release.PARAMETERS: b"[]"}, r"^parameters.json is not a JSON object"),
                           ({release.TEMPLATE: files[release.TEMPLATE]}, r"^a release is template.json, "
                            r"parameters.json, frontend.zip \(the last optional\), not template.json$"),
                           ({**files, "site.zip": b""}, r"^a release is .*, not frontend.zip, parameters.json, "
                            r"site.zip, template.json$")):
        with pytest.raises(ReleaseError, match=message):
            release.store(s3, bucket, RID, [], given, NOW)
    s3.delete_object(Bucket=bucket, Key=f"releases/{RID}/code/77ab")
    with pytest.raises(ReleaseError, match=rf"^s3://{bucket}/releases/{RID}/code/77ab is missing; run `sam package "
                                           rf"--s3-prefix releases/{RID}/code` into s3://{bucket} first$"):
        release.store(s3, bucket, RID, ["v1"], files, NOW)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"releases/{RID}/code/9f1c"]
    with pytest.raises(ReleaseError, match=r"^bucket rel-nowhere does not exist; create it, or fix the environment's "
                                           r"artifacts_bucket$"):
        release.store(s3, "rel-nowhere", RID, [], files, NOW)


def test_promote_copies_through_two_clients_verifies_and_writes_the_same_manifest(moto_url, s3, bucket):
    dst_s3 = moto_client(moto_url, "s3")
    dst = f"{bucket}-prod"
    dst_s3.create_bucket(Bucket=dst)
    files = _packaged(s3, bucket)
    found = release.store(s3, bucket, RID, ["v1.0"], files, NOW)
    source_calls, target_calls = _calls(s3), _calls(dst_s3)
    assert release.promote(s3, bucket, dst_s3, dst, "v1.0") == (found, True)
    assert {p["Bucket"] for _, p in source_calls} == {bucket} and {p["Bucket"] for _, p in target_calls} == {dst}
    assert {op for op, _ in source_calls} == {"GetObject"}  # the source is only read
    assert "CopyObject" not in {op for op, _ in target_calls}
    manifest_key = f"releases/{RID}/manifest.json"
    assert _body(dst_s3, dst, manifest_key) == _body(s3, bucket, manifest_key)
    assert [p["IfNoneMatch"] for op, p in target_calls if op == "PutObject" and p["Key"] == manifest_key] == ["*"]
    for stored in found.objects:
        assert _body(dst_s3, dst, stored.key) == _body(s3, bucket, stored.key)
    assert release.resolve(dst_s3, dst, "v1.0") == RID

    target_calls.clear()
    assert release.promote(s3, bucket, dst_s3, dst, RID) == (found, False)  # already there: verified, not copied
    puts = [p for op, p in target_calls if op == "PutObject"]
    assert [(p["Key"], p["IfNoneMatch"]) for p in puts] == [("releases/tags/v1.0.json", "*")]
    assert sum(op == "GetObject" for op, _ in target_calls) >= len(found.objects)

    code = f"releases/{RID}/code/77ab"
    dst_s3.put_object(Bucket=dst, Key=code, Body=b"swapped")
    with pytest.raises(ChecksumMismatch, match=rf"^s3://{dst}/{code} does not match"):
        release.promote(s3, bucket, dst_s3, dst, RID)


def test_promote_never_spreads_a_damaged_or_different_release(moto_url, s3, bucket):
    dst_s3 = moto_client(moto_url, "s3")
    dst = f"{bucket}-prod"
    dst_s3.create_bucket(Bucket=dst)
    found = release.store(s3, bucket, RID, [], _packaged(s3, bucket), NOW)
    site = f"releases/{RID}/frontend.zip"

    def garbled(params, **_):  # what reaches the destination is not what was sent
        params["Body"] = b"garbled" if params["Key"] == site else params["Body"]

    dst_s3.meta.events.register("provide-client-params.s3.PutObject", garbled)
    with pytest.raises(ChecksumMismatch, match=rf"^s3://{dst}/{site} does not match .*{_sha(b'garbled')[:12]} found"):
        release.promote(s3, bucket, dst_s3, dst, RID)
    dst_s3.meta.events.unregister("provide-client-params.s3.PutObject", garbled)
    assert dst_s3.list_objects_v2(Bucket=dst, Prefix=f"releases/{RID}/manifest")["KeyCount"] == 0
    template = f"releases/{RID}/template.json"
    s3.put_object(Bucket=bucket, Key=template, Body=b"{}")
    with pytest.raises(ChecksumMismatch, match=rf"^s3://{bucket}/{template} does not match"):
        release.promote(s3, bucket, dst_s3, dst, RID)
    assert dst_s3.list_objects_v2(Bucket=dst, Prefix=f"releases/{RID}/manifest")["KeyCount"] == 0
    with pytest.raises(ReleaseNotFound, match=rf"^no release {OTHER} in s3://{bucket}"):
        release.promote(s3, bucket, dst_s3, dst, OTHER)
    dst_s3.put_object(Bucket=dst, Key=f"releases/{RID}/manifest.json",
                      Body=release.Manifest(RID, RID, ("x",), found.created, ()).to_bytes())
    with pytest.raises(ReleaseError, match=rf"^release {RID} in s3://{dst} differs from the one in s3://{bucket}: a "
                                           "release is immutable"):
        release.promote(s3, bucket, dst_s3, dst, RID)


def test_a_store_racing_another_keeps_the_manifest_written_first(moto_url, s3, bucket):
    files = _packaged(s3, bucket)
    objects = tuple(release.StoredObject(name, f"releases/{RID}/{name}", _sha(data), len(data))
                    for name, data in {**files, **CODE}.items())
    racer, key = moto_client(moto_url, "s3"), f"releases/{RID}/manifest.json"
    for params, outcome in (({"dev": {"Stage": "dev"}}, "same"), ({"dev": {"Stage": "racer"}}, "other")):
        s3.delete_object(Bucket=bucket, Key=key)
        theirs = release.Manifest(RID, RID, (), "2026-01-01T00:00:00Z", objects).to_bytes()

        def first(params, model, theirs=theirs, **_):  # the other packager writes just before our manifest
            if model.name == "PutObject" and params["Key"] == key and not racer.list_objects_v2(
                    Bucket=bucket, Prefix=key)["KeyCount"]:
                racer.put_object(Bucket=bucket, Key=key, Body=theirs)

        s3.meta.events.register("provide-client-params.s3.PutObject", first)
        try:
            if outcome == "same":
                assert release.store(s3, bucket, RID, [], files, NOW).created == "2026-01-01T00:00:00Z"
            else:
                with pytest.raises(ReleaseError, match="exists in .* with other contents: a release is immutable"):
                    release.store(s3, bucket, RID, [], _files(parameters=params), NOW)
        finally:
            s3.meta.events.unregister("provide-client-params.s3.PutObject", first)
        assert _body(s3, bucket, key) == theirs
