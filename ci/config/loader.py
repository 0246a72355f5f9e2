"""Reads `pipeline.yaml` into a `Config`; a problem is one `ConfigError`, `FILE:LINE: what is wrong; how to fix it`.

The YAML is composed, not loaded, so every value keeps its node: its line and how it was written. The nodes become
plain data as YAML 1.2 reads them (only true/false are booleans; dates stay text, for the model to parse) and the
model validates that. The first problem in the file becomes the message: pydantic's error type and location say what
is wrong where, and the JSON Schema of the field there (type, bounds, choices, examples) how to write it instead.
Node majors are also checked against the app's package.json `engines.node`.
"""

import difflib
import functools
import json
import re
from collections.abc import Collection
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from .model import Config

Loc = tuple[str | int, ...]  # a value's location: keys and list indices, as in pydantic's error `loc`


class ConfigError(Exception):
    """A problem in pipeline.yaml; `str()` is the one-line `FILE:LINE: what is wrong; how to fix it`."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line


def load_config(text: str | None, *, filename: str = "pipeline.yaml", package_json: str | None = None) -> Config:
    """The validated config from the file's text (None or empty: the defaults); raises `ConfigError`.

    `package_json` (the app's package.json text) lets Node majors written in the file be checked against the lower
    bound of its `engines.node`.
    """
    try:
        root = yaml.compose(text or "", Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = min(mark.line + 1, len((text or "").splitlines()))  # an error at the end is on the last line
        message = f"YAML syntax error: {e.problem}; fix the indentation or quoting there"
        raise ConfigError(filename, line, message) from None
    except ReaderError as e:
        line = (text or "").count("\n", 0, e.position) + 1
        raise ConfigError(filename, line, f"YAML syntax error: {e.reason}; remove that character") from None
    document = _Document(filename)
    data = None if root is None else document.data(root, ())
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        raise document.first(e.errors()) from None
    document.check_engines(config, package_json)
    return config


def key_line(text: str | None, loc: Loc) -> int:
    """The line of the value at `loc` in a valid file's text (1 when the file does not set it)."""
    root = yaml.compose(text or "", Loader=yaml.SafeLoader)
    document = _Document("")
    if root is not None:
        document.data(root, ())
    node = document.values.get(loc)
    return node.start_mark.line + 1 if node is not None else 1


class _Document:
    """The composed file: its nodes as plain data, each value's and key's node by location, and errors worded."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.values: dict[Loc, Node] = {}
        self.keys: dict[Loc, Node] = {}

    def fail(self, node: Node, message: str) -> ConfigError:
        return ConfigError(self.filename, node.start_mark.line + 1, message)

    def data(self, node: Node, loc: Loc) -> Any:
        """The plain value of `node` at `loc`, refusing complex and duplicate keys."""
        self.values[loc] = node
        if isinstance(node, SequenceNode):
            return [self.data(item, (*loc, i)) for i, item in enumerate(node.value)]
        if not isinstance(node, MappingNode):
            return _scalar(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, f"a key in {_path(loc) or 'the file'} must be a name, got {_got(key_node)}; "
                                          "write name: value")
            key = key_node.value
            if key in mapping:
                raise self.fail(key_node, f"duplicate key {_path((*loc, key))!r}; keep one")
            self.keys[(*loc, key)] = key_node
            mapping[key] = self.data(value_node, (*loc, key))
        return mapping

    def first(self, errors: list[ErrorDetails]) -> ConfigError:
        """The problem to report: the first in the file, a missing key after the others (pydantic lists unknown keys
        last, but a misspelt `expire:` is better reported as itself than as `expires` missing)."""
        ranked = [(error["type"] == "missing", self.error(error)) for error in errors]
        return min(ranked, key=lambda problem: (problem[0], problem[1].line))[1]

    def error(self, error: ErrorDetails) -> ConfigError:
        """The one-line message of a pydantic error, at the line of the value (or key) it is about."""
        kind, loc, path = error["type"], error["loc"], _path(error["loc"])
        if kind == "extra_forbidden":
            parent, key = _schema_at(loc[:-1])[0], loc[-1]
            guess = _suggest(str(key), parent["properties"])
            fix = f"did you mean {guess!r}?" if guess else "remove it or fix its name"
            where = f"in {_path(loc[:-1])}" if loc[:-1] else "at top level"
            return self.fail(self.keys[loc], f"unknown key {key!r} {where}; {fix} {_allowed(parent)}")
        if kind == "missing":
            _, sample = _schema_at(loc)
            return self.fail(self.values[loc[:-1]], f"missing required key {loc[-1]!r} in {_path(loc[:-1])}; "
                                                    f"add {loc[-1]}: {sample}")
        if kind == "secret_name":
            name = error["ctx"]["name"]
            return self.fail(self.keys[(*loc, name)], f"{_path((*loc, name))} looks like a secret; pipeline.yaml holds "
                             "plain values only: pass secrets as secret arguments (--npm-token env://NAME), or rename "
                             "the variable if its value is none")
        if loc and loc[-1] == "[key]":  # a mapping key that does not match its pattern
            _, sample = _schema_at(loc[:-2])
            return self.fail(self.keys[loc[:-1]], f"name {loc[-2]!r} in {_path(loc[:-2])} must match "
                             f"{error['ctx']['pattern']}; use a name such as {next(iter(sample))!r}")
        if kind == "unknown_environment":  # a rule across sections: the validator says where
            at = tuple(error["ctx"]["at"])
            return self.fail(self._node(at), f"{_path(at)}: {error['msg']}")
        if kind in WHOLE_ENTRY_ERRORS:  # a rule across an entry's keys: its message says which keys to keep
            return self.fail(self._node(loc), f"{path}: {error['msg']}")
        schema, sample = _schema_at(loc)
        node = self._node(loc)
        if kind == "model_type" and not loc:
            return self.fail(node, f"the file must be a mapping of sections (version, quality, ...); got {_got(node)}")
        if kind == "model_type":
            return self.fail(node, f"{path} must be a mapping, got {_got(node)}; indent its keys under it "
                                   f"{_allowed(schema)}")
        if kind == "dict_type":
            return self.fail(node, f"{path} must be a mapping of names to values, got {_got(node)}; "
                                   "write name: value lines")
        if kind == "list_type":
            return self.fail(node, f"{path} must be a list, got {_got(node)}; write it as [item, ...] or as '- item' "
                                   "lines")
        if kind == "too_short":
            return self.fail(node, f"{path} must not be empty; list at least one item, such as {json.dumps(sample)}")
        if kind == "too_long":
            return self.fail(node, f"{path} lists {len(error['input'])} items, at most {error['ctx']['max_length']} "
                                   "are allowed; remove some")
        if kind == "unique":
            return self.fail(self.values[(*loc, error["ctx"]["index"])],
                             f"{path} lists {_show(error['ctx']['item'])} twice; keep one")
        # a scalar of the wrong type, out of range, not matching, not one of the choices, not a date, ...
        expected, fix = _expected(schema, error["input"], sample, path)
        return self.fail(node, f"{path} must be {expected}, got {_got(node)}; {fix}")

    def _node(self, loc: Loc) -> Node:
        """The node of the value at `loc`, or of the nearest value holding it (a key a validator added, such as the
        `path` of a URL written as its path alone)."""
        while loc not in self.values and loc:
            loc = loc[:-1]
        return self.values[loc]

    def check_engines(self, config: Config, package_json: str | None) -> None:
        """Node majors written in the file must not be below the app's `engines.node` lower bound."""
        spec, minimum = _engines_node(package_json)
        if minimum is None:
            return
        majors: dict[Loc, int] = {("node",): config.node}
        majors.update((("tests", "node_versions", i), v) for i, v in enumerate(config.tests.node_versions))
        for loc, major in majors.items():
            if loc in self.values and major < minimum:
                raise self.fail(self.values[loc], f"{_path(loc)} is Node {major}, below the app's engines.node "
                                f"{spec!r} in package.json; use {minimum} or later, or lower engines.node")


def _engines_node(package_json: str | None) -> tuple[str, int | None]:
    """package.json's `engines.node` and the major of its lower bound (`>=20.9.0`, `^20`, `20.x`), if it has one."""
    try:
        spec = json.loads(package_json or "{}").get("engines", {}).get("node")
    except (ValueError, AttributeError):
        return "", None
    match = re.match(r"\s*(?:>=?|\^|~|=)?\s*v?(\d+)", spec) if isinstance(spec, str) else None
    return (spec, int(match.group(1))) if match else ("", None)


_YAML_BOOLS = {"true", "false", "True", "False", "TRUE", "FALSE"}  # YAML 1.2's: yes/no/on/off are text
_CONSTRUCTOR = SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
}


def _scalar(node: Node) -> Any:
    """A scalar node's value: null, a number, true/false, or text (dates and yes/no included)."""
    construct = _SCALARS.get(node.tag)
    if construct is None or (node.tag == "tag:yaml.org,2002:bool" and node.value not in _YAML_BOOLS):
        return node.value
    return construct(node)


@functools.cache
def _schema() -> dict[str, Any]:
    """The model's JSON Schema, which words the messages (made on the first error only)."""
    return Config.model_json_schema()


def _schema_at(loc: Loc) -> tuple[dict[str, Any], Any]:
    """The schema of the value at `loc` ($refs and `| None` resolved) and a value to show in hints: the field's
    `_sample`, for a list item the first item of its list's, for a mapping value the first value of its mapping's."""
    schema, sample = _resolved(_schema()), None
    for step in loc:
        if isinstance(step, int):
            schema, sample = schema["items"], sample[0] if sample else None
        elif "properties" in schema:
            schema = schema["properties"][step]
            sample = _sample(schema)
        else:
            schema, sample = next(iter(schema["patternProperties"].values())), next(iter(sample.values()), None)
        schema = _resolved(schema)
    return schema, sample


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` merged in, and `X | None` read as X."""
    if "$ref" in schema:
        schema = {**_schema()["$defs"][schema["$ref"].rsplit("/", 1)[1]], **schema}
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if not options:
        return schema
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    return _resolved({**merged, **options[0]})


def _sample(field: dict[str, Any]) -> Any:
    """A field's first example, else its default, else its description as a placeholder (`<why ... accepted>`)."""
    if "examples" in field:
        return field["examples"][0]
    if "default" in field:
        return field["default"]
    doc = field["description"].rstrip(".")
    return f"<{doc[0].lower()}{doc[1:]}>"


WHOLE_ENTRY_ERRORS = frozenset({"smoke_kind", "trigger_kind", "approvals_apart"})
"""Errors a model validator raises about an entry as a whole (`SmokeCheck`), reported with the validator's text."""


def _allowed(schema: dict[str, Any]) -> str:
    return f"(allowed: {', '.join(sorted(schema['properties']))})"


def _expected(schema: dict[str, Any], value: Any, sample: Any, path: str) -> tuple[str, str]:
    """What a valid scalar is, as in 'X must be <this>', and how to fix `value`."""
    if "const" in schema:
        return _show(schema["const"]), f"this Bayon Pipeline reads {path} {_show(schema['const'])}"
    if "enum" in schema:
        guess = _suggest(value, [str(c) for c in schema["enum"]]) if isinstance(value, str) else None
        return (f"one of {', '.join(map(_show, schema['enum']))}",
                f"did you mean {guess!r}?" if guess else "pick one of those")
    if schema.get("format") == "date":
        return "a date YYYY-MM-DD", "write a date such as 2026-06-30"
    if schema["type"] == "boolean":
        return "true or false", "write true or false"
    if schema["type"] == "string" and "pattern" in schema:
        return f"a string matching {schema['pattern']}", f"write a string such as {sample!r}"
    if schema["type"] == "string":
        return ("a non-empty string" if schema.get("minLength") else "a string",
                f"{'write a string' if isinstance(value, str) else 'put it in quotes'} such as {sample!r}")
    low, high = schema.get("minimum"), schema.get("maximum")
    bounds = f" from {low} to {high}" if None not in (low, high) else f" >= {low}" if low is not None else ""
    whole = schema["type"] == "integer"
    return (f"{'an integer' if whole else 'a number'}{bounds}",
            f"write {'a whole number' if whole else 'a number'} such as {_show(sample)}")


def _suggest(word: str, choices: Collection[str]) -> str | None:
    """The allowed name closest to `word`, reading camelCase and kebab-case as snake_case."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", word).replace("-", "_").lower()
    if snake in choices:
        return snake
    close = difflib.get_close_matches(snake, list(choices), n=1)
    return close[0] if close else None


def _got(node: Node) -> str:
    """A node as written, for 'got ...'."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "null"
    return repr(node.value) if node.tag == "tag:yaml.org,2002:str" else node.value


def _show(value: Any) -> str:
    """A value for a message: strings quoted, whole floats without '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _path(loc: Loc) -> str:
    """A location as messages name it: `tests.node_versions[1]`, `build.budgets.routes['/']`."""
    path = ""
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
        elif path and not re.fullmatch(r"[A-Za-z_][\w-]*", step):
            path += f"[{step!r}]"
        else:
            path = f"{path}.{step}" if path else step
    return path
