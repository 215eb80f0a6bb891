"""The fediverse's state, in SQLite under state_dir: followers, what was federated, remote keys, deliveries.

One file (``fediverse.sqlite3``, mode 0600: it names the followers), one
connection behind one lock, shared by ``FollowerStore`` (who follows which
account, what was sent of each post, the keys of remote actors) and
``DeliveryQueue`` (store/fediqueue.py). What a reload federates is recorded
with the deliveries it queues in one transaction, so a restart neither loses
nor repeats one. Hosts are given by the caller (the store parses no URL).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicator.core.activities import Federated
from syndicator.store.database import database_checked
from syndicator.store.database import open_database
from syndicator.store.lock import private_folder

FEDIVERSE_FILE = "fediverse.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS followers (
    handle TEXT NOT NULL, actor TEXT NOT NULL, inbox TEXT NOT NULL, host TEXT NOT NULL,
    follow_id TEXT NOT NULL DEFAULT '', since REAL NOT NULL, PRIMARY KEY (handle, actor));
CREATE INDEX IF NOT EXISTS followers_host ON followers (host);
CREATE TABLE IF NOT EXISTS federated (
    post_id TEXT PRIMARY KEY, handles TEXT NOT NULL, digest TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 1, updated REAL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY, inbox TEXT NOT NULL, host TEXT NOT NULL, handle TEXT NOT NULL, body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, queued_at REAL NOT NULL, due_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_inbox ON deliveries (inbox, id);
CREATE INDEX IF NOT EXISTS deliveries_host ON deliveries (host);
CREATE TABLE IF NOT EXISTS remote_keys (
    key_id TEXT PRIMARY KEY, owner TEXT NOT NULL, pem TEXT NOT NULL, fetched_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Follower:
    """A remote actor following one of our accounts, and the inbox its deliveries go to (shared when it has one)."""

    handle: str
    actor: str
    inbox: str
    host: str
    follow_id: str = ""


@dataclass(frozen=True, slots=True)
class RemoteKey:
    key_id: str
    owner: str
    pem: str
    fetched_at: float


class Database:
    """The connection and its lock (``DeliveryQueue`` and ``FollowerStore`` share one)."""

    def __init__(self, state_dir: Path) -> None:
        private_folder(state_dir)
        path = state_dir / FEDIVERSE_FILE
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        self.db = open_database(path)
        with database_checked(path), self.db:
            self.db.executescript(_SCHEMA)
            columns = {str(row[1]) for row in self.db.execute("PRAGMA table_info(federated)")}
            if "updated" not in columns:  # a state_dir from before articles' changes were dated
                self.db.execute("ALTER TABLE federated ADD COLUMN updated REAL")
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.db.close()


class FollowerStore:
    """Followers, the record of what was federated, and the keys of remote actors."""

    def __init__(self, database: Database) -> None:
        self._db = database.db
        self.lock = database.lock

    def follow(self, follower: Follower, now: float) -> bool:
        """Add (or renew) a follower; whether it is new."""
        with self.lock, self._db:
            known = self.is_following(follower.handle, follower.actor)
            self._db.execute(
                "INSERT OR REPLACE INTO followers (handle, actor, inbox, host, follow_id, since) VALUES (?, ?, ?, ?, ?,"
                " COALESCE((SELECT since FROM followers WHERE handle = ? AND actor = ?), ?))",
                (*_row(follower), follower.handle, follower.actor, now),
            )
        return not known

    def unfollow(self, actor: str, handle: str | None = None, follow_id: str = "") -> int:
        """Remove an actor's follow of one account (or, with a follow id, the follow it names; or all of them)."""
        with self.lock, self._db:
            args: tuple[str, ...] = (actor,)
            query = "DELETE FROM followers WHERE actor = ?"
            if follow_id:
                query, args = f"{query} AND follow_id = ?", (actor, follow_id)
            elif handle is not None:
                query, args = f"{query} AND handle = ?", (actor, handle)
            return self._db.execute(query, args).rowcount

    def drop_inbox(self, inbox: str) -> int:
        """Remove every follower whose deliveries go to an inbox that is gone."""
        with self.lock, self._db:
            return self._db.execute("DELETE FROM followers WHERE inbox = ?", (inbox,)).rowcount

    def is_following(self, handle: str, actor: str) -> bool:
        query = "SELECT 1 FROM followers WHERE handle = ? AND actor = ?"
        with self.lock:
            return self._db.execute(query, (handle, actor)).fetchone() is not None

    def count(self, host: str | None = None) -> int:
        """Follows from one host (or in all)."""
        with self.lock:
            if host is None:
                (n,) = self._db.execute("SELECT COUNT(*) FROM followers").fetchone()
            else:
                (n,) = self._db.execute("SELECT COUNT(*) FROM followers WHERE host = ?", (host,)).fetchone()
        return int(n)

    def inboxes(self, handle: str) -> list[tuple[str, str]]:
        """The distinct (inbox, host) an account's deliveries go to: one per shared inbox."""
        query = "SELECT DISTINCT inbox, host FROM followers WHERE handle = ? ORDER BY inbox"
        with self.lock:
            return [(str(i), str(h)) for i, h in self._db.execute(query, (handle,)).fetchall()]

    def by_handle(self) -> dict[str, int]:
        """Each account's followers."""
        query = "SELECT handle, COUNT(*) FROM followers GROUP BY handle ORDER BY handle"
        with self.lock:
            return {str(h): int(n) for h, n in self._db.execute(query).fetchall()}

    def federated(self) -> dict[str, Federated] | None:
        """What was federated of each post, or None before the first reload was recorded."""
        with self.lock:
            if self._db.execute("SELECT 1 FROM meta WHERE name = 'baseline'").fetchone() is None:
                return None
            query = "SELECT post_id, handles, digest, deleted, generation, updated FROM federated"
            rows = self._db.execute(query).fetchall()
        return {str(row[0]): _federated(row) for row in rows}

    def record(self, changed: Mapping[str, Federated]) -> None:
        """Record what was federated (call inside a transaction of the queue, with the lock held)."""
        self._db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('baseline', '1')")
        self._db.executemany(
            "INSERT OR REPLACE INTO federated (post_id, handles, digest, deleted, generation, updated)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (p, json.dumps(list(f.handles)), f.digest, int(f.deleted), f.generation, _stamp(f))
                for p, f in changed.items()
            ],
        )

    def remote_key(self, key_id: str) -> RemoteKey | None:
        query = "SELECT key_id, owner, pem, fetched_at FROM remote_keys WHERE key_id = ?"
        with self.lock:
            row = self._db.execute(query, (key_id,)).fetchone()
        return None if row is None else RemoteKey(str(row[0]), str(row[1]), str(row[2]), float(row[3]))

    def keep_key(self, key: RemoteKey) -> None:
        with self.lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO remote_keys (key_id, owner, pem, fetched_at) VALUES (?, ?, ?, ?)",
                (key.key_id, key.owner, key.pem, key.fetched_at),
            )

    def forget_keys(self, owner: str) -> None:
        with self.lock, self._db:
            self._db.execute("DELETE FROM remote_keys WHERE owner = ?", (owner,))


def _row(follower: Follower) -> tuple[str, ...]:
    return follower.handle, follower.actor, follower.inbox, follower.host, follower.follow_id


def _federated(row: tuple[Any, ...]) -> Federated:
    _, handles, digest, deleted, generation, updated = row
    when = datetime.fromtimestamp(float(updated), UTC) if updated is not None else None
    return Federated(tuple(json.loads(handles)), str(digest), bool(deleted), int(generation), when)


def _stamp(sent: Federated) -> float | None:
    return sent.updated.timestamp() if sent.updated is not None else None
