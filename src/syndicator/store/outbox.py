"""The mail queue in state_dir's email.sqlite3: the posts seen published, which went to which address, mails to send.

A post is mailed once per address, ever: the (address key, post id) pairs
are recorded in the same transaction that queues the mail, which leaves out
any pair recorded before (whoever planned it), and the queue survives a
restart. A mail waits in the queue until it is sent, fails for
good or gives up; a temporary failure puts it back with a later ``due``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailplan import Follower
from syndicator.store.mailstore import MailDb
from syndicator.store.mailstore import moment

DIGESTS = (DAILY, WEEKLY)  # the kinds of queued mail that list several posts
PRIMED = "primed"  # meta: the posts published when mail was first on are seen (never mailed)


@dataclass(frozen=True, slots=True)
class Queued:
    """A mail to send: to whom (and their key), for which feed, what (``confirm``, ``post``, ``daily``, ``weekly``).

    ``ref``: the pending key of a confirmation, the post id of a post's mail,
    the JSON list of post ids of a digest. ``unique_id`` makes its Message-ID.
    """

    id: int
    address: str
    address_key: str
    feed: str
    kind: str
    ref: str
    unique_id: str
    attempts: int

    @property
    def post_ids(self) -> list[str]:
        if self.kind in DIGESTS:
            ids: list[str] = json.loads(self.ref)
            return ids
        return [self.ref] if self.kind == "post" else []


class Outbox:
    """The seen posts, the mailed pairs and the queue."""

    def __init__(self, mail: MailDb) -> None:
        self.mail = mail
        self._seen: set[str] | None = None  # the seen ids, read once

    def primed(self) -> bool:
        """Whether mail has seen a first load (the posts published before it are never mailed)."""
        with self.mail.lock:
            return self.mail.db.execute("SELECT 1 FROM meta WHERE name = ?", (PRIMED,)).fetchone() is not None

    def seen(self) -> set[str]:
        """The ids of every post ever seen published (read once, then kept up to date here)."""
        if self._seen is None:
            with self.mail.lock:
                self._seen = {str(i) for (i,) in self.mail.db.execute("SELECT post_id FROM seen").fetchall()}
        return self._seen

    def mailed_pairs(self, post_ids: Iterable[str]) -> set[tuple[str, str]]:
        """The (address key, post id) pairs already mailed among these posts."""
        ids = list(post_ids)
        with self.mail.lock:
            found = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT address_key, post_id FROM mailed WHERE post_id IN ({marks})"  # noqa: S608 - marks only
                found += self.mail.db.execute(query, chunk).fetchall()
        return {(str(k), str(i)) for k, i in found}

    def mailed_to(self, address_key: str) -> set[str]:
        with self.mail.lock:
            rows = self.mail.db.execute("SELECT post_id FROM mailed WHERE address_key = ?", (address_key,)).fetchall()
        return {str(i) for (i,) in rows}

    def first_seen(self, since: datetime) -> dict[str, datetime]:
        """When each post first seen published since ``since`` was seen."""
        with self.mail.lock:
            rows = self.mail.db.execute(
                "SELECT post_id, first_seen FROM seen WHERE first_seen >= ?", (since.timestamp(),)
            )
            return {str(i): moment(t) for i, t in rows.fetchall()}

    def publish(self, new: list[str], mails: list[tuple[Follower, str]], now: datetime, *, prime: bool = False) -> None:
        """Mark posts seen and queue their mails (one transaction); ``prime``: the first load's, seen long ago."""
        db = self.mail.db
        first = 0.0 if prime else now.timestamp()
        with self.mail.lock, db:
            db.executemany("INSERT OR IGNORE INTO seen (post_id, first_seen) VALUES (?, ?)", [(i, first) for i in new])
            fresh = [(f, post_id) for f, post_id in mails if self._first_time(f.key, post_id)]
            self.mail.queue([(f.address, f.key, f.feed, "post", post_id) for f, post_id in fresh], now)
            db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (PRIMED, now.isoformat()))
        self.seen().update(new)

    def queue_digest(self, follower: Follower, post_ids: list[str], slot: datetime, now: datetime) -> None:
        """Queue a digest of these posts (none: no mail) and mark the subscription's digest of ``slot`` done."""
        db = self.mail.db
        with self.mail.lock, db:
            fresh = [post_id for post_id in post_ids if self._first_time(follower.key, post_id)]
            if fresh:
                row = (follower.address, follower.key, follower.feed, follower.pace, json.dumps(fresh))
                self.mail.queue([row], now)
            db.execute(
                "UPDATE subscribers SET last_digest = ? WHERE address_key = ? AND feed = ?",
                (slot.timestamp(), follower.key, follower.feed),
            )

    def _first_time(self, address_key: str, post_id: str) -> bool:
        """Record a post as mailed to an address: False when it was already (call in a transaction, lock held)."""
        query = "INSERT OR IGNORE INTO mailed (address_key, post_id) VALUES (?, ?)"
        return self.mail.db.execute(query, (address_key, post_id)).rowcount == 1

    def take_due(self, now: datetime, limit: int) -> list[Queued]:
        """The mails due at ``now``, oldest first (at most ``limit``)."""
        query = (
            "SELECT id, address, address_key, feed, kind, ref, unique_id, attempts FROM outbox"
            " WHERE due <= ? ORDER BY due, id LIMIT ?"
        )
        with self.mail.lock:
            rows = self.mail.db.execute(query, (now.timestamp(), limit)).fetchall()
        return [Queued(*row) for row in rows]

    def done(self, mail_id: int) -> None:
        """A mail sent, refused for good or given up: out of the queue."""
        with self.mail.lock, self.mail.db as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (mail_id,))

    def retry(self, mail_id: int, attempts: int, due: datetime) -> None:
        with self.mail.lock, self.mail.db as db:
            db.execute("UPDATE outbox SET attempts = ?, due = ? WHERE id = ?", (attempts, due.timestamp(), mail_id))

    def waiting(self) -> int:
        """Mails in the queue."""
        with self.mail.lock:
            (count,) = self.mail.db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(count)
