"""A server-rendered build (no `output: "export"`): first-load JS per route from Next's own manifests in `.next/`,
measured on the manifests recorded from a real Next 16 Turbopack build of the sample app (tests/fixtures/build/ssr,
its chunks stood in by files of their recorded lengths), and one real server-rendered build of a copy of the app."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from apps import FIXTURES, copy_app, run_local, server_rendered

from ci.cli.app import main
from ci.config import load_config
from ci.core.executor import TOOLS_DIR
from ci.core.step import StepRun
from ci.pipeline import runner
from ci.stages.build import nextjs

SSR = FIXTURES / "build" / "ssr"
SSR_PAGES = FIXTURES / "build" / "ssr-pages"
"""A real Next 16 Turbopack build of a pages-router app (create-next-app's pages template, its Google font removed,
plus a server-rendered `pages/blog/[slug].tsx`): its manifests, its chunks stood in by their lengths."""
PAGES = {"/", "/_not-found", "/about", "/listings", "/mortgage"}


def recorded_build(root: Path, recorded: Path = SSR) -> Path:
    """`root/.next` as the recorded build left it, each chunk a file of its real length (random bytes, so gzip
    cannot shrink it to nothing)."""
    shutil.copytree(recorded, root / ".next")
    rng = random.Random(16)
    for path, length in json.loads((recorded / "chunk-lengths.json").read_text()).items():
        (root / ".next" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / ".next" / path).write_bytes(rng.randbytes(length))
    return root


def measure(root: Path) -> subprocess.CompletedProcess:
    (root / "reports").mkdir(exist_ok=True)
    return subprocess.run(["node", str(TOOLS_DIR / nextjs.SCRIPT), nextjs.OUT_DIR, "reports", "baseline.json"],
                          cwd=root, capture_output=True, text=True)


def judged(root: Path, yaml: str = "", baseline: bytes | None = None):
    (step,) = nextjs.steps(load_config(yaml))
    files = {nextjs.SIZES: (root / "reports" / nextjs.SIZES).read_bytes(), nextjs.BASELINE: baseline}
    return step.judge(StepRun(exit_code=0, files=files, root=str(root)))


@pytest.fixture
def ssr(tmp_path: Path) -> Path:
    root = recorded_build(tmp_path)
    assert measure(root).returncode == 0
    return root


def test_every_page_route_is_measured_from_the_manifests_as_next_counts_it(ssr: Path):
    doc = json.loads((ssr / "reports" / nextjs.SIZES).read_text())
    assert doc["output"] == "server" and set(doc["routes"]) == PAGES  # no route handler, no global error boundary
    stats = {e["route"]: e for e in json.loads((SSR / "diagnostics" / "route-bundle-stats.json").read_text())}
    sizes = nextjs.sizes(json.dumps(doc).encode(), "x")
    for route in PAGES:  # Next's own first-load count of the same build, byte for byte
        assert sizes[route].raw == stats[route]["firstLoadUncompressedJsBytes"], route
    assert sizes["/listings"].chunks == len(stats["/listings"]["firstLoadChunkPaths"]) == 7


def test_the_same_judge_budgets_and_baseline_apply(ssr: Path):
    clean = judged(ssr)
    assert clean.status == "passed" and "5 route(s) (server-rendered)" in clean.reason
    assert not [f for f in clean.findings if f.severity != "info"]  # the manifests agree with route-bundle-stats
    over = judged(ssr, "build:\n  budgets:\n    routes:\n      /listings: 100\n")
    assert over.status == "failed" and [f.extra["route"] for f in over.findings if f.rule == "build/budget"] == ["/listings"]
    doc = json.loads((ssr / "reports" / nextjs.SIZES).read_text())
    for chunk in doc["chunks"].values():
        chunk["gzip"] = int(chunk["gzip"] * 0.8)
    grown = judged(ssr, baseline=json.dumps(doc).encode())
    assert grown.status == "failed" and {f.extra["route"] for f in grown.findings if f.rule == "build/growth"} == PAGES | {nextjs.TOTAL}


def test_a_manifest_without_entry_files_fails_closed_with_the_fix(tmp_path: Path):
    root = recorded_build(tmp_path)
    manifest = root / ".next" / "server" / "app" / "about" / "page_client-reference-manifest.js"
    manifest.write_text(manifest.read_text().replace('"entryJSFiles"', '"entryJSFilesGone"'))  # as webpack writes it
    done = measure(root)
    assert done.returncode == 3 and done.stderr.strip() == (
        "bundle-sizes: .next/server/app/about/page_client-reference-manifest.js lists no entryJSFiles (webpack builds "
        "do not); measure a server-rendered app with build.bundler: turbopack")


def test_neither_an_export_nor_a_server_build_is_a_one_line_crash(tmp_path: Path):
    done = measure(tmp_path)
    assert done.returncode == 3 and "neither out/ (a static export) nor .next/build-manifest.json (a server-rendered build)" in done.stderr


def test_build_output_has_no_out_to_return_for_a_server_rendered_app(ssr: Path):
    why = nextjs.no_export({nextjs.SIZES: (ssr / "reports" / nextjs.SIZES).read_bytes()})
    assert why.startswith('the app is server-rendered (no output: "export" in next.config), so next build writes no out/')
    assert nextjs.no_export({nextjs.SIZES: (FIXTURES / "build" / "turbopack-sizes.json").read_bytes()}) is None


# A real server-rendered build of a copy of the sample app

@pytest.fixture(scope="module")
def server_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return server_rendered(copy_app(tmp_path_factory.mktemp("ssr") / "coagent"))


@pytest.mark.tools
def test_a_real_server_rendered_build_is_measured_per_route(server_app: Path, tmp_path: Path, capsys):
    report = run_local(lambda executor: runner.gate("build", executor), server_app)
    step = next(s for s in report.steps if s.id == "build/next")
    assert report.passed and step.status == "passed" and "(server-rendered)" in step.reason, step.reason
    sizes = {f.extra["route"]: f.extra for f in report.findings if f.rule == "build/size"}
    assert set(sizes) == PAGES | {nextjs.TOTAL} and all(0 < s["gzip_bytes"] < s["raw_bytes"] for s in sizes.values())
    assert not [f for f in report.findings if f.severity != "info"]  # the manifests agree with route-bundle-stats
    assert main(["build-output", "--source", str(server_app), "-o", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("bayon: build-output: the app is server-rendered") and not (tmp_path / "site").exists()


def test_a_pages_router_build_is_measured_per_page_as_next_counts_it(tmp_path: Path):
    """Each page loads its own scripts and `/_app`'s: the same chunks and bytes as Next's own route-bundle-stats."""
    root = recorded_build(tmp_path, SSR_PAGES)
    assert measure(root).returncode == 0
    doc = json.loads((root / "reports" / nextjs.SIZES).read_text())
    assert doc["output"] == "server" and set(doc["routes"]) == {"/", "/blog/[slug]"}  # no /_app, /_error, API route
    stats = {e["route"]: e for e in json.loads((SSR_PAGES / "diagnostics" / "route-bundle-stats.json").read_text())}
    for route, chunks in doc["routes"].items():
        assert set(chunks) == {p.replace(".next/", "/_next/") for p in stats[route]["firstLoadChunkPaths"]}, route
        assert sum(doc["chunks"][c]["raw"] for c in chunks) == stats[route]["firstLoadUncompressedJsBytes"], route
    assert judged(root).status == "passed"
