"""deploy/nginx.conf serves feeds/ as a static site with the SPEC's headers, and logs the feeds it answers."""

from __future__ import annotations

import configparser
import gzip
import re
import shutil
import subprocess
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from support.feedcheck import check_atom
from support.feedcheck import wait_for
from support.mediafiles import write_png
from support.nginx import SERVER_BLOCK
from support.nginx import running_nginx
from support.paths import SEED_POSTS
from support.programs import program
from support.server import Server
from support.server import free_port
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.output import FilesOutput

UNIT = SERVER_BLOCK.with_name("syndicator.service")


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx with the shipped server block over a freshly built feeds/ (no app behind it: files only)."""
    site = tmp_path / "site"
    settings = Settings(posts_dir=SEED_POSTS, output_dir=site / "feeds", state_dir=tmp_path / "state")
    Builder(settings, FilesOutput()).reload(datetime.now(UTC))
    with running_nginx(tmp_path, site, f"127.0.0.1:{free_port()}") as url:
        yield url, site


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/category/tajik-russian-relations.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/category/justice.json", "application/feed+json; charset=utf-8"),
        ("/feeds/index.opml", "text/x-opml; charset=utf-8"),
    ],
)
def test_nginx_serves_feeds_with_the_spec_headers(nginx: tuple[str, Path], path: str, media_type: str) -> None:
    """Media type with charset, strong ETag, Last-Modified, caching, CORS, gzip with Vary, 304s."""
    url, site = nginx
    plain = requests.get(url + path, headers={"Accept-Encoding": "identity"}, timeout=5)
    assert plain.status_code == 200
    assert plain.content == (site / path.removeprefix("/")).read_bytes()
    assert plain.headers["Content-Type"] == media_type
    assert plain.headers["Cache-Control"] == "public, max-age=60"
    assert plain.headers["Access-Control-Allow-Origin"] == "*"
    assert plain.headers["ETag"].startswith('"') and plain.headers["Last-Modified"].endswith("GMT")
    zipped = requests.get(url + path, headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.raw.read()) == plain.content
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = requests.get(
        url + path, headers={"If-None-Match": plain.headers["ETag"], "Accept-Encoding": "identity"}, timeout=5
    )
    assert again.status_code == 304 and again.content == b""
    if path.endswith(".atom"):
        check_atom(plain.content)
    if not path.endswith(".opml"):  # WebSub discovery in the header, as the app sends it
        assert plain.headers["Link"] == f'<{url}/websub>; rel="hub", <{url}{path}>; rel="self"'


def test_the_systemd_unit_runs_the_service_safely() -> None:
    """deploy/syndicator.service: serve from the site's folder with its config file, as its own user, restarted on
    failure, no SYNDICATOR_* variable (every setting is in the config file the operator's commands read too)."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    service = unit["Service"]
    assert service["ExecStart"].endswith(" serve --host 127.0.0.1 --port 8000 --config /srv/syndicator/syndicator.toml")
    assert service["WorkingDirectory"] == "/srv/syndicator"
    assert not [line for line in UNIT.read_text().splitlines() if "SYNDICATOR_" in line and not line.startswith("#")]
    assert service["Restart"] == "on-failure" and service["User"] not in ("", "root")
    assert service["StateDirectory"] and service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    result = subprocess.run([program("systemd-analyze", "systemd"), "verify", str(UNIT)], capture_output=True)
    assert b"Unknown key" not in result.stderr and b"Invalid" not in result.stderr


def test_the_systemd_unit_keeps_the_service_to_what_it_needs() -> None:
    """systemd's own rating of the unit's sandbox (``systemd-analyze security``, 0 safest, 10 most exposed): the
    unit rated 8.5, "EXPOSED" (any capability, every socket family and device, the kernel's settings writable)."""
    analyze = program("systemd-analyze", "systemd")
    rated = subprocess.run([analyze, "security", "--offline=yes", str(UNIT)], capture_output=True, text=True)
    found = re.search(r"Overall exposure level for syndicator\.service: (\d+\.\d)", rated.stdout)
    assert found is not None, rated.stdout + rated.stderr
    assert float(found.group(1)) <= 4.0, rated.stdout


def test_nginx_logs_the_feeds_it_answers_for_syndicator_stats(nginx: tuple[str, Path], tmp_path: Path) -> None:
    """The shipped block logs the feed requests nginx answers itself (only) in the combined format, in the site's
    folder; `stats --import-log` counts them (what goes to the app, the app counts)."""
    url, site = nginx
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 31 subscribers; feed-id=x)"
    for agent in (feedly, "NetNewsWire/6.1", "newsboat/2.36", "NetNewsWire/6.1"):
        requests.get(url + "/feeds/category/justice.atom", headers={"User-Agent": agent}, timeout=5)
    requests.get(url + "/feeds/nope.atom", timeout=5)  # the app's to answer (none here: 502), not logged
    log = site / "feeds-access.log"
    # nginx writes a request's line once its answer is sent: the last one may still be on its way
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) >= 4, timeout=10)
    lines = log.read_text().splitlines()
    assert len(lines) == 4 and all(line.startswith("127.0.0.1 - - [") for line in lines)
    env = {
        "SYNDICATOR_POSTS_DIR": str(SEED_POSTS),
        "SYNDICATOR_OUTPUT_DIR": str(site / "feeds"),
        "SYNDICATOR_STATE_DIR": str(tmp_path / "state"),
    }
    result = CliRunner().invoke(cli, ["stats", "--days", "1", "--import-log", str(log)], env=env)
    assert result.exit_code == 0, result.output
    assert f"{log}: 4 feed requests counted, 0 lines skipped (" in result.output
    table = result.output.splitlines()[1:]
    assert table[0] == "/feeds/category/justice.atom"
    assert table[2].split()[1:] == ["33", "2", "31"]  # 31 Feedly subscribers + two other clients


def test_a_static_only_site_is_served_without_serve(tmp_path: Path) -> None:
    """No serve behind nginx (`build --watch` keeps feeds/): archive pages and a feed opened in a browser are the
    files as they are (archive pages compressed when asked, kept reload_interval); nothing else of the folder."""
    site, posts = tmp_path / "site", tmp_path / "posts"
    shutil.copytree(SEED_POSTS, posts)
    write_png(posts / "images" / "camel.png", 300, 200)
    (posts / "camel.md").write_text("---\ntitle: Camel\ndate: 2025-01-01\n---\n![a camel](images/camel.png)\n")
    settings = Settings(
        posts_dir=posts, output_dir=site / "feeds", state_dir=tmp_path / "state", feed_size=2, archive_page_size=2
    )
    Builder(settings, FilesOutput()).reload(datetime.now(UTC))
    (site / "syndicator.toml").write_text('stats_token = "secret"\n')
    with running_nginx(tmp_path, site, f"127.0.0.1:{free_port()}") as url:
        static_only(url, site)


def test_an_edit_within_a_second_is_never_a_304_from_nginx(tmp_path: Path) -> None:
    """A static-only site: a feed rebuilt within a second with bytes of the same length had nginx's ETag and
    Last-Modified (its mtime in seconds and its size), and a reader asking with the old ETag got a 304."""
    site, posts = tmp_path / "site", tmp_path / "posts"
    posts.mkdir()
    post = posts / "a.md"
    settings = Settings(posts_dir=posts, output_dir=site / "feeds", state_dir=tmp_path / "state")
    builder = Builder(settings, FilesOutput())
    post.write_text("---\ntitle: Version 1\ndate: 2025-01-01T00:00:00Z\n---\nBody 1.\n")
    builder.reload(datetime.now(UTC))
    with running_nginx(tmp_path, site, f"127.0.0.1:{free_port()}") as url:
        for version in range(2, 6):
            first = requests.get(url + "/feeds/all.atom", headers={"Accept-Encoding": "identity"}, timeout=5)
            post.write_text(f"---\ntitle: Version {version}\ndate: 2025-01-01T00:00:00Z\n---\nBody {version}.\n")
            builder.reload(datetime.now(UTC))
            asked = {"If-None-Match": first.headers["ETag"], "Accept-Encoding": "identity"}
            again = requests.get(url + "/feeds/all.atom", headers=asked, timeout=5)
            assert again.status_code == 200 and f"Version {version}".encode() in again.content, version


def static_only(url: str, site: Path) -> None:
    pages = sorted((site / "feeds").rglob("archive/*.atom"))
    path = "/" + pages[0].relative_to(site).as_posix()
    plain = requests.get(url + path, headers={"Accept-Encoding": "identity"}, timeout=5)
    assert plain.status_code == 200 and plain.content == pages[0].read_bytes()
    assert plain.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert plain.headers["Cache-Control"] == "public, max-age=60"
    assert plain.headers["Link"] == f'<{url}/websub>; rel="hub", <{url}{path}>; rel="self"'  # SPEC: every feed has it
    zipped = requests.get(url + path, headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True)
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.raw.read()) == plain.content
    opened = requests.get(url + "/feeds/all.atom", headers={"Sec-Fetch-Dest": "document"}, timeout=5)
    assert opened.status_code == 200 and opened.content == (site / "feeds" / "all.atom").read_bytes()
    for other in ("/syndicator.toml", "/feeds-access.log", "/feeds/.syndicator-state", "/", "/feeds/all.atom.gz"):
        missing = requests.get(url + other, timeout=5)
        assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store", other
    for method, path in (("POST", "/feeds/all.atom"), ("PUT", "/feeds/all.atom"), ("POST", "/websub")):
        later = requests.request(method, url + path, data=b"x", timeout=5)  # a 500 (error pages looped), or a 404
        assert (later.status_code, later.headers["Retry-After"], later.headers["Cache-Control"]) == (
            503,
            "5",
            "no-store",
        ), (method, path)
    media = sorted((site / "feeds" / "media").rglob("*.*"))[0]
    past = requests.get(url + "/" + media.relative_to(site).as_posix(), headers={"Range": "bytes=99999999-"}, timeout=5)
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{media.stat().st_size}"  # a 502


def test_the_feeds_link_headers_name_site_url_through_nginx_too(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Behind a CDN or a TLS proxy nginx is reached at another address than the readers': the hub and self links
    of the feeds nginx answers itself name site_url and the hub, as serve's do, whatever Host and scheme came in."""
    site = tmp_path / "site"
    shutil.copytree(SEED_POSTS, site / "posts")
    server = start_server(site, SYNDICATOR_SITE_URL="https://blog.example.org")
    (tmp_path / "nginx").mkdir()
    with running_nginx(
        tmp_path / "nginx", site, f"127.0.0.1:{server.port}", site_url="https://blog.example.org"
    ) as url:
        for path in ("/feeds/all.atom", "/feeds/category/justice.rss", "/feeds/all.json"):
            from_serve = server.get(path).headers["Link"]
            assert (
                from_serve
                == f'<https://blog.example.org/websub>; rel="hub", <https://blog.example.org{path}>; rel="self"'
            )
            for headers in ({}, {"Host": "cdn-origin.internal", "X-Forwarded-Proto": "http"}):
                answer = requests.get(url + path, headers=headers, timeout=5)
                assert answer.status_code == 200 and "ETag" in answer.headers, path  # nginx's own answer, from the file
                assert answer.headers["Link"] == from_serve, (path, headers)
