"""Following by email: subscribing (double opt-in), confirming, unsubscribing, and the mails each reload brings.

``Following`` is what the web app and the builder hold: the store under
state_dir, the signing secret and the sending worker. Each answer to the
subscribe form is the same whether the address was known or not. After each
reload, the posts published for the first time that are news (core.news) are
queued for their instant followers (the very first load only marks what is
published as seen).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.mailaddress import address_key
from syndicator.core.mailaddress import mailbox_key
from syndicator.core.mailaddress import normal_address
from syndicator.core.mailplan import ALL
from syndicator.core.mailplan import INSTANT
from syndicator.core.mailplan import PACES
from syndicator.core.mailplan import feed_name
from syndicator.core.mailplan import instant_mails
from syndicator.core.mailplan import known_feed
from syndicator.core.mailplan import new_posts
from syndicator.core.mailtoken import CONFIRM
from syndicator.core.mailtoken import read_token
from syndicator.core.mailtoken import read_unsubscribe
from syndicator.core.news import news
from syndicator.service.clients import RequestLimit
from syndicator.service.mailer import Clock
from syndicator.service.mailer import Mailer
from syndicator.service.snapshot import Snapshot
from syndicator.store.mailstore import ASKS_AN_HOUR
from syndicator.store.mailstore import MailDb
from syndicator.store.mailstore import Subscriptions
from syndicator.store.mailstore import mail_secret
from syndicator.store.outbox import Outbox

logger = logging.getLogger(__name__)

REQUESTS_A_MINUTE = 10  # subscribe requests per client address (429 beyond)
ACCEPTED, BAD_ADDRESS, BAD_FEED, BAD_PACE, BUSY = "accepted", "address", "feed", "pace", "busy"


@dataclass(frozen=True, slots=True)
class Asked:
    """The answer to a subscribe request: ACCEPTED, what was wrong, or BUSY (the site's confirmation mails this hour
    are all sent: try again in ``retry`` seconds), and the feed's name."""

    outcome: str
    feed_name: str = ""
    pace: str = INSTANT
    confirmed: bool = False  # a confirmation link's subscription has started
    retry: float = 0.0


class Following:
    """The store, the secret and the worker of following by email, over the builder's snapshots."""

    def __init__(
        self, settings: Settings, catalog: Callable[[], Catalog | None], clock: Clock, **mailer: float
    ) -> None:
        self.settings, self.clock = settings, clock
        self.secret = mail_secret(settings.state_dir)
        self.db = MailDb(settings.state_dir, self.secret)
        self.subscriptions, self.outbox = Subscriptions(self.db), Outbox(self.db)
        self.mailer = Mailer(settings, self.subscriptions, self.outbox, self.secret, catalog, clock, **mailer)
        self.requests = RequestLimit(REQUESTS_A_MINUTE, 60.0)
        self._publishing = threading.Lock()  # two reload jobs finishing at once see the same new posts
        self._capped: datetime | None = None  # when the log last said the hour's confirmation mails were all sent

    def start(self) -> None:
        self.mailer.start()

    def stop(self) -> None:
        self.mailer.stop()
        self.db.close()

    def subscribe(self, email: str, feed: str, pace: str, catalog: Catalog, *, trap: bool = False) -> Asked:
        """Ask for a subscription: a confirmation mail is queued (at most ASKS_A_DAY to one mailbox a day, and
        ASKS_AN_HOUR from the site in an hour: BUSY beyond).

        No feed is the whole site's (``all``); no pace is ``instant``.
        ``trap``: the honeypot field was filled in (a bot): answered as
        accepted, and nothing is stored or sent.
        """
        followed = known_feed(feed or ALL, catalog)
        if followed is None:
            return Asked(BAD_FEED)
        pace = pace or INSTANT
        if pace not in PACES:
            return Asked(BAD_PACE)
        address = normal_address(email)
        if address is None:
            return Asked(BAD_ADDRESS)
        name = feed_name(followed, catalog, self.settings)
        if trap:
            logger.info("subscription refused reason=honeypot feed=%s", followed)
            return Asked(ACCEPTED, name, pace)
        now = self.clock()
        keys = address_key(self.secret, address), mailbox_key(self.secret, address)
        asking = self.subscriptions.ask(address, *keys, followed, pace, now)
        if asking.retry:
            self._hour_full(now)
            return Asked(BUSY, name, pace, retry=asking.retry)
        if asking.key is None:
            logger.info("confirmation not sent reason=three today to its mailbox feed=%s", followed)
        self.mailer.wake()
        return Asked(ACCEPTED, name, pace)

    def _hour_full(self, now: datetime) -> None:
        """Warn (once an hour at most) that subscribe requests are turned away: the hour's confirmation mails went."""
        if self._capped is None or now - self._capped >= timedelta(hours=1):
            self._capped = now
            logger.warning("subscribe requests refused reason=confirmation mails this hour limit=%d", ASKS_AN_HOUR)

    def confirm(self, token: str, catalog: Catalog, *, act: bool) -> Asked | None:
        """What a confirmation link subscribes to; ``act`` (its page's button) starts the subscription.

        None for a forged or expired link. Without ``act`` nothing changes:
        mail scanners fetch the links of the mails they pass.
        """
        now = self.clock()
        key = read_token(self.secret, token, CONFIRM, now)
        if key is None:
            return None
        pending = self.subscriptions.confirm(key, now) if act else self.subscriptions.pending(key, now)
        if pending is None:
            return None
        if act and not pending.confirmed:
            logger.info("subscription confirmed feed=%s pace=%s", pending.feed, pending.pace)
        name = feed_name(pending.feed, catalog, self.settings)
        return Asked(ACCEPTED, name, pending.pace, confirmed=act or pending.confirmed)

    def unsubscribe(self, token: str, catalog: Catalog, *, act: bool) -> str | None:
        """The name of the feed an unsubscribe link leaves (None: not a valid link); ``act`` ends the subscription."""
        found = read_unsubscribe(self.secret, token, self.clock())
        if found is None:
            return None
        key, feed = found
        if act:
            removed = self.subscriptions.unsubscribe(key, feed)
            logger.info("unsubscribed feed=%s subscriptions=%d", feed, removed)
        return feed_name(feed, catalog, self.settings)

    def published(self, snapshot: Snapshot) -> None:
        """After a reload: queue the mails of the posts published for the first time (the builder calls it)."""
        if snapshot.starting:
            return
        catalog = snapshot.catalog
        try:
            with self._publishing:
                self._publish(catalog)
        except sqlite3.Error as exc:  # the posts stay unseen: the next reload tries again
            logger.error("mail queue not updated reason=%s", exc)

    def _publish(self, catalog: Catalog) -> None:
        outbox = self.outbox
        if not outbox.primed():
            outbox.publish([post.id for post in catalog.posts], [], catalog.now, prime=True)
            return
        new = new_posts(catalog.posts, outbox.seen())
        if not new:
            return
        ids = [post.id for post in new]
        fresh = news(new, catalog.now)  # a backlog (posts dated long before they appear) is seen, and mailed to nobody
        mails = instant_mails(fresh, self.subscriptions.followers(INSTANT), outbox.mailed_pairs(ids)) if fresh else []
        outbox.publish(ids, [(follower, post.id) for follower, post in mails], catalog.now)
        logger.info("new posts queued for mail posts=%d news=%d mails=%d", len(new), len(fresh), len(mails))
        self.mailer.wake()

    def counts(self) -> dict[str, dict[str, int]]:
        """Email subscribers per feed and pace."""
        return self.subscriptions.counts()
