"""Killing a build at any moment leaves every feed file complete; the next run repairs the rest."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from support.feedcheck import check_atom
from support.feedcheck import check_json
from support.feedcheck import check_rss
from support.server import Server
from syndicator.config import load_settings
from syndicator.core.ledgerfile import loads
from syndicator.store.claim import CLAIM_FILE
from syndicator.store.lock import OUTPUT_LOCK_FILE
from syndicator.store.state import LEDGER_FILE
from syndicator.store.state import LEDGER_JOURNAL_FILE
from syndicator.store.state import read_ledger

CHECKERS = {".atom": check_atom, ".rss": check_rss, ".json": check_json}


def write_corpus(posts: Path, round_: int) -> None:
    """300 posts in 40 categories; each round retitles them so every feed changes."""
    posts.mkdir(exist_ok=True)
    for i in range(300):
        categories = ", ".join(f"Topic {c}" for c in {i % 40, (i * 7) % 40})
        (posts / f"2024-01-{1 + i % 28:02d}-post-{i}.md").write_text(
            f"---\ntitle: Round {round_} post {i}\ndate: 2024-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z\n"
            f"categories: [{categories}]\n---\n" + ("Some words here. " * 60) + "\n\nContinue reading\n\nMore.\n"
        )


def build(cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicator", "build"], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_for_first_write(feeds: Path, since: float, process: subprocess.Popen[bytes]) -> None:
    """Return as soon as the build starts replacing files in feeds/ (or has ended).

    Every write makes a temp file beside its target and renames it over the target: both change the
    folder's mtime. So the few folders are watched, not every file (a scan of every file each
    millisecond took a core from the build it waits for).
    """
    folders = [feeds, *(path for path in feeds.rglob("*") if path.is_dir())]
    while process.poll() is None:
        for folder in folders:
            try:
                if folder.stat().st_mtime > since:
                    return
            except FileNotFoundError:
                return
        time.sleep(0.001)


def assert_every_feed_complete(feeds: Path, valid: set[bytes]) -> int:
    """Check every feed file in feeds/; the digests of the bodies found valid are kept in ``valid`` and the
    same bytes are not parsed again (a check is a function of the bytes alone)."""
    count = 0
    for file in feeds.rglob("*"):
        if file.is_file() and file.suffix in CHECKERS:
            body = file.read_bytes()
            digest = hashlib.sha256(body).digest()
            if digest not in valid:
                CHECKERS[file.suffix](body)
                valid.add(digest)
            count += 1
    return count


def published(feeds: Path) -> dict[Path, bytes]:
    """Every file of output_dir by its path, but the claim (which names the state_dir that built it)."""
    return {p.relative_to(feeds): p.read_bytes() for p in feeds.rglob("*") if p.is_file() and p.name != CLAIM_FILE}


def differences(repaired: dict[Path, bytes], clean: dict[Path, bytes]) -> str:
    """The paths that differ and the first lines that differ in the first text file ("" when none): a failure
    shows this, not two trees' bytes."""
    paths = sorted(path for path in repaired.keys() | clean.keys() if repaired.get(path) != clean.get(path))
    if not paths:
        return ""
    said = [f"{len(paths)} files differ: {', '.join(map(str, paths[:20]))}"]
    for path in paths:
        if path in repaired and path in clean and path.suffix != ".gz":
            lines = difflib.unified_diff(
                repaired[path].decode("utf-8", "replace").splitlines(),
                clean[path].decode("utf-8", "replace").splitlines(),
                "repaired",
                "clean",
                n=0,
                lineterm="",
            )
            said += [str(path), *itertools.islice(lines, 30)]
            break
    return "\n".join(said)


@pytest.mark.slow
def test_sigkill_during_build_never_leaves_a_partial_feed(tmp_path: Path) -> None:
    """SIGKILL at random moments of rebuilding: every feed on disk stays valid; a rerun gives a clean tree."""
    site = tmp_path / "site"
    site.mkdir()
    write_corpus(site / "posts", 0)
    assert build(site).wait(120) == 0
    rng = random.Random(5005)  # noqa: S311 - kill timings, not secrets
    valid: set[bytes] = set()
    for round_ in range(1, 9):
        write_corpus(site / "posts", round_)
        started = time.time()
        process = build(site)
        wait_for_first_write(site / "feeds", started, process)
        time.sleep(rng.uniform(0, 0.05))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert assert_every_feed_complete(site / "feeds", valid) > 0
    assert build(site).wait(120) == 0
    records = {site / "feeds" / CLAIM_FILE, site / "feeds" / OUTPUT_LOCK_FILE}  # output_dir's own, kept on purpose
    assert set((site / "feeds").rglob(".*")) == records, "temp files are cleaned up"

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    os.symlink(site / "posts", fresh / "posts")
    (fresh / ".syndicator").mkdir()
    for history in ("ledger.json", "feeds-known.json"):  # what was published (the edits' dates) is history
        shutil.copy(site / ".syndicator" / history, fresh / ".syndicator" / history)
    assert build(fresh).wait(120) == 0
    repaired, clean = published(site / "feeds"), published(fresh / "feeds")
    differ = differences(repaired, clean)
    assert not differ, differ


@pytest.mark.slow
def test_sigkill_of_serve_after_a_handed_over_build_loses_no_edit(tmp_path: Path) -> None:
    """A few posts edited, ``syndicator build`` handed over to serve, serve's builder killed as the build prints its
    answer (often before it wrote the ledger file whole: the journal is then all there is) or moments later: the
    ledger file and the journal it follows hold every edit answered for; the next build keeps every id and leaves
    no journal."""
    site = tmp_path / "site"
    site.mkdir()
    write_corpus(site / "posts", 0)
    env = {**os.environ, "SYNDICATOR_SITE_URL": "https://example.org"}
    command = [sys.executable, "-m", "syndicator", "build"]
    assert subprocess.run(command, cwd=site, env=env, capture_output=True, check=False).returncode == 0
    settings = load_settings(None, {"SYNDICATOR_STATE_DIR": str(site / ".syndicator")})
    ids = {source: record.id for source, record in read_ledger(settings)[0].items()}
    rng = random.Random(6721)  # noqa: S311 - which posts and when to kill, not secrets
    titles: dict[str, str] = {}
    for round_ in range(1, 6):
        server = Server(site, {"SYNDICATOR_SITE_URL": "https://example.org"})
        for i in rng.sample(range(300), 5):
            post = next((site / "posts").glob(f"*-post-{i}.md"))
            text = post.read_text()
            title = text.split("\n")[1].removeprefix("title: ")
            titles[post.name] = f"Edit {round_} of post {i}"
            post.write_text(text.replace(f"title: {title}\n", f"title: {titles[post.name]}\n", 1))
        workers = children(server.process.pid)  # the builder: killed as soon as the build prints its answer
        with subprocess.Popen(command, cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as handed:
            assert handed.stdout is not None and handed.stdout.readline().startswith(b"built ")
            time.sleep(rng.choice([0, 0, rng.uniform(0, 0.01)]))
            for pid in [*workers, server.process.pid]:
                os.kill(pid, signal.SIGKILL)
            _out, said = handed.communicate(timeout=30)
        assert handed.returncode == 0 and b"handed over" in said
        server.process.wait(30)
        server.stop()
        ledger = read_ledger(settings)[0]
        assert {source: ledger[source].title for source in titles} == titles
    assert subprocess.run(command, cwd=site, env=env, capture_output=True, check=False).returncode == 0
    assert not (site / ".syndicator" / LEDGER_JOURNAL_FILE).exists()
    ledger = loads((site / ".syndicator" / LEDGER_FILE).read_bytes())
    assert {source: record.id for source, record in ledger.items()} == ids
    assert {source: ledger[source].title for source in titles} == titles


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (serve's worker), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = stat_fields(stat)
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stat_fields(stat: Path) -> list[str]:
    """The fields of a /proc/<pid>/stat file after the command's name (its state, its parent, …); none when the
    process is gone."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


@pytest.mark.slow
def test_a_killed_build_leaves_no_forked_copy_holding_its_locks(tmp_path: Path) -> None:
    """A build with many feeds to write writes half of them in a forked copy, which inherits the build's locks.
    SIGKILL of the build ends the copy too (left running, it held the locks for ever, blocked on the pipe to its
    dead parent, and every later build refused, naming the dead one); the next build runs and repairs the rest."""
    posts = tmp_path / "posts"
    posts.mkdir()
    for i in range(400):  # 800 categories of one post each: 800 feeds to write, past the writer's split
        (posts / f"2024-02-{1 + i % 28:02d}-note-{i}.md").write_text(
            f"---\ntitle: Note {i}\ndate: 2024-02-{1 + i % 28:02d}T10:00:00Z\n"
            f"categories: [Place {i}, Theme {i}]\n---\nA few words.\n"
        )
    process = build(tmp_path)
    copies: list[int] = []
    while not copies and process.poll() is None:  # killed while the feeds are written, half of them by a copy
        copies = children(process.pid) if (tmp_path / "feeds" / "category").is_dir() else []
    assert copies, "the build forked no copy to write feeds: nothing to check"
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert not outliving(copies), "a forked copy outlived its build"
    command = [sys.executable, "-m", "syndicator", "build"]
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False)
    assert again.returncode == 0, again.stderr.decode()
    assert assert_every_feed_complete(tmp_path / "feeds", set()) > 800


def outliving(pids: Collection[int]) -> list[int]:
    """Those of these processes still running after up to 30 s of waiting for them to end (then killed, so as not
    to outlive the test either)."""
    deadline = time.monotonic() + 30
    while any(map(running, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in pids if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def running(pid: int) -> bool:
    """Whether a process is there and not a zombie waiting to be reaped."""
    fields = stat_fields(Path(f"/proc/{pid}/stat"))
    return bool(fields) and fields[0] != "Z"


@pytest.mark.slow
def test_a_killed_serve_leaves_no_worker_behind(tmp_path: Path) -> None:
    """SIGKILL of serve (granian's master process) ends its worker too. Left running, the worker kept serving and
    building with the locks and the port, beneath no server: the serve started next could not listen there."""
    write_corpus(tmp_path / "posts", 0)
    server = Server(tmp_path, {})
    try:
        workers = children(server.process.pid)
        assert workers, "serve has no worker: nothing to check"
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(30)
        assert not outliving(workers), "serve's worker outlived it"
    finally:
        server.stop()
    again = Server(tmp_path, {}, port=server.port)  # waits for its first load: the port and the locks are free
    again.stop()
