"""HTTP requests to WebSub callbacks: one look-up, a connection to the very address checked, a total deadline.

``parse_callback`` checks a URL's syntax only (no DNS look-up: it runs on web
requests). ``send`` runs on the hub's own threads: it resolves the host once,
refuses private addresses (unless allowed), connects to the checked address
while Host, SNI and the certificate check still use the name, and gives up at
the deadline however slowly the other end answers. ``Lanes`` runs the hub's
jobs one at a time per callback host, so a slow host delays only itself.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from typing import Protocol

logger = logging.getLogger(__name__)

MAX_URL_BYTES = 2048
MAX_HOST_BYTES = 253  # the longest DNS name
READ_TIMEOUT = 10.0  # seconds for one connect, send or read
DEADLINE = 20.0  # seconds for a whole request, from the look-up to the last byte read
MAX_RESPONSE_BYTES = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Resolve(Protocol):
    """The shape of socket.getaddrinfo (tests pass their own)."""

    def __call__(
        self, host: str, port: int, family: int = ..., type: int = ..., proto: int = ..., flags: int = ...
    ) -> Sequence[tuple[Any, ...]]: ...


class CallbackError(ValueError):
    """A callback URL refused; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """A callback URL as a request needs it: the host as sent (ASCII, lower case), port and selector."""

    scheme: str
    host: str
    port: int
    selector: str

    @property
    def literal(self) -> IPAddress | None:
        """The address, when the host is one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Reply:
    """What a callback answered: its status and the start of its body, or status 0 and why there was no answer."""

    status: int
    body: bytes = b""
    error: str = ""


def parse_callback(url: str, max_bytes: int = MAX_URL_BYTES) -> Target:
    """Check a callback URL's syntax (no look-up); raise CallbackError with the reason if refused."""
    if len(url.encode("utf-8")) > max_bytes:
        raise CallbackError(f"hub.callback is longer than {max_bytes} bytes")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise CallbackError("hub.callback must not contain spaces or control characters")
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise CallbackError("hub.callback must be an absolute http(s) URL")
    if "%" in host:
        raise CallbackError("hub.callback's host must not be percent-encoded")
    try:
        host = host.encode("idna").decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (UnicodeError, ValueError):
        raise CallbackError("hub.callback's host or port is not valid") from None
    if len(host) > MAX_HOST_BYTES:
        raise CallbackError(f"hub.callback's host is longer than {MAX_HOST_BYTES} bytes")
    selector = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, selector)


def is_public(address: IPAddress) -> bool:
    """Whether an address is a public unicast one (not loopback, private, link-local, shared, reserved...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def is_local_name(host: str) -> bool:
    """Whether a name is loopback by definition (RFC 6761), so it can be refused without a look-up."""
    return host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")


def send(
    target: Target,
    method: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str],
    allow_private: bool,
    resolve: Resolve,
    deadline: float = DEADLINE,
) -> Reply:
    """Send one request to a callback and read at most MAX_RESPONSE_BYTES of the answer, within the deadline."""
    clock = _Deadline(deadline)
    connection: http.client.HTTPConnection | None = None
    try:
        addresses = _vetted_addresses(target, allow_private, resolve)
        clock.remaining()  # a slow look-up counts against the deadline too
        kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        connection = kind(target, addresses, clock)
        connection.request(method, target.selector, body=body, headers=dict(headers))
        response = connection.getresponse()
        return Reply(int(response.status), response.read(MAX_RESPONSE_BYTES))
    except CallbackError as exc:
        return Reply(0, error=str(exc))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = f"no answer within the {deadline:g}s deadline" if clock.expired else f"{type(exc).__name__}: {exc}"
        return Reply(0, error=reason)
    finally:
        if connection is not None:
            connection.close()
        clock.close()


def _vetted_addresses(target: Target, allow_private: bool, resolve: Resolve) -> list[tuple[int, tuple[Any, ...]]]:
    """The (family, socket address) pairs to connect to: from one look-up, each of them checked."""
    literal = target.literal
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        found: Sequence[tuple[Any, ...]] = [(family, socket.SOCK_STREAM, 0, "", (target.host, target.port))]
    else:
        try:
            found = resolve(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise CallbackError(f"cannot look up {target.host}: {exc}") from None
    addresses = [(int(info[0]), tuple(info[4])) for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise CallbackError(f"{target.host} has no address")
    if not allow_private:
        for _, address in addresses:
            if not is_public(ipaddress.ip_address(str(address[0]).split("%")[0])):
                raise CallbackError(f"{target.host} resolves to {address[0]}: callbacks must be public addresses")
    return addresses


class _Deadline:
    """A request's total deadline: when it passes, every socket of the request is shut down, whatever it waits for."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            self.expired = True
            raise TimeoutError("deadline passed")
        return left

    def connect(self, addresses: Sequence[tuple[int, tuple[Any, ...]]]) -> socket.socket:
        """A socket connected to the first checked address that answers (never to a new look-up's)."""
        error: OSError = TimeoutError("deadline passed")
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(min(READ_TIMEOUT, self.remaining()))
                self._watch(sock)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        raise error

    def _watch(self, sock: socket.socket) -> None:
        # Keep a duplicate: TLS takes the original's descriptor over, and a shutdown through the copy still stops it.
        with self._lock:
            if self.expired:
                raise TimeoutError("deadline passed")
            self._sockets.append(sock.dup())

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # not connected (yet, or any more): nothing to stop
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a callback: the Host header names the host, the socket goes to an address checked before."""

    def __init__(self, target: Target, addresses: Sequence[tuple[int, tuple[Any, ...]]], clock: _Deadline) -> None:
        super().__init__(target.host, target.port, timeout=READ_TIMEOUT)
        self._addresses = addresses
        self._clock = clock

    def connect(self) -> None:
        self.sock = self._clock.connect(self._addresses)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a callback: connected to a checked address; SNI and the certificate check use the host name."""

    def __init__(self, target: Target, addresses: Sequence[tuple[int, tuple[Any, ...]]], clock: _Deadline) -> None:
        self._tls = _tls_context()
        super().__init__(target.host, target.port, timeout=READ_TIMEOUT, context=self._tls)
        self._addresses = addresses
        self._clock = clock

    def connect(self) -> None:
        self.sock = self._tls.wrap_socket(self._clock.connect(self._addresses), server_hostname=self.host)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, host names checked (made once: loading them takes a while)."""
    return ssl.create_default_context()


class Lanes:
    """Runs jobs one at a time per key (a callback host), different keys side by side on a bounded pool."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="websub")
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Callable[[], None]]] = {}
        self._closed = False

    def submit(self, key: str, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return
            self._queues[key] = deque()
        self._pool.submit(self._run, key, job).add_done_callback(_log_failure)

    def _run(self, key: str, job: Callable[[], None] | None) -> None:
        while job is not None:
            finished = False
            try:
                job()
                finished = True
            finally:
                with self._lock:
                    queue = self._queues[key]
                    job = queue.popleft() if queue and not self._closed else None
                    if job is None:
                        del self._queues[key]
                if not finished and job is not None:  # the job raised: its lane goes on without this thread
                    self._pool.submit(self._run, key, job).add_done_callback(_log_failure)

    def shutdown(self) -> None:
        """Start nothing more (the jobs running now finish on their own, within their deadline)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def _log_failure(future: Future[None]) -> None:
    error = None if future.cancelled() else future.exception()
    if error is not None:
        logger.error("websub job failed error=%r", error, exc_info=error)
