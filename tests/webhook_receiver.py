"""A local webhook receiver for the alert-delivery tests: a real HTTP server on 127.0.0.1 that records what
is posted to it and answers with the statuses it is given (then 200), and the address of one that is down."""

import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What a test's URL ends with: long enough to be registered as a secret, and easy to look for in outputs.
TOKEN_PATH = "/services/T0TEST000/B0TEST000/s3cr3tW3bh00kT0k3n"


@dataclass
class Receiver:
    url: str
    statuses: list[int]
    posted: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posted) >= count:
                    return list(self.posted)
            time.sleep(0.02)
        with self.lock:
            return list(self.posted)


@contextmanager
def receiver(statuses: Sequence[int] = ()) -> Iterator[Receiver]:
    """A receiver answering `statuses` to the first requests in turn, then 200; what it accepted (a 2xx) is
    in `posted`, every request counts in `requests`."""
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            got = box[0]
            with got.lock:
                got.requests += 1
                status = got.statuses.pop(0) if got.statuses else 200
                if status < 300 and self.path == TOKEN_PATH:
                    got.posted.append(body)
            self.send_response(status if self.path == TOKEN_PATH else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no request lines on stderr
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.append(Receiver(f"http://127.0.0.1:{server.server_port}{TOKEN_PATH}", list(statuses)))
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def down_url() -> str:
    """The URL of a receiver that is down: a port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{TOKEN_PATH}"
