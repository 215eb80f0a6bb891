"""The partners of the private feeds, in SQLite under state_dir: each name with the hash of its token, never the token.

Shared by the command line (``partners add``/``revoke``) and the running
server, each with a connection of its own. The server asks ``hashes()`` on
every partner request; it reads the table again only when another connection
committed since it last looked (SQLite's ``PRAGMA data_version``, a check that
costs microseconds), so a revocation counts from the very next request.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from syndicator.store.database import database_checked
from syndicator.store.database import open_database
from syndicator.store.lock import private_folder

PARTNERS_FILE = "partners.sqlite3"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # a partner's name: the user name of HTTP Basic


class PartnerError(ValueError):
    """A partner command that cannot be done (the message says why)."""


@dataclass(frozen=True, slots=True)
class Partner:
    """One partner as ``partners list`` shows it (times are Unix seconds)."""

    name: str
    created: float
    revoked: float | None
    last_fetch: float | None
    fetches: int


class PartnerStore:
    """The partners table; thread-safe (one connection behind one lock)."""

    def __init__(self, state_dir: Path) -> None:
        private_folder(state_dir)
        self.path = state_dir / PARTNERS_FILE
        self._db = open_database(self.path)
        with database_checked(self.path), self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS partners (name TEXT PRIMARY KEY, token_hash TEXT NOT NULL,"
                " created REAL NOT NULL, revoked REAL, last_fetch REAL, fetches INTEGER NOT NULL DEFAULT 0)"
            )
        self._lock = threading.Lock()
        self._version: int | None = None
        self._hashes: dict[str, str] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, name: str, token_hash: str, now: float) -> None:
        """A new partner (or a revoked one again, with a new token); PartnerError when the name is taken."""
        if not NAME.fullmatch(name):
            raise PartnerError(f"{name!r} is not a partner name: letters, digits, '.', '_', '-', at most 64")
        with self._lock, self._db:
            row = self._db.execute("SELECT revoked FROM partners WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] is None:
                raise PartnerError(f"partner {name!r} exists: revoke it first to give it a new token")
            self._db.execute(
                "INSERT OR REPLACE INTO partners (name, token_hash, created) VALUES (?, ?, ?)", (name, token_hash, now)
            )
            self._version = None

    def revoke(self, name: str, now: float) -> None:
        """Stop a partner's token from working; PartnerError when there is no such partner."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "UPDATE partners SET revoked = ?, token_hash = '' WHERE name = ? AND revoked IS NULL", (now, name)
            )
            if cursor.rowcount == 0:
                raise PartnerError(f"no partner {name!r} with a working token")
            self._version = None

    def partners(self) -> list[Partner]:
        """Every partner, by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, created, revoked, last_fetch, fetches FROM partners ORDER BY name"
            ).fetchall()
        return [Partner(str(n), float(c), r, f, int(k)) for n, c, r, f, k in rows]

    def hashes(self) -> dict[str, str]:
        """Each partner with a working token -> its token's hash, as the table holds them now."""
        with self._lock:
            (version,) = self._db.execute("PRAGMA data_version").fetchone()
            if version != self._version:
                rows = self._db.execute("SELECT name, token_hash FROM partners WHERE revoked IS NULL").fetchall()
                self._hashes, self._version = {str(n): str(h) for n, h in rows}, version
            return self._hashes

    def record_fetches(self, fetches: dict[str, tuple[int, float]]) -> None:
        """Add partners' fetches: name -> (how many, when the last one was)."""
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE partners SET fetches = fetches + ?, last_fetch = max(coalesce(last_fetch, 0), ?)"
                " WHERE name = ?",
                [(count, last, name) for name, (count, last) in fetches.items()],
            )
