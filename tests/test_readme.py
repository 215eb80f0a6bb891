"""The README documents every setting, command and URL, and the two commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.cli import cli
from syndicator.config import SETTINGS
from syndicator.podcastconfig import SHOW_KEYS
from syndicator.podcastconfig import ShowKey

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_in_the_settings_table(name: str) -> None:
    """Each key of the SETTINGS table has a row, with its help text."""
    setting = next(s for s in SETTINGS if s.name == name)
    assert f"| `{name}` |" in README
    assert setting.help in README


@pytest.mark.parametrize("key", SHOW_KEYS, ids=lambda key: key.name)
def test_every_podcast_key_is_in_the_podcast_settings_table(key: ShowKey) -> None:
    """Each key of a [podcasts.<slug>] table has a row in the README's podcast settings, with its help text."""
    section = README.split("### Podcast settings", 1)[1].split("\n## ", 1)[0]
    assert f"| `{key.name}` |" in section
    assert key.help in section


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented(command: str) -> None:
    """Each CLI command is in the command table."""
    assert f"`syndicator {command}" in README


@pytest.mark.parametrize(
    "url", ["/feeds/all.atom", "/feeds/category/<slug>.atom", "/feeds/index.opml", "/healthz", "/feed/"]
)
def test_feed_urls_are_documented(url: str) -> None:
    """The URL table names every feed path."""
    assert url in README


def test_the_two_commands() -> None:
    """The README's first section gives the run and the test command."""
    assert "pip install -e . && syndicator serve" in README
    assert "pip install -e '.[test]' && pytest" in README
