"""Published output never goes backwards: a lost or another state_dir never drops a live tombstone nor moves an
entry's updated earlier; output_dir names the state_dir that builds it, and the builder lock covers it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from subprocess import PIPE

import feedparser
import pytest
from lxml import etree

from support.factories import NOW
from support.factories import post_text
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.output import FilesOutput
from syndicator.store.claim import CLAIM_FILE
from syndicator.store.claim import owner
from syndicator.store.lock import BuilderLock
from syndicator.store.lock import LockedError

AT = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
EDITED = NOW + timedelta(days=3, hours=4, seconds=27)


def published(feeds: Path, feed: str = "all.atom") -> tuple[dict[str, str], dict[str, str]]:
    """What a feed file shows: each entry's updated by title, each tombstone's when by ref."""
    document = (feeds / feed).read_bytes()
    stones = {e.get("ref"): e.get("when") for e in etree.fromstring(document).iter(AT)}
    return {e.title: e.updated for e in feedparser.parse(document).entries}, stones


@pytest.fixture
def history(settings: Settings, write_post: Callable[..., Path], posts_dir: Path) -> Settings:
    """Published at NOW; then an edit dated when first seen (the front matter's updated is 2013), and a deletion."""
    write_post("a.md", title="A", date="2013-05-04T10:00:00Z", categories="[Courts]", body="First.\n")
    write_post("b.md", title="B", date="2013-05-05T10:00:00Z", categories="[Courts]")
    write_post("c.md", title="C", date="2013-05-06T10:00:00Z", categories="[Courts]")
    Builder(settings, FilesOutput()).reload(NOW)
    write_post("a.md", title="A", date="2013-05-04T10:00:00Z", categories="[Courts]", body="Corrected.\n")
    (posts_dir / "c.md").unlink()
    Builder(settings, FilesOutput()).reload(EDITED)
    return settings


def test_a_lost_state_dir_keeps_tombstones_and_updated(history: Settings) -> None:
    """state_dir gone: the next build reads back what output_dir published, so readers see nothing go back."""
    feeds = history.output_dir
    before = {name: published(feeds, name) for name in ("all.atom", "category/courts.atom")}
    assert before["all.atom"][0]["A"] == EDITED.isoformat() and before["all.atom"][1]
    shutil.rmtree(history.state_dir)
    Builder(history, FilesOutput()).reload(EDITED + timedelta(days=1))
    assert {name: published(feeds, name) for name in before} == before
    later = Builder(history, FilesOutput())  # and it stays so, from the new ledger
    later.reload(EDITED + timedelta(days=2))
    assert {name: published(feeds, name) for name in before} == before


def test_a_tombstone_past_tombstone_days_still_goes(history: Settings) -> None:
    """Reading back keeps live tombstones only: one older than tombstone_days leaves the feed, as it would have."""
    shutil.rmtree(history.state_dir)
    Builder(history, FilesOutput()).reload(EDITED + timedelta(days=history.tombstone_days + 1))
    assert published(history.output_dir)[1] == {}


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``syndicator <args>`` in the site's folder, as an operator types it (the whole group stopped at a timeout)."""
    command = [sys.executable, "-m", "syndicator", *args]
    process = subprocess.Popen(command, cwd=site, stdout=PIPE, stderr=PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"still running after 120 s: {stderr}") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_another_state_dir_refuses_and_adopt_takes_over(tmp_path: Path) -> None:
    """A build with another state_dir (a command typed elsewhere) refuses in one line naming both, writing
    nothing; --adopt takes output_dir over and reads back what it published first."""
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "posts" / "a.md").write_text(post_text("A", categories="[Courts]"))
    (site / "posts" / "c.md").write_text(post_text("C", date="2025-06-03T10:00:00Z", categories="[Courts]"))
    (site / "syndicator.toml").write_text('state_dir = "state"\n')
    assert run(site, "build").returncode == 0
    (site / "posts" / "c.md").unlink()
    assert run(site, "build").returncode == 0
    feeds = site / "feeds"
    assert owner(feeds) == str((site / "state").resolve())
    before = {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()}
    stones = published(feeds)[1]
    assert stones
    other = tmp_path / "elsewhere"
    (other / "posts").mkdir(parents=True)
    shutil.copy(site / "posts" / "a.md", other / "posts" / "a.md")
    config = f'posts_dir = "{site / "posts"}"\noutput_dir = "{feeds}"\nstate_dir = "{other / "state"}"\n'
    (other / "syndicator.toml").write_text(config)
    refused = run(other, "build")
    assert refused.returncode == 1
    (line,) = [line for line in refused.stderr.splitlines() if line.strip()]
    assert f"output_dir {feeds} was built from state_dir {site / 'state'}, not {other / 'state'}" in line
    assert {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()} == before
    adopted = run(other, "build", "--adopt")
    assert adopted.returncode == 0, adopted.stderr
    assert owner(feeds) == str((other / "state").resolve())
    assert published(feeds)[1] == stones  # the tombstone another state_dir's ledger never knew
    assert run(site, "build").returncode == 1  # now the first one is the other one


def test_the_builder_lock_covers_output_dir(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """Two state_dirs building one output_dir at once: the second refuses, naming output_dir."""
    first = make_settings(state_dir=tmp_path / "one")
    second = make_settings(state_dir=tmp_path / "two")
    with BuilderLock(first), pytest.raises(LockedError, match=f"building with output_dir {first.output_dir}"):
        BuilderLock(second).acquire()
    with BuilderLock(second):
        pass  # free again


def test_the_claim_is_never_served(history: Settings) -> None:
    """output_dir's record of its state_dir and its lock are dot-files: the app answers them 404."""
    builder = Builder(history)
    builder.reload(EDITED)
    (history.output_dir / CLAIM_FILE).write_text('{"state_dir": "/x"}')
    client = create_app(history, builder).test_client()
    for name in (CLAIM_FILE, ".syndicator.lock"):
        assert client.get(f"/feeds/{name}").status_code == 404


def test_a_reload_refused_its_locks_writes_nothing_to_state_dir(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """state_dir and output_dir removed under a running builder, and another builder took the locks first: the
    next reload is refused before it writes its ledger or post cache there (two builders would write one state_dir)."""
    from syndicator.service.build import ReloadError
    from syndicator.store.lock import BuilderLock
    from syndicator.store.lock import LockedError

    write_post("a.md", title="A")
    running = BuilderLock(settings)
    running.acquire()
    builder = Builder(settings, FilesOutput())
    builder.reload(NOW)  # the locks as taken
    shutil.rmtree(settings.state_dir)  # as `git clean -fdx` takes both
    shutil.rmtree(settings.output_dir)
    other = BuilderLock(settings)
    other.acquire()  # a second builder, before the running one's next reload
    try:
        write_post("b.md", title="B")
        failed = builder.reload(NOW)
        assert isinstance(failed, ReloadError) and isinstance(failed.error, LockedError)
        assert sorted(p.name for p in settings.state_dir.iterdir()) == ["builder.lock"]  # the other's: none of ours
    finally:
        other.release()
        running.release()


def test_a_builder_whose_lock_files_went_takes_them_again_or_is_refused(settings: Settings) -> None:
    """A running builder's locks are on files it opened; removed with their folders, a second builder would find
    none and run beside it. Its keeper takes them again before the next write (and a second builder is then
    refused); when a second builder took them first, the keeper is refused and nothing is written."""
    from syndicator.store.lock import BuilderLock
    from syndicator.store.lock import LockedError
    from syndicator.store.lock import LockKeeper

    running, keeper = BuilderLock(settings), LockKeeper(settings)
    running.acquire()
    keeper.keep()  # the files as taken
    shutil.rmtree(settings.state_dir)
    shutil.rmtree(settings.output_dir)
    keeper.keep()
    with pytest.raises(LockedError):
        BuilderLock(settings).acquire()
    shutil.rmtree(settings.state_dir)
    shutil.rmtree(settings.output_dir)
    other = BuilderLock(settings)
    other.acquire()  # a second builder, before the running one's next reload
    with pytest.raises(LockedError, match=f"pid {os.getpid()}"):
        keeper.keep()
    other.release()
    keeper.release()
    running.release()
