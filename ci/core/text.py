"""Text helpers for reasons and messages built from a tool's output."""

from __future__ import annotations

import re
from collections.abc import Sequence

STDERR_TAIL_LINES = 12
NPM_TAIL_LINES = 15

ANSI = re.compile(r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)   # OSC up to BEL or ST: titles, hyperlinks (ESC ] 8 ; ; URL ST)
  | \x1b\[[0-?]*[\x20-/]*[@-~]          # CSI: colours, bold, cursor moves, line erasing
  | \x1b[\x20-/]+[0-~]                  # with intermediate bytes: character sets (ESC ( B, what `tput sgr0` sends)
  | \x1b[@-Z\\-_]                       # the other two-character escapes
""", re.VERBOSE)

NPM_PREFIXES = ("npm error", "npm ERR!")
"""How npm starts each line of its error block (npm 10 and later; before)."""
NPM_LOG_POINTER = "A complete log of this run can be found in"
NPM_BOOKKEEPING = re.compile(r"^(?:code|errno|syscall) \S+$|^Run \"npm help ")
"""Lines of npm's block that say nothing about the cause: the error code (the message names it), help pointers."""


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (colours, OSC hyperlinks), for reasons and finding messages."""
    return ANSI.sub("", text)


def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last non-empty lines of a tool's stderr, for a crash reason."""
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut (a service's field limits)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kebab(name: str) -> str:
    """A function or stage name as the command line spells it (`unit_tests` → `unit-tests`)."""
    return name.replace("_", "-")
def npm_errors(output: str) -> list[str]:
    """npm's own error lines from its output: the `npm error` block without its prefix, blank lines, the code lines,
    the command's usage text (`npm ci` prints it after a usage error) and the pointer to the log file, its `path`
    line last; [] when npm printed no error block."""
    block = []
    for line in strip_ansi(output).splitlines():
        prefix = next((p for p in NPM_PREFIXES if line.startswith(p)), None)
        if prefix is not None:
            block.append(line[len(prefix):].strip())
    if "Usage:" in block:  # the usage text, after the command's one-line description (a paragraph of its own)
        del block[block.index("Usage:"):]
        while block and not block[-1]:
            block.pop()
        while block and block[-1]:
            block.pop()
    kept, path_next = [], False
    for line in block:
        if path_next or line.startswith(NPM_LOG_POINTER):  # npm before 10 put the log's path on a line of its own
            path_next = not path_next and line.endswith(":")
        elif line and not NPM_BOOKKEEPING.search(line):
            kept.append(line)
    return sorted(kept, key=lambda line: line.startswith("path "))  # the message first, then the path it is about


def npm_failed(command: Sequence[str], exit_code: int | None, output: str) -> str:
    """Why an npm command (its argv) failed, for a step's reason, first line first: `npm ci` exited with code 1:
    npm's error lines (the cause; when a lifecycle script failed, then the script's last lines), else the output's
    last lines."""
    detail = npm_errors(output)
    if "command failed" in detail:  # a lifecycle script failed: its own last lines, before npm's, say why
        own = "\n".join(line for line in strip_ansi(output).splitlines() if not line.startswith(NPM_PREFIXES))
        detail += stderr_tail(own).splitlines()
    detail = detail or stderr_tail(output, NPM_TAIL_LINES).splitlines() or ["(no output)"]
    return f"`{' '.join(command[:2])}` exited with code {exit_code}: " + "\n".join(detail)


SAM_CLI = "aws-sam-cli==1.170.0"
"""The SAM CLI both SAM steps install in their images (validate-infra's, preview-changes' package step); on the host
`scripts/setup.sh` installs the same version."""
SAM_VERSION_LINE = re.compile(r"^SAM CLI, version (\S+)$", re.MULTILINE)
"""What `sam --version` prints; the steps that run the SAM CLI print it first, so their judge reports the version
that ran in either executor."""


def sam_version(output: str) -> str | None:
    """The SAM CLI version in a step's output (its `sam --version` line), or None."""
    match = SAM_VERSION_LINE.search(output)
    return match.group(1) if match else None
