"""The sending worker: a thread that queues the digests that are due and sends the queue through the relay.

At most email_rate mails a second. A mail is made when it is sent, from the
catalog served then: a post no longer public by then (made a draft, for
partners only, deleted) is not mailed. A temporary failure is tried again
after a backoff that doubles (up to MAX_BACKOFF), MAX_ATTEMPTS times; a
permanent one is a warning and counts against the address (three unsubscribe
it). Logs name the kind of mail and its feed, never the address.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.mailmessage import Envelope
from syndicator.core.mailmessage import confirm_mail
from syndicator.core.mailmessage import digest_mail
from syndicator.core.mailmessage import post_mail
from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import DIGEST_POSTS
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailplan import digest_posts
from syndicator.core.mailplan import digest_slot
from syndicator.core.mailplan import feed_name
from syndicator.core.mailplan import feed_page
from syndicator.core.mailtoken import confirm_token
from syndicator.core.mailtoken import unsubscribe_token
from syndicator.model import Post
from syndicator.service.smtp import PERMANENT
from syndicator.service.smtp import SENT
from syndicator.service.smtp import Relay
from syndicator.service.smtp import Result
from syndicator.store.mailstore import Pending
from syndicator.store.mailstore import Subscriptions
from syndicator.store.outbox import Outbox
from syndicator.store.outbox import Queued

logger = logging.getLogger(__name__)

BACKOFF = 10.0  # seconds before the first retry of a temporary failure; doubled each time
MAX_BACKOFF = 6 * 3600.0
MAX_ATTEMPTS = 16  # about a day of retries with the defaults
BATCH = 100  # mails taken from the queue at once
POLL = 1.0  # seconds between looks at the queue when nothing wakes the worker
SMTP_JOIN = 40.0  # seconds to wait for a send under way when stopping
_ADDRESS = re.compile(r"\S+@\S+")
Clock = Callable[[], datetime]


def redacted(reason: str) -> str:
    """A relay's reply with any address in it blotted out (replies often quote the recipient)."""
    return _ADDRESS.sub("<address>", reason)


class Pace:
    """At most ``rate`` sends a second: how long to wait before the next one, told the monotonic time."""

    def __init__(self, rate: int) -> None:
        self.gap = 1.0 / rate
        self._next = 0.0

    def wait(self, now: float) -> float:
        """Seconds to wait before sending (then count that send)."""
        start = max(self._next, now)
        self._next = start + self.gap
        return start - now


class Mailer:
    """Queues due digests and sends the queue, on a thread of its own (``start``) or a round at a time (``work``)."""

    def __init__(
        self,
        settings: Settings,
        subscriptions: Subscriptions,
        outbox: Outbox,
        secret: bytes,
        catalog: Callable[[], Catalog | None],
        clock: Clock,
        *,
        backoff: float = BACKOFF,
    ) -> None:
        self.settings, self.subscriptions, self.outbox, self.secret = settings, subscriptions, outbox, secret
        self.catalog, self.clock, self.backoff = catalog, clock, backoff
        self.relay = Relay(settings)
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self.pace = Pace(settings.email_rate)
        self._by_id: tuple[Catalog | None, dict[str, Post]] = (None, {})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mailer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=SMTP_JOIN)
        self.relay.close()

    def wake(self) -> None:
        """Look at the queue now (mails were just queued)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.work()
            except sqlite3.Error as exc:  # the database busy or its disk full: the queue waits for the next round
                logger.error("mail round failed reason=%s", exc)
            self._wake.wait(POLL)

    def work(self) -> int:
        """One round: queue the digests that are due, then send what the queue holds that is due; how many went."""
        catalog = self.catalog()
        if catalog is None:
            return 0
        now = self.clock()
        self.subscriptions.forget(now)
        self.queue_digests(catalog, now)
        due = self.outbox.take_due(now, BATCH)
        sent = sum(self.deliver(queued, catalog, self.clock()) for queued in due if not self._stop.is_set())
        if due:
            self.relay.close()  # a connection per round, not one held open between rounds
        return sent

    def queue_digests(self, catalog: Catalog, now: datetime) -> None:
        """Queue each daily and weekly digest that is due (none for a subscription with nothing new)."""
        for pace in (DAILY, WEEKLY):
            slot = digest_slot(now, self.settings, pace)
            due = self.subscriptions.due_digests(pace, slot)
            if not due:
                continue
            first_seen = self.outbox.first_seen(min(last for _, last in due))
            recent = [post for post in catalog.posts if post.id in first_seen]
            for follower, last in due:
                mailed = self.outbox.mailed_to(follower.key)
                posts = digest_posts(recent, first_seen, follower.feed, last, mailed)
                self.outbox.queue_digest(follower, [post.id for post in posts], slot, now)
            logger.info("digests queued pace=%s subscriptions=%d", pace, len(due))

    def deliver(self, queued: Queued, catalog: Catalog, now: datetime) -> int:
        """Make one queued mail and hand it to the relay; 1 when it went."""
        try:
            message = self.compose(queued, catalog, now)
        except ValueError as exc:  # a mail the email package refuses to make: dropped, not tried again forever
            logger.error("mail dropped kind=%s feed=%s reason=%s", queued.kind, queued.feed, redacted(str(exc)))
            message = None
        if message is None:
            self.outbox.done(queued.id)
            logger.info("mail dropped kind=%s feed=%s reason=no longer public or pending", queued.kind, queued.feed)
            return 0
        self._pace()
        result = self.relay.send(message, queued.address)
        if result.outcome == SENT:
            self.outbox.done(queued.id)
            self.subscriptions.delivered(queued.address_key)
            logger.info("mail sent kind=%s feed=%s", queued.kind, queued.feed)
            return 1
        if result.outcome == PERMANENT:
            self._refused(queued, result)
        else:
            self._later(queued, result, now)
        return 0

    def _refused(self, queued: Queued, result: Result) -> None:
        self.outbox.done(queued.id)
        reason = redacted(result.reason)
        logger.warning(
            "mail refused for good kind=%s feed=%s code=%d reply=%s", queued.kind, queued.feed, result.code, reason
        )
        if self.subscriptions.failed(queued.address_key):
            logger.warning("address unsubscribed after permanent failures key=%s", queued.address_key[:8])

    def _later(self, queued: Queued, result: Result, now: datetime) -> None:
        attempts = queued.attempts + 1
        reason = redacted(result.reason)
        if attempts >= MAX_ATTEMPTS:
            self.outbox.done(queued.id)
            logger.warning(
                "mail given up kind=%s feed=%s attempts=%d reply=%s", queued.kind, queued.feed, attempts, reason
            )
            return
        delay = min(MAX_BACKOFF, self.backoff * 2 ** (attempts - 1))
        self.outbox.retry(queued.id, attempts, now + timedelta(seconds=delay))
        logger.info(
            "mail deferred kind=%s feed=%s code=%d retry_in=%.0fs reply=%s",
            queued.kind,
            queued.feed,
            result.code,
            delay,
            reason,
        )

    def _pace(self) -> None:
        """Wait for the rate: at most email_rate mails a second."""
        wait = self.pace.wait(time.monotonic())
        if wait > 0:
            self._stop.wait(wait)

    def compose(self, queued: Queued, catalog: Catalog, now: datetime) -> EmailMessage | None:
        """The message of a queued mail, made now; None when what it was for is gone (not public, not pending)."""
        if self._by_id[0] is not catalog:
            self._by_id = (catalog, {post.id: post for post in catalog.posts})
        posts = [self._by_id[1][i] for i in queued.post_ids if i in self._by_id[1]]
        pending = self.subscriptions.pending(queued.ref, now) if queued.kind == "confirm" else None
        return compose(self.settings, self.secret, queued, catalog, Made(posts, pending, now))


@dataclass(frozen=True, slots=True)
class Made:
    """What a queued mail is made of, found when it is sent: its posts still public, its pending subscription."""

    posts: list[Post]
    pending: Pending | None
    now: datetime


def compose(settings: Settings, secret: bytes, queued: Queued, catalog: Catalog, made: Made) -> EmailMessage | None:
    """A queued mail's message; None when what it was for is gone (posts not public, a confirmation done)."""
    token = unsubscribe_token(secret, queued.address_key, queued.feed)
    envelope = Envelope(
        to=queued.address,
        message_id=f"<{queued.unique_id}.{queued.kind}@{settings.authority}>",
        date=made.now,
        feed_name=feed_name(queued.feed, catalog, settings),
        feed_url=feed_page(queued.feed, settings),
        unsubscribe_url=f"{settings.base_url}/unsubscribe/{token}",
    )
    pending, posts = made.pending, made.posts
    if queued.kind == "confirm":
        if pending is None or pending.confirmed:
            return None
        link = f"{settings.base_url}/confirm/{confirm_token(secret, pending.key, pending.asked)}"
        return confirm_mail(settings, pending.pace, link, envelope)
    if not posts:
        return None
    if queued.kind == "post":
        return post_mail(settings, posts[0], envelope)
    return digest_mail(settings, posts[:DIGEST_POSTS], queued.kind, envelope, max(0, len(posts) - DIGEST_POSTS))
