"""Behind a CDN: every public answer names its cache keys, and each reload purges the keys whose bytes changed;
a real Varnish in front of serve shows a new post while it keeps the feed for a day."""

from __future__ import annotations

import http.client
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import requests

from support.factories import NOW
from support.factories import post_text
from support.feedcheck import wait_for
from support.mediafiles import write_png
from support.paths import SEED_POSTS
from support.server import Server
from support.server import free_port
from support.varnish import running_varnish
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.cdn import Purger
from syndicator.service.cdn import changed_keys
from syndicator.service.http.app import create_app
from syndicator.service.snapshot import Snapshot

CDN_HEADERS = ("Surrogate-Key", "Cache-Tag", "CDN-Cache-Control")


@pytest.fixture
def site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path) -> Any:
    """Three posts (two archive pages of two), an image, a page each: the builder and a test client."""
    write_png(posts_dir / "images" / "camel.png", 8, 8)
    write_post("a.md", title="A", categories="[Oases]", tags="[camels]", body="![c](images/camel.png)\n")
    write_post("b.md", title="B", date="2025-06-02T10:00:00Z", categories="[Oases, Roads]")
    write_post("c.md", title="C", date="2025-06-03T10:00:00Z", categories="[Roads]")
    settings = make_settings(feed_size=2, archive_page_size=2)
    builder = Builder(settings)
    builder.reload(NOW)
    return builder, create_app(settings, builder).test_client()


def keys(answer: Any) -> list[str]:
    answer.close()  # an asset's file is streamed: let it go
    value = answer.headers["Surrogate-Key"]
    assert answer.headers["Cache-Tag"] == value.replace(" ", ",")
    assert (
        answer.headers["CDN-Cache-Control"] == "public, s-maxage=86400, stale-while-revalidate=60, stale-if-error=86400"
    )
    return str(value).split()


def test_every_public_answer_names_what_it_depends_on(site: Any) -> None:
    """Its own key, the site, each category, tag and author its posts are filed under, and each post."""
    _builder, client = site
    assert keys(client.get("/feeds/category/oases.atom")) == [
        "feed/category/oases",
        "site",
        "author/test-site",
        "category/oases",
        "category/roads",
        "tag/camels",
        "post/b",
        "post/a",
    ]
    assert keys(client.get("/feeds/category/oases.json"))[0] == "feed/category/oases"
    full, newest = keys(client.get("/feeds/archive/1.atom")), keys(client.get("/feeds/archive/2.atom"))
    assert (full[0], full[-2:], newest[0], newest[-1]) == (
        "feed/archive/1",
        ["post/b", "post/a"],
        "feed/archive/2",
        "post/c",
    )
    assert keys(client.get("/feeds/index.opml")) == ["feed/index", "site"]
    assert keys(client.get("/"))[:2] == ["page/all", "site"]
    assert keys(client.get("/category/roads/")) == [
        "page/category/roads",
        "site",
        *keys(client.get("/feeds/category/roads.rss"))[2:],
    ]
    assert keys(client.get("/posts/a/")) == [
        "page/post/a",
        "site",
        "author/test-site",
        "category/oases",
        "tag/camels",
        "post/a",
    ]
    assert keys(client.get("/feeds/media/images/camel.png")) == ["media/images/camel.png", "site"]
    assert client.get("/feeds/all.atom?x=1").status_code == 200


def test_a_page_served_at_its_path_names_its_keys_and_is_purged_when_edited(
    site: Any, write_post: Callable[..., Path]
) -> None:
    """A page (``type: page``) at /about/team/: its own key (its path), the site and its post; an edit purges it,
    and a reload that changes nothing of it does not."""
    builder, client = site
    team = write_post("pages/team.md", title="Team", type="page", path="/about/team/", body="Ann.\n")
    builder.reload(NOW)
    assert keys(client.get("/about/team/")) == ["page/about/team/", "site", "post/team"]
    before: Snapshot = builder.snapshot
    write_post("d.md", title="D", date="2025-06-04T10:00:00Z", categories="[Roads]")
    builder.reload(NOW)
    assert "page/about/team/" not in changed_keys(before, builder.snapshot)
    before = builder.snapshot
    team.write_text(team.read_text().replace("Ann.", "Ann and Bo."))
    builder.reload(NOW)
    assert "page/about/team/" in changed_keys(before, builder.snapshot)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/feeds/all.atom", {"Sec-Fetch-Dest": "document"}),  # a person's view of the feed
        ("/feeds/category/nope.atom", {}),
        ("/posts/nope/", {}),
        ("/healthz", {}),
        ("/partners/feeds/all.atom", {}),
        ("/feeds/media/images/camel.png", {"Range": "bytes=99999-"}),  # a 416 describes no representation
    ],
)
def test_private_answers_and_errors_name_no_keys(site: Any, path: str, headers: dict[str, str]) -> None:
    """No CDN keeps a browser's styled feed, an error, /healthz or a partner's answer by key."""
    _builder, client = site
    answer = client.get(path, headers=headers)
    answer.close()
    assert not set(CDN_HEADERS) & set(answer.headers.keys()), (answer.status_code, dict(answer.headers))


def test_a_reload_purges_the_keys_whose_bytes_changed(
    site: Any, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A new post in Roads: the feeds, archive page and pages that show it; not Oases' (unchanged)."""
    builder, _client = site
    first: Snapshot = builder.snapshot
    assert changed_keys(None, first) == ["site"]  # a process's first reload: the edge may hold anything
    write_post("d.md", title="D", date="2025-06-04T10:00:00Z", categories="[Roads]")
    builder.reload(NOW)
    purged = changed_keys(first, builder.snapshot)
    for expected in ("feed/all", "feed/category/roads", "feed/author/test-site", "page/all", "page/post/d"):
        assert expected in purged, purged
    assert "page/category/roads" in purged and "feed/archive/2" in purged
    assert not [k for k in purged if k.startswith(("feed/sitemap", "feed/robots"))], purged  # keyless: max-age
    assert not [k for k in purged if "oases" in k or k == "feed/archive/1"], purged
    unchanged = builder.snapshot
    builder.reload(NOW)
    assert changed_keys(unchanged, builder.snapshot) == []
    (posts_dir / "c.md").unlink()  # a deletion: its page goes, its feeds change
    builder.reload(NOW)
    assert {"page/post/c", "feed/category/roads"} <= set(changed_keys(unchanged, builder.snapshot))


def test_a_purge_that_fails_is_retried_then_a_warning(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens at cdn_purge_url: each try within its deadline, then one warning naming the key."""
    port = free_port()
    purger = Purger(make_settings(cdn_purge_url=f"http://127.0.0.1:{port}/"), deadline=2, tries=3, backoff=0.01)
    with caplog.at_level(logging.WARNING, logger="syndicator.service.cdn"):
        assert purger.send("feed/all") is False
    assert [r.getMessage() for r in caplog.records] == [
        f"cdn purge failed key=feed/all url=http://127.0.0.1:{port}/ tries=3 reason=ConnectionRefusedError: "
        "[Errno 111] Connection refused"
    ]


def through(varnish: str, path: str) -> requests.Response:
    return requests.get(varnish + path, timeout=10)


def test_a_feed_cached_for_a_day_at_the_edge_shows_a_new_post(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """Varnish keeps the feed a day (its hits never reach serve); the reload after a new post purges its keys,
    and the next reader through Varnish sees the post within reload_interval and a few seconds, in a feed that
    was there and in one that was not (its 404 was not kept)."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    varnish_port = free_port()
    server = start_server(
        tmp_path, SYNDICATOR_RELOAD_INTERVAL="2", SYNDICATOR_CDN_PURGE_URL=f"http://127.0.0.1:{varnish_port}/"
    )
    path = "/feeds/category/justice.atom"
    with running_varnish(varnish_port, server.port) as varnish:
        first, again = through(varnish, path), through(varnish, path)
        assert first.status_code == again.status_code == 200 and again.content == first.content
        assert len(again.headers["X-Varnish"].split()) == 2, "the second reader is a hit: serve never asked"
        titles = {e.title for e in feedparser.parse(first.content).entries}
        new_feed = "/feeds/category/verdicts.atom"  # a reader early for a category's feed: no cache keeps its 404
        assert [through(varnish, new_feed).status_code for _ in range(2)] == [404, 404]
        (tmp_path / "posts" / "2026-01-01-verdict.md").write_text(
            post_text("A verdict at last", date="2025-12-31T10:00:00Z", categories="[Justice, Verdicts]")
        )
        deadline = time.monotonic() + 2 + 15  # reload_interval, and a few seconds
        shown: set[str] = titles
        while time.monotonic() < deadline and "A verdict at last" not in shown:
            time.sleep(0.25)
            shown = {e.title for e in feedparser.parse(through(varnish, path).content).entries}
        assert shown == titles | {"A verdict at last"}, server.log.read_text()
        assert [e.title for e in feedparser.parse(through(varnish, new_feed).content).entries] == ["A verdict at last"]
        # The purge follows the reload's swap: a reader between the two fetched the new feed and saw it purged,
        # so the next one may miss once more. Within seconds a reader is a hit again, and every one has the post.
        deadline = time.monotonic() + 5
        while True:
            hit = through(varnish, path)
            assert "A verdict at last" in {e.title for e in feedparser.parse(hit.content).entries}
            if len(hit.headers["X-Varnish"].split()) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(hit.headers["X-Varnish"].split()) == 2 and hit.content == through(varnish, path).content
        assert (
            through(varnish, "/feeds/category/justice.atom")
            .headers["Surrogate-Key"]
            .startswith("feed/category/justice site ")
        )


def test_a_slug_given_then_taken_back_leads_to_the_post_through_the_edge(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """A post renamed, its old address asked through Varnish (a 301), then the rename taken back: the old address
    is the post's again, and no redirect kept at the edge sends readers round between the two."""
    (tmp_path / "posts").mkdir()
    post = tmp_path / "posts" / "new-story.md"
    post.write_text(post_text("A new story"))
    varnish_port = free_port()
    server = start_server(
        tmp_path, SYNDICATOR_RELOAD_INTERVAL="2", SYNDICATOR_CDN_PURGE_URL=f"http://127.0.0.1:{varnish_port}/"
    )

    def lands(path: str, where: str) -> bool:
        """Whether a reader through Varnish, following its redirects (each Location's path asked of Varnish: they
        name site_url, serve's own address here), reaches the post's page at ``where`` within five hops."""
        for _hop in range(5):
            answer = requests.get(varnish + path, allow_redirects=False, timeout=10)
            if answer.status_code != 301:
                return answer.status_code == 200 and path == where
            path = urlsplit(answer.headers["Location"]).path
        return False

    def within_seconds(done: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + 2 + 15  # reload_interval, and a few seconds
        while not done() and time.monotonic() < deadline:
            time.sleep(0.25)
        return done()

    with running_varnish(varnish_port, server.port) as varnish:
        assert lands("/posts/new-story/", "/posts/new-story/")
        post.write_text(post_text("A new story", slug="renamed-story"))  # renamed: the old address moves
        assert within_seconds(lambda: lands("/posts/new-story/", "/posts/renamed-story/")), server.log.read_text()
        post.write_text(post_text("A new story"))  # the slug taken back: the file's name again
        assert within_seconds(lambda: lands("/posts/renamed-story/", "/posts/new-story/")), server.log.read_text()
        assert lands("/posts/new-story/", "/posts/new-story/")


def test_readers_the_edge_answers_are_counted_from_its_log(
    tmp_path: Path, start_server: Callable[..., Server], run_cli: Callable[..., Any]
) -> None:
    """Three readers of a feed through Varnish: serve sees the first (a miss), the edge answers the others from its
    cache. The README's varnishncsa logs all three, and `stats --import-log` of that log counts three readers, the
    one serve saw too counted once."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    log, path = tmp_path / "feeds-access.log", "/feeds/category/justice.atom"
    with running_varnish(free_port(), server.port, ncsa_log=tmp_path / "feeds-access.log") as varnish:
        host, port = urlsplit(varnish).netloc.split(":")

        def attached() -> bool:  # varnishncsa logs from when it attached to the instance: asked until it shows
            requests.get(varnish + "/feeds/index.opml", timeout=10)
            return log.exists() and "/feeds/index.opml" in log.read_text()

        assert wait_for(attached), "varnishncsa logs no request"
        for reader in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):  # loopback's other addresses: three clients
            connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(reader, 0))
            connection.request("GET", path, headers={"User-Agent": "NetNewsWire/6.1"})
            assert connection.getresponse().status == 200
            connection.close()
        assert wait_for(lambda: log.read_text().count(path) >= 3), server.log.read_text()
    lines = [line for line in log.read_text().splitlines() if path in line]
    assert sorted(line.split()[0] for line in lines) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]  # as they ended
    server.stop()  # what it counted is written as it stops
    result = run_cli("stats", "--days", "1", "--import-log", str(log), timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"{log}: 3 feed requests counted, 0 lines skipped (" in result.stdout
    table = result.stdout.splitlines()[1:]
    assert table[0] == path and table[2].split()[1:] == ["3", "3"], result.stdout


def test_each_form_of_a_feed_keeps_its_own_strong_etag_through_the_edge(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """Through the README's Varnish, as from serve: a reader that takes gzip and one that does not each get that
    form's strong ETag, and either form's ETag (from serve before the CDN, or from the edge) gets its 304."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    path, plain, gzip = "/feeds/category/justice.atom", {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip"}
    origin = {name: server.get(path, headers=form).headers["ETag"] for name, form in (("plain", plain), ("gzip", gzip))}
    with running_varnish(free_port(), server.port) as varnish:
        for name, form in (("gzip", gzip), ("plain", plain), ("gzip", gzip), ("plain", plain)):  # misses, then hits
            answer = requests.get(varnish + path, headers=form, timeout=10)
            assert answer.status_code == 200 and answer.headers["ETag"] == origin[name], (name, dict(answer.headers))
            assert feedparser.parse(answer.content).entries
        for name, form in (("plain", plain), ("gzip", gzip)):
            asked = {**form, "If-None-Match": origin[name]}
            assert requests.get(varnish + path, headers=asked, timeout=10).status_code == 304, name
