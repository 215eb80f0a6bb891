"""What is served at one URL: a representation's bytes, their gzip twin, a strong ETag, Last-Modified, cache policy.

One type for feeds, pages, partner feeds and assets, and the one ETag rule.
Frozen values made by the builder (and the partner feeds), read by
``service.http.answer``, which answers GET/HEAD/304/ranges from them. No I/O.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass

import xxhash

HTML = "text/html; charset=utf-8"


def etag_of(body: bytes) -> str:
    """A representation's strong ETag (without its quotes): the 128-bit XXH3 hash of its bytes, in 32 hex digits.

    Not the SHA-256 of ``digest``: an ETag needs equal bytes to give equal tags
    and any change to give another, not resistance to a forger, and a cold build
    hashes every byte it writes (XXH3 eight times as fast here, and it lets other
    threads run while it hashes).
    """
    return xxhash.xxh3_128_hexdigest(body)


def etag_hasher() -> xxhash.xxh3_128:
    """What ``etag_of`` computes, fed in pieces (``update``, then ``hexdigest``): a file hashed as it is copied."""
    return xxhash.xxh3_128()


class Cache(enum.Enum):
    """How long a cache may keep a representation before it asks again."""

    RELOAD = "reload"  # until the next reload may have changed it (max-age = reload_interval): feeds, assets
    ASK = "ask"  # kept, but asked again each time (no-cache): a 304 costs nothing, a new post shows at once


@dataclass(frozen=True, slots=True)
class Served:
    """One representation as served: where its bytes are, a strong ETag for each form, when they last changed.

    The bytes are kept in memory (``body`` and/or ``gzip_body``; a page keeps
    only its gzip form, inflated for the rare client that refuses it) or read
    from ``file`` when asked for (an archive page, an asset). ``zipped`` says
    whether a gzip form exists (kept, the file's ``.gz`` twin, or compressed
    when asked); ``ranges`` whether byte ranges are answered (an asset, streamed
    from its file, which must still have ``mtime_ns`` and ``size``).
    """

    media_type: str
    etag: str  # of the identity bytes; the gzip form's is gzip_etag
    last_modified: float  # seconds since the epoch: moves only when the bytes change
    size: int = 0  # of the identity bytes (0: not known until read)
    cache: Cache = Cache.RELOAD
    body: bytes | None = None
    gzip_body: bytes | None = None
    file: str = ""  # the file the bytes are read from, when they are not kept
    zipped: bool = True
    ranges: bool = False
    mtime_ns: int = 0  # of ``file`` as the build left it
    keys: tuple[str, ...] = ()  # what it depends on, for a CDN (``core.cachekeys``; its own first); none: private

    @classmethod
    def kept(
        cls,
        body: bytes,
        gzip_body: bytes,
        media_type: str,
        last_modified: float,
        *,
        cache: Cache = Cache.RELOAD,
        etag: str | None = None,
        keys: tuple[str, ...] = (),
    ) -> Served:
        """Bytes and their gzip twin held in memory (a feed, a partner feed, the OPML)."""
        tag = etag if etag is not None else etag_of(body)
        return cls(media_type, tag, last_modified, len(body), cache, body, gzip_body, keys=keys)

    @classmethod
    def gzip_only(
        cls,
        gzip_body: bytes,
        size: int,
        etag: str,
        last_modified: float,
        *,
        media_type: str = HTML,
        keys: tuple[str, ...] = (),
    ) -> Served:
        """Only the gzip form held (a page: every browser asks for it, and a large blog has tens of thousands)."""
        return cls(media_type, etag, last_modified, size, Cache.ASK, None, gzip_body, keys=keys)

    @classmethod
    def in_file(
        cls,
        file: str,
        media_type: str,
        etag: str,
        last_modified: float,
        *,
        cache: Cache = Cache.RELOAD,
        size: int = 0,
        mtime_ns: int = 0,
        asset: bool = False,
        keys: tuple[str, ...] = (),
    ) -> Served:
        """Bytes read from their file when asked: a feed file (gzip: its twin), or an asset (ranges, no gzip)."""
        return cls(
            media_type,
            etag,
            last_modified,
            size,
            cache,
            file=file,
            zipped=not asset,
            ranges=asset,
            mtime_ns=mtime_ns,
            keys=keys,
        )

    @property
    def gzip_etag(self) -> str:
        """The gzip form's own strong ETag."""
        return f"{self.etag}-gz"

    def bytes_kept(self, gzipped: bool) -> bytes | None:
        """The kept bytes of one form (the identity form inflated from the gzip one); None when they are in a file."""
        if gzipped:
            return self.gzip_body
        if self.body is not None:
            return self.body
        return zlib.decompress(self.gzip_body, 31) if self.gzip_body is not None else None

    def length_kept(self, gzipped: bool) -> int | None:
        """The length of one kept form without inflating it; None when the bytes are in a file."""
        if gzipped:
            return len(self.gzip_body) if self.gzip_body is not None else None
        return self.size if self.body is not None or self.gzip_body is not None else None
