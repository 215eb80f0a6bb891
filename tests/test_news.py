"""What is news (core/news.py): the one rule for which posts reach subscribers by mail and followers' inboxes.

An operator's routine move — importing a WordPress backlog, copying old posts
into posts/ — publishes them (feeds, pages, outbox) and pushes them to nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import NOW
from conftest import Server
from conftest import post_text
from factories import make_catalog
from factories import make_post
from support.fediremote import RemoteServer
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts
from support.mailsite import Site
from syndicator.config import Settings
from syndicator.core.activities import changes
from syndicator.core.news import NEWS_WINDOW
from syndicator.core.news import is_news

READER = "reader@example.org"
BACKLOG = 50
ACTIVITY = {"Accept": "application/activity+json"}


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


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer()
    yield server
    server.close()


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def subscribed(server: Server, mail: MailServer, address: str) -> None:
    """Subscribe to the whole site, each new post, and confirm from the mail."""
    data = {"email": address, "feed": "all", "pace": "instant", "website": ""}
    assert requests.post(server.url + "/subscribe", data=data, timeout=10).status_code == 200
    (confirmation,) = mail.inbox.wait(1)
    link = link_after(parts(confirmation.message)[0], "following this link:")
    action = button_action(requests.get(link, timeout=10).text, "Confirm")
    assert action is not None and requests.post(action, timeout=10).status_code == 200


def test_a_backlog_copied_in_while_serving_reaches_no_subscriber_and_no_follower(
    tmp_path: Path, start_server: Callable[..., Server], remote: RemoteServer, mail: MailServer
) -> None:
    """`serve` with an instant subscriber and a follower of the site: 50 posts dated last year and one dated now
    are copied in; the 50 are published (pages, outbox) and exactly one mail and one Create reach them.

    A post written after them (the sentinel) arrives after anything queued for them would have: mails and
    each inbox's deliveries go in the order they were queued."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "first.md").write_text(post_text("First"))
    env = {
        "SYNDICATOR_SMTP_URL": mail.url,
        "SYNDICATOR_EMAIL_FROM": "Test Blog <news@example.org>",
        "SYNDICATOR_FEDIVERSE": "true",
        "SYNDICATOR_FEDIVERSE_ALLOW_PRIVATE": "true",
    }
    server = start_server(tmp_path, **env)
    subscribed(server, mail, READER)
    actor = f"{server.url}/ap/actors/blog"
    assert remote.follow(actor)[1].status_code == 202
    assert remote.wait_for(lambda: bool(remote.activities("Accept")))

    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(BACKLOG):
        date = (now - timedelta(days=365, hours=n)).isoformat()
        (posts / f"old-{n:02d}.md").write_text(post_text(f"Old {n}", date=date))
    (posts / "news.md").write_text(post_text("News", date=(now - timedelta(minutes=1)).isoformat()))

    def published() -> Any:
        return server.get("/ap/actors/blog/outbox", headers=ACTIVITY).json()["totalItems"]

    server.wait_until(lambda: published() == BACKLOG + 2, what="the backlog published")
    assert server.get("/posts/old-49/").status_code == 200
    (posts / "sentinel.md").write_text(post_text("Sentinel", date=now.isoformat()))

    def to_reader() -> list[str]:
        return [str(m["Subject"]) for m in mail.inbox.to(READER)][1:]  # after the confirmation

    def created() -> list[str]:
        return [str(d.activity["object"]["name"]) for d in remote.activities("Create")]

    server.wait_until(lambda: "Sentinel" in to_reader() and "Sentinel" in created(), what="the sentinel")
    assert to_reader() == ["News", "Sentinel"]
    assert created() == ["News", "Sentinel"]
    page = server.get("/ap/actors/blog/outbox", params={"page": "2"}, headers=ACTIVITY)
    assert any(item["object"]["name"].startswith("Old ") for item in page.json()["orderedItems"]), "in the outbox"
