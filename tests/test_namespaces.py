"""core.namespaces: each XML namespace our feeds carry is one module, and the registry the documents derive from;
RFC 5005's (history.py): a feed's fh:complete or fh:archive marker and its archive links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from support.factories import NOW
from support.factories import make_post
from support.feedcheck import check_file
from syndicator.config import Settings
from syndicator.core.namespaces import NAMESPACES
from syndicator.core.namespaces import history
from syndicator.core.namespaces import stand_in
from syndicator.core.namespaces.atom import URI as ATOM_URI
from syndicator.core.plan import FeedGroup
from syndicator.core.plan import FeedSpec
from syndicator.core.plan import with_archives
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.podcastconfig import Podcasts
from syndicator.podcastconfig import Show
from syndicator.service.build import Builder

REGISTRY = {ns.uri: ns.prefix for ns in NAMESPACES}
HISTORY_SETTINGS = Settings(site_url="https://example.org", feed_size=2, archive_page_size=2)


@pytest.fixture
def feeds(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> dict[str, bytes]:
    """The feeds of a site using every namespace: an image, enclosures, a license, a deleted post, archive pages,
    and a podcast (its category's RSS) with an episode's fields."""
    settings = make_settings(feed_size=2, archive_page_size=2, podcasts=Podcasts((Show("shows"),)))
    extra = {
        "image": "https://images.example.org/camels.png",
        "enclosures": "[{url: 'https://cdn.example.org/ep1.mp3', type: audio/mpeg, length: 1234, title: One}]",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "episode": "1",
        "transcript": "https://cdn.example.org/ep1.vtt",
    }
    write_post("episode.md", title="Episode", categories="[Shows]", **extra)
    for n in range(4):
        write_post(f"p{n}.md", title=f"Post {n}", date=f"2025-05-0{n + 1}T10:00:00Z", categories="[Shows]")
    Builder(settings).reload(NOW)
    (settings.posts_dir / "p0.md").unlink()
    Builder(settings).reload(NOW + timedelta(days=1))
    out = settings.output_dir
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.suffix in (".atom", ".rss")}


def test_every_namespaced_element_takes_the_registrys_prefix_declared_on_its_root(feeds: dict[str, bytes]) -> None:
    """The roots' declarations, the entries' stand-ins and the elements agree: one registry, nothing to keep in step."""
    used: set[str] = set()
    for path, body in feeds.items():
        check_file(path, body)
        root = etree.fromstring(body)
        for element in root.iter():
            uri = etree.QName(element).namespace
            if uri is None or (uri == ATOM_URI and root.tag == f"{{{ATOM_URI}}}feed"):
                continue  # Atom's own elements in Atom documents, and RSS's: no prefix of ours
            assert uri in REGISTRY, f"{path}: {element.tag} is in no registered namespace"
            assert element.prefix == REGISTRY[uri] and root.nsmap.get(element.prefix) == uri, f"{path}: {element.tag}"
            used.add(REGISTRY[uri])
    assert used == {ns.prefix for ns in NAMESPACES}


@pytest.mark.parametrize("fmt", ["atom", "rss", "podcast"])
def test_an_entry_stand_in_declares_what_its_documents_entries_write(fmt: str) -> None:
    """An entry is serialized under a root declaring each namespace the registry says its format's entries use
    (a podcast's RSS items: an RSS item's, and the podcast namespaces)."""
    expected = {ns.prefix: ns.uri for ns in NAMESPACES if fmt in ns.entries_in}
    if fmt == "podcast":
        expected |= {ns.prefix: ns.uri for ns in NAMESPACES if "rss" in ns.entries_in}
    assert stand_in(fmt).nsmap == expected


def history_specs(count: int) -> list[FeedSpec]:
    """A category feed of ``count`` posts and its archive pages, with feed_size 2 and pages of 2."""
    posts = tuple(make_post(f"p{n}", date=NOW - timedelta(days=n)) for n in range(count))
    group = FeedGroup("category/a", "A", "Posts in A", "https://example.org/category/a/", posts)
    return with_archives(group, HISTORY_SETTINGS)


def test_a_complete_feed_is_marked_complete_and_links_no_archive() -> None:
    """RFC 5005: a feed whose posts all fit says fh:complete and has no archive link."""
    (feed,) = history_specs(2)
    assert (history.marker(feed), history.archive_links(feed, HISTORY_SETTINGS)) == ("complete", [])


def test_a_paged_feed_links_its_newest_archive_page_and_each_page_its_neighbours() -> None:
    """A feed with pages links the newest (prev-archive) and no marker; page n links the feed (current) and pages n-1
    and n+1 where they exist, and says fh:archive."""
    feed, *pages = history_specs(5)
    base = "https://example.org/feeds/category/a"
    assert history.marker(feed) == "" and history.archive_links(feed, HISTORY_SETTINGS) == [
        ("prev-archive", f"{base}/archive/3.atom")
    ]
    assert [history.marker(page) for page in pages] == ["archive"] * 3
    assert [history.archive_links(page, HISTORY_SETTINGS) for page in pages] == [
        [("current", f"{base}.atom"), ("next-archive", f"{base}/archive/2.atom")],
        [
            ("current", f"{base}.atom"),
            ("prev-archive", f"{base}/archive/1.atom"),
            ("next-archive", f"{base}/archive/3.atom"),
        ],
        [("current", f"{base}.atom"), ("prev-archive", f"{base}/archive/2.atom")],
    ]


def test_a_partner_feeds_archive_links_stay_under_the_partner_prefix() -> None:
    """The links of a partner feed's pages name partner feeds."""
    posts = tuple(make_post(f"p{n}", date=NOW - timedelta(days=n)) for n in range(3))
    group = FeedGroup("all", "Site", "Every post", "https://example.org/", posts)
    feed, first, _second = with_archives(group, HISTORY_SETTINGS, PARTNER_FEEDS_PREFIX)
    assert history.archive_links(feed, HISTORY_SETTINGS) == [
        ("prev-archive", "https://example.org/partners/feeds/archive/2.atom")
    ]
    assert history.archive_links(first, HISTORY_SETTINGS)[0] == (
        "current",
        "https://example.org/partners/feeds/all.atom",
    )


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_the_history_part_writes_its_marker_in_the_fh_namespace(fmt: str) -> None:
    """The feed part writes fh:complete or fh:archive once (RSS: in the channel) and nothing for a paged feed."""
    feed, page, *_ = history_specs(3)
    (complete,) = history_specs(1)
    found = {}
    for name, spec in (("complete", complete), ("paged", feed), ("archive", page)):
        part = history.History()
        part.take(spec, HISTORY_SETTINGS)
        root = etree.Element("feed" if fmt == "atom" else "rss")
        if fmt == "rss":
            etree.SubElement(root, "channel")
        written = part.extend_atom(root) if fmt == "atom" else part.extend_rss(root)
        parent = written if fmt == "atom" else written[0]
        found[name] = [etree.QName(child).localname for child in parent if etree.QName(child).namespace == history.URI]
    assert found == {"complete": ["complete"], "paged": [], "archive": ["archive"]}
    assert history.History().extend_ns() == {history.NAMESPACE.prefix: history.URI} == {"fh": history.URI}
