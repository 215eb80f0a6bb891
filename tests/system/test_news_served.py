"""Only news is pushed, through a real `syndicator serve` (core/news.py): a backlog copied into posts/ while
serving is published and reaches no subscriber by mail and no follower's inbox."""

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

from support.factories import post_text
from support.fediremote import RemoteServer
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts
from support.server import Server

READER = "reader@example.org"
BACKLOG = 50
ACTIVITY = {"Accept": "application/activity+json"}


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
