"""The OPML list of feeds (core/opml.py): every category's, tag's and author's Atom feed once, dated by the newest
first entry, the same bytes for the same feeds."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from support.factories import make_catalog
from support.factories import make_post
from support.factories import terms
from syndicator.config import Settings
from syndicator.core.opml import EMPTY_UPDATED
from syndicator.core.opml import opml
from syndicator.core.plan import feed_groups
from syndicator.core.plan import feed_specs
from syndicator.core.plan import with_archives
from syndicator.core.urls import PARTNER_FEEDS_PREFIX

SETTINGS = Settings(site_title="Desk <&> News", site_url="https://example.org", feed_size=1, archive_page_size=1)


def outlines(body: bytes) -> list[etree._Element]:
    root = etree.fromstring(body)
    assert root.tag == "opml" and root.get("version") == "2.0"
    return root.findall("body/outline")


def test_every_taxonomy_feed_is_listed_and_no_site_feed_or_archive_page() -> None:
    """One outline per category, tag and author feed, by its Atom URL, title and page; the site-wide feed and the
    archive pages (feed_size 1: each feed of two posts has pages) are not listed."""
    posts = [
        make_post("a", categories=("One",), tags=terms("Red")),
        make_post("b", categories=("One", "Two"), date=datetime(2025, 7, 1, tzinfo=UTC)),
    ]
    specs = feed_specs(make_catalog(*posts), SETTINGS)
    assert any(spec.is_archive for spec in specs)
    listed = [
        (o.get("xmlUrl"), o.get("title"), o.get("htmlUrl"), o.get("type")) for o in outlines(opml(specs, SETTINGS))
    ]
    expected = [
        (f"https://example.org/feeds/{spec.stem}.atom", spec.title, spec.page_url, "rss")
        for spec in specs
        if spec.stem != "all" and not spec.is_archive
    ]
    assert listed == expected
    assert {url for url, *_ in listed} == {
        "https://example.org/feeds/category/one.atom",
        "https://example.org/feeds/category/two.atom",
        "https://example.org/feeds/tag/red.atom",
        "https://example.org/feeds/author/writer.atom",
    }
    assert all(o.get("text") == o.get("title") for o in outlines(opml(specs, SETTINGS)))


def test_it_is_dated_by_the_newest_first_entry_of_any_feed() -> None:
    """dateModified is the newest post's updated (RFC 822), not the time it was made; with no post, a fixed date."""
    newest = datetime(2025, 7, 1, 10, tzinfo=UTC)
    specs = feed_specs(make_catalog(make_post("a"), make_post("b", date=newest, categories=("One",))), SETTINGS)
    dated = etree.fromstring(opml(specs, SETTINGS)).findtext("head/dateModified")
    assert dated is not None and parsedate_to_datetime(dated) == newest
    empty = etree.fromstring(opml(feed_specs(make_catalog(), SETTINGS), SETTINGS))
    assert parsedate_to_datetime(empty.findtext("head/dateModified") or "") == EMPTY_UPDATED
    assert empty.findall("body/outline") == []


def test_titles_are_escaped_and_the_bytes_are_stable() -> None:
    """The site title and feed titles with markup characters read back as written; the same specs, the same bytes."""
    specs = feed_specs(make_catalog(make_post("a", categories=("Q&A <live>",))), SETTINGS)
    body = opml(specs, SETTINGS)
    root = etree.fromstring(body)
    assert root.findtext("head/title") == "Desk <&> News"
    assert outlines(body)[0].get("title") == "Desk <&> News — Q&A <live>"
    assert opml(list(specs), SETTINGS) == body
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_partner_feeds_are_listed_under_their_prefix() -> None:
    """Specs for partners name the partner feeds' URLs."""
    groups = feed_groups(make_catalog(make_post("a", categories=("One",))), SETTINGS)
    specs = [spec for group in groups for spec in with_archives(group, SETTINGS, PARTNER_FEEDS_PREFIX)]
    urls = [o.get("xmlUrl") for o in outlines(opml(specs, SETTINGS))]
    assert urls == [
        "https://example.org/partners/feeds/category/one.atom",
        "https://example.org/partners/feeds/author/writer.atom",
    ]
