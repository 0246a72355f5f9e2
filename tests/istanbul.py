"""istanbul coverage data made by hand, for the coverage merge tests."""

from __future__ import annotations


def loc(line: int, col: int = 0, end: int | None = None) -> dict:
    return {"start": {"line": line, "column": col}, "end": {"line": end or line, "column": col + 5}}


def file(path: str, s: list[int], f: list[int], b: list[list[int]], lines: list[int] | None = None) -> dict:
    """A file's coverage: statements on `lines` (default one per line), functions and branches at made-up places."""
    lines = lines or list(range(1, len(s) + 1))
    return {
        "path": path,
        "statementMap": {str(i): loc(line, i) for i, line in enumerate(lines)},
        "fnMap": {str(i): {"name": f"fn{i}", "decl": loc(50 + i), "loc": loc(50 + i, 0, 60 + i)} for i in range(len(f))},
        "branchMap": {str(i): {"loc": loc(70 + i), "type": "if", "locations": [loc(70 + i)] * len(arms)}
                      for i, arms in enumerate(b)},
        "s": {str(i): n for i, n in enumerate(s)},
        "f": {str(i): n for i, n in enumerate(f)},
        "b": {str(i): arms for i, arms in enumerate(b)},
    }
