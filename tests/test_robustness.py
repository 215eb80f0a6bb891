"""Bad input never breaks a feed and loses nothing: every class of bad post, beside good ones."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from support.factories import NOW
from support.feedcheck import check_atom
from support.feedcheck import check_file
from support.feedcheck import check_json
from support.feedcheck import check_rss
from support.paths import DATA
from support.strategies import front_matter_values
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.core.parse import parse_post
from syndicator.incremental.postcache import PostCache
from syndicator.model import Post
from syndicator.problem import LoadProblem
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

BAD = DATA / "bad"

# file -> the start of the message it must be reported with (None: published without a problem)
EXPECTED = {
    "alias-bomb.md": "aliases (*name) expand the front matter by more than 10,000 values",
    "bad-date.md": "date '2025-13-45' is not an ISO 8601 date",
    "binary-junk.md": "not valid UTF-8",
    "empty.md": "empty file",
    "invalid-yaml.md": "invalid YAML front matter",
    "no-date.md": "date is missing",
    "no-title.md": "title is missing",
    "not-a-mapping.md": "front matter is not a mapping",
    "not-utf8.md": "not valid UTF-8",
    "title-not-string.md": "title must be text, not",
    "same-slug-b.md": "slug 'shared' is already used by",
    "too-big.md": "file is",
}
WARNED = {"control-chars.md": 3, "active-content.md": 1}  # the latter's <img src="x.png"> names a missing file
PUBLISHED = {"good", "active-content", "control-chars", "unicode-category", "shared"}


@pytest.fixture
def bad_site(make_settings: Callable[..., Settings], posts_dir: Path) -> Settings:
    for file in BAD.iterdir():
        shutil.copy(file, posts_dir / file.name)
    (posts_dir / "too-big.md").write_text("---\ntitle: Big\ndate: 2025-01-01\n---\n" + "word " * 2000)
    return make_settings(max_post_bytes=4096)


def every_feed(builder: Builder) -> dict[str, bytes]:
    """Every text file the build publishes (feeds, OPML, sitemap, robots.txt): not the favicon's pixels."""
    assert builder.snapshot is not None
    return {path: f.body for path, f in builder.snapshot.files.items() if not f.media_type.startswith("image/")}


def test_each_bad_post_is_reported_once_and_good_posts_stay(
    bad_site: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Every class of bad input is one problem with path and line; the good posts are all published."""
    builder = Builder(bad_site)
    with caplog.at_level(logging.WARNING, logger="syndicator"):
        report = builder.reload(NOW)
    fatal = {Path(p.path).name: p for p in report.problems if p.fatal}
    assert set(fatal) == set(EXPECTED)
    for name, message in EXPECTED.items():
        assert fatal[name].message.startswith(message), fatal[name]
        assert fatal[name].line >= 1
    warned = [Path(p.path).name for p in report.problems if not p.fatal]
    assert {name: warned.count(name) for name in set(warned)} == WARNED
    assert {p.slug for p in builder.snapshot.catalog.posts} == PUBLISHED
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("post failed")]
    assert len(logged) == len(EXPECTED) - 1  # the duplicate slug is found by the catalog, not the loader
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="syndicator"):
        builder.reload(NOW)
    assert not [r for r in caplog.records if r.getMessage().startswith("post failed")]


def test_every_feed_still_validates_and_carries_nothing_active(bad_site: Settings) -> None:
    """All feeds parse; no script, style, iframe, handler or javascript: URL; drafts and future posts absent."""
    builder = Builder(bad_site)
    builder.reload(NOW)
    for path, body in every_feed(builder).items():
        check_file(path, body)
        # The title is plain text: "<script>" in it is escaped text (or a JSON string), never markup.
        text = body.decode().lower().replace("<script>alert('title')</script>", "")
        text = text.replace("&lt;script&gt;alert('title')&lt;/script&gt;", "")
        for bad in ("&lt;script", "<script", "&lt;style", "&lt;iframe", "onerror", "onload", "javascript:"):
            assert bad not in text, (path, bad)
        assert "secret draft" not in text and "from the future" not in text and "2099" not in text
    assert "/feeds/category/tadzhikistan-rossiia.atom" in builder.snapshot.files
    assert "/feeds/category/drafts.atom" not in builder.snapshot.files


def test_check_and_healthz_list_the_same_problems(
    bad_site: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`check` prints, and /healthz lists, each problem exactly once."""
    builder = Builder(bad_site)
    report = builder.reload(NOW)
    client = create_app(bad_site, builder).test_client()
    body = client.get("/healthz").get_json()
    assert client.get("/posts/draft/").status_code == 404
    assert client.get("/posts/future/").status_code == 404
    assert client.get("/category/drafts/").status_code == 404
    assert body["status"] == "degraded"
    assert len(body["problems"]) == len(report.problems)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(
        f'posts_dir = "{bad_site.posts_dir}"\nstate_dir = "{bad_site.state_dir}"\nmax_post_bytes = 4096\n'
    )
    result = CliRunner().invoke(cli, ["check", "--config", "s.toml"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(report.problems) == len(set(lines))
    assert all(line.count(":") >= 2 for line in lines)


def test_a_post_broken_mid_edit_keeps_its_last_good_version(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A published post that breaks stays in every feed, as it was, until fixed or deleted."""
    path = write_post("a.md", title="Stable title", categories="[One]")
    write_post("b.md", title="Another")  # the site is not emptied when a.md goes (an empty posts_dir is refused)
    builder = Builder(settings)
    builder.reload(NOW)
    before = every_feed(builder)
    path.write_text("---\ntitle: Stable title\ncategories: [One\n---\nhalf-writ")
    report = builder.reload(NOW)
    assert report.failed
    assert every_feed(builder) == before
    path.unlink()
    builder.reload(NOW)
    assert b"Stable title" not in every_feed(builder)["/feeds/all.atom"]


def test_a_file_changing_while_it_is_read_is_read_again(settings: Settings, write_post: Callable[..., Path]) -> None:
    """If a file changes between stat and read, its half-read text is not trusted; the next refresh rereads it."""
    path = write_post("a.md", title="Old")
    cache = PostCache(settings)
    stale = path.stat()
    path.write_text(path.read_text().replace("Old", "New, longer title"))
    entry = cache.load(str(path), stale, None)
    retry = entry.state == (-1, -1, -1)
    result = entry.result
    assert retry and isinstance(result, LoadProblem) and "changed while it was read" in result.message
    posts, _ = cache.refresh()
    assert [p.title for p in posts] == ["New, longer title"]


@hsettings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["title", "date", "updated", "categories", "tags", "author", "slug", "id", "draft", "summary"]),
        front_matter_values,
    ),
    body=st.text(max_size=200),
    raw=st.text(max_size=120),
)
def test_the_loader_never_raises(settings: Settings, fields: dict[str, object], body: str, raw: str) -> None:
    """Property: any front matter and body give a Post or a LoadProblem, never an exception."""
    for text in ("---\n" + json.dumps(fields) + "\n---\n" + body, "---\n" + raw + "\n---\n" + body, raw):
        result = parse_post(text, "posts/x.md", settings)
        assert isinstance(result, Post | LoadProblem)
        if isinstance(result, Post):
            check_atom_of(result, settings)


def check_atom_of(post: Post, settings: Settings) -> None:
    from support.factories import make_catalog
    from syndicator.core.render import render_feeds

    files = render_feeds(make_catalog(post), settings)
    check_atom(files["all.atom"])
    check_rss(files["all.rss"])
    check_json(files["all.json"])


def test_unreadable_file_is_a_problem(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A file that cannot be read is reported, not raised."""
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = write_post("a.md", title="A")
    path.chmod(0)
    _, problems = PostCache(settings).refresh()
    assert "cannot read file" in problems[0].message
