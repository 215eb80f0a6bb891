"""[redirects] in the config, and the old WordPress addresses that answer 301 (SPEC: WordPress import, deletions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.factories import NOW
from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.configtables import Redirects
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

SITE = "https://example.org"
REDIRECTS = Redirects(
    {
        "category": {"old-alpha": "alpha", "gone": "nowhere", "beta": "alpha", "экономика": "alpha"},
        "tag": {"old-tag": "red"},
        "author": {"ann": "ann-example"},
        "post": {"7": "first", "8": "second", "9": "draft-post", "old-first": "first", "10": "переговоры"},
    }
)


@pytest.fixture
def app_client(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Any:
    """A client over posts in categories Alpha and Beta, with REDIRECTS in the settings."""
    settings = make_settings(redirects=REDIRECTS, feed_size=1, archive_page_size=1)
    write_post("2025-06-01-first.md", title="First", categories="[Alpha, Beta]", tags="[red]", author="Ann Example")
    write_post("2025-06-02-second.md", title="Second", date="2025-06-02T10:00:00Z", categories="[Alpha]")
    write_post("2025-06-03-draft.md", title="Draft", slug="draft-post", draft="true")
    write_post("2023-05-01-notes.md", title="Notes", date="2023-05-01T08:00:00Z", slug="notes")
    write_post("2023-06-01-notes-2.md", title="Notes again", date="2023-06-01T08:00:00Z", slug="notes-2")
    write_post("2011-12-22-talks.md", title="Talks", date="2011-12-22T09:00:00Z", slug="переговоры")
    builder = Builder(settings)
    said = [(p.message, p.fatal) for p in builder.reload(NOW).problems]  # beta is live: its redirect waits
    assert said == [
        (
            "redirects.category: 'beta' is a live category's slug here: it is answered as such, not sent to 'alpha'",
            False,
        )
    ]
    return create_app(settings, builder).test_client()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[redirects.categories]\na = "b"\n', "unknown redirect kind 'categories'"),
        ('redirects = "x"\n', "redirects must be a table"),
        ("[redirects]\ncategory = 3\n", "redirects.category must be a table"),
        ('[redirects.tag]\na = "b c"\n', "'b c' .* is not a URL-safe slug"),
        ('[redirects.tag]\na = "../x"\n', "is not a URL-safe slug"),
        ('[redirects.tag]\n"a/b" = "c"\n', "old slug 'a/b' is not one URL path segment"),
        ('[redirects.post]\n".." = "c"\n', "old slug '..' is not one URL path segment"),
        ("[redirects.author]\na = 1\n", "1 .* is not a URL-safe slug"),
    ],
)
def test_bad_redirects_are_named(tmp_path: Path, toml: str, message: str) -> None:
    """An unknown kind or an unsafe slug in [redirects] is a ConfigError naming it."""
    config = tmp_path / "s.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, {})


def test_redirects_table_is_read(tmp_path: Path) -> None:
    """[redirects.<kind>] old = new, for category, tag, author and post (slugs and WordPress ids)."""
    config = tmp_path / "s.toml"
    config.write_text(
        'site_title = "X"\n[redirects.category]\neconomy = "economy-trade"\n'
        '"экономика" = "ekonomika"\n[redirects.post]\n101 = "hello"\n'
    )
    redirects = load_settings(config, {}).redirects
    assert redirects.get("category", "economy") == "economy-trade"
    assert redirects.get("category", "экономика") == "ekonomika"
    assert redirects.get("post", "101") == "hello"
    assert redirects.get("tag", "economy") is None and len(redirects) == 3
    with pytest.raises(ConfigError, match="unknown setting SYNDICATOR_REDIRECTS"):
        load_settings(config, {"SYNDICATOR_REDIRECTS": "x"})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/category/old-alpha/", "/category/alpha/"),
        ("/category/old-alpha/feed/", "/feeds/category/alpha.rss"),
        ("/category/old-alpha/feed/atom/", "/feeds/category/alpha.atom"),
        ("/feeds/category/old-alpha.atom", "/feeds/category/alpha.atom"),
        ("/feeds/category/old-alpha.rss", "/feeds/category/alpha.rss"),
        ("/feeds/category/old-alpha.json", "/feeds/category/alpha.json"),
        ("/feeds/category/old-alpha/archive/1.atom", "/feeds/category/alpha/archive/1.atom"),
        ("/category/%D1%8D%D0%BA%D0%BE%D0%BD%D0%BE%D0%BC%D0%B8%D0%BA%D0%B0/", "/category/alpha/"),
        ("/tag/old-tag/", "/tag/red/"),
        ("/tag/old-tag/feed/", "/feeds/tag/red.rss"),
        ("/author/ann/", "/author/ann-example/"),
        ("/feeds/author/ann.atom", "/feeds/author/ann-example.atom"),
    ],
)
def test_old_taxonomy_slugs_answer_301(app_client: Any, old: str, new: str) -> None:
    """Old category, tag and author slugs: pages, WordPress feed URLs, feed files and archive pages 301, in one hop."""
    response = app_client.get(old)
    assert response.status_code == 301
    location = response.headers["Location"]
    if location.startswith("/"):  # the WordPress feed views' own Location (another part of the app)
        location = SITE + location
    assert location == SITE + new
    assert app_client.get(new).status_code == 200


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/2025/06/01/first/", "/posts/first/"),
        ("/2025/06/first/", "/posts/first/"),
        ("/first/", "/posts/first/"),
        ("/first", "/posts/first/"),
        ("/2025/06/01/old-first/", "/posts/first/"),  # through [redirects] post
        ("/old-first/", "/posts/first/"),
        ("/?p=7", "/posts/first/"),
        ("/?p=8&replytocom=3", "/posts/second/"),
        ("/archives/8", "/posts/second/"),
        ("/archives/8/", "/posts/second/"),
        ("/2023/05/01/notes/", "/posts/notes/"),
        ("/2023/06/01/notes/", "/posts/notes-2/"),  # the post of that date, of two that shared a slug
        ("/2023/06/notes/", "/posts/notes-2/"),
        (
            "/2011/12/22/%D0%BF%D0%B5%D1%80%D0%B5%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%D1%8B/",
            "/posts/%D0%BF%D0%B5%D1%80%D0%B5%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%D1%8B/",
        ),
        ("/?p=10", "/posts/%D0%BF%D0%B5%D1%80%D0%B5%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%D1%8B/"),
        ("/posts/old-first/", "/posts/first/"),  # a post renamed by hand, its old slug in [redirects] post
    ],
)
def test_old_post_permalinks_answer_301(app_client: Any, old: str, new: str) -> None:
    """WordPress permalinks of the common structures answer 301 to the post's page."""
    response = app_client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == SITE + new
    assert app_client.get(new).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/category/gone/",  # the new slug names no category
        "/feeds/category/gone.atom",
        "/feeds/category/nothing.atom",
        "/feeds/category/old-alpha/archive/9.atom",  # no such page under the new slug
        "/nothing/",
        "/2025/06/01/nothing/",
        "/2025/02/31/nothing/",
        "/?p=9",  # a draft
        "/posts/7/",  # a post id of [redirects] is no old slug at /posts/
        "/?p=999",
        "/archives/999/",
    ],
)
def test_unknown_old_addresses_are_404(app_client: Any, path: str) -> None:
    """An old address that leads to nothing published answers 404, never 500."""
    assert app_client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/2025/06/01/first/2/", "/posts/first/"),  # page 2 of a post split with <!--nextpage-->
        ("/2025/06/first/3/", "/posts/first/"),
        ("/first/2/", "/posts/first/"),
        ("/posts/first/2/", "/posts/first/"),
        ("/2025/06/01/first/page/2/", "/posts/first/"),
        ("/2025/06/01/old-first/2/", "/posts/first/"),  # an old slug, then its page number
        ("/archives/8/2/", "/posts/second/"),
        ("/2025/06/01/7/", "/posts/first/"),  # %post_id% right after the date
        ("/2025/06/01/7/2/", "/posts/first/"),
    ],
)
def test_a_page_number_after_a_post_is_that_post(app_client: Any, old: str, new: str) -> None:
    """A number after a post's permalink is its page number (301 to the post), never a post id."""
    response = app_client.get(old)
    assert (response.status_code, response.headers.get("Location")) == (301, SITE + new)


@pytest.mark.parametrize(
    "path",
    ["/search/7/", "/x/8/", "/x/y/7/", "/nothing/page/7/", "/search/2/", "/category-x/8/page/2/", "/x/8/2/"],
)
def test_digits_after_no_post_are_no_post_id(app_client: Any, path: str) -> None:
    """Digits at the end of an address that names no post are no post id (WordPress gives ids in its own places)."""
    assert app_client.get(path).status_code == 404


def test_a_current_slug_wins_over_a_redirect(app_client: Any) -> None:
    """A redirect's old slug that is a current category is served, not redirected."""
    assert app_client.get("/category/beta/").status_code == 200
    assert app_client.get("/").status_code == 200  # the home page without ?p= is the home page
    assert app_client.get("/?p=abc").status_code == 200  # as WordPress reads it: no post id


def test_locations_never_come_from_the_host_header(app_client: Any) -> None:
    """Redirects use site_url, whatever Host and X-Forwarded-Host the request names."""
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in ("/category/old-alpha/", "/feeds/tag/old-tag.rss", "/2025/06/01/first/", "/?p=7", "/archives/7"):
        response = app_client.get(path, headers=headers)
        assert response.status_code == 301
        assert response.headers["Location"].startswith(SITE + "/"), path


def test_a_redirect_of_a_live_slug_is_a_warning_on_its_line(tmp_path: Path) -> None:
    """``[redirects.category] culture = "politics"`` while posts are still in Culture: the page and feeds stay
    Culture's, and the entry is a warning naming the config file and its line (it was ignored without a word)."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\ncategories: [Culture]\n---\nHi.\n")
    config = tmp_path / "syndicator.toml"
    config.write_text('site_url = "https://example.org"\n\n[redirects.category]\nculture = "politics"\n')
    settings = load_settings(config, {})
    problems = Builder(settings).reload(NOW).problems
    assert [(p.path, p.line, p.fatal) for p in problems] == [(str(config), 4, False)], problems
    assert "'culture' is a live category's slug here" in problems[0].message
