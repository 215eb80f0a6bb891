"""Knowing who reads (SPEC "Audience"): aggregators' reported subscribers, distinct other clients once a day,
WebSub and partner fetches apart, off the request path, nothing stored in clear, bounded whatever the traffic."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import requests

from conftest import NOW
from conftest import SEED_POSTS
from conftest import Server
from syndicator.config import Settings
from syndicator.core.accesslog import parse_line
from syndicator.core.agents import reported
from syndicator.core.chart import Series
from syndicator.core.chart import stacked_bars
from syndicator.core.sketch import HyperLogLog
from syndicator.service.audience import Audience
from syndicator.service.audience import import_log
from syndicator.service.audience import topic_counts
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.hub import Hub
from syndicator.service.output import FilesOutput
from syndicator.service.partners import token_hash
from syndicator.service.stats import collect
from syndicator.service.stats import text_tables
from syndicator.store.audience import AUDIENCE_FILE
from syndicator.store.audience import AudienceStore
from syndicator.store.partners import PartnerStore

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=feed/https://x/all.atom)"
INOREADER = "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)"
TODAY = datetime.now(UTC).date()


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FEEDLY.format(n=123), ("feedly", 123)),
        ("Feedly/1.0 (+https://feedly.com/fetcher.html; 1 subscriber)", ("feedly", 1)),
        (INOREADER.format(n=7), ("inoreader", 7)),
        (
            "NewsBlur Feed Fetcher - 5 subscribers - https://www.newsblur.com/site/123/x (Mozilla/5.0 (Macintosh))",
            ("newsblur", 5),
        ),
        ("NewsBlur Feed Fetcher - 1 subscriber - https://www.newsblur.com/site/9/y (Mozilla/5.0)", ("newsblur", 1)),
        ("Feedbin feed-id:1602368 - 4 subscribers", ("feedbin", 4)),
        (
            "Mozilla/5.0 (compatible; theoldreader.com; 2 subscribers; feed-id=0719795c4d27c784217b0bc0)",
            ("theoldreader", 2),
        ),
        ("Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)", ("bazqux", 3)),
        ("Netvibes (crawler/bot; http://www.netvibes.com; 12 subscribers; feedID: 123)", ("netvibes", 12)),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1,204 subscribers)", ("feedly", 1204)),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)", None),
        ("MadeUp/1.0 (999999 subscribers)", None),
        ("Feedly/1.0 (999,999,999 subscribers)", None),  # names Feedly, but not the shape its fetcher sends
        ("Feedly/1.0 (1 subscriber)", None),
        ("curl/8 Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers)", None),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 999,999,999 subscribers)", None),  # past the cap
        ("Mozilla/5.0 (compatible; inoreader.com; 7 subscribers) evil", None),
        ("Feedbin - 4 subscribers", None),
        ("Miniflux/2.1.0 (+https://miniflux.app)", None),
        ("", None),
    ],
)
def test_aggregators_are_read_from_their_real_user_agents(agent: str, expected: tuple[str, int] | None) -> None:
    """The formats Feedly, Inoreader, NewsBlur, Feedbin, The Old Reader, BazQux and Netvibes send; others: clients."""
    assert reported(agent) == expected


def test_a_made_up_or_small_report_never_sets_the_days_figure(tmp_path: Path) -> None:
    """An anonymous "Feedly/1.0 (999,999,999 subscribers)" counts as one client, and a real-looking "1 subscriber"
    later the same day leaves Feedly's figure as it was: the day keeps each aggregator's largest figure, however the
    requests fall into writes."""
    store = AudienceStore(tmp_path)
    audience = Audience(store)
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": FEEDLY.format(n=1204)})
    audience.flush()
    for agent in ("Feedly/1.0 (999,999,999 subscribers)", FEEDLY.format(n=1), FEEDLY.format(n="2,000,000")):
        audience.saw("all.atom", {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": agent})
        audience.flush()
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": FEEDLY.format(n=1190)})
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": FEEDLY.format(n=3)})
    audience.flush()
    assert collect(store, TODAY, 1)[0].days[TODAY.isoformat()] == {"clients": 2, "feedly": 1204}


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 500, 501, 1000, 20_000, 200_000])
def test_the_distinct_counter_is_close_and_small(n: int) -> None:
    """Exact up to 500, then a HyperLogLog within 5 %; at most 4 KiB + 1 stored; merged without double counting."""
    sketch, other = HyperLogLog(), HyperLogLog()
    for i in range(n):
        value = int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8).digest(), "big")
        (sketch if i % 2 else other).add(value)
        sketch.add(value) if i % 3 == 0 else None
    sketch.merge(other)
    stored = sketch.to_bytes()
    assert len(stored) <= 4097
    estimate = HyperLogLog.from_bytes(stored).estimate()
    assert estimate == n if n <= 500 else abs(estimate - n) <= 0.05 * n


def test_access_log_lines_in_the_combined_format() -> None:
    """nginx's combined format: address, time (to UTC), request, status, agent; anything else is None."""
    line = (
        '203.0.113.9 - - [10/Oct/2026:23:55:36 -0700] "GET /feeds/all.atom?x=1 HTTP/1.1" 304 0 "-" '
        '"Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)"'
    )
    request = parse_line(line)
    assert request is not None
    assert (request.address, request.method, request.path, request.status) == (
        "203.0.113.9",
        "GET",
        "/feeds/all.atom",
        304,
    )
    assert request.when == datetime(2026, 10, 11, 6, 55, 36, tzinfo=UTC)
    assert request.agent.endswith("7 subscribers)")
    assert parse_line("garbage") is None and parse_line(line.replace("Oct", "Foo")) is None
    assert parse_line(line.replace('"Mozilla', '"a \\x22quoted\\x22 Mozilla')).agent.startswith('a "quoted"')  # type: ignore[union-attr]


def wait_for_counts(root: Path, server: Server, want: Callable[[str], bool]) -> str:
    """`syndicator stats` in the site's folder, until its output satisfies want (the server writes every 5 s)."""
    out = ""

    def ready() -> bool:
        nonlocal out
        out = subprocess.run(
            [sys.executable, "-m", "syndicator", "stats", "--days", "2"], cwd=root, capture_output=True, text=True
        ).stdout
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


def test_counting_never_slows_a_feed_answer(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """With the counts' database locked by another process, feed answers stay as fast; the counts wait."""
    write_post("a.md", title="A")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    store = AudienceStore(settings.state_dir)
    audience = Audience(store, interval=0.05)
    audience.start()
    client = create_app(settings, builder, audience=audience).test_client()
    blocker = sqlite3.connect(store.path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        time.sleep(0.2)  # the thread is now stuck on the lock
        started = time.perf_counter()
        for n in range(500):
            assert client.get("/feeds/all.atom", environ_base={"REMOTE_ADDR": f"10.0.1.{n % 250}"}).status_code == 200
        elapsed = time.perf_counter() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert elapsed < 5, elapsed
    audience.stop()
    assert collect(store, TODAY, 1)[0].days[TODAY.isoformat()]["clients"] == 250


def test_huge_user_agents_are_cut_at_the_door(tmp_path: Path) -> None:
    """400 requests with 60 KB User-Agents (and 60 KB X-Real-IP) waiting to be counted hold under 1 MB, not 48 MB:
    only what counting looks at is kept; they still count as 400 clients."""
    audience = Audience(AudienceStore(tmp_path))  # no thread: every event waits
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(400):
            environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "9" * 60_000}
            environ["HTTP_USER_AGENT"] = f"reader-{n:04d} " + "x" * 60_000
            audience.saw("all.atom", environ)
            del environ
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, held
    audience.flush()
    assert collect(audience.store, TODAY, 1)[0].days[TODAY.isoformat()] == {"clients": 400}


def test_websub_subscriptions_and_partner_fetches_are_counted_apart(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """The hub's live subscriptions per feed, and partner fetches, are shown beside the readers, not in them."""
    write_post("a.md", title="A")
    settings = make_settings()
    hub = Hub(settings)
    partners = PartnerStore(settings.state_dir)
    partners.add("acme", token_hash("t"), 1.0)
    try:
        hub.store.subscribe("https://sub.example/cb", f"{settings.base_url}/feeds/all.atom", "", 3600)
        hub.store.subscribe("https://other.example/cb", f"{settings.base_url}/feeds/all.atom", "", 3600)
        hub.store.subscribe("https://sub.example/cb", "https://elsewhere.example/feeds/x.atom", "", 3600)
        assert topic_counts(settings, hub) == {"all.atom": 2}
        store = AudienceStore(settings.state_dir)
        audience = Audience(store, partners, lambda: topic_counts(settings, hub))
        audience.partner_fetch("acme", "all.atom")
        audience.partner_fetch("acme", "archive/1.atom")  # in the partner's total, not a feed's
        audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": "x"})
        audience.flush()
        (feed,) = collect(store, TODAY, 1)
        assert feed.days[TODAY.isoformat()] == {"clients": 1, "websub": 2, "partner_fetches": 1}
        assert feed.readers(TODAY.isoformat()) == 1
        assert [line.split() for line in text_tables([feed])][1:] == [
            ["day", "readers", "other", "clients", "WebSub", "subscriptions", "partner", "fetches"],
            [TODAY.isoformat(), "1", "1", "2", "1"],
        ]
        (acme,) = partners.partners()
        assert acme.fetches == 2 and acme.last_fetch is not None
    finally:
        hub.close()


def test_an_access_log_is_counted_once_however_often_it_is_imported(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Feed GETs answered 200/304 count; the same log (or a day split over two) never counts a client twice."""
    write_post("a.md", title="A")
    settings = make_settings()
    Builder(settings, FilesOutput()).reload(NOW)
    stamp = TODAY.strftime("%d/%b/%Y") + ":10:00:00 +0000"

    def line(address: str, path: str, status: int = 200, agent: str = "curl/8", method: str = "GET") -> str:
        return f'{address} - - [{stamp}] "{method} {path} HTTP/1.1" {status} 10 "-" "{agent}"'

    lines = [line(f"192.0.2.{n}", "/feeds/all.atom") for n in range(10)]
    lines += [line("192.0.2.1", "/feeds/all.atom", 304), line("192.0.2.50", "/feeds/all.atom", 404)]
    lines += [line("192.0.2.51", "/feeds/all.atom", method="HEAD"), line("192.0.2.52", "/feeds/nope.atom")]
    lines += [line("192.0.2.53", "/"), line("192.0.2.9", "/feeds/all.atom", agent=INOREADER.format(n=3)), "junk"]
    store = AudienceStore(settings.state_dir)
    assert import_log(settings, store, lines, TODAY) == (12, 1)
    assert import_log(settings, store, lines[:5], TODAY) == (5, 0)
    assert import_log(settings, store, lines, TODAY) == (12, 1)
    assert collect(store, TODAY, 1)[0].days[TODAY.isoformat()] == {"clients": 10, "inoreader": 3}


def test_a_bad_line_of_an_access_log_is_a_skipped_line(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
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
    result = subprocess.run(
        [sys.executable, "-m", "syndicator", "stats", "--config", "s.toml", "--import-log", str(log)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"{log}: 4 feed requests counted, 4 lines skipped" in result.stdout


def test_old_sketches_and_salts_are_deleted(tmp_path: Path) -> None:
    """Only today's and yesterday's sketches and salts are kept; their counts stay."""
    store = AudienceStore(tmp_path)
    audience = Audience(store, clock=lambda: datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp())
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1"})
    audience.flush()
    assert store.salt("2026-03-01") == store.salt("2026-03-01")
    store.prune(date(2026, 3, 3))
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT count(*) FROM sketches").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM salts").fetchone() == (0,)
    assert store.counts("2026-03-01") == [("all.atom", "2026-03-01", "clients", 1)]


@pytest.fixture
def stats_client(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> Callable[..., Any]:
    """A test client with /stats/ behind the token "s3cret", a partner and a few counted readers."""

    def make(token: str = "s3cret") -> Any:  # noqa: S107 - a test's token
        write_post("a.md", title="A", categories="[News]")
        settings = make_settings(stats_token=token, state_dir=tmp_path / f"state-{token}")
        builder = Builder(settings)
        builder.reload(NOW)
        partners = PartnerStore(settings.state_dir)
        partners.add("acme", token_hash("t"), NOW.timestamp())
        audience = Audience(AudienceStore(settings.state_dir), partners)
        for n in range(4):
            audience.saw("all.atom", {"REMOTE_ADDR": f"192.0.2.{n}"})
        audience.saw("category/news.rss", {"HTTP_USER_AGENT": FEEDLY.format(n=12)})
        audience.partner_fetch("acme", "all.atom")
        return create_app(settings, builder, partners=partners, audience=audience).test_client()

    return make


def test_stats_page_needs_its_token(stats_client: Callable[..., Any]) -> None:
    """404 without the setting; 401 (with challenges) without or with a wrong token; Bearer or Basic opens it."""
    assert stats_client("").get("/stats/").status_code == 404
    client = stats_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        answer = client.get("/stats/", headers=headers)
        assert answer.status_code == 401 and b"Readers" not in answer.data
        assert answer.headers.getlist("WWW-Authenticate") == [
            'Bearer realm="stats"',
            'Basic realm="stats", charset="UTF-8"',
        ]
    assert client.get("/stats/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/stats/", headers={"Authorization": "Basic dXNlcjpzM2NyZXQ="}).status_code == 200  # user:s3cret


def test_stats_page_draws_charts_on_the_server(stats_client: Callable[..., Any]) -> None:
    """Inline SVG per feed and for partners, no script, no external asset, under the site's CSP; not cached."""
    answer = stats_client().get("/stats/?days=7", headers={"Authorization": "Bearer s3cret"})
    page = answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert page.count("<svg") == 3 and "<script" not in page and "style=" not in page
    assert "/feeds/all.atom" in page and "/feeds/category/news.rss" in page and "acme" in page
    assert "4 readers on" in page and "Feedly 12" in page
    main = page.split("<main", 1)[1].split("</main>")[0]  # the charts: nothing fetched from anywhere
    assert "http" not in main.replace("http://www.w3.org/2000/svg", "")


def test_a_chart_stacks_the_parts_of_each_day() -> None:
    """One bar per day, a rect per non-zero part with its tooltip, a value axis up to a round number."""
    svg = stacked_bars("t", ["2026-01-01", "2026-01-02"], [Series("a", (1, 0)), Series("b <&>", (2, 7))])
    assert svg.count("<rect") == 1 + 3 + 2  # background, three parts, two legend keys
    assert "2026-01-02: b &lt;&amp;&gt; 7 (total 7)" in svg and ">8<" in svg and ">6<" in svg


def test_browsers_are_counted_apart_from_readers() -> None:
    """A browser (Mozilla/5.0 without a reader's word) is a person looking, not a reader; readers' agents are not."""
    from syndicator.core.agents import is_browser

    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    assert is_browser(chrome)
    assert is_browser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5")
    for reader in (
        "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.0",
        "Mozilla/5.0 (compatible; Miniflux/2.1.3; +https://miniflux.app)",
        "Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)",
        "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) FeedFetcher",
        "curl/8.5.0",
    ):
        assert not is_browser(reader), reader


def test_stats_page_totals_plurals_and_browsers(stats_client: Callable[..., Any]) -> None:
    """/stats/ opens with the site's totals per kind; "1 reader", not "1 readers"; browser visits are not readers."""
    client = stats_client()
    app = client.application
    audience = app.extensions["syndicator"].audience
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    )
    for n in range(3):
        audience.saw("category/news.rss", {"HTTP_USER_AGENT": chrome, "REMOTE_ADDR": f"198.51.100.{n}"})
    audience.saw("category/news.atom", {"REMOTE_ADDR": "192.0.2.99"})
    page = lxml.html.fromstring(
        client.get("/stats/", headers={"Authorization": "Bearer s3cret"}).get_data(as_text=True)
    )
    totals = {d.xpath("string(dt)"): d.xpath("string(dd)") for d in page.xpath('//dl[@class="totals"]/div')}
    assert totals == {
        "feed readers": "17",  # all.atom's 4 clients, news.rss's Feedly 12, news.atom's one client
        "WebSub subscriptions": "0",
        "browser visits": "3",
        "partners": "1",
    }
    text = page.text_content()
    assert "1 reader on" in text and "1 readers" not in text
    assert "12 readers on" in text and "browser visits 3" in text
