"""The fixtures of a site whose accounts a remote fediverse server follows (registered by conftest's pytest_plugins).

``remote``: the independent server, with two users; ``make_site``: sites with the fediverse on, served on free
loopback ports and closed after the test; ``site``: one whose Alpha account the remote's reader follows. A test
file may define any of them again for its own needs.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.factories import NOW
from support.fediremote import RemoteServer
from support.fedisite import Site
from support.server import free_port
from syndicator.config import Settings
from syndicator.service.federation import Tuning


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer(names=("reader", "other"))
    yield server
    server.close()


@pytest.fixture
def make_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Iterator[Callable[..., Site]]:
    write_post("a.md", title="A", categories="[Alpha]")
    sites: list[Site] = []

    def make(tuning: Tuning | None = None, **overrides: Any) -> Site:
        values = {"fediverse": True, "fediverse_allow_private": True, "site_url": f"http://127.0.0.1:{free_port()}"}
        site = Site(make_settings(**{**values, **overrides}), tuning or Tuning(retry_base=0.2))
        site.reload(NOW)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


@pytest.fixture
def site(make_site: Callable[..., Site], remote: RemoteServer) -> Site:
    """A site whose Alpha account the remote's reader follows (its Accept delivered)."""
    built = make_site()
    assert remote.follow(built.actor("alpha"))[1].status_code == 202
    assert built.pump(lambda: bool(remote.activities("Accept")))
    return built
