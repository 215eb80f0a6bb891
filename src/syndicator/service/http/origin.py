"""Where readers reach the service, beside where its links point: a site_url that is not theirs is a problem.

Every link in a feed is built from site_url. A request from readers (through a
trusted proxy, or straight from another address) whose Host and scheme are
not site_url's means the feeds send them elsewhere (the quick start's
``http://127.0.0.1:8000`` behind ``https://blog.example.org``). Anyone may
send any Host, so such an origin is believed only once WITNESSES clients
(``client_key``: an IPv6 /64 is one) reached it: it is then logged once, and
``/healthz`` lists it as a problem while it is counted (the SHOWN with the
most clients). A client counts for one such origin at a time (the
last it reached), and at most WATCHED origins are counted: past it, the one
with the fewest clients, least recently reached, makes room. So one client
sending a thousand Hosts holds one place, and readers who all reach one
origin keep it. A Host that is no valid host name is ignored.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicator.configchecks import valid_host
from syndicator.service.clients import client_address
from syndicator.service.clients import client_key

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
WITNESSES = 3  # clients that must reach an origin before it is believed
SHOWN = 5  # other origins listed at most
WATCHED = 64  # origins counted at most
KEPT = 64  # clients counted per origin, at most (enough to outrank any origin a few clients made up)
CLIENTS = 4096  # clients whose last origin is remembered, at most (the least recent are forgotten)
REMEMBERED = 256  # (scheme, Host) pairs whose origin is remembered (all forgotten past it); origins warned of


def origin(scheme: str, netloc: str) -> str | None:
    """``scheme://host[:port]`` as compared (lower case, no default port); None for a host that is not valid."""
    try:
        split = urlsplit(f"//{netloc}")
        host, port = split.hostname or "", split.port
    except ValueError:
        return None
    host = _ascii(host.removesuffix("."))  # a name as DNS compares it: one final dot or none, IDNs as Punycode
    if scheme not in DEFAULT_PORTS or not valid_host(host) or port == 0:
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{shown}:{port}"


def _ascii(host: str) -> str:
    """A host name in ASCII: an internationalized one as the Punycode a proxy passes on (``xn--bcher-kva``)."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


class Origins:
    """The origins readers reach the service at that are not site_url's: counted by the clients that reach them,
    and each one reached by WITNESSES clients a warning once, and a problem."""

    def __init__(self, site_url: str) -> None:
        split = urlsplit(site_url)
        self.site = f"{split.scheme}://{split.netloc}"
        self.own = origin(split.scheme, split.netloc)
        self._origins: dict[tuple[str, str], str | None] = {}  # (scheme, Host) -> its origin
        self._watched: OrderedDict[str, set[str]] = OrderedDict()  # origin -> its clients, least recently reached first
        self._clients: OrderedDict[str, str] = OrderedDict()  # client -> the origin it reached last
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def saw(self, environ: WSGIEnvironment) -> None:
        """A request from readers: its scheme and Host (as a trusted proxy named them) against site_url's."""
        seen = self._origin(str(environ.get("wsgi.url_scheme", "http")), str(environ.get("HTTP_HOST", "")))
        if seen is None or seen == self.own:
            return
        with self._lock:
            believed = self._count(seen, client_key(client_address(environ)))
            if not believed or seen in self._warned or len(self._warned) >= REMEMBERED:
                return
            self._warned.add(seen)
        logger.warning("site_url is not the address requests reach site_url=%s reached_at=%s", self.site, seen)

    def _origin(self, scheme: str, host: str) -> str | None:
        """The origin of a scheme and Host, remembered (any thread: a full table is replaced, never emptied)."""
        known, key = self._origins, (scheme, host)
        if key in known:
            return known[key]
        if len(known) >= REMEMBERED:
            self._origins = known = {}
        known[key] = found = origin(scheme, host)
        return found

    def _count(self, seen: str, client: str) -> bool:
        """Count a client reaching an origin (the lock held): whether WITNESSES clients reached it."""
        last = self._clients.pop(client, None)
        self._clients[client] = seen
        if len(self._clients) > CLIENTS:
            self._clients.popitem(last=False)
        if last is not None and last != seen and last in self._watched:  # the client counts for one origin
            self._watched[last].discard(client)
            if not self._watched[last]:
                del self._watched[last]
        if seen not in self._watched and len(self._watched) >= WATCHED:
            del self._watched[min(self._watched, key=lambda other: len(self._watched[other]))]
        clients = self._watched.setdefault(seen, set())
        self._watched.move_to_end(seen)
        if len(clients) < KEPT:
            clients.add(client)
        return len(clients) >= WITNESSES

    @property
    def problems(self) -> list[str]:
        """One message per origin WITNESSES clients reached that is not site_url's (SHOWN, the most reached first)."""
        with self._lock:
            counted = [(-len(clients), other) for other, clients in self._watched.items() if len(clients) >= WITNESSES]
        shown = [other for _, other in sorted(counted)[:SHOWN]]
        return [f"feeds link to {self.site} but readers reach {other} (set site_url)" for other in shown]
