"""The fediverse side of the running site: accounts' keys, the inboxes, what each reload federates, deliveries.

Made by ``serve`` when ``fediverse`` is on. After each reload ``publish``
compares the public catalog with what was federated before (``core.activities
.changes``) and queues the Create, Update and Delete activities for every
inbox that follows each account, recording both in one transaction (the first
reload only records what is published: followers get what comes after). A
thread of its own starts the deliveries that are due every TICK seconds.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.activities import Article
from syndicator.core.activities import ArticleOf
from syndicator.core.activities import Federated
from syndicator.core.activities import article_of
from syndicator.core.activities import changes
from syndicator.core.actors import key_id
from syndicator.core.catalog import Catalog
from syndicator.model import Post
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.service.delivery import DEADLINE
from syndicator.service.delivery import RETRY_BASE
from syndicator.service.delivery import Deliverer
from syndicator.service.httpsig import Incoming
from syndicator.service.httpsig import Signer
from syndicator.service.httpsig import new_private_key
from syndicator.service.httpsig import public_pem
from syndicator.service.inbox import Answer
from syndicator.service.inbox import FollowLimits
from syndicator.service.inbox import Inbox
from syndicator.service.remote import FETCH_DEADLINE
from syndicator.service.remote import RemoteFetcher
from syndicator.service.snapshot import Snapshot
from syndicator.store.actorkeys import ActorKeys
from syndicator.store.fediqueue import DeliveryQueue
from syndicator.store.fediqueue import QueueLimits
from syndicator.store.fediverse import Database
from syndicator.store.fediverse import FollowerStore

logger = logging.getLogger(__name__)

TICK = 2.0  # seconds between looks for due deliveries


@dataclass(frozen=True, slots=True)
class Tuning:
    """What tests shorten or tighten: retry delays, deadlines, caps, how names are looked up."""

    retry_base: float = RETRY_BASE
    deadline: float = DEADLINE
    fetch_deadline: float = FETCH_DEADLINE
    follows: FollowLimits = field(default_factory=FollowLimits)
    queue: QueueLimits = field(default_factory=QueueLimits)
    resolve: Resolve = socket.getaddrinfo


class Federation:
    """The accounts' keys and followers, the inboxes, and the delivery of what each reload publishes."""

    def __init__(
        self, settings: Settings, tuning: Tuning | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        tuning = tuning or Tuning()
        self.settings, self.clock = settings, clock
        self._database = Database(settings.state_dir)
        self.followers = FollowerStore(self._database)
        self.queue = DeliveryQueue(self._database, tuning.queue)
        self._keys = ActorKeys(settings.state_dir)
        self._public: dict[str, str] = {}
        self.signer = Signer(lambda handle: self._keys.get(handle, new_private_key))
        self.remote = RemoteFetcher(settings, self.followers, self._sign_get, tuning.resolve, tuning.fetch_deadline)
        self.deliverer = Deliverer(
            settings,
            self.queue,
            self.followers,
            self._sign_post,
            resolve=tuning.resolve,
            clock=clock,
            retry_base=tuning.retry_base,
            deadline=tuning.deadline,
        )
        kick = self.deliverer.deliver_due
        self.inbox = Inbox(settings, self.followers, self.queue, self.remote, tuning.follows, kick)
        self._publishing = threading.Lock()
        self._sent: dict[str, Federated] | None = None
        self._memo: dict[int, tuple[Post, Article]] = {}
        self._last_posts: tuple[Post, ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread that starts due deliveries."""
        self._thread = threading.Thread(target=self._run, name="fediverse", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.deliverer.close()
        self._database.close()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            self.deliver_due()

    def deliver_due(self) -> None:
        self.deliverer.deliver_due()

    def public_key(self, handle: str) -> str:
        """An account's public key (PEM); its key pair is made the first time it is asked for, and kept."""
        pem = self._public.get(handle)
        if pem is None:
            pem = self._public[handle] = public_pem(self._keys.get(handle, new_private_key))
        return pem

    def receive(self, request: Incoming, catalog: Catalog) -> Answer:
        """An inbox's request (shared or an account's), checked and acted on."""
        return self.inbox.receive(request, catalog, datetime.now(UTC), self.clock())

    def after_reload(self, snapshot: Snapshot) -> None:
        """Called after each reload: federate what it published."""
        self.publish(snapshot.catalog, snapshot.report.loaded_at)

    def publish(self, catalog: Catalog, now: datetime) -> int:
        """Queue what changed since the last reload for every follower's inbox; how many deliveries were queued."""
        with self._publishing:
            if catalog.posts is self._last_posts:
                return 0  # a reload that published the very same posts (the catalog keeps its tuple)
            sent = self._sent if self._sent is not None else self.followers.federated()
            # the first reload only records: what is published already is not news to anyone
            outgoing, changed = changes(sent or {}, catalog, self.settings, now, self._memo_of(), announce=bool(sent))
            queued = self.queue.queue_reload(self.followers, outgoing, changed, self.clock()) if changed else 0
            self._sent, self._last_posts = {**(sent or {}), **changed}, catalog.posts
        if outgoing:
            logger.info("fediverse publish activities=%d deliveries=%d", len(outgoing), queued)
        if queued:
            self.deliver_due()
        return queued

    def sent(self) -> Mapping[str, Federated]:
        """What was federated of each post (its objects' generation, when it last changed), as last recorded."""
        sent = self._sent  # replaced whole by each publish, never changed in place
        return sent if sent is not None else self.followers.federated() or {}

    def counts(self) -> dict[str, int]:
        return {"followers": self.followers.count(), "pending_deliveries": self.queue.pending()}

    def _memo_of(self) -> ArticleOf:
        """The article of each post, remembered while the post is the same object (most are, reload after reload)."""
        fresh = article_of(self.settings)
        memo: dict[int, tuple[Post, Article]] = self._memo
        kept: dict[int, tuple[Post, Article]] = {}

        def of(post: Post) -> Article:
            found = memo.get(id(post))
            result = found[1] if found is not None and found[0] is post else fresh(post)
            kept[id(post)] = (post, result)
            return result

        self._memo = kept
        return of

    def _sign_get(self, target: Target) -> dict[str, str]:
        handle = self.settings.fediverse_site_handle
        request = ("GET", target.host_header, target.selector)
        return self.signer.headers(handle, key_id(self.settings, handle), request, None, datetime.now(UTC))

    def _sign_post(self, handle: str, target: Target, body: bytes) -> dict[str, str]:
        request = ("POST", target.host_header, target.selector)
        return self.signer.headers(handle, key_id(self.settings, handle), request, body, datetime.now(UTC))
