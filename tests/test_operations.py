"""Operating safely (SPEC): no mistake of an operator reaches a subscriber, and serve answers from its first second."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest
import requests

from conftest import NOW
from conftest import free_port
from conftest import post_text
from feedcheck import check_atom
from syndicator.config import Settings
from syndicator.core.parse import parse_post
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.output import FilesOutput
from syndicator.store.state import BuilderLock


def syndicator(cwd: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a folder; its exit code and output."""
    command = [sys.executable, "-m", "syndicator", *args]
    full_env = {**os.environ, **env}
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)


def site(tmp_path: Path, posts: int = 3) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    for i in range(posts):
        (folder / f"p{i}.md").write_text(post_text(title=f"Post {i}", categories="[News]"))
    return folder


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_serve_refuses_an_address_another_program_holds(tmp_path: Path) -> None:
    """A port taken by another program: exit 1 with one line naming the address, not a backtrace."""
    site(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = syndicator(tmp_path, "serve", "--port", str(port), timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[-1]] and f"127.0.0.1:{port}" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_serve_never_shares_the_port(start_server: Callable[..., Any], tmp_path: Path) -> None:
    """A second `serve` on the port of a running one exits 1; every answer still comes from the first."""
    site(tmp_path)
    server = start_server(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    site(other)
    result = syndicator(other, "serve", "--port", str(server.port), timeout=60)
    assert result.returncode == 1 and f"127.0.0.1:{server.port}" in result.stderr
    assert {server.get("/healthz").json()["posts"] for _ in range(12)} == {3}


@pytest.mark.parametrize("command", ["build", "serve"])
def test_a_missing_posts_dir_is_an_error_and_touches_nothing(tmp_path: Path, command: str) -> None:
    """posts_dir = "post" (a typo): exit 1 in one line; the feeds already published stay as they were."""
    site(tmp_path)
    assert syndicator(tmp_path, "build").returncode == 0
    before = tree(tmp_path / "feeds")
    (tmp_path / "syndicator.toml").write_text('posts_dir = "post"\n')
    result = syndicator(tmp_path, command, "--port", str(free_port())) if command == "serve" else None
    result = result or syndicator(tmp_path, command, "--strict")
    assert result.returncode == 1
    assert "posts_dir" in result.stderr and "post" in result.stderr and "Traceback" not in result.stderr
    assert tree(tmp_path / "feeds") == before


def test_an_emptied_posts_dir_keeps_the_published_feeds(tmp_path: Path) -> None:
    """No post file where posts were published (an unmounted share): build exits 1 and changes nothing."""
    posts = site(tmp_path)
    assert syndicator(tmp_path, "build").returncode == 0
    before = tree(tmp_path / "feeds")
    for file in posts.iterdir():
        file.unlink()
    result = syndicator(tmp_path, "build")
    assert result.returncode == 1 and "has no post file" in result.stderr
    assert tree(tmp_path / "feeds") == before
    allowed = syndicator(tmp_path, "build", "--allow-empty")
    assert allowed.returncode == 0 and "0 posts" in allowed.stdout


def test_a_running_server_keeps_its_feeds_when_the_posts_vanish(
    start_server: Callable[..., Any], tmp_path: Path
) -> None:
    """The share goes away under a running server: /healthz says degraded, subscribers still get every post."""
    posts = site(tmp_path)
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    feed = server.get("/feeds/all.atom").content
    for file in posts.iterdir():
        file.unlink()
    server.wait_until(lambda: server.get("/healthz").json()["status"] == "degraded", what="degraded")
    assert server.get("/feeds/all.atom").content == feed
    assert len(feedparser.parse(feed).entries) == 3


def test_one_builder_per_state_dir(tmp_path: Path) -> None:
    """A second builder on the same state_dir refuses, naming the holder; a stale lock file is taken over."""
    site(tmp_path)
    settings = Settings(state_dir=tmp_path / ".syndicator")
    with BuilderLock(settings):
        result = syndicator(tmp_path, "build")
        assert result.returncode == 1
        assert f"pid {os.getpid()}" in result.stderr and "state_dir" in result.stderr
        assert not (tmp_path / "feeds").exists()
    (tmp_path / ".syndicator" / "builder.lock").write_text("999999\n")  # left by a builder that died
    assert syndicator(tmp_path, "build").returncode == 0


def test_serve_answers_from_the_first_moment(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Before the first load, the feeds an earlier run wrote are served (with their ETags); others 503."""
    write_post("a.md", title="A", categories="[One]")
    settings = make_settings()
    Builder(settings, FilesOutput()).reload(NOW)
    written = (settings.output_dir / "category/one.atom").read_bytes()
    starting = Builder(settings)
    starting.serve_stored(NOW)
    client = create_app(settings, starting).test_client()
    assert client.get("/healthz").get_json()["status"] == "starting"
    feed = client.get("/feeds/category/one.atom")
    assert feed.status_code == 200 and feed.data == written and feed.headers["ETag"]
    assert client.get("/feeds/category/one.atom", headers={"If-None-Match": feed.headers["ETag"]}).status_code == 304
    # The root's files are made by the first load: not yet there is not "none" (a 404 robots.txt allows everything).
    for path in ["/feeds/category/two.atom", "/", "/posts/a/", "/sitemap.xml", "/robots.txt", "/favicon.ico"]:
        answer = client.get(path)
        assert answer.status_code == 503 and answer.headers["Retry-After"], path
    starting.reload(NOW)
    for path in ["/sitemap.xml", "/robots.txt", "/favicon.ico"]:
        assert client.get(path).status_code == 200, path
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/feeds/category/one.atom").headers["ETag"] == feed.headers["ETag"]


def test_a_renamed_post_file_keeps_its_id_and_its_old_url(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Renaming a file (its slug comes from the name) keeps the entry id; the old URL answers 301."""
    old = write_post("2025-06-01-first-name.md", title="Same title")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    published = builder.snapshot.catalog.posts[0].id
    old.rename(old.with_name("2025-06-01-better-name.md"))
    builder.reload(NOW)
    assert [(p.slug, p.id) for p in builder.snapshot.catalog.posts] == [("better-name", published)]
    client = create_app(settings, builder).test_client()
    moved = client.get("/posts/first-name/")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/posts/better-name/")
    again = Builder(settings)  # a new process reads the same from the ledger
    again.reload(NOW)
    assert again.snapshot is not None and again.snapshot.catalog.posts[0].id == published


def test_serve_on_another_port_links_to_it(tmp_path: Path) -> None:
    """`serve --port N` without site_url: every link in the feeds names port N."""
    site(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=5).json()["status"] == "ok":
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        feed = requests.get(url + "/feeds/all.atom", timeout=5).text
    finally:
        process.terminate()
        process.wait(30)
    assert f"{url}/posts/p0/" in feed and ":8000" not in feed


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "---\ntitle: A\ndate: 2025-01-01\ncategory: Politics\n---\n",
            4,
            "'category' is ignored (did you mean 'categories'?)",
        ),
        ('---\ntitle: "Unclosed\ndate: 2025-01-01\ncategories: [A]\n---\n', 2, "quoted value that starts on this line"),
        ("---\ntitle: A\ndate: 2025-01-01\n\nBody, but the front matter never closes.\n", 1, "never closed"),
        (
            "---\ntitle: A\ndate: 2025-01-01\nauthor: {nom: X}\n---\n",
            4,
            "author has no name (unknown author field 'nom'",
        ),
    ],
)
def test_messages_say_what_is_really_wrong(settings: Settings, text: str, line: int, message: str) -> None:
    """Unknown keys are warnings with the likely key; YAML errors name the line where the problem starts."""
    result = parse_post(text, "posts/p.md", settings)
    problems = list(getattr(result, "warnings", ())) or [result]
    assert [(p.line, message in p.message) for p in problems] == [(line, True)], problems


def test_an_unchanged_reload_logs_at_debug(
    builder: Builder, write_post: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A reload that changed nothing says so at DEBUG only: the log is not a line a minute."""
    write_post("a.md", title="A")
    with caplog.at_level("INFO", logger="syndicator"):
        builder.reload(NOW)
        builder.reload(NOW)
    assert [r.getMessage().split()[0] for r in caplog.records if r.name == "syndicator.service.build"] == ["reloaded"]


def _wait_for_a_child(pid: int) -> bool:
    """Wait until a process has a child (its forked copy); False if it ends first."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    while True:
        try:
            if children.read_text().split():
                return True
        except OSError:
            return False
        time.sleep(0.005)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the build's forked copy")
@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_build_stopped_by_a_signal_exits_in_one_line(tmp_path: Path, sent: int, code: int) -> None:
    """Ctrl-C or SIGTERM in the middle of a (forking) build: exit 130 / 143, one line, no file half-written."""
    site(tmp_path, posts=4000)
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "build"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the whole group gets the signal, as from a terminal
    )
    assert _wait_for_a_child(process.pid), "the build never forked (it reads half of 4,000 posts in a copy)"
    os.killpg(process.pid, sent)  # mid-build: while the copy reads its half
    _out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "Traceback" not in err and "ForkProcess" not in err
    assert err.strip().splitlines()[-1].startswith(("interrupted", "terminated"))
    for feed in (tmp_path / "feeds").rglob("*.atom") if (tmp_path / "feeds").exists() else []:
        check_atom(feed.read_bytes())
    assert syndicator(tmp_path, "build").returncode == 0  # and the next build finishes the work
    assert json.loads((tmp_path / "feeds/all.json").read_bytes())["items"]
