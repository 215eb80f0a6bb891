"""One reload end to end: files written, unchanged bytes left alone, snapshots published whole."""

from __future__ import annotations

import functools
import gc
import gzip
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from support.factories import NOW
from support.factories import make_post
from support.feedcheck import check_atom
from support.feedcheck import check_file
from support.outputs import published_tree
from syndicator.config import Settings
from syndicator.core.pipeline import publish
from syndicator.core.render import formats_of
from syndicator.incremental.changes import decide
from syndicator.incremental.memo import PagingMemo
from syndicator.incremental.postcache import PostCache
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.output import FilesOutput
from syndicator.service.writer import batches as rendered_batches
from syndicator.service.writer import halves
from syndicator.store.state import POSTS_CACHE_FILE


def test_build_writes_every_feed_and_they_validate(
    settings: Settings, builder: Builder, write_post: Callable[..., Path]
) -> None:
    """Every feed file is on disk, complete and valid."""
    write_post("a.md", title="A", categories="[One, Two]")
    report = builder.reload(NOW)
    files = published_tree(settings.output_dir)
    zipped = {path.removesuffix(".gz"): files.pop(path) for path in list(files) if path.endswith(".gz")}
    assert sorted(files) == sorted(report.written) == sorted(zipped)
    assert all(gzip.decompress(zipped[path]) == files[path] for path in files), "a precompressed copy of each feed"
    assert len(files) == 4 * 3 + 1 + 3  # site-wide, two categories, the author; the OPML; sitemap, robots, favicon
    for path, data in files.items():
        check_file(path, data)


def test_rebuilding_unchanged_posts_is_byte_identical(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Two builds of the same posts (even in new processes, later) give identical files, untouched."""
    write_post("a.md", title="A", categories="[One]")
    Builder(settings).reload(NOW)
    first = published_tree(settings.output_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in settings.output_dir.rglob("*")}
    report = Builder(settings).reload(NOW + timedelta(days=30))
    assert published_tree(settings.output_dir) == first
    assert report.written == ()
    assert mtimes == {p: p.stat().st_mtime_ns for p in settings.output_dir.rglob("*")}


def test_an_edit_rewrites_only_the_feeds_it_touches(
    settings: Settings, builder: Builder, write_post: Callable[..., Path]
) -> None:
    """Editing a post rewrites its feeds; the entry keeps its id; other feeds keep their ETag."""
    write_post("a.md", title="A", categories="[One]")
    write_post("b.md", title="B", categories="[Two]")
    builder.reload(NOW)
    assert builder.snapshot is not None
    before = builder.snapshot.files
    write_post("a.md", title="A edited", categories="[One]")
    report = builder.reload(NOW)
    assert set(report.written) == {
        "author/test-site.atom",
        "author/test-site.json",
        "author/test-site.rss",
        "all.atom",
        "all.rss",
        "all.json",
        "category/one.atom",
        "category/one.rss",
        "category/one.json",
        "index.opml",  # the edit is dated when it is seen: the OPML's dateModified moves with it
        "sitemap.xml",  # and so does the post's lastmod
    }
    after = builder.snapshot.files
    assert after["/feeds/category/two.atom"] is before["/feeds/category/two.atom"]
    assert after["/feeds/category/one.atom"].etag != before["/feeds/category/one.atom"].etag
    assert b"A edited" in after["/feeds/category/one.atom"].body
    assert builder.snapshot.catalog.posts[0].id == "tag:example.org,2025-06-01:/posts/a"


def test_a_vanished_category_loses_its_feeds(
    settings: Settings, builder: Builder, write_post: Callable[..., Path]
) -> None:
    """When no post is filed under a category any more, its files are removed."""
    write_post("a.md", title="A", categories="[One, Gone]")
    builder.reload(NOW)
    write_post("a.md", title="A", categories="[One]")
    report = builder.reload(NOW)
    assert set(report.removed) == {"category/gone.atom", "category/gone.rss", "category/gone.json"}
    assert not (settings.output_dir / "category/gone.atom").exists()
    assert "/feeds/category/gone.atom" not in builder.snapshot.files


def test_a_broken_post_never_stops_the_others(
    settings: Settings, builder: Builder, write_post: Callable[..., Path]
) -> None:
    """A broken file is a reported problem; every other post is published."""
    write_post("good.md", title="Good", categories="[One]")
    write_post("bad.md", text="---\ntitle: [oops\n---\n")
    report = builder.reload(NOW)
    assert report.posts == 1 and report.failed
    assert [str(p).split(": ", 1)[1] for p in report.problems] == [
        "invalid YAML front matter: the list or mapping in brackets that starts on this line is never closed"
        " (did not find expected ',' or ']')"
    ]
    check_atom((settings.output_dir / "category/one.atom").read_bytes())


def test_future_post_appears_when_its_time_comes(builder: Builder, write_post: Callable[..., Path]) -> None:
    """A post a minute ahead is in no feed and no date until its time."""
    write_post("now.md", title="Now", date="2025-12-31T12:00:00Z")
    write_post("later.md", title="Later", date="2026-01-01T12:01:00Z")
    report = builder.reload(NOW)
    assert report.posts == 1
    assert report.next_publish_at == NOW + timedelta(minutes=1)
    assert b"Later" not in builder.snapshot.files["/feeds/all.atom"].body
    assert b"2026-01-01T12:01" not in builder.snapshot.files["/feeds/all.atom"].body
    report = builder.reload(NOW + timedelta(minutes=1))
    assert report.posts == 2 and report.next_publish_at is None
    assert b"Later" in builder.snapshot.files["/feeds/all.atom"].body


def test_a_new_process_starts_warm(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Saved parses and feed records let the next process parse and render nothing that did not change."""
    for i in range(5):
        write_post(f"p{i}.md", title=f"P{i}", categories="[One]")
    first = Builder(settings, FilesOutput())
    first.reload(NOW)
    first.save_cache()
    second = Builder(settings, FilesOutput())
    report = second.reload(NOW)
    assert report.parsed == 0 and report.written == ()
    for path in settings.posts_dir.iterdir():  # a git checkout: new mtimes, same bytes
        os.utime(path, (1, 1))
    third = Builder(settings)
    report = third.reload(NOW)
    assert report.parsed == 0 and report.written == ()
    assert third.snapshot is not None and b"P4" in third.snapshot.files["/feeds/category/one.atom"].body


def test_incremental_output_equals_a_fresh_build(
    settings: Settings, make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """After edits, additions, removals and a restart, the tree equals one built from scratch."""
    builder = Builder(settings)
    for i in range(12):
        write_post(f"p{i}.md", title=f"P{i}", date=f"2025-01-{i + 1:02d}", categories=f"[C{i % 3}, Shared]")
    builder.reload(NOW)
    write_post("p3.md", title="P3 edited", date="2025-01-04", categories="[C2, New]")
    (settings.posts_dir / "p5.md").unlink()
    write_post("p99.md", title="Newest", date="2025-02-01", categories="[C1]")
    builder.reload(NOW)
    builder.save_cache()
    write_post("p7.md", title="P7 edited", date="2025-01-08", categories="[C1]")
    Builder(settings).reload(NOW)
    fresh = make_settings(output_dir=tmp_path / "fresh", state_dir=tmp_path / "fresh-state")
    fresh.state_dir.mkdir()
    for history in ("ledger.json", "feeds-known.json"):  # what was published: edits' dates, the deleted post
        shutil.copy(settings.state_dir / history, fresh.state_dir / history)
    Builder(fresh).reload(NOW)
    assert published_tree(settings.output_dir) == published_tree(fresh.output_dir)


def test_a_feed_file_deleted_behind_our_back_is_restored(
    settings: Settings, builder: Builder, write_post: Callable[..., Path]
) -> None:
    """The next reload notices a missing or altered feed file and writes it again."""
    write_post("a.md", title="A", categories="[One]")
    builder.reload(NOW)
    (settings.output_dir / "category/one.atom").unlink()
    (settings.output_dir / "all.rss").write_bytes(b"tampered")
    report = builder.reload(NOW)
    assert set(report.written) >= {"category/one.atom", "all.rss"}
    assert (settings.output_dir / "all.rss").read_bytes() == builder.snapshot.files["/feeds/all.rss"].body


def test_a_build_on_two_processes_writes_what_one_process_writes(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """Posts parsed and Atom entries built half in a forked copy: every file byte-equal to a one-process build."""
    for i in range(60):
        write_post(
            f"p{i:02}.md",
            title=f"Post {i}",
            date=f"2025-{1 + i % 12:02}-{1 + i % 28:02}T10:00:00Z",
            categories=f"[C{i % 4}, Shared]",
            tags=f"[t{i % 3}]",
            body=f"Body of *post {i}*.\n\nContinue reading\n\nThe rest, with a [link](../p{i}/).\n",
        )
    one = make_settings(output_dir=tmp_path / "one", state_dir=tmp_path / "one-state", archive_page_size=7)
    with_threads = threading.Thread(target=threading.Event().wait, args=(30,), daemon=True)
    with_threads.start()  # another thread running: no fork, whatever the sizes
    Builder(one, FilesOutput()).reload(NOW)
    script = f"""
import logging
import sys
from datetime import datetime
from pathlib import Path
from syndicator.service.build import Builder
from syndicator.service.output import FilesOutput
from syndicator.config import Settings
logging.basicConfig(stream=sys.stdout, format="%(name)s %(message)s")
logging.getLogger("syndicator.incremental.forked").setLevel(logging.DEBUG)
settings = Settings(site_title="Test Site", site_url="https://example.org", posts_dir=Path({str(one.posts_dir)!r}),
    output_dir=Path({str(tmp_path / "two")!r}), state_dir=Path({str(tmp_path / "two-state")!r}), archive_page_size=7)
builder = Builder(settings, FilesOutput(), parallel_from=10)
builder.reload(datetime.fromisoformat({NOW.isoformat()!r}))
print("cache written:", not builder.cache.dirty)  # by the copy, before the reload returned
again = Builder(settings, FilesOutput(), parallel_from=10).reload(datetime.fromisoformat({NOW.isoformat()!r}))
print("parsed again:", again.parsed, "written again:", len(again.written))
print("serving:")
serving = Settings(site_title="Test Site", site_url="https://example.org", posts_dir=Path({str(one.posts_dir)!r}),
    output_dir=Path({str(tmp_path / "three")!r}), state_dir=Path({str(tmp_path / "three-state")!r}),
    archive_page_size=7)
Builder(serving, parallel_from=10).reload(datetime.fromisoformat({NOW.isoformat()!r}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    one_off, serving = out.stdout.split("serving:")
    forks = [line for line in one_off.splitlines() if line.startswith("syndicator.incremental.forked forked")]
    assert len(forks) == 3, out.stdout  # the parse, the post cache's file, the newer half of the feeds (own entries)
    forks = [line for line in serving.splitlines() if line.startswith("syndicator.incremental.forked forked")]
    assert len(forks) == 2, out.stdout  # a server's load: the parse, then half of the Atom entries
    assert published_tree(tmp_path / "three") == published_tree(tmp_path / "one")
    assert "cache written: True" in out.stdout
    assert "parsed again: 0 written again: 0" in out.stdout  # the next process starts from that file
    assert published_tree(tmp_path / "two") == published_tree(tmp_path / "one")
    records = [json.loads((tmp_path / state / "feeds.json").read_text()) for state in ("one-state", "two-state")]
    etags = [{path: f[2] for r in rec.values() for path, f in r["files"].items()} for rec in records]
    assert etags[1] == etags[0]  # every feed recorded, whichever process wrote it
    folders = [set(json.loads((tmp_path / state / "folders.json").read_text())) for state in ("one-state", "two-state")]
    assert folders[1] == folders[0]  # and every folder made, to be removed when it empties
    for record in records[1].values():  # as it is on disk: the next build sees every file intact
        for path, (size, mtime_ns, _etag) in record["files"].items():
            st = (tmp_path / "two" / path).stat()
            assert (st.st_size, st.st_mtime_ns) == (size, mtime_ns), path


def test_a_post_cache_that_cannot_be_written_fails_the_build_in_one_line(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """The copy that writes the cache cannot: the feeds are written, and the build says what it could not keep."""
    write_post("a.md", title="A")
    (settings.state_dir / POSTS_CACHE_FILE).mkdir(parents=True)  # a folder where the file goes
    builder = Builder(settings, FilesOutput())
    report = builder.reload(NOW)
    assert not isinstance(report, ReloadError)
    assert (settings.output_dir / "all.atom").is_file()
    assert builder.cache.dirty  # not written: kept for save_cache, which says why
    with pytest.raises(IsADirectoryError):
        builder.save_cache()


def test_a_large_load_pauses_the_cycle_collector_and_resumes_it(
    settings: Settings, write_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files are parsed with the collector paused; it runs again after the load, even a failed one."""
    for i in range(6):
        write_post(f"p{i}.md", title=f"Post {i}")
    enabled_while_loading: list[bool] = []
    load = PostCache.load

    def watched(cache: PostCache, *args: Any) -> Any:
        enabled_while_loading.append(gc.isenabled())
        return load(cache, *args)

    monkeypatch.setattr(PostCache, "load", watched)
    report = Builder(settings, FilesOutput(), parallel_from=4).reload(NOW)
    assert not isinstance(report, ReloadError) and report.posts == 6
    assert enabled_while_loading and not any(enabled_while_loading)
    assert gc.isenabled()
    write_post("p6.md", title="Post 6")
    enabled_while_loading.clear()
    Builder(settings, FilesOutput(), parallel_from=100).reload(NOW)  # few files: the collector is left alone
    assert enabled_while_loading and all(enabled_while_loading)

    def broken(cache: PostCache, *args: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(PostCache, "load", broken)
    (settings.posts_dir / "p0.md").write_text("---\ntitle: Changed\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(MemoryError):
        Builder(settings, FilesOutput(), parallel_from=1).cache.refresh()
    assert gc.isenabled()


def test_a_cold_plan_renders_in_time_order_cut_into_two_even_stretches(make_settings: Callable[..., Settings]) -> None:
    """Feeds to render come in the order of their newest post; the halves for two processes hold as many entries
    of each kind (feeds, archive pages), each side an older and a newer stretch of time, kept in order.
    """
    settings = make_settings(archive_page_size=5, feed_size=5)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    posts = [
        make_post(f"p{i}", source=f"p{i}.md", date=start + timedelta(days=i), categories=[f"C{i % 3}", "All"])
        for i in range(60)
    ]
    catalog = publish(posts, {}, NOW).catalog
    specs = PagingMemo(settings).specs(catalog)
    plan = decide(specs, lambda spec: (spec.stem,), lambda spec: spec.stem, {}, {}, {})
    assert {spec.stem for spec, _ in plan.to_render} == {spec.stem for spec in specs}
    newest = [spec.posts[0].date for spec, _ in plan.to_render if spec.posts]
    assert newest == sorted(newest) and len(newest) > 30
    older, newer = halves(plan.to_render)
    assert sorted(older + newer, key=plan.to_render.index) == plan.to_render
    assert older == sorted(older, key=plan.to_render.index) and newer == sorted(newer, key=plan.to_render.index)
    for archive in (True, False):
        kind = [item for item in plan.to_render if item[0].is_archive is archive]
        older_kind = [item for item in older if item[0].is_archive is archive]
        assert kind[: len(older_kind)] == older_kind  # a stretch of time: the kind's oldest
        sides = ([item for item in side if item[0].is_archive is archive] for side in (older, newer))
        weights = [sum(len(s.posts) * len(formats_of(s)) for s, _ in side) for side in sides]
        assert abs(weights[0] - weights[1]) <= max(len(s.posts) * len(formats_of(s)) for s, _ in kind)
        assert weights[0] and weights[1]


def test_an_unchanged_reload_logs_at_debug(
    builder: Builder, write_post: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A reload that changed nothing says so at DEBUG only: the log is not a line a minute."""
    write_post("a.md", title="A")
    with caplog.at_level("INFO", logger="syndicator"):
        builder.reload(NOW)
        builder.reload(NOW)
    assert [r.getMessage().split()[0] for r in caplog.records if r.name == "syndicator.service.build"] == ["reloaded"]


def test_feeds_are_rendered_in_batches_bounded_by_their_bytes(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """A batch closes once its files pass batch_bytes (a large blog's archives never sit in memory at once): the
    files written are those of the default batches, byte for byte."""
    for i in range(40):
        write_post(
            f"p{i:02}.md",
            title=f"Post {i}",
            date=f"2025-{1 + i % 12:02}-{1 + i % 28:02}T10:00:00Z",
            categories=f"[C{i % 4}, Shared]",
            body=f"Body of *post {i}*. " + "Words of the body. " * 40,
        )
    one = make_settings(output_dir=tmp_path / "one", state_dir=tmp_path / "one-state", archive_page_size=5)
    small = make_settings(output_dir=tmp_path / "two", state_dir=tmp_path / "two-state", archive_page_size=5)
    Builder(one, FilesOutput()).reload(NOW)
    builder = Builder(small, FilesOutput())
    builder.writer.batch_bytes = 20_000
    loaded, _problems = PostCache(small).refresh()
    catalog = publish(loaded, {}, NOW).catalog
    plan = decide(PagingMemo(small).specs(catalog), lambda spec: (spec.stem,), lambda spec: spec.stem, {}, {}, {})
    entries = functools.partial(builder.writer.memo.entries, catalog=catalog)
    batches = list(rendered_batches(plan.to_render, entries, small, 20_000))
    assert [item for batch, _parts, _done in batches for item in batch] == plan.to_render
    assert [done for _batch, _parts, done in batches] == list(itertools.accumulate(len(b) for b, _p, _d in batches))
    for batch, parts, _done in batches:
        last = set(batch[-1][0].paths)
        before = sum(len(chunk) for path, chunks in parts.items() if path not in last for chunk in chunks)
        assert before < 20_000  # only the feed that passed the bound closes the batch
    assert 3 < len(batches) < len(plan.to_render)
    builder.reload(NOW)
    assert published_tree(tmp_path / "two") == published_tree(tmp_path / "one")
