"""A real `syndicator serve` on a loopback port: the bundled posts, live reloads, an edit published moments later
without a restart, and no file a link out of posts_dir leads to."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import feedparser

from support.factories import post_text
from support.feedcheck import check_atom
from support.mediafiles import write_links_out
from support.paths import SEED_POSTS
from support.server import Server

LEAVES = "a link that leads out of posts_dir: not published"
ABOUT_PAGE = post_text(title="About us", date="2020-01-01T00:00:00Z", body="We write about rivers.\n", type="page")


def test_serves_the_bundled_posts_and_picks_up_changes(start_server: Callable[..., object], tmp_path: Path) -> None:
    """Seed feeds are served; a new post appears, an edit keeps its id, a future post waits for its time."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    response = server.get("/feeds/category/tajik-russian-relations.atom")
    assert response.status_code == 200
    check_atom(response.content)
    assert len(feedparser.parse(response.content).entries) == 5
    assert (tmp_path / "feeds/category/tajik-russian-relations.atom").read_bytes() == response.content

    (tmp_path / "posts/2026-01-01-new.md").write_text(
        post_text(title="Fresh news", date="2026-01-01T00:00:00Z", categories="[Tajikistan]")
    )
    server.wait_until(lambda: b"Fresh news" in server.get("/feeds/category/tajikistan.atom").content, what="new post")
    entries = feedparser.parse(server.get("/feeds/category/tajikistan.atom").content).entries
    assert entries[0].title == "Fresh news"
    new_id = entries[0].id

    (tmp_path / "posts/2026-01-01-new.md").write_text(
        post_text(title="Fresh news, edited", date="2026-01-01T00:00:00Z", categories="[Tajikistan]")
    )
    server.wait_until(lambda: b"edited" in server.get("/feeds/all.atom").content, what="edit")
    entries = feedparser.parse(server.get("/feeds/all.atom").content).entries
    assert [e.id for e in entries].count(new_id) == 1

    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    (tmp_path / "posts/later.md").write_text(post_text(title="Scheduled", date=due.isoformat()))
    server.wait_until(lambda: server.get("/healthz").json()["next_publish_at"] is not None, what="schedule")
    assert b"Scheduled" not in server.get("/feeds/all.atom").content
    server.wait_until(lambda: b"Scheduled" in server.get("/feeds/all.atom").content, what="scheduled post")
    assert datetime.now(UTC) >= due


def test_future_post_is_published_by_its_own_job(start_server: Callable[..., object], tmp_path: Path) -> None:
    """With an hour-long interval, the post still appears at its time, without a restart."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "now.md").write_text(post_text(title="Now", date="2025-01-01T00:00:00Z"))
    due = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    (posts / "soon.md").write_text(post_text(title="Soon", date=due.isoformat()))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="3600")
    early: list[datetime] = []  # when an answer that came before the post's time showed it (none may)

    def published() -> bool:
        shown = b"Soon" in server.get("/feeds/all.atom").content
        answered = datetime.now(UTC)
        if shown and answered < due:
            early.append(answered)
        return shown

    server.wait_until(published, what="due post")
    assert early == []


def test_conditional_get_and_gzip_over_real_http(start_server: Callable[..., object], tmp_path: Path) -> None:
    """A polling reader gets 304s until a post changes, then one 200 with the new bytes, gzip or not."""
    import requests

    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    path = "/feeds/category/justice.atom"
    plain = server.get(path, headers={"Accept-Encoding": "identity"})
    zipped = requests.get(server.url + path, timeout=10)  # requests asks for gzip and decodes it
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.content == plain.content
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding"
    for response in (plain, zipped):
        again = server.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
    not_modified = server.get(path, headers={"If-Modified-Since": plain.headers["Last-Modified"]})
    assert not_modified.status_code == 304
    both = server.get(path, headers={"If-None-Match": '"stale"', "If-Modified-Since": plain.headers["Last-Modified"]})
    assert both.status_code == 200, "If-None-Match wins over If-Modified-Since"

    post = next((tmp_path / "posts").glob("*tajikistan-frees-jailed-pilots.md"))
    post.write_text(post.read_text().replace("Under Pressure From", "Under Heavy Pressure From"))
    server.wait_until(
        lambda: server.get(path, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 200, what="change"
    )
    changed = server.get(path)
    assert b"Under Heavy Pressure" in changed.content
    assert server.get(path, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_malformed_and_hostile_requests_never_get_500(start_server: Callable[..., object], tmp_path: Path) -> None:
    """Traversal in any encoding, long URLs and odd methods: 4xx, never 500."""
    import requests

    (tmp_path / "posts").mkdir()
    server = start_server(tmp_path)
    for path in [
        "/feeds/..%2f..%2fetc/passwd",
        "/feeds/%2e%2e/%2e%2e/etc/passwd",
        "/feeds/%00",
        "/feeds/" + "x" * 20000,
        "/category/%ff/",
        "/posts/%c0%ae%c0%ae/",
    ]:
        response = requests.get(server.url + path, timeout=10)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    addresses = ("/feeds/all.atom", "/healthz", "/websub", "/robots.txt", "/sitemap.xml", "/favicon.ico")
    for path in addresses:  # 405 says what the address takes (RFC 9110 §15.5.6), a root file's too
        refused = requests.put(server.url + path, timeout=10)
        assert refused.status_code == 405 and refused.headers.get("Allow"), (path, refused.headers)
    assert requests.post(server.url + "/feeds/all.atom", timeout=10).status_code == 405
    head = requests.head(server.url + "/feeds/all.atom", timeout=10)
    assert head.status_code == 200 and head.content == b""


def test_serve_answers_no_file_a_link_leads_to(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    """GET /feeds/media/<link> is a 404 for a link leading out; /healthz names the post and the link."""
    site = tmp_path / "site"
    write_links_out(site)
    server = start_server(site)
    for name in ("list.txt", "guide.txt", "rules.txt"):
        response = server.get(f"/feeds/media/{name}")
        assert response.status_code == 404 and b"SECRET" not in response.content
    assert server.get("/feeds/media/alias.png").status_code == 200
    health = server.get("/healthz").json()
    assert {"path": "post.md", "line": 5, "message": f"refers to list.txt, {LEAVES}"} in health["problems"]
    assert "SECRET" not in server.get("/feeds/all.atom").text
    assert not (site / "feeds" / "media" / "list.txt").exists()


def test_serve_publishes_an_edit_moments_later_without_waiting_for_the_interval(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    """With an hour-long reload_interval, new, edited and deleted posts still show up within seconds."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "first.md").write_text(post_text(title="First", categories="[News]"))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="3600")
    assert b"First" in server.get("/feeds/category/news.atom").content  # type: ignore[attr-defined]
    (posts / "second.md").write_text(post_text(title="Second", date="2025-06-02T10:00:00Z", categories="[News]"))
    server.wait_until(  # type: ignore[attr-defined]
        lambda: b"Second" in server.get("/feeds/category/news.atom").content, what="new post", timeout=10
    )
    (posts / "first.md").write_text(post_text(title="First, edited", categories="[News]"))
    server.wait_until(  # type: ignore[attr-defined]
        lambda: b"First, edited" in server.get("/feeds/all.rss").content, what="edit", timeout=10
    )
    (posts / "second.md").unlink()
    server.wait_until(  # type: ignore[attr-defined]
        lambda: b"Second" not in server.get("/feeds/all.json").content, what="deletion", timeout=10
    )
    (posts / "archive" / "2011").mkdir(parents=True)
    (posts / "archive" / "2011" / "old.md").write_text(post_text(title="Old one", date="2011-01-01T00:00:00Z"))
    server.wait_until(  # type: ignore[attr-defined]
        lambda: b"Old one" in server.get("/feeds/all.atom").content, what="post in a new folder", timeout=10
    )


def test_serve_starts_without_a_warning_about_its_threads(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """A plain start prints no warning: the threads beyond twice the cores (WebSub and inbox slots) are meant."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    log = server.log.read_text()
    assert "Listening at" in log
    assert "WARNING" not in log and "seems quite high" not in log


def test_serve_publishes_a_new_page_moments_after_it_is_written(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The watcher treats page files like posts: a page written while serving is at its path within seconds."""
    posts = tmp_path / "posts"
    (posts / "pages").mkdir(parents=True)
    (posts / "first.md").write_text(post_text(title="First"))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="3600")
    assert server.get("/about/").status_code == 404
    (posts / "pages" / "about.md").write_text(ABOUT_PAGE)
    server.wait_until(lambda: server.get("/about/").status_code == 200, what="new page", timeout=10)
    assert b"About us" not in server.get("/feeds/all.atom").content
