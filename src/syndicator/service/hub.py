"""A WebSub hub for our own feeds: subscriptions, verification of intent, signed deliveries with retries.

State lives in SQLite under state_dir, so subscriptions and pending deliveries
survive restarts. Nothing slow runs on a request or a reload: a request is
checked for syntax and the hub's caps only (no DNS look-up) and queues its
verification; a reload only queues deliveries. The hub's own threads do the
look-ups and the HTTP (see callbacks.py) on lanes (lanes.py): one request at a
time per callback host, the hosts in turn, and at most half the threads for
hosts whose last request held one as long as a timeout; so a slow or hanging
subscriber never holds a thread for more than one request while others wait.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import socket
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from syndicator import __version__
from syndicator.config import Settings
from syndicator.outbound import READ_TIMEOUT
from syndicator.outbound import RefusedError
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.outbound import is_local_name
from syndicator.outbound import is_public
from syndicator.service.callbacks import DEADLINE
from syndicator.service.callbacks import MAX_URL_BYTES
from syndicator.service.callbacks import Reply
from syndicator.service.callbacks import parse_callback
from syndicator.service.callbacks import send
from syndicator.service.hubstore import Due
from syndicator.service.hubstore import HubStore
from syndicator.service.hubstore import host_of
from syndicator.service.lanes import Lanes

logger = logging.getLogger(__name__)

USER_AGENT = f"Syndicator-WebSub/{__version__}"
DEFAULT_LEASE = 10 * 24 * 3600
MAX_LEASE = 30 * 24 * 3600
MAX_SECRET_BYTES = 199
MAX_ATTEMPTS = 8  # 1 + 7 retries, backing off from retry_base: 1, 2, 4 ... 64 minutes at the default
WORKERS = 16  # callback hosts contacted at once (each host gets one request at a time, in turn)
Feed = tuple[bytes, str]  # (body, media type) of a topic


@dataclass(frozen=True, slots=True)
class Limits:
    """The most the hub holds (README, "Complete history and push"); a request past one is answered 429."""

    per_host: int = 256  # subscriptions per callback host
    total: int = 4096  # subscriptions in all
    pending_per_host: int = 32  # verifications waiting, per callback host
    pending: int = 256  # verifications waiting, in all
    callback_bytes: int = MAX_URL_BYTES  # length of a callback URL


class HubRequestError(ValueError):
    """A subscription request the hub refuses; the message says why (sent as plain text with `status`)."""

    status = 400


class HubBusyError(HubRequestError):
    """A request refused because one of the hub's caps is reached."""

    status = 429


class Hub:
    """The built-in hub (or, with websub_hub set, the pinger of an external one)."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry_base: float = 60.0,
        resolve: Resolve = socket.getaddrinfo,
        deadline: float = DEADLINE,
        limits: Limits = Limits(),  # frozen: one shared default is safe
    ) -> None:
        self.settings = settings
        self.retry_base = retry_base
        self.url = settings.hub_url
        self.external = bool(settings.websub_hub)
        self.limits = limits
        self._resolve = resolve
        self._deadline = deadline
        self.store = HubStore(settings.state_dir)
        self._lock = self.store.lock
        self._lanes = Lanes(WORKERS, slow_after=min(READ_TIMEOUT, deadline))  # as long as a timeout: slow
        self._pending: Counter[str] = Counter()  # verifications queued or running, per callback host
        self._adding: Counter[str] = Counter()  # those of them that would add a subscription

    def stop(self) -> None:
        """Start no more deliveries (the process ends): those running end within their deadline, the others stay
        queued for the next start (a stop drained the whole queue first: minutes with stalling subscribers)."""
        self._lanes.shutdown()

    def close(self) -> None:
        self.stop()
        self.store.close()

    # -- requests ---------------------------------------------------------------------------

    def request(self, form: dict[str, str], topics: Iterable[str]) -> None:
        """Check a subscribe/unsubscribe request and queue its verification; raise HubRequestError if refused.

        No look-up happens here: the callback's host is resolved and checked when it is contacted.
        """
        if self.external:
            raise HubRequestError("this site uses an external hub: subscribe there")
        mode, topic, callback, secret, lease = read_form(form, topics)
        host = checked_callback(callback, self.limits.callback_bytes, self.settings.websub_allow_private).host
        with self._lock:
            queued = Counter({host: 1})
            adding = (
                queued
                if admit(self.store, self.limits, (self._pending, self._adding), (mode, callback, topic, host))
                else Counter()
            )
            self._pending += queued
            self._adding += adding
        self._lanes.submit(host, partial(self._verify_queued, queued, adding, mode, callback, topic, secret, lease))

    def _verify_queued(
        self, queued: Counter[str], adding: Counter[str], mode: str, callback: str, topic: str, secret: str, lease: int
    ) -> None:
        done = False

        def settled() -> None:  # called with the lock held
            nonlocal done
            if not done:
                self._pending -= queued  # drops the hosts that reach 0
                self._adding -= adding
                done = True

        try:
            self.verify(mode, callback, topic, secret, lease, settled)
        finally:
            with self._lock:
                settled()

    def verify(
        self, mode: str, callback: str, topic: str, secret: str, lease: int, settled: Callable[[], None] = lambda: None
    ) -> bool:
        """Verification of intent: the subscriber must echo the challenge; only then does the change happen.

        ``settled`` is called under the store's lock (which the caps are checked under) in the same moment as the
        change, so the caps never count a new subscription both in the store and among those being verified.
        """
        challenge = secrets.token_urlsafe(24)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        separator = "&" if urllib.parse.urlsplit(callback).query else "?"
        reply = self._send(callback + separator + urllib.parse.urlencode(query), "GET")
        if not (200 <= reply.status < 300 and reply.body.strip() == challenge.encode()):
            logger.warning(
                "websub verify failed callback=%s mode=%s status=%s reason=%s",
                callback,
                mode,
                reply.status,
                reply.error or "challenge not echoed",
            )
            return False
        if mode == "subscribe":
            self.store.subscribe(callback, topic, secret, lease, then=settled)
        else:
            self.store.unsubscribe(callback, topic, then=settled)
        logger.info("websub %s verified callback=%s topic=%s", mode, callback, topic)
        return True

    # -- distribution -----------------------------------------------------------------------

    def publish(self, topics: Iterable[str]) -> int:
        """Queue a delivery of each changed topic to its subscribers (or a ping of the external hub)."""
        return self.store.queue(list(topics), self.url if self.external else None)

    def deliver_due(self, feed_of: Callable[[str], Feed | None]) -> None:
        """Start every delivery that is due, on its callback host's lane (each host in turn, one at a time)."""
        for due in self.store.take_due():
            self._lanes.submit(host_of(due[1]), partial(self._deliver_one, due, feed_of))

    def ping_here(self, budget: float = DEADLINE) -> None:
        """Send the due pings to the external hub in this thread: a build no running builder took, before it exits.
        Within ``budget`` seconds in all (a first build changes every feed; a hub may hang): the pings left, and one
        that fails, wait for the next builder that runs. Nothing to a subscriber of the built-in hub."""
        if not self.external:
            return
        ends = time.monotonic() + budget
        for due in self.store.take_due():
            if time.monotonic() < ends:
                self._deliver_one(due, _no_feed)
            else:
                self.store.retry(due[0], due[3], 0.0)  # due again, for the next builder

    def _deliver_one(self, due: Due, feed_of: Callable[[str], Feed | None]) -> None:
        delivery_id, callback, topic, _attempts = due
        feed = feed_of(topic)
        secret: str | None = ""
        if not self.external:
            secret = self.store.secret_of(callback, topic)
            if secret is None or feed is None:  # unsubscribed, expired, or the feed is gone
                self.store.finish(delivery_id)
                return
        reply = self._send(callback, "POST", *delivery(self.url, self.external, topic, feed, secret or ""))
        _settle(self.store, reply, due, self.retry_base, self.external)

    def _send(self, url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        """One request to a callback (or the external hub, which the operator chose: private is fine there)."""
        allow_private = self.external or self.settings.websub_allow_private
        return send_to(url, method, body, headers, allow_private, self._resolve, self._deadline)

    def counts(self) -> dict[str, int]:
        return self.store.counts()


def _settle(store: HubStore, reply: Reply, due: Due, retry_base: float, external: bool) -> None:
    """A delivery's outcome, kept: done, the subscription gone (410), abandoned, or tried again later."""
    delivery_id, callback, topic, attempts = due
    status = reply.status
    if 200 <= status < 300:
        logger.info("websub delivered callback=%s topic=%s attempt=%d", callback, topic, attempts + 1)
        store.finish(delivery_id)
    elif status == 410 and not external:
        logger.info("websub subscription gone callback=%s topic=%s", callback, topic)
        store.unsubscribe(callback, topic)
    elif attempts + 1 >= MAX_ATTEMPTS:
        logger.warning("websub delivery abandoned callback=%s topic=%s attempts=%d", callback, topic, attempts + 1)
        store.finish(delivery_id)
    else:
        delay = retry_base * 2**attempts
        logger.info(
            "websub delivery failed callback=%s status=%s reason=%s retry_in=%.0fs",
            callback,
            status,
            reply.error,
            delay,
        )
        store.retry(delivery_id, attempts + 1, delay)


def checked_callback(callback: str, max_bytes: int, allow_private: bool) -> Target:
    """The callback's target if its syntax is acceptable (an address or localhost must be public), else HubRequestError.

    No look-up here: the host is resolved and checked when it is contacted.
    """
    try:
        target = parse_callback(callback, max_bytes)
    except RefusedError as exc:
        raise HubRequestError(str(exc)) from None
    literal = target.literal
    if not allow_private and (is_local_name(target.host) or (literal is not None and not is_public(literal))):
        raise HubRequestError("hub.callback must resolve to public addresses only")
    return target


def read_form(form: dict[str, str], topics: Iterable[str]) -> tuple[str, str, str, str, int]:
    """A request's (mode, topic, callback, secret, lease), or HubRequestError saying what is wrong with it."""
    mode = form.get("hub.mode", "")
    if mode not in ("subscribe", "unsubscribe"):
        raise HubRequestError("hub.mode must be subscribe or unsubscribe")
    topic = form.get("hub.topic", "")
    if topic not in set(topics):
        raise HubRequestError("hub.topic is not a feed of this site")
    secret = form.get("hub.secret", "")
    if len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise HubRequestError(f"hub.secret is longer than {MAX_SECRET_BYTES} bytes")
    try:
        lease = int(form.get("hub.lease_seconds") or DEFAULT_LEASE)
    except ValueError:
        raise HubRequestError("hub.lease_seconds must be a whole number") from None
    return mode, topic, form.get("hub.callback", ""), secret, max(1, min(lease, MAX_LEASE))


def admit(
    store: HubStore, limits: Limits, queues: tuple[Counter[str], Counter[str]], request: tuple[str, str, str, str]
) -> bool:
    """Whether a request would add a subscription; HubBusyError if it would pass a cap (under the store's lock).

    ``queues``: the verifications pending, and those of them that would add one,
    per callback host; ``request``: (mode, callback, topic, callback host).
    """
    (pending, adding), (mode, callback, topic, host) = queues, request
    if pending.total() >= limits.pending or pending[host] >= limits.pending_per_host:
        raise HubBusyError(f"too many verifications are pending for {host} or in all: try again later")
    if mode != "subscribe" or store.is_subscribed(callback, topic):  # an unsubscribe or a renewal adds nothing
        return False
    if store.live_count(host) + adding[host] >= limits.per_host:
        raise HubBusyError(f"callback host {host} has reached its {limits.per_host} subscriptions")
    if store.live_count() + adding.total() >= limits.total:
        raise HubBusyError(f"the hub holds its maximum of {limits.total} subscriptions")
    return True


def _no_feed(_topic: str) -> Feed | None:
    return None  # a ping to an external hub names its topic only


def delivery(hub_url: str, external: bool, topic: str, feed: Feed | None, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery of a topic's feed (or, to an external hub, of its publish ping)."""
    if external:
        data = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        return data, {"Content-Type": "application/x-www-form-urlencoded"}
    assert feed is not None  # noqa: S101 - checked by the caller
    body, media_type = feed
    headers = {"Content-Type": media_type, "Link": link_header(hub_url, topic)}
    if secret:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"sha256={digest}"
    return body, headers


def send_to(
    url: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str] | None,
    allow_private: bool,
    resolve: Resolve,
    deadline: float,
) -> Reply:
    """One request to a callback URL, resolved once and checked, within a total deadline."""
    try:
        target = parse_callback(url, max_bytes=len(url.encode("utf-8")))
    except RefusedError as exc:
        return Reply(0, error=str(exc))
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    return send(
        target, method, body=body, headers=all_headers, allow_private=allow_private, resolve=resolve, deadline=deadline
    )


def link_header(hub_url: str, topic: str) -> str:
    return f'<{hub_url}>; rel="hub", <{topic}>; rel="self"'
