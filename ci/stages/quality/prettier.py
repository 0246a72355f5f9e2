"""Prettier: the `quality/format` step, its fixer, and the judge reading `--list-different` output.

Formatting is the app's choice: an app that does not declare Prettier is not held to it (the steps are skipped).
"""

from __future__ import annotations

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Judgement, Needs, ReportError, Step, StepRun, tool_cache

BIN = "node_modules/.bin/prettier"
CACHE = ("--cache", "--cache-strategy", "content", "--cache-location", ".bayon/cache/prettier/cache")
NEEDS = Needs("prettier", optional=True)
FIX_HINT = "not formatted with Prettier; run `bayon format-fix` or `npx prettier --write {file}`"


def parse(output: str, root: str) -> list[Finding]:
    """One finding per path Prettier lists (it has no JSON output; paths are one per line)."""
    paths = [relative(line.strip(), root) for line in output.splitlines() if line.strip()]
    return [finding("prettier/format", "error", p, None, None, FIX_HINT.format(file=p)) for p in paths]


def judge(run: StepRun) -> Judgement:
    found = parse(run.stdout, run.root)
    if run.exit_code == 1 and not found:
        raise ReportError("Prettier exited with code 1 but listed no files")
    return verdict(found)


def judge_fix(run: StepRun) -> Judgement:
    rewritten = [line.strip() for line in run.stdout.splitlines() if line.strip()]
    return Judgement("passed", (), f"rewrote {len(rewritten)} file(s)" if rewritten else "nothing to rewrite")


def step(node_major: int) -> Step:
    # Prettier exits 2 when it cannot parse a file or its config: a crash, not a finding.
    return Step(
        id="quality/format", tool="prettier", argv=(BIN, "--list-different", ".", *CACHE), node_major=node_major,
        package="prettier", judge=judge, timeout_s=300, caches=(tool_cache("prettier", node_major),), needs=NEEDS,
    )


def fix_step(node_major: int) -> Step:
    return Step(
        id="quality/format-fix", tool="prettier", argv=(BIN, "--write", "--list-different", ".", *CACHE),
        node_major=node_major, package="prettier", judge=judge_fix, ok_codes=frozenset({0, 1}), finding_codes=frozenset(),
        timeout_s=300, writes_source=True, caches=(tool_cache("prettier", node_major),), needs=NEEDS,
    )
