"""Text helpers for reasons and messages built from a tool's output."""

from __future__ import annotations

STDERR_TAIL_LINES = 12


def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last non-empty lines of a tool's stderr, for a crash reason."""
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def kebab(name: str) -> str:
    """A function or stage name as the command line spells it (`unit_tests` → `unit-tests`)."""
    return name.replace("_", "-")
