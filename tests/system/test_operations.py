"""Operating safely (SPEC): no mistake of an operator reaches a subscriber, and serve answers from its first second."""

from __future__ import annotations

import gzip
import json
import os
import shutil
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

from support.factories import post_text
from support.feedcheck import check_atom
from support.outputs import published_tree
from support.server import free_port
from support.subscriber import Subscriber
from syndicator.config import Settings
from syndicator.store.claim import CLAIM_FILE
from syndicator.store.lock import BuilderLock
from syndicator.store.state import POSTS_CACHE_FILE


def site(tmp_path: Path, posts: int = 3) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    for i in range(posts):
        (folder / f"p{i}.md").write_text(post_text(title=f"Post {i}", categories="[News]"))
    return folder


def test_serve_refuses_an_address_another_program_holds(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A port taken by another program: exit 1 with one line naming the address, not a backtrace."""
    site(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("serve", "--port", str(port), timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[-1]] and f"127.0.0.1:{port}" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_serve_never_shares_the_port(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """A second `serve` on the port of a running one exits 1; every answer still comes from the first."""
    site(tmp_path)
    server = start_server(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    site(other)
    result = run_cli("serve", "--port", str(server.port), timeout=60, cwd=other)
    assert result.returncode == 1 and f"127.0.0.1:{server.port}" in result.stderr
    assert {server.get("/healthz").json()["posts"] for _ in range(12)} == {3}


@pytest.mark.parametrize("command", ["build", "serve"])
def test_a_missing_posts_dir_is_an_error_and_touches_nothing(
    tmp_path: Path, command: str, run_cli: Callable[..., Any]
) -> None:
    """posts_dir = "post" (a typo): exit 1 in one line; the feeds already published stay as they were."""
    site(tmp_path)
    assert run_cli("build").returncode == 0
    before = published_tree(tmp_path / "feeds")
    (tmp_path / "syndicator.toml").write_text('posts_dir = "post"\n')
    result = run_cli(command, "--port", str(free_port())) if command == "serve" else None
    result = result or run_cli(command, "--strict")
    assert result.returncode == 1
    assert "posts_dir" in result.stderr and "post" in result.stderr and "Traceback" not in result.stderr
    assert published_tree(tmp_path / "feeds") == before


def test_an_emptied_posts_dir_keeps_the_published_feeds(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """No post file where posts were published (an unmounted share): build exits 1 and changes nothing, and check
    says so as build does (it said "0 posts, no problems")."""
    posts = site(tmp_path)
    assert run_cli("build").returncode == 0
    before = published_tree(tmp_path / "feeds")
    for file in posts.iterdir():
        file.unlink()
    result = run_cli("build")
    assert result.returncode == 1 and "has no post file" in result.stderr
    checked = run_cli("check")
    assert checked.returncode == 1 and "has no post file" in checked.stderr, checked.stderr
    assert published_tree(tmp_path / "feeds") == before
    allowed = run_cli("build", "--allow-empty")
    assert allowed.returncode == 0 and "0 posts" in allowed.stdout


def test_a_running_server_keeps_its_feeds_when_the_posts_vanish(
    start_server: Callable[..., Any], tmp_path: Path
) -> None:
    """The share goes away under a running server: /healthz says degraded and lists the problem (SPEC: degraded
    while any problem is listed), subscribers still get every post."""
    posts = site(tmp_path)
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    feed = server.get("/feeds/all.atom").content
    for file in posts.iterdir():
        file.unlink()
    server.wait_until(lambda: server.get("/healthz").json()["status"] == "degraded", what="degraded")
    health = server.get("/healthz").json()
    assert [problem["message"] for problem in health["problems"]] == [health["error"]], health
    assert server.get("/feeds/all.atom").content == feed
    assert len(feedparser.parse(feed).entries) == 3


def test_output_dir_removed_under_a_running_server_stays_its_own(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """``rm -rf feeds`` under a running serve: its next reload locks output_dir and writes the feeds and the claim
    naming its state_dir again, so a build of another state_dir is refused (it took the folder, and serve's restart
    then failed); a folder another state_dir took meanwhile is not written by serve, which says so."""
    site(tmp_path)
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    shutil.rmtree(tmp_path / "feeds")
    claim = tmp_path / "feeds" / CLAIM_FILE
    server.wait_until(claim.exists, what="the claim written again")
    other = run_cli("build", env={"SYNDICATOR_STATE_DIR": str(tmp_path / "other")})
    assert other.returncode == 1 and "another syndicator is building with output_dir" in other.stderr
    shutil.rmtree(tmp_path / "feeds")
    assert run_cli("build", env={"SYNDICATOR_STATE_DIR": str(tmp_path / "other")}).returncode == 0
    theirs = published_tree(tmp_path / "feeds")
    server.wait_until(lambda: "reload refused" in server.log.read_text(), what="serve refusing the folder")
    assert published_tree(tmp_path / "feeds") == theirs and "other" in claim.read_text()


def test_state_dir_removed_under_serve_keeps_its_subscribers_and_partners(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """``rm -rf .syndicator`` (or ``git clean -fdx``) under a running serve: its databases are written back from
    the connections it holds, so an edit still reaches the WebSub subscriber, and after a restart the subscription
    and the partner's token are still there. Before, SQLite refused every write to the files gone (the push was
    never queued) and the restart found no subscriber and no partner."""
    posts = site(tmp_path)
    added = run_cli("partners", "add", "acme", timeout=60)
    assert added.returncode == 0, added.stderr
    partner = {"Authorization": f"Bearer {added.stdout.strip()}"}
    env = {"SYNDICATOR_RELOAD_INTERVAL": "1", "SYNDICATOR_WEBSUB_ALLOW_PRIVATE": "true"}
    server = start_server(tmp_path, **env)
    subscriber = Subscriber()
    try:
        form = {"hub.mode": "subscribe", "hub.topic": server.url + "/feeds/all.atom", "hub.callback": subscriber.url}
        assert requests.post(server.url + "/websub", data=form, timeout=10).status_code == 202
        server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 1, what="verified")
        shutil.rmtree(tmp_path / ".syndicator")
        assert server.get("/partners/feeds/all.atom", headers=partner).status_code == 200
        (posts / "p0.md").write_text(post_text(title="Post 0, after the clean", categories="[News]"))
        pushed = subscriber.wait_for(lambda: any(b"after the clean" in p.body for p in subscriber.posts()), 20)
        assert pushed, server.log.read_text()
    finally:
        subscriber.close()
    assert "Traceback" not in server.log.read_text()
    server.stop()
    again = start_server(tmp_path, **env)
    assert again.get("/healthz").json()["websub"]["subscriptions"] == 1
    assert again.get("/partners/feeds/all.atom", headers=partner).status_code == 200


def test_state_dir_removed_under_serve_keeps_the_feeds_that_went(
    start_server: Callable[..., Any], tmp_path: Path
) -> None:
    """A category whose last post went answers 410 Gone: after ``rm -rf .syndicator`` under serve, its next reload
    writes back what it knows of the feeds (changed or not), so after a restart the feed still answers 410, where
    it answered 404 (and the folders builds made in output_dir are known again, so a later build may remove them)."""
    posts = site(tmp_path)
    (posts / "old.md").write_text(post_text(title="The last of its kind", categories="[Obsolete]"))
    env = {"SYNDICATOR_RELOAD_INTERVAL": "1"}
    server = start_server(tmp_path, **env)
    assert server.get("/feeds/category/obsolete.atom").status_code == 200
    (posts / "old.md").unlink()
    server.wait_until(lambda: server.get("/feeds/category/obsolete.atom").status_code == 410, what="410")
    shutil.rmtree(tmp_path / ".syndicator")
    (posts / "p0.md").write_text(post_text(title="Post 0, after the clean", categories="[News]"))
    server.wait_until(lambda: b"after the clean" in server.get("/feeds/all.atom").content, what="the reload")
    server.stop()
    again = start_server(tmp_path, **env)
    assert again.get("/feeds/category/obsolete.atom").status_code == 410


def test_an_unchanged_files_gzip_twin_stays_byte_identical(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A build in a new process compresses the root's files again: a twin on disk that holds the same bytes in
    another deflate stream (zlib's here; a run of the compressor may make another) is kept, so a file whose bytes did
    not change stays byte-identical, twin and all (it was rewritten, its ETag changing for every cache)."""
    posts = site(tmp_path)
    assert run_cli("build").returncode == 0
    twin = gzip.compress((tmp_path / "feeds" / "favicon.ico").read_bytes(), mtime=0)
    (tmp_path / "feeds" / "favicon.ico.gz").write_bytes(twin)
    (posts / "p0.md").write_text(post_text(title="Post 0, edited", categories="[News]"))
    built = run_cli("build")
    assert built.returncode == 0 and "1 removed" not in built.stdout
    assert (tmp_path / "feeds" / "favicon.ico.gz").read_bytes() == twin


def test_one_builder_per_state_dir(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A second builder on the same state_dir refuses, naming the holder; a stale lock file is taken over."""
    site(tmp_path)
    settings = Settings(state_dir=tmp_path / ".syndicator")
    with BuilderLock(settings):
        result = run_cli("build")
        assert result.returncode == 1
        assert f"pid {os.getpid()}" in result.stderr and "state_dir" in result.stderr
        assert not (tmp_path / "feeds").exists()
    (tmp_path / ".syndicator" / "builder.lock").write_text("999999\n")  # left by a builder that died
    assert run_cli("build").returncode == 0


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
def test_a_build_stopped_by_a_signal_exits_in_one_line(
    tmp_path: Path, sent: int, code: int, run_cli: Callable[..., Any]
) -> None:
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
    assert run_cli("build").returncode == 0  # and the next build finishes the work
    assert json.loads((tmp_path / "feeds/all.json").read_bytes())["items"]


def test_serve_stopped_during_its_first_load_ends_without_finishing_it(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """SIGTERM while serve's first load runs: the load gives up at its next step (not after writing every feed),
    serve ends without an error, nothing half-loaded is kept as the post cache, and the next run finishes the work.
    """
    site(tmp_path, posts=4000)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        status = None
        while status != "starting" and process.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"]
            except requests.ConnectionError:
                time.sleep(0.01)
        assert status == "starting", log.read_text()
    finally:
        process.terminate()  # the first load of 4,000 posts has only begun
        process.wait(120)
    text = log.read_text()
    assert "reload stopped" in text, text
    assert "reloaded posts=" not in text and "reload failed" not in text and "Traceback" not in text, text
    assert not (tmp_path / ".syndicator" / POSTS_CACHE_FILE).exists()
    for feed in (tmp_path / "feeds").rglob("*.atom") if (tmp_path / "feeds").exists() else []:
        check_atom(feed.read_bytes())
    assert run_cli("build").returncode == 0
    assert len(json.loads((tmp_path / "feeds/all.json").read_bytes())["items"]) == 20
