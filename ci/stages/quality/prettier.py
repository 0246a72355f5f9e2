"""Prettier: the `quality/format` step, its fixer, and the judge reading `--list-different` output.

Formatting is the app's choice: an app that does not declare Prettier is not held to it (the steps are skipped).

Prettier's `--cache` is keyed by each file's content and its resolved options (config, .editorconfig); whether a file
is formatted depends on nothing else, and every run lists the files anew (added, generated and ignored ones
included), so the cache never changes a verdict and is keyed by the dependencies only.
"""

from __future__ import annotations

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Cache, Judgement, Needs, ReportError, Step, StepRun, tool_cache

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


def _cached(node_major: int, caches: bool) -> tuple[tuple[str, ...], tuple[Cache, ...]]:
    """The cache flags and the cache volume, or neither (`--no-cache`)."""
    return (CACHE, (tool_cache("prettier", node_major),)) if caches else ((), ())


def step(node_major: int, caches: bool = True) -> Step:
    # Prettier exits 2 when it cannot parse a file or its config: a crash, not a finding.
    flags, volumes = _cached(node_major, caches)
    return Step(
        id="quality/format", tool="prettier", argv=(BIN, "--list-different", ".", *flags), node_major=node_major,
        package="prettier", judge=judge, timeout_s=300, caches=volumes, needs=NEEDS,
    )


def fix_step(node_major: int, caches: bool = True) -> Step:
    flags, volumes = _cached(node_major, caches)
    return Step(
        id="quality/format-fix", tool="prettier", argv=(BIN, "--write", "--list-different", ".", *flags),
        node_major=node_major, package="prettier", judge=judge_fix, ok_codes=frozenset({0, 1}), finding_codes=frozenset(),
        timeout_s=300, writes_source=True, caches=volumes, needs=NEEDS,
    )
