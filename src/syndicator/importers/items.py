"""What an import plans and reports: each post as it will be written, and the summary of what was done.

No I/O.
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from syndicator.importers.context import Enclosure
from syndicator.importers.wxr import Term


@dataclass
class ImportReport:
    """What an import did: converted, kept, lost and skipped, per kind."""

    items: int = 0  # <item>s in the export
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)  # edited since the last import: not overwritten
    drafts: int = 0
    scheduled: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by post type or status
    malformed: list[str] = field(default_factory=list)  # "post <id>: reason"
    unwritten: list[str] = field(default_factory=list)  # "post <id>: cannot write <file>: reason"
    renamed: list[tuple[str, str, int]] = field(default_factory=list)  # (WordPress slug, new slug, post id)
    enclosures: int = 0
    embeds: int = 0
    images: int = 0  # featured images
    pages: int = 0  # WordPress pages among the files
    galleries: int = 0  # [gallery] shortcodes rebuilt from the export's attachments
    links: int = 0  # links to the old site's posts, pages, terms and attachment pages made new ones
    comments: int = 0  # comments on the imported posts and pages: not brought over
    sticky: int = 0  # posts WordPress kept at the top of the home page: ordinary posts here
    unused_attachments: int = 0  # attachments no imported post or page shows or links to
    lost: Counter[str] = field(default_factory=Counter)  # blocks and shortcodes with nothing to show
    media_fetched: int = 0
    media_present: int = 0  # already in posts_dir from an earlier run
    media_failed: dict[str, str] = field(default_factory=dict)  # upload path -> reason
    redirects: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> old slug -> new slug
    redirects_added: int = 0
    redirects_kept: int = 0  # the config file already mapped these old slugs elsewhere
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # slug -> parent and description
    categories_added: int = 0

    @property
    def posts(self) -> int:
        return len(self.new) + len(self.updated) + len(self.unchanged) + len(self.kept_local)


@dataclass
class PlannedPost:
    """One WordPress post as it will be written: its record key, front matter, body and media."""

    key: str  # record key: the post id ("<id>-<n>" for the n-th item repeating one)
    post_id: int
    guid: str
    old_slug: str  # post_name as WordPress had it, decoded
    login: str  # the author's login, for the author page's old slug
    terms: tuple[Term, ...]
    meta: dict[str, Any]  # front matter up to the slug
    body: str
    date_prefix: str
    draft: bool
    image: str = ""  # the featured image's URL
    image_alt: str = ""
    enclosures: tuple[Enclosure, ...] = ()
    id: str = ""
    position: int = 0  # the item's place in the export, from 1
    path: str = ""  # a WordPress page's address (/parent/child/); empty for a post
    old_slugs: tuple[str, ...] = ()  # slugs the post had before (_wp_old_slug)

    @property
    def is_page(self) -> bool:
        return bool(self.path)

    @property
    def slug(self) -> str:
        return str(self.meta["slug"])

    def front_matter(self) -> dict[str, Any]:
        meta = dict(self.meta)
        if self.image:
            meta["image"] = {"src": self.image, "alt": self.image_alt} if self.image_alt else self.image
        if self.enclosures:
            meta["enclosures"] = [enclosure_value(e) for e in self.enclosures]
        if self.id:
            meta["id"] = self.id
        if self.draft:
            meta["draft"] = True
        return meta

    def file_name(self) -> str:
        """Where the file goes under posts_dir: ``<date>-<slug>.md``, a page ``pages/<its path>.md``."""
        if self.is_page:
            return f"pages/{self.path.strip('/')}.md"
        return f"{self.date_prefix}-{self.slug}.md"


def enclosure_value(enclosure: Enclosure) -> str | dict[str, str | int]:
    """A URL or path; a mapping when there is a title, or a media type or length for a remote file."""
    value: dict[str, str | int] = {"url": enclosure.url}
    if enclosure.url.startswith(("http://", "https://")):
        media_type = enclosure.type or mimetypes.guess_type(enclosure.url.split("?")[0])[0]
        if media_type:
            value["type"] = media_type
        if enclosure.length:
            value["length"] = enclosure.length
    if enclosure.title:
        value["title"] = enclosure.title
    return value if len(value) > 1 else enclosure.url
