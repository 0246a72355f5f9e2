// The JavaScript each page loads on first load, for the build stage's judge: run after `next build`.
//
//   node bundle-sizes.mjs OUT_DIR REPORTS_DIR BASELINE
//
// A static export (OUT_DIR exists): reads every page of OUT_DIR (out/<route>.html) and takes the scripts it loads
// (<script src>, minus the `nomodule` polyfills only legacy browsers fetch). A server-rendered build (no OUT_DIR):
// reads Next's own manifests in .next/ instead, so dynamic routes count too: every app route in
// app-path-routes-manifest.json, its scripts being build-manifest.json's rootMainFiles plus the entryJSFiles of the
// page's server/app/<route>/page_client-reference-manifest.js (what Next puts in the page's <script> tags); and
// every pages-router page in build-manifest.json's `pages`, its scripts being its own plus `/_app`'s (Next's own
// first-load count; stylesheets aside).
// Writes REPORTS_DIR/bundle-sizes.json: the output kind, each route's chunk list and each chunk's size in bytes, raw
// and gzip (level 9). Turbopack's own list (.next/diagnostics/route-bundle-stats.json) is added when present, for a
// cross-check. The baseline file BASELINE, if it exists, is copied to REPORTS_DIR/baseline.json. The judge does the
// arithmetic. Exits 3 with a one-line message on a problem.
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";

const [outDir, reportsDir, baseline] = process.argv.slice(2);
const NEXT = ".next";
const STATS = join(NEXT, "diagnostics", "route-bundle-stats.json");
const ROUTES = join(NEXT, "app-path-routes-manifest.json");
const INTERNAL = new Set(["/_global-error"]); // Next's root error boundary: no page anyone navigates to

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

function exported() {
  const all = pages(outDir);
  const routes = {};
  for (const page of all.sort()) {
    if (page === "404.html" && all.includes("_not-found.html")) continue; // Next's copy of /_not-found
    routes[route(page)] = scripts(readFileSync(join(outDir, page), "utf8"));
  }
  if (Object.keys(routes).length === 0) fail(`${outDir}/ holds no HTML page`);
  return { output: "export", routes, file: (path) => join(outDir, path) };
}

const PAGES_INTERNAL = new Set(["/_app", "/_error", "/_document"]); // what every page loads, or no page at all

function servedPages(manifest, routes) {
  const byPage = manifest.pages ?? {};
  const app = byPage["/_app"] ?? [];
  for (const [page, files] of Object.entries(byPage).sort()) {
    if (PAGES_INTERNAL.has(page)) continue;
    routes[page] = [...new Set([...files, ...app])].filter((p) => p.endsWith(".js")).map((p) => `/_next/${p}`);
  }
}

function served() {
  const manifest = JSON.parse(readFileSync(join(NEXT, "build-manifest.json"), "utf8"));
  const { rootMainFiles } = manifest;
  const routes = {};
  servedPages(manifest, routes);
  const appRoutes = existsSync(ROUTES) ? JSON.parse(readFileSync(ROUTES, "utf8")) : {};
  for (const [entry, path] of Object.entries(appRoutes).sort()) {
    if (!entry.endsWith("/page") || INTERNAL.has(path)) continue; // route handlers (icon.svg, api) load no script
    const file = join(NEXT, "server", "app", `${entry}_client-reference-manifest.js`);
    const sandbox = {};
    runInNewContext(readFileSync(file, "utf8"), sandbox, { filename: file });
    const entries = sandbox.__RSC_MANIFEST?.[entry]?.entryJSFiles;
    if (!entries) fail(`${file} lists no entryJSFiles (webpack builds do not); measure a server-rendered app with build.bundler: turbopack`);
    routes[path] = [...new Set([...rootMainFiles, ...Object.values(entries).flat()])].map((p) => `/_next/${p}`);
  }
  if (Object.keys(routes).length === 0) fail(`neither ${ROUTES} nor ${NEXT}/build-manifest.json lists a page`);
  return { output: "server", routes, file: (path) => join(NEXT, path.replace(/^\/_next\//, "")) };
}

function main() {
  if (!outDir || !reportsDir || !baseline) fail("usage: bundle-sizes.mjs OUT_DIR REPORTS_DIR BASELINE");
  if (!existsSync(outDir) && !existsSync(join(NEXT, "build-manifest.json"))) {
    fail(`neither ${outDir}/ (a static export) nor ${NEXT}/build-manifest.json (a server-rendered build) exists after next build`);
  }
  const { output, routes, file: located } = existsSync(outDir) ? exported() : served();

  const chunks = {};
  for (const path of [...new Set(Object.values(routes).flat())].sort()) {
    const file = located(path);
    if (!existsSync(file)) fail(`a page loads ${path}, which is not in ${file.slice(0, -path.length) || "."}/`);
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

  const sizes = { version: 1, output, routes, chunks, route_bundle_stats: stats };
  writeFileSync(join(reportsDir, "bundle-sizes.json"), JSON.stringify(sizes, null, 2) + "\n");
  if (existsSync(baseline)) copyFileSync(baseline, join(reportsDir, "baseline.json"));
}

try {
  main();
} catch (error) {
  fail(error.message); // never exit 1: that code means `next build` failed
}
