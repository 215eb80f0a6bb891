"""A WebSub hub for our own feeds: subscriptions, verification of intent, signed deliveries with retries.

State lives in SQLite under state_dir, so subscriptions and pending deliveries
survive restarts. Nothing slow runs on a request or a reload: a request is
checked for syntax and the hub's caps only (no DNS look-up) and queues its
verification; a reload only queues deliveries. The hub's own threads do the
look-ups and the HTTP (see callbacks.py), one request at a time per callback
host, so a slow or hanging subscriber delays nobody else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import socket
import sqlite3
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from syndicator import __version__
from syndicator.callbacks import DEADLINE
from syndicator.callbacks import MAX_URL_BYTES
from syndicator.callbacks import CallbackError
from syndicator.callbacks import Lanes
from syndicator.callbacks import Reply
from syndicator.callbacks import Resolve
from syndicator.callbacks import Target
from syndicator.callbacks import is_local_name
from syndicator.callbacks import is_public
from syndicator.callbacks import parse_callback
from syndicator.callbacks import send
from syndicator.config import Settings

logger = logging.getLogger(__name__)

HUB_FILE = "hub.sqlite3"
USER_AGENT = f"Syndicator-WebSub/{__version__}"
DEFAULT_LEASE = 10 * 24 * 3600
MAX_LEASE = 30 * 24 * 3600
MAX_SECRET_BYTES = 199
MAX_ATTEMPTS = 8  # 1 + 7 retries, backing off from retry_base: 1, 2, 4 ... 64 minutes at the default
WORKERS = 16  # callback hosts contacted at once (each host gets one request at a time)
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


@dataclass(frozen=True, slots=True)
class Subscription:
    callback: str
    topic: str
    secret: str
    expires_at: float


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
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self._db = _open_db(Path(settings.state_dir) / HUB_FILE)
        self._lock = threading.Lock()
        self._lanes = Lanes(WORKERS)
        self._pending: Counter[str] = Counter()  # verifications queued or running, per callback host
        self._adding: Counter[str] = Counter()  # those of them that would add a subscription

    def close(self) -> None:
        self._lanes.shutdown()
        with self._lock:
            self._db.close()

    # -- requests ---------------------------------------------------------------------------

    def request(self, form: dict[str, str], topics: Iterable[str]) -> None:
        """Check a subscribe/unsubscribe request and queue its verification; raise HubRequestError if refused.

        No look-up happens here: the callback's host is resolved and checked when it is contacted.
        """
        if self.external:
            raise HubRequestError("this site uses an external hub: subscribe there")
        mode = form.get("hub.mode", "")
        if mode not in ("subscribe", "unsubscribe"):
            raise HubRequestError("hub.mode must be subscribe or unsubscribe")
        topic = form.get("hub.topic", "")
        if topic not in set(topics):
            raise HubRequestError("hub.topic is not a feed of this site")
        callback = form.get("hub.callback", "")
        host = self.check_callback(callback).host
        secret = form.get("hub.secret", "")
        if len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
            raise HubRequestError(f"hub.secret is longer than {MAX_SECRET_BYTES} bytes")
        try:
            lease = int(form.get("hub.lease_seconds") or DEFAULT_LEASE)
        except ValueError:
            raise HubRequestError("hub.lease_seconds must be a whole number") from None
        lease = max(1, min(lease, MAX_LEASE))
        with self._lock:
            queued = Counter({host: 1})
            adding = queued if self._admit(mode, callback, topic, host) else Counter()
            self._pending += queued
            self._adding += adding
        self._lanes.submit(host, partial(self._verify_queued, queued, adding, mode, callback, topic, secret, lease))

    def check_callback(self, callback: str) -> Target:
        """The callback's target, if its syntax is acceptable (an address or localhost must be public)."""
        try:
            target = parse_callback(callback, self.limits.callback_bytes)
        except CallbackError as exc:
            raise HubRequestError(str(exc)) from None
        literal = target.literal
        if not self.settings.websub_allow_private and (
            is_local_name(target.host) or (literal is not None and not is_public(literal))
        ):
            raise HubRequestError("hub.callback must resolve to public addresses only")
        return target

    def _admit(self, mode: str, callback: str, topic: str, host: str) -> bool:
        """Whether the request would add a subscription; HubBusyError if it would pass a cap (under the lock)."""
        limits, pending, adding = self.limits, self._pending, self._adding
        if pending.total() >= limits.pending or pending[host] >= limits.pending_per_host:
            raise HubBusyError(f"too many verifications are pending for {host} or in all: try again later")
        known = self._db.execute(
            "SELECT 1 FROM subscriptions WHERE callback = ? AND topic = ?", (callback, topic)
        ).fetchone()
        if mode != "subscribe" or known:  # an unsubscribe or a renewal adds nothing
            return False
        now = time.time()
        (of_host,) = self._db.execute(
            "SELECT COUNT(*) FROM subscriptions WHERE host = ? AND expires_at > ?", (host, now)
        ).fetchone()
        if of_host + adding[host] >= limits.per_host:
            raise HubBusyError(f"callback host {host} has reached its {limits.per_host} subscriptions")
        (total,) = self._db.execute("SELECT COUNT(*) FROM subscriptions WHERE expires_at > ?", (now,)).fetchone()
        if total + adding.total() >= limits.total:
            raise HubBusyError(f"the hub holds its maximum of {limits.total} subscriptions")
        return True

    def _verify_queued(self, queued: Counter[str], adding: Counter[str], *args: Any) -> None:
        try:
            self.verify(*args)
        finally:
            with self._lock:
                self._pending -= queued  # drops the hosts that reach 0
                self._adding -= adding

    def verify(self, mode: str, callback: str, topic: str, secret: str, lease: int) -> bool:
        """Verification of intent: the subscriber must echo the challenge; only then does the change happen."""
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
        with self._lock, self._db:
            if mode == "subscribe":
                self._db.execute(
                    "INSERT OR REPLACE INTO subscriptions (callback, topic, secret, expires_at, host)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (callback, topic, secret, time.time() + lease, _host(callback)),
                )
            else:
                self._db.execute("DELETE FROM subscriptions WHERE callback = ? AND topic = ?", (callback, topic))
                self._db.execute("DELETE FROM deliveries WHERE callback = ? AND topic = ?", (callback, topic))
        logger.info("websub %s verified callback=%s topic=%s", mode, callback, topic)
        return True

    # -- distribution -----------------------------------------------------------------------

    def publish(self, topics: Iterable[str]) -> int:
        """Queue a delivery of each changed topic to its subscribers (or a ping of the external hub)."""
        now = time.time()
        queued = 0
        with self._lock, self._db:
            for topic in topics:
                if self.external:
                    rows = [(self.url,)]
                else:
                    rows = self._db.execute(
                        "SELECT callback FROM subscriptions WHERE topic = ? AND expires_at > ?", (topic, now)
                    ).fetchall()
                for (callback,) in rows:
                    self._db.execute(
                        "DELETE FROM deliveries WHERE callback = ? AND topic = ? AND running = 0", (callback, topic)
                    )
                    self._db.execute(
                        "INSERT INTO deliveries (callback, topic, due_at) VALUES (?, ?, ?)", (callback, topic, now)
                    )
                    queued += 1
        return queued

    def deliver_due(self, feed_of: Callable[[str], Feed | None]) -> None:
        """Start every delivery that is due, on its callback host's lane (a slow subscriber delays nobody else)."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (now,))
            due = self._db.execute(
                "SELECT id, callback, topic, attempts FROM deliveries WHERE due_at <= ? AND running = 0", (now,)
            ).fetchall()
            self._db.executemany("UPDATE deliveries SET running = 1 WHERE id = ?", [(row[0],) for row in due])
        for delivery_id, callback, topic, attempts in due:
            job = partial(self._deliver_one, delivery_id, callback, topic, attempts, feed_of)
            self._lanes.submit(_host(callback), job)

    def _deliver_one(
        self, delivery_id: int, callback: str, topic: str, attempts: int, feed_of: Callable[[str], Feed | None]
    ) -> None:
        feed = feed_of(topic)
        secret = ""
        if not self.external:
            with self._lock:
                row = self._db.execute(
                    "SELECT secret FROM subscriptions WHERE callback = ? AND topic = ?", (callback, topic)
                ).fetchone()
            if row is None or feed is None:  # unsubscribed, expired, or the feed is gone
                self._finish(delivery_id)
                return
            secret = row[0]
        reply = self._send(callback, "POST", *self._delivery(topic, feed, secret))
        status = reply.status
        if 200 <= status < 300:
            logger.info("websub delivered callback=%s topic=%s attempt=%d", callback, topic, attempts + 1)
            self._finish(delivery_id)
        elif status == 410 and not self.external:
            logger.info("websub subscription gone callback=%s topic=%s", callback, topic)
            with self._lock, self._db:
                self._db.execute("DELETE FROM subscriptions WHERE callback = ? AND topic = ?", (callback, topic))
                self._db.execute("DELETE FROM deliveries WHERE callback = ? AND topic = ?", (callback, topic))
        elif attempts + 1 >= MAX_ATTEMPTS:
            logger.warning("websub delivery abandoned callback=%s topic=%s attempts=%d", callback, topic, attempts + 1)
            self._finish(delivery_id)
        else:
            delay = self.retry_base * 2**attempts
            logger.info(
                "websub delivery failed callback=%s status=%s reason=%s retry_in=%.0fs",
                callback,
                status,
                reply.error,
                delay,
            )
            with self._lock, self._db:
                self._db.execute(
                    "UPDATE deliveries SET attempts = ?, due_at = ?, running = 0 WHERE id = ?",
                    (attempts + 1, time.time() + delay, delivery_id),
                )

    def _delivery(self, topic: str, feed: Feed | None, secret: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a delivery (or, to an external hub, of its publish ping)."""
        if self.external:
            data = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
            return data, {"Content-Type": "application/x-www-form-urlencoded"}
        assert feed is not None  # noqa: S101 - checked by the caller
        body, media_type = feed
        headers = {"Content-Type": media_type, "Link": link_header(self.url, topic)}
        if secret:
            digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        return body, headers

    def _send(self, url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        """One request to a callback (or the external hub, which the operator chose: private is fine there)."""
        try:
            target = parse_callback(url, max_bytes=len(url.encode("utf-8")))
        except CallbackError as exc:
            return Reply(0, error=str(exc))
        return send(
            target,
            method,
            body=body,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            allow_private=self.external or self.settings.websub_allow_private,
            resolve=self._resolve,
            deadline=self._deadline,
        )

    def _finish(self, delivery_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def counts(self) -> dict[str, int]:
        with self._lock:
            subscriptions = self._db.execute(
                "SELECT COUNT(*) FROM subscriptions WHERE expires_at > ?", (time.time(),)
            ).fetchone()[0]
            pending = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        return {"subscriptions": int(subscriptions), "pending_deliveries": int(pending)}


def _open_db(path: Path) -> sqlite3.Connection:
    """The hub's database, its tables created or brought up to date; deliveries left running start again."""
    db = sqlite3.connect(path, check_same_thread=False)
    with db:
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS subscriptions (
                callback TEXT NOT NULL, topic TEXT NOT NULL, secret TEXT NOT NULL DEFAULT '',
                expires_at REAL NOT NULL, PRIMARY KEY (callback, topic));
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY, callback TEXT NOT NULL, topic TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL, running INTEGER NOT NULL DEFAULT 0);
            UPDATE deliveries SET running = 0;
            """
        )
        if "host" not in {row[1] for row in db.execute("PRAGMA table_info(subscriptions)")}:  # from before the caps
            db.execute("ALTER TABLE subscriptions ADD COLUMN host TEXT NOT NULL DEFAULT ''")
            for (callback,) in db.execute("SELECT DISTINCT callback FROM subscriptions").fetchall():
                db.execute("UPDATE subscriptions SET host = ? WHERE callback = ?", (_host(callback), callback))
        db.execute("CREATE INDEX IF NOT EXISTS subscriptions_host ON subscriptions (host)")
    return db


def _host(callback: str) -> str:
    """The callback host a stored URL counts against (its lane and its cap)."""
    try:
        return parse_callback(callback, max_bytes=len(callback.encode("utf-8"))).host
    except CallbackError:
        return urllib.parse.urlsplit(callback).netloc.lower()


def link_header(hub_url: str, topic: str) -> str:
    return f'<{hub_url}>; rel="hub", <{topic}>; rel="self"'
