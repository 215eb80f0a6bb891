"""state_dir damaged: a cache that cannot be read is no cache; a damaged state file is a one-line refusal naming it."""

from __future__ import annotations

import contextlib
import pickle
import resource
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest

from support.commands import run_syndicator
from support.factories import NOW
from support.server import Server
from support.server import free_port
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.http.app import create_app
from syndicator.service.hubstore import HUB_FILE
from syndicator.service.output import FilesOutput
from syndicator.store.audience import AUDIENCE_FILE
from syndicator.store.fediverse import FEDIVERSE_FILE
from syndicator.store.mailstore import MAIL_FILE
from syndicator.store.partners import PARTNERS_FILE

NESTED = b"[" * 200_000 + b"]" * 200_000  # deeper than any JSON reader's recursion


def make_site(tmp_path: Path) -> Path:
    """A site built once: two posts in two categories, an image, every state file written."""
    site = tmp_path / "site"
    posts = site / "posts"
    posts.mkdir(parents=True)
    (posts / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    for name, category in (("a", "One"), ("b", "Two")):
        (posts / f"{name}.md").write_text(
            f"---\ntitle: Post {name}\ndate: 2024-05-04\ncategories: [{category}]\n---\nBody ![x](x.png)\n"
        )
    built = run_syndicator("build", cwd=site)
    assert built.returncode == 0, built.stderr
    return site


def feeds_of(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site / "feeds")): p.read_bytes() for p in (site / "feeds").rglob("*") if p.is_file()}


def pickle_mark(cache: Path) -> bytes:
    """The first record of a post cache file (what it is valid for), as this code wrote it."""
    with cache.open("rb") as handle:
        pickle.load(handle)  # noqa: S301 - the file the build just wrote
        return cache.read_bytes()[: handle.tell()]


CACHE_DAMAGE: dict[str, Callable[[bytes, bytes], bytes]] = {
    "overflow": lambda mark, data: mark + b"\x80\x04\x8e" + (2**63 - 1).to_bytes(8, "little"),  # OverflowError
    "memory": lambda mark, data: mark + b"\x80\x04\x8e" + (2**62).to_bytes(8, "little"),  # MemoryError
    "truncated": lambda mark, data: data[: len(mark) + (len(data) - len(mark)) // 2],
    "garbage": lambda mark, data: mark + b"\x80\x04garbage\xff" * 50,
    "bad mark": lambda mark, data: b"\x80\x04\x8e" + (2**63 - 1).to_bytes(8, "little") + data,
    "stack": lambda mark, data: mark + b"\x80\x04" + b"0" * 10,  # POP on an empty stack
}


@pytest.mark.parametrize("damage", CACHE_DAMAGE)
def test_a_damaged_post_cache_is_no_cache(tmp_path: Path, damage: str, run_cli: Callable[..., Any]) -> None:
    """Any failure to read posts.cache means no cache: one warning, every post parsed, the same feeds."""
    site = make_site(tmp_path)
    before = feeds_of(site)
    cache = site / ".syndicator" / "posts.cache"
    cache.write_bytes(CACHE_DAMAGE[damage](pickle_mark(cache), cache.read_bytes()))
    (site / "posts" / "b.md").touch()  # something changed: the build does not stop at its stamp
    built = run_cli("build", cwd=site)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    warnings = [line for line in built.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "posts.cache" in warnings[0], built.stderr
    assert "parsed=2" in built.stderr
    assert feeds_of(site) == before
    again = run_cli("build", cwd=site)  # the cache was written afresh
    assert again.returncode == 0 and "WARNING" not in again.stderr, again.stderr


@pytest.mark.parametrize("data", [NESTED, b"{", b"\xff\xfe"], ids=["nested", "cut", "binary"])
def test_a_damaged_build_stamp_is_a_full_build(tmp_path: Path, data: bytes, run_cli: Callable[..., Any]) -> None:
    """build.json only lets a build stop early: unreadable, it is one warning and a build of everything."""
    site = make_site(tmp_path)
    before = feeds_of(site)
    (site / ".syndicator" / "build.json").write_bytes(data)
    built = run_cli("build", cwd=site)
    assert built.returncode == 0 and "Traceback" not in built.stderr, built.stderr
    warnings = [line for line in built.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "build.json" in warnings[0], built.stderr
    assert "up to date" not in built.stderr and "(2 posts" in built.stdout
    assert feeds_of(site) == before


STATE_FILES = ("feeds.json", "assets.json", "folders.json", "feeds-known.json")


@pytest.mark.parametrize("name", STATE_FILES)
@pytest.mark.parametrize("data", [NESTED, b'{"all": {"digest": ', b"\x00garbage"], ids=["nested", "cut", "binary"])
def test_a_damaged_state_file_stops_build_with_one_line(
    tmp_path: Path, name: str, data: bytes, run_cli: Callable[..., Any]
) -> None:
    """A state file that cannot be read: `build` exits 1 with one line naming it, and writes nothing."""
    site = make_site(tmp_path)
    (site / "posts" / "a.md").write_text("---\ntitle: Changed\ndate: 2024-05-04\ncategories: [Three]\n---\nNew\n")
    before = feeds_of(site)
    state = site / ".syndicator" / name
    state.write_bytes(data)
    built = run_cli("build", cwd=site)
    assert built.returncode == 1
    assert "Traceback" not in built.stderr
    lines = built.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: state file {state} is damaged"), built.stderr
    assert feeds_of(site) == before
    assert state.read_bytes() == data


DATABASES = ("hub.sqlite3", "partners.sqlite3", "audience.sqlite3")


@pytest.mark.parametrize("name", STATE_FILES + DATABASES)
def test_a_damaged_state_file_stops_serve_at_start(tmp_path: Path, name: str, run_cli: Callable[..., Any]) -> None:
    """`serve` refuses to start on a damaged state file, with one line naming it: no traceback, no worker loop."""
    site = make_site(tmp_path)
    state = site / ".syndicator" / name
    state.write_bytes(NESTED)
    served = run_cli("serve", "--port", str(free_port()), cwd=site, timeout=30)
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert f"state file {state} is damaged" in served.stderr


def test_a_nested_ledger_is_recovered_from_the_feeds(
    tmp_path: Path, start_server: Callable[..., Server], run_cli: Callable[..., Any]
) -> None:
    """A ledger too deep to read is an unreadable ledger: ids come back from output_dir, with one warning."""
    site = make_site(tmp_path)
    before = feeds_of(site)
    ledger = site / ".syndicator" / "ledger.json"
    ledger.write_bytes(NESTED)
    built = run_cli("build", cwd=site)
    assert built.returncode == 0 and "Traceback" not in built.stderr, built.stderr
    assert "ledger unreadable" in built.stderr and "2 published ids recovered" in built.stderr
    assert feeds_of(site) == before
    again = run_cli("build", cwd=site)  # nothing changed: the ledger written back is read, and not reported again
    assert again.returncode == 0 and "up to date" in again.stderr, again.stderr
    assert "ledger" not in again.stderr, again.stderr
    ledger.write_bytes(NESTED)
    server = start_server(site)
    published = server.get("/feeds/all.atom").text
    assert all(f"/posts/{slug}</id>" in published for slug in ("a", "b"))
    log = server.log.read_text()
    assert "ledger unreadable" in log and "Traceback" not in log


@pytest.mark.parametrize(("name", "command"), [("partners.sqlite3", "partners list"), ("audience.sqlite3", "stats")])
def test_a_damaged_database_stops_its_command_with_one_line(
    tmp_path: Path, name: str, command: str, run_cli: Callable[..., Any]
) -> None:
    """`partners` and `stats` on a database that is not one: exit 1, one line naming it."""
    site = make_site(tmp_path)
    state = site / ".syndicator" / name
    state.write_bytes(b"not a database, " * 64)
    ran = run_cli(*command.split(), cwd=site)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [ran.stderr.strip()]
    assert ran.stderr.startswith(f"Error: state file {state} is damaged (file is not a database)"), ran.stderr


EVERY_PART = {
    "SYNDICATOR_SMTP_URL": "smtp://127.0.0.1:9",
    "SYNDICATOR_EMAIL_FROM": "n@example.org",
    "SYNDICATOR_FEDIVERSE": "true",
}
COMMAND_OF = {PARTNERS_FILE: "partners list", AUDIENCE_FILE: "stats", MAIL_FILE: "subscribers --export"}


def damage_a_page(database: Path) -> None:
    """Overwrite the database's second page (a table's first): its header stays valid, the page cannot be read."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        size = int(db.execute("PRAGMA page_size").fetchone()[0])
    data = bytearray(database.read_bytes())
    assert len(data) >= 2 * size, "a table's page to damage"
    data[size : 2 * size] = b"\xff" * size
    database.write_bytes(bytes(data))


def test_a_database_with_a_damaged_page_stops_serve_and_its_command_with_one_line(
    tmp_path: Path, start_server: Callable[..., Server], run_cli: Callable[..., Any]
) -> None:
    """Each SQLite file as serve wrote it, one page damaged: serve and the command reading it exit 1 naming it at
    the start, where a later query would have been a traceback (or a 500 for the request that made it)."""
    site = make_site(tmp_path)
    assert run_cli("partners", "add", "acme", cwd=site).returncode == 0
    server = start_server(site, **EVERY_PART)
    assert server.get("/feeds/all.atom").status_code == 200
    server.stop()
    names = (HUB_FILE, PARTNERS_FILE, AUDIENCE_FILE, MAIL_FILE, FEDIVERSE_FILE)
    for name in names:  # one at a time, each put back after
        state = site / ".syndicator" / name
        whole = state.read_bytes()
        damage_a_page(state)
        commands = [["serve", "--port", str(free_port())], *([COMMAND_OF[name].split()] if name in COMMAND_OF else [])]
        for command in commands:
            ran = run_cli(*command, cwd=site, env=EVERY_PART, timeout=60)
            assert ran.returncode == 1, (name, command, ran.stderr)
            assert "Traceback" not in ran.stderr, ran.stderr
            line = next((line for line in ran.stderr.splitlines() if "is damaged" in line), ran.stderr)
            assert line.startswith(f"Error: state file {state} is damaged (") and "Page 2" in line, line
        state.write_bytes(whole)


def test_a_cache_segment_a_full_disk_refuses_leaves_the_cache_as_it_was(tmp_path: Path) -> None:
    """The disk refuses the post cache's next segment part way (a file size limit, as a full disk): the file is
    left as it was, so a post whose file breaks afterwards keeps its last good version (the cache had been read as
    damaged, every post parsed again and that one withdrawn)."""
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    words = "Words of a post. " * 10
    for n in range(300):  # the cache holds them all: it is far larger than any one feed
        (site / "posts" / f"p{n:02}.md").write_text(f"---\ntitle: Post {n}\ndate: 2024-05-04\n---\n{words}\n")
    run_syndicator("build", cwd=site, check=True)
    cache = site / ".syndicator" / "posts.cache"
    before = cache.read_bytes()
    (site / "posts" / "p00.md").write_text(f"---\ntitle: Post 0\ndate: 2024-05-04\n---\n{words * 20}\n")
    refused = run_syndicator("build", cwd=site, file_size=len(before) + 100)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert cache.read_bytes() == before
    (site / "posts" / "p01.md").write_text("---\ntitle: Post 1\nda")  # cut short as the disk filled
    built = run_syndicator("build", cwd=site)
    assert "cache unreadable" not in built.stderr and "p01.md" in built.stderr, built.stderr
    pages = [site / "feeds" / "all.atom", *(site / "feeds" / "archive").glob("*.atom")]
    assert "Post 1" in {entry.title for page in pages for entry in feedparser.parse(page.read_bytes()).entries}
    assert not [page for page in pages if b"deleted-entry" in page.read_bytes()]  # no tombstone: still published


def test_a_state_dir_that_refuses_a_write_stops_the_build_before_output_dir_shows_it(tmp_path: Path) -> None:
    """state_dir refuses the ledger's write (made read-only by mistake, as a full disk refuses it): the build says so
    in one line and writes nothing to output_dir; once it takes writes again, the edit is published once, and a
    build after it changes nothing (the ledger was not behind output_dir, dating the edit again at each run)."""
    site = make_site(tmp_path)
    state_dir, before = site / ".syndicator", feeds_of(site)
    (site / "posts" / "a.md").write_text("---\ntitle: Post a\ndate: 2024-05-04\ncategories: [One]\n---\nEdited.\n")
    modes = {path: path.stat().st_mode for path in (state_dir, *state_dir.iterdir())}
    for path in modes:
        if path.name != "builder.lock":  # the lock is taken (read) before anything is written
            path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        refused = run_syndicator("build", cwd=site, obeying_modes=True)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    expected = f"Error: cannot write state_dir {state_dir}: Permission denied (nothing was published)"
    assert expected in refused.stderr.splitlines()
    assert feeds_of(site) == before
    run_syndicator("build", cwd=site, check=True)
    edited = feeds_of(site)
    assert edited != before and b"Edited." in edited["category/one.atom"]
    (site / "posts" / "b.md").touch()  # a build that looks again
    run_syndicator("build", cwd=site, check=True)
    assert feeds_of(site) == edited


def test_a_build_that_fails_after_writing_leaves_no_second_names_in_output_dir(tmp_path: Path) -> None:
    """The ledger's journal takes the edit, then state_dir refuses the records of the files written (read-only by
    mistake): the build fails, and the replaced files' second names (kept until a reload's answer) go with it."""
    site = make_site(tmp_path)
    state_dir = site / ".syndicator"
    (site / "posts" / "a.md").write_text("---\ntitle: Post a\ndate: 2024-05-04\ncategories: [One]\n---\nEdited.\n")
    journal = state_dir / "ledger.journal"
    journal.touch()
    modes = {path: path.stat().st_mode for path in (state_dir, *state_dir.iterdir())}
    state_dir.chmod(0o555)  # its files stay writable: the journal is appended to, nothing can be made beside them
    try:
        failed = run_syndicator("build", cwd=site, obeying_modes=True)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert failed.returncode == 1 and f"cannot write state_dir {state_dir}" in failed.stderr, failed.stderr
    assert b"Edited." in (site / "feeds" / "category" / "one.atom").read_bytes()  # written before the refusal
    assert not [p.name for p in (site / "feeds").rglob("*.tmp")]
    run_syndicator("build", cwd=site, check=True)


@pytest.mark.parametrize("command", ["partners add acme", "partners revoke acme"])
def test_a_database_that_refuses_a_write_stops_its_command_with_one_line(
    tmp_path: Path, command: str, run_cli: Callable[..., Any]
) -> None:
    """`partners add` or `revoke` when state_dir takes no write (read-only by mistake, as a full disk): exit 1, one
    line saying what refused it (it was a traceback), and the partners as they were."""
    site = make_site(tmp_path)
    if command.endswith("revoke acme"):
        run_cli("partners", "add", "acme", cwd=site, check=True)
    state_dir = site / ".syndicator"
    modes = {path: path.stat().st_mode for path in (state_dir, *state_dir.iterdir())}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        ran = run_syndicator(*command.split(), cwd=site, obeying_modes=True)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert ran.returncode == 1 and ran.stderr.strip().splitlines() == [ran.stderr.strip()], ran.stderr
    assert ran.stderr.startswith("Error: a database under state_dir refused a write: "), ran.stderr
    listed = run_cli("partners", "list", cwd=site, check=True).stdout
    assert ("acme" in listed) == command.endswith("revoke acme"), listed


def test_healthz_says_what_the_system_refused_and_no_path(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A reload whose write the system refuses (here past a file size limit, as a full disk): the last good feeds
    stay served, /healthz says the system's reason with no path of the server's, and the log names the folder, in
    one line."""
    write_post("a.md", title="A", categories="[One]")
    settings = make_settings()
    builder = Builder(settings, FilesOutput())
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    feed = client.get("/feeds/category/one.atom").data
    write_post("a.md", title="A", categories="[One]", body="Edited. " * 400)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, limits[1]))
    try:
        failed = builder.reload(NOW)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
    assert isinstance(failed, ReloadError)
    (line,) = [r for r in caplog.records if r.getMessage().startswith("reload failed")]
    assert str(settings.output_dir) in line.getMessage() and line.exc_info is None, line.getMessage()
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert health["error"] == "the last reload failed (File too large); the server log has the details"
    assert client.get("/feeds/category/one.atom").data == feed
    builder.reload(NOW)
    assert "error" not in client.get("/healthz").get_json()


def test_serve_publishes_what_it_wrote_when_state_dir_takes_the_journal_but_no_more(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """A nearly full state_dir (here: its files writable, nothing new can be made in it): the ledger's journal
    takes an edit, the records of the files written do not. serve answers what output_dir holds (it kept the old
    feed while nginx served the new one, and wrote the same files again at every reload), /healthz says why, and
    once state_dir takes writes again the error goes."""
    site = make_site(tmp_path)
    state_dir, feed = site / ".syndicator", site / "feeds" / "category" / "one.atom"
    server = start_server(site, limits={"obeying_modes": True}, SYNDICATOR_RELOAD_INTERVAL="1")
    (state_dir / "ledger.journal").touch()  # after the first load settled (and took the journal away)
    mode = state_dir.stat().st_mode
    state_dir.chmod(0o555)
    try:
        (site / "posts" / "a.md").write_text("---\ntitle: Post a\ndate: 2024-05-04\ncategories: [One]\n---\nEdited.\n")
        server.wait_until(lambda: b"Edited." in server.get("/feeds/category/one.atom").content, what="the edit")
        assert server.get("/feeds/category/one.atom").content == feed.read_bytes()
        health = server.get("/healthz").json()
        assert health["status"] == "degraded" and "(Permission denied)" in health["error"], health
        written = feed.stat().st_mtime_ns
        reloads = server.log.read_text().count("reload refused")
        server.wait_until(lambda: server.log.read_text().count("reload refused") >= reloads + 2, what="two reloads")
        assert feed.stat().st_mtime_ns == written  # nothing written again
    finally:
        state_dir.chmod(mode)
    server.wait_until(lambda: "error" not in server.get("/healthz").json(), what="state_dir written")


def test_serve_whose_post_cache_cannot_be_kept_says_so_in_one_line(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """The disk refuses the post cache as serve's first load ends (here past a file size limit: the cache is the
    largest file of state_dir): the load is published, and the cache it could not keep is one warning (it was a
    traceback from the scheduler)."""
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    for n in range(120):  # the cache holds them all, a feed or an archive page twenty
        (site / "posts" / f"p{n:03}.md").write_text(f"---\ntitle: Post {n}\ndate: 2024-05-04\n---\nWords {n}.\n")
    env = {"SYNDICATOR_FEED_SIZE": "20", "SYNDICATOR_ARCHIVE_PAGE_SIZE": "20"}
    run_syndicator("build", cwd=site, env=env, check=True)
    cache = site / ".syndicator" / "posts.cache"
    (site / "posts" / "p000.md").write_text("---\ntitle: Post 0\ndate: 2024-05-04\n---\nEdited.\n")
    server = start_server(site, limits={"file_size": cache.stat().st_size - 100}, **env)
    server.wait_until(lambda: "post cache not written" in server.log.read_text(), what="the warning")
    assert "Traceback" not in server.log.read_text(), server.log.read_text()
    assert b"Edited." in server.get("/feeds/all.atom").content


def test_state_dir_is_the_services_own(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """state_dir holds the WebSub subscribers' secrets, the partners' token hashes and their posts: made by the first
    command that needs it (a build, or `partners add` before any build), it is owner-only; one an earlier release
    made open to every user loses the others' access (its group's is left as the operator set it)."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-06-01T10:00:00Z\n---\nBody.\n")
    state = tmp_path / ".syndicator"
    assert run_cli("partners", "add", "acme").returncode == 0
    assert state.stat().st_mode & 0o777 == 0o700
    shutil.rmtree(state)
    assert run_cli("build").returncode == 0
    assert state.stat().st_mode & 0o777 == 0o700
    state.chmod(0o755)
    assert run_cli("build").returncode == 0
    assert state.stat().st_mode & 0o777 == 0o750
