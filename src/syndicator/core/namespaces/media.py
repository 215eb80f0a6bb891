"""Media RSS (``media:content``, ``media:thumbnail``): a post's featured image, in Atom entries and RSS items alike.

A document declares the namespace when one of its posts has a featured image.
Not in a podcast's items: podcast apps (gPodder's parser among them) take a
``media:content`` for one of the episode's files; the episode's artwork is
its ``itunes:image`` there. No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.config import Settings
from syndicator.core.namespaces.parts import EntryPart
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.model import Image
from syndicator.model import Post

URI = "http://search.yahoo.com/mrss/"


class Declared(FeedPart):
    """The root declares the namespace when an entry uses it."""

    def __init__(self) -> None:
        self.used = False

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        self.used = any(post.image is not None for post in spec.posts)

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI} if self.used else {}


class FeaturedImage(EntryPart):
    """The featured image, after the entry's own elements."""

    def __init__(self) -> None:
        self.image: Image | None = None

    @staticmethod
    def wanted(post: Post) -> bool:
        return post.image is not None

    def take(self, post: Post) -> None:
        self.image = post.image

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.image is not None:
            media_content(entry, self.image)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return self.extend_atom(item)


def media_content(parent: etree._Element, image: Image) -> None:
    """media:content (with its caption and credit) and media:thumbnail for a featured image.

    The thumbnail of an image over the limits is its resized copy, or none: never the original (core.thumbnails).
    """
    content = etree.SubElement(parent, f"{{{URI}}}content", url=image.url, medium="image")
    if image.media_type:
        content.set("type", image.media_type)
    if image.size:
        content.set("fileSize", str(image.size))
    if image.width and image.height:
        content.set("width", str(image.width))
        content.set("height", str(image.height))
    if image.thumbnail:
        thumbnail = etree.SubElement(parent, f"{{{URI}}}thumbnail", url=image.thumbnail)
        thumbnail.set("width", str(image.thumbnail_width))
        thumbnail.set("height", str(image.thumbnail_height))
    elif not image.oversized:
        thumbnail = etree.SubElement(parent, f"{{{URI}}}thumbnail", url=image.url)
        if image.width and image.height:
            thumbnail.set("width", str(image.width))
            thumbnail.set("height", str(image.height))
    if image.caption or image.alt:
        description = etree.SubElement(content, f"{{{URI}}}description", type="plain")
        description.text = image.caption or image.alt
    if image.credit:
        etree.SubElement(content, f"{{{URI}}}credit").text = image.credit


NAMESPACE = Namespace(
    "media", "media", URI, entries_in=("atom", "rss"), feed=Declared, entry=FeaturedImage, podcast_items=False
)
