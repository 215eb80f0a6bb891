"""Where readers reach the service, beside where its links point: a site_url that is not theirs is a problem.

Every link in a feed is built from site_url. A request from readers (through a
trusted proxy, or straight from another address) whose Host and scheme are
not site_url's means the feeds send them elsewhere (the quick start's
``http://127.0.0.1:8000`` behind ``https://blog.example.org``): the first time
each such origin is seen it is logged once, and ``/healthz`` lists it as a
problem until the service restarts. A Host that is no valid host name is
ignored (anyone may send one); a handful of origins are remembered at most.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicator.configchecks import valid_host

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
SHOWN = 5  # other origins listed at most
REMEMBERED = 256  # (scheme, Host) pairs looked at, at most: past it, new ones are not looked at


def origin(scheme: str, netloc: str) -> str | None:
    """``scheme://host[:port]`` as compared (lower case, no default port); None for a host that is not valid."""
    try:
        split = urlsplit(f"//{netloc}")
        host, port = split.hostname or "", split.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not valid_host(host) or port == 0:
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{shown}:{port}"


class Origins:
    """The origins readers reach the service at that are not site_url's: each one a warning once, and a problem."""

    def __init__(self, site_url: str) -> None:
        split = urlsplit(site_url)
        self.site = f"{split.scheme}://{split.netloc}"
        self.own = origin(split.scheme, split.netloc)
        self._seen: dict[tuple[str, str], bool] = {}
        self._others: list[str] = []
        self._lock = threading.Lock()

    def saw(self, environ: WSGIEnvironment) -> None:
        """A request from readers: its scheme and Host (as a trusted proxy named them) against site_url's."""
        key = (str(environ.get("wsgi.url_scheme", "http")), str(environ.get("HTTP_HOST", "")))
        if key in self._seen or len(self._seen) >= REMEMBERED:
            return
        with self._lock:
            if key in self._seen:
                return
            seen = origin(*key)
            self._seen[key] = True
            if seen is None or seen == self.own or seen in self._others or len(self._others) >= SHOWN:
                return
            self._others.append(seen)
        logger.warning("site_url is not the address requests reach site_url=%s reached_at=%s", self.site, seen)

    @property
    def problems(self) -> list[str]:
        """One message per origin readers reach that is not site_url's."""
        return [f"feeds link to {self.site} but readers reach {other} (set site_url)" for other in self._others]
