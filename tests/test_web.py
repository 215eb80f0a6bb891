"""HTTP behaviour through Flask's test client: feeds, conditional GET, gzip, pages, redirects, /healthz."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.factories import NOW
from support.feedcheck import check_atom
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.output import FilesOutput

MEDIA = {
    "/feeds/all.atom": "application/atom+xml; charset=utf-8",
    "/feeds/all.rss": "application/rss+xml; charset=utf-8",
    "/feeds/category/alpha.json": "application/feed+json; charset=utf-8",
    "/feeds/index.opml": "text/x-opml; charset=utf-8",
}


@pytest.mark.parametrize(("path", "media_type"), MEDIA.items())
def test_feed_headers(client: Any, path: str, media_type: str) -> None:
    """Media type, strong ETag, Last-Modified, caching, CORS, Vary."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    assert response.headers["ETag"].startswith('"') and not response.headers["ETag"].startswith("W/")
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Vary"] == "Accept-Encoding"


def test_feed_body_is_the_file_on_disk(client: Any, settings: Any) -> None:
    """The served bytes are exactly the static file's."""
    assert client.get("/feeds/category/alpha.atom").data == (settings.output_dir / "category/alpha.atom").read_bytes()
    check_atom(client.get("/feeds/category/alpha.atom").data)


def test_if_none_match_gives_304(client: Any) -> None:
    """A matching ETag answers 304 with no body."""
    etag = client.get("/feeds/all.atom").headers["ETag"]
    response = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert client.get("/feeds/all.atom", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since_compares_dates(client: Any) -> None:
    """If-Modified-Since at or after Last-Modified is 304; earlier is 200; any date format."""
    last_modified = client.get("/feeds/all.atom").headers["Last-Modified"]
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": last_modified}).status_code == 304
    later = "Fri, 31 Dec 2100 23:59:59 GMT"
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": later}).status_code == 304
    earlier = "Sunday, 06-Nov-1994 08:49:37 GMT"
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": earlier}).status_code == 200


def test_gzip_has_its_own_etag_and_either_tag_gets_304(client: Any) -> None:
    """gzip when allowed, with its own strong ETag; a request with either tag gets its 304."""
    plain = client.get("/feeds/all.atom")
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    for tag in (plain.headers["ETag"], zipped.headers["ETag"]):
        for encoding in ("gzip", "identity"):
            response = client.get("/feeds/all.atom", headers={"If-None-Match": tag, "Accept-Encoding": encoding})
            assert response.status_code == 304
    refused = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_head_works(client: Any) -> None:
    """HEAD answers the headers of GET without the body."""
    response = client.head("/feeds/all.rss")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["ETag"] == client.get("/feeds/all.rss").headers["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/",
        "/feeds/nope.atom",
        "/feeds/category/unknown.atom",
        "/feeds/category/alpha.xml",
        "/feeds/../pyproject.toml",
        "/feeds/%2e%2e/%2e%2e/etc/passwd",
        "/feeds/..%2fposts/2025-06-01-first.md",
        "/category/unknown/",
        "/posts/unknown/",
        "/nothing/here",
        "/category/unknown/feed/",
        "/feeds/" + "a" * 5000,
    ],
)
def test_unknown_paths_are_404(client: Any, path: str) -> None:
    """Anything unknown is 404, never 500, never bytes from outside the feeds."""
    response = client.get(path)
    assert response.status_code == 404
    assert b"title:" not in response.data
    if path.startswith("/feeds/"):  # as a feed's answers: readable from a page, and kept by no cache
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/feed/", "/feeds/all.rss"),
        ("/feed/atom/", "/feeds/all.atom"),
        ("/category/alpha/feed/", "/feeds/category/alpha.rss"),
        ("/category/alpha/feed/atom/", "/feeds/category/alpha.atom"),
    ],
)
def test_wordpress_feed_urls_redirect(client: Any, path: str, location: str) -> None:
    """Old WordPress feed URLs answer 301 to the new feeds."""
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"].endswith(location)


def test_healthz(client: Any) -> None:
    """/healthz reports status, counts, load time and problems."""
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["posts"] == 2 and body["categories"] == 2
    assert body["loaded_at"] == "2026-01-01T12:00:00+00:00"
    assert body["problems"] == []


def test_healthz_degraded_with_problems(client: Any, builder: Any, write_post: Any) -> None:
    """A problem makes the status degraded (still HTTP 200) and lists path, line and message."""
    write_post("broken.md", text="no front matter\n")
    builder.reload(NOW)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["problems"] == [
        {"path": body["problems"][0]["path"], "line": 1, "message": body["problems"][0]["message"]}
    ]
    assert body["problems"][0]["path"] == "broken.md"
    assert body["posts"] == 2


def test_healthz_lists_the_first_hundred_problems_and_counts_them_all(
    client: Any, builder: Any, write_post: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site of 250 broken posts: /healthz (polled by monitors) lists 100 problems and says there are 250, where it
    sent every one each time; `check` lists all 250."""
    for n in range(250):
        write_post(f"broken-{n:03d}.md", text="no front matter\n")
    builder.reload(NOW)
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and body["problems_total"] == 250
    assert [p["path"] for p in body["problems"]] == [f"broken-{n:03d}.md" for n in range(100)]
    assert body["gone"] == [] and body["gone_total"] == 0
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert len([line for line in result.stdout.splitlines() if "broken-" in line]) == 250


def test_pages(client: Any) -> None:
    """Index, category archive and post pages render with autodiscovery links."""
    index = client.get("/").get_data(as_text=True)
    assert "Test Site" in index and "Alpha" in index and "(2 posts)" in index
    assert "/feeds/index.opml" in index
    category = client.get("/category/alpha/").get_data(as_text=True)
    assert "Category Archives: Alpha" in category
    assert category.index("feeds/category/alpha.atom") < category.index("feeds/all.atom")
    assert "Continue reading" in category and "Filed under" in category
    post = client.get("/posts/first/")
    assert post.status_code == 200 and "First" in post.get_data(as_text=True)
    assert "Content-Security-Policy" in post.headers
    assert post.headers["X-Content-Type-Options"] == "nosniff"


def test_if_none_match_compares_weakly(client: Any) -> None:
    """RFC 9110: ``W/"tag"`` in If-None-Match matches the strong ETag "tag" (and the gzip one)."""
    first = client.get("/feeds/all.atom")
    weak = "W/" + first.headers["ETag"]
    assert client.get("/feeds/all.atom", headers={"If-None-Match": weak}).status_code == 304
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert client.get("/feeds/all.atom", headers={"If-None-Match": "W/" + zipped.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", ["/feed", "/feed/", "/category/alpha/feed/atom", "/category/alpha"])
def test_redirects_never_take_their_host_from_the_request(client: Any, path: str) -> None:
    """Every Location is under site_url, whatever Host and scheme the request claims."""
    response = client.get(path, headers={"Host": "evil.example"}, base_url="http://evil.example")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].startswith("https://example.org/")


def test_serve_answers_from_the_first_moment(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Before the first load, the feeds an earlier run wrote are served (with their ETags); others 503."""
    write_post("a.md", title="A", categories="[One]")
    settings = make_settings()
    Builder(settings, FilesOutput()).reload(NOW)
    written = (settings.output_dir / "category/one.atom").read_bytes()
    starting = Builder(settings)
    starting.serve_stored(NOW)
    client = create_app(settings, starting).test_client()
    assert client.get("/healthz").get_json()["status"] == "starting"
    feed = client.get("/feeds/category/one.atom")
    assert feed.status_code == 200 and feed.data == written and feed.headers["ETag"]
    assert client.get("/feeds/category/one.atom", headers={"If-None-Match": feed.headers["ETag"]}).status_code == 304
    # The root's files are made by the first load: not yet there is not "none" (a 404 robots.txt allows everything).
    for path in ["/feeds/category/two.atom", "/", "/posts/a/", "/sitemap.xml", "/robots.txt", "/favicon.ico"]:
        answer = client.get(path)
        assert answer.status_code == 503 and answer.headers["Retry-After"], path
    starting.reload(NOW)
    for path in ["/sitemap.xml", "/robots.txt", "/favicon.ico"]:
        assert client.get(path).status_code == 200, path
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/feeds/category/one.atom").headers["ETag"] == feed.headers["ETag"]
