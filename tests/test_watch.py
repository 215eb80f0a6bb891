"""Watching posts_dir (service/watch.py): the watcher's paths, and refreshes that look only at them. A server
that publishes an edit moments later: system/test_serve.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support.factories import post_text
from support.feedcheck import wait_for
from syndicator.config import Settings
from syndicator.incremental.postcache import PostCache
from syndicator.service.watch import WRITE_QUIET
from syndicator.service.watch import PostWatcher


@pytest.fixture
def watcher(posts_dir: Path) -> PostWatcher:
    watching = PostWatcher(posts_dir)
    assert watching.start()
    assert watching.take() is None  # the first answer: look at everything
    yield watching
    watching.stop()


def _taken(watcher: PostWatcher, expected: set[str]) -> set[str] | None:
    """What the watcher has once every expected path arrived (events come on another thread)."""
    seen: set[str] = set()

    def arrived() -> bool:
        taken = watcher.take()
        if taken is None:
            raise AssertionError("watcher asked for a full look")
        seen.update(taken)
        return expected <= seen

    assert wait_for(arrived), f"only {seen}"
    return seen


def test_watcher_reports_written_created_moved_and_deleted_files(
    watcher: PostWatcher, posts_dir: Path, write_post: Callable[..., Path]
) -> None:
    """Paths come spelled like the post cache's (posts_dir/...); a folder event asks for a full look."""
    (posts_dir / "sub").mkdir()
    assert wait_for(watcher.pending)
    assert watcher.take() is None
    write_post("sub/a.md", title="A")
    assert _taken(watcher, {f"{posts_dir}/sub/a.md"}) >= {f"{posts_dir}/sub/a.md"}
    os.rename(posts_dir / "sub/a.md", posts_dir / "sub/b.md")
    assert _taken(watcher, {f"{posts_dir}/sub/a.md", f"{posts_dir}/sub/b.md"})
    (posts_dir / "sub/b.md").unlink()
    assert _taken(watcher, {f"{posts_dir}/sub/b.md"})
    watcher.look_at_everything()
    assert watcher.take() is None


def test_a_file_still_being_written_is_held_back_until_it_is_closed(watcher: PostWatcher, posts_dir: Path) -> None:
    """A post written in two steps, 0.6 s apart, is never handed to a reload half written (inotify close_write)."""
    asked: list[float] = []
    watcher.on_change = asked.append
    path = posts_dir / "slow.md"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("---\ntitle: Half")
        handle.flush()
        assert wait_for(lambda: bool(asked))
        assert asked[-1] >= WRITE_QUIET  # a write without a close asks for a late reload
        time.sleep(0.6)
        assert watcher.take() == set()  # held back: it is being written
        handle.write(" and whole\ndate: 2025-01-01\n---\nBody\n")
    assert _taken(watcher, {str(path)}) == {str(path)}
    assert asked[-1] < WRITE_QUIET  # closed: the reload may come at once


def _published(cache: PostCache) -> list[tuple[str, str]]:
    posts, problems = cache.refresh()
    return sorted((p.source, p.title) for p in posts) + sorted((p.path, p.message) for p in problems)


def test_a_refresh_of_the_changed_paths_equals_a_full_look(settings: Settings, posts_dir: Path) -> None:
    """Edits, additions, deletions, renames, broken files and ignored names, told by path, give a full look's answer."""
    for i in range(6):
        (posts_dir / f"p{i}.md").write_text(post_text(title=f"P{i}"))
    cache, full = PostCache(settings), PostCache(settings)  # one is told the paths, the other looks at all
    cache.refresh()
    full.refresh()
    (posts_dir / "p0.md").write_text(post_text(title="P0 edited"))
    (posts_dir / "p1.md").unlink()
    (posts_dir / "p6.md").write_text(post_text(title="P6"))
    os.rename(posts_dir / "p2.md", posts_dir / "p2-renamed.md")
    (posts_dir / "p3.md").write_text("---\ntitle: [unclosed\n---\n")
    (posts_dir / ".p4.md.swp").write_text(post_text(title="Swap file"))
    (posts_dir / "notes.txt").write_text("not a post")
    changed = {f"{posts_dir}/{name}" for name in ("p0.md", "p1.md", "p6.md", "p2.md", "p2-renamed.md", "p3.md")}
    changed |= {f"{posts_dir}/.p4.md.swp", f"{posts_dir}/notes.txt", f"{posts_dir}/../outside.md"}
    posts, problems = cache.refresh(changed=changed)
    told = sorted((p.source, p.title) for p in posts) + sorted((p.path, p.message) for p in problems)
    assert told == _published(full)
    assert ("p3.md", "P3") in told  # a broken file keeps its last good version either way
    assert ("p0.md", "P0 edited") in told and ("p6.md", "P6") in told and ("p2-renamed.md", "P2") in told
    assert all(source != "p1.md" for source, _ in told)


def test_a_refresh_looks_only_at_the_paths_it_is_told(settings: Settings, posts_dir: Path) -> None:
    """An edit the watcher did not report waits for the next full look (the interval reload)."""
    (posts_dir / "a.md").write_text(post_text(title="A"))
    (posts_dir / "b.md").write_text(post_text(title="B"))
    cache = PostCache(settings)
    cache.refresh()
    (posts_dir / "a.md").write_text(post_text(title="A edited"))
    (posts_dir / "b.md").write_text(post_text(title="B edited"))
    posts, _ = cache.refresh(changed={f"{posts_dir}/b.md"})
    assert sorted(p.title for p in posts) == ["A", "B edited"]
    posts, _ = cache.refresh()
    assert sorted(p.title for p in posts) == ["A edited", "B edited"]


def test_symlinked_folders_are_always_looked_at_in_full(settings: Settings, posts_dir: Path) -> None:
    """A watcher does not see into a symlinked folder, so the cache does not rely on what it reports.

    (The linked folder is inside posts_dir, in an ignored folder so that the link is the only way to it: a link to a
    folder outside posts_dir is not followed at all.)
    """
    target = posts_dir / "_sources" / "elsewhere"
    target.mkdir(parents=True)
    (target / "linked.md").write_text(post_text(title="Linked"))
    (posts_dir / "shared").symlink_to(target, target_is_directory=True)
    cache = PostCache(settings)
    assert [p.title for p in cache.refresh()[0]] == ["Linked"]
    (target / "linked.md").write_text(post_text(title="Linked, edited"))
    assert [p.title for p in cache.refresh(changed=set())[0]] == ["Linked, edited"]
