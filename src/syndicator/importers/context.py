"""What converting one post's content works with (the export's attachments and reusable blocks) and turns up.

No I/O.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff", ".svg", ".heic")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One upload of the old site, as its attachment item describes it."""

    id: int
    url: str
    alt: str = ""
    caption: str = ""  # the attachment's excerpt: what galleries and captions show under it
    parent: int = 0  # the post it was uploaded to
    order: int = 0  # menu_order: its place in the gallery of that post

    @property
    def is_image(self) -> bool:
        return self.url.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Library:
    """The export's attachments (by id) and reusable blocks (wp_block id -> content)."""

    attachments: Mapping[int, Attachment] = field(default_factory=dict)
    reusable: Mapping[int, str] = field(default_factory=dict)

    def url(self, attachment_id: object) -> str:
        """The URL of an attachment id ('' when there is none)."""
        found = self.attachments.get(attachment_id) if isinstance(attachment_id, int) else None
        return found.url if found is not None else ""

    def images_of(self, post_id: int) -> list[Attachment]:
        """The images uploaded to a post, as WordPress's [gallery] lists them: by menu_order, then id."""
        children = [a for a in self.attachments.values() if a.parent == post_id and a.is_image and a.url]
        return sorted(children, key=lambda a: (a.order, a.id))


@dataclass(frozen=True, slots=True)
class Enclosure:
    """An audio, video or other file a post carries."""

    url: str
    title: str = ""
    type: str = ""  # media type, when WordPress recorded it
    length: int = 0  # bytes, when WordPress recorded it


@dataclass
class Findings:
    """What converting one post's content turns up, and what it is converted against."""

    library: Library
    post_id: int = 0
    footnotes: str = ""  # the post's ``footnotes`` meta (JSON), for the footnotes block
    enclosures: list[Enclosure] = field(default_factory=list)
    embeds: int = 0
    galleries: int = 0  # galleries shown: gallery blocks and [gallery] rebuilt from the export's attachments
    lost: list[str] = field(default_factory=list)  # blocks and shortcodes with nothing to show
    depth: int = 0  # reusable blocks inside reusable blocks

    def enclose(self, url: str, title: str = "") -> None:
        url = html.unescape(url.strip())
        if url and all(e.url != url for e in self.enclosures):
            self.enclosures.append(Enclosure(url, title))
