"""The post cache's file: a change of a few posts is appended to it, read back whole by the next process."""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support.mediafiles import write_png
from syndicator.config import Settings
from syndicator.incremental.postcache import PostCache
from syndicator.model import Post
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.output import FilesOutput
from syndicator.store import state
from syndicator.store.state import POSTS_CACHE_FILE

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def one_build(settings: Settings) -> tuple[int, dict[str, str]]:
    """A one-off build in a new builder, as ``syndicator build`` runs it: posts parsed, each post's title by slug."""
    builder = Builder(settings, FilesOutput(), parallel_from=4)
    report = builder.reload(NOW)
    assert not isinstance(report, ReloadError)
    builder.save_cache()
    assert builder.snapshot is not None
    return report.parsed, {post.slug: post.title for post in builder.snapshot.catalog.posts}


def test_posts_read_back_share_their_categories_tags_and_author(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Posts naming the same category, tag or author share one instance of it, in the cache's file and as read
    back (one per process that parsed them: the load is cut in two): the file holds a few hundred of them, not one
    per post, which is most of what reading it back costs."""
    for n in range(12):
        write_post(f"p{n}.md", title=f"Post {n}", categories="[Alpha, Beta]", tags="[maps]", author="Ann Writer")
    assert one_build(settings)[0] == 12
    saved, _state = state.load_post_cache(settings)
    posts = [entry.result for entry in saved[0].values()]
    assert len(posts) == 12 and all(isinstance(post, Post) for post in posts)
    for values in (
        [t for p in posts for t in p.categories],
        [t for p in posts for t in p.tags],
        [p.author for p in posts],
    ):
        assert len({id(value) for value in values}) <= 2 * len(set(values))  # not one per post


def test_a_one_post_change_is_appended_to_the_cache_and_read_back(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Editing one post of many appends that post to the cache's file (not the others again); removing one
    appends its removal; a new process reads the file back with both, parsing nothing."""
    posts = [write_post(f"p{n}.md", title=f"Post {n}", body=f"Body {n}.\n" * 50) for n in range(12)]
    assert one_build(settings)[0] == 12
    cache = settings.state_dir / POSTS_CACHE_FILE
    whole = cache.stat()
    write_post("p3.md", title="Post 3, edited", body="Body 3.\n" * 50)
    assert one_build(settings)[0] == 1
    appended = cache.stat()
    assert appended.st_ino == whole.st_ino  # the same file, appended to
    assert whole.st_size < appended.st_size < whole.st_size * 1.5  # by one post's worth
    posts[5].unlink()
    parsed, titles = one_build(settings)
    assert parsed == 0
    assert cache.stat().st_ino == whole.st_ino
    parsed, titles = one_build(settings)  # read back: the whole, then both segments
    assert parsed == 0
    assert titles["p3"] == "Post 3, edited" and "p5" not in titles and len(titles) == 11


def test_a_one_post_change_appends_only_its_own_bindings(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Posts bound to their images keep those bindings in the cache too: an edit appends the edited post's, not
    every post's again (at 10,000 posts, 500 of them with images, each one-post build appended 3.5 MB, and every
    later start read them all back)."""
    for n in range(12):
        write_png(settings.posts_dir / f"p{n}.png", 40, 30)
        write_post(f"p{n}.md", title=f"Post {n}", body=f"Body {n}.\n" * 50, image=f"p{n}.png")
    one_build(settings)
    cache = settings.state_dir / POSTS_CACHE_FILE
    whole = cache.stat().st_size
    write_post("p3.md", title="Post 3, edited", body="Body 3.\n" * 50, image="p3.png")
    assert one_build(settings)[0] == 1
    assert cache.stat().st_size - whole < whole / 4  # one post and its binding: a twelfth of the posts and bindings
    parsed, titles = one_build(settings)
    assert parsed == 0 and titles["p3"] == "Post 3, edited"
    builder = Builder(settings, FilesOutput())
    builder.reload(NOW)
    assert builder.snapshot is not None
    assert {post.slug for post in builder.snapshot.catalog.posts if post.image} == {f"p{n}" for n in range(12)}


def test_a_change_of_many_posts_writes_the_cache_whole(settings: Settings, write_post: Callable[..., Path]) -> None:
    for n in range(8):
        write_post(f"p{n}.md", title=f"Post {n}")
    one_build(settings)
    cache = settings.state_dir / POSTS_CACHE_FILE
    before = cache.stat()
    for n in range(4):
        write_post(f"p{n}.md", title=f"Post {n}, edited", body="Edited.\n")
    assert one_build(settings)[0] == 4
    assert cache.stat().st_ino != before.st_ino  # replaced by a whole new file
    assert one_build(settings) == (0, {f"p{n}": f"Post {n}" + (", edited" if n < 4 else "") for n in range(8)})


def test_a_segment_cut_short_is_no_cache(
    settings: Settings, write_post: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A crash while a segment was appended leaves it cut short: the file is no cache (one warning), and every
    post is parsed again to the same feeds."""
    for n in range(8):
        write_post(f"p{n}.md", title=f"Post {n}")
    one_build(settings)
    write_post("p1.md", title="Post 1, edited")
    one_build(settings)
    feeds = {p: p.read_bytes() for p in settings.output_dir.rglob("*") if p.is_file()}
    cache = settings.state_dir / POSTS_CACHE_FILE
    cache.write_bytes(cache.read_bytes()[:-3])
    with caplog.at_level(logging.WARNING):
        assert one_build(settings)[0] == 8
    assert [r.message for r in caplog.records if "cache unreadable" in r.message]
    assert {p: p.read_bytes() for p in settings.output_dir.rglob("*") if p.is_file()} == feeds


def test_a_post_read_back_from_the_cache_is_the_post_it_was(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Every field of a cached post, its digest and its warnings come back as they were pickled (no field is lost
    by pickling a post as the tuple of its fields)."""
    write_post("a.md", title="A & B", categories="[One, Two]", tags="[t]", author="Zoë", image="x.png", draft="false")
    cache = PostCache(settings)
    cache.refresh()
    entry = next(iter(cache.entries.values()))
    post = entry.result
    assert isinstance(post, Post)
    digest = post.digest
    again = pickle.loads(pickle.dumps(cache.saved()))[0]  # noqa: S301 - what we just pickled
    back = next(iter(again.values()))
    assert back == entry
    assert back.result == post and back.result.warnings == post.warnings and back.result._digest == digest
    assert [getattr(back.result, f.name) for f in fields(post)] == [getattr(post, f.name) for f in fields(post)]


def test_a_reload_runs_while_the_cache_is_written(
    settings: Settings, write_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's first save of its post cache (seconds for a big blog) holds no reload back: an edit made while the
    file is written is published at once, and is in the file after the next save (read back by a new process)."""
    for i in range(6):
        write_post(f"p{i}.md", title=f"Post {i}")
    builder = Builder(settings)  # a server's: its cache is written in this process, under its lock
    assert not isinstance(builder.reload(NOW), ReloadError)
    writing, go = threading.Event(), threading.Event()
    real_save = state.save_post_cache

    def held(*args: Any) -> state.CacheFileState:
        writing.set()
        assert go.wait(120), "the save was never let go"
        return real_save(*args)

    monkeypatch.setattr(state, "save_post_cache", held)
    saving = threading.Thread(target=builder.save_cache)
    saving.start()
    assert writing.wait(60)
    write_post("p0.md", title="Edited while the cache is written")
    reloading = threading.Thread(target=builder.reload, args=(NOW,))
    reloading.start()
    reloading.join(60)
    held_back = reloading.is_alive()
    go.set()
    saving.join(60)
    reloading.join(60)
    assert not held_back, "the reload waited for the cache's file"
    assert builder.snapshot is not None
    assert "Edited while the cache is written" in {post.title for post in builder.snapshot.catalog.posts}
    builder.save_cache()  # the edit, appended
    parsed, titles = one_build(settings)
    assert parsed == 0 and titles["p0"] == "Edited while the cache is written"
