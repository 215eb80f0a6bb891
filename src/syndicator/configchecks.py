"""What a setting may be beyond its type: site_url's host and port, the site's images, the mail relay, the language
and id authority's shapes, the three folders apart.

``config`` runs these checks on every value it reads (the config file's
tables are ``configtables``'s). An image file is found on disk when the config
is read, against the config file's folder like every path in it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syndicator.configtables import ConfigError

_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_IMAGE = re.compile(r".+\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp)", re.IGNORECASE)  # an image file's name
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")  # one label of a host name (after IDNA)


def check_site_url(url: str) -> None:
    """site_url: http or https, a valid host (a name or an address) and port, nothing but a path after them."""
    split = urlsplit(url)
    try:
        port = split.port
    except ValueError:
        port = 0
    host = split.hostname or ""
    if split.scheme not in ("http", "https") or not valid_host(host) or port == 0 or split.username is not None:
        raise ConfigError(f"site_url: {url!r} is not an http(s) URL with a valid host and port")
    if split.query or split.fragment or url != url.strip():
        raise ConfigError(f"site_url: {url!r} must end with its path (no query, fragment or spaces)")


def valid_host(host: str) -> bool:
    """Whether a host is an IP address or a valid name (IDNA labels of letters, digits and hyphens)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def check_image_setting(name: str, value: str) -> None:
    """site_icon and site_logo: an http(s) URL or an image file (absolute, or a path under posts_dir)."""
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in ("http", "https") and not Path(value).is_absolute():
        raise ConfigError(f"{name}: {value!r} is neither an http(s) URL nor an image file")
    if value and not scheme and not _IMAGE.fullmatch(value.strip()):
        raise ConfigError(f"{name}: {value!r} is not an image file (.png, .jpg, .gif, .webp, .avif, .svg, .ico)")


def image_file(name: str, values: dict[str, Any], base: Path) -> None:
    """A site_icon or site_logo that names a file: resolved against ``base``; ConfigError when there is none."""
    value = values.get(name, "")
    if not isinstance(value, str) or not value or _SCHEME.match(value):
        return
    check_image_setting(name, value)
    full = Path(os.path.normpath(base / value))
    if not full.is_file():
        raise ConfigError(f"{name}: {full} is not a file (a relative path is resolved against the config's folder)")
    values[name] = str(full)


def relay_url(value: str) -> bool:
    split = urlsplit(value)
    try:  # the port out of range raises ValueError
        return split.scheme in ("smtp", "smtp+starttls", "smtps") and bool(split.hostname) and split.port != 0
    except ValueError:
        return False


# A BCP 47 tag's shape (RFC 5646): an ISO 639 language of 2 or 3 letters, then subtags (en, pt-BR, zh-Hant); not
# "English", the name where the tag goes.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_AUTHORITY = re.compile(rf"(?:[^@\s<>\"]+@)?{_DNS_LABEL}(?:\.{_DNS_LABEL})*")  # RFC 4151: a DNS name or an email


def check_language(value: str, name: str = "language") -> None:
    """language (or a show's, ``name``): the shape of a BCP 47 tag (it goes into every feed and page)."""
    if not _LANGUAGE.fullmatch(value):
        raise ConfigError(f"{name}: {value!r} is not a language tag (en, pt-BR, zh-Hant)")


def check_id_authority(value: str) -> None:
    """id_authority: empty (site_url's host), or a domain name or an email address (RFC 4151's tag: ids)."""
    if value and not _AUTHORITY.fullmatch(value):
        raise ConfigError(f"id_authority: {value!r} is not a domain name or an email address (RFC 4151's tag: ids)")


def check_folders(posts_dir: Path, output_dir: Path, state_dir: Path) -> None:
    """posts_dir, output_dir and state_dir apart, none in another: what is in output_dir is public (nginx serves it
    whole), so neither the posts (drafts, posts for partners) nor the state (tokens, addresses) may be in it, and
    the files in posts_dir are read as posts and their files."""
    folders = {
        name: Path(os.path.realpath(path))
        for name, path in (("posts_dir", posts_dir), ("output_dir", output_dir), ("state_dir", state_dir))
    }
    for one, other in (("output_dir", "posts_dir"), ("output_dir", "state_dir"), ("state_dir", "posts_dir")):
        a, b = folders[one], folders[other]
        if a == b:
            raise ConfigError(f"{one} and {other} are the same folder ({a}): give each a folder of its own")
        if b in a.parents or a in b.parents:
            inner, outer = (one, other) if b in a.parents else (other, one)
            raise ConfigError(
                f"{inner} ({folders[inner]}) is inside {outer} ({folders[outer]}): give each a folder of its own"
            )
