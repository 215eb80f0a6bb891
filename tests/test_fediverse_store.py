"""The fediverse's SQLite file (store/fediverse.py): a file written by an older version opens, its rows kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.factories import NOW
from syndicator.core.activities import Federated
from syndicator.store.fediverse import FEDIVERSE_FILE
from syndicator.store.fediverse import Database
from syndicator.store.fediverse import FollowerStore


def test_a_state_dir_from_before_updates_were_dated_opens(tmp_path: Path) -> None:
    """fediverse.sqlite3 whose record of what was federated has no `updated` column gains it, its rows kept."""
    with sqlite3.connect(tmp_path / FEDIVERSE_FILE) as db:
        db.executescript(
            "CREATE TABLE federated (post_id TEXT PRIMARY KEY, handles TEXT NOT NULL, digest TEXT NOT NULL,"
            " deleted INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 1);"
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('baseline', '1');"
            "INSERT INTO federated VALUES ('p1', '[\"alpha\"]', 'd1', 0, 2);"
        )
    database = Database(tmp_path)
    store = FollowerStore(database)
    assert store.federated() == {"p1": Federated(("alpha",), "d1", generation=2)}
    with database.lock, database.db:
        store.record({"p1": Federated(("alpha",), "d2", generation=2, updated=NOW)})
    assert store.federated() == {"p1": Federated(("alpha",), "d2", generation=2, updated=NOW)}
    database.close()
