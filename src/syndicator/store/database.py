"""The SQLite databases under state_dir: opened with their pages checked, and kept when their file goes.

A running ``serve`` holds its databases open (WebSub subscribers, fediverse
followers, email subscribers, partners, reader counts). When their file goes
under it (``git clean -fdx`` or ``rm -rf`` of state_dir), the connection still
reads the file as it was, but SQLite refuses every write to it, and the next
start would find nothing: every subscriber lost. So before each transaction
(and each statement outside one) a ``Connection`` looks at its path: a file gone
is written back from the connection (SQLite's backup API, owner-only, with
what goes with it: the mail links' key) and used from then on; a file put in
its place (a backup restored, or another process of the same serve that wrote
it back first) is opened instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Literal

from syndicator.store.lock import file_identity
from syndicator.store.lock import private_folder
from syndicator.store.state import damaged

logger = logging.getLogger(__name__)

Parameters = Sequence[Any] | Mapping[str, Any]


@contextlib.contextmanager
def database_checked(path: Path) -> Iterator[None]:
    """Opening a database under state_dir: one that is not a database, or is corrupt, is a StateError naming it."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if not getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            raise
        raise damaged(path, exc) from None


_PAGES_CHECKED: set[Path] = set()  # databases this process (or the one it was forked from) found whole


def open_database(path: Path, timeout: float = 10.0, also: Callable[[], None] | None = None) -> Connection:
    """A database under state_dir, for any thread; its pages checked the first time a process opens it: damaged
    pages under a valid header are a StateError naming it (``PRAGMA quick_check`` reads every page once), found at
    the start rather than by a later query, where they would be a traceback.

    A forked process (serve's worker) does not read again what its parent just read. ``also`` writes back what
    goes with the file, after the file is written back.
    """
    db = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
    if path not in _PAGES_CHECKED:
        try:
            with database_checked(path):
                found = [str(row[0]) for row in db.execute("PRAGMA quick_check(1)")]
            if found != ["ok"]:
                raise damaged(path, sqlite3.DatabaseError(found[0] if found else "no answer to quick_check"))
        except BaseException:
            db.close()
            raise
        _PAGES_CHECKED.add(path)
    return Connection(path, db, timeout, also)


class Connection:
    """A connection to one database file, moved to the file at its path when the one it had is gone or replaced
    (never within a transaction: a ``with`` block keeps the connection it began with)."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, timeout: float, also: Callable[[], None] | None
    ) -> None:
        self.path, self._timeout, self._also = path, timeout, also
        self._connection, self._identity = connection, file_identity(path)
        self._lock = threading.Lock()
        self._open = 0  # transactions begun and not yet ended: the connection is not moved under them

    def execute(self, sql: str, parameters: Parameters = ()) -> sqlite3.Cursor:
        return self._kept().execute(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> sqlite3.Cursor:
        return self._kept().executemany(sql, rows)

    def executescript(self, script: str) -> sqlite3.Cursor:
        return self._kept().executescript(script)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Connection:
        with self._lock:
            self._keep()
            self._open += 1
        return self

    def __exit__(self, *exc_info: Any) -> Literal[False]:
        try:
            return self._connection.__exit__(*exc_info)
        finally:
            with self._lock:
                self._open -= 1

    def _kept(self) -> sqlite3.Connection:
        with self._lock:
            self._keep()
            return self._connection

    def _keep(self) -> None:
        """Move to the file at the path when it is not the one connected (called holding the lock)."""
        now = file_identity(self.path)
        if self._open or now == self._identity:
            return
        if now is None:
            try:
                self._write_back()
            except (OSError, sqlite3.Error) as exc:
                logger.error("database file gone and not written back path=%s reason=%s", self.path, exc)
                self._identity = None  # said once; reads go on from the connection, its writes fail
                return
            if self._also is not None:
                self._also()
        else:
            logger.warning("database file replaced, the new one used path=%s", self.path)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=self._timeout)
        self._identity = file_identity(self.path)

    def _write_back(self) -> None:
        """Write the database back to its path from the connection (its folder made again when it went too): a
        copy beside it, linked to the path only if no other process wrote it back first."""
        private_folder(self.path.parent)
        copy = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # owner-only, as state_dir's files
        target = sqlite3.connect(copy)
        try:
            self._connection.backup(target)
        finally:
            target.close()
        try:
            os.link(copy, self.path)
            logger.warning("database file gone, written back from the open connection path=%s", self.path)
        except FileExistsError:
            logger.warning("database file gone and written back by another process, that one used path=%s", self.path)
        finally:
            copy.unlink(missing_ok=True)
