"""WordPress import: WXR to post files, safely and repeatably, and the round trip to feeds that keep guids."""

from __future__ import annotations

import time
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from conftest import NOW
from syndicator.build import Builder
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.importers.content import convert
from syndicator.importers.wordpress import WordPressImportError
from syndicator.importers.wordpress import import_wordpress
from syndicator.importers.wordpress import read_export
from syndicator.posts import PostCache
from syndicator.web import create_app

DATA = Path(__file__).resolve().parent / "data" / "wordpress"
EXPORT = DATA / "export-1.2.xml"


def run_import(tmp_path: Path, export: Path = EXPORT, *args: str) -> object:
    return CliRunner().invoke(
        cli,
        ["import", "wordpress", str(export), "--posts-dir", str(tmp_path / "posts"), *args],
        catch_exceptions=False,
    )


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_import_summary_and_files(in_tmp: Path) -> None:
    """Posts become files named YYYY-MM-DD-<slug>.md; pages, attachments and menu items are counted and skipped."""
    result = run_import(in_tmp)
    assert result.exit_code == 0
    assert "imported 7 posts" in result.output and "7 new" in result.output
    assert "3 drafts, 1 scheduled" in result.output
    assert "skipped: 1 attachment, 1 nav_menu_item, 1 page" in result.output
    assert "skipped malformed post ? (item 11): no numeric wp:post_id" in result.output
    assert "skipped malformed post 110 (item 12): no usable wp:post_date" in result.output
    names = sorted(p.name for p in (in_tmp / "posts").iterdir())
    assert names == [
        "2011-11-30-water-sharing.md",
        "2011-12-01-members-only.md",
        "2011-12-22-переговоры.md",
        "2011-12-24-half-written-thoughts.md",
        "2011-12-25-waiting.md",
        "2011-12-26-border-talks-copy.md",
        "2099-01-01-year-ahead.md",
    ]


def test_front_matter_keeps_what_readers_need(in_tmp: Path) -> None:
    """title, date (GMT), updated, categories, tags, author display name, slug and the guid as id."""
    run_import(in_tmp)
    posts, problems = PostCache(Settings(posts_dir=in_tmp / "posts")).refresh()
    assert problems == []
    by_slug = {p.slug: p for p in posts}
    post = by_slug["переговоры"]
    assert post.id == "http://blog.example.org/?p=101"
    assert post.title == "Border talks resume in Dushanbe"
    assert post.date.isoformat() == "2011-12-22T09:30:00+00:00"
    assert post.updated.isoformat() == "2011-12-23T10:00:00+00:00"
    assert [t.name for t in post.categories] == ["Foreign affairs", "Tajik-Russian relations"]
    assert [t.name for t in post.tags] == ["borders", "customs"]
    assert post.author.name == "The Editor"
    assert "Great post" not in post.content_html  # comments are not imported
    assert "[caption" not in post.content_html and "The border region" in post.content_html
    assert "<br" in post.content_html and "<li>Customs</li>" in post.content_html
    assert post.summary_html.startswith("<p>Talks on the border resumed")
    assert "Both sides" not in post.summary_html
    assert by_slug["border-talks-copy"].id == "http://blog.example.org/?p=101#wp-109"
    assert by_slug["half-written-thoughts"].draft and by_slug["waiting"].draft
    assert by_slug["members-only"].draft  # password-protected: never published
    assert not by_slug["year-ahead"].draft and by_slug["year-ahead"].date.year == 2099


def test_imported_posts_check_clean(in_tmp: Path) -> None:
    """`syndicator check` accepts the imported posts without warnings."""
    run_import(in_tmp)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_rerun_updates_in_place_and_keeps_local_edits(in_tmp: Path) -> None:
    """A second run creates nothing twice; a file edited since is kept unless --force."""
    run_import(in_tmp)
    before = sorted((in_tmp / "posts").iterdir())
    again = run_import(in_tmp)
    assert "0 new, 0 updated, 7 unchanged" in again.output
    assert sorted((in_tmp / "posts").iterdir()) == before
    edited = in_tmp / "posts" / "2011-11-30-water-sharing.md"
    edited.write_text(edited.read_text().replace("Rivers cross borders.", "Rivers cross borders, edited here."))
    kept = run_import(in_tmp)
    assert "kept 2011-11-30-water-sharing.md: edited since the last import" in kept.output
    assert "edited here" in edited.read_text()
    forced = run_import(in_tmp, EXPORT, "--force")
    assert "1 updated" in forced.output
    assert "edited here" not in edited.read_text()
    assert sorted((in_tmp / "posts").iterdir()) == before


def test_wxr_1_0_namespaces(tmp_path: Path) -> None:
    """A WXR 1.0 export imports too, with its inline <!--more--> kept."""
    report = import_wordpress(DATA / "export-1.0.xml", tmp_path / "posts", tmp_path / "state")
    assert report.new == ["2009-01-05-an-old-post.md"]
    text = (tmp_path / "posts" / "2009-01-05-an-old-post.md").read_text()
    assert "id: http://old.example.org/2009/01/an-old-post/" in text
    assert "<!--more-->" in text
    assert "- History" in text


@pytest.mark.parametrize(("name", "message"), [("bomb.xml", "unsafe XML"), ("external-entity.xml", "unsafe XML")])
def test_xml_bombs_and_external_entities_are_refused(tmp_path: Path, name: str, message: str) -> None:
    """Entity expansion is refused at once with a clear error, and nothing is written."""
    started = time.monotonic()
    with pytest.raises(WordPressImportError, match=message):
        read_export(DATA / name)
    assert time.monotonic() - started < 5
    result = CliRunner().invoke(cli, ["import", "wordpress", str(DATA / name), "--posts-dir", str(tmp_path / "p")])
    assert result.exit_code == 1 and "refusing unsafe XML" in result.output
    assert not (tmp_path / "p").exists()


def test_not_an_export_is_a_clear_error(tmp_path: Path) -> None:
    """Plain RSS or broken XML is refused with a reason."""
    plain = tmp_path / "plain.xml"
    plain.write_text("<rss version='2.0'><channel><title>x</title></channel></rss>")
    with pytest.raises(WordPressImportError, match="not a WordPress export"):
        read_export(plain)
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel>")
    with pytest.raises(WordPressImportError, match="not well-formed"):
        read_export(broken)


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("One\nline two\n\nTwo", "<p>One<br />\nline two</p>\n\n<p>Two</p>"),
        ("<div>kept</div>\n\nText", "<div>kept</div>\n\n<p>Text</p>"),
        ("A\n\n<!--more-->\n\nB", "<p>A</p>\n\n<!--more-->\n\n<p>B</p>"),
        ('[caption id="x"]<img src="a.png" /> Cap[/caption]', '<p><img src="a.png" /> Cap</p>'),
        ('Before [gallery ids="1,2"] after', "<p>Before  after</p>"),
        ("[embed]https://v.example/1[/embed]", '<p><a href="https://v.example/1">https://v.example/1</a></p>'),
    ],
)
def test_classic_content(content: str, html: str) -> None:
    """Classic content: WordPress paragraphs and line breaks, shortcodes reduced to their content."""
    assert convert(content).html == html


def test_round_trip_keeps_guids_and_old_feed_urls(
    tmp_path: Path, make_settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import, build: entries carry the WordPress guids and categories; old feed URLs redirect to feeds with them."""
    import_wordpress(EXPORT, tmp_path / "posts", tmp_path / "state")
    settings = Settings(
        site_url="https://blog.example.org",
        posts_dir=tmp_path / "posts",
        output_dir=tmp_path / "feeds",
        state_dir=tmp_path / "state",
    )
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.problems == ()
    client = create_app(settings, builder).test_client()
    for old, new in [
        ("/category/foreign-affairs/feed/", "/feeds/category/foreign-affairs.rss"),
        ("/category/foreign-affairs/feed/atom/", "/feeds/category/foreign-affairs.atom"),
        ("/tag/borders/feed/", "/feeds/tag/borders.rss"),
        ("/author/the-editor/feed/", "/feeds/author/the-editor.rss"),
        ("/feed/", "/feeds/all.rss"),
    ]:
        response = client.get(old)
        assert response.status_code == 301 and response.headers["Location"].endswith(new)
        entries = feedparser.parse(client.get(new).data).entries
        assert "http://blog.example.org/?p=101" in [e.id for e in entries]
    atom = feedparser.parse(client.get("/feeds/all.atom").data)
    ids = {e.id: e for e in atom.entries}
    assert set(ids) == {
        "http://blog.example.org/?p=101",
        "http://blog.example.org/?p=102",
        "http://blog.example.org/?p=101#wp-109",
    }
    assert [t.label for t in ids["http://blog.example.org/?p=102"].tags] == [
        "Foreign affairs",
        "Water",
        "Energy",
        "rivers",
    ]
    body = client.get("/feeds/all.atom").data.decode()
    assert "Secret content" not in body and "Not ready" not in body and "Coming soon" not in body
    assert client.get("/tag/borders/").status_code == 200
    assert "Author Archives: Ann Example" in client.get("/author/ann-example/").get_data(as_text=True)
