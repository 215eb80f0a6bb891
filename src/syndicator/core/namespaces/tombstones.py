"""RFC 6721 (The Atom "deleted-entry" Element): a feed's deleted entries, ``at:deleted-entry ref="<id>" when="…"``.

A feed lists the posts it held that were deleted in the last
``tombstone_days`` days; an archive page, those deleted from its places
(whenever they went). Atom only; an RSS document with tombstones
declares the namespace too (it always has). No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.config import Settings
from syndicator.core.history import whole_second
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.model import Tombstone

URI = "http://purl.org/atompub/tombstones/1.0"


class Tombstones(FeedPart):
    """A feed's deleted entries, after its own elements."""

    def __init__(self) -> None:
        self.tombstones: tuple[Tombstone, ...] = ()

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        self.tombstones = spec.tombstones

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI} if self.tombstones else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for stone in self.tombstones:
            etree.SubElement(feed, f"{{{URI}}}deleted-entry", ref=stone.ref, when=whole_second(stone.when).isoformat())
        return feed


NAMESPACE = Namespace("tombstones", "at", URI, feed=Tombstones)
