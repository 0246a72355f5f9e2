"""A CloudFormation template's text as data, its short-form tags in the long form (`ci.core.cfn_template`): what the
SAM translator and a template diff need; and where in the text each resource is declared."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
import yaml

from ci.core.cfn_template import load_yaml
from ci.core.errors import UsageError


def load(text: str | dict, what: str) -> dict:
    """A template (JSON or YAML text, or the dict boto3 already decoded) as a dict; UsageError naming `what`."""
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else load_yaml(text)
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
