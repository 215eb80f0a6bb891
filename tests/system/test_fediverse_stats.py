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
from support.fedisite import fediverse_sites
from support.fedisite import followed
from syndicator.config import Settings


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer(names=("reader", "other"))
    yield server
    server.close()


@pytest.fixture
def make_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Iterator[Callable[..., Site]]:
    write_post("a.md", title="A", categories="[Alpha]")
    with fediverse_sites(make_settings, NOW) as make:
        yield make


@pytest.fixture
def site(make_site: Callable[..., Site], remote: RemoteServer) -> Site:
    """A site whose Alpha account the remote's reader follows (its Accept delivered)."""
    return followed(make_site(), remote)


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
