"""Hostile peers on loopback, for tests: a callback host that never answers or answers a byte at a time,
and raw HTTP clients that send a request only in part."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field


@dataclass
class StallingHost:
    """Accepts every connection; "hang" never answers, "trickle" sends a 200 answer one byte every `interval` s.

    Listens on `address` (any 127.x.y.z works on Linux), so it is a callback host of its own.
    """

    mode: str = "hang"
    address: str = "127.0.0.2"
    interval: float = 0.5
    accepted: int = 0
    open_now: int = 0
    closed_by_peer: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server((self.address, 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{self.address}:{self.port}"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self.accepted += 1
                self.open_now += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000
        try:
            if self.mode == "hang":
                while conn.recv(65536):  # read whatever comes; answer nothing, until the peer closes
                    pass
            else:
                for byte in answer:
                    if self._stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
        except OSError:
            pass  # the peer went away: that is what the test waits for
        finally:
            with self._lock:
                self.open_now -= 1
                if not self._stop.is_set():
                    self.closed_by_peer.append(time.monotonic())
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()


def partial_request(port: int, head: bytes, body: bytes = b"", address: str = "127.0.0.1") -> socket.socket:
    """A connection that sent `head` (and the start of a body) and then nothing more."""
    sock = socket.create_connection((address, port), timeout=10)
    sock.sendall(head + body)
    return sock


def status_of(sock: socket.socket, timeout: float = 10) -> int:
    """The status code of the answer on a raw connection (0 when it closes without one)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return 0
        if not chunk:
            return 0
        data += chunk
    return int(data.split(b" ", 2)[1])


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes a connection within `timeout` seconds (reading and dropping any answer)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(4096):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def turned_away(stalled: list[socket.socket], count: int, wait_until: Callable[..., None]) -> set[socket.socket]:
    """Wait (with a server's ``wait_until``) until ``count`` of the stalled requests are answered 503, those beyond
    the slots that read bodies; the connections answered so."""
    refused: set[socket.socket] = set()

    def answered() -> bool:
        ready, _, _ = select.select([s for s in stalled if s not in refused], [], [], 0)
        refused.update(sock for sock in ready if status_of(sock) == 503)
        return len(refused) >= count

    wait_until(answered, what="the slow bodies beyond the slots turned away")
    return refused
