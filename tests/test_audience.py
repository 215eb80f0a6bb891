"""Knowing who reads (SPEC "Audience"), the counting in one process: the day's largest aggregator figure, WebSub
and partner fetches apart, off the request path, bounded whatever the traffic, access logs imported once, the stats
page. The parts are in test_agents, test_sketch, test_accesslog and test_chart; over a real server, system/."""

from __future__ import annotations

import sqlite3
import threading
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

from support.factories import NOW
from syndicator.config import Settings
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
from syndicator.store.audience import AudienceStore
from syndicator.store.partners import PartnerStore

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=feed/https://x/all.atom)"
INOREADER = "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)"
TODAY = datetime.now(UTC).date()


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


def test_a_reader_polling_all_day_is_one_client_and_every_browser_visit_counts(tmp_path: Path) -> None:
    """Many fetches alike in one write: one client for the poller, as many browser visits as the browser made."""
    store = AudienceStore(tmp_path)
    audience = Audience(store)
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    for _ in range(1000):
        audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": "Miniflux/2.1"})
    for _ in range(5):
        audience.saw("all.atom", {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": chrome})
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.2", "HTTP_USER_AGENT": "Miniflux/2.1"})
    audience.flush()
    assert collect(store, TODAY, 1)[0].days[TODAY.isoformat()] == {"clients": 2, "browsers": 5}


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
    statuses: list[int] = []

    def read() -> None:
        for n in range(500):
            answer = client.get("/feeds/all.atom", environ_base={"REMOTE_ADDR": f"10.0.1.{n % 250}"})
            statuses.append(answer.status_code)

    try:
        time.sleep(0.2)  # the thread is now stuck on the lock
        readers = threading.Thread(target=read, daemon=True)
        readers.start()
        readers.join(timeout=60)  # a bound on the test, not a speed: requests waiting on the lock never end
        answered_while_locked = not readers.is_alive()
    finally:
        blocker.rollback()
        blocker.close()
    assert answered_while_locked and statuses == [200] * 500
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


def test_events_a_locked_database_refuses_wait_for_the_next_write(tmp_path: Path) -> None:
    """Another process holds the counts' database (an import running, as a full disk refuses writes): the flush
    fails and keeps its readers and partner fetches for the next one, which counts them all (they were lost)."""
    store, partners = AudienceStore(tmp_path), PartnerStore(tmp_path)
    partners.add("acme", token_hash("t"), 1.0)
    audience = Audience(store, partners)
    store._db.execute("PRAGMA busy_timeout = 50")  # fail at once rather than in 10 s
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    for n in range(20):
        audience.saw("all.atom", {"REMOTE_ADDR": f"192.0.2.{n}", "HTTP_USER_AGENT": "Miniflux/2.1"})
    audience.partner_fetch("acme", "all.atom")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        audience.flush()
    holder.execute("ROLLBACK")
    holder.close()
    audience.saw("all.atom", {"REMOTE_ADDR": "192.0.2.99", "HTTP_USER_AGENT": "Miniflux/2.1"})
    audience.flush()
    (feed,) = collect(store, TODAY, 1)
    assert feed.days[TODAY.isoformat()] == {"clients": 21, "partner_fetches": 1}
    assert partners.partners()[0].fetches == 1


def test_events_a_refused_write_at_stop_are_said_lost(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The process ends while the counts' database takes no write: one error line counting what is lost (it was a
    traceback at the server's stop)."""
    store = AudienceStore(tmp_path)
    audience = Audience(store)
    store._db.execute("PRAGMA busy_timeout = 50")  # fail at once rather than in 10 s
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    for n in range(3):
        audience.saw("all.atom", {"REMOTE_ADDR": f"192.0.2.{n}", "HTTP_USER_AGENT": "Miniflux/2.1"})
    try:
        audience.stop()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.getMessage() for r in caplog.records] == ["audience not written at stop lost=3 reason=database is locked"]


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
