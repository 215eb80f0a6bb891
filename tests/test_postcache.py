"""The post cache (incremental/postcache.py): a refresh parses only the files that changed, keeps a broken post's last
good version, skips files over the size limit, and reads half of many files in a forked copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.config import Settings
from syndicator.incremental.postcache import PostCache


def test_cache_reparses_only_changed_files(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A refresh parses only files whose size, mtime or inode changed."""
    write_post("a.md", title="A")
    b = write_post("b.md", title="B")
    cache = PostCache(settings)
    posts, problems = cache.refresh()
    assert len(posts) == 2 and problems == [] and cache.parsed == 2
    cache.refresh()
    assert cache.parsed == 2
    b.write_text(b.read_text().replace("title: 'B'", "title: 'B2'"))
    os.utime(b, ns=(1, 1))
    posts, _ = cache.refresh()
    assert cache.parsed == 3
    assert sorted(p.title for p in posts) == ["A", "B2"]


def test_cache_keeps_the_last_good_version(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A post that breaks stays published in its last good form, with its problem reported."""
    path = write_post("a.md", title="Good")
    cache = PostCache(settings)
    cache.refresh()
    path.write_text("---\ntitle: [broken\n---\n")
    posts, problems = cache.refresh()
    assert [p.title for p in posts] == ["Good"]
    assert len(problems) == 1 and problems[0].line == 2
    path.unlink()
    posts, problems = cache.refresh()
    assert posts == [] and problems == []


def test_cache_skips_files_over_the_size_limit(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A file over max_post_bytes is reported and skipped."""
    write_post("big.md", title="Big", body="x" * 500)
    write_post("small.md", title="Small")
    posts, problems = PostCache(make_settings(max_post_bytes=300)).refresh()
    assert [p.title for p in posts] == ["Small"]
    assert "max_post_bytes" in problems[0].message


@pytest.mark.parametrize("threaded", [False, True])
def test_loading_in_two_processes_gives_what_one_process_gives(
    settings: Settings, posts_dir: Path, threaded: bool
) -> None:
    """Many changed files are loaded half in a forked process, or, in a process with threads (a server), in a new
    interpreter: same posts, problems and parse count."""
    for i in range(40):
        (posts_dir / f"p{i:02}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2025-01-{1 + i % 28:02}\ncategories: [C{i % 3}]\n---\nBody *{i}*.\n"
        )
    (posts_dir / "broken.md").write_text("---\ntitle: [oops\n---\n")
    serial = PostCache(settings)
    posts, problems = serial.refresh()
    expected = {
        "posts": sorted([p.source, p.id, p.title, p.content_html] for p in posts),
        "problems": sorted(str(p) for p in problems),
        "parsed": serial.parsed,
    }
    script = f"""
import json, logging, sys, threading
from pathlib import Path
from syndicator.incremental.postcache import PostCache
from syndicator.config import load_settings
apart = []
class Forks(logging.Handler):
    def emit(self, record):
        apart.append(record.getMessage().split(" ")[0])
if {threaded}:
    threading.Thread(target=threading.Event().wait, args=(30,), daemon=True).start()
logging.getLogger("syndicator.incremental.forked").addHandler(Forks())
logging.getLogger("syndicator.incremental.forked").setLevel(logging.DEBUG)
settings = load_settings(None, {{"SYNDICATOR_POSTS_DIR": {str(posts_dir)!r}, "SYNDICATOR_SITE_URL": "https://example.org"}})
cache = PostCache(settings, parallel_from=4)
posts, problems = cache.refresh()
print(json.dumps({{
    "posts": sorted([p.source, p.id, p.title, p.content_html] for p in posts),
    "problems": sorted(str(p) for p in problems),
    "parsed": cache.parsed,
    "apart": apart,
}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=Path.cwd())
    result = json.loads(out.stdout)
    assert result.pop("apart") == (["spawned"] if threaded else ["forked"])
    assert result == expected
