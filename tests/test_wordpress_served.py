"""An imported WordPress site served: every old address leads to its new page or feed (SPEC "Real WordPress sites,
round 2": pages, nested categories, feed names, query forms, uploads, index.php), with Locations from site_url."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from support.factories import NOW
from support.factories import wxr_export
from support.factories import wxr_item
from support.mediafiles import CAMELS_JPEG
from support.mediafiles import copy
from support.paths import DATA
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.configtables import Categories
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

CLASSIC = DATA / "wordpress" / "classic-site.xml"
SITE = "https://blog.example.org"
FEEDS = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """classic-site.xml imported with --media (real image files standing in for its uploads), built, served."""
    root = tmp_path_factory.mktemp("site")
    (root / "site.toml").write_text(f'site_url = "{SITE}"\n')
    uploads = root / "old-uploads"
    for name in ("one.jpg", "two.jpg"):
        copy(CAMELS_JPEG, uploads / "2020" / "05" / name)
    copy(CAMELS_JPEG, uploads / "2020" / "04" / "spare.jpg")  # no post uses it
    args = ["import", "wordpress", str(CLASSIC), "--config", str(root / "site.toml"), "--media", str(uploads)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = load_settings(root / "site.toml", {})  # posts/, feeds/ and .syndicator/ beside it
    builder = Builder(settings)
    builder.reload(NOW)
    return create_app(settings, builder).test_client()


def follow(client: Any, path: str, host: str = "blog.example.org") -> tuple[list[str], Any]:
    """The Locations of the redirects from ``path`` (each under site_url) and the last answer."""
    seen = []
    response = client.get(path, headers={"Host": host})
    while response.status_code in (301, 308):
        location = response.headers["Location"]
        assert location.startswith(SITE + "/"), location
        seen.append(location.removeprefix(SITE))
        response = client.get(location.removeprefix(SITE), headers={"Host": host})
    return seen, response


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/?page_id=210", "/about/"),
        ("/?p=211", "/about/team/"),  # a page's id as ?p=
        ("/archives/210/", "/about/"),
        ("/category/places/towns/", "/category/towns/"),
        ("/category/places/towns/old-town/", "/category/old-quarter/"),  # the child's WordPress nicename
        ("/category/places/towns/old-town/?utm=x", "/category/old-quarter/"),
        ("/?cat=11", "/category/towns/"),
        ("/?cat=12", "/category/old-quarter/"),
        ("/?category_name=notes", "/category/notes/"),
        ("/?tag=rivers-2", "/tag/rivers/"),
        ("/?author=1", "/author/nodira-karimova/"),
        ("/first-title/", "/posts/title-with-markup/"),  # a _wp_old_slug
        ("/2020/05/05/first-title/", "/posts/title-with-markup/"),
        ("/index.php/2020/05/01/markup/", "/posts/markup/"),
        ("/index.php?p=201", "/posts/markup/"),
        ("/index.php/about/team/", "/about/team/"),
        ("/index.php/category/places/towns/", "/category/towns/"),
        ("/?attachment_id=301", "/posts/post-format-gallery/"),  # an upload's page: the post it was uploaded to
        ("/?p=302", "/posts/post-format-gallery/"),
        ("/2020/05/02/post-format-gallery/two/", "/posts/post-format-gallery/"),  # the upload's page, by its slug
        ("/post-format-gallery/one/", "/posts/post-format-gallery/"),  # the same under /%postname%/ permalinks
        ("/attachment/three/", "/posts/post-format-gallery/"),
        ("/index.php/2020/05/02/post-format-gallery/two/", "/posts/post-format-gallery/"),
        ("/index.php/index.php/2020/05/01/markup/", "/posts/markup/"),
        ("/index.php/index.php?p=201", "/posts/markup/"),
        ("/index.html", "/"),  # a folder's page as a static site names it
        ("/about/team/index.html", "/about/team/"),
        ("/posts/markup/index.html", "/posts/markup/"),
        ("/category/towns/index.html?utm=x", "/category/towns/?utm=x"),
        ("/category/places/towns/index.html", "/category/towns/"),  # where the folder moved, in one hop
        ("/first-title/index.html", "/posts/title-with-markup/"),
    ],
)
def test_old_addresses_lead_to_the_new_page(client: Any, old: str, new: str) -> None:
    """Each old address answers one 301, Location under site_url whatever the Host, to a page that is there (a
    search engine follows a few hops, and each costs a reader a round trip)."""
    seen, response = follow(client, old, host="attacker.example")
    assert seen == [new]
    assert response.status_code == 200 and response.mimetype == "text/html"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/feed/rss2/", "/feeds/all.rss"),
        ("/feed/rss/", "/feeds/all.rss"),
        ("/feed/rdf/", "/feeds/all.rss"),
        ("/?feed=rss2", "/feeds/all.rss"),
        ("/?feed=rss", "/feeds/all.rss"),
        ("/?feed=atom", "/feeds/all.atom"),
        ("/?feed=rss2&cat=13", "/feeds/category/notes.rss"),
        ("/?cat=12&feed=atom", "/feeds/category/old-quarter.atom"),
        ("/?feed=rss2&tag=rivers-2", "/feeds/tag/rivers.rss"),
        ("/?feed=atom&author=1", "/feeds/author/nodira-karimova.atom"),
        ("/category/places/towns/old-town/feed/", "/feeds/category/old-quarter.rss"),
        ("/category/places/towns/old-town/feed/atom/", "/feeds/category/old-quarter.atom"),
        ("/category/places/towns/feed/rss2/", "/feeds/category/towns.rss"),
        ("/category/notes/feed/rdf/", "/feeds/category/notes.rss"),
        ("/index.php/feed/", "/feeds/all.rss"),
        ("/index.php?feed=atom", "/feeds/all.atom"),
    ],
)
def test_old_feed_addresses_lead_to_a_feed_never_a_page(client: Any, old: str, new: str) -> None:
    """A reader subscribed to an old feed address gets a feed (301 to it), never the home page's HTML."""
    seen, response = follow(client, old)
    assert seen == [new]  # one hop
    assert response.status_code == 200 and response.mimetype == FEEDS[new.rpartition(".")[2]]


@pytest.mark.parametrize(
    "old",
    [
        "/category/towns/old-town/",  # its parents are not the category's own
        "/category/notes/towns/",
        "/category/places/nowhere/",
        "/category/places/towns/old-town/feed/rss3/",
        "/tag/rivers-2/x/",
        "/?cat=999",
        "/?feed=rss2&cat=999",
        "/?feed=comments-rss2",
        "/?p=201&feed=rss2",  # a post's comment feed
        "/?page_id=212",  # a draft page
        "/wp-content/uploads/2020/04/spare.jpg",  # brought over, but no post uses it
        "/wp-content/uploads/2020/05/missing.jpg",
        "/nowhere/at/all/",
        "/?attachment_id=305",  # uploaded to no post
        "/2020/05/02/post-format-gallery/nothing/",  # no upload of that post has this slug
        "/?attachment_id=999",
        "/?attachment_id=abc",
        "/?s=rivers",  # no search here
        "/?s=rivers&paged=2",
        "/?m=202005",  # no date archives here (nor /2020/05/)
        "/?m=20200501",
    ],
)
def test_what_was_never_published_is_404(client: Any, old: str) -> None:
    """An address that leads to nothing published is 404, not a page of something else."""
    seen, response = follow(client, old)
    assert response.status_code == 404, seen


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/wp-content/uploads/2020/05/one.jpg", "/feeds/media/uploads/2020/05/one.jpg"),
        ("/wp-content/uploads/2020/05/one-150x150.jpg", "/feeds/media/uploads/2020/05/one.jpg"),  # a resized copy
        ("/wp-content/uploads/2020/05/two.jpg", "/feeds/media/uploads/2020/05/two.jpg"),
    ],
)
def test_uploads_lead_to_the_imported_files(client: Any, old: str, new: str) -> None:
    """/wp-content/uploads/… answers 301 to the file the import brought with --media."""
    seen, response = follow(client, old)
    with response:
        assert seen == [new]
        assert response.status_code == 200 and response.data == CAMELS_JPEG.read_bytes()


def test_an_empty_search_or_month_is_the_home_page(client: Any) -> None:
    """``?s=`` and ``?m=`` without a value are the home page, as on WordPress."""
    for path in ("/?s=", "/?m="):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html"


def test_pages_are_served_at_their_old_path(client: Any) -> None:
    """The imported pages answer at their WordPress address, parents first, with a query string too."""
    for path, text in [("/about/", "Who writes here."), ("/about/team/", "")]:
        response = client.get(path)
        assert response.status_code == 200 and text in response.get_data(as_text=True)
    assert client.get("/about/team/?replytocom=3").status_code == 200
    seen, response = follow(client, "/about/team")
    assert (seen, response.status_code) == (["/about/team/"], 200)


def test_the_import_writes_the_ids_and_link_slugs_the_old_addresses_need(tmp_path: Path) -> None:
    """[redirects] gets WordPress's category and author ids (digits) and the last segment of an item's <link> when
    it is no longer its post_name; the link then leads to the post."""
    item = wxr_item(5, post_name="second-name").replace(
        "<guid>", "<link>http://blog.example.org/2020/01/01/first-name/</link><guid>"
    )
    export = tmp_path / "export.xml"
    export.write_text(wxr_export(item))
    config = tmp_path / "site.toml"
    config.write_text(f'site_url = "{SITE}"\n')
    result = CliRunner().invoke(cli, ["import", "wordpress", str(export), "--config", str(config)])
    assert result.exit_code == 0, result.output
    settings = load_settings(config, {})
    assert settings.redirects.get("post", "first-name") == "second-name"
    builder = Builder(settings)
    builder.reload(NOW)
    seen, response = follow(create_app(settings, builder).test_client(), "/2020/01/01/first-name/")
    assert (seen, response.status_code) == (["/posts/second-name/"], 200)
    classic = tmp_path / "classic" / "site.toml"
    classic.parent.mkdir()
    classic.write_text(f'site_url = "{SITE}"\n')  # its folder holds the posts
    CliRunner().invoke(cli, ["import", "wordpress", str(CLASSIC), "--config", str(classic)], catch_exceptions=False)
    redirects = load_settings(classic, {}).redirects
    assert [redirects.get("category", i) for i in ("10", "11", "12", "13")] == [
        None,  # places: no imported post is filed under it
        "towns",
        "old-quarter",
        "notes",
    ]
    assert redirects.get("author", "1") == "nodira-karimova"


def test_category_descriptions_are_the_feeds_subtitles_and_the_archive_intro(client: Any) -> None:
    """[categories.<slug>] description: Atom subtitle, RSS description, JSON Feed description, the archive's intro."""
    described = "The streets around the bazaar."
    atom = feedparser.parse(client.get("/feeds/category/old-quarter.atom").data)
    rss = feedparser.parse(client.get("/feeds/category/old-quarter.rss").data)
    assert atom.feed.subtitle == described and rss.feed.description == described
    assert client.get("/feeds/category/old-quarter.json").json["description"] == described
    html = client.get("/category/old-quarter/").get_data(as_text=True)
    assert f'<div class="archive-intro"><p>{described}</p></div>' in html
    assert "archive-intro" not in client.get("/category/notes/").get_data(as_text=True)  # none: no intro
    assert feedparser.parse(client.get("/feeds/category/notes.atom").data).feed.subtitle.startswith("Posts filed")


def test_a_changed_description_is_published_by_the_next_start(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """The feeds and pages made with the old description are made again when the config says another."""
    write_post("a.md", title="A", categories="[Towns]")
    Builder(settings).reload(NOW)
    retold = replace(settings, categories=Categories({"towns": {"description": "Where people live & trade."}}))
    builder = Builder(retold)
    report = builder.reload(NOW)
    assert "category/towns.atom" in report.written  # type: ignore[union-attr]
    text = (settings.output_dir / "category" / "towns.rss").read_text(encoding="utf-8")
    assert "<description>Where people live &#x26; trade.</description>" in text
    html = create_app(retold, builder).test_client().get("/category/towns/").get_data(as_text=True)
    assert "Where people live &amp; trade." in html


def test_two_categories_of_one_name_stay_two(tmp_path: Path) -> None:
    """Categories WordPress shows with one name under different parents keep their own slug, parent, nested
    address, feed and ?cat= id, instead of becoming one category with no parent."""
    config = tmp_path / "site.toml"
    config.write_text(f'site_url = "{SITE}"\n')
    export = CLASSIC.with_name("same-names.xml")
    result = CliRunner().invoke(cli, ["import", "wordpress", str(export), "--config", str(config)])
    assert result.exit_code == 0, result.output
    settings = load_settings(config, {})
    assert settings.categories.parent("rivers-regions") == "regions" and settings.categories.parent("rivers") == ""
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    catalog = builder.snapshot.catalog
    assert {p.slug for p in catalog.taxonomy("category")["rivers"].posts} == {"long-river", "both-rivers"}
    assert {p.slug for p in catalog.taxonomy("category")["rivers-regions"].posts} == {"hill-river", "both-rivers"}
    for old, new in [
        ("/category/regions/rivers-regions/", "/category/rivers-regions/"),
        ("/category/regions/rivers-regions/feed/", "/feeds/category/rivers-regions.rss"),
        ("/?cat=32", "/category/rivers-regions/"),
        ("/?cat=31", "/category/rivers/"),
        ("/category/rivers/feed/", "/feeds/category/rivers.rss"),
    ]:
        seen, response = follow(client, old)
        assert seen[-1:] == [new] and response.status_code == 200, old
    assert follow(client, "/category/regions/rivers/")[1].status_code == 404  # the top-level one has no parent


@pytest.mark.parametrize("path", ["/posts/nowhere/index.html", "/category/nowhere/index.html", "/a/b/index.html"])
def test_an_index_html_of_no_folder_is_not_found(client: Any, path: str) -> None:
    """``index.html`` of an address that is no page and moved nowhere: 404 at once, not a 301 to a 404."""
    assert client.get(path).status_code == 404
