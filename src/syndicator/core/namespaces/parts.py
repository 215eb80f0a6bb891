"""What each namespace module gives the registry: its Namespace, and the feedgen extensions that write it.

feedgen's extension protocol (``feedgen.ext.base``): ``extend_ns`` gives the
declarations a document's root needs, ``extend_atom`` and ``extend_rss`` add
the namespace's elements to a document (a feed part) or to one entry (an
entry part). Ours are also told what they show: ``take``. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from syndicator.config import Settings
from syndicator.core.plan import FeedSpec
from syndicator.model import Post


class FeedPart:
    """A namespace's part of one feed document (a feed or an archive page)."""

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        """Learn what this document shows."""

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        return rss


class EntryPart:
    """A namespace's part of one post's entry (Atom) or item (RSS)."""

    @staticmethod
    def wanted(post: Post) -> bool:
        """Whether this post's entry has any of the namespace's elements (only then is the part added)."""
        return True

    def take(self, post: Post) -> None:
        """Learn what this entry shows."""

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return item


@dataclass(frozen=True, slots=True)
class Namespace:
    """One XML namespace feeds carry: its prefix and URI, where entries use it, and its feedgen extensions.

    ``entries_in``: the formats whose entries write elements with its prefix
    (an entry is serialized under a stand-in root declaring them, and the
    document's root declares them); an RSS item's are a podcast item's too.
    ``atom`` and ``rss``: the documents its extensions run in; ``podcast``:
    only in a podcast's RSS (its channel, and its items: the ``podcast``
    entry format); ``podcast_items``: whether an RSS item's part runs in a
    podcast's items too.
    """

    name: str  # its extensions' attribute on feedgen's FeedGenerator and FeedEntry
    prefix: str
    uri: str
    entries_in: tuple[str, ...] = ()
    feed: type[FeedPart] | None = None
    entry: type[EntryPart] | None = None
    atom: bool = True
    rss: bool = True
    podcast: bool = False
    podcast_items: bool = True

    def runs_in(self, fmt: str) -> bool:
        """Whether its extensions run in entries of this format ("atom", "rss", or "podcast": a podcast's RSS)."""
        if fmt == "podcast":
            return self.rss and self.podcast_items
        return (self.atom if fmt == "atom" else self.rss) and not self.podcast

    def writes_in(self, fmt: str) -> bool:
        """Whether entries of this format write elements with its prefix."""
        return fmt in self.entries_in or (fmt == "podcast" and "rss" in self.entries_in)
