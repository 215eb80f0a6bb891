"""The media parts of feed entries: Media RSS for a featured image, JSON Feed attachments, the site's images.

No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.model import Enclosure
from syndicator.model import Image

MEDIA_NS = "http://search.yahoo.com/mrss/"  # Media RSS: a post's featured image, in Atom and RSS alike


def media_content(parent: etree._Element, image: Image) -> None:
    """Media RSS for a featured image: media:content (with its caption and credit) and media:thumbnail."""
    content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
    thumbnail = etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=image.url)
    if image.media_type:
        content.set("type", image.media_type)
    if image.size:
        content.set("fileSize", str(image.size))
    if image.width and image.height:
        for element in (content, thumbnail):
            element.set("width", str(image.width))
            element.set("height", str(image.height))
    if image.caption or image.alt:
        description = etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain")
        description.text = image.caption or image.alt
    if image.credit:
        etree.SubElement(content, f"{{{MEDIA_NS}}}credit").text = image.credit


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


def attachment(enclosure: Enclosure) -> dict[str, str | int]:
    """An enclosure as a JSON Feed attachment."""
    found: dict[str, str | int] = {"url": enclosure.url, "mime_type": enclosure.media_type}
    if enclosure.length:
        found["size_in_bytes"] = enclosure.length
    if enclosure.title:
        found["title"] = enclosure.title
    return found
