"""A CloudFormation template's text as data, its short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) turned into
the long form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`): what the SAM translator and a template diff need."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import yaml

from ci.core.errors import UsageError


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's intrinsic function tags."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    if suffix == "Ref" or suffix == "Condition":
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(text: str | dict, what: str) -> dict:
    """A template (JSON or YAML text, or the dict boto3 already decoded) as a dict; UsageError naming `what`."""
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{what}: not a JSON or YAML template ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise UsageError(f"{what}: not a template (no mapping at the top)")
    return document


def declared_lines(text: str, logical_ids: Iterable[str]) -> dict[str, int]:
    """The line declaring each logical id in a YAML or JSON template's text (an indented `Id:` or `"Id":` key), for
    the ids it declares (a translated id such as `ListingsFunctionRole` is in no source line)."""
    found = {}
    for logical_id in logical_ids:
        match = re.search(rf'^[ \t]+"?{re.escape(logical_id)}"?[ \t]*:', text, re.MULTILINE)
        if match:
            found[logical_id] = text.count("\n", 0, match.start()) + 1
    return found
