"""Sending the queued activities: signed, to each inbox in order, retried with backoff, one host never holding another.

The hub's per-host lanes (``lanes.Lanes``) run one drain at a time per host,
the hosts in turn, on a bounded pool, and the hub's ``send`` does the look-up
once, checks the address, pins the connection and keeps the deadline. An inbox
is drained in order: a failure (no answer, 429, 5xx) puts its oldest activity
back with a delay (RETRY_BASE, doubling, at most MAX_DELAY) and the inbox
waits, so a Create is never overtaken by its Update; after GIVE_UP it is
dropped. A 410 means the followers behind that inbox are gone; another 4xx
drops that one activity.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from syndicator.config import Settings
from syndicator.core.actors import ACTIVITY_JSON
from syndicator.outbound import READ_TIMEOUT
from syndicator.outbound import RefusedError
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.outbound import parse_target
from syndicator.service.callbacks import Reply
from syndicator.service.callbacks import send
from syndicator.service.lanes import Lanes
from syndicator.service.remote import USER_AGENT
from syndicator.store.fediqueue import DeliveryQueue
from syndicator.store.fediqueue import Due
from syndicator.store.fediverse import FollowerStore

logger = logging.getLogger(__name__)

RETRY_BASE = 30.0  # seconds before the first retry (the SPEC: within a minute)
MAX_DELAY = 3 * 3600.0  # the longest wait between two tries
GIVE_UP = 36 * 3600.0  # an activity still not delivered this long after it was queued is dropped
DEADLINE = 20.0  # seconds for one delivery, from the look-up to the answer
WORKERS = 16  # hosts delivered to at once (one drain at a time per host, in turn)
BATCH = 50  # activities sent to one inbox in a row before the lane lets other inboxes of its host go
SignPost = Callable[[str, Target, bytes], dict[str, str]]  # (handle, target, body) -> the signed headers


class Deliverer:
    """Drains due inboxes on the per-host lanes."""

    def __init__(
        self,
        settings: Settings,
        queue: DeliveryQueue,
        followers: FollowerStore,
        sign: SignPost,
        *,
        resolve: Resolve,
        clock: Callable[[], float],
        retry_base: float = RETRY_BASE,
        deadline: float = DEADLINE,
    ) -> None:
        self.settings, self.queue, self.followers, self._sign = settings, queue, followers, sign
        self._resolve, self._clock = resolve, clock
        self.retry_base, self.deadline = retry_base, deadline
        self._lanes = Lanes(WORKERS, "fediverse", slow_after=min(READ_TIMEOUT, deadline))
        self._lock = threading.Lock()
        self._draining: set[str] = set()

    def close(self) -> None:
        self._lanes.shutdown()

    def deliver_due(self) -> None:
        """Start draining every inbox whose oldest activity is due (one drain per inbox at a time)."""
        for inbox, host in self.queue.due_inboxes(self._clock()):
            with self._lock:
                if inbox in self._draining:
                    continue
                self._draining.add(inbox)
            self._lanes.submit(host, partial(self._drain, inbox))

    def _drain(self, inbox: str) -> None:
        try:
            for _ in range(BATCH):
                due = self.queue.head(inbox, self._clock())
                if due is None or not self._deliver(due):
                    return
        finally:
            with self._lock:
                self._draining.discard(inbox)

    def _deliver(self, due: Due) -> bool:
        """Send one activity; whether the inbox may go on with its next one."""
        reply = self._post(due)
        status = reply.status
        if 200 <= status < 300:
            logger.info("fediverse delivered inbox=%s account=%s attempt=%d", due.inbox, due.handle, due.attempts + 1)
            self.queue.done(due.id)
            return True
        if status == 410:
            gone = self.followers.drop_inbox(due.inbox)
            self.queue.drop_inbox(due.inbox)
            logger.info("fediverse inbox gone inbox=%s followers_removed=%d", due.inbox, gone)
            return False
        if 400 <= status < 500 and status not in (408, 429):
            logger.warning("fediverse delivery refused inbox=%s status=%d: dropped", due.inbox, status)
            self.queue.done(due.id)
            return True
        if self._clock() - due.queued_at > GIVE_UP:
            logger.warning("fediverse delivery abandoned inbox=%s attempts=%d", due.inbox, due.attempts + 1)
            self.queue.done(due.id)
            return True
        delay = min(self.retry_base * 2**due.attempts, MAX_DELAY)
        logger.info(
            "fediverse delivery failed inbox=%s status=%s reason=%s retry_in=%.0fs",
            due.inbox,
            status,
            reply.error,
            delay,
        )
        self.queue.retry(due.id, due.attempts + 1, self._clock() + delay)
        return False

    def _post(self, due: Due) -> Reply:
        try:
            target = parse_target(due.inbox, "an inbox", len(due.inbox.encode("utf-8")))
        except RefusedError as exc:
            return Reply(400, error=str(exc))  # never sendable: dropped like a refusal
        headers = {
            "Content-Type": ACTIVITY_JSON,
            "Accept": ACTIVITY_JSON,
            "User-Agent": USER_AGENT,
            **self._sign(due.handle, target, due.body),
        }
        return send(
            target,
            "POST",
            body=due.body,
            headers=headers,
            allow_private=self.settings.fediverse_allow_private,
            resolve=self._resolve,
            deadline=self.deadline,
        )
