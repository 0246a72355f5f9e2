// Serves the app's production build for the lighthouse step, in the app directory after `next build`:
//
//   node serve-build.mjs PORT HOST
//
// A static export (out/ exists) is served by the small file server below; a server-rendered build by `next start`
// (the app's own Next, from node_modules). The server is written here rather than taken from npm because it must run
// in the app's own install, where bayon may add no dependency, and it only needs what Lighthouse asks of a static
// host: files, `index.html` for a folder, `<route>.html` for a route (Next's export layout), `404.html` with status
// 404, the right content types and gzip where the client accepts it.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { gzipSync } from "node:zlib";

const [port, host] = process.argv.slice(2);
const ROOT = "out";
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
  ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".avif": "image/avif", ".gif": "image/gif",
  ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff", ".map": "application/json",
};
const COMPRESSED = /^(text\/|application\/json|image\/svg)/;

function file(path) {
  return existsSync(path) && statSync(path).isFile() ? path : null;
}

function resolve(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath.split("?")[0]);
  } catch {
    return null; // a malformed %-escape names no file: 404, and the server keeps serving
  }
  const clean = normalize(decoded).replace(/^([/\\])+/, "");
  if (clean.split(sep).includes("..")) return null;
  const at = join(ROOT, clean);
  return file(at) || file(join(at, "index.html")) || file(`${at}.html`);
}

function serveStatic() {
  createServer((req, res) => {
    const found = resolve(req.url || "/");
    const path = found || file(join(ROOT, "404.html"));
    if (!path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const type = TYPES[extname(path)] || "application/octet-stream";
    let body = readFileSync(path);
    const headers = { "content-type": type };
    if (COMPRESSED.test(type) && /\bgzip\b/.test(req.headers["accept-encoding"] || "")) {
      body = gzipSync(body);
      headers["content-encoding"] = "gzip";
    }
    res.writeHead(found ? 200 : 404, headers).end(req.method === "HEAD" ? undefined : body);
  }).listen(Number(port), host);
}

if (existsSync(ROOT)) {
  serveStatic();
} else {
  const next = spawn(join("node_modules", ".bin", "next"), ["start", "-p", port, "-H", host], { stdio: "inherit" });
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => next.kill(signal));
  next.on("exit", (code) => process.exit(code ?? 1));
}
