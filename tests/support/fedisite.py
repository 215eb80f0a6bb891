"""The site's fediverse side served for real on a loopback port, in this process: app, builder, federation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any

from werkzeug.serving import make_server

from support.fediremote import RemoteServer
from support.server import free_port
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.federation import Federation
from syndicator.service.federation import Tuning
from syndicator.service.http.app import create_app
from syndicator.service.http.context import EXTENSION
from syndicator.service.schedule import Reloads


@dataclass
class Site:
    """A site with ``fediverse`` on, answering HTTP on ``url`` (its site_url)."""

    settings: Settings
    tuning: Tuning

    def __post_init__(self) -> None:
        self.builder = Builder(self.settings)
        self.federation = Federation(self.settings, self.tuning)
        self.builder.listeners.append(self.federation.after_reload)
        app = create_app(self.settings, self.builder, federation=self.federation)
        port = int(self.settings.site_url.rsplit(":", 1)[1])
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = self.settings.base_url

    def reload(self, now: datetime) -> None:
        """A reload as the scheduler runs it (the federation hears of it as a listener)."""
        Reloads(self.builder, lambda: now).run()

    def actor(self, handle: str) -> str:
        return f"{self.url}/ap/actors/{handle}"

    def pump(self, until: Callable[[], bool], timeout: float = 30) -> bool:
        """Start due deliveries (as the federation's thread does) until a condition holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.federation.deliver_due()
            if until():
                return True
            time.sleep(0.05)
        return until()

    def restart(self) -> None:
        """A new federation over the same state_dir, as a restarted server has."""
        self.federation.close()
        self.builder.listeners.clear()
        self.federation = Federation(self.settings, self.tuning)
        self.builder.listeners.append(self.federation.after_reload)
        app = self._server.app
        app.extensions[EXTENSION] = replace(app.extensions[EXTENSION], federation=self.federation)  # type: ignore[attr-defined]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.federation.close()


@contextmanager
def fediverse_sites(
    make_settings: Callable[..., Settings], now: datetime | None = None
) -> Iterator[Callable[..., Site]]:
    """Make sites with the fediverse on (private addresses allowed: the remote is on loopback), each served on a free
    port and loaded at ``now`` when given; all closed at the end."""
    sites: list[Site] = []

    def make(tuning: Tuning | None = None, **overrides: Any) -> Site:
        values = {"fediverse": True, "fediverse_allow_private": True, "site_url": f"http://127.0.0.1:{free_port()}"}
        site = Site(make_settings(**{**values, **overrides}), tuning or Tuning(retry_base=0.2))
        sites.append(site)
        if now is not None:
            site.reload(now)
        return site

    try:
        yield make
    finally:
        for site in sites:
            site.close()


def followed(site: Site, remote: RemoteServer, handle: str = "alpha") -> Site:
    """The site, once the remote's reader follows its account ``handle`` and the Accept has arrived."""
    assert remote.follow(site.actor(handle))[1].status_code == 202
    assert site.pump(lambda: bool(remote.activities("Accept")))
    return site
