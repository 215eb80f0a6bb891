"""Who is mailed what: the feeds one may follow, the posts new since the last reload, who gets each, and when a
digest is due (``digest_hour`` in ``timezone``, weekly ones on Mondays).

Pure: takes the catalog, what the store remembers, the settings and ``now``. No I/O.
"""

from __future__ import annotations

from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from syndicator.config import Settings
from syndicator.core.catalog import TAXONOMIES
from syndicator.core.catalog import Catalog
from syndicator.core.news import is_news
from syndicator.core.plan import stems_of
from syndicator.model import Post

INSTANT, DAILY, WEEKLY = "instant", "daily", "weekly"
PACES = (INSTANT, DAILY, WEEKLY)
ALL = "all"
DIGEST_POSTS = 50  # posts listed in one digest at most (the rest: "and N more", with the site's link)


@dataclass(frozen=True, slots=True)
class Follower:
    """One confirmed subscription: the address, its key (address_key), the feed and the pace."""

    address: str
    key: str
    feed: str
    pace: str


def known_feed(value: str, catalog: Catalog) -> str | None:
    """The feed a form names (``all``, ``category/<slug>``, ``tag/<slug>``, ``author/<slug>``) when it is published."""
    if value == ALL:
        return value
    kind, _, slug = value.partition("/")
    if kind in TAXONOMIES and slug in catalog.taxonomy(kind):
        return value
    return None


def feed_name(feed: str, catalog: Catalog, settings: Settings) -> str:
    """How a mail names a feed: the site's title, or "<site> — <category, tag or author>"."""
    kind, _, slug = feed.partition("/")
    group = catalog.taxonomy(kind).get(slug) if kind in TAXONOMIES else None
    return settings.site_title if group is None else f"{settings.site_title} — {group.name}"


def feed_page(feed: str, settings: Settings) -> str:
    """The page a feed is read on: the home page, or its category's, tag's or author's archive."""
    return f"{settings.base_url}/" if feed == ALL else f"{settings.base_url}/{feed}/"


def new_posts(posts: Iterable[Post], seen: Container[str]) -> list[Post]:
    """The published posts whose ids were never seen published (an edited post keeps its id: it is not new)."""
    return [post for post in posts if post.id not in seen]


def instant_mails(
    new: Sequence[Post], followers: Iterable[Follower], mailed: Container[tuple[str, str]]
) -> list[tuple[Follower, Post]]:
    """Each new post for each instant follower of one of its feeds: once per address, never one already mailed.

    ``mailed`` holds the (address key, post id) pairs sent before. When an
    address follows several of a post's feeds, the mail is of the first of
    them in stems_of's order (the site's, then its categories', tags',
    author's), and its unsubscribe link leaves that one.
    """
    by_feed: dict[str, list[Follower]] = {}
    for follower in followers:
        if follower.pace == INSTANT:
            by_feed.setdefault(follower.feed, []).append(follower)
    mails: list[tuple[Follower, Post]] = []
    for post in new:
        done: set[str] = set()
        for stem in stems_of(post):
            for follower in by_feed.get(stem, ()):
                if follower.key not in done and (follower.key, post.id) not in mailed:
                    done.add(follower.key)
                    mails.append((follower, post))
    return mails


def digest_slot(now: datetime, settings: Settings, pace: str) -> datetime:
    """The latest time a digest of this pace was due at or before ``now`` (in UTC).

    Daily: ``digest_hour`` o'clock in the site's time zone; weekly: that hour
    on the latest Monday.
    """
    local = now.astimezone(settings.tz)
    slot = local.replace(hour=settings.digest_hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    if pace == WEEKLY:
        slot -= timedelta(days=slot.weekday())
    return slot.astimezone(UTC)


def digest_posts(
    posts: Sequence[Post], first_seen: Mapping[str, datetime], feed: str, since: datetime, mailed: Container[str]
) -> list[Post]:
    """The posts of a digest: of ``feed``, news first seen published since ``since``, never mailed to the address.

    ``posts`` newest first (the catalog's order); ``mailed`` the ids already
    sent to the address (by an instant mail or an earlier digest). A post
    that was not news when first seen (core.news: a backlog) is listed in none.
    """
    chosen = []
    for post in posts:
        seen = first_seen.get(post.id)
        if seen is None or seen < since or not is_news(post, seen):
            continue
        if post.id not in mailed and feed in stems_of(post):
            chosen.append(post)
    return chosen
