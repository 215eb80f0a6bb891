"""A site that mails its followers, for tests: the app, the builder, following by email over a loopback SMTP server.

Fixtures ``mail_server`` and ``site`` (registered in conftest); the site's clock is moved by the test.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import NOW
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts
from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.service.build import Builder
from syndicator.service.following import Following
from syndicator.service.http.app import create_app
from syndicator.service.schedule import Reloads

READER = "reader@example.org"
BACKOFF = 30.0


class Clock:
    """The time the site lives at: moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    settings: Settings
    builder: Builder
    following: Following
    client: Any
    clock: Clock
    server: MailServer
    write_post: Callable[..., Path]

    def reload(self) -> None:
        Reloads(self.builder, self.clock).run()

    def send(self) -> int:
        """One round of the sending worker."""
        return self.following.mailer.work()

    def subscribe(
        self, email: str = READER, feed: str = "category/alpha", client: str = "192.0.2.1", **more: str
    ) -> Any:
        data = {"email": email, "feed": feed, "pace": "instant", "website": ""} | more
        return self.client.post("/subscribe", data=data, environ_base={"REMOTE_ADDR": client})

    def confirm(self, message: EmailMessage) -> Any:
        """Follow the mail's confirmation link as a person does: open it, press Confirm when the page asks."""
        link = link_after(parts(message)[0], "following this link:")
        page = self.client.get(urlsplit(link).path)
        action = button_action(page.get_data(as_text=True), "Confirm")
        return page if action is None else self.client.post(urlsplit(action).path)

    def subscribed(self, email: str = READER, feed: str = "category/alpha", **more: str) -> None:
        """Subscribe and confirm through the mail."""
        before = len(self.server.inbox.arrived)
        assert self.subscribe(email, feed, **more).status_code == 200
        self.send()
        (confirmation,) = [a.message for a in self.server.inbox.arrived[before:]]
        assert self.confirm(confirmation).status_code == 200

    def mails_to(self, address: str = READER) -> list[EmailMessage]:
        return self.server.inbox.to(address)

    def count(self) -> dict[str, dict[str, int]]:
        return self.following.counts()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def open_site(settings: Settings, clock: Clock, server: MailServer, write_post: Callable[..., Path]) -> Site:
    builder = Builder(settings)

    def catalog() -> Catalog | None:
        return builder.snapshot.catalog if builder.snapshot is not None else None

    following = Following(settings, catalog, clock, backoff=BACKOFF)
    builder.listeners.append(following.published)
    Reloads(builder, clock).run()
    client = create_app(settings, builder, following=following).test_client()
    return Site(settings, builder, following, client, clock, server, write_post)


@pytest.fixture
def site(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], mail_server: MailServer
) -> Iterator[Site]:
    """A site with a post in Alpha and one in Beta, mail through the loopback server."""
    write_post("alpha-1.md", title="Alpha one", categories="[Alpha]", tags="[Cats]")
    write_post("beta-1.md", title="Beta one", categories="[Beta]")
    settings = make_settings(smtp_url=mail_server.url, email_from="Test Site <news@example.org>")
    opened = open_site(settings, Clock(NOW), mail_server, write_post)
    yield opened
    opened.following.stop()
