"""Settings from the table, the TOML file and SYNDICATOR_* variables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from syndicator.config import SETTINGS
from syndicator.config import TABLES
from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import load_settings


def test_defaults_match_the_table() -> None:
    """The Settings class and the SETTINGS table agree on every key and default (an empty path: None)."""
    fields = {f.name: f.default for f in dataclasses.fields(Settings) if f.name not in TABLES}
    table = {s.name: ((Path(s.default) if s.default else None) if s.type is Path else s.default) for s in SETTINGS}
    assert fields == table


def test_runs_with_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file: defaults, paths against the current folder."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "syndicator.toml", {})
    assert settings.posts_dir == tmp_path / "posts"
    assert settings.site_url == "http://127.0.0.1:8000"
    assert settings.authority == "127.0.0.1"


def test_file_values_and_relative_paths(tmp_path: Path) -> None:
    """Values come from the file; relative paths resolve against the file's folder."""
    config = tmp_path / "site" / "site.toml"
    config.parent.mkdir()
    config.write_text('site_title = "Blog"\nposts_dir = "content"\nfeed_size = 5\nfull_content = false\n')
    settings = load_settings(config, {})
    assert settings.site_title == "Blog"
    assert settings.posts_dir == tmp_path / "site" / "content"
    assert settings.output_dir == tmp_path / "site" / "feeds"
    assert settings.feed_size == 5 and settings.full_content is False


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    """SYNDICATOR_<KEY> overrides the file, parsed by the key's declared type."""
    config = tmp_path / "s.toml"
    config.write_text('site_title = "File"\nfeed_size = 5\n')
    settings = load_settings(
        config,
        {"SYNDICATOR_SITE_TITLE": "Env", "SYNDICATOR_FEED_SIZE": "7", "SYNDICATOR_FULL_CONTENT": "0", "OTHER": "x"},
    )
    assert (settings.site_title, settings.feed_size, settings.full_content) == ("Env", 7, False)


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ("colour = 1\n", {}, "unknown setting 'colour'"),
        ("", {"SYNDICATOR_COLOUR": "x"}, "unknown setting SYNDICATOR_COLOUR"),
        ('feed_size = "many"\n', {}, "feed_size must be a whole number"),
        ("", {"SYNDICATOR_FULL_CONTENT": "perhaps"}, "full_content must be true or false"),
        ('site_url = "example.org"\n', {}, "site_url"),
        ('site_url = "https://blog example.org"\n', {}, "site_url: 'https://blog example.org' is not an http"),
        ('site_url = "ftp://blog.example.org"\n', {}, "site_url"),
        ('site_url = "https://blog.example.org:99999/"\n', {}, "site_url: .* valid host and port"),
        ('site_url = "https://blog.example.org:0/"\n', {}, "site_url: .* valid host and port"),
        ('site_url = "https://blog.example.org:x/"\n', {}, "site_url: .* valid host and port"),
        ('site_url = "https://-blog.example.org/"\n', {}, "site_url"),
        ('site_url = "https://user@blog.example.org/"\n', {}, "site_url"),
        ('site_url = "https://blog.example.org/?p=1"\n', {}, "site_url: .* must end with its path .no query"),
        ('trusted_proxies = ["10.0.0.0/8", "nginx"]\n', {}, "trusted_proxies: 'nginx' is not an address"),
        ("trusted_proxies = 10\n", {}, "trusted_proxies must be a list of strings"),
        ('cdn_purge_url = "varnish:6081"\n', {}, "cdn_purge_url"),
        ('site_icon = "icon.png"\n', {}, "site_icon: .*icon.png is not a file"),
        ('site_logo = "notes.txt"\n', {}, "site_logo: 'notes.txt' is not an image file"),
        ('timezone = "Mars/Olympus"\n', {}, "unknown time zone"),
        ("feed_size = 0\n", {}, "feed_size: must be at least 1"),
        ("", {"SYNDICATOR_PAGE_SIZE": "0"}, "page_size: must be at least 1"),
        ("site_title = \n", {}, "s.toml"),
        ('language = "<x>\\"y"\n', {}, "language: .* is not a language tag"),
        ('language = "en gb"\n', {}, "language: 'en gb' is not a language tag"),
        ('language = "English"\n', {}, "language: 'English' is not a language tag"),
        ('id_authority = "a b"\n', {}, "id_authority: 'a b' is not a domain name or an email address"),
        ("", {"SYNDICATOR_ID_AUTHORITY": "example.org,2020"}, "id_authority: 'example.org,2020' is not"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, toml: str, environ: dict[str, str], message: str) -> None:
    """An unknown key or a bad value is a ConfigError naming it."""
    config = tmp_path / "s.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, environ)


@pytest.mark.parametrize(
    ("toml", "environ", "said"),
    [
        ('site_title = "T"\n\nfeed_size = 0\n', {}, "{config}:3: feed_size: must be at least 1"),
        ('site_title = "T"\nfeedsize = 10\n', {}, "{config}:2: unknown setting 'feedsize'"),
        ('site_title = "T"\ntimezone = "Mars/Olympus"\n', {}, "{config}:2: timezone: unknown time zone 'Mars/Olympus'"),
        ('feed_size = "x"\n', {}, "{config}:1: feed_size must be a whole number, not 'x'"),
        ('[redirects.category]\nold = "new"\nfeedsize = 10\n', {}, "{config}:3: redirects.category: 10 (for"),
        ('[categories.x]\ncolour = "red"\n', {}, "{config}:2: categories.x: unknown key 'colour'"),
        ("feed_size = 5\n", {"SYNDICATOR_FEED_SIZE": "0"}, "environment: SYNDICATOR_FEED_SIZE: feed_size: must be"),
    ],
)
def test_a_bad_setting_is_named_with_its_file_and_line(
    tmp_path: Path, toml: str, environ: dict[str, str], said: str
) -> None:
    """Where the bad value is written: the config file and its line, or the environment variable."""
    config = tmp_path / "s.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ)
    assert str(raised.value).startswith(said.format(config=config)), str(raised.value)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('output_dir = "posts"', "output_dir and posts_dir are the same folder"),
        ('output_dir = "."\nposts_dir = "site/posts"', r"posts_dir \(.*/site/posts\) is inside output_dir"),
        ('output_dir = "posts/feeds"', r"output_dir \(.*/posts/feeds\) is inside posts_dir"),
        ('state_dir = "feeds/.state"', r"state_dir \(.*/feeds/\.state\) is inside output_dir"),
        ('state_dir = "feeds"', "output_dir and state_dir are the same folder"),
        ('state_dir = "posts"', "state_dir and posts_dir are the same folder"),
        ('output_dir = "feeds-link"', "output_dir and posts_dir are the same folder"),  # through a symlink
    ],
)
def test_posts_output_and_state_folders_are_apart(tmp_path: Path, toml: str, message: str) -> None:
    """output_dir is public as a whole: neither the posts (drafts, posts for partners) nor the state (partners'
    tokens, subscribers' addresses) may be in it, nor it in them; a config saying otherwise is refused."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "feeds-link").symlink_to(tmp_path / "posts")
    config = tmp_path / "syndicator.toml"
    config.write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(config, {})


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    """--config with a missing file is an error, unlike the optional default."""
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "missing.toml", {}, required=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://blog.example.org",
        "https://blog.example.org:8443/news/",
        "http://127.0.0.1:8000",
        "http://[::1]:8080/",
        "https://bücher.example/",
        "http://localhost/",
    ],
)
def test_a_valid_site_url_is_taken(url: str) -> None:
    """Names (IDNA too), addresses (IPv6 in brackets), ports and a path are all a site_url may have."""
    assert Settings(site_url=url).site_url == url


def test_trusted_proxies_from_the_file_and_the_environment(tmp_path: Path) -> None:
    """A TOML list, or in a variable words separated by commas or spaces; loopback only by default."""
    config = tmp_path / "s.toml"
    config.write_text('trusted_proxies = ["10.0.0.0/8", "2001:db8::/32"]\n')
    assert load_settings(config, {}).trusted_proxies == ("10.0.0.0/8", "2001:db8::/32")
    variable = {"SYNDICATOR_TRUSTED_PROXIES": "192.0.2.1, 198.51.100.0/24"}
    assert load_settings(config, variable).trusted_proxies == ("192.0.2.1", "198.51.100.0/24")
    assert Settings().trusted_proxies == ("127.0.0.0/8", "::1")


def test_a_site_image_is_resolved_against_the_config_files_folder(tmp_path: Path) -> None:
    """site_icon = "icon.png" in /srv/site/syndicator.toml is /srv/site/icon.png, like every path in the file."""
    config = tmp_path / "site" / "syndicator.toml"
    config.parent.mkdir()
    (config.parent / "icon.png").write_bytes(b"\x89PNG")
    (tmp_path / "logo.svg").write_text("<svg/>")
    config.write_text('site_icon = "icon.png"\nsite_logo = "../logo.svg"\n')
    settings = load_settings(config, {})
    assert (settings.site_icon, settings.site_logo) == (str(config.parent / "icon.png"), str(tmp_path / "logo.svg"))
    remote = load_settings(config, {"SYNDICATOR_SITE_LOGO": "https://cdn.example.net/logo.png"})
    assert remote.site_logo == "https://cdn.example.net/logo.png"
