"""The proxies whose forwarding headers are believed (``trusted_proxies``), and Werkzeug's ProxyFix for them.

Behind a proxy (the shipped nginx, a CDN) the peer is the proxy: a request
from an address of ``trusted_proxies`` (loopback by default) is taken as its
forwarding headers name it, with ``ProxyFix``'s semantics (the last
``X-Forwarded-For``, ``-Host`` and ``-Proto``: the values the trusted proxy
added; ``X-Real-IP`` when it sends no ``X-Forwarded-For``). Anyone else's
forwarding headers are ignored: they could name any address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from syndicator.service.clients import plain_address

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP")


class Proxies:
    """The proxies whose forwarding headers are believed (``trusted_proxies``), and ProxyFix for their requests."""

    def __init__(self, networks: Iterable[str], size: int = 1024) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.size = size
        self._known: dict[str | None, bool] = {}
        self._fix = ProxyFix(_passed_on, x_for=1, x_proto=1, x_host=1)

    def trusted(self, peer: str | None) -> bool:
        """Whether a peer is one of the trusted proxies (remembered per address: clients come back)."""
        known = self._known.get(peer)
        if known is None:
            if len(self._known) >= self.size:
                self._known = {}
            try:
                address = ipaddress.ip_address(plain_address(peer or ""))
            except ValueError:
                address = None
            known = self._known[peer] = address is not None and any(address in net for net in self.networks)
        return known

    def from_readers(self, environ: WSGIEnvironment) -> bool:
        """Take a request from a trusted proxy as the proxy names it; whether it comes from readers.

        True for a request through a trusted proxy, or straight from any other
        address; False for one from a trusted address that names no forwarding
        header (a health check, curl on the host), which is left as it is.
        """
        if not self.trusted(environ.get("REMOTE_ADDR")):
            return True
        if not any(name in environ for name in FORWARDING):
            return False
        if "HTTP_X_FORWARDED_FOR" not in environ and environ.get("HTTP_X_REAL_IP"):
            environ["HTTP_X_FORWARDED_FOR"] = environ["HTTP_X_REAL_IP"]  # nginx's X-Real-IP $remote_addr
        self._fix(environ, _no_answer)  # rewrites REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST in place
        return True


def _passed_on(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """ProxyFix's inner app: nothing; the request goes on to the route table with its environ fixed."""
    return ()


def _no_answer(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], object]:
    raise AssertionError("ProxyFix answered a request")
