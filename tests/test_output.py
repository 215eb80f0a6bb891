"""Atomic, minimal writes under output_dir, and pruning of vanished feeds."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pytest

from syndicator.output import FeedFile
from syndicator.output import OutputError
from syndicator.output import prune
from syndicator.output import target
from syndicator.output import write_changed


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
    """Feeds no longer produced, and leftover temp files, are removed; other files stay."""
    write_changed(tmp_path, {"all.atom": b"A", "category/gone.atom": b"G"})
    (tmp_path / ".all.atom.123.tmp").write_bytes(b"partial")
    (tmp_path / "robots.txt").write_text("keep")
    removed = prune(tmp_path, {"all.atom": b"A"})
    assert removed == [".all.atom.123.tmp", "category/gone.atom"]
    assert not (tmp_path / "category").exists()
    assert (tmp_path / "robots.txt").exists()


def test_feed_file_etags_and_gzip() -> None:
    """Identity and gzip get distinct strong ETags; gzip bytes are deterministic."""
    one = FeedFile.make("all.atom", b"<feed/>", 0.0)
    two = FeedFile.make("all.atom", b"<feed/>", 5.0)
    assert one.etag == two.etag and one.gzip_body == two.gzip_body
    assert one.gzip_etag == one.etag + "-gz"
    assert gzip.decompress(one.gzip_body) == b"<feed/>"
    assert one.media_type == "application/atom+xml; charset=utf-8"
    assert FeedFile.make("index.opml", b"", 0).media_type == "text/x-opml; charset=utf-8"
