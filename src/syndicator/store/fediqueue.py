"""The fediverse's delivery queue, in the fediverse's SQLite file: activities waiting for an inbox.

Each row is one activity for one inbox (the JSON to send, signed when it is
sent). An inbox receives its rows in the order they were queued: only its
oldest row is ever due, so a retried ``Create`` is never overtaken by the
``Update`` or ``Delete`` that follows it. The queue is bounded per host and in
all: past a cap a row is not queued (and counted as dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from syndicator.core.activities import Federated
from syndicator.core.activities import Outgoing
from syndicator.store.fediverse import Database
from syndicator.store.fediverse import FollowerStore


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """The most rows that wait: per host, and in all."""

    per_host: int = 20_000
    total: int = 200_000


@dataclass(frozen=True, slots=True)
class Due:
    """An inbox's oldest row: what to send, for which account, and how it went so far."""

    id: int
    inbox: str
    host: str
    handle: str
    body: bytes
    attempts: int
    queued_at: float


class DeliveryQueue:
    """Rows per inbox, first in first out; thread-safe (the database's lock)."""

    def __init__(self, database: Database, limits: QueueLimits = QueueLimits()) -> None:
        self._db = database.db
        self._lock = database.lock
        self.limits = limits
        self.dropped = 0

    def queue_reload(
        self, followers: FollowerStore, outgoing: Sequence[Outgoing], changed: Mapping[str, Federated], now: float
    ) -> int:
        """Record what a reload federates and queue its activities to each account's inboxes, in one transaction."""
        queued = 0
        with self._lock, self._db:
            followers.record(changed)
            targets: dict[str, list[tuple[str, str]]] = {}
            for item in outgoing:
                if item.handle not in targets:
                    targets[item.handle] = followers.inboxes(item.handle)
                for inbox, host in targets[item.handle]:
                    queued += self._add(inbox, host, item.handle, item.body, now)
        return queued

    def add(self, inbox: str, host: str, handle: str, body: bytes, now: float) -> bool:
        """Queue one activity for one inbox (an Accept); False when a cap keeps it out."""
        with self._lock, self._db:
            return self._add(inbox, host, handle, body, now)

    def _add(self, inbox: str, host: str, handle: str, body: bytes, now: float) -> bool:
        if self._count(host) >= self.limits.per_host or self._count() >= self.limits.total:
            self.dropped += 1
            return False
        self._db.execute(
            "INSERT INTO deliveries (inbox, host, handle, body, queued_at, due_at) VALUES (?, ?, ?, ?, ?, ?)",
            (inbox, host, handle, body, now, now),
        )
        return True

    def _count(self, host: str | None = None) -> int:
        if host is None:
            (n,) = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()
        else:
            (n,) = self._db.execute("SELECT COUNT(*) FROM deliveries WHERE host = ?", (host,)).fetchone()
        return int(n)

    def due_inboxes(self, now: float) -> list[tuple[str, str]]:
        """The (inbox, host) whose oldest row is due."""
        query = (
            "SELECT d.inbox, d.host FROM deliveries AS d JOIN (SELECT MIN(id) AS first FROM deliveries GROUP BY inbox)"
            " AS f ON d.id = f.first WHERE d.due_at <= ? ORDER BY d.id"
        )
        with self._lock:
            return [(str(i), str(h)) for i, h in self._db.execute(query, (now,)).fetchall()]

    def head(self, inbox: str, now: float) -> Due | None:
        """An inbox's oldest row, if it is due."""
        query = (
            "SELECT id, inbox, host, handle, body, attempts, queued_at, due_at FROM deliveries"
            " WHERE inbox = ? ORDER BY id LIMIT 1"
        )
        with self._lock:
            row = self._db.execute(query, (inbox,)).fetchone()
        if row is None or float(row[7]) > now:
            return None
        return Due(int(row[0]), str(row[1]), str(row[2]), str(row[3]), bytes(row[4]), int(row[5]), float(row[6]))

    def done(self, row_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM deliveries WHERE id = ?", (row_id,))

    def retry(self, row_id: int, attempts: int, due_at: float) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE deliveries SET attempts = ?, due_at = ? WHERE id = ?", (attempts, due_at, row_id))

    def drop_inbox(self, inbox: str) -> int:
        """Forget every row for an inbox that is gone."""
        with self._lock, self._db:
            return self._db.execute("DELETE FROM deliveries WHERE inbox = ?", (inbox,)).rowcount

    def pending(self) -> int:
        with self._lock:
            return self._count()
