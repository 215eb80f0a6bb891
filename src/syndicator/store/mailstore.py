"""Following by email, in SQLite under state_dir: subscriptions, pending confirmations, the limits' counts.

The addresses live here and nowhere else: ``email.sqlite3`` and the signing
secret beside it (``email-secret``) are made readable by their owner only.
A pending confirmation lasts CONFIRM_DAYS; the confirmation mails a mailbox
was sent are counted by its key (a keyed hash of core.mailaddress.mailbox),
not by the address, ASKS_A_DAY at most, and the site sends ASKS_AN_HOUR at
most in all. Shared by the command line (``subscribers``, ``stats``) and the
running server; thread-safe (one connection behind one lock, which the outbox
shares).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from syndicator.core.mailplan import Follower
from syndicator.store.database import database_checked
from syndicator.store.database import open_database
from syndicator.store.lock import private_folder
from syndicator.store.state import StateError

logger = logging.getLogger(__name__)

MAIL_FILE = "email.sqlite3"
SECRET_FILE = "email-secret"  # noqa: S105 - the file's name, not a secret
CONFIRM_DAYS = 2  # a pending confirmation's life (its link is valid 48 hours)
ASKS_A_DAY = 3  # confirmation mails one mailbox is sent in a day, at most
ASKS_AN_HOUR = 300  # confirmation mails the site sends in an hour, to anyone, at most
BOUNCES_TO_LEAVE = 3  # permanent failures that unsubscribe an address
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, address TEXT NOT NULL, address_key TEXT NOT NULL,
    feed TEXT NOT NULL, pace TEXT NOT NULL, asked REAL NOT NULL, confirmed REAL);
CREATE TABLE IF NOT EXISTS subscribers (address_key TEXT NOT NULL, feed TEXT NOT NULL, address TEXT NOT NULL,
    pace TEXT NOT NULL, confirmed REAL NOT NULL, last_digest REAL NOT NULL, PRIMARY KEY (address_key, feed));
-- a confirmation mail queued; its address_key is the key of the mailbox it reaches (core.mailaddress.mailbox_key)
CREATE TABLE IF NOT EXISTS asks (address_key TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bounces (address_key TEXT PRIMARY KEY, failures INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen (post_id TEXT PRIMARY KEY, first_seen REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailed (address_key TEXT NOT NULL, post_id TEXT NOT NULL,
    PRIMARY KEY (address_key, post_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, address TEXT NOT NULL, address_key TEXT NOT NULL,
    feed TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, unique_id TEXT NOT NULL, due REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS asks_key ON asks (address_key);
CREATE INDEX IF NOT EXISTS asks_at ON asks (at);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due);
CREATE INDEX IF NOT EXISTS subscribers_pace ON subscribers (pace, last_digest);
"""


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (or make it so)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def mail_secret(state_dir: Path, keep: bytes | None = None) -> bytes:
    """The key that signs the mail links and hashes addresses: made once, at random (or ``keep``, the key a running
    serve holds, written back when its file went), kept in state_dir (0600)."""
    private_folder(state_dir)
    path = state_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write((keep or secrets.token_bytes(32)).hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    """The key in its file; StateError when it is not 32 bytes in hex (every link sent would stop working)."""
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise StateError(f"state file {path} cannot be read ({exc}): restore it from a backup") from None
    if len(secret) != 32:
        raise StateError(f"state file {path} is damaged (not a 32-byte key): restore it from a backup")
    return secret


def _keep_secret(state_dir: Path, secret: bytes) -> None:
    if mail_secret(state_dir, keep=secret) != secret:
        logger.warning("the mail links' key in state_dir is another than serve's: restart serve to use it")


class MailDb:
    """The connection to email.sqlite3 (made owner-only), behind one lock, and the one way into the outbox."""

    @staticmethod
    def exists(state_dir: Path) -> bool:
        """Whether anyone ever subscribed here (the commands open no database where there is none)."""
        return (state_dir / MAIL_FILE).is_file()

    def __init__(self, state_dir: Path, secret: bytes | None = None) -> None:
        """``secret``: the mail links' key, written back with the database when its file goes (see store.database)."""
        private_folder(state_dir)
        self.path = state_dir / MAIL_FILE
        _private_file(self.path)
        self.db = open_database(self.path, also=None if secret is None else lambda: _keep_secret(state_dir, secret))
        self.lock = threading.Lock()
        with database_checked(self.path), self.db:
            self.db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def queue(self, rows: list[tuple[str, str, str, str, str]], due: datetime) -> None:
        """Queue mails (address, address key, feed, kind, ref), each with a unique id (call with the lock held)."""
        self.db.executemany(
            "INSERT INTO outbox (address, address_key, feed, kind, ref, unique_id, due) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*row, secrets.token_hex(12), due.timestamp()) for row in rows],
        )


@dataclass(frozen=True, slots=True)
class Pending:
    """A subscription asked for and not yet confirmed (or confirmed: then ``confirmed`` is set)."""

    key: str
    address: str
    address_key: str
    feed: str
    pace: str
    asked: datetime
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Asking:
    """What asking for a subscription did: the pending subscription's key, or None when no mail was queued (its
    mailbox's ASKS_A_DAY, or with ``retry``, the seconds until the site may send one again, ASKS_AN_HOUR)."""

    key: str | None
    retry: float = 0.0


class Subscriptions:
    """Pending confirmations, confirmed subscriptions, the confirmation mails per mailbox, permanent failures."""

    def __init__(self, mail: MailDb) -> None:
        self.mail = mail

    def forget(self, now: datetime) -> None:
        """Forget the pending subscriptions whose link has expired (and the addresses they held)."""
        expired = (now - timedelta(days=CONFIRM_DAYS)).timestamp()
        with self.mail.lock, self.mail.db as db:
            db.execute(
                "DELETE FROM outbox WHERE kind = 'confirm' AND ref IN (SELECT key FROM pending WHERE asked <= ?)",
                (expired,),
            )
            db.execute("DELETE FROM pending WHERE asked <= ?", (expired,))
            db.execute("DELETE FROM asks WHERE at <= ?", ((now - timedelta(days=1)).timestamp(),))

    def ask(self, address: str, address_key: str, mailbox_key: str, feed: str, pace: str, now: datetime) -> Asking:
        """Record a subscription to confirm and queue its confirmation mail, unless its mailbox was sent ASKS_A_DAY
        today or the site ASKS_AN_HOUR this hour."""
        self.forget(now)
        db = self.mail.db
        with self.mail.lock, db:
            hour = (now - timedelta(hours=1)).timestamp()
            (sent, oldest) = db.execute("SELECT COUNT(*), MIN(at) FROM asks WHERE at > ?", (hour,)).fetchone()
            if sent >= ASKS_AN_HOUR:
                return Asking(None, retry=max(1.0, oldest - hour))
            (asked,) = db.execute("SELECT COUNT(*) FROM asks WHERE address_key = ?", (mailbox_key,)).fetchone()
            if asked >= ASKS_A_DAY:
                return Asking(None)
            key = secrets.token_urlsafe(18)
            db.execute("INSERT INTO asks (address_key, at) VALUES (?, ?)", (mailbox_key, now.timestamp()))
            db.execute(
                "INSERT INTO pending (key, address, address_key, feed, pace, asked) VALUES (?, ?, ?, ?, ?, ?)",
                (key, address, address_key, feed, pace, now.timestamp()),
            )
            self.mail.queue([(address, address_key, feed, "confirm", key)], now)
        return Asking(key)

    def pending(self, key: str, now: datetime) -> Pending | None:
        """A pending subscription whose link is still valid at ``now``."""
        with self.mail.lock:
            row = self.mail.db.execute(
                "SELECT key, address, address_key, feed, pace, asked, confirmed FROM pending"
                " WHERE key = ? AND asked > ?",
                (key, (now - timedelta(days=CONFIRM_DAYS)).timestamp()),
            ).fetchone()
        if row is None:
            return None
        return Pending(row[0], row[1], row[2], row[3], row[4], moment(row[5]), row[6] is not None)

    def confirm(self, key: str, now: datetime) -> Pending | None:
        """Make a pending subscription a subscription (a second time changes nothing); None when it is gone."""
        found = self.pending(key, now)
        if found is None:
            return None
        if found.confirmed:
            return found
        db, stamp = self.mail.db, now.timestamp()
        with self.mail.lock, db:
            db.execute(
                "INSERT INTO subscribers (address_key, feed, address, pace, confirmed, last_digest)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (address_key, feed) DO UPDATE SET pace = excluded.pace,"
                " address = excluded.address",
                (found.address_key, found.feed, found.address, found.pace, stamp, stamp),
            )
            db.execute("UPDATE pending SET confirmed = ? WHERE key = ?", (stamp, key))
        return found

    def unsubscribe(self, address_key: str, feed: str | None = None) -> int:
        """End an address's subscription to a feed (None: to every feed), its pending ones and its queued mails."""
        where, args = (
            ("address_key = ?", (address_key,))
            if feed is None
            else ("address_key = ? AND feed = ?", (address_key, feed))
        )
        with self.mail.lock, self.mail.db as db:
            removed = db.execute(f"DELETE FROM subscribers WHERE {where}", args).rowcount  # noqa: S608 - fixed text
            db.execute(f"DELETE FROM pending WHERE {where}", args)  # noqa: S608
            db.execute(f"DELETE FROM outbox WHERE {where}", args)  # noqa: S608
        return int(removed)

    def followers(self, pace: str | None = None) -> list[Follower]:
        """Every confirmed subscription (of one pace), oldest first."""
        query = "SELECT address, address_key, feed, pace FROM subscribers"
        args: tuple[str, ...] = ()
        if pace is not None:
            query, args = query + " WHERE pace = ?", (pace,)
        with self.mail.lock:
            rows = self.mail.db.execute(query + " ORDER BY confirmed, address_key, feed", args).fetchall()
        return [Follower(*row) for row in rows]

    def due_digests(self, pace: str, slot: datetime) -> list[tuple[Follower, datetime]]:
        """The subscriptions of a digest pace whose last digest is older than ``slot``, with its time."""
        query = (
            "SELECT address, address_key, feed, pace, last_digest FROM subscribers WHERE pace = ? AND last_digest < ?"
        )
        with self.mail.lock:
            rows = self.mail.db.execute(query, (pace, slot.timestamp())).fetchall()
        return [(Follower(*row[:4]), moment(row[4])) for row in rows]

    def failed(self, address_key: str) -> bool:
        """Count a permanent failure; at BOUNCES_TO_LEAVE the address is unsubscribed (True)."""
        with self.mail.lock, self.mail.db as db:
            db.execute(
                "INSERT INTO bounces (address_key, failures) VALUES (?, 1)"
                " ON CONFLICT (address_key) DO UPDATE SET failures = failures + 1",
                (address_key,),
            )
            (failures,) = db.execute("SELECT failures FROM bounces WHERE address_key = ?", (address_key,)).fetchone()
            if failures >= BOUNCES_TO_LEAVE:
                db.execute("DELETE FROM bounces WHERE address_key = ?", (address_key,))
        if failures < BOUNCES_TO_LEAVE:
            return False
        self.unsubscribe(address_key)
        return True

    def delivered(self, address_key: str) -> None:
        """A mail went through: the address's permanent failures start over."""
        with self.mail.lock, self.mail.db as db:
            db.execute("DELETE FROM bounces WHERE address_key = ?", (address_key,))

    def counts(self) -> dict[str, dict[str, int]]:
        """Confirmed subscriptions per feed and pace."""
        with self.mail.lock:
            rows = self.mail.db.execute("SELECT feed, pace, COUNT(*) FROM subscribers GROUP BY feed, pace").fetchall()
        counts: dict[str, dict[str, int]] = {}
        for feed, pace, count in rows:
            counts.setdefault(str(feed), {})[str(pace)] = int(count)
        return counts

    def export(self) -> list[tuple[str, str, str, datetime]]:
        """Every confirmed subscription: address, feed, pace, when it was confirmed (for the operator)."""
        with self.mail.lock:
            rows = self.mail.db.execute(
                "SELECT address, feed, pace, confirmed FROM subscribers ORDER BY address, feed"
            ).fetchall()
        return [(str(a), str(f), str(p), moment(c)) for a, f, p, c in rows]
