"""The Dagger module's registration, checked offline on the real SDK objects (no engine)."""

from __future__ import annotations

import asyncio

import dagger
import pytest
from dagger.mod import cli as modcli

from ci import Ci
from ci.signature import dagger_functions


def test_the_entry_point_loads_the_main_object():
    entry = modcli.get_entry_point()
    assert (entry.group, entry.value) == ("dagger.mod", "ci:Ci")
    assert modcli.load_module() is Ci.__dagger_module__


def test_every_function_and_argument_is_documented():
    functions = dagger_functions()
    assert {"ci", "quality", "lint", "typecheck", "format_check", "lint_fix", "format_fix", "reports", "plan"} <= set(functions)
    for name, fn in functions.items():
        assert fn.doc, f"{name} has no docstring"
        for param in fn.parameters.values():
            assert param.doc, f"{name}(--{param.name}) has no Doc()"


def test_every_source_argument_pins_its_inputs():
    for name, fn in dagger_functions().items():
        source = fn.parameters["source"]
        assert source.default_path == ".", name
        assert "**/node_modules" in source.ignore and ".git" in source.ignore, name


def test_the_whole_registration_builds(monkeypatch: pytest.MonkeyPatch):
    """The SDK's own typedef registration runs without raising (bad defaults, unsupported types...)."""

    async def fake_id(self):
        return "module-id"

    monkeypatch.setattr(dagger.Module, "id", fake_id)
    assert asyncio.run(Ci.__dagger_module__._typedefs()) == "module-id"
