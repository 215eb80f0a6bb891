"""/sitemap.xml, /robots.txt and /favicon.ico: served, and written to output_dir (SPEC "Themes and search engines").

The sitemap is checked against the rules the sitemaps.org 0.9 schemas state
(sitemap.xsd and siteindex.xsd): the namespace, the root element, the
children each element may have and their order, ``loc`` an absolute URL of
at most 2,048 characters, ``lastmod`` a W3C date or date-time, at most 50,000
``url`` (or ``sitemap``) elements in one file. The schemas themselves are not
kept in the repository.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree

from syndicator.config import Settings
from syndicator.core.sitemap import MAX_URLS
from syndicator.core.sitemap import sitemap_files
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.http.app import create_app

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# W3C Datetime (the schemas' lastmod: xsd:date or xsd:dateTime, with a time zone when a time is given).
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
URL_CHILDREN = ("loc", "lastmod", "changefreq", "priority")  # sitemap.xsd: tUrl, in this order, loc required
INDEX_CHILDREN = ("loc", "lastmod")  # siteindex.xsd: tSitemap


def check_sitemap(body: bytes, site_url: str) -> tuple[str, list[tuple[str, str]]]:
    """The rules of the sitemaps.org schemas for one file: its root's name and its (loc, lastmod) pairs."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(body)
    assert root.tag in (NS + "urlset", NS + "sitemapindex"), root.tag
    kind, allowed = ("url", URL_CHILDREN) if root.tag == NS + "urlset" else ("sitemap", INDEX_CHILDREN)
    entries = list(root)
    assert 1 <= len(entries) <= MAX_URLS
    found = []
    for entry in entries:
        assert entry.tag == NS + kind, entry.tag
        names = [child.tag.removeprefix(NS) for child in entry]
        assert names == [name for name in allowed if name in names], f"children out of order: {names}"
        assert names.count("loc") == 1 and len(set(names)) == len(names)
        loc = entry.findtext(NS + "loc")
        assert 12 <= len(loc) <= 2048 and loc.isascii() and " " not in loc
        assert loc.startswith(site_url) and urlsplit(loc).scheme in ("http", "https")
        lastmod = entry.findtext(NS + "lastmod")
        assert lastmod is not None and W3C_DATETIME.match(lastmod), lastmod
        found.append((loc, lastmod))
    assert len({loc for loc, _ in found}) == len(found), "an address listed twice"
    return root.tag.removeprefix(NS), found


@pytest.fixture
def site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> tuple[Settings, Builder, Any]:
    """A served site: two public posts (one edited), a draft, a post for partners only, a future post."""
    write_post("2025-06-01-first.md", title="First", categories="[Alpha, Beta]", tags="[Green]")
    write_post("2025-06-02-second.md", title="Second", date="2025-06-02T10:00:00Z", updated="2025-07-01T08:00:00Z")
    write_post("draft.md", title="Draft", draft="true")
    write_post("private.md", title="Private", visibility="partners")
    write_post("later.md", title="Later", date="2030-01-01T00:00:00Z")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    return settings, builder, create_app(settings, builder).test_client()


def test_the_sitemap_lists_every_public_page_with_its_lastmod(site: tuple[Settings, Builder, Any]) -> None:
    """Home, every post page and every archive's first page, dated by their newest post; nothing private."""
    settings, _builder, client = site
    answer = client.get("/sitemap.xml")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    kind, found = check_sitemap(answer.data, settings.base_url)
    assert kind == "urlset"
    listed = dict(found)
    base = settings.base_url
    assert set(listed) == {
        f"{base}/",
        f"{base}/posts/first/",
        f"{base}/posts/second/",
        f"{base}/category/alpha/",
        f"{base}/category/beta/",
        f"{base}/tag/green/",
        f"{base}/author/test-site/",
    }
    assert listed[f"{base}/posts/second/"] == "2025-07-01T08:00:00+00:00"  # the post's updated, not its date
    assert listed[f"{base}/"] == "2025-07-01T08:00:00+00:00"  # the newest post's
    assert listed[f"{base}/category/alpha/"] == "2025-06-01T10:00:00+00:00"


def test_after_edits_and_a_new_post_the_sitemap_is_the_one_a_fresh_load_writes(
    site: tuple[Settings, Builder, Any], write_post: Callable[..., Path]
) -> None:
    """An edit in place (a new updated), then a post added: sitemap.xml is what the catalog makes from scratch."""
    settings, builder, _client = site
    sitemap = settings.output_dir / "sitemap.xml"
    write_post("2025-06-01-first.md", title="First", categories="[Alpha, Beta]", updated="2025-08-01T08:00:00Z")
    builder.reload(NOW)
    assert "<lastmod>2025-08-01T08:00:00+00:00</lastmod>" in sitemap.read_text()
    write_post("2025-06-03-third.md", title="Third", date="2025-06-03T10:00:00Z", tags="[Green]")
    builder.reload(NOW)
    for _ in range(2):
        assert builder.snapshot is not None
        assert sitemap.read_bytes() == sitemap_files(builder.snapshot.catalog, settings)["sitemap.xml"]
        write_post("2025-06-03-third.md", title="Third, edited", date="2025-06-03T10:00:00Z", updated="2025-09-01")
        builder.reload(NOW)


def test_robots_and_favicon_are_served_and_the_files_are_in_output_dir(site: tuple[Settings, Builder, Any]) -> None:
    """robots.txt names the sitemap; the favicon is an icon; each is the file written to output_dir, with 304s."""
    settings, _builder, client = site
    robots = client.get("/robots.txt")
    assert robots.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"Sitemap: {settings.base_url}/sitemap.xml" in robots.get_data(as_text=True).splitlines()
    assert "User-agent: *" in robots.get_data(as_text=True)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    for name in ("sitemap.xml", "robots.txt", "favicon.ico"):
        answer = client.get(f"/{name}")
        assert answer.data == (settings.output_dir / name).read_bytes()
        assert client.get(f"/{name}", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
        assert client.head(f"/{name}").status_code == 200


def test_a_themes_favicon_replaces_the_packages(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """theme_dir/static/favicon.ico is the one served and written."""
    (tmp_path / "theme" / "static").mkdir(parents=True)
    (tmp_path / "theme" / "static" / "favicon.ico").write_bytes(b"\x00\x00\x01\x00 mine")
    settings = make_settings(theme_dir=tmp_path / "theme")
    builder = Builder(settings)
    builder.reload(NOW)
    assert create_app(settings, builder).test_client().get("/favicon.ico").data == b"\x00\x00\x01\x00 mine"
    assert (settings.output_dir / "favicon.ico").read_bytes() == b"\x00\x00\x01\x00 mine"


def test_past_the_limit_the_sitemap_is_an_index_of_parts(site: tuple[Settings, Builder, Any]) -> None:
    """More addresses than one file may hold: sitemap.xml is a sitemap index of sitemap-<n>.xml at the root."""
    settings, builder, _client = site
    assert MAX_URLS == 50_000
    catalog = builder.snapshot.catalog
    whole = dict(check_sitemap(sitemap_files(catalog, settings)["sitemap.xml"], settings.base_url)[1])
    files = sitemap_files(catalog, settings, limit=3)
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    kind, parts = check_sitemap(files["sitemap.xml"], settings.base_url)
    assert kind == "sitemapindex"
    assert [loc for loc, _ in parts] == [f"{settings.base_url}/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed: dict[str, str] = {}
    for loc, lastmod in parts:
        part_kind, found = check_sitemap(files[loc.rsplit("/", 1)[1]], settings.base_url)
        assert part_kind == "urlset" and len(found) <= 3
        assert lastmod == max(when for _url, when in found)
        listed.update(found)
    assert listed == whole


def test_a_sitemaps_addresses_are_escaped(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A slug with characters outside URLs is percent-encoded (UTF-8); an ampersand is escaped for XML."""
    write_post("a.md", title="A", slug="café", categories="['Q & A']")
    settings = make_settings(site_url="https://example.org/q&a")  # site_url ends with its path: the ampersand is in it
    builder = Builder(settings)
    builder.reload(NOW)
    body = (settings.output_dir / "sitemap.xml").read_bytes()
    assert b"&amp;" in body
    _kind, found = check_sitemap(body, settings.base_url)
    assert any(loc.endswith("/posts/caf%C3%A9/") for loc, _ in found), found


@pytest.fixture
def parted(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, list[Path]]:
    """Eight posts, with sitemaps split past 3 addresses (four parts): the settings and the post files."""
    monkeypatch.setattr("syndicator.incremental.memo.sitemap_files", functools.partial(sitemap_files, limit=3))
    paths = [write_post(f"2025-06-{day:02d}-post.md", title=f"Post {day}", slug=f"post-{day}") for day in range(1, 9)]
    return make_settings(), paths


def test_a_sitemap_that_shrinks_leaves_no_part_behind(parted: tuple[Settings, list[Path]]) -> None:
    """Parts no longer made go from output_dir (even when an earlier process wrote them) and are no longer served."""
    settings, paths = parted
    Builder(settings).reload(NOW)
    out = settings.output_dir
    made = sorted(p.name for p in out.glob("sitemap-*"))
    assert "sitemap-4.xml" in made and "sitemap-4.xml.gz" in made, made
    for path in paths[2:]:
        path.unlink()
    builder = Builder(settings)  # a new process: what it knows of the parts is on disk
    report = builder.reload(NOW)
    kept = sorted(p.name for p in out.glob("sitemap-*"))
    assert kept == ["sitemap-1.xml", "sitemap-1.xml.gz", "sitemap-2.xml", "sitemap-2.xml.gz"], kept
    assert "sitemap-4.xml" in report.removed
    client = create_app(settings, builder).test_client()
    assert client.get("/sitemap-2.xml").status_code == 200
    assert client.get("/sitemap-4.xml").status_code == 404
    _kind, parts = check_sitemap((out / "sitemap.xml").read_bytes(), settings.base_url)
    assert [loc.rsplit("/", 1)[1] for loc, _ in parts] == ["sitemap-1.xml", "sitemap-2.xml"]


def test_a_sitemap_that_shrinks_while_served_is_no_longer_answered(parted: tuple[Settings, list[Path]]) -> None:
    """In one process: a part answered before the posts went answers 404 after the reload."""
    settings, paths = parted
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    assert client.get("/sitemap-4.xml").status_code == 200
    for path in paths[2:]:
        path.unlink()
    builder.reload(NOW)
    assert client.get("/sitemap-4.xml").status_code == 404
    assert not (settings.output_dir / "sitemap-4.xml").exists()


def test_an_edit_makes_only_the_sitemap_parts_that_changed_again(
    parted: tuple[Settings, list[Path]], write_post: Callable[..., Path]
) -> None:
    """The oldest post edited: the part that lists it is written again (and its gzip), the others are kept as served;
    every part is what the catalog makes from scratch."""
    settings, _paths = parted
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    before = dict(builder.snapshot.files)
    write_post("2025-06-01-post.md", title="Post 1", slug="post-1", updated="2025-07-01T08:00:00Z")
    report = builder.reload(NOW)
    assert not isinstance(report, ReloadError) and builder.snapshot is not None
    after = builder.snapshot.files
    parts = sorted(url for url in after if url.startswith("/sitemap"))
    changed = [url for url in parts if after[url] is not before[url]]
    assert changed and len(changed) < len(parts), changed
    assert all(url[1:] in report.written for url in changed)
    expected = functools.partial(sitemap_files, limit=3)(builder.snapshot.catalog, settings)
    assert {url[1:]: (settings.output_dir / url[1:]).read_bytes() for url in parts} == expected
