"""What is news (core/news.py): the one rule for which posts reach subscribers by mail and followers' inboxes.

An operator's routine move — importing a WordPress backlog, copying old posts
into posts/ — publishes them (feeds, pages, outbox) and pushes them to nobody.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from support.factories import NOW
from support.factories import make_catalog
from support.factories import make_post
from support.mailserver import parts
from support.mailsite import Site
from syndicator.config import Settings
from syndicator.core.activities import changes
from syndicator.core.news import NEWS_WINDOW
from syndicator.core.news import is_news

BACKLOG = 50


def test_a_post_is_news_when_first_seen_public_within_the_window_of_its_date() -> None:
    """Written now, scheduled and come due, up to NEWS_WINDOW late: news; dated long before it appeared: not."""
    assert timedelta(days=7) == NEWS_WINDOW, "as the README says"
    post = make_post("p", date=NOW)
    assert is_news(post, NOW)
    assert is_news(post, NOW - timedelta(minutes=5)), "a date a little ahead of the clock"
    assert is_news(post, NOW + NEWS_WINDOW)
    assert not is_news(post, NOW + NEWS_WINDOW + timedelta(seconds=1))
    assert not is_news(make_post("old", date=NOW - timedelta(days=365)), NOW)


def test_a_backlog_is_federated_as_a_record_and_sends_no_create() -> None:
    """changes() over 50 posts of last year and one of today: one Create per account of today's post only;
    every post is in the record (so the outbox lists them and an edit is an Update, not a Create)."""
    settings = Settings(fediverse=True, site_url="https://example.org")
    backlog = [make_post(f"old-{n}", date=NOW - timedelta(days=365, hours=n)) for n in range(BACKLOG)]
    fresh = make_post("fresh", date=NOW - timedelta(hours=1))
    catalog = make_catalog(*backlog, fresh)
    _, baseline = changes({}, make_catalog(), settings, NOW, announce=False)
    out, record = changes(baseline, catalog, settings, NOW)
    assert {(o.kind, o.post_id) for o in out} == {("Create", fresh.id)}
    assert set(record) == {post.id for post in (*backlog, fresh)}
    out, _ = changes({**baseline, **record}, catalog, settings, NOW + timedelta(minutes=1))
    assert out == [], "nothing changed: nothing sent"


def test_an_old_post_added_to_a_category_sends_that_account_no_create() -> None:
    """A category given to a post of last year is no news to the category's followers."""
    settings = Settings(fediverse=True, site_url="https://example.org")
    old = make_post("old", date=NOW - timedelta(days=365))
    _, record = changes({}, make_catalog(old), settings, NOW, announce=False)
    moved = make_post("old", date=NOW - timedelta(days=365), categories=("Alpha",))
    out, _ = changes(record, make_catalog(moved), settings, NOW)
    assert [o.kind for o in out] == []
    recent = make_post("recent", date=NOW - timedelta(days=1))
    _, record = changes({}, make_catalog(recent), settings, NOW, announce=False)
    out, _ = changes(record, make_catalog(make_post("recent", date=recent.date, categories=("Alpha",))), settings, NOW)
    assert [(o.kind, o.handle) for o in out] == [("Create", "alpha")]


def test_a_digest_lists_no_backlog(site: Site) -> None:
    """A daily digest after 50 posts of last year and one of today lists today's alone."""
    site.subscribed("day@example.org", feed="all", pace="daily")
    for n in range(BACKLOG):
        site.write_post(f"old-{n}.md", title=f"Old {n}", date=(NOW - timedelta(days=365, hours=n)).isoformat())
    site.write_post("fresh.md", title="Fresh", date=(NOW - timedelta(hours=1)).isoformat())
    site.reload()
    site.clock.now = datetime.fromisoformat("2026-01-02T08:00:00+00:00")  # digest_hour 8, the next day
    site.reload()
    assert site.send() == 1
    digest = site.mails_to("day@example.org")[-1]
    assert digest["Subject"] == "Test Site: 1 new post"
    text, _html = parts(digest)
    assert "Fresh" in text and "Old " not in text
