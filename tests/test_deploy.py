"""The deployment is the product: nginx with the shipped deploy/nginx.conf in front answers every kind of URL as
``syndicator serve`` alone does (status, body, Content-Type, Cache-Control, Location, Link), but for the
differences listed here with their reasons; and nginx answers the files the route table says it may."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conftest import SEED_POSTS
from conftest import free_port
from conftest import post_text
from mediafiles import write_png
from support.nginx import SERVER_BLOCK
from support.nginx import running_nginx
from support.parity import NGINX_ETAG
from support.parity import Probe
from support.parity import compare
from support.parity import matrix_line
from syndicator.service.http.routes import ROUTES
from syndicator.service.http.routes import tried

NGINX_KEYS = "nginx names a feed's own key and the site's, not the taxonomies and posts it lists (purges name own keys)"
# Where nginx in front may answer otherwise than serve alone, and why. Every entry must still occur (the list is
# the truth, not a tolerance): the test fails on a difference missing here and on an entry that no longer occurs.
NGINX_FEEDS = (  # the probes of feeds nginx answers itself (a media file has no list of its own: equal keys)
    *("feed", "feed, gzip", "feed, HEAD", "feed, If-None-Match", "feed, If-Modified-Since", "feed, a Range"),
    *("feed, RSS", "feed, JSON", "site-wide feed"),
)
UNSATISFIABLE = (
    "nginx adds a file's headers before its range filter finds the range past the end, and keeps them on the 416 "
    "(its body, type and Content-Range are serve's; caches that take ranges store no 416)"
)
ALLOWED: dict[tuple[str, str], str] = {(name, "Surrogate-Key"): NGINX_KEYS for name in NGINX_FEEDS} | {
    ("media, range past the end", name): UNSATISFIABLE
    for name in ("Cache-Control", "CDN-Cache-Control", "Surrogate-Key")
}
# The compared fields nginx may leave out on a 304 (RFC 9110 lets a 304 omit what it does not change), and
# ETag spelling: nginx's is "<mtime>-<size>" in hex, serve's a digest of the bytes (each server's own validators
# are what its readers send back, and both answer them 304).


@dataclass
class Deployment:
    site: Path
    nginx: str
    serve: str
    token: str
    newest_archive: int


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``syndicator <args>`` in the site's folder, as an operator types it (stopped at a timeout)."""
    command = [sys.executable, "-m", "syndicator", *args]
    process = subprocess.Popen(command, cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


class Serve:
    """``syndicator serve --config syndicator.toml`` in the site's folder, stopped by its pid."""

    def __init__(self, site: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = (site / "serve.log").open("ab")
        command = [sys.executable, "-m", "syndicator", "serve", "--config", "syndicator.toml", "--port", str(port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
        self.process = subprocess.Popen(command, cwd=site, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, path: str, status: int, what: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited ({what})"
            try:
                if requests.get(self.url + path, timeout=5, allow_redirects=False).status_code == status:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def make_site(site: Path, nginx_port: int) -> None:
    """The seed posts, a post with an image, one in a category about to go, a renamed slug; archive pages of two."""
    shutil.copytree(SEED_POSTS, site / "posts")
    write_png(site / "posts" / "images" / "camel.png", 300, 200)
    (site / "posts" / "2012-01-05-caravans.md").write_text(
        post_text("Caravans", date="2012-01-05T10:00:00Z", categories="[Justice]", body="![c](images/camel.png)\n")
    )
    (site / "posts" / "2012-02-01-vanishing.md").write_text(
        post_text("Vanishing", date="2012-02-01T10:00:00Z", categories="[Vanished]")
    )
    (site / "syndicator.toml").write_text(
        f'site_url = "http://127.0.0.1:{nginx_port}"\nfeed_size = 2\narchive_page_size = 2\n'
        '[redirects.category]\nold-justice = "justice"\n'
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """serve over the site, nginx in front with the shipped block; a category gone (410) once both run."""
    root = tmp_path_factory.mktemp("deployment")
    site, nginx_port, serve_port = root / "site", free_port(), free_port()
    make_site(site, nginx_port)
    added = run(site, "partners", "add", "acme")
    assert added.returncode == 0, added.stderr
    token = added.stdout.split()[-1]
    serve = Serve(site, serve_port)
    try:
        serve.wait_for("/category/vanished/", 200, "the first load")
        with running_nginx(root, site, f"127.0.0.1:{serve_port}", nginx_port) as nginx:
            (site / "posts" / "2012-02-01-vanishing.md").unlink()
            serve.wait_for("/feeds/category/vanished.atom", 410, "the category to go")
            feed = requests.get(f"{serve.url}/feeds/all.atom", timeout=5).text
            newest = int(re.findall(r'archive/(\d+)\.atom" rel="prev-archive"', feed)[0])
            yield Deployment(site, nginx, serve.url, token, newest)
    finally:
        serve.stop()


def probes(deployment: Deployment) -> list[Probe]:
    """Every kind of URL: feeds and their forms, archive pages, OPML, media with ranges, pages, old addresses..."""
    feed, media, newest = "/feeds/category/justice.atom", "/feeds/media/images/camel.png", deployment.newest_archive
    partner = {"Authorization": f"Bearer {deployment.token}"}
    subscribe = (
        b"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%2Ffeeds%2Fall.atom&hub.callback=http%3A%2F%2F10.0.0.1%2F"
    )
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    return [
        Probe("feed", feed),
        Probe("feed, gzip", feed, headers={"Accept-Encoding": "gzip"}),
        Probe("feed, HEAD", feed, "HEAD"),
        Probe("feed, If-None-Match", feed, validator="If-None-Match"),
        Probe("feed, If-Modified-Since", feed, validator="If-Modified-Since"),
        Probe("feed, a Range", feed, headers={"Range": "bytes=0-9"}),
        Probe("feed, RSS", "/feeds/category/justice.rss"),
        Probe("feed, JSON", "/feeds/category/justice.json"),
        Probe("site-wide feed", "/feeds/all.atom"),
        Probe("archive page, full", "/feeds/archive/1.atom"),
        Probe(f"archive page {newest}, not yet full", f"/feeds/archive/{newest}.atom"),
        Probe("archive page, gzip", "/feeds/archive/1.atom", headers={"Accept-Encoding": "gzip"}),
        Probe("category archive page", "/feeds/category/justice/archive/1.atom"),
        Probe("OPML", "/feeds/index.opml"),
        Probe("media", media),
        Probe("media, HEAD", media, "HEAD"),
        Probe("media, one range", media, headers={"Range": "bytes=0-9"}),
        Probe("media, range past the end", media, headers={"Range": "bytes=999999-"}),
        Probe("media, two ranges", media, headers={"Range": "bytes=0-1,5-6"}),
        Probe("media, If-None-Match", media, validator="If-None-Match"),
        Probe("media, If-Modified-Since", media, validator="If-Modified-Since"),
        Probe("media, not there", "/feeds/media/images/nope.png"),
        Probe("feed opened in a browser", feed, headers={"Sec-Fetch-Dest": "document", "Accept": browser}),
        Probe("feed, Accept text/html", "/feeds/all.rss", headers={"Accept": browser}),
        Probe("feed of a category that went", "/feeds/category/vanished.atom"),
        Probe("its archive page", "/feeds/category/vanished/archive/1.atom"),
        Probe("old slug from [redirects]", "/feeds/category/old-justice.rss"),
        Probe("old slug, page", "/category/old-justice/"),
        Probe("no such feed", "/feeds/category/nope.atom"),
        Probe("a gzip twin by its name", "/feeds/all.atom.gz"),
        Probe("a temp file", "/feeds/.all.atom.123.tmp"),
        Probe("output_dir's own record", "/feeds/.syndicator-state"),
        Probe("/feeds/ itself", "/feeds/"),
        Probe("a stray file name", "/feeds/notes.txt"),
        Probe("POST to a feed", feed, "POST", body=b"x"),
        Probe("home page", "/"),
        Probe("home page, gzip", "/", headers={"Accept-Encoding": "gzip"}),
        Probe("home page 2", "/page/2/"),
        Probe("category page", "/category/justice/"),
        Probe("category page 2", "/category/tajikistan/page/2/"),
        Probe("page gone (410)", "/category/vanished/"),
        Probe("post page", "/posts/caravans/"),
        Probe("post gone (410)", "/posts/vanishing/"),
        Probe("no such page", "/nowhere/at/all"),
        Probe("stylesheet", "/static/style.css"),
        Probe("/healthz", "/healthz"),
        Probe("partner feed", "/partners/feeds/all.atom", headers=partner),
        Probe("partner feed, no token", "/partners/feeds/all.atom"),
        Probe("POST /websub", "/websub", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, subscribe),
        Probe("WordPress feed", "/feed/"),
        Probe("WordPress atom feed", "/feed/atom/"),
        Probe("WordPress category feed", "/category/justice/feed/"),
        Probe("WordPress category atom", "/category/justice/feed/atom/"),
        Probe("WordPress ?p=", "/?p=12"),
        Probe("WordPress permalink", "/2011/12/22/csto-agreement-on-foreign-bases/"),
        Probe("WordPress month permalink", "/2011/12/csto-agreement-on-foreign-bases/"),
        Probe("WordPress numeric permalink", "/archives/12/"),
        Probe("old slug permalink", "/csto-agreement-on-foreign-bases/"),
        Probe("/stats/", "/stats/"),
        Probe("webfinger", "/.well-known/webfinger?resource=acct:blog@127.0.0.1"),
        Probe("nodeinfo", "/.well-known/nodeinfo"),
        Probe("host-meta", "/.well-known/host-meta"),
        Probe("nodeinfo 2.1", "/nodeinfo/2.1"),
        Probe("shared inbox", "/ap/inbox", "POST", body=b"{}"),
        Probe("actor", "/ap/actors/blog"),
        Probe("actor inbox", "/ap/actors/blog/inbox", "POST", body=b"{}"),
        Probe("outbox", "/ap/actors/blog/outbox"),
        Probe("followers", "/ap/actors/blog/followers"),
        Probe("following", "/ap/actors/blog/following"),
        Probe("post object", "/ap/actors/blog/posts/x"),
        Probe("subscribe by email", "/subscribe", "POST", body=b"email=a%40example.org"),
        Probe("confirm", "/confirm/x"),
        Probe("unsubscribe", "/unsubscribe/x"),
    ]


def test_nginx_in_front_answers_as_serve_does(deployment: Deployment) -> None:
    """Every probe, through nginx and straight to serve: equal but for the listed differences, each of which
    still occurs; the matrix is written beside the site (and to $PARITY_MATRIX when set)."""
    observed: dict[tuple[str, str], str] = {}
    lines = []
    for probe in probes(deployment):
        nginx, serve, found = compare(deployment.nginx, deployment.serve, probe)
        for name in found:
            observed[(probe.name, name)] = f"nginx {nginx.headers.get(name)!r}, serve {serve.headers.get(name)!r}"
        lines.append(matrix_line(probe, nginx, serve, found, {f: ALLOWED.get((probe.name, f), "") for f in found}))
    matrix = "\n".join(lines) + "\n"
    (deployment.site.parent / "parity.txt").write_text(matrix)
    if os.environ.get("PARITY_MATRIX"):
        Path(os.environ["PARITY_MATRIX"]).write_text(matrix)
    assert {key: value for key, value in observed.items() if key not in ALLOWED} == {}, matrix
    assert set(ALLOWED) - set(observed) == set(), "an allowed difference that no longer occurs: strike it"


def test_nginx_answers_the_files_the_route_table_names(deployment: Deployment) -> None:
    """The rows marked files are nginx's when the file is there (its own ETag); every row of the table is
    asked through nginx above (the matrix covers the route table)."""
    for path in (
        "/feeds/category/justice.atom",
        "/feeds/all.json",
        "/feeds/index.opml",
        "/feeds/media/images/camel.png",
    ):
        answer = requests.get(deployment.nginx + path, timeout=5)
        assert answer.status_code == 200 and NGINX_ETAG.match(answer.headers["ETag"]), path
    covered = set()
    for probe in probes(deployment):
        path, _sep, query = probe.path.partition("?")
        covered.update(route.name + route.pattern for route in tried(path, probe.method, query))
    missing = [f"{route.pattern} ({route.name})" for route in ROUTES if route.name + route.pattern not in covered]
    assert missing == [], "route rows no probe of the matrix reaches"


def test_every_route_row_is_accounted_for_in_the_server_block() -> None:
    """The files rows' prefixes have their locations in deploy/nginx.conf; everything else reaches the app."""
    text = SERVER_BLOCK.read_text()
    for route in ROUTES:
        if route.files:
            assert f"location ^~ {route.prefix}" in text or f"location {route.prefix}" in text, route.pattern
    assert "location / {" in text and "location @app {" in text and "proxy_pass http://127.0.0.1:8000;" in text
    assert not re.search(r"^\s*(events|http)\s*\{", text, re.MULTILINE), "a server block, not a whole nginx.conf"


def test_while_the_first_load_runs_nginx_answers_as_serve_does(tmp_path: Path) -> None:
    """serve starting over feeds an earlier run left (its first load refused: posts_dir emptied): the feeds there
    are answered, a feed not written yet is 503 with Retry-After, through nginx as from serve."""
    site, nginx_port, serve_port = tmp_path / "site", free_port(), free_port()
    make_site(site, nginx_port)
    assert run(site, "build").returncode == 0
    for post in (site / "posts").glob("*.md"):
        post.unlink()
    serve = Serve(site, serve_port)
    try:
        serve.wait_for("/healthz", 200, "serve to answer")
        with running_nginx(tmp_path, site, f"127.0.0.1:{serve_port}", nginx_port) as nginx:
            assert requests.get(serve.url + "/healthz", timeout=5).json()["status"] == "degraded"
            starting = [
                Probe("a feed an earlier run wrote", "/feeds/category/justice.atom"),
                Probe("its gzip", "/feeds/category/justice.atom", headers={"Accept-Encoding": "gzip"}),
                Probe("a feed not written yet", "/feeds/category/not-yet.atom"),
                Probe("an archive page", "/feeds/archive/1.atom"),
                Probe("a page", "/category/justice/"),
            ]
            answers = [compare(nginx, serve.url, probe) for probe in starting]
            assert [a[1].status for a in answers] == [200, 200, 503, 200, 503]
            assert answers[2][1].headers["Retry-After"] == "5"
            differing = {probe.name: found for probe, (_n, _s, found) in zip(starting, answers, strict=True) if found}
            assert differing == {}  # until loaded, serve too names a feed's own key and the site's alone
    finally:
        serve.stop()
