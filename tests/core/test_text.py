"""Text helpers: terminal escapes out of reasons and messages, and npm's own error lines out of its output (recorded
from a real `npm ci` on the sample app with its lockfile out of sync, tests/fixtures/npm)."""

from __future__ import annotations

import json

from apps import FIXTURES

from ci.core.text import npm_errors, npm_failed, strip_ansi

OUT_OF_SYNC = (FIXTURES / "npm" / "ci-out-of-sync.txt").read_text()
SYNC_ERROR = ("`npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json "
              "are in sync. Please update your lock file with `npm install` before continuing.")


def test_colours_and_hyperlinks_are_stripped():
    recorded = json.loads((FIXTURES / "build" / "next-module-not-found.json").read_text())["stderr"]
    assert "\x1b[" in recorded  # Next colours its output, FORCE_COLOR=0 or not
    assert ("./app/about/page.tsx:3:1\nError: Module not found: Can't resolve '@/lib/missing'\n"
            in strip_ansi(recorded))
    assert "\x1b" not in strip_ansi(recorded)
    osc8 = "see \x1b]8;;https://jestjs.io/docs/cli\x1b\\the docs\x1b]8;;\x1b\\ or \x1b]8;;https://x.test\x07this\x1b]8;;\x07"
    assert strip_ansi(osc8) == "see the docs or this"
    assert strip_ansi("\x1b[1m\x1b[31m●\x1b[39m\x1b[22m a › fails\x1b[0K\x1b(B") == "● a › fails"


def test_npms_error_lines_are_the_cause_without_usage_text_or_log_path():
    assert npm_errors(OUT_OF_SYNC) == [SYNC_ERROR, "Missing: left-pad@1.3.0 from lock file"]
    assert "Usage:" in OUT_OF_SYNC and "_logs" in OUT_OF_SYNC and len(OUT_OF_SYNC.splitlines()) > 90


def test_a_failed_npm_command_says_why_on_its_first_line():
    reason = npm_failed(("npm", "ci", "--prefer-offline"), 1, OUT_OF_SYNC)
    assert reason == f"`npm ci` exited with code 1: {SYNC_ERROR}\nMissing: left-pad@1.3.0 from lock file"


def test_older_npm_prefixes_and_a_log_path_on_its_own_line_are_read_too():
    output = ("npm ERR! code E404\nnpm ERR! 404 Not Found - GET <registry>/nope - Not found\nnpm ERR! 404\n"
              "npm ERR! A complete log of this run can be found in:\nnpm ERR!     ~/.npm/_logs/x-debug-0.log\n")
    assert npm_errors(output) == ["404 Not Found - GET <registry>/nope - Not found", "404"]


def test_without_an_npm_error_block_the_output_tail_is_the_reason():
    output = "\n".join(f"line {i}" for i in range(40)) + "\nsh: 1: npm: Permission denied\n"
    reason = npm_failed(("npm", "ci"), 126, output)
    assert reason.startswith("`npm ci` exited with code 126: line 26\n")
    assert reason.endswith("line 39\nsh: 1: npm: Permission denied") and len(reason.splitlines()) == 15
    assert npm_failed(("npm", "ci"), None, "") == "`npm ci` exited with code None: (no output)"


def test_a_failed_lifecycle_script_shows_npms_lines_then_the_scripts_own():
    """Recorded: `npm ci` of an app whose postinstall throws (the app's path rewritten to /app)."""
    output = (FIXTURES / "npm" / "ci-postinstall-failed.txt").read_text()
    lines = npm_failed(("npm", "ci"), 1, output).splitlines()
    assert lines[:3] == ["`npm ci` exited with code 1: command failed",
                         "command sh -c node -e \"console.log('out line'); throw new Error('boom from postinstall')\"",
                         "path /app"]
    assert "Error: boom from postinstall" in lines and lines[-1] == "Node.js v20.20.2"
    assert not [line for line in lines if "_logs" in line or line.startswith("npm error")]
