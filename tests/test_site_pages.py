"""Pages (`type: page`): served at their `path` with their own template, in no feed, archive or notification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from support.factories import NOW
from support.factories import post_text
from support.mediafiles import write_png
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.core.pipeline import publish
from syndicator.incremental.postcache import PostCache
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

ABOUT = post_text(title="About us", date="2020-01-01T00:00:00Z", body="We write about rivers.\n", type="page")
TEAM = post_text(title="The team", date="2020-01-02T00:00:00Z", body="Ann and Bo.\n", type="page", path="/about/team/")


@pytest.fixture
def site(settings: Settings, write_post: Callable[..., Path]) -> tuple[Builder, Any]:
    """A post, a page at /about/ (its default path) and one at /about/team/."""
    write_post("2025-06-01-river.md", title="River news", categories="[Rivers]", tags="[water]")
    write_post("pages/about.md", ABOUT)
    write_post("pages/about/team.md", TEAM)
    builder = Builder(settings)
    builder.reload(NOW)
    return builder, create_app(settings, builder).test_client()


def test_a_page_is_served_at_its_path_with_the_page_template(site: tuple[Builder, Any]) -> None:
    """`/about/` (the slug's default path) and `/about/team/` answer 200 with the page: title, content, canonical,
    and none of a post's date, byline or "Filed under"."""
    _builder, client = site
    for path, title, text in [("/about/", "About us", "We write about rivers."), ("/about/team/", "The team", "Ann")]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f"<h1>{title}</h1>" in html and text in html
        assert f'<link rel="canonical" href="https://example.org{path}">' in html
        assert 'class="entry full site-page"' in html
        assert "Filed under" not in html and "<time" not in html
        assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/about/?utm_source=x").status_code == 200  # a query string changes nothing
    assert client.get("/posts/about/").status_code == 404  # a page has no post page


def test_a_page_is_in_no_feed_archive_or_listing(site: tuple[Builder, Any]) -> None:
    """No feed (site, category, tag, author), no archive page and not the home page lists a page; the sitemap
    does."""
    builder, client = site
    snapshot = builder.snapshot
    assert snapshot is not None
    assert [p.slug for p in snapshot.catalog.posts] == ["river"]
    assert sorted(snapshot.catalog.pages) == ["/about/", "/about/team/"]
    for feed in ("/feeds/all.atom", "/feeds/all.rss", "/feeds/author/test-site.atom"):
        parsed = feedparser.parse(client.get(feed).data)
        assert [e.title for e in parsed.entries] == ["River news"], feed
    assert [item["title"] for item in client.get("/feeds/all.json").json["items"]] == ["River news"]
    for page in ("/", "/author/test-site/"):
        html = client.get(page).get_data(as_text=True)
        listing = html.split('<aside class="directory"', 1)[0]  # the posts it lists (the directory links pages)
        assert "River news" in listing and "About us" not in listing and "The team" not in listing
    assert snapshot.report.posts == 1
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)  # where search engines find them
    assert (
        "<loc>https://example.org/about/</loc>" in sitemap and "<loc>https://example.org/about/team/</loc>" in sitemap
    )


def test_the_home_page_links_every_page(site: tuple[Builder, Any]) -> None:
    """As a WordPress theme's pages menu does: the home page's directory lists the pages by path, a page under
    another one under it, each linked to its address (with no count or feed: a page has none)."""
    _builder, client = site
    html = client.get("/").get_data(as_text=True)
    directory = html.split('<aside class="directory"', 1)[1]
    pages = directory.split("<h2>Pages</h2>", 1)[1].split("</ul>", 1)[0]
    assert '<li class="page-link depth-0"><a href="https://example.org/about/">About us</a></li>' in pages
    assert '<li class="page-link depth-1"><a href="https://example.org/about/team/">The team</a></li>' in pages
    assert pages.index("About us") < pages.index("The team") and "Subscribe" not in pages


def test_adding_or_editing_a_page_changes_no_feed(
    settings: Settings, site: tuple[Builder, Any], write_post: Callable[..., Path]
) -> None:
    """A new or edited page writes no feed file (so no WebSub notification goes out), and is served at once."""
    builder, client = site
    write_post("pages/contact.md", post_text(title="Contact", body="Write to us.\n", type="page"))
    report = builder.reload(NOW + timedelta(minutes=1))
    assert report.written == ("sitemap.xml",)  # type: ignore[union-attr]  # it lists the page; no feed changed
    assert "Write to us." in client.get("/contact/").get_data(as_text=True)
    assert 'href="https://example.org/contact/">Contact</a>' in client.get("/").get_data(as_text=True)  # listed
    write_post("pages/about.md", ABOUT.replace("rivers", "lakes"))
    report = builder.reload(NOW + timedelta(minutes=2))
    assert set(report.written) <= {"sitemap.xml"}  # type: ignore[union-attr]
    assert "We write about lakes." in client.get("/about/").get_data(as_text=True)


def test_a_published_post_made_a_page_leaves_its_feeds_with_a_tombstone(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A post that becomes a page is no longer in the feeds: it leaves them as a deleted entry."""
    write_post("pages/faq.md", post_text(title="FAQ", categories="[Help]"))
    builder = Builder(settings)
    builder.reload(NOW)
    write_post("pages/faq.md", post_text(title="FAQ", categories="[Help]", type="page"))
    builder.reload(NOW + timedelta(hours=1))
    atom = (settings.output_dir / "all.atom").read_text(encoding="utf-8")
    assert "<at:deleted-entry" in atom and "<entry>" not in atom


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"type": "article"}, 4, "type must be post or page, not 'article'"),
        ({"type": "page", "path": "/feeds/about/"}, 5, "path '/feeds/about/' is under /feeds/"),
        ({"type": "page", "path": "/category/x/"}, 5, "path '/category/x/' is under /category/"),
        ({"type": "page", "path": "/"}, 5, "path / is the home page"),
        ({"type": "page", "path": "/a/../b/"}, 5, "is not a URL path"),
        ({"type": "page", "path": "'/a b/'"}, 5, "is not a URL path"),
        ({"type": "page", "path": "/a?b=1/"}, 5, "is not a URL path"),
    ],
)
def test_a_bad_type_or_path_is_a_problem_on_its_line(
    settings: Settings, write_post: Callable[..., Path], fields: dict[str, str], line: int, message: str
) -> None:
    """`check` names the file, the line and what is wrong; the page is not published."""
    write_post("pages/bad.md", post_text(title="Bad", **fields))
    posts, problems = PostCache(settings).refresh()
    assert posts == []
    assert [(Path(p.path).name, p.line) for p in problems] == [("bad.md", line)]
    assert message in problems[0].message


def test_path_on_a_post_is_a_warning_and_two_pages_on_one_path_a_problem(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """`path` means nothing without `type: page` (a warning); a second page at a taken path is not published."""
    write_post("a.md", post_text(title="A post", path="/a/"))
    write_post("pages/one.md", post_text(title="One", type="page", path="/same/"))
    write_post("pages/two.md", post_text(title="Two", type="page", path="same"))
    loaded, problems = PostCache(settings).refresh()
    assert [(Path(p.path).name, p.line, p.fatal) for p in problems] == [("a.md", 4, False)]
    assert "path is only read for a page" in problems[0].message
    published = publish(loaded, {}, NOW)
    assert [p.title for p in published.catalog.pages.values()] == ["One"]
    assert [(Path(p.path).name, p.message) for p in published.problems] == [
        ("two.md", "path '/same/' is already used by " + str(settings.posts_dir / "pages/one.md"))
    ]


def test_check_reads_page_files_like_posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`syndicator check` is clean on good pages and names a bad one's line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "posts" / "pages").mkdir(parents=True)
    (tmp_path / "posts" / "pages" / "about.md").write_text(ABOUT)
    result = CliRunner().invoke(cli, ["check"])
    assert (result.exit_code, result.stdout) == (0, "")
    (tmp_path / "posts" / "pages" / "bad.md").write_text(post_text(title="Bad", type="page", path="/static/x/"))
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "pages/bad.md:5: path '/static/x/' is under /static/" in result.stdout


def test_a_relative_link_in_a_page_is_resolved_against_its_path(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A page's relative links are resolved against its own address, as a browser would."""
    write_post("pages/team.md", post_text(title="Team", body="[Ann](ann/)\n", type="page", path="/about/team/"))
    posts, _problems = PostCache(settings).refresh()
    assert 'href="https://example.org/about/team/ann/"' in posts[0].content_html


def test_the_files_a_page_shows_are_published(settings: Settings, write_post: Callable[..., Path]) -> None:
    """An image beside a page is published like a post's (the page links it at its public URL)."""
    write_post("pages/team.md", post_text(title="Team", body="![Us](us.png)\n", type="page"))
    write_png(settings.posts_dir / "pages" / "us.png", 40, 30)
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    assert 'src="https://example.org/feeds/media/pages/us.png"' in client.get("/team/").get_data(as_text=True)
    with client.get("/feeds/media/pages/us.png") as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
