"""A cfn-lint rule (loaded with `--append-rules`): stateful resources must be kept when deleted or replaced.

cfn-lint's own I3011 asks for both policies on the stateful types of its `StatefulResources.json`, but skips those
whose deletion fails while they hold data (S3 buckets) and accepts any value, `Delete` included; and SAM's
`AWS::Serverless::SimpleTable` (a DynamoDB table, validated untransformed) is not on its list. This rule adds what
it misses, on the same list: a policy missing where I3011 does not look, and a policy that deletes the data.
"""

from typing import Any

import cfnlint.data.AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.jsonschema import ValidationError, Validator
from cfnlint.rules.jsonschema.CfnLintJsonSchema import CfnLintJsonSchema

KEEPING = {"DeletionPolicy": ("Retain", "RetainExceptOnCreate", "Snapshot"),
           "UpdateReplacePolicy": ("Retain", "Snapshot")}
"""The values that keep the data (Snapshot only where CloudFormation takes one: cfn-lint's E3035/E3036 check that)."""
SAM_STATEFUL = ("AWS::Serverless::SimpleTable",)


class StatefulResourcesKept(CfnLintJsonSchema):
    """Stateful resources have DeletionPolicy and UpdateReplacePolicy of Retain or Snapshot."""

    id = "W9011"
    shortdesc = "Stateful resources are kept when deleted or replaced"
    description = ("A stateful resource (table, bucket, user pool, database) needs a DeletionPolicy and an "
                   "UpdateReplacePolicy of Retain or Snapshot, else deleting or replacing it deletes its data")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html"
    tags = ["resources", "updatereplacepolicy", "deletionpolicy"]

    def __init__(self) -> None:
        super().__init__(keywords=["Resources/*"], all_matches=True)
        spec = load_resource(cfnlint.data.AdditionalSpecs, "StatefulResources.json")["ResourceTypes"]
        self.by_i3011 = {kind for kind, about in spec.items() if not about.get("DeleteRequiresEmptyResource", False)}
        self.stateful = {*spec, *SAM_STATEFUL}

    def validate(self, validator: Validator, keywords: Any, instance: Any, schema: Any):
        kind = instance.get("Type") if isinstance(instance, dict) else None
        if not isinstance(kind, str) or kind not in self.stateful:
            return
        for attribute, keeping in KEEPING.items():
            value = instance.get(attribute)
            if value is None and kind not in self.by_i3011:
                yield ValidationError(f"{kind} has no {attribute}: deleting or replacing it deletes its data; set "
                                      f"{attribute}: Retain", rule=self)
            elif value is not None and value not in keeping:
                yield ValidationError(f"{kind} has {attribute}: {value}, which deletes its data; use Retain (or "
                                      "Snapshot where the type takes one)", path=[attribute], rule=self)
