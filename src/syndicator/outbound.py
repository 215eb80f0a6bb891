"""Requests this program sends out: one look-up, every address checked, a connection pinned to it, a total deadline.

Shared by the WebSub hub (callbacks named by strangers) and the WordPress
importer (an old site's files and the redirects it answers). ``parse_target``
checks a URL's syntax only (no look-up). ``vetted_addresses`` resolves the host
once and refuses it if any of its addresses is not allowed (by default: only
public unicast ones). ``exchange`` connects to those very addresses, never to a
second look-up's, while Host, SNI and the certificate check still use the name,
and a ``Deadline`` shuts every socket of the request when its time is up,
however slowly the other end answers.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from typing import Protocol

MAX_HOST_BYTES = 253  # the longest DNS name
READ_TIMEOUT = 10.0  # seconds for one connect, send or read

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Addresses = Sequence[tuple[int, tuple[Any, ...]]]  # (family, socket address) pairs, each checked
AddressPolicy = Callable[[IPAddress], bool]  # whether an address may be contacted


class Resolve(Protocol):
    """The shape of socket.getaddrinfo (tests pass their own)."""

    def __call__(
        self, host: str, port: int, family: int = ..., type: int = ..., proto: int = ..., flags: int = ...
    ) -> Sequence[tuple[Any, ...]]: ...


class RefusedError(ValueError):
    """A URL or the address it leads to is refused; the message says why."""


class UnresolvedError(RefusedError):
    """The URL's host cannot be looked up now (no such name, no DNS): nothing is wrong with the URL itself."""


class NotPublicError(RefusedError):
    """The address a URL leads to is one the policy refuses (private, loopback, link-local...)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL as a request needs it: the host as sent (ASCII, lower case), port and selector."""

    scheme: str
    host: str
    port: int
    selector: str

    @property
    def host_header(self) -> str:
        """The Host header a request to it carries (as http.client writes it; a signature covers it)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"

    @property
    def literal(self) -> IPAddress | None:
        """The address, when the host is one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_target(url: str, what: str, max_bytes: int) -> Target:
    """Check an http(s) URL's syntax (no look-up); raise RefusedError naming ``what`` the URL is if refused."""
    if len(url.encode("utf-8")) > max_bytes:
        raise RefusedError(f"{what} is longer than {max_bytes} bytes")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise RefusedError(f"{what} must not contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # "http://[::1/x": an IPv6 host never closed
        raise RefusedError(f"{what} is not a URL") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise RefusedError(f"{what} must be an absolute http(s) URL")
    if "%" in host:
        raise RefusedError(f"{what}'s host must not be percent-encoded")
    try:
        host = host.encode("idna").decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (UnicodeError, ValueError):
        raise RefusedError(f"{what}'s host or port is not valid") from None
    if len(host) > MAX_HOST_BYTES:
        raise RefusedError(f"{what}'s host is longer than {MAX_HOST_BYTES} bytes")
    selector = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, selector)


def is_public(address: IPAddress) -> bool:
    """Whether an address is a public unicast one (not loopback, private, link-local, shared, reserved...).

    An IPv6 address that carries an IPv4 one to reach (IPv4-mapped, 6to4, the
    well-known NAT64 prefix) is the IPv4 address's; the other forms that lead
    to one (IPv4-compatible, IPv4-translated, local-use NAT64) and site-local
    addresses are not public, whatever Python's ``is_global`` says of them.
    """
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is None and any(address in network for network in _NOT_PUBLIC_V6):
            return False
        address = carried or address
    return address.is_global and not address.is_multicast


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address reached
_NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(network)  # IPv4-compatible, IPv4-translated, local-use NAT64, site-local
    for network in ("::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "fec0::/10")
)


def any_address(address: IPAddress) -> bool:
    """The policy that allows every address (private ones too, when the operator asked for them)."""
    return True


def is_local_name(host: str) -> bool:
    """Whether a name is loopback by definition (RFC 6761), so it can be refused without a look-up."""
    return host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")


def address_of(pair: tuple[int, tuple[Any, ...]]) -> IPAddress:
    """The address of a (family, socket address) pair, without an IPv6 zone."""
    return ipaddress.ip_address(str(pair[1][0]).split("%")[0])


def vetted_addresses(target: Target, allowed: AddressPolicy, resolve: Resolve) -> Addresses:
    """The (family, socket address) pairs to connect to: from one look-up, each of them allowed."""
    literal = target.literal
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        found: Sequence[tuple[Any, ...]] = [(family, socket.SOCK_STREAM, 0, "", (target.host, target.port))]
    else:
        try:
            found = resolve(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise UnresolvedError(f"cannot look up {target.host}: {exc}") from None
    addresses = [(int(info[0]), tuple(info[4])) for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise RefusedError(f"{target.host} has no address")
    for pair in addresses:
        if not allowed(address_of(pair)):
            if literal is not None:
                raise NotPublicError(f"{target.host} is not a public address")
            raise NotPublicError(f"{target.host} resolves to {pair[1][0]}, which is not a public address")
    return addresses


class Deadline:
    """A request's total deadline: when it passes, every socket of the request is shut down, whatever it waits for.

    Use it as a context manager (or call ``close``) so its timer and sockets are released.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def passed(self) -> bool:
        """Whether the deadline has come (a socket's own timeout, set to the time left, may fire before the timer)."""
        return self.expired or time.monotonic() >= self.at

    def remaining(self) -> float:
        """Seconds left; TimeoutError once there are none."""
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            self.expired = True
            raise TimeoutError("deadline passed")
        return left

    def connect(self, addresses: Addresses) -> socket.socket:
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


@contextlib.contextmanager
def exchange(
    target: Target,
    addresses: Addresses,
    clock: Deadline,
    method: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str],
) -> Iterator[http.client.HTTPResponse]:
    """Send one request to checked addresses and yield the answer (its body still to read), within the deadline."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, addresses, clock)
    try:
        connection.request(method, target.selector, body=body, headers=dict(headers))
        yield connection.getresponse()
    finally:
        connection.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP whose Host header names the host while the socket goes to an address checked before."""

    def __init__(self, target: Target, addresses: Addresses, clock: Deadline) -> None:
        super().__init__(target.host, target.port, timeout=READ_TIMEOUT)
        self._addresses = addresses
        self._clock = clock

    def connect(self) -> None:
        self.sock = self._clock.connect(self._addresses)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS connected to a checked address; SNI and the certificate check use the host name."""

    def __init__(self, target: Target, addresses: Addresses, clock: Deadline) -> None:
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
