"""The deployment is the product: nginx with the shipped deploy/nginx.conf in front answers every kind of URL as
``syndicator serve`` alone does (status, body, Content-Type, Cache-Control, Location, Link), but for the
differences listed here with their reasons; and nginx answers the files the route table says it may."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from support.deployment import Deployment
from support.deployment import Serve
from support.deployment import parity
from support.deployment import run
from support.factories import post_text
from support.mediafiles import CAMELS_JPEG
from support.mediafiles import copy
from support.mediafiles import write_png
from support.nginx import SERVER_BLOCK
from support.nginx import running_nginx
from support.parity import NGINX_ETAG
from support.parity import Probe
from support.parity import compare
from support.paths import DATA
from support.paths import SEED_POSTS
from support.server import free_port
from syndicator.service.http.routes import ROUTES
from syndicator.service.http.routes import tried

LONG_AGO = "Mon, 01 Jan 2001 00:00:00 GMT"
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
    (probe, name): UNSATISFIABLE
    for probe in ("media, range past the end", "media, the last no bytes")
    for name in ("Cache-Control", "CDN-Cache-Control", "Surrogate-Key")
}
WORDPRESS_ALLOWED = {("its feed (subtitle)", "Surrogate-Key"): NGINX_KEYS}
# The compared fields nginx may leave out on a 304 (RFC 9110 lets a 304 omit what it does not change), and
# ETag spelling: nginx's is "<mtime>-<size>" in hex, serve's a digest of the bytes (each server's own validators
# are what its readers send back, and both answer them 304).


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


CLASSIC = DATA / "wordpress" / "classic-site.xml"


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """classic-site.xml imported with its uploads into a site folder, as the README's import section has it, then
    served with nginx in front; images wider than 500 px get thumbnails under media/_resized/."""
    root = tmp_path_factory.mktemp("wordpress")
    site, nginx_port, serve_port = root / "site", free_port(), free_port()
    site.mkdir()
    (site / "syndicator.toml").write_text(f'site_url = "http://127.0.0.1:{nginx_port}"\nmax_image_pixels = 500\n')
    for name in ("one.jpg", "two.jpg"):
        copy(CAMELS_JPEG, root / "uploads" / "2020" / "05" / name)
    copy(CAMELS_JPEG, root / "uploads" / "2020" / "04" / "spare.jpg")  # no post uses it
    imported = run(site, "import", "wordpress", str(CLASSIC), "--config", "syndicator.toml", "--media", "../uploads")
    assert imported.returncode == 0, imported.stderr
    serve = Serve(site, serve_port)
    try:
        serve.wait_for("/about/", 200, "the first load")
        feed = requests.get(f"{serve.url}/feeds/all.atom", timeout=5).text
        thumbnails = sorted(set(re.findall(r'<media:thumbnail url="http://[^/"]+(/feeds/media/_resized/[^"]+)"', feed)))
        assert thumbnails, "a feed names a resized copy"
        with running_nginx(root, site, f"127.0.0.1:{serve_port}", nginx_port) as nginx:
            yield Deployment(site, nginx, serve.url, thumbnail=thumbnails[0])
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
        Probe("media, the last no bytes", media, headers={"Range": "bytes=-0"}),
        Probe("media, a suffix longer than the file", media, headers={"Range": "bytes=-99999999"}),
        Probe("media, two ranges", media, headers={"Range": "bytes=0-1,5-6"}),
        Probe("media, two ranges, one past the end", media, headers={"Range": "bytes=0-9,99999-"}),
        Probe("media, a range that is no range", media, headers={"Range": "bytes=abc"}),
        Probe("media, another unit", media, headers={"Range": "lines=0-9"}),
        Probe("media, If-Unmodified-Since before", media, headers={"If-Unmodified-Since": LONG_AGO}),
        Probe("feed, If-Unmodified-Since before", feed, headers={"If-Unmodified-Since": LONG_AGO}),
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
        Probe("a page by its index.html", "/category/justice/index.html"),
        Probe("the home page by its index.html", "/index.html"),
        Probe("index.html of no page", "/posts/nowhere/index.html"),
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
        *root_file_probes(),
    ]


def root_file_probes() -> list[Probe]:
    """The site's root files, which nginx answers from feeds/ itself: each form a reader or a crawler asks."""
    return [
        Probe("sitemap", "/sitemap.xml"),
        Probe("sitemap, gzip", "/sitemap.xml", headers={"Accept-Encoding": "gzip"}),
        Probe("sitemap, HEAD", "/sitemap.xml", "HEAD"),
        Probe("sitemap, If-None-Match", "/sitemap.xml", validator="If-None-Match"),
        Probe("sitemap, a Range", "/sitemap.xml", headers={"Range": "bytes=0-9"}),
        Probe("a sitemap part not made", "/sitemap-1.xml"),
        Probe("robots.txt", "/robots.txt"),
        Probe("robots.txt, If-Modified-Since", "/robots.txt", validator="If-Modified-Since"),
        Probe("POST to robots.txt", "/robots.txt", "POST", body=b"x"),
        Probe("favicon", "/favicon.ico"),
        Probe("favicon, gzip", "/favicon.ico", headers={"Accept-Encoding": "gzip"}),
        Probe("root files are not under /feeds/", "/feeds/robots.txt"),
    ]


def wordpress_probes(deployment: Deployment) -> list[Probe]:
    """An imported WordPress site: pages by path, every old address form, nested categories, uploads, thumbnails."""
    thumbnail = deployment.thumbnail
    return [
        Probe("page by path", "/about/"),
        Probe("child page", "/about/team/"),
        Probe("child page, no last slash", "/about/team"),
        Probe("page with a query string", "/about/team/?replytocom=3"),
        Probe("page, gzip", "/about/", headers={"Accept-Encoding": "gzip"}),
        Probe("?page_id=", "/?page_id=210"),
        Probe("?page_id= of a draft", "/?page_id=212"),
        Probe("?p= of a page", "/?p=211"),
        Probe("?cat=", "/?cat=11"),
        Probe("?cat= &paged=", "/?cat=11&paged=2"),
        Probe("?category_name=", "/?category_name=notes"),
        Probe("?tag=", "/?tag=rivers-2"),
        Probe("?author=", "/?author=1"),
        Probe("?feed=rss2", "/?feed=rss2"),
        Probe("?feed=atom &cat=", "/?cat=12&feed=atom"),
        Probe("?feed= of comments", "/?feed=comments-rss2"),
        Probe("?attachment_id= of an upload", "/?attachment_id=301"),
        Probe("?attachment_id= unknown", "/?attachment_id=999"),
        Probe("?s= (no search here)", "/?s=bridge"),
        Probe("?s= empty", "/?s="),
        Probe("?m= (no month archives here)", "/?m=202005"),
        Probe("nested category", "/category/places/towns/"),
        Probe("nested category, child", "/category/places/towns/old-town/"),
        Probe("nested category feed", "/category/places/towns/old-town/feed/"),
        Probe("nested category feed/rss2/", "/category/places/towns/feed/rss2/"),
        Probe("nested, not its parents", "/category/towns/old-town/"),
        Probe("category with a description", "/category/old-quarter/"),
        Probe("its feed (subtitle)", "/feeds/category/old-quarter.atom"),
        Probe("/feed/rss2/", "/feed/rss2/"),
        Probe("/feed/rdf/", "/feed/rdf/"),
        Probe("upload", "/wp-content/uploads/2020/05/one.jpg"),
        Probe("upload, WordPress's resized name", "/wp-content/uploads/2020/05/one-150x150.jpg"),
        Probe("upload no post uses", "/wp-content/uploads/2020/04/spare.jpg"),
        Probe("/index.php", "/index.php"),
        Probe("/index.php?p=", "/index.php?p=201"),
        Probe("/index.php/ a page", "/index.php/about/team/"),
        Probe("dated permalink, old slug", "/2020/05/05/first-title/"),
        Probe("post page", "/posts/markup/"),
        Probe("imported image", "/feeds/media/uploads/2020/05/one.jpg"),
        Probe("thumbnail", thumbnail),
        Probe("thumbnail, one range", thumbnail, headers={"Range": "bytes=0-9"}),
        Probe("thumbnail, If-None-Match", thumbnail, validator="If-None-Match"),
        Probe("a thumbnail not made", "/feeds/media/_resized/0000-1200.jpg"),
        Probe("sitemap", "/sitemap.xml"),
        Probe("robots.txt", "/robots.txt"),
    ]


@pytest.mark.parametrize("name", ["deployment", "wordpress"])
def test_nginx_in_front_answers_as_serve_does(request: pytest.FixtureRequest, name: str) -> None:
    """Every probe, through nginx and straight to serve: equal but for the listed differences, each of which
    still occurs; the matrix is written beside the site (and to $PARITY_MATRIX-<name> when set)."""
    deployment: Deployment = request.getfixturevalue(name)
    asked = probes(deployment) if name == "deployment" else wordpress_probes(deployment)
    allowed = ALLOWED if name == "deployment" else WORDPRESS_ALLOWED
    observed, matrix = parity(deployment, asked, allowed)
    (deployment.site.parent / "parity.txt").write_text(matrix)
    if os.environ.get("PARITY_MATRIX"):
        Path(f"{os.environ['PARITY_MATRIX']}-{name}").write_text(matrix)
    assert {key: value for key, value in observed.items() if key not in allowed} == {}, matrix
    assert set(allowed) - set(observed) == set(), "an allowed difference that no longer occurs: strike it"


# A path of each files row that the deployments hold: nginx answers it from disk itself (its own ETag).
FILES_ANSWERED = {
    "/feeds/media/<path:name>": ("/feeds/media/images/camel.png",),
    "/feeds/<path:name>": ("/feeds/category/justice.atom", "/feeds/all.json", "/feeds/index.opml"),
    "/sitemap.xml": ("/sitemap.xml",),
    "/robots.txt": ("/robots.txt",),
    "/favicon.ico": ("/favicon.ico",),
}
FILES_NOT_MADE = {  # rows no deployment here holds a file of (what it would take), asked of nginx's location alone
    "/sitemap-<int:number>.xml": ("/sitemap-1.xml", "more than 50,000 addresses"),
}


def test_nginx_answers_the_files_the_route_table_names(deployment: Deployment, wordpress: Deployment) -> None:
    """The rows marked files are nginx's when the file is there (its own ETag), a thumbnail too; every row of the
    table is asked through nginx above (the two matrices cover the route table)."""
    files_rows = {route.pattern for route in ROUTES if route.files}
    assert files_rows == set(FILES_ANSWERED) | set(FILES_NOT_MADE), "a files row without a path to ask"
    for path in [*(p for paths in FILES_ANSWERED.values() for p in paths), wordpress.thumbnail]:
        site = wordpress if path == wordpress.thumbnail else deployment
        answer = requests.get(site.nginx + path, timeout=5)
        assert answer.status_code == 200 and NGINX_ETAG.match(answer.headers["ETag"]), path
    covered = set()
    for probe in [*probes(deployment), *wordpress_probes(wordpress)]:
        path, _sep, query = probe.path.partition("?")
        covered.update(route.name + route.pattern for route in tried(path, probe.method, query))
    missing = [f"{route.pattern} ({route.name})" for route in ROUTES if route.name + route.pattern not in covered]
    assert missing == [], "route rows no probe of the matrix reaches"


def test_every_route_row_is_accounted_for_in_the_server_block() -> None:
    """Each files row has a location of deploy/nginx.conf that takes its paths (a prefix, or a regular expression
    that matches a path of it); everything else reaches the app."""
    text = SERVER_BLOCK.read_text()
    regexes = [re.compile(r.replace("(?<", "(?P<")) for r in re.findall(r"location ~\*? (\S+) \{", text)]
    samples = {pattern: paths[0] for pattern, paths in FILES_ANSWERED.items()}
    samples |= {pattern: path for pattern, (path, _why) in FILES_NOT_MADE.items()}
    for route in ROUTES:
        if not route.files:
            continue
        prefixed = any(f"location {kind}{route.prefix}" in text for kind in ("^~ ", "= ", ""))
        assert prefixed or any(r.search(samples[route.pattern]) for r in regexes), route.pattern
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
