"""Atomic, minimal writes under output_dir, the path guard, and pruning of vanished feeds (store/files.py)."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pytest

from syndicator.incremental.gzip import compress
from syndicator.incremental.gzip import kept_twins
from syndicator.store.files import OutputError
from syndicator.store.files import Replaced
from syndicator.store.files import prune
from syndicator.store.files import read_twins
from syndicator.store.files import remove_temps
from syndicator.store.files import target
from syndicator.store.files import write_atomic
from syndicator.store.files import write_changed


def test_writes_new_files_with_mode_0644(tmp_path: Path) -> None:
    """New feeds are written whole, readable by a web server."""
    _, written = write_changed(tmp_path, {"all.atom": b"A", "category/x.rss": b"B"})
    assert written == ["all.atom", "category/x.rss"]
    assert (tmp_path / "category/x.rss").read_bytes() == b"B"
    assert stat.S_IMODE((tmp_path / "all.atom").stat().st_mode) == 0o644
    assert not list(tmp_path.rglob(".*"))


def test_unchanged_bytes_are_not_rewritten(tmp_path: Path) -> None:
    """Same bytes: no write, so the mtime (Last-Modified) stays."""
    write_changed(tmp_path, {"all.atom": b"A"})
    os.utime(tmp_path / "all.atom", (1_000_000, 1_000_000))
    states, written = write_changed(tmp_path, {"all.atom": b"A"})
    assert written == []
    assert states["all.atom"] == (1, 1_000_000 * 10**9)
    states, written = write_changed(tmp_path, {"all.atom": b"B"})
    assert written == ["all.atom"] and states["all.atom"][1] > 1_000_000 * 10**9


def test_a_new_version_never_looks_like_the_old_one_to_a_server_of_seconds(tmp_path: Path) -> None:
    """nginx tells versions of a file by its size and its mtime in whole seconds (its ETag, Last-Modified): new bytes
    of the same length within the same second (a `build --watch` reloading 0.2 s after an edit) got the old ETag,
    and a 304 for bytes the reader did not have. A new version of one length is dated a second after the old one."""
    seen = set()
    for data in (b"A1", b"A2", b"A3", b"B"):
        states, written = write_changed(tmp_path, {"all.atom": data})
        size, mtime_ns = states["all.atom"]
        assert written == ["all.atom"] and (size, mtime_ns // 10**9) not in seen
        assert os.stat(tmp_path / "all.atom").st_mtime_ns == mtime_ns  # what is served is what the file says
        seen.add((size, mtime_ns // 10**9))


def test_a_file_deleted_behind_our_back_is_written_again(tmp_path: Path) -> None:
    """Known bytes that vanished from disk are restored."""
    write_changed(tmp_path, {"all.atom": b"A"})
    (tmp_path / "all.atom").unlink()
    _, written = write_changed(tmp_path, {"all.atom": b"A"}, known={"all.atom": b"A"})
    assert written == ["all.atom"] and (tmp_path / "all.atom").read_bytes() == b"A"


@pytest.mark.parametrize("path", ["../escape.atom", "/etc/passwd", "category/../../x.atom", ""])
def test_paths_cannot_escape_the_output_folder(tmp_path: Path, path: str) -> None:
    """A guard against our own bugs: every target stays inside output_dir."""
    with pytest.raises(OutputError):
        target(tmp_path / "feeds", path)


def test_prune_removes_vanished_feeds_and_temp_files(tmp_path: Path) -> None:
    """Feeds no longer produced, and leftover temp files of our writes, are removed; other files stay."""
    created: set[str] = set()
    write_changed(tmp_path, {"all.atom": b"A", "category/gone.atom": b"G"}, created=created)
    assert created == {"category"}
    (tmp_path / ".all.atom.1a2b3c4d.tmp").write_bytes(b"partial")
    (tmp_path / ".upload.7f8e9d0c.tmp").write_bytes(b"not ours")
    (tmp_path / "robots.txt").write_text("keep")
    (tmp_path / "other.atom").write_text("an operator's feed")
    removed = prune(tmp_path, {"all.atom", "category/gone.atom"}, {"all.atom"}, created)
    assert removed == [".all.atom.1a2b3c4d.tmp", "category/gone.atom"]
    assert not (tmp_path / "category").exists() and created == set()
    assert (tmp_path / "robots.txt").exists() and (tmp_path / "other.atom").exists()
    assert (tmp_path / ".upload.7f8e9d0c.tmp").exists()


def test_prune_keeps_folders_it_did_not_create(tmp_path: Path) -> None:
    """A folder that was there before the build stays, even once the build's files in it are gone."""
    (tmp_path / "category").mkdir()
    created: set[str] = set()
    write_changed(tmp_path, {"category/gone.atom": b"G", "tag/x/archive/1.atom": b"T"}, created=created)
    assert created == {"tag", "tag/x", "tag/x/archive"}
    prune(tmp_path, {"category/gone.atom", "tag/x/archive/1.atom"}, set(), created)
    assert (tmp_path / "category").is_dir() and not (tmp_path / "tag").exists()


def _kept_aside(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.????????.tmp"))


def test_a_replaced_file_keeps_a_second_name_until_released(tmp_path: Path) -> None:
    """Its blocks are freed by ``release``, not by the rename (ext4 frees them inside it, before the answer)."""
    write_changed(tmp_path, {"all.atom": b"old", "category/x.rss": b"same"})
    old_inode = (tmp_path / "all.atom").stat().st_ino
    replaced = Replaced()
    _, written = write_changed(tmp_path, {"all.atom": b"new", "category/x.rss": b"same"}, replaced=replaced)
    assert written == ["all.atom"] and (tmp_path / "all.atom").read_bytes() == b"new"
    [aside] = _kept_aside(tmp_path, "all.atom")
    assert aside.read_bytes() == b"old" and aside.stat().st_ino == old_inode and str(aside) in replaced
    assert not _kept_aside(tmp_path / "category", "x.rss"), "a file not rewritten is not replaced"
    (tmp_path / ".all.atom.0a1b2c3d.tmp").write_bytes(b"a crash's")
    assert prune(tmp_path, {"all.atom"}, {"all.atom"}, set(), replaced) == [".all.atom.0a1b2c3d.tmp"]
    assert aside.exists(), "what the reload keeps aside is not a crash's leftover"
    replaced.release()
    assert not _kept_aside(tmp_path, "all.atom") and (tmp_path / "all.atom").read_bytes() == b"new"
    replaced.release()  # twice is nothing


def test_a_state_file_replaced_is_kept_aside_too_and_a_crash_leftover_removed(tmp_path: Path) -> None:
    write_atomic(tmp_path / "ledger.json", b"{}")
    replaced = Replaced()
    write_atomic(tmp_path / "ledger.json", b'{"a": 1}', replaced=replaced)
    [aside] = _kept_aside(tmp_path, "ledger.json")
    assert aside.read_bytes() == b"{}" and (tmp_path / "ledger.json").read_bytes() == b'{"a": 1}'
    (tmp_path / ".ledger.json.0a1b2c3d.tmp").write_bytes(b"a crash's")
    (tmp_path / ".notes.0a1b2c3d.tmp").write_bytes(b"not ours")
    assert remove_temps(tmp_path, {"ledger.json"}, replaced) == [".ledger.json.0a1b2c3d.tmp"]
    assert aside.exists() and (tmp_path / ".notes.0a1b2c3d.tmp").exists()


def test_a_new_file_keeps_nothing_and_release_removes_only_the_names_it_made(tmp_path: Path) -> None:
    replaced = Replaced()
    write_changed(tmp_path, {"all.atom": b"first"}, replaced=replaced)
    replaced.keep(tmp_path / "missing.atom")
    assert not _kept_aside(tmp_path, "all.atom") and not _kept_aside(tmp_path, "missing.atom")
    (tmp_path / ".all.atom.ffffffff.tmp").write_bytes(b"someone else's")
    replaced.release()
    assert (tmp_path / ".all.atom.ffffffff.tmp").exists()


def test_a_gzip_twin_of_the_same_bytes_is_kept_as_it_is_on_disk(tmp_path: Path) -> None:
    """Another deflate stream of the very bytes (zlib's, where ours is ISA-L's): the twin on disk is kept; of other
    bytes, or damaged under the same CRC-32 and size, the new one is taken. A twin already known is not read again."""
    body = b"<feed>" + b"an entry " * 500 + b"</feed>"
    theirs = gzip.compress(body, mtime=0)
    ours = compress(body)
    assert theirs != ours and theirs[-8:] == ours[-8:]
    (tmp_path / "all.atom.gz").write_bytes(theirs)
    on_disk = read_twins(tmp_path, ["all.atom", "none.atom"], {})
    assert on_disk == {"all.atom.gz": theirs}
    assert kept_twins({"all.atom": ours}, {"all.atom": body}, on_disk) == {"all.atom": theirs}
    other = body.replace(b"an entry", b"AN ENTRY")
    assert kept_twins({"all.atom": compress(other)}, {"all.atom": other}, on_disk) == {"all.atom": compress(other)}
    damaged = theirs[:20] + bytes([theirs[20] ^ 0xFF]) + theirs[21:]
    (tmp_path / "all.atom.gz").write_bytes(damaged)
    assert kept_twins({"all.atom": ours}, {"all.atom": body}, read_twins(tmp_path, ["all.atom"], {})) == {
        "all.atom": ours
    }
    known = read_twins(tmp_path, ["all.atom"], {"all.atom.gz": theirs})  # known: the damaged file is not read
    assert kept_twins({"all.atom": ours}, {"all.atom": body}, known) == {"all.atom": theirs}
