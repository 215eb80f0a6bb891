"""Private feeds for partners over a real server (SPEC "Private feeds for partners"): tokens added with the command,
every way they can be wrong, revocation at once, full content and partner-only posts under /partners/feeds/, and
none of those posts on any public surface."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import feedparser
import pytest
import requests

from support.commands import run_syndicator
from support.factories import BRIEFING
from support.factories import post_text
from support.feedcheck import check_atom
from support.mediafiles import EPISODE_MP3
from support.mediafiles import copy
from support.mediafiles import write_png
from support.paths import SEED_POSTS
from support.server import Server
from support.subscriber import Subscriber
from syndicator.service.partners import new_token
from syndicator.service.partners import token_hash
from syndicator.service.snapshot import PRIVATE_PROBLEM
from syndicator.store.partners import PARTNERS_FILE

MARKERS = (b"zebra", b"quagga", b"okapi", b"q7x")  # every word of the partner-only posts (lower case)
BROKEN_BRIEFING = "---\ntitle: Zebra plans\nvisibility: partners\ndate: not-a-date\n---\nQuagga.\n"


def add_partner(cwd: Path, name: str) -> str:
    result = run_syndicator("partners", "add", name, cwd=cwd, timeout=60)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert re.fullmatch(r"synp_[A-Za-z0-9_-]{43}", token)
    return token


def basic(name: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()


@dataclass
class Site:
    server: Server
    root: Path
    token: str


@pytest.fixture
def site(start_server: Callable[..., Server], tmp_path: Path) -> Site:
    """The seed posts plus a briefing for partners only, served with full_content off; partner "acme" added."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    (tmp_path / "posts/2026-02-01-zebra-briefing.md").write_text(BRIEFING)
    token = add_partner(tmp_path, "acme")
    server = start_server(tmp_path, SYNDICATOR_FULL_CONTENT="false", SYNDICATOR_RELOAD_INTERVAL="1")
    return Site(server, tmp_path, token)


def test_a_partner_gets_full_content_and_the_partner_posts(site: Site) -> None:
    """Bearer or Basic: every public feed path under /partners/feeds/, full content, the briefing, no hub."""
    server, token = site.server, site.token
    public = server.get("/feeds/all.atom").content
    assert b"<content" not in public and b"Zebra" not in public
    for authorization in (f"Bearer {token}", basic("acme", token)):
        answer = server.get("/partners/feeds/all.atom", headers={"Authorization": authorization})
        assert answer.status_code == 200
        check_atom(answer.content)
        entries = feedparser.parse(answer.content).entries
        assert entries[0].title == "Zebra Briefing" and "rest of the quagga story" in entries[0].content[0].value
        assert all(entry.get("content") for entry in entries), "always full content"
        assert b'rel="hub"' not in answer.content and f"{server.url}/partners/feeds/all.atom".encode() in answer.content
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("all.rss", "all.json", "category/zebra-desk.atom", "tag/q7x-tag.rss", "author/zed-okapi.json"):
        assert b"Zebra Briefing" in server.get(f"/partners/feeds/{path}", headers=headers).content, path
    seed = server.get("/partners/feeds/category/tajik-russian-relations.json", headers=headers).json()
    assert all(item["content_html"] for item in seed["items"]) and "hubs" not in seed
    opml = server.get("/partners/feeds/index.opml", headers=headers).content
    assert f"{server.url}/partners/feeds/category/zebra-desk.atom".encode() in opml
    assert server.get("/partners/feeds/category/nope.atom", headers=headers).status_code == 404


def test_partner_feeds_are_private_and_answer_conditional_gets(site: Site) -> None:
    """Cache-Control: private, strong ETags with 304s (plain and gzip), Last-Modified, HEAD; no CORS."""
    server, headers = site.server, {"Authorization": f"Bearer {site.token}"}
    path = "/partners/feeds/category/tajikistan.atom"
    plain = server.get(path, headers={**headers, "Accept-Encoding": "identity"})
    zipped = server.get(path, headers={**headers, "Accept-Encoding": "gzip"}, stream=True)
    assert plain.headers["Cache-Control"] == zipped.headers["Cache-Control"] == "private, max-age=1"
    assert "Access-Control-Allow-Origin" not in plain.headers and "Link" in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.raw.read()) == plain.content
    assert plain.headers["ETag"] != zipped.headers["ETag"] and plain.headers["Vary"].startswith("Accept-Encoding")
    for tag in (plain.headers["ETag"], zipped.headers["ETag"], "W/" + plain.headers["ETag"]):
        again = server.get(path, headers={**headers, "If-None-Match": tag})
        assert again.status_code == 304 and again.content == b""
    since = server.get(path, headers={**headers, "If-Modified-Since": plain.headers["Last-Modified"]})
    assert since.status_code == 304
    head = requests.head(server.url + path, headers={**headers, "Accept-Encoding": "identity"}, timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == plain.headers["ETag"]
    time.sleep(2.5)  # reloads happened: unchanged bytes keep their ETag
    assert server.get(path, headers={**headers, "If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_archive_pages_for_partners(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """A partner feed too long for one document links its archive pages, which are served under /partners/ too."""
    posts = tmp_path / "posts"
    posts.mkdir()
    for n in range(5):
        (posts / f"p{n}.md").write_text(post_text(title=f"Post {n}", date=f"2025-06-0{n + 1}T10:00:00Z"))
    (posts / "brief.md").write_text(post_text(title="Zebra", date="2025-06-09T10:00:00Z", visibility="partners"))
    token = add_partner(tmp_path, "acme")
    env = {"SYNDICATOR_FEED_SIZE": "2", "SYNDICATOR_ARCHIVE_PAGE_SIZE": "2"}
    server = start_server(tmp_path, **env)
    headers = {"Authorization": f"Bearer {token}"}
    feed = server.get("/partners/feeds/all.atom", headers=headers).content
    assert f'href="{server.url}/partners/feeds/archive/3.atom" rel="prev-archive"'.encode() in feed
    seen = []
    for page in (3, 2, 1):
        body = server.get(f"/partners/feeds/archive/{page}.atom", headers=headers).content
        check_atom(body)
        seen += [entry.title for entry in feedparser.parse(body).entries]
    assert sorted(seen) == ["Post 0", "Post 1", "Post 2", "Post 3", "Post 4", "Zebra"]
    assert len(list((tmp_path / "feeds/archive").glob("*.atom"))) == 3  # the public pages: five posts, 2 a page
    assert b"Zebra" not in b"".join(p.read_bytes() for p in (tmp_path / "feeds/archive").glob("*.atom"))


def test_every_wrong_credential_gets_the_same_401(site: Site, run_cli: Callable[..., Any]) -> None:
    """Missing, malformed, wrong, revoked, Basic with a wrong user: one answer, with both challenges."""
    server, token = site.server, site.token
    other = add_partner(site.root, "gone")
    assert run_cli("partners", "revoke", "gone", cwd=site.root, timeout=60).returncode == 0
    wrong = [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {token} extra",
        f"Bearer {token[:-1]}",
        f"Bearer {new_token()}",
        f"Token {token}",
        f"bearer{token}",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(token.encode()).decode(),  # no user
        basic("nobody", token),
        basic("acme", other),
        basic("acme", ""),
        basic("ACME", token),
        f"Bearer {other}",  # revoked
        basic("gone", other),  # revoked
        "Bearer " + "x" * 5000,
        f"Bearer {token_hash(token)}",  # the stored hash is not a token
    ]
    answers = []
    for i, authorization in enumerate(wrong):
        headers = {"X-Real-IP": f"192.0.2.{i + 1}"}  # each from its own address: no failure brake
        if authorization is not None:
            headers["Authorization"] = authorization
        answer = server.get("/partners/feeds/all.atom", headers=headers)
        answers.append((answer.status_code, answer.content, answer.raw.headers.getlist("WWW-Authenticate")))
    assert len(set(map(repr, answers))) == 1, answers
    status, body, challenges = answers[0]
    assert status == 401 and b"Zebra" not in body
    assert challenges == ['Bearer realm="partners"', 'Basic realm="partners", charset="UTF-8"']
    unknown = server.get("/partners/feeds/category/nope.atom")
    assert (unknown.status_code, unknown.content) == (401, body), "no hint of which feeds exist"
    assert server.get("/partners/feeds/all.atom", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_revocation_counts_at_once_on_a_running_server(site: Site, run_cli: Callable[..., Any]) -> None:
    """partners revoke, then the very next request: 401, without a restart or a reload."""
    server, headers = site.server, {"Authorization": basic("acme", site.token)}
    assert server.get("/partners/feeds/all.atom", headers=headers).status_code == 200
    assert run_cli("partners", "revoke", "acme", cwd=site.root, timeout=60).returncode == 0
    assert server.get("/partners/feeds/all.atom", headers=headers).status_code == 401
    assert server.get("/partners/feeds/all.atom", headers={"Authorization": f"Bearer {site.token}"}).status_code == 401
    fresh = add_partner(site.root, "acme")  # a new token for the same partner works at once too
    assert server.get("/partners/feeds/all.atom", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert server.get("/partners/feeds/all.atom", headers=headers).status_code == 401


def test_failed_attempts_from_one_client_are_slowed_down(site: Site) -> None:
    """After five wrong tokens a client waits (429, Retry-After), doubling; other clients are not held up."""
    server, good = site.server, {"Authorization": f"Bearer {site.token}"}
    attacker = {"X-Real-IP": "198.51.100.7", "Authorization": f"Bearer {new_token()}"}
    assert [server.get("/partners/feeds/all.atom", headers=attacker).status_code for _ in range(5)] == [401] * 5
    held = server.get("/partners/feeds/all.atom", headers=attacker)
    assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
    valid = server.get("/partners/feeds/all.atom", headers={**good, "X-Real-IP": "198.51.100.7"})
    assert valid.status_code == 200, "a valid token is answered even from the address that failed"
    assert server.get("/partners/feeds/all.atom", headers={**good, "X-Real-IP": "198.51.100.8"}).status_code == 200
    assert server.get("/partners/feeds/all.atom").status_code == 401, "asking without credentials is no failure"
    assert server.get("/feeds/all.atom", headers=attacker).status_code == 200, "public feeds never wait"


def test_no_one_sharing_an_address_locks_a_partner_out(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """Wrong partner or /stats/ tokens from a NAT, an IPv6 /64 or a dual-stack socket's IPv4 clients: the valid
    partner there is answered 200 every time; a neighbour with another wrong token gets 401, not the 429 of the
    client that kept failing; IPv4 clients seen as ::ffff:a.b.c.d are told apart."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    token = add_partner(tmp_path, "acme")
    server = start_server(tmp_path, SYNDICATOR_STATS_TOKEN="stats-secret-1234")  # noqa: S106 - a test's token
    feed = "/partners/feeds/all.atom"

    def status(path: str, address: str, credential: str) -> int:
        return server.get(path, headers={"X-Real-IP": address, "Authorization": f"Bearer {credential}"}).status_code

    wrong = new_token()
    for nat, neighbour in [("198.51.100.7", "198.51.100.7"), ("2001:db8::1", "2001:db8::2")]:
        assert [status(feed, nat, wrong) for _ in range(6)] == [401] * 5 + [429]
        assert status(feed, neighbour, token) == 200
        assert status(feed, neighbour, new_token()) == 401
    assert [status("/stats/", "203.0.113.5", "not-the-stats-token") for _ in range(6)] == [401] * 5 + [429]
    assert status(feed, "203.0.113.5", token) == 200
    assert status("/stats/", "203.0.113.5", "stats-secret-1234") == 200
    assert [status(feed, "::ffff:192.0.2.10", wrong) for _ in range(6)] == [401] * 5 + [429]
    assert status(feed, "::ffff:192.0.2.99", wrong) == 401, "another IPv4 client of a dual-stack socket"
    assert status(feed, "::ffff:192.0.2.10", token) == 200


def test_only_the_hash_of_a_token_is_kept(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """partners add prints the token once; list never shows it; the SQLite file holds only its SHA-256."""
    token = add_partner(tmp_path, "acme")
    listing = run_cli("partners", "list", timeout=60)
    assert listing.returncode == 0 and "acme" in listing.stdout and token not in listing.stdout
    assert "working" in listing.stdout and "never" in listing.stdout
    database = tmp_path / ".syndicator" / PARTNERS_FILE
    raw = database.read_bytes()
    assert token.encode() not in raw and token[5:].encode() not in raw
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT token_hash FROM partners").fetchall() == [(token_hash(token),)]
    taken = run_cli("partners", "add", "acme", timeout=60)
    assert taken.returncode == 1 and "revoke it first" in taken.stderr and "Traceback" not in taken.stderr
    bad = run_cli("partners", "add", "a:b", timeout=60)
    assert bad.returncode == 1 and "not a partner name" in bad.stderr
    assert run_cli("partners", "revoke", "acme", timeout=60).returncode == 0
    again = run_cli("partners", "revoke", "acme", timeout=60)
    assert again.returncode == 1 and "no partner 'acme'" in again.stderr
    assert "revoked" in run_cli("partners", "list", timeout=60).stdout


def crawl(server: Server, start: list[str]) -> dict[str, requests.Response]:
    """Every page, feed and file of the site reachable by links from the start paths (same host only)."""
    seen: dict[str, requests.Response] = {}
    queue = list(start)
    while queue and len(seen) < 2000:
        path = queue.pop()
        if path in seen:
            continue
        answer = seen[path] = server.get(path)
        if "html" not in answer.headers.get("Content-Type", "") and "opml" not in answer.headers.get(
            "Content-Type", ""
        ):
            continue
        for href in re.findall(r'(?:href|xmlUrl|htmlUrl)="([^"]+)"', answer.text):
            url = urlsplit(urljoin(server.url + path, href))
            if f"{url.scheme}://{url.netloc}" == server.url and url.path not in seen:
                queue.append(url.path)
    return seen


def no_marker(where: str, body: bytes) -> None:
    lowered = body.lower()
    for marker in MARKERS:
        assert marker not in lowered, f"{marker!r} in {where}"


def test_partner_posts_are_on_no_public_surface(site: Site, run_cli: Callable[..., Any]) -> None:
    """Not in any public answer (pages, feeds, archives, OPML, /healthz, redirects) nor any file in output_dir."""
    server, root = site.server, site.root
    (root / "posts/zebra-plans.md").write_text(BROKEN_BRIEFING)  # a broken one: its problem is private
    server.wait_until(lambda: server.get("/healthz").json()["status"] == "degraded", what="the broken briefing")
    headers = {"Authorization": f"Bearer {site.token}"}
    assert b"Zebra Briefing" in server.get("/partners/feeds/all.atom", headers=headers).content
    feeds = root / "feeds"
    start = ["/", "/healthz", "/feeds/index.opml", "/feed/", "/feed/atom/"]
    at_root = {"sitemap.xml", "robots.txt", "favicon.ico"}  # the site's root files, written beside the feeds
    start += [
        ("/" if p.name in at_root and p.parent == feeds else "/feeds/") + p.relative_to(feeds).as_posix()
        for p in feeds.rglob("*")
        if p.is_file() and p.suffix != ".gz" and not p.name.startswith(".")  # dot-files: output_dir's own, unserved
    ]
    answers = crawl(server, start)
    assert len(answers) > 40 and any(path.startswith("/posts/") for path in answers)
    for path, answer in answers.items():
        assert answer.status_code in (200, 301), (path, answer.status_code)
        no_marker(path, answer.content + json.dumps(dict(answer.headers)).encode())
    for file in feeds.rglob("*"):
        if file.is_file():
            no_marker(str(file), gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes())
            no_marker(str(file), str(file).encode())
    never = server.get("/posts/never-was/")
    never_feed = server.get("/feeds/category/never-was.atom")
    for path in (
        "/posts/zebra-briefing/",
        "/category/zebra-desk/",
        "/category/zebra-desk/feed/",
        "/tag/q7x-tag/",
        "/author/zed-okapi/",
        "/feeds/category/zebra-desk.atom",
        "/feeds/tag/q7x-tag.rss",
        "/feeds/author/zed-okapi.json",
        "/2026/02/01/zebra-briefing/",
        "/zebra-briefing/",
    ):
        answer = server.get(path)
        unknown = never_feed if path.startswith("/feeds/") else never  # feeds' 404 is plain text, pages' the site's
        assert (answer.status_code, answer.content) == (404, unknown.content), path
    health = server.get("/healthz").json()
    assert health["next_publish_at"] is None
    assert [p["message"] for p in health["problems"]] == [PRIVATE_PROBLEM]
    check = run_cli("check", cwd=root, timeout=60)
    assert "zebra-plans.md" in check.stdout, "the publisher still sees it"


def site_urls(server: Server, document: str) -> set[str]:
    """Every address on this site that a feed document names (entity references decoded), but a category's scheme
    (Atom ``scheme``, RSS ``domain``: the taxonomy's identifier, not an address to fetch)."""
    text = html.unescape(re.sub(r'(?:scheme|domain)="[^"]*"', "", document))
    return set(re.findall(re.escape(server.url) + r"""[^\s"'<>\\]*""", text))


def test_every_address_a_partner_feed_names_answers_the_partner(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A briefing (in a category, tag and author of its own) with a featured chart, an MP3 and a PDF: every address
    of the site that any partner feed names answers the partner 200; the briefing's page and files live under
    /partners/ (401 without the token, 404 at their public addresses) and are never copied into feeds/."""
    posts = tmp_path / "posts"
    posts.mkdir()
    write_png(posts / "map.png", 40, 30)
    (posts / "news.md").write_text(post_text(title="News", categories="[Tajikistan]", body="![Map](map.png)\n"))
    brief = posts / "brief"
    write_png(brief / "chart.png", 64, 48)
    copy(EPISODE_MP3, brief / "zebra.mp3")
    (brief / "notes.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    body = "![Chart](chart.png)\n\nThe [quagga notes](notes.pdf).\n"
    fields = {"categories": "[Zebra Desk]", "tags": "[q7x-tag]", "author": "Zed Okapi", "visibility": "partners"}
    (brief / "index.md").write_text(post_text(title="Zebra", body=body, enclosures="[zebra.mp3]", **fields))
    token = add_partner(tmp_path, "acme")
    server = start_server(tmp_path)
    headers = {"Authorization": f"Bearer {token}"}
    opml = server.get("/partners/feeds/index.opml", headers=headers).text
    queue = [u for u in site_urls(server, opml) if u.endswith(".atom")]
    queue += [u[: -len("atom")] + fmt for u in queue for fmt in ("rss", "json")]
    assert f"{server.url}/partners/feeds/category/zebra-desk.json" in queue
    named: set[str] = set()
    documents: set[str] = set()
    while queue:
        url = queue.pop()
        if url in documents:
            continue
        documents.add(url)
        answer = server.get(urlsplit(url).path, headers=headers)
        assert answer.status_code == 200, url
        for found in site_urls(server, answer.text) - named:
            named.add(found)
            if urlsplit(found).path.startswith("/partners/feeds/") and found.endswith((".atom", ".rss", ".json")):
                queue.append(found)
    private = {f"{server.url}/partners/posts/brief/"}
    private |= {f"{server.url}/partners/feeds/media/brief/{name}" for name in ("chart.png", "zebra.mp3", "notes.pdf")}
    assert private <= named and f"{server.url}/feeds/media/map.png" in named, sorted(named)
    for url in sorted(named - documents):
        answer = server.get(urlsplit(url).path, headers=headers)
        assert answer.status_code == 200, (url, answer.status_code)
    page = server.get("/partners/posts/brief/", headers=headers)
    assert page.headers["Content-Type"].startswith("text/html") and page.headers["Cache-Control"].startswith("private")
    assert f'src="{server.url}/partners/feeds/media/brief/chart.png"' in page.text
    chart = server.get("/partners/feeds/media/brief/chart.png", headers=headers)
    assert chart.content == (brief / "chart.png").read_bytes() and chart.headers["Content-Type"] == "image/png"
    assert chart.headers["Cache-Control"].startswith("private") and "Access-Control-Allow-Origin" not in chart.headers
    for path in ("/partners/posts/brief/", "/partners/feeds/media/brief/chart.png"):
        assert server.get(path).status_code == 401, path
    for path in ("/posts/brief/", "/feeds/media/brief/chart.png", "/feeds/media/brief/zebra.mp3"):
        assert server.get(path).status_code == 404, path
    assert server.get("/partners/posts/news/", headers=headers).status_code == 404, "a public post's page is public"
    assert not [p for p in (tmp_path / "feeds").rglob("*") if p.name in ("chart.png", "zebra.mp3", "notes.pdf")]


def test_websub_notifications_never_carry_partner_posts(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """A new briefing notifies nobody (no public bytes change); a public edit's notification holds no briefing."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "news.md").write_text(post_text(title="News", categories="[Tajikistan]"))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1", SYNDICATOR_WEBSUB_ALLOW_PRIVATE="true")
    subscriber = Subscriber()
    try:
        for topic in ("all.atom", "category/tajikistan.rss"):
            form = {"hub.mode": "subscribe", "hub.topic": f"{server.url}/feeds/{topic}", "hub.callback": subscriber.url}
            assert requests.post(server.url + "/websub", data=form, timeout=10).status_code == 202
        server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 2, what="verification")
        (posts / "brief.md").write_text(BRIEFING)
        token = add_partner(tmp_path, "acme")
        headers = {"Authorization": f"Bearer {token}"}
        server.wait_until(
            lambda: b"Zebra" in server.get("/partners/feeds/all.atom", headers=headers).content, what="briefing"
        )
        time.sleep(2)
        assert subscriber.posts() == []
        (posts / "news.md").write_text(post_text(title="News, edited", categories="[Tajikistan]"))
        assert subscriber.wait_for(lambda: len(subscriber.posts()) >= 2, timeout=20)
        for delivery in subscriber.posts():
            assert b"News, edited" in delivery.body
            no_marker("a WebSub delivery", delivery.body + json.dumps(delivery.headers).encode())
    finally:
        subscriber.close()


def test_a_partner_pages_link_header_is_a_uri(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """A page for partners whose slug is not ASCII (Ukrainian): its ``Link: rel="self"`` carried the path's UTF-8
    bytes raw (a header is Latin-1: readers saw "Ð±Ñ..."); it is percent-encoded, as a URI in a header must be."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "brief.md").write_text(
        "---\ntitle: Брифінг\nslug: брифінг\ndate: 2025-06-01T10:00:00Z\nvisibility: partners\n---\nБрифінг.\n",  # noqa: RUF001 - Ukrainian
        encoding="utf-8",
    )
    token = add_partner(tmp_path, "acme")
    server = start_server(tmp_path)
    path = "/partners/posts/%D0%B1%D1%80%D0%B8%D1%84%D1%96%D0%BD%D0%B3/"
    page = server.get(path, headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
    assert page.headers["Link"] == f'<{server.url}{path}>; rel="self"'
