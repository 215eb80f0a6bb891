"""The hub's SQL store: subscriptions and pending deliveries, in SQLite under state_dir (they survive restarts).

Thread-safe: one connection behind one lock.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from syndicator.outbound import RefusedError
from syndicator.service.callbacks import parse_callback
from syndicator.store.database import Connection
from syndicator.store.database import database_checked
from syndicator.store.database import open_database
from syndicator.store.lock import private_folder

HUB_FILE = "hub.sqlite3"
Due = tuple[int, str, str, int]  # (delivery id, callback, topic, attempts so far)


def _nothing() -> None:
    pass


def host_of(callback: str) -> str:
    """The callback host a stored URL counts against (its lane and its cap)."""
    try:
        return parse_callback(callback, max_bytes=len(callback.encode("utf-8"))).host
    except RefusedError:
        return urllib.parse.urlsplit(callback).netloc.lower()


class HubStore:
    """Subscriptions (callback, topic, secret, lease, host) and deliveries (due, attempts, running)."""

    def __init__(self, state_dir: Path) -> None:
        private_folder(state_dir)
        self._db = _open_db(state_dir / HUB_FILE)
        self.lock = threading.Lock()  # also held by the hub while it checks its caps

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def is_subscribed(self, callback: str, topic: str) -> bool:
        query = "SELECT 1 FROM subscriptions WHERE callback = ? AND topic = ?"
        return self._db.execute(query, (callback, topic)).fetchone() is not None

    def live_count(self, host: str | None = None) -> int:
        """Subscriptions whose lease runs, of one callback host or of all (call with ``lock`` held)."""
        now = time.time()
        if host is None:
            (count,) = self._db.execute("SELECT COUNT(*) FROM subscriptions WHERE expires_at > ?", (now,)).fetchone()
        else:
            query = "SELECT COUNT(*) FROM subscriptions WHERE host = ? AND expires_at > ?"
            (count,) = self._db.execute(query, (host, now)).fetchone()
        return int(count)

    def subscribe(
        self, callback: str, topic: str, secret: str, lease: int, then: Callable[[], None] = _nothing
    ) -> None:
        """Add or renew a subscription; ``then`` runs under the lock, in the same moment."""
        with self.lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO subscriptions (callback, topic, secret, expires_at, host)"
                " VALUES (?, ?, ?, ?, ?)",
                (callback, topic, secret, time.time() + lease, host_of(callback)),
            )
            then()

    def unsubscribe(self, callback: str, topic: str, then: Callable[[], None] = _nothing) -> None:
        """End a subscription and drop its pending deliveries; ``then`` runs under the lock, in the same moment."""
        with self.lock, self._db:
            self._db.execute("DELETE FROM subscriptions WHERE callback = ? AND topic = ?", (callback, topic))
            self._db.execute("DELETE FROM deliveries WHERE callback = ? AND topic = ?", (callback, topic))
            then()

    def queue(self, topics: list[str], external_hub: str | None) -> int:
        """Queue a delivery of each topic to its subscribers (or to the external hub); how many were queued."""
        now = time.time()
        queued = 0
        with self.lock, self._db:
            for topic in topics:
                if external_hub is not None:
                    rows = [(external_hub,)]
                else:
                    query = "SELECT callback FROM subscriptions WHERE topic = ? AND expires_at > ?"
                    rows = self._db.execute(query, (topic, now)).fetchall()
                for (callback,) in rows:
                    self._db.execute(
                        "DELETE FROM deliveries WHERE callback = ? AND topic = ? AND running = 0", (callback, topic)
                    )
                    self._db.execute(
                        "INSERT INTO deliveries (callback, topic, due_at) VALUES (?, ?, ?)", (callback, topic, now)
                    )
                    queued += 1
        return queued

    def take_due(self) -> list[Due]:
        """The deliveries that are due, marked running; expired subscriptions are dropped first."""
        now = time.time()
        with self.lock, self._db:
            self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (now,))
            query = "SELECT id, callback, topic, attempts FROM deliveries WHERE due_at <= ? AND running = 0"
            due = [(int(i), str(c), str(t), int(a)) for i, c, t, a in self._db.execute(query, (now,)).fetchall()]
            self._db.executemany("UPDATE deliveries SET running = 1 WHERE id = ?", [(row[0],) for row in due])
        return due

    def secret_of(self, callback: str, topic: str) -> str | None:
        """A subscription's secret ('' for none), or None when it is no longer subscribed."""
        with self.lock:
            query = "SELECT secret FROM subscriptions WHERE callback = ? AND topic = ?"
            row = self._db.execute(query, (callback, topic)).fetchone()
        return None if row is None else str(row[0])

    def finish(self, delivery_id: int) -> None:
        with self.lock, self._db:
            self._db.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def retry(self, delivery_id: int, attempts: int, delay: float) -> None:
        with self.lock, self._db:
            self._db.execute(
                "UPDATE deliveries SET attempts = ?, due_at = ?, running = 0 WHERE id = ?",
                (attempts, time.time() + delay, delivery_id),
            )

    def by_topic(self) -> dict[str, int]:
        """Each topic's subscriptions whose lease runs (the audience counts them per feed and day)."""
        query = "SELECT topic, COUNT(*) FROM subscriptions WHERE expires_at > ? GROUP BY topic"
        with self.lock:
            rows = self._db.execute(query, (time.time(),)).fetchall()
        return {str(topic): int(n) for topic, n in rows}

    def counts(self) -> dict[str, int]:
        with self.lock:
            subscriptions = self.live_count()
            (pending,) = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()
        return {"subscriptions": subscriptions, "pending_deliveries": int(pending)}


def _open_db(path: Path) -> Connection:
    """The hub's database, its tables created or brought up to date; deliveries left running start again."""
    db = open_database(path, timeout=5.0)  # sqlite3's default wait for a lock, as the hub always had
    with database_checked(path), db:
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
                db.execute("UPDATE subscriptions SET host = ? WHERE callback = ?", (host_of(callback), callback))
        db.execute("CREATE INDEX IF NOT EXISTS subscriptions_host ON subscriptions (host)")
    return db
