"""A packaged template, in the shapes `sam package` writes the artifacts bucket in, made portable (the bucket's name
replaced by the marker), bound back to it exactly, and bound to another environment's bucket; other strings kept."""

from __future__ import annotations

import json
import time

from ci.delivery import bucket_refs
from ci.delivery.bucket_refs import BUCKET_MARKER

RID = "0123456789abcdef0123456789abcdef01234567"


def test_a_packaged_template_is_made_portable_and_bound_to_another_bucket():
    src, rid = "coagent-artifacts-staging", RID
    packaged = {"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": f"s3://{src}/releases/{rid}/code/abc", "Environment": {"Variables": {"BUCKET": src}}}},
        "Layer": {"Type": "AWS::Lambda::LayerVersion",
                  "Properties": {"Content": {"S3Bucket": src, "S3Key": f"releases/{rid}/code/def"}}},
        "Api": {"Type": "AWS::ApiGateway::RestApi",
                "Properties": {"BodyS3Location": {"Bucket": src, "Key": f"releases/{rid}/code/api.json"}}},
        "Nested": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": f"https://s3.eu-west-1.amazonaws.com/{src}/releases/{rid}/code/n1.template"}},
        "App": {"Type": "AWS::Serverless::Application", "Properties": {
            "Location": f"https://{src}.s3.amazonaws.com/releases/{rid}/code/n2.template?versionId=3"}},
        "Untouched": {"Type": "AWS::S3::Bucket", "Properties": {
            "Sources": [f"s3://{src}-logs/x", f"https://example.com/{src}/x", {"Bucket": src}]}}}}
    marked = bucket_refs.portable(packaged, src)
    resources = marked["Resources"]
    assert resources["Fn"]["Properties"] == {"CodeUri": f"s3://{BUCKET_MARKER}/releases/{rid}/code/abc",
                                             "Environment": {"Variables": {"BUCKET": src}}}
    assert resources["Layer"]["Properties"]["Content"] == {"S3Bucket": BUCKET_MARKER,
                                                           "S3Key": f"releases/{rid}/code/def"}
    assert resources["Api"]["Properties"]["BodyS3Location"]["Bucket"] == BUCKET_MARKER
    assert resources["Nested"]["Properties"]["TemplateURL"] == (
        f"https://s3.eu-west-1.amazonaws.com/{BUCKET_MARKER}/releases/{rid}/code/n1.template")
    assert resources["App"]["Properties"]["Location"] == (
        f"https://{BUCKET_MARKER}.s3.amazonaws.com/releases/{rid}/code/n2.template?versionId=3")
    assert resources["Untouched"] == packaged["Resources"]["Untouched"]  # another bucket, another host, no Key
    assert bucket_refs.code_keys(marked) == [f"releases/{rid}/code/{name}" for name in
                                         ("abc", "api.json", "def", "n1.template", "n2.template")]
    assert bucket_refs.code_keys(packaged) == []  # not portable: no reference to the marker
    assert bucket_refs.bound(marked, src) == packaged
    prod = json.dumps(bucket_refs.bound(marked, "coagent-artifacts-prod"))
    assert BUCKET_MARKER not in prod and prod.count("coagent-artifacts-prod") == 5
    assert prod.count(src) == 4  # the variable and the three untouched strings only


def test_lookalikes_are_left_alone_and_do_not_take_long():
    src = "artifacts"
    near = ["s3://artifacts2/k", "s3://x/artifacts/k", "https://artifacts.example.com/k", "http://s3.amazonaws.com/"
            "artifacts/k", "https://s3" + "-x" * 5000 + ".example.com/artifacts/k", {"S3Bucket": "other"},
            {"Bucket": src, "Name": "k"}]
    started = time.monotonic()
    assert bucket_refs.portable({"Refs": near}, src) == {"Refs": near}
    assert time.monotonic() - started < 0.5
    assert bucket_refs.portable({"Code": {"S3Bucket": src}}, src) == {"Code": {"S3Bucket": BUCKET_MARKER}}
    assert bucket_refs.code_keys({"A": f"s3://{BUCKET_MARKER}", "B": {"S3Bucket": BUCKET_MARKER,
                                                                      "S3Key": {"Ref": "K"}}}) == []
    twice = {"A": f"s3://{BUCKET_MARKER}/k?versionId=1", "B": [f"s3://{BUCKET_MARKER}/k"]}
    assert bucket_refs.code_keys(twice) == ["k"]
