// Every Lighthouse run of the lighthouse step, one at a time (two at once would measure each other):
//
//   node lighthouse-runs.mjs REPORTS_DIR BASELINE RUNS FORM_FACTORS NAME=PATH...
//
// BASE_URL is the env var BAYON_LIGHTHOUSE_URL (the served build, or the deployed site of --url). For each page
// NAME=PATH, each form factor (desktop: `--preset=desktop`; mobile: Lighthouse's default) and each run 1..RUNS, runs
// the `lighthouse` CLI on PATH against BASE_URL+PATH with JSON and HTML output, written as
// REPORTS_DIR/NAME-FORM_FACTOR-RUN.report.json and .report.html (the names the step declares), Chromium at
// CHROME_PATH (else Debian's /usr/bin/chromium) with flags that need no network. The baseline file BASELINE, if it
// exists, is copied to REPORTS_DIR/baseline.json for the judge. Exits 3 with a one-line message when a run failed
// (the judge never reads a half-measured page); no dependencies, so it runs in any Node image.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"].join(" ");

const [reportsDir, baseline, runs, formFactors, ...pages] = process.argv.slice(2);
const base = (process.env.BAYON_LIGHTHOUSE_URL || "").replace(/\/+$/, "");
if (!base || !Number(runs) || !formFactors || !pages.length) {
  console.error("lighthouse-runs: usage: BAYON_LIGHTHOUSE_URL=URL node lighthouse-runs.mjs REPORTS_DIR BASELINE RUNS FORM_FACTORS NAME=PATH...");
  process.exit(3);
}
if (existsSync(baseline)) copyFileSync(baseline, join(reportsDir, "baseline.json"));
const chrome = process.env.CHROME_PATH || "/usr/bin/chromium";

for (const page of pages) {
  const [name, path] = [page.slice(0, page.indexOf("=")), page.slice(page.indexOf("=") + 1)];
  for (const formFactor of formFactors.split(",")) {
    for (let run = 1; run <= Number(runs); run++) {
      const url = base + path;
      const out = join(reportsDir, `${name}-${formFactor}-${run}`);
      const preset = formFactor === "desktop" ? ["--preset=desktop"] : [];
      const args = [url, ...preset, "--output=json", "--output=html", `--output-path=${out}`,
        `--chrome-flags=${CHROME_FLAGS}`, "--quiet"];
      const started = Date.now();
      const done = spawnSync("lighthouse", args, { stdio: ["ignore", "inherit", "pipe"], env: { ...process.env, CHROME_PATH: chrome } });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (done.error || done.status !== 0) {
        const why = done.error ? done.error.message : `exit code ${done.status}`;
        const tail = String(done.stderr || "").trim().split("\n").slice(-3).join(" | ");
        console.error(`lighthouse-runs: lighthouse ${url} (${formFactor}, run ${run}) failed: ${why}: ${tail || "no output"}`);
        process.exit(3);
      }
      console.log(`${url} ${formFactor} run ${run}: ${seconds} s`);
    }
  }
}
