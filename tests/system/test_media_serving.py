"""Every asset URL a feed names answers with its bytes: from a real `serve`, from nginx, after a WordPress import."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import feedparser
import lxml.html
import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from support.feedcheck import check_atom
from support.feedcheck import check_json
from support.feedcheck import check_rss
from support.mediafiles import CAMELS_JPEG
from support.mediafiles import EPISODE_MP3
from support.mediafiles import PHONE_JPEG
from support.mediafiles import copy
from support.mediafiles import wordpress_uploads
from support.mediafiles import write_png
from support.nginx import running_nginx
from support.paths import DATA
from support.server import Server
from syndicator.cli import cli
from syndicator.core.namespaces.media import URI as MEDIA_NS

ATOM = "{http://www.w3.org/2005/Atom}"
WORDPRESS = DATA / "wordpress" / "wp6-blocks.xml"


def html_urls(fragment: str) -> list[str]:
    """The src, href, poster and srcset URLs of an HTML fragment."""
    if not fragment.strip():
        return []
    urls = []
    for element in lxml.html.fragment_fromstring(fragment, create_parent="div").iter():
        urls += [element.get(a) for a in ("src", "href", "poster") if element.get(a)]
        urls += [c.split()[0] for c in (element.get("srcset") or "").split(",") if c.strip()]
    return urls


def named_urls(path: str, body: bytes) -> set[str]:
    """Every URL a feed file names in its media elements, enclosures, attachments and content."""
    urls: list[str] = []
    if path.endswith(".json"):
        for item in check_json(body)["items"]:
            urls += [item.get("image", ""), *(a["url"] for a in item.get("attachments", []))]
            urls += html_urls(item["content_html"])
        return set(filter(None, urls))
    root = check_atom(body) if path.endswith(".atom") else check_rss(body)
    for element in root.iter():
        if element.tag in (f"{{{MEDIA_NS}}}content", f"{{{MEDIA_NS}}}thumbnail", "enclosure"):
            urls.append(element.get("url", ""))
        elif element.tag == ATOM + "link" and element.get("rel") == "enclosure":
            urls.append(element.get("href", ""))
        elif element.tag in (ATOM + "content", "{http://purl.org/rss/1.0/modules/content/}encoded"):
            urls += html_urls(element.text or "")
    return set(filter(None, urls))


def asset_urls(base: str, feeds: dict[str, bytes]) -> set[str]:
    """The URLs under ``<base>/feeds/media/`` that the feeds name."""
    return {u for path, body in feeds.items() for u in named_urls(path, body) if u.startswith(f"{base}/feeds/media/")}


def fetch_feeds(server: Server) -> dict[str, bytes]:
    feeds = {}
    for path in ("all.atom", "all.rss", "all.json"):
        response = server.get(f"/feeds/{path}")
        assert response.status_code == 200, path
        feeds[path] = response.content
    return feeds


def check_asset(get: Callable[..., requests.Response], path: str, source: Path, media_type: str) -> None:
    """One asset as a careful client sees it: bytes, type, length, strong ETag and its 304, a byte range."""
    response = get(path)
    assert response.status_code == 200, path
    assert response.content == source.read_bytes(), path
    assert response.headers["Content-Type"] == media_type
    assert response.headers["Content-Length"] == str(source.stat().st_size)
    etag = response.headers["ETag"]
    assert etag.startswith('"') and response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    part = get(path, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == source.read_bytes()[:4]


def write_media_site(site: Path) -> dict[str, tuple[Path, str]]:
    """Posts with images, audio and a PDF, flat and bundled; returns each asset's URL path, source and type."""
    posts = site / "posts"
    copy(PHONE_JPEG, posts / "2024-05-04-trip" / "phone.jpg")
    copy(EPISODE_MP3, posts / "2024-05-04-trip" / "épisode 1.mp3")
    copy(CAMELS_JPEG, posts / "images" / "camels.jpg")
    write_png(posts / "images" / "camels@2x.png", 64, 32)
    (posts / "images" / "notes.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    (posts / "2024-05-04-trip" / "index.md").write_text(
        "---\ntitle: Trip\ndate: 2024-05-04\ncategories: [Travel]\n"
        "image: {src: phone.jpg, alt: On the road}\nenclosures: ['épisode 1.mp3']\n---\n"
        "Day one ![camels](../images/camels.jpg) and [the notes](../images/notes.pdf).\n",
        encoding="utf-8",
    )
    (posts / "2024-05-05-market.md").write_text(
        '---\ntitle: Market\ndate: 2024-05-05\ncategories: [Travel]\n---\n<img src="images/camels.jpg" '
        'srcset="images/camels.jpg 1x, images/camels@2x.png 2x" alt="Stalls">\n',
        encoding="utf-8",
    )
    return {
        "/feeds/media/2024-05-04-trip/phone.jpg": (posts / "2024-05-04-trip" / "phone.jpg", "image/jpeg"),
        "/feeds/media/2024-05-04-trip/%C3%A9pisode%201.mp3": (
            posts / "2024-05-04-trip" / "épisode 1.mp3",
            "audio/mpeg",
        ),
        "/feeds/media/images/camels.jpg": (posts / "images" / "camels.jpg", "image/jpeg"),
        "/feeds/media/images/camels@2x.png": (posts / "images" / "camels@2x.png", "image/png"),
        "/feeds/media/images/notes.pdf": (posts / "images" / "notes.pdf", "application/pdf"),
    }


def test_serve_and_nginx_answer_every_asset_a_feed_names(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    """Each /feeds/media/ URL in the feeds is answered by `serve` and by deploy/nginx.conf with the file's bytes."""
    site = tmp_path / "site"
    expected = write_media_site(site)
    server = start_server(site)
    feeds = fetch_feeds(server)
    for path, body in feeds.items():
        if path.endswith((".atom", ".rss")):
            assert feedparser.parse(body).bozo == 0
    urls = asset_urls(server.url, feeds)
    assert {u.removeprefix(server.url) for u in urls} == set(expected)
    served_types = {}
    for path, (source, media_type) in expected.items():
        check_asset(server.get, path, source, media_type)
        served_types[path] = server.get(path).headers["Content-Type"]
    assert server.get("/feeds/media/images/unused.png").status_code == 404
    assert server.get("/feeds/media/../posts/2024-05-05-market.md").status_code == 404
    with running_nginx(tmp_path, site, f"127.0.0.1:{server.port}") as nginx:
        for path, (source, media_type) in expected.items():
            check_asset(lambda p, **kw: requests.get(nginx + p, timeout=5, **kw), path, source, media_type)
            assert requests.get(nginx + path, timeout=5).headers["Content-Type"] == served_types[path]
        (site / "feeds" / "media" / "images" / ".camels.jpg.x1y2z3a4.tmp").write_bytes(b"partial")
        assert requests.get(nginx + "/feeds/media/images/.camels.jpg.x1y2z3a4.tmp", timeout=5).status_code == 404


def test_a_served_asset_follows_its_file(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    """Replacing an asset gives it a new ETag and bytes once the reload ran; its old ETag no longer answers 304."""
    site = tmp_path / "site"
    image = write_png(site / "posts" / "x.png", 10, 10)
    (site / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2024-05-04\n---\n![x](x.png)\n")
    server = start_server(site, SYNDICATOR_RELOAD_INTERVAL="1")
    first = server.get("/feeds/media/x.png")
    assert first.status_code == 200 and first.content == image.read_bytes()
    write_png(image, 40, 20, (10, 200, 10))
    server.wait_until(lambda: server.get("/feeds/media/x.png").content == image.read_bytes(), what="the new bytes")
    assert server.get("/feeds/media/x.png", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    server.wait_until(lambda: b'width="40"' in server.get("/feeds/all.atom").content, what="the new size in the feed")


def test_a_wordpress_import_publishes_its_images_and_audio(
    tmp_path: Path, start_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import wp6-blocks.xml with --media from a folder of real files, serve it: feeds carry and serve the media."""
    uploads = tmp_path / "uploads"
    wordpress_uploads(uploads)
    site = tmp_path / "site"
    site.mkdir()
    config = site / "syndicator.toml"
    config.write_text('posts_dir = "posts"\nstate_dir = ".syndicator"\n')
    monkeypatch.chdir(site)
    result = CliRunner().invoke(
        cli, ["import", "wordpress", str(WORDPRESS), "--media", str(uploads), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "7 fetched, 0 failed" in result.output
    server = start_server(site)
    assert server.get("/healthz").json()["problems"] == []
    feeds = fetch_feeds(server)
    base = server.url + "/feeds/media/uploads/2023/"
    items = {item["title"]: item for item in json.loads(feeds["all.json"])["items"]}
    caravan = items["Caravan cities: Bukhara & Samarkand"]
    assert caravan["image"] == base + "03/photo.jpg"
    atom = etree.fromstring(feeds["all.atom"])
    content = next(e for e in atom.iter(f"{{{MEDIA_NS}}}content") if e.get("url") == base + "03/photo.jpg")
    assert (content.get("width"), content.get("height"), content.get("type")) == ("1024", "683", "image/jpeg")
    episode = items["Episode one: the road east"]
    assert episode["attachments"][0] == {
        "url": base + "04/episode-1.mp3",
        "mime_type": "audio/mpeg",
        "size_in_bytes": EPISODE_MP3.stat().st_size,
        "title": "Episode one",
        "duration_in_seconds": 1,  # one second of sound (tests/data/media/README.md)
    }
    assert {a["url"] for a in episode["attachments"]} >= {base + "04/clip.mp4", base + "04/notes.pdf"}
    rss = etree.fromstring(feeds["all.rss"])
    (enclosure,) = next(i for i in rss.iter("item") if i.findtext("title") == "Episode one: the road east").iter(
        "enclosure"
    )
    assert (enclosure.get("url"), enclosure.get("type")) == (base + "04/episode-1.mp3", "audio/mpeg")
    urls = asset_urls(server.url, feeds)
    assert len(urls) == 7
    for url in urls:
        relative = unquote(url.removeprefix(base))
        source = uploads / "2023" / relative
        response = server.get(url.removeprefix(server.url))
        assert response.status_code == 200 and response.content == source.read_bytes(), url
    assert re.search(r'<audio controls="" src="[^"]+/episode-1\.mp3">', episode["content_html"])


RANGES = (
    ("bytes={size}-", 416),  # starts at the end: unsatisfiable
    ("bytes=999999999-", 416),
    ("bytes=999999999-999999999999", 416),
    ("bytes=5-2", 200),  # last before first: invalid, ignored
    ("bytes=abc", 200),
    ("bytes=1-x", 200),
    ("items=0-3", 200),  # a unit we do not serve
    ("bytes=0-3,6-9", 200),  # several ranges: served whole rather than as multipart
    ("bytes=0-3", 206),
    ("bytes=-4", 206),
    ("bytes=-0", 416),  # the last no bytes: unsatisfiable (RFC 9110 §14.1.1), where Werkzeug reads "0-"
)


def test_an_asset_answers_every_range_without_failing(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    """RFC 9110 §14.2: an unsatisfiable Range is a 416 naming the size; an invalid one is ignored (200), never a 500."""
    site = tmp_path / "site"
    image = write_png(site / "posts" / "x.png", 10, 10)
    (site / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2024-05-04\n---\n![x](x.png)\n")
    size = image.stat().st_size
    server = start_server(site)
    url = server.url + "/feeds/media/x.png"
    for header, status in RANGES:
        for method in (requests.get, requests.head):
            response = method(url, headers={"Range": header.format(size=size)}, timeout=10)
            assert response.status_code == status, (header, method, response.status_code)
            if status == 416:
                assert response.headers["Content-Range"] == f"bytes */{size}", header
            elif status == 200:
                assert response.headers["Content-Length"] == str(size), header
                assert method is requests.head or response.content == image.read_bytes(), header
            else:
                assert response.headers["Content-Length"] == "4", header
    for longer in (size + 1, 999999999):  # a suffix longer than the file: all of it (RFC 9110 §14.1.3), as nginx
        whole = requests.get(url, headers={"Range": f"bytes=-{longer}"}, timeout=10)
        assert whole.status_code == 206 and whole.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}", longer
        assert whole.content == image.read_bytes()
    etag = server.get("/feeds/media/x.png").headers["ETag"]
    unchanged = server.get("/feeds/media/x.png", headers={"Range": "bytes=999999999-", "If-None-Match": etag})
    assert unchanged.status_code == 304  # RFC 9110 §13.2.2: If-None-Match is evaluated before Range
    assert "Traceback" not in server.log.read_text()
