"""Knowing who reads, over a real server and the `stats` command (SPEC "Audience"): aggregators' figures and
distinct clients counted as `serve` answers, nothing stored in clear, an access log imported by `stats`."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from support.commands import run_syndicator
from support.factories import NOW
from support.paths import SEED_POSTS
from support.server import Server
from syndicator.config import Settings
from syndicator.service.audience import import_log
from syndicator.service.build import Builder
from syndicator.service.output import FilesOutput
from syndicator.store.audience import AUDIENCE_FILE
from syndicator.store.audience import AudienceStore

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=feed/https://x/all.atom)"
INOREADER = "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)"
TODAY = datetime.now(UTC).date()


def audience_files(root: Path) -> set[tuple[str, int, int]]:
    """The audience database's files in the site's state folder, each with its mtime and size."""
    found = set()
    for path in (root / ".syndicator").glob(AUDIENCE_FILE + "*"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # a journal the server just removed
            continue
        found.add((path.name, stat.st_mtime_ns, stat.st_size))
    return found


def wait_for_counts(root: Path, server: Server, want: Callable[[str], bool]) -> str:
    """`syndicator stats` in the site's folder, until its output satisfies want (the server writes every 5 s).

    `stats` runs again only once the audience files have changed since it last started (what it reads
    is in them), not a process a fifth of a second while the server has written nothing."""
    out = ""
    seen: set[tuple[str, int, int]] | None = None

    def ready() -> bool:
        nonlocal out, seen
        files = audience_files(root)
        if files == seen:
            return False
        seen = files
        out = run_syndicator("stats", "--days", "2", cwd=root).stdout
        return want(out)

    server.wait_until(ready, what="counts", timeout=30)
    return out


@pytest.fixture
def seed_site(start_server: Callable[..., Server], tmp_path: Path) -> Server:
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    return start_server(tmp_path)


def test_aggregators_and_plain_clients_are_counted(seed_site: Server, tmp_path: Path) -> None:
    """An aggregator counts its latest figure of the day; any other client once a day, whatever it fetches."""
    server, feed = seed_site, "/feeds/category/tajikistan.atom"
    server.get(feed, headers={"User-Agent": FEEDLY.format(n=40)})
    server.get(feed, headers={"User-Agent": FEEDLY.format(n=42)})
    server.get(feed, headers={"User-Agent": INOREADER.format(n=7)})
    etag = server.get(feed).headers["ETag"]
    for n in range(3):  # three readers: each polls five times, 200 then 304s
        headers = {"X-Real-IP": f"198.51.100.{n}", "User-Agent": "NetNewsWire (RSS Reader; https://netnewswire.com/)"}
        for _ in range(5):
            assert server.get(feed, headers={**headers, "If-None-Match": etag}).status_code == 304
    server.get(feed, headers={"X-Real-IP": "198.51.100.0", "User-Agent": "newsboat/2.36"})  # another app: another
    requests.head(server.url + "/feeds/all.atom", timeout=10)  # a HEAD is no read
    server.get("/feeds/archive/1.atom")  # nor an archive page (seed: none), nor the OPML, nor a page
    server.get("/feeds/index.opml")
    server.get("/")
    out = wait_for_counts(tmp_path, server, lambda text: "category/tajikistan.atom" in text)
    table = out.splitlines()
    assert table[0] == "/feeds/category/tajikistan.atom"
    assert table[1].split() == ["day", "readers", "other", "clients", "Feedly", "Inoreader"]
    # 42 Feedly (its latest figure), 7 Inoreader; clients: requests' own, three NetNewsWires, one newsboat
    assert table[2].split() == [TODAY.isoformat(), str(42 + 7 + 5), "5", "42", "7"], out
    assert "/feeds/all.atom" not in out and "index.opml" not in out


def test_the_counts_of_the_last_seconds_are_written_when_serve_stops(seed_site: Server, tmp_path: Path) -> None:
    """Stopping serve writes what its worker still holds: a fetch just before the stop is counted."""
    server, feed = seed_site, "/feeds/category/tajikistan.atom"
    server.get(feed, headers={"User-Agent": FEEDLY.format(n=42)})
    server.stop()  # at once: well within the worker's 5 s between writes
    out = run_syndicator("stats", "--days", "2", cwd=tmp_path).stdout
    table = out.splitlines()
    assert table[:1] == [feed], out
    assert table[2].split()[-1] == "42", out


def test_nothing_is_stored_in_clear_and_storage_is_bounded(seed_site: Server, tmp_path: Path) -> None:
    """3,000 distinct clients: one counts row per feed, day and kind, one sketch of at most 4 KiB, no address."""
    server = seed_site
    session = requests.Session()
    for n in range(3000):
        address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        headers = {"X-Real-IP": address, "User-Agent": f"reader-{n}/1.0"}
        session.get(server.url + "/feeds/all.rss", headers=headers, timeout=10)
    session.get(server.url + "/feeds/all.rss", headers={"User-Agent": FEEDLY.format(n=9)}, timeout=10)
    out = wait_for_counts(tmp_path, server, lambda text: "Feedly" in text)
    readers = int(out.splitlines()[2].split()[1])
    assert abs(readers - 9 - 3000) <= 0.05 * 3000, out
    database = tmp_path / ".syndicator" / AUDIENCE_FILE
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT feed, kind FROM counts ORDER BY kind").fetchall() == [
            ("all.rss", "clients"),
            ("all.rss", "feedly"),
        ]
        ((size,),) = db.execute("SELECT length(registers) FROM sketches").fetchall()
        assert size <= 4097
        assert [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
            "counts",
            "sketches",
            "salts",
        ]
    assert database.stat().st_size < 64 * 1024
    raw = b"".join(p.read_bytes() for p in database.parent.glob(AUDIENCE_FILE + "*"))
    for clear in (b"10.0.0.", b"127.0.0.1", b"reader-", b"NetNewsWire", b"python-requests"):
        assert clear not in raw


def test_a_bad_line_of_an_access_log_is_a_skipped_line(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """Times that leave the calendar in UTC, impossible dates and lines dated after tomorrow are skipped and
    reported; every other line is counted (`syndicator stats --import-log`, exit 0)."""
    write_post("a.md", title="A")
    settings = make_settings()
    Builder(settings, FilesOutput()).reload(NOW)
    stamp = TODAY.strftime("%d/%b/%Y") + ":10:00:00 +0000"

    def line(address: str, when: str = stamp) -> str:
        return f'{address} - - [{when}] "GET /feeds/all.atom HTTP/1.1" 200 10 "-" "curl/8"'

    bad = ["31/Dec/9999:23:59:59 -1400", "01/Jan/0001:00:00:00 +1400", "31/Feb/2026:10:00:00 +0000"]
    bad += ["31/Dec/9999:23:59:59 +0000"]
    lines = [line(f"192.0.2.{n}") for n in range(3)] + [line("198.51.100.1", when) for when in bad]
    lines.append(line("192.0.2.9"))
    store = AudienceStore(settings.state_dir)
    assert import_log(settings, store, lines, TODAY) == (4, 4)
    assert store.counts("0001-01-01") == [("all.atom", TODAY.isoformat(), "clients", 4)]
    store.close()
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    (tmp_path / "s.toml").write_text(f'posts_dir = "{settings.posts_dir}"\nstate_dir = "{settings.state_dir}"\n')
    result = run_cli("stats", "--config", "s.toml", "--import-log", str(log), timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"{log}: 4 feed requests counted, 4 lines skipped" in result.stdout
