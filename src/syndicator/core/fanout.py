"""A build's fan-out: how many feeds its posts make, and a warning when that passes the documented bound.

Every category, tag and author is a feed in three formats (with its archive
pages and page), so a post's names multiply: 100 posts of 100 names each are
30,000 feeds. Pure: takes the catalog. No I/O.
"""

from __future__ import annotations

from syndicator.core.catalog import TAXONOMIES
from syndicator.core.catalog import Catalog
from syndicator.core.urls import FORMATS
from syndicator.problem import LoadProblem

FEEDS_PER_POST = 30  # the bound: feeds per published post ...
MIN_FEEDS = 3000  # ... and never fewer than this many (a small blog's tags are fine)


def feed_count(catalog: Catalog) -> int:
    """The feeds a catalog makes: the site's and every category's, tag's and author's, in every format."""
    return len(FORMATS) * (1 + sum(len(catalog.taxonomy(kind)) for kind in TAXONOMIES))


def fan_out(catalog: Catalog) -> list[LoadProblem]:
    """A warning, naming the post with the most categories and tags, when the feeds pass the bound."""
    feeds, posts = feed_count(catalog), len(catalog.posts)
    bound = max(MIN_FEEDS, FEEDS_PER_POST * posts)
    if feeds <= bound or not catalog.posts:
        return []
    widest = max(catalog.posts, key=lambda post: len(post.categories) + len(post.tags))
    names = len(widest.categories) + len(widest.tags)
    message = (
        f"{posts:,} posts make {feeds:,} feeds, past the bound of {bound:,} ({FEEDS_PER_POST} a post, at least "
        f"{MIN_FEEDS:,}): every category and tag is 3 feeds and a page, and posts like this one name {names} "
        f'(see the README, "Fan-out")'
    )
    return [LoadProblem(widest.path, widest.line_of("tags" if widest.tags else "categories"), message, fatal=False)]
