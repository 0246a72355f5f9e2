"""A local HTTP server on 127.0.0.1 (a free port, in a thread) whose answers a test scripts, and which records what it
was sent: the smoke checks' and the Amplify upload's counterpart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0


@dataclass
class Seen:
    """The requests the server got: (method, path, headers, body) in order."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


@contextmanager
def serve(answer: Callable[[int, str], Answer]) -> Iterator[tuple[str, Seen]]:
    """Serve `answer(n, path)` for the n-th request (0 first); yield the base URL and what was seen."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            number = len(seen.requests)
            seen.requests.append((self.command, self.path, dict(self.headers), body))
            reply = answer(number, self.path)
            time.sleep(reply.delay_s)
            self.send_response(reply.status)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_PUT = _reply

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)  # a quick shutdown
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
