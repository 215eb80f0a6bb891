"""Atom links feedgen does not write: an entry's license (RFC 4946) and enclosures; an RSS channel's ``atom:link``s;
the attributes of an entry's own link, which feedgen drops.

RSS has no element for a license, a WebSub hub or RFC 5005 archives: its
items and channel carry them as Atom links (``atom:link``; feedgen writes the
``self`` one). In Atom, a license link follows the entry's own elements and
enclosure links (with their length and title) follow its other links. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from lxml import etree

from syndicator.config import Settings
from syndicator.core.namespaces.history import archive_links
from syndicator.core.namespaces.parts import EntryPart
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.model import Enclosure
from syndicator.model import Post

URI = "http://www.w3.org/2005/Atom"
ATOM_FEED = "application/atom+xml"


class ChannelLinks(FeedPart):
    """An RSS channel's hub (a public feed's) and archive links, after its own elements."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str, str]] = []  # (rel, href, type)

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        hub = [("hub", settings.hub_url, "")] if spec.is_public else []
        self.links = hub + [(rel, href, ATOM_FEED) for rel, href in archive_links(spec, settings)]

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        for rel, href, media_type in self.links:
            link = etree.SubElement(channel, f"{{{URI}}}link", href=href, rel=rel)
            if media_type:
                link.set("type", media_type)
        return rss


class EntryLinks(EntryPart):
    """A post's license link (Atom and RSS) and its enclosure links (Atom; RSS has its own <enclosure>)."""

    def __init__(self) -> None:
        self.license = ""
        self.enclosures: tuple[Enclosure, ...] = ()

    @staticmethod
    def wanted(post: Post) -> bool:
        return bool(post.license or post.enclosures)

    def take(self, post: Post) -> None:
        self.license, self.enclosures = post.license, post.enclosures

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        self.extend_rss(entry)
        if self.enclosures:
            enclosure_links(entry, self.enclosures)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.license:
            etree.SubElement(item, f"{{{URI}}}link", rel="license", href=self.license)
        return item


def enclosure_links(entry: etree._Element, enclosures: tuple[Enclosure, ...]) -> None:
    """Atom ``link rel="enclosure"`` elements after an entry's links (feedgen writes only an entry link's href)."""
    links = [i for i, child in enumerate(entry) if child.tag == "link"]
    at = links[-1] + 1 if links else len(entry)
    for offset, enclosure in enumerate(enclosures):
        link = etree.Element("link", href=enclosure.url, rel="enclosure", type=enclosure.media_type)
        if enclosure.length:
            link.set("length", str(enclosure.length))
        if enclosure.title:
            link.set("title", enclosure.title)
        entry.insert(at + offset, link)


# Atom's own elements are unprefixed in Atom documents: only RSS entries write the prefix.
NAMESPACE = Namespace("atom_links", "atom", URI, entries_in=("rss",), feed=ChannelLinks, entry=EntryLinks)


def links_as_given(entry: etree._Element, given: Sequence[Mapping[str, str]]) -> None:
    """An Atom entry's ``<link>``s with the attributes given for them (``rel="alternate"``, ``type``): feedgen 1.0.0
    writes only each one's ``href`` (its loop variable takes the new element's place, whose attributes it reads)."""
    for element, link in zip(entry.iterfind("link"), given, strict=False):  # feedgen's entry has no namespace
        for name in ("rel", "type", "hreflang", "title", "length"):
            if link.get(name):
                element.set(name, link[name])
