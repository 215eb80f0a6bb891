"""Atomic, minimal writes under output_dir, the path guard, and pruning of vanished feeds (store/files.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from syndicator.store.files import OutputError
from syndicator.store.files import prune
from syndicator.store.files import target
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
