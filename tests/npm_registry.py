"""A local npm registry for the tests: recorded advisory answers, a recorded refusal, and tiny packages.

`npm audit` and `npm install` are pointed at it with `npm_config_registry` (or an app's `.npmrc`). It answers:
- `POST /-/npm/v1/security/advisories/bulk` with the recorded advisories of the packages npm asks about, or with a
  recorded refusal (status and headers, e.g. the 405 this machine's registry gives);
- `GET /<name>` with the packument of a package added with `add_package`, `GET /<name>/-/<file>.tgz` with its
  tarball; anything else is 404 (npm audit then computes no fix versions, as it does offline).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BULK = "/-/npm/v1/security/advisories/bulk"


class Registry:
    """`with Registry(advisories) as registry:` serves on 127.0.0.1; `registry.url` ends with a slash."""

    def __init__(self, advisories: dict[str, list[dict[str, Any]]] | None = None,
                 refusal: tuple[int, dict[str, str]] | None = None) -> None:
        self.advisories = advisories or {}
        self.refusal = refusal
        self.packuments: dict[str, dict[str, Any]] = {}
        self.tarballs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> Registry:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_package(self, name: str, version: str, license: str | None, **manifest: Any) -> None:
        """Publish a package with one file and the given `license` field (None: no field at all)."""
        pkg = {"name": name, "version": version, **({"license": license} if license is not None else {}), **manifest}
        data = tarball({"package/package.json": json.dumps(pkg), "package/index.js": "module.exports = 1;\n"})
        file = f"{name.rsplit('/', 1)[-1]}-{version}.tgz"
        self.tarballs[f"/{name}/-/{file}"] = data
        dist = {"tarball": f"{self.url}{name}/-/{file}", "shasum": hashlib.sha1(data).hexdigest(),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()}
        self.packuments[name] = {"name": name, "dist-tags": {"latest": version},
                                 "versions": {version: {**pkg, "dist": dist}}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                asked = json.loads(body or b"{}")
                registry.requests.append(("POST", self.path, asked))
                if self.path != BULK:
                    return self._send(404, b"")
                if registry.refusal is not None:
                    status, headers = registry.refusal
                    return self._send(status, b"", headers)
                answer = {name: advs for name, advs in registry.advisories.items() if name in asked}
                self._send(200, json.dumps(answer).encode(), {"content-type": "application/json"})

            def do_GET(self) -> None:
                path = urllib.parse.unquote(self.path.split("?")[0])
                registry.requests.append(("GET", path, None))
                if path in registry.tarballs:
                    return self._send(200, registry.tarballs[path], {"content-type": "application/octet-stream"})
                packument = registry.packuments.get(path.lstrip("/"))
                if packument is None:
                    return self._send(404, b'{"error":"Not found"}', {"content-type": "application/json"})
                self._send(200, json.dumps(packument).encode(), {"content-type": "application/json"})

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def tarball(files: dict[str, str]) -> bytes:
    """A gzipped tar of text files (what `npm pack` makes)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
