"""The build stage: the size judge on real captured sizes (tests/fixtures/build), its Dagger wiring (offline), and
real `next build` runs (Turbopack and webpack) through the local executor."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from chain import fields, find, index, render
from apps import FIXTURES, copy_app, run_local
from dagger import dag

from ci.stages.build import nextjs
from ci.pipeline import runner
from ci.pipeline import registry
from ci.cli.app import main
from ci.config import load_config
from ci.executors.dagger import DaggerExecutor
from ci.core.executor import tool_script
from ci.core.step import ReportError, StepRun
from ci.executors.local.workspace import cache_root, lock_hash

HASH = "0123456789abcdef" + "f" * 48
TURBOPACK = (FIXTURES / "build" / "turbopack-sizes.json").read_bytes()
WEBPACK = (FIXTURES / "build" / "webpack-sizes.json").read_bytes()
PAGES = {"/", "/_not-found", "/about", "/listings", "/mortgage"}


def the_step(yaml: str = ""):
    (step,) = nextjs.steps(load_config(yaml))
    return step


def judged(sizes: bytes | None = TURBOPACK, baseline: bytes | None = None, exit_code: int = 0, yaml: str = "", **run):
    files = {nextjs.SIZES: sizes, nextjs.BASELINE: baseline}
    return the_step(yaml).judge(StepRun(exit_code=exit_code, files=files, root="/src", **run))


def shrunk(data: bytes, factor: float) -> bytes:
    """The same sizes file with every chunk's sizes multiplied by `factor` (a baseline from a smaller build)."""
    doc = json.loads(data)
    for chunk in doc["chunks"].values():
        chunk.update(raw=int(chunk["raw"] * factor), gzip=int(chunk["gzip"] * factor))
    return json.dumps(doc).encode()


def by_rule(judgement, rule: str) -> dict:
    return {f.extra["route"]: f for f in judgement.findings if f.rule == rule}


# Sizes: raw and gzip per route, from the chunks each page loads

def test_route_sizes_add_up_the_chunks_each_page_loads():
    sizes = nextjs.sizes(TURBOPACK, "x")
    assert set(sizes) == PAGES | {nextjs.TOTAL}
    assert sizes["/"].raw == 465399  # what Turbopack's route-bundle-stats.json said for the same build
    assert sizes["/listings"].chunks == 7 and sizes["/about"].chunks == 6
    assert all(0 < s.gzip < s.raw for s in sizes.values())
    # the total counts each distinct chunk once: more than any route, less than their sum
    assert max(s.gzip for r, s in sizes.items() if r != nextjs.TOTAL) < sizes[nextjs.TOTAL].gzip
    assert sizes[nextjs.TOTAL].gzip < sum(s.gzip for r, s in sizes.items() if r != nextjs.TOTAL)


def test_a_clean_build_passes_with_a_size_finding_per_route():
    judgement = judged()
    assert judgement.status == "passed"
    sizes = by_rule(judgement, "build/size")
    assert set(sizes) == PAGES | {nextjs.TOTAL}
    about = sizes["/about"]
    assert about.severity == "info" and about.extra["raw_bytes"] == 465399 and about.extra["gzip_bytes"] > 100_000
    assert about.message == f"/about: 465.4 kB raw, {about.extra['gzip_bytes'] / 1000:.1f} kB gzip in 6 script(s)"
    assert "5 route(s)" in judgement.reason and "no baseline at .bayon/baselines/bundle-sizes.json" in judgement.reason
    assert not [f for f in judgement.findings if f.severity != "info"]  # the exported pages agree with Turbopack


def test_webpack_sizes_have_no_turbopack_list_to_cross_check():
    judgement = judged(WEBPACK)
    assert judgement.status == "passed" and set(by_rule(judgement, "build/size")) == PAGES | {nextjs.TOTAL}
    assert json.loads(WEBPACK)["route_bundle_stats"] is None


# Budgets and growth

def test_a_route_over_its_budget_fails_naming_the_route():
    judgement = judged(yaml="build:\n  budgets:\n    route_gzip_kb: 200\n    routes:\n      /listings: 100\n")
    assert judgement.status == "failed"
    (over,) = by_rule(judgement, "build/budget").values()
    assert (over.severity, over.extra["route"], over.extra["budget_kb"]) == ("error", "/listings", 100)
    assert over.message.startswith("/listings: 1") and over.message.endswith("gzip is over its budget of 100 kB")


def test_the_total_has_its_own_budget():
    judgement = judged(yaml="build:\n  budgets:\n    total_gzip_kb: 100\n")
    assert judgement.status == "failed" and set(by_rule(judgement, "build/budget")) == {nextjs.TOTAL}


def test_growth_over_the_baseline_fails_per_route():
    judgement = judged(baseline=shrunk(TURBOPACK, 0.8))  # every chunk was 20% smaller: 25% growth
    assert judgement.status == "failed" and "compared with .bayon/baselines/bundle-sizes.json" in judgement.reason
    grown = by_rule(judgement, "build/growth")
    assert set(grown) == PAGES | {nextjs.TOTAL}
    assert 24.9 < grown["/about"].extra["growth_pct"] < 25.1
    assert "% over the baseline's " in grown["/about"].message and "(at most 10% allowed)" in grown["/about"].message


def test_growth_within_the_allowance_passes():
    assert judged(baseline=shrunk(TURBOPACK, 0.95)).status == "passed"
    assert judged(baseline=shrunk(TURBOPACK, 0.8), yaml="build:\n  max_growth_pct: 30\n").status == "passed"


def test_an_unreadable_baseline_fails_with_how_to_fix_it():
    judgement = judged(baseline=b'{"routes": {}}')
    (bad,) = [f for f in judgement.findings if f.rule == "build/baseline"]
    assert judgement.status == "failed" and bad.file == ".bayon/baselines/bundle-sizes.json"
    assert "is not a bundle-sizes.json" in bad.message and "bayon reports --function build" in bad.message


def test_scripts_that_differ_from_turbopacks_list_are_a_warning():
    doc = json.loads(TURBOPACK)
    doc["route_bundle_stats"]["/about"] = doc["route_bundle_stats"]["/about"][1:]
    judgement = judged(json.dumps(doc).encode())
    assert judgement.status == "passed" and set(by_rule(judgement, "build/sizes-mismatch")) == {"/about"}


def test_a_failed_build_fails_with_its_output_and_a_missing_sizes_file_crashes():
    failed = judged(None, exit_code=1, stderr="Type error: nope\nFailed to type check.\n")
    assert failed.status == "failed" and failed.findings[0].rule == "build/failed"
    assert failed.findings[0].message.endswith("Failed to type check.")
    with pytest.raises(ReportError, match="wrote no bundle-sizes.json"):
        judged(None)
    with pytest.raises(ReportError, match="unreadable"):
        judged(b"[]")


# A failed build's first error, located (recorded from real `next build` runs on the planted copies below)

def recorded(name: str) -> StepRun:
    data = json.loads((FIXTURES / "build" / f"{name}.json").read_text())
    return StepRun(exit_code=data["exit_code"], stdout=data["stdout"], stderr=data["stderr"], root="/src")


@pytest.mark.parametrize("name, line, column, message", [
    ("next-type-error", 11, 9, "Type 'string' is not assignable to type 'number'. (TS2322)"),
    ("next-module-not-found", 3, 1, "Module not found: Can't resolve '@/lib/missing'"),
    ("next-webpack-module-not-found", None, None, "Module not found: Can't resolve '@/lib/missing'"),  # no line given
])
def test_a_failed_build_is_its_first_error_at_its_file_and_line(name: str, line, column, message: str):
    judgement = the_step().judge(recorded(name))
    (error,) = judgement.findings
    assert (error.rule, error.severity, error.file, error.line, error.column) == (
        "next/build-error", "error", "app/about/page.tsx", line, column)
    assert error.message == message  # colours stripped, no code frame (it quotes the source)
    where = "app/about/page.tsx" + (f":{line}" if line else "")
    assert judgement.status == "failed" and judgement.reason == f"next build failed: {where}: {message}"


def test_a_located_error_under_an_absolute_path_is_relative_to_the_source():
    out = "Failed to compile.\n\n/src/app/page.tsx:5:7\nType error: Cannot find name 'x'.\n\n> 5 | x;\n"
    (error,) = the_step().judge(StepRun(exit_code=1, stderr=out, root="/src")).findings
    assert (error.file, error.line, error.column, error.message) == ("app/page.tsx", 5, 7, "Type error: Cannot find name 'x'.")


# The step, and its Dagger wiring offline

def test_the_step_builds_then_measures_with_the_shipped_script():
    step = the_step()
    assert (step.id, step.tool, step.package, step.tools) == ("build/next", "next", "next", ("bundle-sizes.mjs",))
    assert step.argv[:2] == ("sh", "-c") and step.argv[2].startswith("node_modules/.bin/next build && node ")
    assert '"{tools}/bundle-sizes.mjs" out "{reports}" .bayon/baselines/bundle-sizes.json' in step.argv[2]
    assert the_step("build:\n  bundler: webpack\n").argv[2].startswith("node_modules/.bin/next build --webpack && ")
    assert step.env["NEXT_TELEMETRY_DISABLED"] == "1"
    assert [(c.key, c.path) for c in the_step("node: 24\n").caches] == [("bayon-next-{lock}-node24", ".next/cache")]


def test_in_dagger_the_next_cache_is_keyed_by_lock_hash_and_node_major():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    ctr = executor.step_container(executor.install_container(22), the_step(), HASH)
    mount = index(ctr, "withMountedCache", path="/src/.next/cache")
    assert render(fields(ctr)[mount].args["cache"]) == "cacheVolume(key: 'bayon-next-0123456789abcdef-node22')"
    assert mount > index(ctr, "withDirectory", path="/src")  # over the source, so the cache outlives every build
    other = executor.step_container(executor.install_container(24), the_step("node: 24\n"), HASH)
    assert "bayon-next-0123456789abcdef-node24" in render(other)
    with pytest.raises(ValueError, match="keyed by the lock hash"):
        executor.step_container(executor.install_container(22), the_step())


def test_in_dagger_the_script_is_mounted_and_the_exec_expects_any_code():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    ctr = executor.step_container(executor.install_container(22), the_step(), HASH)
    (script,) = find(ctr, "withNewFile", path="/bayon/tools/bundle-sizes.mjs")
    assert script.args["contents"] == tool_script("bundle-sizes.mjs")
    last = fields(ctr)[-1]
    assert (last.name, last.args["expect"]) == ("withExec", "ANY")
    assert last.args["args"][2].endswith(
        'node "/bayon/tools/bundle-sizes.mjs" out "/bayon/reports/build-next" .bayon/baselines/bundle-sizes.json')


def test_build_output_is_the_out_directory_of_the_same_exec():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    ctr = executor.installed_step(the_step(), HASH)
    out = executor.output_directory(ctr, the_step(), nextjs.OUT_DIR)
    assert fields(out)[-1].name == "directory" and fields(out)[-1].args == {"path": "/src/out"}
    assert fields(out)[:-1] == fields(ctr)  # the very exec `build` runs, so the engine runs it once
    assert registry.steps_of("build_output", load_config("")) == nextjs.steps(load_config(""))


# Real `next build` through the local executor

BIG_CLIENT = '"use client";\n\nimport { BIG } from "@/lib/big";\n\nexport default function Big() {\n  return <p>{BIG.length}</p>;\n}\n'


def plant_big_import(app: Path) -> None:
    """A 300 kB module of random text that only /about loads (through a client component)."""
    rng = random.Random(7)
    rows = ",\n".join(f'  "{rng.randbytes(600).hex()}"' for _ in range(250))
    (app / "lib" / "big.ts").write_text(f"export const BIG: string[] = [\n{rows},\n];\n")
    (app / "components" / "Big.tsx").write_text(BIG_CLIENT)
    page = app / "app" / "about" / "page.tsx"
    text = page.read_text().replace('import ListingsApi from "@/components/ListingsApi";',
                                    'import Big from "@/components/Big";\nimport ListingsApi from "@/components/ListingsApi";')
    page.write_text(text.replace("<h1>About CoAgent</h1>", "<h1>About CoAgent</h1>\n      <Big />", 1))


def plant_build_error(app: Path, kind: str) -> None:
    """What the recorded failed builds (tests/fixtures/build/next-*.json) were planted with, in app/about/page.tsx."""
    page = app / "app" / "about" / "page.tsx"
    text = page.read_text()
    if kind == "type-error":
        text = text.replace("export default function AboutPage() {",
                            'export default function AboutPage() {\n  const year: number = "2024";', 1)
        text = text.replace("<h1>About CoAgent</h1>", "<h1>About CoAgent {year}</h1>", 1)
    else:
        text = text.replace('import ListingsApi from "@/components/ListingsApi";',
                            'import ListingsApi from "@/components/ListingsApi";\n'
                            'import { missing } from "@/lib/missing";', 1)
        text = text.replace("<h1>About CoAgent</h1>", "<h1>About CoAgent {missing}</h1>", 1)
    assert text != page.read_text()
    page.write_text(text)


def gate(app: Path, function: str = "build", **kwargs):
    return run_local(lambda executor: runner.gate(function, executor, **kwargs), app)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    app = copy_app(tmp_path_factory.mktemp("build") / "coagent")
    return app, gate(app)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, clean):
    """/about with a big import, a 200 kB route budget, and the clean build's sizes as the baseline."""
    app = copy_app(tmp_path_factory.mktemp("build-planted") / "coagent")
    plant_big_import(app)
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text() + "build:\n  budgets:\n    route_gzip_kb: 200\n")
    (app / ".bayon" / "baselines").mkdir(parents=True)
    (app / ".bayon" / "baselines" / "bundle-sizes.json").write_bytes(clean[1].artifacts["build/next/bundle-sizes.json"])
    return gate(app)


@pytest.mark.tools
def test_a_clean_build_passes_with_raw_and_gzip_sizes_for_every_page(clean):
    app, report = clean
    step = next(s for s in report.steps if s.id == "build/next")
    assert report.passed and step.status == "passed", step.reason
    sizes = {f.extra["route"]: f.extra for f in report.findings if f.rule == "build/size"}
    assert set(sizes) == PAGES | {nextjs.TOTAL}
    assert all(0 < s["gzip_bytes"] < s["raw_bytes"] for s in sizes.values())
    assert not [f for f in report.findings if f.severity != "info"]  # pages and route-bundle-stats agree
    cache = cache_root() / "caches" / f"bayon-next-{lock_hash(app)[:16]}-node22"
    assert (cache / "turbopack").is_dir()  # .next/cache lived in the local cache volume


@pytest.mark.tools
def test_a_planted_oversized_import_breaks_that_routes_budget(planted):
    assert not planted.passed
    (over,) = [f for f in planted.findings if f.rule == "build/budget"]
    assert over.extra["route"] == "/about" and over.extra["gzip_bytes"] > 200_000


@pytest.mark.tools
def test_growth_over_the_baseline_names_the_grown_route(planted):
    grown = {f.extra["route"]: f for f in planted.findings if f.rule == "build/growth"}
    assert set(grown) == {"/about", nextjs.TOTAL} and grown["/about"].extra["growth_pct"] > 50
    step = next(s for s in planted.steps if s.id == "build/next")
    assert "compared with .bayon/baselines/bundle-sizes.json" in step.reason


@pytest.mark.tools
def test_a_webpack_build_is_measured_too(tmp_path: Path):
    app = copy_app(tmp_path / "coagent")
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text() + "build:\n  bundler: webpack\n")
    report = gate(app)
    assert report.passed, report.steps
    sizes = {f.extra["route"]: f.extra for f in report.findings if f.rule == "build/size"}
    assert set(sizes) == PAGES | {nextjs.TOTAL} and all(s["gzip_bytes"] > 0 for s in sizes.values())
    assert json.loads(report.artifacts["build/next/bundle-sizes.json"])["route_bundle_stats"] is None


@pytest.mark.tools
def test_build_output_writes_the_exported_site(clean, tmp_path: Path, capsys):
    app, _ = clean
    assert main(["build-output", "--source", str(app), "-o", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "about.html").is_file()
    assert any((tmp_path / "site" / "_next" / "static" / "chunks").glob("*.js"))
    assert capsys.readouterr().err.strip().endswith(f"wrote out/ to {tmp_path / 'site'}")


def test_a_baseline_argument_must_name_a_file_in_the_source(tmp_path: Path, capsys):
    app = copy_app(tmp_path / "coagent")
    assert main(["build", "--source", str(app), "--baseline", "nope.json"]) == 2
    assert "--baseline nope.json: no such file in the source" in capsys.readouterr().err


@pytest.mark.tools
@pytest.mark.parametrize("kind, line, message", [
    ("type-error", 10, "Type 'string' is not assignable to type 'number'. (TS2322)"),
    ("module-not-found", 3, "Module not found: Can't resolve '@/lib/missing'"),
])
def test_a_planted_error_fails_the_build_at_its_file_and_line(tmp_path: Path, kind: str, line: int, message: str):
    app = copy_app(tmp_path / "coagent")
    plant_build_error(app, kind)
    report = gate(app)
    (error,) = [f for f in report.findings if f.rule == "next/build-error"]
    assert not report.passed and (error.file, error.line, error.message) == ("app/about/page.tsx", line, message)
    step = next(s for s in report.steps if s.id == "build/next")
    assert step.status == "failed" and step.reason == f"next build failed: app/about/page.tsx:{line}: {message}"
