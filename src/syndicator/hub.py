"""A WebSub hub for our own feeds: subscriptions, verification of intent, signed deliveries with retries.

State lives in SQLite under state_dir, so subscriptions and pending deliveries
survive restarts. Nothing slow runs on a request or a reload: a request only
queues its verification, a reload only queues deliveries, and the hub's own
worker threads (started by the scheduler's delivery job) do the HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syndicator import __version__
from syndicator.config import Settings

logger = logging.getLogger(__name__)

HUB_FILE = "hub.sqlite3"
USER_AGENT = f"Syndicator-WebSub/{__version__}"
DEFAULT_LEASE = 10 * 24 * 3600
MAX_LEASE = 30 * 24 * 3600
MAX_SECRET_BYTES = 199
TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ATTEMPTS = 8  # 1 + 7 retries, backing off from retry_base: 1, 2, 4 ... 64 minutes at the default
Feed = tuple[bytes, str]  # (body, media type) of a topic


class HubRequestError(ValueError):
    """A subscription request the hub refuses; the message says why (sent as plain text)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    callback: str
    topic: str
    secret: str
    expires_at: float


def public_address_only(host: str) -> bool:
    """Whether every address a host name resolves to is a public one."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            return False
    return bool(infos)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a callback answers itself: a redirect is a failure, not a hop to somewhere else


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, **kwargs: Any) -> urllib.request.Request:
    """An HTTP request to an http(s) URL (callbacks and the external hub are checked to be http(s))."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise HubRequestError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, **kwargs)  # noqa: S310 - the scheme is checked just above
    request.add_header("User-Agent", USER_AGENT)
    return request


class Hub:
    """The built-in hub (or, with websub_hub set, the pinger of an external one)."""

    def __init__(self, settings: Settings, *, retry_base: float = 60.0) -> None:
        self.settings = settings
        self.retry_base = retry_base
        self.url = settings.hub_url
        self.external = bool(settings.websub_hub)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(Path(settings.state_dir) / HUB_FILE, check_same_thread=False)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="websub")
        with self._lock, self._db:
            self._db.executescript(
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

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._db.close()

    # -- requests ---------------------------------------------------------------------------

    def request(self, form: dict[str, str], topics: Iterable[str]) -> None:
        """Check a subscribe/unsubscribe request and queue its verification; raise HubRequestError if refused."""
        if self.external:
            raise HubRequestError("this site uses an external hub: subscribe there")
        mode = form.get("hub.mode", "")
        if mode not in ("subscribe", "unsubscribe"):
            raise HubRequestError("hub.mode must be subscribe or unsubscribe")
        topic = form.get("hub.topic", "")
        if topic not in set(topics):
            raise HubRequestError("hub.topic is not a feed of this site")
        callback = form.get("hub.callback", "")
        self.check_callback(callback)
        secret = form.get("hub.secret", "")
        if len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
            raise HubRequestError(f"hub.secret is longer than {MAX_SECRET_BYTES} bytes")
        try:
            lease = int(form.get("hub.lease_seconds") or DEFAULT_LEASE)
        except ValueError:
            raise HubRequestError("hub.lease_seconds must be a whole number") from None
        lease = max(1, min(lease, MAX_LEASE))
        self._pool.submit(self.verify, mode, callback, topic, secret, lease)

    def check_callback(self, callback: str) -> None:
        parts = urllib.parse.urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HubRequestError("hub.callback must be an absolute http(s) URL")
        if not self.settings.websub_allow_private and not public_address_only(parts.hostname):
            raise HubRequestError("hub.callback must resolve to public addresses only")

    def verify(self, mode: str, callback: str, topic: str, secret: str, lease: int) -> bool:
        """Verification of intent: the subscriber must echo the challenge; only then does the change happen."""
        challenge = secrets.token_urlsafe(24)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        separator = "&" if urllib.parse.urlsplit(callback).query else "?"
        url = callback + separator + urllib.parse.urlencode(query)
        try:
            self.check_callback(callback)
            status, body = self._http(_request(url, method="GET"))
        except HubRequestError as exc:
            logger.warning("websub verify refused callback=%s reason=%s", callback, exc)
            return False
        if not (200 <= status < 300 and body.strip() == challenge.encode()):
            logger.info("websub verify failed callback=%s mode=%s status=%s", callback, mode, status)
            return False
        with self._lock, self._db:
            if mode == "subscribe":
                self._db.execute(
                    "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?)",
                    (callback, topic, secret, time.time() + lease),
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
        """Start every delivery that is due, each on its own worker (a slow subscriber delays nobody)."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (now,))
            due = self._db.execute(
                "SELECT id, callback, topic, attempts FROM deliveries WHERE due_at <= ? AND running = 0", (now,)
            ).fetchall()
            self._db.executemany("UPDATE deliveries SET running = 1 WHERE id = ?", [(row[0],) for row in due])
        for delivery_id, callback, topic, attempts in due:
            self._pool.submit(self._deliver_one, delivery_id, callback, topic, attempts, feed_of)

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
        try:
            if not self.external:
                self.check_callback(callback)
            status, _ = self._http(self._delivery_request(callback, topic, feed, secret))
        except HubRequestError as exc:
            logger.warning("websub delivery refused callback=%s reason=%s", callback, exc)
            status = 0
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
            logger.info("websub delivery failed callback=%s status=%s retry_in=%.0fs", callback, status, delay)
            with self._lock, self._db:
                self._db.execute(
                    "UPDATE deliveries SET attempts = ?, due_at = ?, running = 0 WHERE id = ?",
                    (attempts + 1, time.time() + delay, delivery_id),
                )

    def _delivery_request(self, callback: str, topic: str, feed: Feed | None, secret: str) -> urllib.request.Request:
        if self.external:
            data = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
            return _request(
                callback, data=data, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        assert feed is not None  # noqa: S101 - checked by the caller
        body, media_type = feed
        headers = {"Content-Type": media_type, "Link": link_header(self.url, topic)}
        if secret:
            digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        return _request(callback, data=body, method="POST", headers=headers)

    def _finish(self, delivery_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    @staticmethod
    def _http(req: urllib.request.Request) -> tuple[int, bytes]:
        """Send a request with a timeout; read at most MAX_RESPONSE_BYTES of the answer."""
        try:
            with _opener.open(req, timeout=TIMEOUT) as response:
                return int(response.status), response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            return int(exc.code), b""
        except (OSError, ValueError) as exc:
            logger.info("websub request failed url=%s reason=%s", req.full_url, exc)
            return 0, b""

    def counts(self) -> dict[str, int]:
        with self._lock:
            subscriptions = self._db.execute(
                "SELECT COUNT(*) FROM subscriptions WHERE expires_at > ?", (time.time(),)
            ).fetchone()[0]
            pending = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        return {"subscriptions": int(subscriptions), "pending_deliveries": int(pending)}


def link_header(hub_url: str, topic: str) -> str:
    return f'<{hub_url}>; rel="hub", <{topic}>; rel="self"'
