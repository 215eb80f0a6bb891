"""Turn syndicator.toml and SYNDICATOR_* variables into one frozen Settings.

The SETTINGS table is the single source of truth: it gives each key its type,
default and help text, and drives the TOML reader, the environment parser and
the README's settings table. The file's tables are read by their own modules:
``[redirects]`` and ``[categories]`` by ``configtables``, ``[podcasts.*]`` by
``podcastconfig``; ``configchecks`` checks the values that need more than a type.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from syndicator.configchecks import check_folders
from syndicator.configchecks import check_id_authority
from syndicator.configchecks import check_image_setting
from syndicator.configchecks import check_language
from syndicator.configchecks import check_site_url
from syndicator.configchecks import image_file
from syndicator.configchecks import relay_url
from syndicator.configtables import Categories
from syndicator.configtables import ConfigError as ConfigError
from syndicator.configtables import Lines
from syndicator.configtables import Redirects
from syndicator.configtables import key_lines
from syndicator.configtables import located
from syndicator.configtables import parse_categories
from syndicator.configtables import parse_redirects
from syndicator.podcastconfig import Podcasts
from syndicator.podcastconfig import parse_podcasts

ENV_PREFIX = "SYNDICATOR_"
TABLES = ("redirects", "categories", "podcasts")  # tables of the config file, beside the SETTINGS keys
_SITE_HANDLE = re.compile(r"[a-z0-9_][a-z0-9_-]{0,63}")  # a user name without a dot: no tag. or author. account


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("site_title", str, "Syndicator", "Title of the site and of the site-wide feeds."),
    Setting(
        "site_url",
        str,
        "http://127.0.0.1:8000",
        "Public base URL (http or https, a host, a port if not the default); every link is absolute under it.",
    ),
    Setting("site_author", str, "", "Author of posts that name none (empty: the site title)."),
    Setting("language", str, "en", "Language of the feeds (RSS `language`, HTML `lang`)."),
    Setting("posts_dir", Path, "posts", "Folder of Markdown posts, searched recursively."),
    Setting(
        "output_dir",
        Path,
        "feeds",
        "Folder the static feed files are written to: public as a whole, so neither `posts_dir` nor `state_dir`"
        " may be in it, nor it in them (refused in one line).",
    ),
    Setting("feed_size", int, 20, "Number of newest posts in each feed."),
    Setting("full_content", bool, True, "Full posts in Atom `content`, RSS `content:encoded`, JSON `content_html`."),
    Setting("reload_interval", int, 60, "Seconds between reloads of `posts_dir`; also the feeds' `max-age`."),
    Setting("timezone", str, "UTC", "Time zone of dates written without an offset."),
    Setting("summary_words", int, 55, "Word limit of the summary of a post without an excerpt marker."),
    Setting("id_authority", str, "", "Authority of `tag:` ids (empty: the host of `site_url`)."),
    Setting("max_post_bytes", int, 2 * 1024 * 1024, "Larger post files are reported and skipped."),
    Setting("max_image_bytes", int, 10 * 1024 * 1024, "A larger image is warned about; feeds' thumbnails resize it."),
    Setting("max_image_pixels", int, 8000, "A wider or taller image is warned about; feeds' thumbnails resize it."),
    Setting("archive_page_size", int, 50, "Posts per archive page (RFC 5005)."),
    Setting("page_size", int, 10, "Posts per HTML page of the home page and of each archive (`/…/page/<n>/`)."),
    Setting("state_dir", Path, ".syndicator", "Folder of the id ledger, the caches and the hub's subscriptions."),
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
    Setting("site_rights", str, "", "Rights statement of the feeds (Atom `rights`, RSS `copyright`); empty: none."),
    Setting("tombstone_days", int, 30, "Days a deleted post stays in its feeds as an RFC 6721 tombstone."),
    Setting(
        "stats_token",
        str,
        "",
        "Token that opens /stats/, the readers' charts (`Authorization: Bearer`; empty: no /stats/).",
    ),
    Setting(
        "site_icon",
        str,
        "",
        "Small square image of the site (an image file, relative to the config file's folder, or an http(s) URL): "
        "Atom `icon`, JSON Feed `favicon` and `icon`, RSS `image` when there is no logo, the pages' favicon.",
    ),
    Setting(
        "site_logo",
        str,
        "",
        "Wide image of the site (an image file, relative to the config file's folder, or an http(s) URL): "
        "Atom `logo`, RSS `image`, JSON Feed `icon` when there is no icon.",
    ),
    Setting(
        "fediverse",
        bool,
        False,
        "Make the site, every category, tag and author an ActivityPub account that Mastodon users can follow.",
    ),
    Setting("fediverse_site_handle", str, "blog", "User name of the whole site's fediverse account (`@blog@<host>`)."),
    Setting(
        "fediverse_allow_private",
        bool,
        False,
        "Allow fediverse key fetches and deliveries to loopback, private and link-local addresses.",
    ),
    Setting(
        "theme_dir",
        Path,
        "",
        "Folder of the publisher's theme: its `templates/` and `static/` files replace the bundled ones of the same "
        "name (see Themes; empty: the bundled theme).",
    ),
    Setting("smtp_url", str, "", "Mail relay of the email subscriptions (see Following by email); empty: none."),
    Setting("email_from", str, "", "`From` of the mails: `news@example.org` or `Blog <news@example.org>`."),
    Setting("email_rate", int, 10, "Mails sent a second at most."),
    Setting("digest_hour", int, 8, "Hour (0-23, in `timezone`) the daily digests go out; weekly ones on Mondays."),
    Setting(
        "trusted_proxies",
        tuple,
        ("127.0.0.0/8", "::1"),
        "Addresses or CIDR blocks of the proxies (nginx, a CDN) whose `X-Forwarded-For`, `-Host`, `-Proto` and "
        "`X-Real-IP` name the client.",
    ),
    Setting("cdn_purge_url", str, "", "Where each reload's changed keys are purged (`PURGE`, see Behind a CDN)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


_MINIMUM = {
    "feed_size": 1,
    "reload_interval": 1,
    "summary_words": 1,
    "max_post_bytes": 1,
    "max_image_bytes": 1,
    "max_image_pixels": 16,
    "archive_page_size": 1,
    "tombstone_days": 0,
    "page_size": 1,
    "email_rate": 1,
}
_FROM = re.compile(r"[^\x00-\x1f\x7f<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+")  # an address, or name <address>


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
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 8000
    archive_page_size: int = 50
    page_size: int = 10
    state_dir: Path = Path(".syndicator")
    websub_hub: str = ""
    websub_allow_private: bool = False
    site_rights: str = ""
    tombstone_days: int = 30
    # A secret that changes no feed or page bytes: out of equality and of the fingerprint (written under state_dir).
    stats_token: str = field(default="", compare=False, repr=False)
    site_icon: str = ""
    site_logo: str = ""
    fediverse: bool = False
    fediverse_site_handle: str = "blog"
    fediverse_allow_private: bool = False
    # Only the pages show the theme, which are made anew by each process: out of the fingerprint (feed caches stay).
    theme_dir: Path | None = field(default=None, repr=False)
    smtp_url: str = field(default="", compare=False, repr=False)  # a password, maybe; mail changes no feed bytes
    email_from: str = field(default="", compare=False, repr=False)
    email_rate: int = field(default=10, compare=False, repr=False)
    digest_hour: int = field(default=8, compare=False, repr=False)
    # How requests reach the service: no feed or page bytes depend on them.
    trusted_proxies: tuple[str, ...] = field(default=("127.0.0.0/8", "::1"), compare=False, repr=False)
    cdn_purge_url: str = field(default="", compare=False, repr=False)
    # Redirects change no feed or page bytes: they stay out of equality, hashing and the settings fingerprint
    # (a large site has thousands, and the fingerprint is taken per post).
    redirects: Redirects = field(default_factory=Redirects, compare=False, repr=False)
    # Out of equality and the fingerprint too: the feeds' specs and the pages' keys carry the descriptions they show.
    categories: Categories = field(default_factory=Categories, compare=False, repr=False)
    podcasts: Podcasts = field(default_factory=Podcasts)  # [podcasts.*]: feeds' bytes, so in the fingerprint

    def __post_init__(self) -> None:
        self._check_addresses()
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"timezone: unknown time zone {self.timezone!r}") from exc
        for name in ("site_icon", "site_logo"):
            check_image_setting(name, getattr(self, name))
        check_language(self.language)
        check_id_authority(self.id_authority)
        if not _SITE_HANDLE.fullmatch(self.fediverse_site_handle):
            raise ConfigError(
                f"fediverse_site_handle: {self.fediverse_site_handle!r} must be lower-case letters, digits, - and _"
            )
        for name, minimum in _MINIMUM.items():
            if getattr(self, name) < minimum:
                raise ConfigError(f"{name}: must be at least {minimum}")
        if not 0 <= self.digest_hour <= 23:
            raise ConfigError("digest_hour: must be 0 to 23")
        if self.smtp_url and not (relay_url(self.smtp_url) and _FROM.fullmatch(self.email_from)):
            raise ConfigError("smtp_url needs a relay (smtp://, smtp+starttls:// or smtps://, a host) and email_from")

    def _check_addresses(self) -> None:
        """site_url, the hub's and the CDN's URLs, the trusted proxies' addresses."""
        check_site_url(self.site_url)
        for name in ("websub_hub", "cdn_purge_url"):
            if getattr(self, name) and urlsplit(getattr(self, name)).scheme not in ("http", "https"):
                raise ConfigError(f"{name}: {getattr(self, name)!r} is not an http(s) URL")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"trusted_proxies: {proxy!r} is not an address or a CIDR block") from None

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


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else ""
    return True if word in ("true", "1", "yes", "on") else False if word in ("false", "0", "no", "off") else None


def _to_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def _to_tuple(value: Any) -> tuple[str, ...] | None:
    """A list of strings: a TOML array, or (in a variable) words separated by commas or spaces."""
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


_CONVERT = {
    bool: (_to_bool, "true or false"),
    int: (_to_int, "a whole number"),
    tuple: (_to_tuple, "a list of strings"),
}


def _convert(setting: Setting, value: Any, source: str) -> Any:
    convert, expected = _CONVERT.get(setting.type, (None, "a string"))
    converted = convert(value) if convert is not None else None
    if converted is not None:
        return converted
    if convert is None and isinstance(value, str):
        empty = not (value or setting.default)  # an empty path where that is the default (theme_dir): none
        return value if setting.type is str or empty else Path(value)
    raise ConfigError(f"{source}: {setting.name} must be {expected}, not {value!r}")


def _file_values(path: Path) -> tuple[dict[str, Any], Lines]:
    """The settings (and the tables) of a TOML file, checked and converted; and the line of each key."""
    try:
        data = tomllib.loads(text := path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from exc
    values: dict[str, Any] = {}
    lines = key_lines(text)
    for key, value in data.items():
        if key in TABLES:
            read = {"redirects": parse_redirects, "categories": parse_categories}.get(key)
            values[key] = read(value, str(path), lines) if read else parse_podcasts(value, str(path), text, ConfigError)
            for show in values[key].shows if key == "podcasts" else ():  # its language, as the site's is checked
                if show.language:
                    check_language(show.language, f"{show.source}:{show.line_of('language')}: {show.key}.language")
            continue
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{located(str(path), lines, '', key)}: unknown setting {key!r}")
        values[key] = _convert(setting, value, located(str(path), lines, "", key))
    return values, lines


def _environment_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings of SYNDICATOR_* variables, checked and converted (relative paths against the current folder)."""
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"environment: unknown setting {key}")
        values[name] = _convert(setting, raw, key)
        if setting.type is Path and values[name]:
            values[name] = Path.cwd() / values[name]
        elif name in ("site_icon", "site_logo"):
            image_file(name, values, Path.cwd())
    return values


def load_settings(
    path: Path | None,
    environ: Mapping[str, str],
    *,
    required: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Read settings from a TOML file (when it exists) and SYNDICATOR_* variables.

    An environment variable wins over the file. Relative paths from the file are
    resolved against the file's folder; other relative paths against the
    current folder. ``defaults`` replace the table's defaults for keys neither
    sets (``serve --port`` gives site_url its port this way).
    """
    values: dict[str, Any] = dict(defaults or {})
    base, lines = Path.cwd(), cast(Lines, {})
    if path is not None and path.is_file():
        read, lines = _file_values(path)
        values.update(read)
        base = path.resolve().parent
    elif path is not None and required:
        raise ConfigError(f"{path}: no such config file")
    for name in ("site_icon", "site_logo"):
        image_file(name, values, base)
    given = _environment_values(environ)
    values.update(given)
    for setting in SETTINGS:
        if setting.type is Path:
            value = values.get(setting.name, setting.default)
            values[setting.name] = base / value if value else None  # only theme_dir may be empty (its default)
    try:
        settings = Settings(**values)
    except ConfigError as exc:  # "<setting>: why": where that setting was given (a default's: nowhere)
        line = lines.get(("", name := str(exc).partition(":")[0]))
        where = f"environment: {ENV_PREFIX}{name.upper()}" if name in given else f"{path}:{line}" if line else ""
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    check_folders(settings.posts_dir, settings.output_dir, settings.state_dir)
    return settings
