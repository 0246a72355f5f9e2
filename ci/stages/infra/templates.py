"""Which files of an app are SAM/CloudFormation templates: those pipeline.yaml's `infra.templates` names, else every
YAML or JSON file that reads as one.

A template is recognised by its content, not its name (`template.yaml`, `stack.json`, `infra/api.yml` all occur): a
mapping with `AWSTemplateFormatVersion`, a SAM `Transform`, or `Resources` whose entries have an `AWS::`/`Custom::`
`Type`. Pure: the caller lists and reads the files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from ci.config import Config
from ci.core.cfn_template import has_sam_transform, load_yaml
from ci.core.errors import UsageError

CANDIDATE_GLOBS = ("**/*.yaml", "**/*.yml", "**/*.json", "**/*.template")
"""The files looked at when `infra.templates` is empty (the source's ignore list already leaves out installs and
`.aws-sam` build output)."""
NOT_TEMPLATES = ("package.json", "package-lock.json", "tsconfig.json", "pipeline.yaml", ".bayon/")
"""Names never read as templates (cheap to rule out, and large in the lockfile's case)."""


def parse(text: str, path: str) -> Any:
    """A template file's document (JSON or YAML with CloudFormation tags); None when it is neither."""
    try:
        return json.loads(text) if path.endswith(".json") else load_yaml(text)
    except (ValueError, yaml.YAMLError):
        return None


def is_template(document: Any) -> bool:
    """Whether a parsed document is a SAM/CloudFormation template."""
    if not isinstance(document, dict):
        return False
    if "AWSTemplateFormatVersion" in document:
        return True
    if has_sam_transform(document):
        return True
    resources = document.get("Resources")
    return isinstance(resources, dict) and bool(resources) and all(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(("AWS::", "Custom::"))
        for r in resources.values())


TEMPLATE_MARKS = re.compile(r"AWSTemplateFormatVersion|AWS::Serverless-2016-10-31|\bType:\s*[\"']?AWS::\w+::")
"""What a template says in its text, read when the file does not parse: such a file is a broken template (cfn-lint
reports its syntax error), never a file to leave out, or a gate on the others would pass without it."""


def found(path: str, text: str) -> bool:
    """Whether a candidate file is a template to check: it reads as one, or it does not parse but says it is one."""
    document = parse(text, path)
    return is_template(document) if document is not None else bool(TEMPLATE_MARKS.search(text))


def candidates(paths: list[str]) -> list[str]:
    """The listed paths worth reading when looking for templates."""
    return sorted(p for p in set(paths) if not p.endswith(NOT_TEMPLATES) and not p.startswith(".bayon/"))


def chosen(config: Config, texts: Mapping[str, str | None]) -> list[str]:
    """The templates to work on: `infra.templates` (each must exist and be a template), else every template among
    `texts` (path → text, the candidates read); UsageError naming the key and the fix otherwise."""
    if config.infra.templates:
        for index, path in enumerate(config.infra.templates):
            text = texts.get(path)
            if text is None:
                raise UsageError(f"infra.templates[{index}] names {path}, which the app does not have; fix the path "
                                 "(relative to the app) or remove it")
            if not is_template(parse(text, path)):
                raise UsageError(f"infra.templates[{index}] names {path}, which is no SAM/CloudFormation template "
                                 "(no AWSTemplateFormatVersion, SAM Transform or AWS:: Resources); fix the path")
        return list(config.infra.templates)
    return sorted(path for path, text in texts.items() if text is not None and found(path, text))
