"""Which Node majors an app runs on when pipeline.yaml does not say: the app's own version files, else the LTS majors.

In order: `.nvmrc`, `.node-version`, `.tool-versions` (`nodejs X`) name one major; package.json `engines.node` admits
the supported majors (released, not end-of-life) its range allows; with none of them, the LTS majors of the day
(`node_releases`). The matrix (`tests.node_versions`) is that list; `node`, for the single-version steps, its first
(oldest) major. What pipeline.yaml sets stays as it is. Pure: the runner reads the files and passes their text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date

from .loader import ConfigError
from .model import MAX_NODE, MIN_NODE, Config
from .node_releases import CODENAMES, lts, supported

VERSION_FILES = (".nvmrc", ".node-version", ".tool-versions")
APP_FILES = (*VERSION_FILES, "package.json")
"""The app files the choice reads, relative to the app."""

SET_IN_PIPELINE = "or set tests.node_versions and node in pipeline.yaml"
PARTIAL = r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][0-9A-Za-z.-]*)?"
COMPARATOR = re.compile(rf"(<=|>=|<|>|=|~>|~|\^)?{PARTIAL}")


def with_app_node(config: Config, files: Mapping[str, str | None], today: date) -> Config:
    """The config with `node` and `tests.node_versions` chosen from the app where pipeline.yaml left them out."""
    node_set, matrix_set = "node" in config.model_fields_set, "node_versions" in config.tests.model_fields_set
    if node_set and matrix_set:
        return config
    majors = choose(files, today)
    update: dict = {} if node_set else {"node": majors[0]}
    if not matrix_set:
        update["tests"] = config.tests.model_copy(update={"node_versions": majors})
    return config.model_copy(update=update)


def choose(files: Mapping[str, str | None], today: date) -> list[int]:
    """The Node majors the app declares (oldest first), else the LTS majors on `today`; ConfigError on a file the
    choice cannot read, or a range that admits no supported major."""
    for name in VERSION_FILES:
        text = files.get(name)
        found = None if text is None else _version_file(name, text, today)
        if found is not None:
            return [found]
    package_json = files.get("package.json")
    spec = _engines_node(package_json)
    if spec is None:
        return lts(today)
    line = _line_of_engines(package_json or "")
    live = supported(today)
    answers = {major: admits(spec, major) for major in live}
    admitted = [major for major, yes in answers.items() if yes]
    if None in answers.values():
        raise ConfigError("package.json", line, f"engines.node {spec!r} is not a version range the pipeline reads; "
                                                f"write one such as '>=22', {SET_IN_PIPELINE}")
    if not admitted:
        raise ConfigError("package.json", line, f"engines.node {spec!r} admits none of the supported Node majors "
                                                f"({', '.join(map(str, live))}); widen it, {SET_IN_PIPELINE}")
    return admitted


def _version_file(name: str, text: str, today: date) -> int | None:
    """The major a version file names (None: it names none, e.g. a .tool-versions without nodejs)."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if name == ".tool-versions":
            words = line.split()
            if len(words) < 2 or words[0] not in ("nodejs", "node"):
                continue
            line = words[1]
        if not line:
            continue
        major = _major(line, today)
        if major is None:
            raise ConfigError(name, number, f"{name} names Node {line!r}, which the pipeline cannot read as a major; "
                                            f"write a major such as 22, {SET_IN_PIPELINE}")
        if not MIN_NODE <= major <= MAX_NODE:
            raise ConfigError(name, number, f"{name} names Node {major}; the pipeline runs Node {MIN_NODE} to "
                                            f"{MAX_NODE}: update {name}, {SET_IN_PIPELINE}")
        return major
    return None


def _major(version: str, today: date) -> int | None:
    """`22`, `v22.11.0`, `22.x`, `lts/*`, `lts/jod`, `node` (the newest supported major) as a major, or None."""
    match = re.fullmatch(PARTIAL, version)
    if match and match.group(1).isdigit():
        return int(match.group(1))
    word = version.lower()
    if word in ("lts", "lts/*"):
        return lts(today)[-1]
    if word.startswith("lts/"):
        return CODENAMES.get(word[4:])
    return supported(today)[-1] if word in ("node", "stable", "latest", "current") else None


def admits(spec: str, major: int) -> bool | None:
    """Whether a semver range (npm's syntax: `>=20.9.0`, `^22 || ^24`, `20 - 24`, `22.x`) admits some version of
    `major`; None when the range cannot be read."""
    answers = [_range_admits(part.strip(), major) for part in spec.split("||")]
    return None if None in answers else any(answers)


def _range_admits(text: str, major: int) -> bool | None:
    hyphen = re.fullmatch(rf"({PARTIAL})\s+-\s+({PARTIAL})", text)
    if hyphen:
        return _range_admits(f">={hyphen.group(1)} <={hyphen.group(5)}", major)
    tokens = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text).split()
    answers = [_comparator_admits(token, major) for token in tokens]
    return None if None in answers else all(answers)


def _comparator_admits(token: str, major: int) -> bool | None:
    match = COMPARATOR.fullmatch(token)
    if not match:
        return None
    op, x, rest = match.group(1) or "=", match.group(2), (match.group(3), match.group(4))
    if not x.isdigit():
        return True  # `*`, `x`: any version
    bound = int(x)
    if op in ("=", "~", "~>", "^"):
        return major == bound
    if op == ">=":
        return major >= bound
    if op == "<=":
        return major <= bound
    below_major = all(part is None or not part.isdigit() or int(part) == 0 for part in rest)
    if op == ">":
        return major > bound if rest[0] is None or not rest[0].isdigit() else major >= bound
    return major < bound if below_major else major <= bound  # `<`


def _engines_node(package_json: str | None) -> str | None:
    try:
        engines = json.loads(package_json or "{}").get("engines")
    except (ValueError, AttributeError):
        return None
    spec = engines.get("node") if isinstance(engines, dict) else None
    return spec if isinstance(spec, str) and spec.strip() else None


def _line_of_engines(text: str) -> int:
    """The line of `"node"` inside `"engines"` in package.json (1 when it cannot be found)."""
    match = re.search(r'"engines"\s*:\s*\{[^}]*?"node"', text)
    return text.count("\n", 0, match.end()) + 1 if match else 1
