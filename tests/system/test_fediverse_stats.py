"""`syndicator stats` lists each fediverse account's followers, as a separate process over a site followed for real."""

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


def test_stats_counts_followers_per_account(site: Site, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """`syndicator stats` lists each account's followers."""
    config = tmp_path / "syndicator.toml"
    config.write_text(
        f'fediverse = true\nsite_url = "{site.url}"\nstate_dir = "{site.settings.state_dir}"\n'
        f'posts_dir = "{site.settings.posts_dir}"\noutput_dir = "{site.settings.output_dir}"\n'
    )
    done = run_cli("stats", "--config", str(config), timeout=60, check=True)
    host = site.url.removeprefix("http://")
    assert f"@alpha@{host}  /feeds/category/alpha  1" in done.stdout
