"""`syndicator build` while a builder runs: the running serve (or build --watch) reloads, the command prints it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from support.factories import post_text
from syndicator.service.build import ReloadError
from syndicator.service.handoff import SOCKET_FILE
from syndicator.service.handoff import Listener
from syndicator.service.handoff import ask


def site(folder: Path) -> Path:
    posts = folder / "posts"
    posts.mkdir()
    for i in range(3):
        (posts / f"p{i}.md").write_text(post_text(title=f"Post {i}", categories="[News]"))
    return posts / "p0.md"


def test_build_while_serve_runs_is_published_by_serve_before_it_returns(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """The edit is in the served feed and in feeds/ when `build` returns 0, printed as a build prints."""
    post = site(tmp_path)
    server = start_server(tmp_path)
    post.write_text(post_text(title="Post 0, corrected", categories="[News]"))
    built = run_cli("build", "--strict")
    assert built.returncode == 0, built.stderr
    assert "handed over to the running builder pid=" in built.stderr, built.stderr
    assert built.stdout.startswith("built ") and "(3 posts, 1 categories" in built.stdout, built.stdout
    served = feedparser.parse(server.get("/feeds/category/news.atom").content)
    assert "Post 0, corrected" in [entry.title for entry in served.entries]
    on_disk = feedparser.parse((tmp_path / "feeds" / "category" / "news.atom").read_bytes())
    assert "Post 0, corrected" in [entry.title for entry in on_disk.entries]


def test_state_dir_and_feeds_removed_under_serve_are_taken_again(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """`git clean -fdx` with state_dir and feeds/ inside the repository (both ignored) under a running serve took
    its lock files and its socket: a `build` then ran beside it as a second builder. Its next reload makes and
    locks them again and listens again, so the next `build` hands over to it, and the site is as it was."""
    post = site(tmp_path)
    server = start_server(tmp_path)
    shutil.rmtree(tmp_path / ".syndicator")
    shutil.rmtree(tmp_path / "feeds")
    post.write_text(post_text(title="Post 0, after the clean", categories="[News]"))  # the watcher's reload

    def reloaded() -> bool:
        titles = [entry.title for entry in feedparser.parse(server.get("/feeds/all.atom").content).entries]
        return "Post 0, after the clean" in titles and (tmp_path / ".syndicator" / SOCKET_FILE).exists()

    server.wait_until(reloaded, what="the reload after the clean")
    post.write_text(post_text(title="Post 0, built", categories="[News]"))
    built = run_cli("build")
    assert built.returncode == 0 and "handed over to the running builder pid=" in built.stderr, built.stderr
    on_disk = feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes())
    assert "Post 0, built" in [entry.title for entry in on_disk.entries]


# Run as `syndicator build` is, then list the modules it imported and say how many objects it froze for the
# interpreter's end (on stderr, after the command's output).
_IMPORTED = """
import gc
import sys
from syndicator.cli import main
sys.argv = ["syndicator", "build"]
try:
    main()
finally:
    print(gc.get_freeze_count(), " ".join(sorted(sys.modules)), file=sys.stderr)
"""


def test_a_handed_over_build_imports_none_of_the_builder(start_server: Callable[..., Any], tmp_path: Path) -> None:
    """The command that hands over loads neither the builder, the model nor output_dir's claim: it only asks
    (nor the logging handlers a progress bar holds logs in). What it made is frozen before the interpreter's end
    collects everything it finds (13 ms of the command's 0.21 s at 10,000 posts). A report with problems is read
    back without the model either (importing it cost 14 ms)."""
    site(tmp_path)
    start_server(tmp_path)
    (tmp_path / "posts" / "broken.md").write_text("---\ntitle: Broken\ndate: 2025-13-45\n---\nBody.\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("built "), done.stderr
    assert "posts/broken.md:3:" in done.stderr, done.stderr
    frozen, *modules = done.stderr.splitlines()[-1].split()
    imported = set(modules)
    assert "syndicator.service.handoff" in imported
    assert not imported & {"syndicator.service.build", "syndicator.model", "syndicator.store.claim"}, imported
    assert "logging.handlers" not in imported
    assert int(frozen) > 10_000


def test_a_handed_over_build_reports_problems_and_strict_fails(
    start_server: Callable[..., Any], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """A post that cannot be published: its file and line on stderr, exit 1 with --strict, 0 without."""
    site(tmp_path)
    start_server(tmp_path)
    broken = tmp_path / "posts" / "broken.md"
    broken.write_text("---\ntitle: Broken\ndate: 2025-13-45\n---\nBody.\n")
    strict = run_cli("build", "--strict")
    assert strict.returncode == 1
    assert "posts/broken.md:3:" in strict.stderr, strict.stderr
    assert run_cli("build").returncode == 0


def start_watching(folder: Path) -> subprocess.Popen[bytes]:
    """`build --watch` in a session of its own, once its socket is there."""
    watching = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "build", "--watch"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (folder / ".syndicator" / SOCKET_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return watching


def test_build_while_build_watch_runs_is_written_by_it(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """`build --watch` answers too: feeds/ has the edit when `build` returns."""
    post = site(tmp_path)
    assert run_cli("build").returncode == 0
    watching = start_watching(tmp_path)
    try:
        post.write_text(post_text(title="Watched and corrected", categories="[News]"))
        built = run_cli("build")
        assert built.returncode == 0, built.stderr
        assert "Watched and corrected" in (tmp_path / "feeds" / "all.atom").read_text()
    finally:
        watching.terminate()
        watching.wait(30)


def test_a_builder_that_dies_before_answering_leaves_the_build_to_the_command(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """`build --watch` killed (SIGKILL) while a handed-over build waits for it: the kernel lets go of its locks, and
    the command builds the edit itself rather than refusing in the name of the dead builder."""
    post = site(tmp_path)
    assert run_cli("build").returncode == 0
    watching = start_watching(tmp_path)
    building: subprocess.Popen[str] | None = None
    try:
        os.killpg(watching.pid, signal.SIGSTOP)  # it takes the request, and answers nothing
        post.write_text(post_text(title="Built by the command", categories="[News]"))
        command = [sys.executable, "-m", "syndicator", "build"]
        building = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert building.stderr is not None
        told = building.stderr.readline()  # said once the build has waited NOTICE_AFTER for the builder's answer
        assert f"the running builder (pid {watching.pid}) is reloading" in told, told
        os.killpg(watching.pid, signal.SIGKILL)
        stdout, stderr = building.communicate(timeout=60)
        assert building.returncode == 0, told + stderr
        assert stdout.startswith("built "), stdout
        assert "Built by the command" in (tmp_path / "feeds" / "all.atom").read_text()
    finally:
        if building is not None and building.poll() is None:
            building.kill()
            building.wait()
        if watching.poll() is None:
            os.killpg(watching.pid, signal.SIGKILL)
            watching.wait()


def test_a_one_off_build_holding_the_lock_still_refuses(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Nobody listens (a socket file a stopped serve left): the build refuses as before, naming the lock."""
    from syndicator.config import Settings
    from syndicator.store.lock import BuilderLock

    site(tmp_path)
    settings = Settings(posts_dir=tmp_path / "posts", output_dir=tmp_path / "feeds", state_dir=tmp_path / ".syndicator")
    settings.state_dir.mkdir()
    left = socket.socket(socket.AF_UNIX)
    left.bind(str(settings.state_dir / SOCKET_FILE))
    left.close()  # the file stays, nobody listens
    with BuilderLock(settings):
        result = run_cli("build")
    assert result.returncode == 1
    assert f"another syndicator (pid {os.getpid()}) is building" in result.stderr


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A state_dir another user can reach (tmp_path's parents are the test user's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="handoff-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def answered_as_nobody(folder: Path) -> bool:
    """Whether ``ask`` gets an answer from a forked copy of this process running as the user nobody."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            os._exit(0 if ask(folder) is None else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) in (0, 1), status
    return os.WEXITSTATUS(status) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="asking as another user needs root")
def test_no_other_user_can_ask_for_a_reload(open_folder: Path) -> None:
    """The socket is its owner's (0600), and a connection from another user id is dropped unanswered."""
    reloads: list[int] = []

    def reload() -> ReloadError:
        reloads.append(1)
        return ReloadError("not here", RuntimeError())

    listener = Listener(open_folder, reload)
    listener.start()
    try:
        path = open_folder / SOCKET_FILE
        assert path.stat().st_mode & 0o777 == 0o600
        assert ask(open_folder) is not None and reloads == [1]  # the owner is answered
        assert not answered_as_nobody(open_folder)
        path.chmod(0o666)  # past the file's mode: the user id is checked
        assert not answered_as_nobody(open_folder)
        assert reloads == [1]
    finally:
        listener.stop()
    assert not (open_folder / SOCKET_FILE).exists()


def test_a_build_stopped_while_waiting_leaves_the_reload_to_finish(tmp_path: Path) -> None:
    """Ctrl-C during a long reload: the command stops waiting; the running builder finishes and serves on."""
    started, release = threading.Event(), threading.Event()

    def reload() -> ReloadError:
        started.set()
        release.wait(10)
        return ReloadError("slow", RuntimeError())

    listener = Listener(tmp_path, reload)
    listener.start()
    try:
        assert ask(tmp_path, stopping=started.is_set) is None
        release.set()
        assert ask(tmp_path) is not None  # the listener answers the next one
    finally:
        release.set()
        listener.stop()


def test_a_long_reload_is_announced_once_while_the_build_waits(tmp_path: Path) -> None:
    """A reload that outlasts the notice (a server's first load): the build is told once whose reload it waits for."""
    release = threading.Event()
    told: list[int] = []

    def reload() -> ReloadError:
        release.wait(10)
        return ReloadError("done", RuntimeError())

    listener = Listener(tmp_path, reload)
    listener.start()
    try:

        def waiting(pid: int) -> None:
            told.append(pid)
            release.set()

        answer = ask(tmp_path, waiting=waiting, notice_after=0)
        assert answer is not None and answer.error == "done"
        assert told == [os.getpid()]  # the listener runs in this process
    finally:
        release.set()
        listener.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="a service user and root are needed")
def test_root_asks_the_service_users_builder(open_folder: Path) -> None:
    """`sudo syndicator build` (root) is answered by a builder running as the user state_dir belongs to."""
    os.chown(open_folder, 65534, 65534)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the service, as the user nobody
        try:
            os.setgid(65534)
            os.setuid(65534)
            listener = Listener(open_folder, lambda: ReloadError("as nobody", RuntimeError()))
            listener.start()
            os.write(write, b"1")
            time.sleep(10)
        finally:
            os._exit(0)
    try:
        os.read(read, 1)
        answer = ask(open_folder)
        assert answer is not None and answer.pid == child and answer.error == "as nobody"
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
