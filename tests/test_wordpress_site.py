"""WordPress import, round 2: the site around the posts (SPEC "Real WordPress sites, round 2").

Pages, the category tree and descriptions, exports without ids, what the summary says was not brought, and links
to the old site made links to the new one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from click.testing import Result

from conftest import NOW
from factories import wxr_export
from factories import wxr_item
from mediafiles import CAMELS_JPEG
from mediafiles import EPISODE_MP3
from mediafiles import copy
from syndicator.cli import cli
from syndicator.config import ConfigError
from syndicator.config import load_settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

DATA = Path(__file__).resolve().parent / "data" / "wordpress"
CLASSIC = DATA / "classic-site.xml"
PREVIEW = DATA / "preview.xml"
OLD = "http://old.example.net"


def run_import(root: Path, export: Path, *args: str) -> Result:
    """`syndicator import wordpress` into root/posts, with root/site.toml as the config."""
    return CliRunner().invoke(
        cli,
        [
            "import",
            "wordpress",
            str(export),
            "--posts-dir",
            str(root / "posts"),
            "--config",
            str(root / "site.toml"),
            *args,
        ],
        catch_exceptions=False,
    )


def read_post(path: Path) -> tuple[dict[str, object], str]:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(front), body.strip()


def hrefs(body: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', body)


def test_pages_are_imported_under_pages_with_type_and_path(tmp_path: Path) -> None:
    """WordPress pages become posts/pages/<path>.md with `type: page` and `path:` (/parent/child/ for a child)."""
    result = run_import(tmp_path, CLASSIC)
    assert result.exit_code == 0, result.output
    assert "imported 7 posts and 3 pages" in result.output and "skipped: 5 attachment\n" in result.output
    pages = tmp_path / "posts" / "pages"
    assert sorted(str(p.relative_to(pages)) for p in pages.rglob("*.md")) == [
        "about.md",
        "about/team.md",
        "about/team/secret-plans.md",
    ]
    about, body = read_post(pages / "about.md")
    assert (about["title"], about["type"], about["path"], about["slug"]) == ("About", "page", "/about/", "about")
    assert about["id"] == f"{OLD}/?page_id=210"
    assert body == '<p>Who writes here.</p>\n\n<p>See <a href="/about/team/">the team</a>.</p>'
    team, _ = read_post(pages / "about" / "team.md")
    assert (team["type"], team["path"]) == ("page", "/about/team/")
    secret, _ = read_post(pages / "about" / "team" / "secret-plans.md")  # a draft without a post_name
    assert (secret["path"], secret["draft"]) == ("/about/team/secret-plans/", True)
    assert load_settings(tmp_path / "site.toml", {}).redirects.get("post", "211") == "team"


def test_category_parents_and_descriptions_go_into_the_config(tmp_path: Path) -> None:
    """The import writes [categories.<slug>] with `parent` and `description`; entries the file has are kept."""
    (tmp_path / "site.toml").write_text('site_title = "Valley"\n\n[categories.places]\ndescription = "Mine."\n')
    result = run_import(tmp_path, CLASSIC)
    assert result.exit_code == 0, result.output
    assert "and 2 categories written to" in result.output
    categories = load_settings(tmp_path / "site.toml", {}).categories
    assert categories.description("places") == "Mine."  # the publisher's, not "Where things happen & why."
    assert categories.parent("places") == ""
    assert categories.parent("towns") == "places"
    assert (categories.parent("old-quarter"), categories.description("old-quarter")) == (
        "towns",
        "The streets around the bazaar.",
    )
    assert "unused-child" not in categories.table and "notes" not in categories.table  # no post / nothing to say
    text = (tmp_path / "site.toml").read_text()
    assert text.startswith('site_title = "Valley"\n\n[categories.places]\ndescription = "Mine."\n')
    again = run_import(tmp_path, CLASSIC)
    assert "0 redirects and 0 categories written" in again.output and (tmp_path / "site.toml").read_text() == text


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[categories.towns]\nparent = "Not a slug"\n', "categories.towns.parent: 'Not a slug' is not a slug"),
        ('[categories.towns]\ncolour = "red"\n', "categories.towns: unknown key 'colour'"),
        ("[categories]\ntowns = 5\n", "categories.towns: must be a table"),
        ('[categories.towns]\ndescription = ["a"]\n', "categories.towns.description: ['a'] is not a string"),
    ],
)
def test_the_category_table_is_checked(tmp_path: Path, table: str, message: str) -> None:
    """A [categories] entry that is not a table of a parent slug and a description is an error naming it."""
    config = tmp_path / "site.toml"
    config.write_text(table)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config, {})


def test_items_without_post_id_or_post_name_are_imported(tmp_path: Path) -> None:
    """Items without wp:post_id or wp:post_name: the id from the ?p= of the link or guid, the slug from the title."""
    result = run_import(tmp_path, PREVIEW)
    assert result.exit_code == 0, result.output
    assert "imported 3 posts and 0 pages" in result.output
    assert "skipped malformed post ? (item 4): no numeric wp:post_id, and no ?p=<id> in its link or guid" in (
        result.output
    )
    names = sorted(p.name for p in (tmp_path / "posts").glob("*.md"))
    assert names == [
        "2008-06-20-only-a-guid.md",
        "2008-06-21-more-tags-things.md",
        "2008-10-17-a-picture-is-worth-it.md",
    ]
    meta, body = read_post(tmp_path / "posts" / "2008-10-17-a-picture-is-worth-it.md")
    assert (meta["title"], meta["id"], meta["author"]) == (
        "A Picture Is Worth It",
        "http://preview.example.com/?p=19",
        "Preview Admin",
    )
    assert meta["categories"] == ["Uncategorized", "boat"]  # plain RSS categories
    assert '<a href="/posts/more-tags-things/">the tags</a>' in body
    redirects = load_settings(tmp_path / "site.toml", {}).redirects
    assert [redirects.get("post", i) for i in ("19", "14", "7")] == [
        "a-picture-is-worth-it",
        "more-tags-things",
        "only-a-guid",
    ]


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ((wxr_item(1).replace("<wp:post_id>1</wp:post_id>", "").replace("?p=1", "?x"),), 1),  # nothing usable
        ((wxr_item(9, post_type="attachment", status="inherit"),), 1),  # items, none a post or page
        ((), 0),  # no items at all: nothing to import, nothing wrong
        ((wxr_item(1),), 0),
    ],
)
def test_an_import_that_brings_nothing_from_items_exits_1(tmp_path: Path, items: tuple[str, ...], code: int) -> None:
    """An export with items of which none is imported is a failure (exit 1), not a quiet success."""
    export = tmp_path / "export.xml"
    export.write_text(wxr_export(*items))
    result = run_import(tmp_path, export)
    assert result.exit_code == code, result.output
    if code:
        assert f"{export}: nothing imported from its {len(items)} items" in result.output


def test_the_summary_counts_what_was_not_brought(tmp_path: Path) -> None:
    """Comments, attachments no post uses and sticky flags are counted, one line each."""
    result = run_import(tmp_path, CLASSIC)
    lines = result.output.splitlines()
    assert "not imported: 3 comments (the posts and pages come without them)" in lines
    assert "not imported: 2 attachments that no post or page uses" in lines  # the PDF and spare.jpg
    assert "not imported: 1 sticky flag (sticky posts are in date order here)" in lines
    assert "4 galleries" in lines[0] and "13 links to the old site made new" in lines[0]


LINKED = [
    "/posts/markup/",
    "/posts/captions/#comments",
    "/posts/audio/",
    "/posts/title-with-markup/",
    "/posts/post-format-gallery/",
    "/about/team/",
    "/about/",
    "/category/old-quarter/",
    "/tag/rivers/",
    "/author/nodira-karimova/",
]
LEFT_AS_THEY_WERE = [
    f"{OLD}/2020/05/07/unfinished/",  # a draft: not published here
    f"{OLD}/shop/",  # not in the export
    "https://elsewhere.example.org/2020/05/01/markup/",  # another site
]


def test_links_to_the_old_site_point_at_the_new_one(tmp_path: Path) -> None:
    """Links to the old site's posts, pages, categories, tags and authors get their new addresses; attachment pages
    and uploads the file's URL; links to what was not imported stay as they were."""
    assert run_import(tmp_path, CLASSIC).exit_code == 0
    meta, body = read_post(tmp_path / "posts" / "2020-05-06-links.md")
    assert meta["summary"] == 'Links, starting with <a href="/posts/markup/">the markup post</a>.'
    uploads = f"{OLD}/wp-content/uploads/2020/05"
    assert hrefs(body) == [*LINKED, f"{uploads}/two.jpg", f"{uploads}/song.mp3", *LEFT_AS_THEY_WERE]
    settings = load_settings(tmp_path / "site.toml", {"posts_dir": tmp_path / "posts"})
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    for path in LINKED:
        assert client.get(path.split("#")[0]).status_code == 200, path
    assert client.get("/2020/05/05/first-title/").headers["Location"].endswith("/posts/title-with-markup/")


def test_with_media_links_to_uploads_and_attachment_pages_name_the_imported_files(tmp_path: Path) -> None:
    """With --media, a link to an upload or to an attachment page names the file brought into posts/uploads/."""
    uploads = tmp_path / "old-uploads"
    copy(CAMELS_JPEG, uploads / "2020" / "05" / "two.jpg")
    copy(EPISODE_MP3, uploads / "2020" / "05" / "song.mp3")
    result = run_import(tmp_path, CLASSIC, "--media", str(uploads))
    assert result.exit_code == 0, result.output
    assert "media: 2 fetched, 3 failed" in result.output
    _, body = read_post(tmp_path / "posts" / "2020-05-06-links.md")
    assert hrefs(body) == [*LINKED, "uploads/2020/05/two.jpg", "uploads/2020/05/song.mp3", *LEFT_AS_THEY_WERE]
    assert (tmp_path / "posts" / "uploads" / "2020" / "05" / "two.jpg").read_bytes() == CAMELS_JPEG.read_bytes()
