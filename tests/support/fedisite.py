"""The site's fediverse side served for real on a loopback port, in this process: app, builder, federation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from werkzeug.serving import make_server

from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.federation import Federation
from syndicator.service.federation import Tuning
from syndicator.service.schedule import Reloads
from syndicator.service.web import create_app


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
        self._server.app.config["SYNDICATOR_FEDIVERSE"] = self.federation  # type: ignore[attr-defined]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.federation.close()
