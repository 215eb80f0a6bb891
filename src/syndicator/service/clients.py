"""Who a request comes from, and a brake on clients that keep failing to authenticate.

Behind the shipped nginx (which proxies everything but feeds/ from loopback),
the peer is 127.0.0.1: the address nginx names in ``X-Real-IP`` is taken
instead, and only from a loopback peer (anyone else could name any address).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


def client_address(environ: WSGIEnvironment) -> str:
    """The client's address: the peer's, or the one a proxy on loopback names in X-Real-IP."""
    return address_of(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_REAL_IP"))


def address_of(peer: str | None, named: str | None) -> str:
    """The client's address from the peer's (REMOTE_ADDR) and the one a proxy names (X-Real-IP)."""
    peer = peer or ""
    if named and peer in ("127.0.0.1", "::1"):
        try:
            return str(ipaddress.ip_address(str(named).strip()))
        except ValueError:
            return peer
    return peer


def client_key(address: str) -> str:
    """What failures count against: the address, or for IPv6 its /64 (one host holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Throttle:
    """Failed attempts per client: the ``free``-th failure closes the door, and each one more twice as long.

    The first wait is ``base`` seconds, the longest ``longest``; a client that
    stays quiet for ``longest`` starts over. At most ``size`` clients are
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
    ) -> None:
        self.free, self.base, self.longest, self.size, self.clock = free, base, longest, size, clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # key -> (failures, until, last)

    def wait(self, address: str) -> float:
        """Seconds before this client may try again (0: now)."""
        key = client_key(address)
        with self._lock:
            known = self._clients.get(key)
            if known is None:
                return 0.0
            now = self.clock()
            if now - known[2] > self.longest:
                del self._clients[key]
                return 0.0
            return max(0.0, known[1] - now)

    def failed(self, address: str) -> None:
        """Count a failed attempt."""
        key = client_key(address)
        with self._lock:
            now = self.clock()
            failures, _until, last = self._clients.pop(key, (0, 0.0, now))
            if now - last > self.longest:
                failures = 0
            failures += 1
            over = failures - self.free  # from the free-th failure on, the door shuts for base, 2 base, 4 base...
            until = now + min(self.longest, self.base * 2 ** min(over, 32)) if over >= 0 else 0.0
            self._clients[key] = (failures, until, now)
            while len(self._clients) > self.size:
                self._clients.popitem(last=False)

    def forget(self, address: str) -> None:
        """A client that got in: its failures no longer count."""
        with self._lock:
            self._clients.pop(client_key(address), None)
