"""WordPress import --media: the posts' uploads come from a folder or the old site, and the posts refer to them."""

from __future__ import annotations

import contextlib
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from click.testing import CliRunner

from support.commands import run_import
from support.factories import wxr_export
from support.factories import wxr_item
from support.paths import DATA
from syndicator.cli import cli
from syndicator.importers.items import ImportReport
from syndicator.importers.media import Uploads
from syndicator.importers.wordpress import import_wordpress

DATA = DATA / "wordpress"
BLOCKS = DATA / "wp6-blocks.xml"
WPCOM = DATA / "wpcom.xml"
UPLOADS = {  # what the old site's wp-content/uploads holds
    "2023/03/photo.jpg": b"JPEG photo",
    "2023/03/photo-1024x683.jpg": b"JPEG photo, large",
    "2023/03/market.jpg": b"JPEG market",
    "2023/04/episode-1.mp3": b"ID3 episode one",
    "2023/04/clip.mp4": b"MP4 clip",
    "2023/04/poster.jpg": b"JPEG poster",
    "2023/04/notes.pdf": b"%PDF notes",
}


class OldSite(BaseHTTPRequestHandler):
    """The old host: serves UPLOADS under /wp-content/uploads/, and a few bad answers."""

    files: ClassVar[dict[str, bytes]] = {}
    slow: ClassVar[set[str]] = set()  # paths answered only after the client gave up
    huge: ClassVar[set[str]] = set()  # paths whose body is larger than any cap in these tests
    short: ClassVar[set[str]] = set()  # paths whose answer stops before its Content-Length
    moved: ClassVar[dict[str, str]] = {}  # path -> where a 302 sends the client
    asked: ClassVar[list[str]] = []  # every path requested, in order
    trickle: ClassVar[dict[str, str]] = {}  # path -> "head" or "body": that part comes one byte a second
    stop: ClassVar[threading.Event] = threading.Event()  # set when the test ends: trickling stops

    def do_GET(self) -> None:
        self.asked.append(self.path)
        path = self.path.removeprefix("/wp-content/uploads/")
        if path in self.trickle:
            self.drip(self.trickle[path])
            return
        if path in self.moved:
            self.send_response(302)
            self.send_header("Location", self.moved[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path in self.short:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only the start")
            self.close_connection = True
            return
        if path in self.slow:
            time.sleep(1.5)
        if path in self.huge:
            self.send_response(200)
            self.end_headers()  # no Content-Length: the size shows only while reading
            self.wfile.write(b"x" * 200_000)
            return
        body = self.files.get(path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def drip(self, part: str) -> None:
        """A 100 kB answer sent one byte a second, from its first byte ("head") or after its headers ("body")."""
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000
        start = 0 if part == "head" else answer.index(b"\r\n\r\n") + 4
        try:
            self.wfile.write(answer[:start])
            for byte in answer[start:]:
                if self.stop.wait(1.0):
                    return
                self.wfile.write(bytes([byte]))
        except OSError:
            self.close_connection = True  # the client gave up: what the test waits for

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@dataclass
class Site:
    url: str  # the uploads URL base
    handler: type[OldSite]  # its files and bad answers, changeable by the test


@pytest.fixture
def old_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A real HTTP server on loopback standing in for the old WordPress host."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    handler = type(
        "Handler",
        (OldSite,),
        {
            "files": dict(UPLOADS),
            "slow": set(),
            "huge": set(),
            "short": set(),
            "moved": {},
            "asked": [],
            "trickle": {},
            "stop": threading.Event(),
        },
    )
    with serving("127.0.0.1", handler) as port:
        yield Site(f"http://127.0.0.1:{port}/wp-content/uploads/", handler)
        handler.stop.set()


@pytest.fixture
def internal() -> Iterator[Site]:
    """A service on another loopback address (127.0.0.2), standing in for one the old site must not reach."""
    handler = type("Handler", (OldSite,), {"files": {"latest/meta-data/": b"SECRET"}, "asked": []})
    with serving("127.0.0.2", handler) as port:
        yield Site(f"http://127.0.0.2:{port}/wp-content/uploads/", handler)


@contextlib.contextmanager
def serving(address: str, handler: type[OldSite]) -> Iterator[int]:
    """A real HTTP server on a loopback address, on a free port, for the block's time."""
    server = ThreadingHTTPServer((address, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def read_post(path: Path) -> tuple[dict[str, object], str]:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(front), body


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_media_urls_stay_on_the_old_site(in_tmp: Path) -> None:
    """Without --media, every upload keeps its absolute URL and nothing is copied."""
    run_import(BLOCKS, in_tmp)
    _, body = read_post(in_tmp / "posts" / "2023-03-10-caravan-cities.md")
    assert "http://blog.example.org/wp-content/uploads/2023/03/photo-1024x683.jpg" in body
    assert not (in_tmp / "posts" / "uploads").exists()


def test_media_from_a_folder(in_tmp: Path) -> None:
    """--media DIR (a copy of wp-content/uploads): the files a post uses are copied, references made relative."""
    uploads = in_tmp / "wp-uploads"
    for name, data in UPLOADS.items():
        (uploads / name).parent.mkdir(parents=True, exist_ok=True)
        (uploads / name).write_bytes(data)
    result = run_import(BLOCKS, in_tmp, "--media", str(uploads))
    assert result.exit_code == 0, result.output
    assert "media: 7 fetched, 0 failed" in result.output
    posts = in_tmp / "posts"
    assert (posts / "uploads/2023/03/photo.jpg").read_bytes() == b"JPEG photo"
    meta, body = read_post(posts / "2023-03-10-caravan-cities.md")
    assert meta["image"] == {"src": "uploads/2023/03/photo.jpg", "alt": "Camels at the caravanserai"}
    assert '<a href="uploads/2023/03/photo.jpg"><img src="uploads/2023/03/photo-1024x683.jpg"' in body
    assert "blog.example.org" not in body and "srcset" not in body
    episode, body = read_post(posts / "2023-04-02-episode-one.md")
    assert episode["enclosures"] == [
        {"url": "uploads/2023/04/episode-1.mp3", "title": "Episode one"},
        "uploads/2023/04/clip.mp4",
        {"url": "uploads/2023/04/notes.pdf", "title": "Show notes"},
        {"url": "https://cdn.example.net/episode-1.m4a", "type": "audio/x-m4a", "length": 2048},  # not an upload
    ]
    assert 'poster="uploads/2023/04/poster.jpg"' in body
    again = run_import(BLOCKS, in_tmp, "--media", str(uploads))
    assert "media: 0 fetched, 0 failed" in again.output and "6 unchanged" in again.output


def test_media_fetched_from_the_old_site(in_tmp: Path, old_site: Site) -> None:
    """--media URL: uploads are fetched over HTTP from the URL base (with or without its final slash)."""
    result = run_import(BLOCKS, in_tmp, "--media", old_site.url.rstrip("/"), "--media-allow-private")
    assert result.exit_code == 0, result.output
    assert "media: 7 fetched, 0 failed" in result.output
    assert (in_tmp / "posts/uploads/2023/04/episode-1.mp3").read_bytes() == b"ID3 episode one"


def test_bad_answers_keep_the_remote_url(tmp_path: Path, old_site: Site) -> None:
    """404, a slow answer and a too large file each give a warning; the post keeps the old URL for them."""
    posts = tmp_path / "posts"
    site = old_site.handler
    del site.files["2023/04/notes.pdf"]
    site.slow.add("2023/04/clip.mp4")
    site.huge.add("2023/04/episode-1.mp3")
    report = import_wordpress(
        BLOCKS,
        posts,
        tmp_path / "state",
        media=old_site.url,
        media_timeout=0.5,
        media_max_bytes=100_000,
        media_allow_private=True,
    )
    assert report.media_failed == {
        "2023/04/notes.pdf": "HTTP 404",
        "2023/04/clip.mp4": "no answer within 0.5 s",
        "2023/04/episode-1.mp3": "larger than 100000 bytes",
    }
    assert report.media_fetched == 4
    meta, body = read_post(posts / "2023-04-02-episode-one.md")
    assert meta["enclosures"][0]["url"] == "http://blog.example.org/wp-content/uploads/2023/04/episode-1.mp3"
    assert 'src="http://blog.example.org/wp-content/uploads/2023/04/clip.mp4"' in body
    assert 'poster="uploads/2023/04/poster.jpg"' in body
    assert not (posts / "uploads/2023/04/episode-1.mp3").exists()


def test_media_url_at_a_private_address_needs_the_flag(in_tmp: Path, old_site: Site) -> None:
    """Without --media-allow-private, a --media URL on loopback is refused before anything is written or asked."""
    result = run_import(BLOCKS, in_tmp, "--media", old_site.url)
    assert result.exit_code == 1
    assert "--media: 127.0.0.1 is not a public address (--media-allow-private allows" in result.output
    assert old_site.handler.asked == []
    assert not (in_tmp / "posts").exists()


def test_a_media_host_that_cannot_be_looked_up_is_each_files_failure(in_tmp: Path) -> None:
    """--media URL whose host has no address (a .invalid name never resolves): the import goes on, each file is
    reported failed and its posts keep the old URL, as with a folder that lacks the file."""
    result = run_import(BLOCKS, in_tmp, "--media", "http://old-site.invalid/wp-content/uploads/")
    assert result.exit_code == 0, result.output
    assert "cannot look up old-site.invalid" in result.output
    assert "media: 0 fetched, 7 failed" in result.output
    meta, body = read_post(in_tmp / "posts" / "2023-03-10-caravan-cities.md")
    assert "http://blog.example.org/wp-content/uploads/2023/03/photo-1024x683.jpg" in body
    assert meta["image"] == {
        "src": "http://blog.example.org/wp-content/uploads/2023/03/photo.jpg",
        "alt": "Camels at the caravanserai",
    }
    assert not (in_tmp / "posts" / "uploads").exists()


@pytest.mark.parametrize(
    "where",
    [
        "{internal}latest/meta-data/",  # another loopback address, where a service listens
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service (link-local)
        "http://[::1]:9/",
        "http://10.0.0.1/wp-content/uploads/2023/03/photo.jpg",
        "http://0x7f000002/",  # 127.0.0.2 written as one number
    ],
)
def test_a_redirect_to_a_private_address_is_refused(in_tmp: Path, old_site: Site, internal: Site, where: str) -> None:
    """A redirect to a private, loopback or link-local address is that file's failure; the rest comes over.

    The old site itself is on loopback (so the flag is on): the old site's redirects
    are still held to public addresses, or back to the old site's own address.
    """
    old_site.handler.moved["2023/03/photo.jpg"] = where.format(internal=internal.url)
    result = run_import(BLOCKS, in_tmp, "--media", old_site.url, "--media-allow-private")
    assert result.exit_code == 0, result.output
    assert "media: 6 fetched, 1 failed" in result.output
    assert "media not brought over 2023/03/photo.jpg: refused redirect: " in result.output
    assert "is not a public address" in result.output
    assert internal.handler.asked == []
    posts = in_tmp / "posts"
    assert not (posts / "uploads/2023/03/photo.jpg").exists()
    meta, body = read_post(posts / "2023-03-10-caravan-cities.md")
    assert meta["image"] == {
        "src": "http://blog.example.org/wp-content/uploads/2023/03/photo.jpg",
        "alt": "Camels at the caravanserai",
    }
    assert '<a href="http://blog.example.org/wp-content/uploads/2023/03/photo.jpg">' in body
    assert (posts / "uploads/2023/03/market.jpg").read_bytes() == b"JPEG market"


@pytest.mark.parametrize(
    ("location", "served_as"),
    [
        ("/wp-content/uploads/2023/03/photo-moved.jpg", "2023/03/photo-moved.jpg"),
        ("/wp-content/uploads/2023/03/café.jpg".encode().decode("latin-1"), "2023/03/caf%C3%A9.jpg"),  # UTF-8 bytes
    ],
)
def test_a_redirect_back_to_the_old_site_is_followed(
    tmp_path: Path, old_site: Site, location: str, served_as: str
) -> None:
    """A redirect to another path on the old site's own address is followed (non-ASCII in it percent-encoded)."""
    site = old_site.handler
    site.moved["2023/03/photo.jpg"] = location
    site.files[served_as] = b"JPEG photo, moved"
    report = import_wordpress(
        BLOCKS, tmp_path / "posts", tmp_path / "state", media=old_site.url, media_allow_private=True
    )
    assert report.media_failed == {} and report.media_fetched == 7
    assert (tmp_path / "posts/uploads/2023/03/photo.jpg").read_bytes() == b"JPEG photo, moved"


def test_endless_redirects_and_cut_answers_are_one_files_failure(tmp_path: Path, old_site: Site) -> None:
    """A redirect loop is cut after 5 hops; an answer shorter than its Content-Length is not kept as the file."""
    site = old_site.handler
    site.moved["2023/03/photo.jpg"] = "/wp-content/uploads/2023/03/photo.jpg"
    site.short.add("2023/03/market.jpg")
    report = import_wordpress(
        BLOCKS, tmp_path / "posts", tmp_path / "state", media=old_site.url, media_allow_private=True
    )
    assert report.media_failed == {
        "2023/03/photo.jpg": "more than 5 redirects",
        "2023/03/market.jpg": "the answer broke off 986 bytes short",
    }
    assert site.asked.count("/wp-content/uploads/2023/03/photo.jpg") == 6
    assert report.media_fetched == 5
    assert not (tmp_path / "posts/uploads/2023/03/market.jpg").exists()


@pytest.mark.parametrize(("part", "reason"), [("head", "no answer within 2 s"), ("body", "took longer than 2 s")])
def test_a_trickling_server_is_cut_at_the_files_deadline(
    tmp_path: Path, old_site: Site, part: str, reason: str
) -> None:
    """A server sending one byte a second (never idle long enough for a read timeout) is cut at the file's deadline."""
    old_site.handler.trickle["2023/04/clip.mp4"] = part  # the whole answer would take 28 hours
    reports: list[ImportReport] = []
    posts = tmp_path / "posts"

    def run() -> None:
        reports.append(
            import_wordpress(
                BLOCKS, posts, tmp_path / "state", media=old_site.url, media_allow_private=True, media_timeout=2
            )
        )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)  # bounds the test; the import itself gives up on the file after 2 s
    assert not worker.is_alive(), "the import still waits for a server trickling one byte a second"
    assert reports[0].media_failed == {"2023/04/clip.mp4": reason}
    assert reports[0].media_fetched == 6
    assert not (posts / "uploads/2023/04/clip.mp4").exists()


def test_an_upload_that_cannot_be_a_file_is_that_files_problem(in_tmp: Path, old_site: Site) -> None:
    """A name over 255 bytes, or a file where a folder must be (or the reverse), fails that file alone."""
    long, longest = "x" * 300 + ".jpg", "y" * 251 + ".jpg"  # 304 bytes; 255 bytes, a file name's limit
    uploads = "http://blog.example.org/wp-content/uploads/2020/01"
    old_site.handler.files.update({f"2020/01/{name}": name.encode() for name in ("a.jpg", "d/e.jpg", longest)})
    export = in_tmp / "export.xml"
    export.write_text(
        wxr_export(
            wxr_item(1, content=f'<img src="{uploads}/{long}">'),
            wxr_item(2, content=f'<img src="{uploads}/a.jpg"> <img src="{uploads}/a.jpg/b.jpg">'),
            wxr_item(3, content=f'<img src="{uploads}/d/e.jpg"> <img src="{uploads}/d">'),
            wxr_item(4, content=f'<img src="{uploads}/{longest}">'),
            wxr_item(5, post_name="z" * 250),  # its file's name would be 264 bytes long
        )
    )
    result = run_import(export, in_tmp, "--media", old_site.url, "--media-allow-private")
    assert result.exit_code == 0, result.output
    assert "imported 4 posts" in result.output and "media: 3 fetched, 3 failed" in result.output
    assert f"media not brought over 2020/01/{long}: a part of its name is longer than 255 bytes" in result.output
    assert "media not brought over 2020/01/a.jpg/b.jpg: uploads/2020/01/a.jpg is a file" in result.output
    assert "media not brought over 2020/01/d: uploads/2020/01/d is a folder" in result.output
    assert "skipped malformed post 5 (item 5): slug is 250 bytes long, over 200" in result.output  # as check says
    posts = in_tmp / "posts"
    assert (posts / "uploads/2020/01" / longest).read_bytes() == longest.encode()
    _, body = read_post(posts / "2020-01-01-post-1.md")
    assert f'src="{uploads}/{long}"' in body
    _, body = read_post(posts / "2020-01-01-post-2.md")
    assert 'src="uploads/2020/01/a.jpg"' in body and f'src="{uploads}/a.jpg/b.jpg"' in body
    redirects = tomllib.loads((in_tmp / "syndicator.toml").read_text())["redirects"]["post"]
    assert redirects == {str(n): f"post-{n}" for n in (1, 2, 3, 4)}
    assert CliRunner().invoke(cli, ["check"]).exit_code == 0


def test_wordpress_com_media_hosts(tmp_path: Path, old_site: Site) -> None:
    """*.files.wordpress.com and *.wordpress.com/wp-content/uploads URLs are uploads too (query strings dropped)."""
    old_site.handler.files.update(
        {"2023/03/horses.jpg": b"JPEG horses", "2023/03/hoofbeats.mp3": b"ID3", "2023/03/map.pdf": b"%PDF"}
    )
    report = import_wordpress(
        WPCOM, tmp_path / "posts", tmp_path / "state", media=old_site.url, media_allow_private=True
    )
    assert report.media_failed == {} and report.media_fetched == 3
    meta, body = read_post(tmp_path / "posts" / "2023-03-01-horses-of-kyrgyzstan.md")
    assert meta["image"] == "uploads/2023/03/horses.jpg"
    assert 'src="uploads/2023/03/horses.jpg"' in body and 'href="uploads/2023/03/map.pdf"' in body
    assert meta["enclosures"] == ["uploads/2023/03/hoofbeats.mp3"]


def test_media_must_be_a_folder_or_url(in_tmp: Path) -> None:
    """--media naming neither a folder nor an http(s) URL is one clear error, before anything is written."""
    result = CliRunner().invoke(cli, ["import", "wordpress", str(BLOCKS), "--media", "nowhere"])
    assert result.exit_code == 1 and "--media: nowhere is neither a folder nor an http(s) URL" in result.output
    assert not (in_tmp / "posts").exists()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://blog.example.org/wp-content/uploads/2023/03/photo.jpg", "2023/03/photo.jpg"),
        ("/wp-content/uploads/2011/12/map.png", "2011/12/map.png"),
        ("https://blog.example.org/wp-content/uploads/sites/2/2023/03/a%20b.jpg?w=300", "sites/2/2023/03/a b.jpg"),
        ("https://steppe.files.wordpress.com/2023/03/horses.jpg?w=1024", "2023/03/horses.jpg"),
        ("https://steppe.wordpress.com/wp-content/uploads/2023/03/map.pdf", "2023/03/map.pdf"),
        ("https://other.files.wordpress.com/2023/03/horses.jpg", None),  # another blog's files
        ("https://elsewhere.example/wp-content/uploads/2023/03/photo.jpg", None),  # another site
        ("http://blog.example.org/2023/03/10/caravan-cities/", None),  # a page, not an upload
        ("http://blog.example.org/wp-content/uploads/../../wp-config.php", None),
        ("http://blog.example.org/wp-content/uploads/2023/.htaccess", None),
        ("javascript:alert(1)//wp-content/uploads/x", None),
    ],
)
def test_which_urls_are_uploads(url: str, path: str | None) -> None:
    """Only the old site's own uploads are brought over, under their path in wp-content/uploads."""
    uploads = Uploads.of(["http://blog.example.org", "https://steppe.wordpress.com"])
    assert uploads.path_of(url) == path
