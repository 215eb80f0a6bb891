"""Who a request comes from, and a brake on clients that keep presenting wrong credentials.

Behind a proxy (the shipped nginx, a CDN), REMOTE_ADDR is the client the
trusted proxy named (``service.http.proxies``), by the time a handler asks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


MAX_ADDRESS = 64  # characters of a client's address kept (a forwarded one is whatever the proxy passed on)


def client_address(environ: WSGIEnvironment) -> str:
    """The client's address: REMOTE_ADDR, as ``Proxies`` left it (the client a trusted proxy named)."""
    return plain_address(str(environ.get("REMOTE_ADDR") or ""))


def plain_address(address: str) -> str:
    """An address as clients are told apart: cut at MAX_ADDRESS characters, an IPv4-mapped one as IPv4."""
    return _plain(address[:MAX_ADDRESS].strip())


def _plain(address: str) -> str:
    """An IPv4-mapped IPv6 address as its IPv4 address; any other as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped) if mapped is not None else address


def client_key(address: str) -> str:
    """What failures count against: the address, or for IPv6 its /64 (one host holds a whole /64).

    An IPv4-mapped address counts as its IPv4 address (otherwise every IPv4
    client of a dual-stack socket would share ``::/64``).
    """
    try:
        ip = ipaddress.ip_address(_plain(address))
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _credential_key(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class Throttle:
    """Failed attempts per client and credential: the ``free``-th failure closes the door, each one more twice as long.

    Callers ask it only about credentials that are wrong: a valid one is always
    answered, so nobody sharing an address (a NAT, a hosted reader, an IPv6
    /64) can lock a partner out. A failure counts against the pair of client
    and credential presented (a reader retrying a stale token is slowed, a
    neighbour presenting another is not) and against the client alone, whose
    door closes only after ``guesses`` failures of any credentials (someone
    guessing). The first wait is ``base`` seconds, the longest ``longest``; a
    key that stays quiet for ``longest`` starts over. At most ``size`` keys are
    remembered (the least recently failing are forgotten first), so memory
    stays bounded however many addresses try.
    """

    def __init__(
        self,
        free: int = 5,
        base: float = 1.0,
        longest: float = 900.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        guesses: int = 100,
    ) -> None:
        self.free, self.base, self.longest, self.size, self.clock = free, base, longest, size, clock
        self.guesses = guesses
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # key -> (failures, until, last)

    def wait(self, address: str, credential: str = "") -> float:
        """Seconds before this client may try this credential (or any wrong one) again (0: now)."""
        client = client_key(address)
        with self._lock:
            now = self.clock()
            return max(self._wait(f"{client} {_credential_key(credential)}", now), self._wait(client, now))

    def _wait(self, key: str, now: float) -> float:
        known = self._clients.get(key)
        if known is None:
            return 0.0
        if now - known[2] > self.longest:
            del self._clients[key]
            return 0.0
        return max(0.0, known[1] - now)

    def failed(self, address: str, credential: str = "") -> None:
        """Count a failed attempt with this credential."""
        client = client_key(address)
        with self._lock:
            now = self.clock()
            self._count(f"{client} {_credential_key(credential)}", self.free, now)
            self._count(client, self.guesses, now)
            while len(self._clients) > self.size:
                self._clients.popitem(last=False)

    def _count(self, key: str, free: int, now: float) -> None:
        failures, _until, last = self._clients.pop(key, (0, 0.0, now))
        if now - last > self.longest:
            failures = 0
        failures += 1
        over = failures - free  # from the free-th failure on, the door shuts for base, 2 base, 4 base...
        until = now + min(self.longest, self.base * 2 ** min(over, 32)) if over >= 0 else 0.0
        self._clients[key] = (failures, until, now)

    def forget(self, address: str, credential: str = "") -> None:
        """A client whose credential got in: that pair's failures no longer count."""
        with self._lock:
            self._clients.pop(f"{client_key(address)} {_credential_key(credential)}", None)


class RequestLimit:
    """At most ``limit`` requests per client (client_key) in any ``window`` seconds; memory bounded by ``size``."""

    def __init__(
        self, limit: int, window: float = 60.0, size: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.size, self.clock = limit, window, size, clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, list[float]] = OrderedDict()  # key -> times of its requests, oldest first

    def wait(self, address: str) -> float:
        """Count a request: 0 when it may be answered, else the seconds until the client may ask again."""
        key = client_key(address)
        with self._lock:
            now = self.clock()
            times = [t for t in self._clients.pop(key, []) if now - t < self.window]
            if len(times) >= self.limit:
                self._clients[key] = times
                return max(0.001, times[0] + self.window - now)
            times.append(now)
            self._clients[key] = times
            while len(self._clients) > self.size:
                self._clients.popitem(last=False)
            return 0.0
