"""The lighthouse step: every configured URL path, desktop and mobile, `runs` times each, one run at a time.

One step (`performance/lighthouse`) in a Chromium image (Debian's package and Lighthouse, pinned), with the app's
production build as its service (`AppService`: `next build`, then `ci/scripts/serve-build.mjs`), or the deployed
site of `--url` and no service; `ci/scripts/lighthouse-runs.mjs` runs the CLI and writes every run's JSON and HTML.
Never cached: the env holds the run id. The judge (pure) takes each URL and form factor's median per category
(`scores`) against the thresholds, the median run's metrics against the budgets, each median against the baseline
(`scores.regressed`), and the median run's failed accessibility, best-practices and SEO audits as warnings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ci.config import Config
from ci.config.model import Lighthouse
from ci.core.findings import finding, verdict
from ci.core.report import Finding, Table
from ci.core.step import AppService, Judgement, Needs, ReportError, Step, StepRun, node_image
from ci.stages.build import nextjs
from ci.stages.performance import lhr, scores

STEP_ID = "performance/lighthouse"
VERSION = "12.8.2"
"""Lighthouse, the same in both executors: the newest that runs on Node 20 (13.x needs Node 22.19+)."""
SCRIPT = "lighthouse-runs.mjs"
SERVE = "serve-build.mjs"
BASELINE = "baseline.json"
"""The baseline file as the script copies it into the reports (absent when the app has none yet)."""
NEW_BASELINE = "lighthouse-baseline.json"
"""The baseline this run measured, among the runner's report files (`--update-baseline` writes it into the app)."""
URL_ENV = "BAYON_LIGHTHOUSE_URL"
PORT = 3000
RUN_S = 90
"""A generous bound on one Lighthouse run (about 12 s here, 20 s on a loaded machine), for the step's timeout."""
CHROMIUM_INSTALL = (("apt-get", "update", "-qq"),
                    ("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"),
                    ("npm", "install", "-g", "--no-audit", "--no-fund", f"lighthouse@{VERSION}"))
COLUMNS = ("url", "form factor", "category", "score", "spread", "baseline Δ", "threshold", "median run")


@dataclass(frozen=True)
class Page:
    """A URL path and the name its report files carry (`/` is `root`, `/blog/a` is `blog-a`)."""

    path: str
    name: str


def pages(config: Lighthouse) -> list[Page]:
    named = []
    for url in config.urls:
        name = re.sub(r"[^A-Za-z0-9._]+", "-", url.path.strip("/")).strip("-") or "root"
        while name in {p.name for p in named}:
            name += "_"
        named.append(Page(url.path, name))
    return named


def report_name(page: Page, form_factor: str, run: int) -> str:
    """What Lighthouse names a run's reports, `.json` and `.html` added: `root-mobile-2.report`."""
    return f"{page.name}-{form_factor}-{run}.report"


def every_run(config: Lighthouse) -> list[tuple[Page, str, int]]:
    """Each run the step makes, in the order it makes them: page, form factor, run number."""
    return [(page, ff, n) for page in pages(config) for ff in config.form_factors for n in range(1, config.runs + 1)]


def steps(config: Config, url: str = "") -> list[Step]:
    """The audits of the app's production build, or with `url` of that deployed site."""
    lh = config.lighthouse
    runs = every_run(lh)
    outputs = tuple(f"{report_name(*run)}.{ext}" for run in runs for ext in ("json", "html"))
    argv = ("node", f"{{tools}}/{SCRIPT}", "{reports}", lh.baseline, str(lh.runs), ",".join(lh.form_factors),
            *(f"{page.name}={page.path}" for page in pages(lh)))
    served = AppService(name="app", port=PORT, build_argv=nextjs.build_argv(config.build),
                        argv=("node", f"{{tools}}/{SERVE}", "{port}", "{host}"), url_env=URL_ENV, tools=(SERVE,))
    return [Step(
        id=STEP_ID, tool="lighthouse", argv=argv, node_major=config.node,
        judge=functools.partial(judge, config=lh, target=url or "the production build"),
        env={"BAYON_RUN_ID": "{run_id}", **({URL_ENV: url} if url else {})},
        services=() if url else (served,), outputs=(*outputs, BASELINE), tools=(SCRIPT,),
        tool_image=node_image(config.node), tool_install=CHROMIUM_INSTALL, needs_chrome=True,
        ok_codes=frozenset({0}), finding_codes=frozenset(), timeout_s=(0 if url else 900) + 60 + RUN_S * len(runs),
        needs=Needs() if url else Needs("next", section="dependencies"),
    )]


def site_steps(config: Config, url: str, env_name: str) -> list[Step]:
    """The audits of environment `env_name`'s deployed site at `url` (what `accept` runs), named after it."""
    return [replace(step, id=f"{step.id}/{env_name}") for step in steps(config, url)]


Measured = dict[tuple[str, str], list[lhr.Run]]
"""(URL path, form factor) → its runs, in order."""


def measured(files: Mapping[str, bytes | None], config: Lighthouse) -> Measured:
    """Every run the step declared, parsed; ReportError naming the first missing or unreadable one, or one another
    Lighthouse version than the pinned one made."""
    found: Measured = {}
    for page, ff, n in every_run(config):
        name = f"{report_name(page, ff, n)}.json"
        data = files.get(name)
        if data is None:
            raise ReportError(f"Lighthouse wrote no {name}")
        try:
            run = lhr.parse(data, name)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
        if run.version != VERSION:  # e.g. another lighthouse on PATH: scores of another version are no comparison
            raise ReportError(f"{name} comes from Lighthouse {run.version}, not the pinned {VERSION}; run "
                              "scripts/setup.sh (it installs it into .bayon/tools)")
        found.setdefault((page.path, ff), []).append(run)
    return found


def spreads(runs: Measured) -> dict[scores.Key, scores.Spread]:
    return {(path, ff, cid): scores.spread([r.scores[cid] for r in found])
            for (path, ff), found in runs.items() for cid in lhr.CATEGORIES.values()}


def new_baseline(files: Mapping[str, bytes | None], config: Lighthouse) -> bytes:
    """The baseline file of this run's measurements (ReportError when a run is missing)."""
    runs = measured(files, config)
    version = next(iter(runs.values()))[0].version
    return scores.baseline_json(spreads(runs), version, config.runs)


def _threshold(config: Lighthouse, path: str, key: str) -> float:
    override = next((u.thresholds for u in config.urls if u.path == path), None)
    value = getattr(override, key) if override is not None else None
    return value if value is not None else getattr(config.thresholds, key)


def _baseline(files: Mapping[str, bytes | None], path: str) -> tuple[dict[scores.Key, scores.Spread], list[Finding], str]:
    data = files.get(BASELINE)
    if data is None:
        return {}, [], f"no baseline at {path} (`--update-baseline` writes it)"
    try:
        return scores.read_baseline(data), [], f"compared with {path}"
    except ValueError as exc:
        fix = "replace it with `bayon lighthouse --update-baseline`"
        return {}, [finding("lighthouse/baseline", "error", path, None, None, f"{path}: {exc}; {fix}")], \
            f"unreadable baseline {path}"


Row = tuple[str, str, str, float, str, float | None, float, str]


def _judged(config: Lighthouse, path: str, ff: str, found: list[lhr.Run],
            before: dict[scores.Key, scores.Spread]) -> tuple[list[Row], list[Finding]]:
    """One URL and form factor: its summary rows and its findings (thresholds, regressions, budgets, audits)."""
    median = scores.representative(found)
    page = next(p for p in pages(config) if p.path == path)
    url, rows, problems = found[median].url, [], []
    where = f"{url} ({ff})"
    for key, cid in lhr.CATEGORIES.items():
        now, limit = scores.spread([r.scores[cid] for r in found]), _threshold(config, path, key)
        score = found[median].scores[cid]  # the median run counts (Lighthouse CI's way); the spread is shown
        base = before.get((path, ff, cid))
        delta = round(now.median - base.median, 1) if base else None
        if score < limit:
            problems.append(finding(f"lighthouse/{cid}", "error", None, None, None,
                                    f"{where}: {cid} {score:g} (median run) is below {limit:g}",
                                    url=url, form_factor=ff, score=score, threshold=limit))
        if base and scores.regressed(base, now, config.max_drop):
            problems.append(finding(
                f"lighthouse/regression-{cid}", "error", None, None, None,
                f"{where}: {cid} dropped {-delta:g} points to {now.median:g} (runs {now.min:g}-{now.max:g}) from "
                f"the baseline's {base.median:g} (runs {base.min:g}-{base.max:g}); more than {config.max_drop:g} "
                "and outside both spreads", url=url, form_factor=ff, score=now.median, baseline=base.median,
                delta=delta))
        rows.append((path, ff, cid, score, f"{now.min:g}-{now.max:g}", delta, limit,
                     report_name(page, ff, median + 1)))
    for key, value in found[median].metrics.items():
        budget = getattr(config.budgets, key)
        if budget is not None and value > budget:
            problems.append(finding(f"lighthouse/budget-{key.removesuffix('_ms')}", "error", None, None, None,
                                    f"{where}: {lhr.METRICS[key]} {value:.4g} is over its budget of {budget:g}",
                                    url=url, form_factor=ff, value=value, budget=budget))
    problems += [finding(f"lighthouse/{audit.id}", "warning", None, None, None, f"{where}: {audit.title}",
                         url=url, form_factor=ff, audit=audit.id) for audit in found[median].failed]
    return rows, problems


def judge(run: StepRun, config: Lighthouse, target: str) -> Judgement:
    """Every run read (ReportError when one is missing or unreadable), each URL and form factor judged; errors fail,
    warnings (failed audits) never do; the summary table goes with the verdict."""
    runs = measured(run.files, config)
    before, problems, note = _baseline(run.files, config.baseline)
    rows: list[Row] = []
    for (path, ff), found in runs.items():
        page_rows, page_problems = _judged(config, path, ff, found, before)
        rows += page_rows
        problems += page_problems
    judged = verdict(problems, max_warnings=None)
    version = next(iter(runs.values()))[0].version
    reason = (f"{judged.reason}: {len(runs)} URL x form factor(s) of {target}, {config.runs} run(s) each, "
              f"Lighthouse {version}; {note}")
    table = Table("scores of the median run, 0-100 (the spread of all runs; the baseline delta between medians)",
                  COLUMNS, tuple(rows))
    return Judgement(judged.status, judged.findings, reason, tool_version=version, tables=(table,))
