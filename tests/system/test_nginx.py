"""deploy/nginx.conf serves feeds/ as a static site with the SPEC's headers."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from support.feedcheck import check_atom
from support.feedcheck import wait_for
from support.nginxserver import CONFIG
from support.nginxserver import running_nginx
from support.paths import SEED_POSTS
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.output import FilesOutput


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx with the shipped config, pointed at a freshly built feeds/ on a free loopback port."""
    site = tmp_path / "site"
    settings = Settings(posts_dir=SEED_POSTS, output_dir=site / "feeds", state_dir=tmp_path / "state")
    Builder(settings, FilesOutput()).reload(datetime.now(UTC))
    with running_nginx(tmp_path, site) as url:
        yield url, site / "feeds"


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
    url, feeds = nginx
    plain = requests.get(url + path, headers={"Accept-Encoding": "identity"}, timeout=5)
    assert plain.status_code == 200
    assert plain.content == (feeds / path.removeprefix("/feeds/")).read_bytes()
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


def test_nginx_sends_what_the_app_sends_for_archive_pages(nginx: tuple[str, Path]) -> None:
    """A full archive page gets the app's day-long max-age, its Link headers and the feed headers."""
    url, feeds = nginx
    pages = sorted((feeds / "category").glob("*/archive/1.atom")) or sorted((feeds / "archive").glob("1.atom"))
    if not pages:
        page = feeds / "archive" / "1.atom"
        page.parent.mkdir(exist_ok=True)
        page.write_bytes((feeds / "all.atom").read_bytes())  # the same headers, whatever its bytes
        pages = [page]
    path = "/feeds/" + pages[0].relative_to(feeds).as_posix()
    answer = requests.get(url + path, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert answer.headers["Cache-Control"] == "public, max-age=86400"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Link"] == f'<{url}/websub>; rel="hub", <{url}{path}>; rel="self"'


def test_nginx_gzips_archive_pages_which_have_no_twin(tmp_path: Path) -> None:
    """Archive pages are written without a .gz: nginx compresses them for a client that accepts gzip."""
    site = tmp_path / "site"
    settings = Settings(
        posts_dir=SEED_POSTS, output_dir=site / "feeds", state_dir=tmp_path / "state", feed_size=2, archive_page_size=2
    )
    Builder(settings, FilesOutput()).reload(datetime.now(UTC))
    feeds = site / "feeds"
    assert (feeds / "archive" / "1.atom").is_file() and not (feeds / "archive" / "1.atom.gz").exists()
    with running_nginx(tmp_path, site) as url:
        path = url + "/feeds/archive/1.atom"
        plain = requests.get(path, headers={"Accept-Encoding": "identity"}, timeout=5)
        zipped = requests.get(path, headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True)
        assert plain.content == (feeds / "archive" / "1.atom").read_bytes()
        assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(zipped.raw.read()) == plain.content
        assert zipped.headers["Cache-Control"] == "public, max-age=86400"
        again = requests.get(
            path, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}, timeout=5
        )
        assert again.status_code == 304


def test_the_systemd_unit_runs_the_service_safely() -> None:
    """deploy/syndicator.service: serve (or build --watch) as its own user, restarted on failure, with state."""
    import configparser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(CONFIG.with_name("syndicator.service"))
    service = unit["Service"]
    assert " serve " in service["ExecStart"] or "build --watch" in service["ExecStart"]
    assert service["Restart"] == "on-failure" and service["User"] not in ("", "root")
    assert service["StateDirectory"] and service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        result = subprocess.run([analyze, "verify", str(CONFIG.with_name("syndicator.service"))], capture_output=True)
        assert b"Unknown key" not in result.stderr and b"Invalid" not in result.stderr


def test_nginx_hides_temp_files_and_unknown_paths(nginx: tuple[str, Path]) -> None:
    """A temp file of a write in progress is never served; unknown feeds are 404."""
    url, feeds = nginx
    (feeds / ".all.atom.123.tmp").write_bytes(b"<partial")
    assert requests.get(url + "/feeds/.all.atom.123.tmp", timeout=5).status_code == 404
    assert requests.get(url + "/feeds/category/nope.atom", timeout=5).status_code == 404


def test_nginx_logs_feed_requests_for_syndicator_stats(nginx: tuple[str, Path], tmp_path: Path) -> None:
    """The shipped config logs feed requests (only) in the combined format; `stats --import-log` counts them."""
    url, _feeds = nginx
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 31 subscribers; feed-id=x)"
    for agent in (feedly, "NetNewsWire/6.1", "newsboat/2.36", "NetNewsWire/6.1"):
        requests.get(url + "/feeds/category/justice.atom", headers={"User-Agent": agent}, timeout=5)
    requests.get(url + "/feeds/nope.atom", timeout=5)
    log = tmp_path / "logs" / "feeds.log"
    # nginx writes a request's line once its answer is sent: the last one may still be on its way
    wait_for(lambda: len(log.read_text().splitlines()) >= 6, timeout=10)
    lines = log.read_text().splitlines()
    assert len(lines) == 6 and all(line.startswith("127.0.0.1 - - [") for line in lines)  # and the probe of /feeds/
    env = {
        "SYNDICATOR_POSTS_DIR": str(SEED_POSTS),
        "SYNDICATOR_OUTPUT_DIR": str(tmp_path / "site" / "feeds"),
        "SYNDICATOR_STATE_DIR": str(tmp_path / "state"),
    }
    result = CliRunner().invoke(cli, ["stats", "--days", "1", "--import-log", str(log)], env=env)
    assert result.exit_code == 0, result.output
    assert f"{log}: 4 feed requests counted, 0 lines skipped (" in result.output  # not the 404s
    table = result.output.splitlines()[1:]
    assert table[0] == "/feeds/category/justice.atom"
    assert table[2].split()[1:] == ["33", "2", "31"]  # 31 Feedly subscribers + two other clients
