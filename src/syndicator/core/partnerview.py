"""A post for partners only as partners see it: every address of it and of its files under /partners/.

Such a post is in no public feed or page, and its files are never published
(not in output_dir, not under /feeds/media/): the partner feeds and its page
name them at ``/partners/feeds/media/<path>``, where the partners' token
opens them. Its HTML was made with the public addresses of its files; they are
swapped here, as its entries are made. Its page is ``urls.post_url``'s. Pure.
No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

from syndicator.config import Settings
from syndicator.core.assets import MEDIA_DIR
from syndicator.core.assets import media_prefix
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.model import Post


@dataclass(frozen=True, slots=True)
class _SwappedText:
    """A post's HTML with its files' addresses swapped (a PostText)."""

    summary_html: str
    content_html: str
    key: tuple[object, ...]


def partner_media_prefix(settings: Settings) -> str:
    """The URL every partner-only file's URL starts with (``media_prefix``'s, for partners)."""
    return f"{settings.base_url}{PARTNER_FEEDS_PREFIX}{MEDIA_DIR}/"


def as_partners_see(post: Post, settings: Settings) -> Post:
    """The post with its files' URLs under /partners/ when it is for partners only; any other post as it is."""
    if not post.partners_only:
        return post
    public, private = media_prefix(settings), partner_media_prefix(settings)

    def swap(url: str) -> str:
        return private + url[len(public) :] if url.startswith(public) else url

    text = post.text
    swapped = _SwappedText(
        text.summary_html.replace(public, private),
        text.content_html.replace(public, private),
        ("partners", text.key),
    )
    image = replace(post.image, url=swap(post.image.url)) if post.image is not None else None
    enclosures = tuple(replace(e, url=swap(e.url)) for e in post.enclosures)
    return replace(post, text=swapped, image=image, enclosures=enclosures)
