"""Inspect dagger-io's lazy selection chains offline (no engine): the plan tests assert on these.

Every dagger-io object keeps the query it stands for in `obj._ctx.selections`, a deque of
`Field(type_name, name, args, ...)` whose args still hold Dagger objects (CacheVolume, Secret, Directory, Service)
until the query is sent; the helpers below read that, recursing into such args.
"""

from __future__ import annotations

from typing import Any

from dagger.client._core import Field
from dagger.client.base import Type


def fields(obj: Type) -> list[Field]:
    """The selections of `obj`, in order (`Query.container`, `Container.from`, ...)."""
    return list(obj._ctx.selections)


async def planted_plaintext(secret: Type) -> str:
    """`Secret.plaintext` without an engine: the value `dag.set_secret(name, VALUE)` put in the chain (the faces'
    tests patch it in, so a function reads its secrets as it would in the engine)."""
    return fields(secret)[-1].args["plaintext"]


def names(obj: Type) -> list[str]:
    """The GraphQL field names of the chain, e.g. ["container", "from", "withEnvVariable", ...]."""
    return [f.name for f in fields(obj)]


def find(obj: Type, name: str, /, **args: Any) -> list[Field]:
    """The selections called `name` whose args include every given `args` item."""
    return [f for f in fields(obj) if f.name == name and all(f.args.get(k) == v for k, v in args.items())]


def index(obj: Type, name: str, /, **args: Any) -> int:
    """Position of the only selection called `name` with those args (fails if there is not exactly one)."""
    hits = [i for i, f in enumerate(fields(obj)) if f.name == name and all(f.args.get(k) == v for k, v in args.items())]
    assert len(hits) == 1, f"expected one {name}{args or ''} in {render(obj)}, found {len(hits)}"
    return hits[0]


def _arg(value: Any) -> str:
    if isinstance(value, Type):
        return f"<{type(value).__name__} {render(value)}>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_arg(v) for v in value) + "]"
    return repr(value)


def render(obj: Type) -> str:
    """The chain as pseudo-GraphQL, nested Dagger objects rendered in place: `container.from(address: 'node:22')...`."""
    parts = []
    for f in fields(obj):
        args = ", ".join(f"{k}: {_arg(v)}" for k, v in f.args.items())
        parts.append(f"{f.name}({args})" if args else f.name)
    return ".".join(parts)


def bound_service(ctr: Type, alias: str) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """Where the service bound under `alias` is bound in `ctr`, and that service's own chain as (name, args) pairs."""
    binding = index(ctr, "withServiceBinding", alias=alias)
    service = fields(ctr)[binding].args["service"]
    assert type(service).__name__ == "Service"
    return binding, [(f.name, f.args) for f in fields(service)]
