// The JavaScript each exported page loads, for the build stage's judge: run after `next build` (static export).
//
//   node bundle-sizes.mjs OUT_DIR REPORTS_DIR BASELINE
//
// Reads every page of OUT_DIR (out/<route>.html), takes the scripts it loads (<script src>, minus the `nomodule`
// polyfills only legacy browsers fetch), and writes REPORTS_DIR/bundle-sizes.json: each route's chunk list and each
// chunk's size in bytes, raw and gzip (level 9). Turbopack's own list (.next/diagnostics/route-bundle-stats.json)
// is added when present, for a cross-check. The baseline file BASELINE, if it exists, is copied to
// REPORTS_DIR/baseline.json. The judge does the arithmetic. Exits 3 with a one-line message on a problem.
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const [outDir, reportsDir, baseline] = process.argv.slice(2);
const STATS = join(".next", "diagnostics", "route-bundle-stats.json");

function fail(message) {
  console.error(`bundle-sizes: ${message}`);
  process.exit(3);
}

function pages(dir, prefix = "") {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return path === "_next" ? [] : pages(dir, path);
    return entry.isFile() && entry.name.endsWith(".html") ? [path] : [];
  });
}

function route(page) {
  const path = page.replace(/\.html$/, "").replace(/(^|\/)index$/, "");
  return "/" + path;
}

function scripts(html) {
  const found = [];
  for (const [, attrs] of html.matchAll(/<script\b([^>]*)>/gi)) {
    const src = /\bsrc\s*=\s*["']([^"']+)["']/i.exec(attrs)?.[1];
    if (!src || /\bnomodule\b/i.test(attrs)) continue;
    const at = src.indexOf("/_next/");
    const path = at >= 0 ? src.slice(at) : src.startsWith("/") && !src.startsWith("//") ? src : null;
    if (path) found.push(path.split(/[?#]/)[0]); // external scripts are not part of the bundle
  }
  return [...new Set(found)];
}

function main() {
  if (!outDir || !reportsDir || !baseline) fail("usage: bundle-sizes.mjs OUT_DIR REPORTS_DIR BASELINE");
  if (!existsSync(outDir)) {
    fail(`${outDir}/ does not exist: the build stage measures a static export; set output: "export" in next.config`);
  }

  const all = pages(outDir);
  const routes = {};
  for (const page of all.sort()) {
    if (page === "404.html" && all.includes("_not-found.html")) continue; // Next's copy of /_not-found
    routes[route(page)] = scripts(readFileSync(join(outDir, page), "utf8"));
  }
  if (Object.keys(routes).length === 0) fail(`${outDir}/ holds no HTML page`);

  const chunks = {};
  for (const path of [...new Set(Object.values(routes).flat())].sort()) {
    const file = join(outDir, path);
    if (!existsSync(file)) fail(`a page loads ${path}, which is not in ${outDir}/`);
    const bytes = readFileSync(file);
    chunks[path] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }

  let stats = null;
  if (existsSync(STATS)) {
    stats = {};
    for (const entry of JSON.parse(readFileSync(STATS, "utf8"))) {
      stats[entry.route] = entry.firstLoadChunkPaths.map((path) => path.replace(/^\.next\//, "/_next/"));
    }
  }

  const sizes = { version: 1, routes, chunks, route_bundle_stats: stats };
  writeFileSync(join(reportsDir, "bundle-sizes.json"), JSON.stringify(sizes, null, 2) + "\n");
  if (existsSync(baseline)) copyFileSync(baseline, join(reportsDir, "baseline.json"));
}

try {
  main();
} catch (error) {
  fail(error.message); // never exit 1: that code means `next build` failed
}
