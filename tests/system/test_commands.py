"""The `syndicator` command run as a publisher runs it, as a process of its own: progress bars on a terminal only,
`build --watch`, an upgraded install, an alias bomb refused by `check`, and a FIFO that could block a build."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ALIASES = "aliases (*name) expand the front matter by more than 10,000 values: not read"


def test_progress_bars_only_on_a_terminal(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A long build draws one bar on a terminal (reading, then writing), never on a pipe; no log line crosses it."""
    import pty
    import subprocess
    import sys

    posts = tmp_path / "posts"
    posts.mkdir()
    for i in range(600):
        (posts / f"p{i}.md").write_text(f"---\ntitle: P{i}\ndate: 2025-01-01\n---\nBody {i}.\n")
    command = [sys.executable, "-m", "syndicator", "build"]
    piped = run_cli("build", check=True)
    assert "reading posts" not in piped.stderr + piped.stdout
    (tmp_path / "feeds").rename(tmp_path / "feeds-piped")
    (tmp_path / ".syndicator").rename(tmp_path / "state-piped")
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=tmp_path, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(60) == 0
    os.close(leader)
    assert b"reading posts" in output and b"writing feeds" in output
    last_draw = max(output.rfind(b"reading posts"), output.rfind(b"writing feeds"))
    assert output.find(b" INFO ") > last_draw  # the log lines wait until the bar is done


def test_build_watch_keeps_feeds_current_without_serving(tmp_path: Path) -> None:
    """`build --watch` reloads on the schedule and rewrites feeds/; SIGTERM stops it cleanly."""
    import subprocess
    import sys
    import time

    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: First\ndate: 2025-01-01\n---\nBody.\n")
    env = {**os.environ, "SYNDICATOR_RELOAD_INTERVAL": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "build", "--watch"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        feed = tmp_path / "feeds" / "all.atom"
        deadline = time.monotonic() + 30
        while not (feed.exists() and b"First" in feed.read_bytes()) and time.monotonic() < deadline:
            time.sleep(0.1)
        (posts / "b.md").write_text("---\ntitle: Second\ndate: 2025-01-02\n---\nBody.\n")
        while b"Second" not in feed.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"Second" in feed.read_bytes()
    finally:
        process.terminate()
        assert process.wait(30) == 0


def test_new_code_reuses_no_stamp_and_no_cache(
    write_post: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """An upgrade (or an edited install) parses and renders again, even when no post changed."""
    import shutil

    import syndicator

    package = tmp_path / "install"
    shutil.copytree(Path(syndicator.__file__).parent, package / "syndicator", ignore=shutil.ignore_patterns("*.pyc"))
    write_post("a.md", title="A")

    def build() -> str:
        return run_cli("build", env={"PYTHONPATH": str(package)}, check=True).stderr

    build()
    assert "up to date" in build()
    with (package / "syndicator" / "core" / "render.py").open("a") as module:
        module.write("# an edit of the installed code\n")
    again = build()
    assert "up to date" not in again and "parsed=1" in again


def alias_bomb(levels: int, field: str = "visibility") -> str:
    """The billion-laughs post: ``levels`` nested lists of nine aliases each, the last one given to ``field``."""
    lines = ["---", "title: Bomb", "date: 2025-01-01", "l0: &l0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join([*lines, f"{field}: *l{levels - 1}", "---", "Body", ""])


def test_the_490_byte_alias_bomb_is_refused_by_check(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Nine levels of aliases given to ``visibility`` (whose problem shows its value) stop nothing: `check` names the
    file and the line where the front matter passes the bound, and the other post is fine."""
    posts = tmp_path / "posts"
    posts.mkdir()
    bomb = alias_bomb(9)
    assert len(bomb.encode()) < 600
    (posts / "bomb.md").write_text(bomb)
    (posts / "fine.md").write_text("---\ntitle: Fine\ndate: 2025-01-01\n---\nBody\n")
    result = run_cli("check")
    assert result.returncode == 1, result.stderr[-2000:]
    problems = [line for line in result.stdout.splitlines() if "bomb.md" in line]
    assert problems == [f"posts/bomb.md:8: {ALIASES}"]
    assert "fine.md" not in result.stdout and len(result.stdout) < 2000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_post_never_blocks_the_build(
    write_post: Callable[..., Path], posts_dir: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """A FIFO called ``*.md`` is reported; `build` (a real process, bounded in time) publishes the rest."""
    write_post("good.md", title="Good", categories="[Kept]")
    os.mkfifo(posts_dir / "pipe.md")
    (tmp_path / "s.toml").write_text(f'posts_dir = "{posts_dir}"\n')
    result = run_cli("build", "--config", "s.toml", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "posts/pipe.md:1: not a regular file" in result.stderr
    assert "Traceback" not in result.stderr and "1 posts" in result.stdout
    assert (tmp_path / "feeds" / "category" / "kept.atom").is_file()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_an_image_never_blocks_the_build(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A FIFO called ``x.png`` is no asset: the post's reference to it is a missing file, and `build` goes on."""
    posts = tmp_path / "posts"
    posts.mkdir()
    os.mkfifo(posts / "x.png")
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\n![x](x.png)\n")
    result = run_cli("build", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "posts/a.md:5: warning: refers to a missing file: x.png" in result.stderr
