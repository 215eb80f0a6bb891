"""store.configfile: an import's redirects and categories added to the config file in place (SPEC: WordPress import)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from syndicator.config import ConfigError
from syndicator.config import load_settings
from syndicator.store.configfile import Written
from syndicator.store.configfile import write_tables


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_private_config_file_stays_private(tmp_path: Path) -> None:
    """Adding redirects replaces the file whole, with the permissions it had (it may hold secrets)."""
    config = tmp_path / "syndicator.toml"
    config.write_text('stats_token = "secret"\n')
    config.chmod(0o600)
    assert write_tables(config, {"post": {"12": "first"}}, {}) == Written(redirects_added=1)
    assert mode_of(config) == 0o600
    assert load_settings(config, {}).redirects.get("post", "12") == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["syndicator.toml"]  # no temp file left beside it


def test_a_new_config_file_is_created_readable(tmp_path: Path) -> None:
    """A missing config file (and its folder) is created, mode 0644 like every file written."""
    config = tmp_path / "new" / "site.toml"
    assert write_tables(config, {"category": {"old": "new"}}, {}) == Written(redirects_added=1)
    assert mode_of(config) == 0o644
    assert load_settings(config, {}).redirects.get("category", "old") == "new"


def test_an_old_slug_already_mapped_is_kept_as_written(tmp_path: Path) -> None:
    """The file's own mapping wins, is counted as kept, and nothing is rewritten when nothing is added."""
    config = tmp_path / "syndicator.toml"
    config.write_text('# mine\n[redirects.tag]\nold = "mine"\n')
    before = config.stat().st_mtime_ns, config.stat().st_ino
    assert write_tables(config, {"tag": {"old": "theirs"}}, {}) == Written(redirects_kept=1)
    assert (config.stat().st_mtime_ns, config.stat().st_ino) == before
    assert config.read_text() == '# mine\n[redirects.tag]\nold = "mine"\n'


def test_a_config_file_that_is_not_toml_is_a_config_error(tmp_path: Path) -> None:
    """A config file that does not parse is a ConfigError naming it, and is left alone."""
    config = tmp_path / "syndicator.toml"
    config.write_text("site_title = \n")
    with pytest.raises(ConfigError, match=r"syndicator\.toml"):
        write_tables(config, {"post": {"1": "one"}}, {})
    assert config.read_text() == "site_title = \n"
