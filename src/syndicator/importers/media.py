"""The files a WordPress post uses: which URLs are the old site's uploads, and bringing them into posts_dir.

A post's images, audio, video and files that live under the old site's uploads
(``/wp-content/uploads/``, or a WordPress.com ``*.files.wordpress.com`` host) are
copied from a local folder (a copy of ``wp-content/uploads``) or fetched from a
URL base into one shared folder, ``<posts_dir>/uploads/<YYYY>/<MM>/<file>``, the
same paths as under ``wp-content/uploads``. A file that cannot be had (missing,
404, too slow, too large) is reported and its reference keeps the remote URL.
"""

from __future__ import annotations

import functools
import http.client
import re
import socket
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urljoin

from syndicator.core.urls import split_url
from syndicator.outbound import AddressPolicy
from syndicator.outbound import Deadline
from syndicator.outbound import IPAddress
from syndicator.outbound import RefusedError
from syndicator.outbound import Resolve
from syndicator.outbound import address_of
from syndicator.outbound import any_address
from syndicator.outbound import exchange
from syndicator.outbound import is_public
from syndicator.outbound import parse_target
from syndicator.outbound import vetted_addresses
from syndicator.store.files import write_atomic

UPLOADS_DIR = "uploads"  # under posts_dir
UPLOADS_PATH = "/wp-content/uploads/"
DEFAULT_TIMEOUT = 20.0  # seconds for the whole of one file
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_URL_BYTES = 8192
MAX_NAME_BYTES = 255  # the longest file or folder name on common file systems (ext4, XFS, btrfs)
LOOK_UP: Resolve = socket.getaddrinfo
_CHUNK = 64 * 1024
_HEADERS = {"User-Agent": "syndicator-wordpress-import"}
_REDIRECTS = (301, 302, 303, 307, 308)
_PRINTABLE = "".join(map(chr, range(0x21, 0x7F)))  # ASCII without space and control characters
_SEGMENT = re.compile(r"[^/\\\x00-\x1f\x7f]+")
_POST_SUFFIXES = (".md", ".markdown")  # a file named so would be read as a post


def _name_problem(path: str) -> str | None:
    """Why an upload's name cannot be a file in posts_dir, or None."""
    if path.lower().endswith(_POST_SUFFIXES):
        return "its name would make it a post file"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.split("/")):
        return f"a part of its name is longer than {MAX_NAME_BYTES} bytes, more than a file name can be"
    return None


class MediaError(Exception):
    """One file could not be had; the message says why."""


@dataclass(frozen=True, slots=True)
class Uploads:
    """Which URLs are the old site's uploads: its hosts (from the export) and the WordPress.com file hosts."""

    hosts: frozenset[str]
    site_url: str = ""  # resolves root-relative references such as /wp-content/uploads/...

    @classmethod
    def of(cls, urls: tuple[str, ...] | list[str]) -> Uploads:
        """The uploads of a site with these URLs (its addresses and its attachments' URLs)."""
        hosts = {h.lower() for h in (split_url(u).hostname for u in urls) if h}
        # a WordPress.com blog's files live on <blog>.files.wordpress.com
        hosts |= {h.replace(".wordpress.com", ".files.wordpress.com") for h in hosts if _blog_on_wordpress_com(h)}
        return cls(frozenset(hosts), next((u for u in urls if split_url(u).hostname), ""))

    def absolute(self, url: str) -> str:
        """A root-relative upload reference made absolute on the old site (other URLs as they are)."""
        if url.startswith(UPLOADS_PATH) and self.site_url:
            return urljoin(self.site_url, url)
        return url

    def path_of(self, url: str) -> str | None:
        """The path of an upload under wp-content/uploads (``2023/03/photo.jpg``), or None for any other URL."""
        split = split_url(url)
        host = (split.hostname or "").lower()
        if split.scheme not in ("", "http", "https") or (host and host not in self.hosts):
            return None
        if host.endswith(".files.wordpress.com"):
            path = split.path
        elif UPLOADS_PATH in split.path:
            path = split.path.split(UPLOADS_PATH, 1)[1]
        else:
            return None
        segments = [unquote(s) for s in path.split("/") if s]
        if not segments or any(s in (".", "..") or not _SEGMENT.fullmatch(s) or s.startswith(".") for s in segments):
            return None
        return "/".join(segments)


def _blog_on_wordpress_com(host: str) -> bool:
    return host.endswith(".wordpress.com") and host.count(".") == 2 and not host.startswith("files.")


def fetch(
    url: str, *, timeout: float, max_bytes: int, allow_private: bool = False, resolve: Resolve = LOOK_UP
) -> bytes:
    """GET a URL within one total deadline and a size cap, each hop checked; raise MediaError with the reason.

    The URL's host and every host a redirect leads to is looked up once, and
    the connection goes to the very addresses checked: public ones only, or
    with ``allow_private`` also private, loopback and link-local ones for the
    URL's own host (a redirect still leads only to public addresses or back to
    the addresses the URL's host had).
    """
    with Deadline(timeout) as clock:
        try:
            return _follow(url, clock, max_bytes, any_address if allow_private else is_public, resolve)
        except RefusedError as exc:
            raise MediaError(str(exc)) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if clock.passed:
                raise MediaError(f"no answer within {timeout:g} s") from None
            raise MediaError(f"cannot fetch: {exc}") from None


def check_source(url: str, *, allow_private: bool, resolve: Resolve = LOOK_UP) -> None:
    """Raise RefusedError (NotPublicError for a private address without allow_private) for a URL base not to use."""
    policy = any_address if allow_private else is_public
    vetted_addresses(parse_target(url, "the URL", MAX_URL_BYTES), policy, resolve)


def _follow(url: str, clock: Deadline, max_bytes: int, allowed: AddressPolicy, resolve: Resolve) -> bytes:
    """The body of the answer at the end of at most MAX_REDIRECTS redirects."""
    for hop in range(MAX_REDIRECTS + 1):
        what = "the redirect" if hop else "the URL"
        try:
            target = parse_target(url, what, MAX_URL_BYTES)
            addresses = vetted_addresses(target, allowed, resolve)
        except RefusedError as exc:
            raise RefusedError(f"refused redirect: {exc}" if hop else str(exc)) from None
        if not hop:  # a redirect may come back to the old site's own addresses, and otherwise only to public ones
            own = frozenset(address_of(pair) for pair in addresses)
            allowed = functools.partial(_public_or_among, own)
        clock.remaining()  # a slow look-up counts against the deadline too
        with exchange(target, addresses, clock, "GET", headers=_HEADERS) as response:
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise MediaError(f"HTTP {response.status} without a Location")
                url = urljoin(url, _ascii(location))
                continue
            if response.status != 200:
                raise MediaError(f"HTTP {response.status}")
            return _body(response, clock, max_bytes)
    raise MediaError(f"more than {MAX_REDIRECTS} redirects")


def _ascii(location: str) -> str:
    """A Location header's URL with its non-ASCII bytes percent-encoded, as browsers send them."""
    raw = location.strip().encode("latin-1", "replace")  # http.client decodes a header's bytes as Latin-1
    return quote(raw, safe=_PRINTABLE)


def _public_or_among(own: frozenset[IPAddress], address: IPAddress) -> bool:
    return is_public(address) or address in own


def _body(response: http.client.HTTPResponse, clock: Deadline, max_bytes: int) -> bytes:
    """The whole body, at most max_bytes of it, before the deadline."""
    declared = response.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise MediaError(f"larger than {max_bytes} bytes ({declared})")
    body = bytearray()
    try:
        while chunk := response.read(_CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise MediaError(f"larger than {max_bytes} bytes")
    except (OSError, http.client.HTTPException) as exc:
        if not clock.passed:
            raise MediaError(f"the answer broke off: {exc}") from None
    if clock.passed:
        raise MediaError(f"took longer than {clock.seconds:g} s")
    if response.length:  # the connection closed before the declared length came
        raise MediaError(f"the answer broke off {response.length} bytes short")
    return bytes(body)


@dataclass
class MediaCopier:
    """Brings uploads into ``<posts_dir>/uploads/`` from a folder or a URL base; remembers what it did."""

    source: str  # a folder (a copy of wp-content/uploads) or an http(s) URL base
    posts_dir: Path
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    allow_private: bool = False  # the URL base's host may be a private, loopback or link-local address
    resolve: Resolve = LOOK_UP
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # upload path -> reason
    _done: dict[str, bool] = field(default_factory=dict)
    _refused: str | None = None  # why the URL base cannot be reached ('' when it can), asked once

    def _source_problem(self) -> str:
        """Why no file can come from the URL base (its host cannot be looked up...), checked once for all files."""
        if self._refused is None:
            try:
                check_source(self.source, allow_private=self.allow_private, resolve=self.resolve)
                self._refused = ""
            except RefusedError as exc:
                self._refused = str(exc)
        return self._refused

    @property
    def remote(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def bring(self, path: str) -> str | None:
        """The file's path under posts_dir (``uploads/2023/03/photo.jpg``) once it is there; None when it failed."""
        if path not in self._done:
            self._done[path] = self._bring(path)
        return f"{UPLOADS_DIR}/{path}" if self._done[path] else None

    def _bring(self, path: str) -> bool:
        """Whether the file is in place (fetched now or before); if not, ``failed`` says why."""
        try:
            problem = _name_problem(path) or self._place_problem(path)
            if problem is None:
                self._copy(path)
                return True
        except MediaError as exc:
            problem = str(exc)
        except OSError as exc:  # a path too long for the system, no space left, no permission...
            problem = f"cannot be written: {exc.strerror or exc}"
        self.failed[path] = problem
        return False

    def _copy(self, path: str) -> None:
        target = self.posts_dir / UPLOADS_DIR / path
        if target.is_file():
            self.present.append(path)
            return
        write_atomic(target, self._read(path))
        self.fetched.append(path)

    def _place_problem(self, path: str) -> str | None:
        """Why the file cannot be at its place: a file stands where one of its folders must be, or a folder at it."""
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            here = self.posts_dir.joinpath(UPLOADS_DIR, *parts[:depth])
            if depth < len(parts) and here.exists() and not here.is_dir():
                return f"{UPLOADS_DIR}/{'/'.join(parts[:depth])} is a file, so it cannot hold {path}"
            if depth == len(parts) and here.is_dir():
                return f"{UPLOADS_DIR}/{path} is a folder"
        return None

    def _read(self, path: str) -> bytes:
        if self.remote:
            if problem := self._source_problem():
                raise MediaError(problem)
            url = self.source.rstrip("/") + "/" + quote(path)
            return fetch(
                url,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                allow_private=self.allow_private,
                resolve=self.resolve,
            )
        file = Path(self.source) / path
        try:
            if file.stat().st_size > self.max_bytes:
                raise MediaError(f"larger than {self.max_bytes} bytes")
            return file.read_bytes()
        except FileNotFoundError as exc:
            raise MediaError(f"not in {self.source}") from exc
        except OSError as exc:
            raise MediaError(f"cannot read {file}: {exc.strerror}") from exc
