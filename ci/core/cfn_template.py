"""CloudFormation templates as data, for the stages that find and check them and the delivery code that diffs and
translates them: YAML with the short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) read in their long form
(`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`), and whether a template uses the SAM transform."""

from __future__ import annotations

from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's intrinsic function tags."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load_yaml(text: str) -> Any:
    """A YAML template's document, its tags in the long form; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Loader)


def has_sam_transform(document: dict) -> bool:
    """Whether a template declares the SAM transform (alone or among others)."""
    transform = document.get("Transform")
    return any(isinstance(t, str) and t.startswith("AWS::Serverless")
               for t in (transform if isinstance(transform, list) else [transform]))
