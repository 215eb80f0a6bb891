"""A database under state_dir whose file goes while it is open (`git clean -fdx`, `rm -rf` of state_dir) is written
back from the connection, with every row; one put in its place is used; a key that goes with it comes back too."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from syndicator.store.actorkeys import ActorKeys
from syndicator.store.database import open_database
from syndicator.store.mailstore import SECRET_FILE
from syndicator.store.mailstore import MailDb
from syndicator.store.mailstore import mail_secret


def rows(path: Path) -> list[str]:
    """What another program reading the file finds."""
    with sqlite3.connect(path) as reader:
        return [str(name) for (name,) in reader.execute("SELECT name FROM t ORDER BY name")]


def made(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (name TEXT)")
        db.execute("INSERT INTO t VALUES ('first')")


def test_a_database_whose_folder_went_is_written_back_with_every_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state" / "hub.sqlite3"
    path.parent.mkdir()
    made(path)
    db = open_database(path)
    shutil.rmtree(path.parent)
    with caplog.at_level(logging.WARNING), db:  # a write to the file gone: SQLite refuses it
        db.execute("INSERT INTO t VALUES ('second')")
    assert rows(path) == ["first", "second"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["hub.sqlite3"]  # no copy left beside it
    assert f"database file gone, written back from the open connection path={path}" in caplog.text
    assert [name for (name,) in db.execute("SELECT name FROM t ORDER BY name")] == ["first", "second"]


def test_a_read_outside_a_transaction_writes_it_back_too(tmp_path: Path) -> None:
    path = tmp_path / "partners.sqlite3"
    made(path)
    db = open_database(path)
    path.unlink()
    assert [name for (name,) in db.execute("SELECT name FROM t")] == ["first"]
    assert rows(path) == ["first"]


def test_a_file_put_in_its_place_is_the_one_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A backup restored over the file, or the copy another process of serve wrote back first."""
    path = tmp_path / "email.sqlite3"
    made(path)
    db = open_database(path)
    other = tmp_path / "backup.sqlite3"
    with sqlite3.connect(other) as backup:
        backup.execute("CREATE TABLE t (name TEXT)")
        backup.execute("INSERT INTO t VALUES ('restored')")
    other.replace(path)
    with caplog.at_level(logging.WARNING), db:
        db.execute("INSERT INTO t VALUES ('after')")
    assert rows(path) == ["after", "restored"]
    assert "database file replaced, the new one used" in caplog.text


def test_two_processes_holding_it_write_back_one_file(tmp_path: Path) -> None:
    """serve's builder and its worker both hold the hub's database: the first to write writes it back, the other
    moves to that file, and neither write is lost."""
    path = tmp_path / "state" / "hub.sqlite3"
    path.parent.mkdir()
    made(path)
    builder, worker = open_database(path), open_database(path)
    shutil.rmtree(path.parent)
    with builder:
        builder.execute("INSERT INTO t VALUES ('from the builder')")
    with worker:
        worker.execute("INSERT INTO t VALUES ('from the worker')")
    assert rows(path) == ["first", "from the builder", "from the worker"]


def test_the_mail_links_key_comes_back_with_the_mail_database(tmp_path: Path) -> None:
    """Every link a mail carries is signed with it, and the addresses' keys are its hashes: a new key would break
    every unsubscribe link sent and every row written back."""
    state = tmp_path / "state"
    secret = mail_secret(state)
    mail = MailDb(state, secret)
    shutil.rmtree(state)
    with mail.lock, mail.db:
        mail.db.execute("DELETE FROM asks")
    assert (state / "email.sqlite3").is_file()
    assert mail_secret(state) == secret
    assert stat.S_IMODE((state / SECRET_FILE).stat().st_mode) == 0o600


def test_an_actor_key_read_is_written_back_not_made_again(tmp_path: Path) -> None:
    """Servers that cached the actor's public key would refuse every delivery signed with a new one."""
    keys = ActorKeys(tmp_path / "state")
    made = iter([b"first key", b"second key"])
    assert keys.get("news", lambda: next(made)) == b"first key"
    shutil.rmtree(tmp_path / "state")
    assert keys.get("news", lambda: next(made)) == b"first key"
    written = tmp_path / "state" / "fediverse-keys" / "news.pem"
    assert written.read_bytes() == b"first key"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.parent.stat().st_mode) == 0o700
