"""Turn syndicator.toml and SYNDICATOR_* variables into one frozen Settings.

The SETTINGS table is the single source of truth: it gives each key its type,
default and help text, and drives the TOML reader, the environment parser and
the README's settings table.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

ENV_PREFIX = "SYNDICATOR_"


class ConfigError(Exception):
    """A setting is unknown, of the wrong type or out of range."""


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("site_title", str, "Syndicator", "Title of the site and of the site-wide feeds."),
    Setting("site_url", str, "http://127.0.0.1:8000", "Public base URL; every link in a feed is absolute under it."),
    Setting("site_author", str, "", "Author of posts that name none (empty: the site title)."),
    Setting("language", str, "en", "Language of the feeds (RSS `language`, HTML `lang`)."),
    Setting("posts_dir", Path, "posts", "Folder of Markdown posts, searched recursively."),
    Setting("output_dir", Path, "feeds", "Folder the static feed files are written to."),
    Setting("feed_size", int, 20, "Number of newest posts in each feed."),
    Setting("full_content", bool, True, "Put the full post in Atom `content` and RSS `content:encoded`."),
    Setting("reload_interval", int, 60, "Seconds between reloads of `posts_dir`; also the feeds' `max-age`."),
    Setting("timezone", str, "UTC", "Time zone of dates written without an offset."),
    Setting("summary_words", int, 55, "Word limit of the summary of a post without an excerpt marker."),
    Setting("id_authority", str, "", "Authority of `tag:` ids (empty: the host of `site_url`)."),
    Setting("max_post_bytes", int, 2 * 1024 * 1024, "Larger post files are reported and skipped."),
    Setting("archive_page_size", int, 50, "Posts per archive page (RFC 5005)."),
    Setting(
        "state_dir",
        Path,
        ".syndicator",
        "Folder for the id ledger, the parse and feed caches, and the hub's subscriptions.",
    ),
    Setting(
        "websub_hub",
        str,
        "",
        "URL of an external WebSub hub to advertise and ping (empty: the built-in hub at /websub).",
    ),
    Setting(
        "websub_allow_private",
        bool,
        False,
        "Allow WebSub callbacks on loopback, private and link-local addresses.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_MINIMUM = {"feed_size": 1, "reload_interval": 1, "summary_words": 1, "max_post_bytes": 1, "archive_page_size": 1}


@dataclass(frozen=True, slots=True)
class Settings:
    site_title: str = "Syndicator"
    site_url: str = "http://127.0.0.1:8000"
    site_author: str = ""
    language: str = "en"
    posts_dir: Path = Path("posts")
    output_dir: Path = Path("feeds")
    feed_size: int = 20
    full_content: bool = True
    reload_interval: int = 60
    timezone: str = "UTC"
    summary_words: int = 55
    id_authority: str = ""
    max_post_bytes: int = 2 * 1024 * 1024
    archive_page_size: int = 50
    state_dir: Path = Path(".syndicator")
    websub_hub: str = ""
    websub_allow_private: bool = False

    def __post_init__(self) -> None:
        split = urlsplit(self.site_url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ConfigError(f"site_url: {self.site_url!r} is not an absolute http(s) URL")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"timezone: unknown time zone {self.timezone!r}") from exc
        if self.websub_hub and urlsplit(self.websub_hub).scheme not in ("http", "https"):
            raise ConfigError(f"websub_hub: {self.websub_hub!r} is not an http(s) URL")
        for name, minimum in _MINIMUM.items():
            if getattr(self, name) < minimum:
                raise ConfigError(f"{name}: must be at least {minimum}")

    @property
    def base_url(self) -> str:
        """site_url without a trailing slash."""
        return self.site_url.rstrip("/")

    @property
    def authority(self) -> str:
        """The authority of tag: ids: id_authority, or the host of site_url."""
        return self.id_authority or (urlsplit(self.site_url).hostname or "localhost")

    @property
    def hub_url(self) -> str:
        """The WebSub hub the feeds advertise: websub_hub, or the built-in one."""
        return self.websub_hub or f"{self.base_url}/websub"

    @property
    def author_name(self) -> str:
        return self.site_author or self.site_title

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _convert(setting: Setting, value: Any, source: str) -> Any:
    if setting.type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
            return False
    elif setting.type is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif isinstance(value, str):
        return value if setting.type is str else Path(value)
    expected = {bool: "true or false", int: "a whole number"}.get(setting.type, "a string")
    raise ConfigError(f"{source}: {setting.name} must be {expected}, not {value!r}")


def load_settings(path: Path | None, environ: Mapping[str, str], *, required: bool = False) -> Settings:
    """Read settings from a TOML file (when it exists) and SYNDICATOR_* variables.

    An environment variable wins over the file. Relative paths from the file are
    resolved against the file's folder; other relative paths against the
    current folder.
    """
    values: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None and path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror}") from exc
        base = path.resolve().parent
        for key, value in data.items():
            setting = _BY_NAME.get(key)
            if setting is None:
                raise ConfigError(f"{path}: unknown setting {key!r}")
            values[key] = _convert(setting, value, str(path))
    elif path is not None and required:
        raise ConfigError(f"{path}: no such config file")
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"environment: unknown setting {key}")
        values[name] = _convert(setting, raw, key)
        if setting.type is Path:
            values[name] = Path.cwd() / values[name]
    for setting in SETTINGS:
        if setting.type is Path:
            values[setting.name] = base / values.get(setting.name, Path(setting.default))
    return Settings(**values)


def replace(settings: Settings, **changes: Any) -> Settings:
    """Return a copy of settings with some values changed (and validated)."""
    return dataclasses.replace(settings, **changes)
