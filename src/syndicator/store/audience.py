"""Reader counts in SQLite under state_dir: one row per feed, day and kind, whatever the traffic.

``counts`` holds the daily figures (an aggregator's reported subscribers, the
distinct other clients, WebSub subscriptions, partner fetches). The distinct
clients of the last KEEP_DAYS days also keep their sketch (at most 4 KiB per
feed and day) and the day's random salt, so that later counts of the same day
(a restart, an imported log) merge without counting a client twice; older
sketches and salts are deleted. No address or User-Agent is ever stored.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from datetime import date
from datetime import timedelta
from pathlib import Path

from syndicator.store.database import database_checked
from syndicator.store.database import open_database
from syndicator.store.lock import private_folder

AUDIENCE_FILE = "audience.sqlite3"
KEEP_DAYS = 2  # today and yesterday keep their sketches and salt (a log rotated after midnight still merges)
Count = tuple[str, str, str, int]  # (feed, day, kind, value)


class AudienceStore:
    """The counts, sketches and salts tables; thread-safe (one connection behind one lock)."""

    def __init__(self, state_dir: Path) -> None:
        private_folder(state_dir)
        self.path = state_dir / AUDIENCE_FILE
        self._db = open_database(self.path)
        self._lock = threading.Lock()
        with database_checked(self.path), self._db:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS counts (feed TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL,
                    value INTEGER NOT NULL, PRIMARY KEY (feed, day, kind)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS sketches (feed TEXT NOT NULL, day TEXT NOT NULL,
                    registers BLOB NOT NULL, PRIMARY KEY (feed, day)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS salts (day TEXT PRIMARY KEY, salt BLOB NOT NULL) WITHOUT ROWID;
                """
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def salt(self, day: str) -> bytes:
        """The day's salt, made (at random) the first time it is asked for."""
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO salts (day, salt) VALUES (?, ?)", (day, secrets.token_bytes(16)))
            (salt,) = self._db.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
        return bytes(salt)

    def sketch(self, feed: str, day: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT registers FROM sketches WHERE feed = ? AND day = ?", (feed, day)).fetchone()
        return None if row is None else bytes(row[0])

    def write(
        self,
        latest: Iterable[Count] = (),
        added: Iterable[Count] = (),
        sketches: Iterable[tuple[str, str, bytes]] = (),
        at_least: Iterable[Count] = (),
    ) -> None:
        """In one transaction: figures that replace the day's, figures added to it, sketches, and floors."""
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO counts VALUES (?, ?, ?, ?)", latest)
            self._db.executemany(
                "INSERT INTO counts VALUES (?, ?, ?, ?)"
                " ON CONFLICT (feed, day, kind) DO UPDATE SET value = value + excluded.value",
                added,
            )
            self._db.executemany("INSERT OR REPLACE INTO sketches VALUES (?, ?, ?)", sketches)
            self._db.executemany(
                "INSERT INTO counts VALUES (?, ?, ?, ?)"
                " ON CONFLICT (feed, day, kind) DO UPDATE SET value = max(value, excluded.value)",
                at_least,
            )

    def set_websub(self, day: str, subscriptions: dict[str, int]) -> None:
        """The WebSub subscriptions of each feed now, as the day's figure (0 for a feed that has none left)."""
        with self._lock, self._db:
            self._db.execute("UPDATE counts SET value = 0 WHERE day = ? AND kind = 'websub'", (day,))
            self._db.executemany(
                "INSERT OR REPLACE INTO counts VALUES (?, ?, 'websub', ?)",
                [(feed, day, n) for feed, n in subscriptions.items()],
            )

    def prune(self, today: date) -> None:
        """Delete the sketches and salts of days before the last KEEP_DAYS: nothing can be merged into them again."""
        oldest = (today - timedelta(days=KEEP_DAYS - 1)).isoformat()
        with self._lock, self._db:
            self._db.execute("DELETE FROM sketches WHERE day < ?", (oldest,))
            self._db.execute("DELETE FROM salts WHERE day < ?", (oldest,))

    def counts(self, since: str) -> list[Count]:
        """Every figure of the days from ``since`` (YYYY-MM-DD) on, by feed, day and kind."""
        with self._lock:
            rows = self._db.execute(
                "SELECT feed, day, kind, value FROM counts WHERE day >= ? ORDER BY feed, day, kind", (since,)
            ).fetchall()
        return [(str(f), str(d), str(k), int(v)) for f, d, k, v in rows]
