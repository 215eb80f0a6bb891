"""A real WebSub subscriber on a loopback port, for tests: answers challenges and records deliveries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from support.feedcheck import wait_for


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Subscriber:
    """Echoes hub.challenge on GET; answers POSTs with the statuses queued in `post_statuses` (then 200)."""

    post_statuses: list[int] = field(default_factory=list)
    echo_challenge: bool = True
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> Received:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                item = Received(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    self.rfile.read(length),
                    time.monotonic(),
                )
                subscriber.received.append(item)
                return item

            def do_GET(self) -> None:
                item = self._record()
                challenge = item.query.get("hub.challenge", [""])[0].encode()
                body = challenge if subscriber.echo_challenge else b"nope"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self._record()
                status = subscriber.post_statuses.pop(0) if subscriber.post_statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20) -> bool:
        return wait_for(condition, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
