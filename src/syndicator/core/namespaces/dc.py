"""Dublin Core (``dc:creator``): an RSS item's author by name (RSS's own <author> is an e-mail address).

No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.core.namespaces.parts import EntryPart
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.model import Post

URI = "http://purl.org/dc/elements/1.1/"


class Declared(FeedPart):
    """An RSS root declares the namespace (its items use it)."""

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI}


class Creator(EntryPart):
    """``dc:creator``: the post's author's name, after the item's own elements."""

    def __init__(self) -> None:
        self.name = ""

    def take(self, post: Post) -> None:
        self.name = post.author.name

    def extend_rss(self, item: etree._Element) -> etree._Element:
        etree.SubElement(item, f"{{{URI}}}creator").text = self.name
        return item


NAMESPACE = Namespace("dc", "dc", URI, entries_in=("rss",), feed=Declared, entry=Creator, atom=False)
