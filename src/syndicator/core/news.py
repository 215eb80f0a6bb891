"""What is news: the one rule for which posts are pushed to followers, by mail and to fediverse inboxes.

A post is news when it is first seen public no more than NEWS_WINDOW after
its own ``date``: a post written now, or a scheduled one whose time comes.
A post dated long before it appears (a WordPress backlog imported, old posts
copied into posts/) is published like any other — feeds, pages, the sitemap,
the fediverse outbox — but pushed to nobody: no instant mail, no line in a
digest, no ``Create`` in a follower's inbox. Pure: the caller says when the
post was first seen public.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta

from syndicator.model import Post

NEWS_WINDOW = timedelta(days=7)  # how long after its date a post first seen public is still news


def is_news(post: Post, seen: datetime) -> bool:
    """Whether a post first seen public at ``seen`` is news (a post dated after ``seen`` is)."""
    return seen - post.date <= NEWS_WINDOW


def news(posts: Iterable[Post], seen: datetime) -> list[Post]:
    """The posts among these, all first seen public at ``seen``, that are news."""
    return [post for post in posts if is_news(post, seen)]
