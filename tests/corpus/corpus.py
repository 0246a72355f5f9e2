"""The corpus of real Next.js apps: check them out, measure what the bare tools say, and compare `bayon` with it.

Not part of `.ci/run` (it installs and builds several real apps: tens of minutes on 2 cores). Run it before
resolving a change to the CI half, and put its table in the closing note:

    python tests/corpus/corpus.py checkout DIR     # each app of manifest.yaml into DIR/<name>, at its pinned source
    python tests/corpus/corpus.py measure DIR      # the bare tools on each checkout: the counts manifest.yaml records
    python tests/corpus/corpus.py compare DIR      # bayon ci and bayon security on each checkout, against manifest.yaml

`checkout` clones public repositories at their pinned commit (`--git-base` replaces `https://github.com/` when the
repositories are mirrored elsewhere, e.g. `--git-base /mirrors/{owner}+{name}/repo`) and creates the npm starters at
their pinned version (`npx create-next-app@VERSION ...`, then `npm install --package-lock-only`, as a user would).
No app code is committed: DIR is yours. `compare` writes each app's `pipeline.yaml` from the manifest first (unless
the app has its own), then prints one Markdown table row per app and exits 1 when a count differs from the manifest
or a run crashed without naming its cause.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MANIFEST = HERE / "manifest.yaml"
BAYON = [sys.executable, "-m", "ci.cli"]
TIMEOUT_S = 1800
COUNTS = ("eslint_errors", "eslint_warnings", "tsc_errors", "prettier_files", "jest_tests", "next_build")


def load_manifest() -> list[dict[str, Any]]:
    return yaml.safe_load(MANIFEST.read_text())["apps"]


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = TIMEOUT_S
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def checkout(app: dict[str, Any], dest: Path, git_base: str) -> None:
    """The app's pinned source in `dest` (replaced if present)."""
    shutil.rmtree(dest, ignore_errors=True)
    source = app["source"]
    if "repo" in source:
        owner, name = source["repo"].split("/")
        url = git_base.format(owner=owner, name=name) if git_base else f"https://github.com/{source['repo']}"
        subprocess.run(["git", "clone", "-q", url, str(dest)], check=True)
        subprocess.run(["git", "-C", str(dest), "checkout", "-q", source["commit"]], check=True)
    else:
        argv = [part.replace("{dir}", dest.name) for part in source["create"]]
        subprocess.run(["npx", "-y", *argv], cwd=dest.parent, check=True, capture_output=True)
        subprocess.run(["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"], cwd=dest, check=True,
                       capture_output=True)
        subprocess.run(["git", "init", "-q"], cwd=dest, check=True)  # the secrets scan reads a history
        subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
        subprocess.run(["git", "-c", "user.name=corpus", "-c", "user.email=corpus@example.com", "commit", "-qm",
                        "starter"], cwd=dest, check=True)
    for path in source.get("remove", []):  # files a fresh clone does not have (gitignored but generated)
        (dest / path).unlink(missing_ok=True)


def declared(app_dir: Path, package: str) -> bool:
    manifest = json.loads((app_dir / "package.json").read_text())
    return any(package in manifest.get(key, {}) for key in ("dependencies", "devDependencies"))


def measure(app: dict[str, Any], app_dir: Path) -> dict[str, Any]:
    """What the bare tools report in a copy of the checkout, each run as a developer runs it."""
    work = app_dir.with_name(app_dir.name + ".bare")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(app_dir, work, ignore=shutil.ignore_patterns(".git", "node_modules", ".next"))
    config = yaml.safe_load(app.get("pipeline_yaml") or "") or {}
    env = {**(config.get("install") or {}).get("env", {}), "CI": "true", "NEXT_TELEMETRY_DISABLED": "1"}
    counts: dict[str, Any] = {}
    install = sh(["npm", "ci", "--no-audit", "--no-fund"], work, env)
    if install.returncode != 0:
        return {"npm_ci": "failed"}
    for command in config.get("setup") or []:  # what the app's pipeline.yaml has bayon run first
        sh(["sh", "-c", command], work, env)
    bin_dir = work / "node_modules" / ".bin"
    if (bin_dir / "eslint").exists() and (any(work.glob("eslint.config.*")) or any(work.glob(".eslintrc*"))):
        out = sh([str(bin_dir / "eslint"), ".", "--format", "json"], work, env)
        try:
            results = json.loads(out.stdout)
            counts["eslint_errors"] = sum(r["errorCount"] for r in results)
            counts["eslint_warnings"] = sum(r["warningCount"] for r in results)
        except ValueError:
            counts["eslint_errors"] = counts["eslint_warnings"] = f"crashed: {out.stderr.strip()[:80]}"
    if (bin_dir / "tsc").exists() and (work / "tsconfig.json").exists():
        out = sh([str(bin_dir / "tsc"), "--noEmit", "--pretty", "false"], work, env)
        counts["tsc_errors"] = len(re.findall(r"^\S.*: error TS\d+", out.stdout, re.M))
    if declared(work, "prettier"):
        out = sh([str(bin_dir / "prettier"), "--list-different", "."], work, env)
        counts["prettier_files"] = len([line for line in out.stdout.splitlines() if line.strip()])
    if declared(work, "jest"):
        out = sh([str(bin_dir / "jest"), "--ci", "--json"], work, env)
        counts["jest_tests"] = json.loads(out.stdout or "{}").get("numTotalTests")
    build = sh([str(bin_dir / "next"), "build"], work, env)
    counts["next_build"] = "passes" if build.returncode == 0 else "fails"
    shutil.rmtree(work, ignore_errors=True)
    return counts


def bayon(function: str, app_dir: Path) -> tuple[int, dict[str, Any] | None, str]:
    """`bayon FUNCTION --source app_dir --format json`: exit code, report (None if there is none), stderr. The report
    is kept beside the checkout as `<app>.<function>.json`."""
    out = sh([*BAYON, function, "--source", str(app_dir), "--format", "json"], ROOT)
    app_dir.with_name(f"{app_dir.name}.{function}.json").write_text(out.stdout)
    try:
        return out.returncode, json.loads(out.stdout), out.stderr
    except ValueError:
        return out.returncode, None, out.stderr


def bayon_counts(report: dict[str, Any]) -> dict[str, Any]:
    """The same counts, read from a `ci` report."""
    steps = {s["id"]: s for s in report["steps"]}
    found = report["findings"]

    def count(tool: str, severity: str | None = None) -> int:
        return sum(1 for f in found if f["tool"] == tool and (severity is None or f["severity"] == severity))

    counts: dict[str, Any] = {}
    if "quality/lint" in steps and steps["quality/lint"]["status"] in ("passed", "failed"):
        counts["eslint_errors"], counts["eslint_warnings"] = count("eslint", "error"), count("eslint", "warning")
    if "quality/typecheck" in steps and steps["quality/typecheck"]["status"] in ("passed", "failed"):
        counts["tsc_errors"] = count("tsc")
    if "quality/format" in steps and steps["quality/format"]["status"] in ("passed", "failed"):
        counts["prettier_files"] = count("prettier")
    unit = [s for s in steps.values() if s["id"].startswith("tests/unit/") and s["status"] in ("passed", "failed")]
    if unit:
        counts["jest_tests"] = _tests_of(unit[0]["reason"])
    if "build/next" in steps:
        counts["next_build"] = "passes" if steps["build/next"]["exit_code"] == 0 else "fails"
    return counts


def _tests_of(reason: str) -> int | None:
    match = re.search(r"(\d+) test", reason)
    return int(match.group(1)) if match else None


def traceback_in(text: str) -> bool:
    return "Traceback (most recent call last)" in text


def compare(app: dict[str, Any], app_dir: Path) -> tuple[list[str], bool]:
    """One table row for the app, and whether it matches the manifest."""
    if app.get("pipeline_yaml") and not (app_dir / "pipeline.yaml").exists():
        (app_dir / "pipeline.yaml").write_text(app["pipeline_yaml"])
    started = time.monotonic()
    code, report, err = bayon("ci", app_dir)
    ci_s = time.monotonic() - started
    sec_code, sec_report, sec_err = bayon("security", app_dir)
    expected = app["bare"]
    got = bayon_counts(report) if report else {}
    ok = report is not None and not traceback_in(err + sec_err) and sec_report is not None
    cells = []
    for key in COUNTS:
        want, have = expected.get(key, "-"), got.get(key, "-")
        same = want == have or key in app.get("differs", {})
        ok &= same
        cells.append(f"{have}" if want == have else f"{have} (bare {want})")
    failing = [f"{s['id']}: {s['reason'].splitlines()[0][:90]}" for s in (report or {}).get("steps", [])
               if s["status"] in ("failed", "crashed")]
    verdict = f"exit {code}" + (f"; {'; '.join(failing[:2])}" if failing else "")
    if report is None:
        verdict = f"exit {code}, no report: {err.strip().splitlines()[-1][:120] if err.strip() else '(no output)'}"
    security = f"exit {sec_code}" if sec_report else f"exit {sec_code}, no report"
    return [app["name"], *cells, verdict, f"{ci_s:.0f} s", security], ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("checkout", "measure", "compare"))
    parser.add_argument("dir", type=Path, help="where the apps are checked out, one folder each")
    parser.add_argument("--git-base", default="", help="clone URL pattern with {owner} and {name} (a mirror)")
    parser.add_argument("--only", action="append", default=[], help="only this app (repeat)")
    args = parser.parse_args(argv)
    apps = [a for a in load_manifest() if not args.only or a["name"] in args.only]
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.command == "checkout":
        for app in apps:
            checkout(app, args.dir.resolve() / app["name"], args.git_base)
            print(f"checked out {app['name']}", file=sys.stderr)
        return 0
    if args.command == "measure":
        for app in apps:
            print(json.dumps({app["name"]: measure(app, args.dir.resolve() / app["name"])}))
        return 0
    header = ["app", *COUNTS, "bayon ci", "ci time", "bayon security"]
    print("| " + " | ".join(header) + " |\n|" + " --- |" * len(header))
    all_ok = True
    for app in apps:
        row, ok = compare(app, args.dir.resolve() / app["name"])
        all_ok &= ok
        print("| " + " | ".join(row) + " |", flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
