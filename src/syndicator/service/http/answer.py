"""The one conditional answer: a GET or HEAD of a Served representation -> status line, headers, body.

Werkzeug's ``Response.make_conditional`` is the reference, evaluated in RFC 9110
§13.2.2's order: If-Match (412 unless an ETag matches strongly), If-None-Match
(304 when either form's ETag matches, compared weakly: ``W/"x"`` matches ``"x"``),
If-Modified-Since only without If-None-Match, then Range (206, or 416 naming
the size; an invalid Range, another unit or several ranges is ignored and the
whole body sent), for a representation that takes ranges. gzip when the client
takes it and the representation has a gzip form. The headers of a representation
are made once (``headers_of``) and kept by the handler for its snapshot: the feed
path is the service's hot path, so no Request or Response object is made here.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from typing import TYPE_CHECKING

from werkzeug.datastructures import Range
from werkzeug.http import http_date
from werkzeug.http import parse_accept_header
from werkzeug.http import parse_date
from werkzeug.http import parse_etags
from werkzeug.http import parse_if_range_header
from werkzeug.http import parse_range_header
from werkzeug.http import quote_etag
from werkzeug.wsgi import FileWrapper

from syndicator.core.cachekeys import header_value
from syndicator.incremental.gzip import compress
from syndicator.served import Cache
from syndicator.served import Served

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.datastructures import ETags

Headers = list[tuple[str, str]]
Answer = tuple[str, Headers, Iterable[bytes]]  # status line, headers, body
DAY = 86400  # how long a CDN keeps a representation, until a purge names it
CDN_CACHE_CONTROL = f"public, s-maxage={DAY}, stale-while-revalidate=60, stale-if-error={DAY}"  # RFC 9213
SURROGATE_CONTROL = f"max-age={DAY}, stale-while-revalidate=60, stale-if-error={DAY}"  # the same, as Fastly reads it
CDN_HEADER_NAMES = ("Surrogate-Key", "Cache-Tag", "CDN-Cache-Control", "Surrogate-Control")
_NO_BODY = frozenset({"Content-Type", "Content-Length", "Content-Encoding"})  # what a 304 or 412 leaves out
# what a 416 leaves out: it describes no representation, and no cache is to keep it
_NOT_THE_BODY = frozenset({*_NO_BODY, "ETag", "Last-Modified", "Cache-Control", "Content-Encoding", *CDN_HEADER_NAMES})
_CHUNK = 64 * 1024


def takes_gzip(environ: WSGIEnvironment) -> bool:
    """Whether the client accepts a gzip body: Accept-Encoding names gzip with a quality above 0 (``*`` alone does
    not: nginx's gzip_static reads it so, and both are to answer alike)."""
    accepted = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))
    return any(value.lower() == "gzip" and quality > 0 for value, quality in accepted)


class GzipTaken:
    """Whether a client's Accept-Encoding takes gzip, remembered per header value (clients send a few)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._known: dict[str | None, bool] = {}

    def __call__(self, environ: WSGIEnvironment) -> bool:
        header = environ.get("HTTP_ACCEPT_ENCODING")
        taken = self._known.get(header)
        if taken is None:
            if len(self._known) >= self.size:
                self._known = {}
            taken = self._known[header] = takes_gzip(environ)
        return taken


def cdn_headers(served: Served) -> list[tuple[str, str]]:
    """What a CDN keeps a public representation by: its keys (Surrogate-Key for Fastly and Varnish's xkey,
    Cache-Tag for Cloudflare) and how long (CDN-Cache-Control, and Fastly's Surrogate-Control); none for a
    private one (it has no keys).

    The edge may keep it a day (purged by key when its bytes change:
    ``service.cdn``), and serve it stale while it asks again or while the origin
    fails; browsers and readers keep Cache-Control's ``max-age``.
    """
    if not served.keys:
        return []
    values = (header_value(served.keys, " "), header_value(served.keys, ","), CDN_CACHE_CONTROL, SURROGATE_CONTROL)
    return list(zip(CDN_HEADER_NAMES, values, strict=True))


def cache_control(cache: Cache, reload_interval: int, *, private: bool = False) -> str:
    """The Cache-Control of a cache policy; ``private``: no shared cache may keep it (a partner's, a browser's)."""
    if cache is Cache.ASK:
        return "no-cache"
    scope = "private" if private else "public"
    return f"{scope}, max-age={reload_interval}"


@dataclass(frozen=True, slots=True)
class Form:
    """The headers of one form of a representation (gzip or not): of its answer, and of its 304 (no body's)."""

    headers: Headers
    unchanged: Headers


def headers_of(
    served: Served,
    gzipped: bool,
    control: str,
    extra: Iterable[tuple[str, str]] = (),
    *,
    dated: bool = True,
    media_type: str = "",
) -> Form:
    """The headers of one form of a representation, but its Content-Length (``answer`` adds it).

    ``dated`` False: no ETag or Last-Modified (a 404 page); ``media_type``:
    another Content-Type than the representation's own.
    """
    headers = [("Content-Type", media_type or served.media_type), ("Cache-Control", control)]
    if dated:
        tag = served.gzip_etag if gzipped else served.etag
        headers += [("ETag", quote_etag(tag)), ("Last-Modified", http_date(int(served.last_modified)))]
    headers += extra
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return Form(headers, [h for h in headers if h[0] not in _NO_BODY])


class HeaderCache:
    """Headers made once per representation and variant, for one snapshot at a time (a handler's)."""

    def __init__(self) -> None:
        self._kept: tuple[object, dict[Hashable, Form]] = (None, {})

    def of(self, snapshot: object) -> dict[Hashable, Form]:
        """The headers kept for this snapshot: a request takes the dict once, so it never adds to another's."""
        kept = self._kept
        if kept[0] is not snapshot:
            kept = self._kept = (snapshot, {})
        return kept[1]


def answer(
    environ: WSGIEnvironment,
    served: Served,
    form: Form,
    gzipped: bool,
    *,
    status: str = "200 OK",
    handle: IO[bytes] | None = None,
) -> Answer | None:
    """Answer a GET or HEAD from a representation and the headers of the form asked for (``headers_of``).

    A ``status`` other than 200 (the 404 page) is answered as is, without
    preconditions. ``handle``: the representation's file, opened and checked
    by the caller (an asset); it is closed once answered. None when the
    representation's file cannot be read (the caller passes the request on).
    """
    get = environ.get
    asked = get("HTTP_IF_NONE_MATCH") or get("HTTP_IF_MODIFIED_SINCE") or get("HTTP_IF_MATCH")
    if status == "200 OK" and (asked or get("HTTP_IF_UNMODIFIED_SINCE")):
        refused = _refused(environ, served)
        if refused is not None:
            if handle is not None:
                handle.close()
            unchanged = form.unchanged
            return refused, unchanged if refused[0] == "3" else [*unchanged, ("Content-Length", "0")], []
    head, headers = get("REQUEST_METHOD") == "HEAD", form.headers
    if handle is not None:
        return _streamed(environ, served, headers, handle, head)
    if head and (length := served.length_kept(gzipped)) is not None:
        return status, [*headers, ("Content-Length", str(length))], []
    body = served.gzip_body if gzipped else served.body
    if body is None:
        body = served.bytes_kept(gzipped) if served.gzip_body is not None else _read(served, gzipped)
        if body is None:
            return None
    return status, [*headers, ("Content-Length", str(len(body)))], [] if head else [body]


def _refused(environ: WSGIEnvironment, served: Served) -> str | None:
    """412 when the client's precondition fails, 304 when the client has it (If-None-Match, else
    If-Modified-Since): RFC 9110 §13.2.2's order."""
    if _failed(environ, served):
        return "412 Precondition Failed"
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        # Either form's tag names the same bytes: both get the 304. It wins over If-Modified-Since.
        unchanged = _sent_back(if_none_match, served) or _named_weakly(parse_etags(if_none_match), served)
    else:
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        moment = parse_date(since) if since else None  # nothing to compare, no date to parse
        unchanged = moment is not None and int(served.last_modified) <= moment.timestamp()
    return "304 Not Modified" if unchanged else None


def _failed(environ: WSGIEnvironment, served: Served) -> bool:
    """Whether If-Match names neither form, or (without If-Match) If-Unmodified-Since is before the representation
    changed last."""
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match:
        tags = parse_etags(if_match)
        return not (tags.contains(served.etag) or (served.zipped and tags.contains(served.gzip_etag)))
    before = environ.get("HTTP_IF_UNMODIFIED_SINCE")
    moment = parse_date(before) if before else None
    return moment is not None and int(served.last_modified) > moment.timestamp()


def _sent_back(header: str, served: Served) -> bool:
    """Whether If-None-Match is one of the representation's tags as it was sent (what clients send): no parsing.

    Any other value is parsed (a list, a weak tag of the other form, spaces), with the same outcome for these.
    """
    tag = header[2:] if header.startswith("W/") else header
    return tag == f'"{served.etag}"' or (served.zipped and tag == f'"{served.gzip_etag}"')


def _named_weakly(tags: ETags, served: Served) -> bool:
    return tags.contains_weak(served.etag) or (served.zipped and tags.contains_weak(served.gzip_etag))


def _read(served: Served, gzipped: bool) -> bytes | None:
    """A file's bytes, or their gzip: its twin's bytes, or (an archive page has none) compressed now."""
    if gzipped:
        try:
            with open(f"{served.file}.gz", "rb") as twin:
                return twin.read()
        except OSError:
            pass
    try:
        with open(served.file, "rb") as handle:
            body = handle.read()
    except OSError:
        return None
    return compress(body) if gzipped else body


def _streamed(environ: WSGIEnvironment, served: Served, headers: Headers, handle: IO[bytes], head: bool) -> Answer:
    """The file, whole or the one byte range asked for (206), streamed; 416 for a range past its end."""
    size = served.size
    headers = [*headers, ("Accept-Ranges", "bytes")]
    wanted = _range(environ, served)
    if wanted is None:
        if head:
            handle.close()
            return "200 OK", [*headers, ("Content-Length", str(size))], []
        return "200 OK", [*headers, ("Content-Length", str(size))], FileWrapper(handle)
    span = wanted.range_for_length(size)
    content_range = wanted.to_content_range_header(size)
    if span is None or content_range is None:
        handle.close()
        body = b"416 Range Not Satisfiable: no byte of the file is in the range asked for\n"
        plain = [h for h in headers if h[0] not in _NOT_THE_BODY]
        unsatisfiable = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Range", f"bytes */{size}")]
        return "416 Range Not Satisfiable", [*plain, *unsatisfiable, ("Content-Length", str(len(body)))], [body]
    start, stop = span
    ranged = [*headers, ("Content-Range", content_range), ("Content-Length", str(stop - start))]
    if head:
        handle.close()
        return "206 Partial Content", ranged, []
    return "206 Partial Content", ranged, _part(handle, start, stop - start)


def _range(environ: WSGIEnvironment, served: Served) -> Range | None:
    """The one byte range to answer; None for the whole body (no Range, or one that is ignored)."""
    header = environ.get("HTTP_RANGE")
    if not header or not served.size or not _if_range(environ, served):
        return None
    wanted = parse_range_header(header)
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return None  # invalid, another unit, or several ranges: the whole body (RFC 9110 §14.2)
    if wanted.ranges[0] == (0, None) and header.partition("=")[2].strip().startswith("-"):
        # "-0", the last no bytes, which Werkzeug reads as "0-": unsatisfiable (RFC 9110 §14.1.1), as nginx says
        return Range("bytes", [(served.size, None)])
    if wanted.ranges[0][0] < -served.size:  # a suffix longer than the file: all of it (RFC 9110 §14.1.3), as nginx
        return Range("bytes", [(0, None)])
    return wanted


def _if_range(environ: WSGIEnvironment, served: Served) -> bool:
    """Whether the Range applies: no If-Range, or one naming this representation: its strong ETag, or its date
    exactly (RFC 9110 §13.1.5: a weak tag or another date never does)."""
    header = environ.get("HTTP_IF_RANGE")
    if not header:
        return True
    if header.lstrip().startswith("W/"):
        return False
    if_range = parse_if_range_header(header)
    if if_range.etag is not None:
        return if_range.etag == served.etag
    return if_range.date is not None and int(served.last_modified) == int(if_range.date.timestamp())


def _part(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of a file from ``start``, in chunks; the file is closed when done (or when abandoned)."""
    try:
        handle.seek(start, os.SEEK_SET)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
