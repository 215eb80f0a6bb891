"""deploy/nginx.conf serves feeds/ as a static site with the SPEC's headers."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import requests

from conftest import SEED_POSTS
from feedcheck import check_atom
from nginxserver import running_nginx
from syndicator.config import Settings
from syndicator.service.build import Builder


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx with the shipped config, pointed at a freshly built feeds/ on a free loopback port."""
    site = tmp_path / "site"
    settings = Settings(posts_dir=SEED_POSTS, output_dir=site / "feeds", state_dir=tmp_path / "state")
    Builder(settings, serving=False).reload(datetime.now(UTC))
    with running_nginx(tmp_path, site) as url:
        yield url, site / "feeds"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/category/tajik-russian-relations.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/category/justice.json", "application/feed+json; charset=utf-8"),
        ("/feeds/index.opml", "text/x-opml; charset=utf-8"),
    ],
)
def test_nginx_serves_feeds_with_the_spec_headers(nginx: tuple[str, Path], path: str, media_type: str) -> None:
    """Media type with charset, strong ETag, Last-Modified, caching, CORS, gzip with Vary, 304s."""
    url, feeds = nginx
    plain = requests.get(url + path, headers={"Accept-Encoding": "identity"}, timeout=5)
    assert plain.status_code == 200
    assert plain.content == (feeds / path.removeprefix("/feeds/")).read_bytes()
    assert plain.headers["Content-Type"] == media_type
    assert plain.headers["Cache-Control"] == "public, max-age=60"
    assert plain.headers["Access-Control-Allow-Origin"] == "*"
    assert plain.headers["ETag"].startswith('"') and plain.headers["Last-Modified"].endswith("GMT")
    zipped = requests.get(url + path, headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.raw.read()) == plain.content
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = requests.get(
        url + path, headers={"If-None-Match": plain.headers["ETag"], "Accept-Encoding": "identity"}, timeout=5
    )
    assert again.status_code == 304 and again.content == b""
    if path.endswith(".atom"):
        check_atom(plain.content)


def test_nginx_hides_temp_files_and_unknown_paths(nginx: tuple[str, Path]) -> None:
    """A temp file of a write in progress is never served; unknown feeds are 404."""
    url, feeds = nginx
    (feeds / ".all.atom.123.tmp").write_bytes(b"<partial")
    assert requests.get(url + "/feeds/.all.atom.123.tmp", timeout=5).status_code == 404
    assert requests.get(url + "/feeds/category/nope.atom", timeout=5).status_code == 404
