"""Where a post's local files are and what they are called on the web: asset paths, URLs and media types.

An asset is any file under posts_dir that is not a post. A relative URL in a
post is resolved against the post *file* (as an editor's preview does); when it
names a file inside posts_dir, it becomes that asset's public URL,
``<site_url>/feeds/media/<path under posts_dir>`` (the file is written to
``<output_dir>/media/<path>``, so every static copy of output_dir serves it too).
Pure: strings in, strings out. No I/O.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import quote
from urllib.parse import unquote

from syndicator.config import Settings
from syndicator.core.markup import url_scheme
from syndicator.core.urls import FEEDS_PREFIX

MEDIA_DIR = "media"  # under output_dir, and under /feeds/ in URLs
SITE_IMAGES = "_site"  # the site's images kept outside posts_dir, under media/ (no asset of posts_dir starts with _)
OCTET_STREAM = "application/octet-stream"
_URL_SAFE = "/@:!$'()*+;="  # kept as they are in an asset's URL path (',' and '&' are encoded: srcset, HTML)
# A file's media type by its extension: one table for the feeds, `serve` and deploy/nginx.conf (a test
# holds them equal). Explicit rather than the mimetypes module, whose answers depend on the machine.
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".jxl": "image/jxl",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".weba": "audio/webm",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".pdf": "application/pdf",
    ".epub": "application/epub+zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",  # a podcast transcript's captions (Podcasting 2.0 names this type)
    ".json": "application/json",
    ".gpx": "application/gpx+xml",
}
# Files whose name, not only its extension, tells their type: a Podcasting 2.0 chapters file is JSON of a type
# of its own. A file named so, or ending in "." and the name (``episode-1.chapters.json``). nginx.conf has them too.
NAMED_TYPES = {"chapters.json": "application/json+chapters"}
# A relative link to one of these is a link to a page (resolved against the post's page URL), not to a file.
_PAGE_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".php", ".asp", ".aspx", ".jsp")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")
_NOT_LOCAL = ("https://", "http://", "/", "#", "?", "mailto:", "tel:")
# In nh3's output every attribute value is double-quoted and holds no '"'.
_MEDIA_TAG = re.compile(r"<(img|audio|video|source)\s([^>]*)>")
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')


def media_type(name: str) -> str:
    """A file's media type by its name (NAMED_TYPES) or extension (any case); application/octet-stream when unknown."""
    base = posixpath.basename(name).lower()
    for named, kind in NAMED_TYPES.items():
        if base == named or base.endswith(f".{named}"):
            return kind
    return MEDIA_TYPES.get(posixpath.splitext(base)[1], OCTET_STREAM)


def media_prefix(settings: Settings) -> str:
    """The URL every asset's URL starts with."""
    return f"{settings.base_url}{FEEDS_PREFIX}{MEDIA_DIR}/"


def output_path(path: str) -> str:
    """Where an asset (path under posts_dir) is written, under output_dir."""
    return f"{MEDIA_DIR}/{path}"


def asset_url(settings: Settings, path: str) -> str:
    """The public URL of an asset (path under posts_dir)."""
    return media_prefix(settings) + quote(path, safe=_URL_SAFE)


def asset_path(url: str, settings: Settings) -> str:
    """The asset (path under posts_dir) an absolute URL names, or "" for any other URL."""
    prefix = media_prefix(settings)
    if not url.startswith(prefix):
        return ""
    path = unquote(_QUERY_OR_FRAGMENT.split(url[len(prefix) :], 1)[0])
    return path if path and posixpath.normpath(path) == path and not path.startswith(("/", "..")) else ""


def local_path(value: str, folder: str) -> str | None:
    """The path under posts_dir that a relative URL names from a post file in ``folder``; None for other URLs.

    None for a URL with a scheme, a host, an absolute path, only a query or a
    fragment, or one that leads out of posts_dir.
    """
    value = value.strip(_C0_OR_SPACE)
    if not value or url_scheme(value) or value.startswith(("/", "\\", "#", "?")):
        return None
    path = unquote(_QUERY_OR_FRAGMENT.split(value, 1)[0])
    if not path or "\0" in path:
        return None
    resolved = posixpath.normpath(posixpath.join(folder, path))
    if resolved in (".", "..") or resolved.startswith(("../", "/")):
        return None
    return resolved


def names_a_file(value: str) -> bool:
    """Whether a relative link's last segment has an extension that is not a page's (``notes.pdf``, not ``a.html``)."""
    name = _QUERY_OR_FRAGMENT.split(value, 1)[0].rstrip(_C0_OR_SPACE).rsplit("/", 1)[-1]
    stem, suffix = posixpath.splitext(name)
    return bool(stem and suffix) and suffix.lower() not in _PAGE_SUFFIXES


class FileLinks:
    """The sanitizer's hook for relative URLs that name local files: they become the files' public URLs.

    Embedding attributes (``src``, ``poster``, ``srcset``) always name a file;
    an ``href`` does when its last segment has a file extension that is not a
    page's. Each file named is noted in ``refs`` as (path under posts_dir, the
    URL as written).
    """

    __slots__ = ("folder", "prefix", "refs")

    def __init__(self, folder: str, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.refs: list[tuple[str, str]] = []

    def __call__(self, attribute: str, value: str) -> str | None:
        if value.startswith(_NOT_LOCAL):  # most links: decided without parsing
            return None
        if attribute == "href" and not names_a_file(value):
            return None
        path = local_path(value, self.folder)
        if path is None:
            return None
        self.refs.append((path, value))
        rest = _QUERY_OR_FRAGMENT.search(value)
        return self.prefix + quote(path, safe=_URL_SAFE) + (value[rest.start() :].strip(_C0_OR_SPACE) if rest else "")


def media_tags(fragment: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The img, audio, video and source elements of sanitized HTML, with their attributes (entities decoded)."""
    for match in _MEDIA_TAG.finditer(fragment):
        yield match.group(1), {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(match.group(2))}


def site_images(settings: Settings) -> list[tuple[str, str, str]]:
    """``site_icon`` and ``site_logo`` as (setting, URL, asset path or "" for a remote one); unset: left out.

    A file is published like any asset: one under posts_dir at its path there,
    one elsewhere (the config file's folder, say) at ``_site/<setting>/<name>``
    (``site_image_files``). A value that is neither an http(s) URL nor a file
    is left out (config.py refuses one when it is read).
    """
    found = [
        _named_image(name, value, settings) for name in ("site_icon", "site_logo") if (value := getattr(settings, name))
    ]
    return [image for image in found if image is not None]


def config_images(settings: Settings) -> list[tuple[str, str, str]]:
    """Every image the config names, as ``site_images`` gives them: the site's, and each podcast's artwork."""
    shows = [_named_image(name, value, settings) for name, value in _show_images(settings)]
    return site_images(settings) + [image for image in shows if image is not None]


def _show_images(settings: Settings) -> list[tuple[str, str]]:
    return [(f"{show.key}.image", show.image) for show in settings.podcasts.shows if show.image]


def _named_image(name: str, value: str, settings: Settings) -> tuple[str, str, str] | None:
    if url_scheme(value) in ("http", "https"):
        return name, value, ""
    path = _site_image_path(name, value, settings)
    return (name, asset_url(settings, path), path) if path is not None else None


def site_image_files(settings: Settings) -> dict[str, str]:
    """The images the config names that are files outside posts_dir: asset path -> the file's path."""
    files = {}
    for name, value in (("site_icon", settings.site_icon), ("site_logo", settings.site_logo), *_show_images(settings)):
        path = _site_image_path(name, value, settings)
        if path is not None and path.startswith(f"{SITE_IMAGES}/"):
            files[path] = value
    return files


def _site_image_path(name: str, value: str, settings: Settings) -> str | None:
    """The asset path of a site image that is a file: under posts_dir, or ``_site/<setting>/<name>`` outside it."""
    if not value or url_scheme(value):
        return None
    if not value.startswith("/"):
        return local_path(value, "")  # relative to posts_dir (a config file's value is made absolute)
    file, posts = PurePosixPath(value), PurePosixPath(settings.posts_dir)
    if file.is_relative_to(posts):
        return local_path(file.relative_to(posts).as_posix(), "")
    return f"{SITE_IMAGES}/{name}/{file.name}"


def site_image_urls(settings: Settings) -> dict[str, str]:
    """``site_icon`` and ``site_logo`` (those set) by name, as absolute URLs."""
    return {name: url for name, url, _path in site_images(settings)}
