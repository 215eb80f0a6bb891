"""`syndicator stats` lists each fediverse account's followers, as a separate process over a site followed for real."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.fedisite import Site


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
