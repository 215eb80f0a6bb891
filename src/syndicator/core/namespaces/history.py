"""RFC 5005 (Feed Paging and Archiving): a feed's ``fh:complete`` or ``fh:archive`` marker and its archive links.

A feed whose posts all fit is complete; otherwise it links its newest archive
page (``prev-archive``), and each archive page links its feed (``current``)
and its neighbours. The links are Atom ``link`` elements (RSS carries them as
``atom:link``, see ``atom``). No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.config import Settings
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.core.urls import archive_stem
from syndicator.core.urls import feed_url

URI = "http://purl.org/syndication/history/1.0"


def archive_links(spec: FeedSpec, settings: Settings) -> list[tuple[str, str]]:
    """A feed's or archive page's RFC 5005 links: (rel, href) of Atom documents."""

    def atom_url(stem: str) -> str:
        return feed_url(settings, stem, "atom", spec.prefix)

    if spec.is_archive:
        links = [("current", atom_url(spec.feed_stem))]
        if spec.page > 1:
            links.append(("prev-archive", atom_url(archive_stem(spec.feed_stem, spec.page - 1))))
        if spec.page < spec.pages:
            links.append(("next-archive", atom_url(archive_stem(spec.feed_stem, spec.page + 1))))
        return links
    return [("prev-archive", atom_url(archive_stem(spec.stem, spec.pages)))] if spec.pages else []


def marker(spec: FeedSpec) -> str:
    """``archive`` for an archive page, ``complete`` for a feed that holds all its posts, else none."""
    if spec.is_archive:
        return "archive"
    return "" if spec.pages else "complete"


class History(FeedPart):
    """A document's marker, after its own elements (in RSS, in the channel)."""

    def __init__(self) -> None:
        self.marker = ""

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        self.marker = marker(spec)

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.marker:
            etree.SubElement(feed, f"{{{URI}}}{self.marker}")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        if self.marker:
            etree.SubElement(rss[0], f"{{{URI}}}{self.marker}")
        return rss


NAMESPACE = Namespace("history", "fh", URI, feed=History)
