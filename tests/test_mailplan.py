"""Who gets which post, and when a digest is due (SPEC "Following by email"): published feeds only, each new post once,
daily and weekly digests at digest_hour in the site's time zone."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from support.factories import NOW
from support.factories import make_catalog
from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import INSTANT
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailplan import Follower
from syndicator.core.mailplan import digest_posts
from syndicator.core.mailplan import digest_slot
from syndicator.core.mailplan import instant_mails
from syndicator.core.mailplan import known_feed
from syndicator.core.mailplan import new_posts

SETTINGS = Settings(site_title="Test Site", site_url="https://example.org", email_from="News <news@example.org>")


def test_only_published_feeds_can_be_followed() -> None:
    """``all`` and a published category, tag or author; anything else is no feed."""
    catalog = make_catalog(make_post("one", categories=("Alpha",)))
    assert known_feed("all", catalog) == "all"
    assert known_feed("category/alpha", catalog) == "category/alpha"
    assert known_feed("author/writer", catalog) == "author/writer"
    for value in ("", "category/beta", "category/", "posts/one", "category/alpha\r\nX: y", "../all", "ALL"):
        assert known_feed(value, catalog) is None


def test_only_posts_never_seen_are_new() -> None:
    """An edited post keeps its id: it is not new; a post with an id never seen is."""
    old = make_post("old")
    edited = make_post("old", title="Edited title", summary_html="<p>Changed.</p>")
    fresh = make_post("fresh")
    assert new_posts([edited, fresh], {old.id}) == [fresh]


def follower(name: str, feed: str, pace: str = INSTANT) -> Follower:
    return Follower(f"{name}@example.org", f"key-{name}", feed, pace)


def test_each_new_post_goes_to_its_feeds_instant_followers_once() -> None:
    """A post goes to instant followers of any of its feeds, once per address, never twice, never to digests."""
    alpha = make_post("a-post", categories=("Alpha",))
    beta = make_post("b-post", categories=("Beta",))
    ann_alpha, ann_all = follower("ann", "category/alpha"), follower("ann", "all")
    bob_beta, cat_daily = follower("bob", "category/beta"), follower("cat", "all", DAILY)
    mails = instant_mails([alpha, beta], [ann_alpha, ann_all, bob_beta, cat_daily], set())
    assert mails == [(ann_all, alpha), (ann_all, beta), (bob_beta, beta)]
    again = instant_mails([alpha, beta], [ann_alpha, bob_beta], {("key-ann", beta.id), ("key-bob", beta.id)})
    assert again == [(ann_alpha, alpha)]


@pytest.mark.parametrize(
    ("now", "pace", "slot"),
    [
        ("2026-01-07T08:00:00+00:00", DAILY, "2026-01-07T08:00:00+00:00"),
        ("2026-01-07T07:59:59+00:00", DAILY, "2026-01-06T08:00:00+00:00"),
        ("2026-01-07T23:00:00+00:00", DAILY, "2026-01-07T08:00:00+00:00"),
        ("2026-01-05T08:00:00+00:00", WEEKLY, "2026-01-05T08:00:00+00:00"),  # a Monday
        ("2026-01-05T07:00:00+00:00", WEEKLY, "2025-12-29T08:00:00+00:00"),
        ("2026-01-11T22:00:00+00:00", WEEKLY, "2026-01-05T08:00:00+00:00"),  # Sunday
    ],
)
def test_digests_are_due_at_digest_hour_weekly_on_mondays(now: str, pace: str, slot: str) -> None:
    """Daily at digest_hour; weekly at that hour on the latest Monday."""
    settings = Settings(digest_hour=8)
    assert digest_slot(datetime.fromisoformat(now), settings, pace) == datetime.fromisoformat(slot)


def test_digest_hour_is_in_the_sites_time_zone() -> None:
    """digest_hour 8 in Europe/Paris is 07:00 UTC in winter and 06:00 UTC in summer."""
    settings = Settings(digest_hour=8, timezone="Europe/Paris")
    winter = digest_slot(datetime(2026, 1, 7, 12, tzinfo=UTC), settings, DAILY)
    summer = digest_slot(datetime(2026, 7, 7, 12, tzinfo=UTC), settings, DAILY)
    assert (winter.hour, summer.hour) == (7, 6)
    monday = digest_slot(datetime(2026, 1, 5, 6, 30, tzinfo=UTC), settings, WEEKLY)  # 07:30 in Paris: before 08:00
    assert monday == datetime(2025, 12, 29, 7, tzinfo=UTC)


def test_a_digest_lists_the_feeds_posts_seen_since_the_last_one() -> None:
    """Posts of the feed first seen after the last digest, never mailed to the address; none: an empty list.

    A post dated long before it was first seen (a backlog) is not news: no digest lists it.
    """
    recent = NOW - timedelta(hours=3)
    one = make_post("one", categories=("Alpha",), date=recent)
    two = make_post("two", categories=("Alpha",), date=recent)
    other = make_post("other", categories=("Beta",), date=recent)
    old = make_post("old", categories=("Alpha",), date=recent - timedelta(days=1))
    backlog = make_post("backlog", categories=("Alpha",), date=NOW - timedelta(days=365))
    since = NOW - timedelta(days=1)
    seen = {one.id: NOW, two.id: NOW, other.id: NOW, old.id: since - timedelta(hours=1), backlog.id: NOW}
    posts = [one, two, other, old, backlog]
    assert digest_posts(posts, seen, "category/alpha", since, set()) == [one, two]
    assert digest_posts(posts, seen, "category/alpha", since, {two.id}) == [one]
    assert digest_posts(posts, seen, "category/alpha", NOW + timedelta(seconds=1), set()) == []
