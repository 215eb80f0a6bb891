"""One type for what is served at a URL (feeds, pages, partner feeds, assets) and the one ETag rule."""

from __future__ import annotations

import gzip
from pathlib import Path

from syndicator.incremental.gzip import compress
from syndicator.served import Cache
from syndicator.served import Served
from syndicator.served import etag_of
from syndicator.service.snapshot import feed_kept
from syndicator.store.files import copy_atomic


def test_a_page_kept_only_gzipped_gives_its_bytes_inflated() -> None:
    """A page keeps only its gzip form; a client that refuses gzip gets the same bytes, and their length is known."""
    body = b"<!doctype html><title>x</title>" * 50
    page = Served.gzip_only(compress(body), len(body), etag_of(body), 0.0)
    assert page.bytes_kept(gzipped=False) == body and page.length_kept(gzipped=False) == len(body)
    assert page.bytes_kept(gzipped=True) == page.gzip_body and page.cache is Cache.ASK
    assert page.gzip_etag == f"{page.etag}-gz"


def test_a_representation_in_a_file_keeps_no_bytes(tmp_path: Path) -> None:
    """An archive page or an asset is read from its file when asked for: nothing of its bytes is held."""
    archive = Served.in_file(str(tmp_path / "a.atom"), "application/atom+xml", "e", 0.0, cache=Cache.RELOAD)
    asset = Served.in_file(str(tmp_path / "x.png"), "image/png", "e", 0.0, size=3, mtime_ns=1, asset=True)
    for served in (archive, asset):
        assert served.bytes_kept(True) is None and served.bytes_kept(False) is None
        assert served.length_kept(False) is None
    assert archive.zipped and not archive.ranges and asset.ranges and not asset.zipped


def test_an_assets_etag_follows_the_same_rule_as_a_feeds(tmp_path: Path) -> None:
    """The ETag a copied asset records is the one etag_of gives its bytes: one rule, read while copying."""
    body = bytes(range(256)) * 1000
    source = tmp_path / "x.bin"
    source.write_bytes(body)
    with source.open("rb") as reader:
        _state, _copied, etag = copy_atomic(reader, tmp_path / "out", "media/x.bin")
    assert etag == etag_of(body)
    kept = Served.kept(body, compress(body), "application/octet-stream", 0.0)
    assert kept.etag == etag and gzip.decompress(kept.gzip_body or b"") == body


def test_feed_file_etags_and_gzip() -> None:
    """Identity and gzip get distinct strong ETags; gzip bytes are deterministic."""
    one = feed_kept("all.atom", b"<feed/>", compress(b"<feed/>"), 0.0)
    two = feed_kept("all.atom", b"<feed/>", compress(b"<feed/>"), 5.0)
    assert one.etag == two.etag and one.gzip_body == two.gzip_body
    assert one.gzip_etag == one.etag + "-gz"
    assert one.gzip_body is not None and gzip.decompress(one.gzip_body) == b"<feed/>"
    assert one.media_type == "application/atom+xml; charset=utf-8"
    assert feed_kept("index.opml", b"", b"", 0).media_type == "text/x-opml; charset=utf-8"
