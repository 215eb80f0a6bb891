"""WordPress import: WXR to post files, safely and repeatably, and the round trip to feeds that keep guids."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from support.commands import run_import
from support.factories import NOW
from support.factories import wxr_export
from support.factories import wxr_item
from support.feedcheck import check_file
from support.paths import DATA
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.importers.content import convert
from syndicator.importers.context import Attachment
from syndicator.importers.context import Library
from syndicator.importers.wordpress import WordPressImportError
from syndicator.importers.wordpress import import_wordpress
from syndicator.importers.wordpress import read_export
from syndicator.importers.wxr import decode
from syndicator.incremental.postcache import PostCache
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

DATA = DATA / "wordpress"
EXPORT = DATA / "export-1.2.xml"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_import_summary_and_files(in_tmp: Path) -> None:
    """Posts become files named YYYY-MM-DD-<slug>.md, pages pages/<path>.md; attachments and menu items are counted
    and skipped."""
    result = run_import(EXPORT, in_tmp)
    assert result.exit_code == 0
    assert "imported 7 posts and 1 page" in result.output and "8 new" in result.output
    assert "3 drafts, 1 scheduled" in result.output
    assert "skipped: 1 attachment, 1 nav_menu_item\n" in result.output
    assert (
        "skipped malformed post ? (item 11): no numeric wp:post_id, and no ?p=<id> in its link or guid" in result.output
    )
    assert "skipped malformed post 110 (item 12): no usable wp:post_date" in result.output
    names = sorted(str(p.relative_to(in_tmp / "posts")) for p in (in_tmp / "posts").rglob("*.md"))
    assert names == [
        "2011-11-30-water-sharing.md",
        "2011-12-01-members-only.md",
        "2011-12-22-переговоры.md",
        "2011-12-24-half-written-thoughts.md",
        "2011-12-25-waiting.md",
        "2011-12-26-border-talks-copy.md",
        "2099-01-01-year-ahead.md",
        "pages/about.md",
    ]


def test_front_matter_keeps_what_readers_need(in_tmp: Path) -> None:
    """title, date (GMT), updated, categories, tags, author display name, slug and the guid as id."""
    run_import(EXPORT, in_tmp)
    posts, problems = PostCache(Settings(posts_dir=in_tmp / "posts")).refresh()
    assert list(problems) == []
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
    """`syndicator check` accepts the imported posts and pages without warnings."""
    run_import(EXPORT, in_tmp)
    result = CliRunner().invoke(cli, ["check"])
    assert result.stdout == ""
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"post_date_gmt": "2020-13-45 00:00:00"}, "date '2020-13-45T00:00:00Z' is not an ISO 8601 date"),
        ({"post_date_gmt": "0000-01-01 00:00:00"}, "date '0000-01-01T00:00:00Z' is not an ISO 8601 date"),
        ({"post_date_gmt": "9999-12-31 00:00:00"}, "date '9999-12-31T00:00:00+00:00' is out of range"),
        (
            {"post_date": "0001-01-01 05:00:00", "post_date_gmt": "0000-00-00 00:00:00"},
            "date '0001-01-01T05:00:00' is out of range once moved to UTC",
        ),
        ({"post_modified_gmt": "2021-02-30 00:00:00"}, "updated '2021-02-30T00:00:00Z' is not an ISO 8601 date"),
        ({"post_name": "x" * 201}, "slug is 201 bytes long, over 200"),
    ],
)
def test_an_item_check_would_refuse_is_reported_and_not_written(
    in_tmp: Path, fields: dict[str, str], reason: str
) -> None:
    """What `check` refuses about a post (an impossible date, one out of range, a slug too long) is refused at import:
    that item is reported and not written, with no redirect, and every other item is imported."""
    (in_tmp / "syndicator.toml").write_text('timezone = "Asia/Tokyo"\n')  # 05:00 on 1 January 1 is in year 0 in UTC
    export = in_tmp / "export.xml"
    export.write_text(wxr_export(wxr_item(1), wxr_item(2, "2020-01-02 10:00:00", **fields), wxr_item(3)))
    result = run_import(export, in_tmp)
    assert result.exit_code == 0, result.output
    assert "imported 2 posts" in result.output and "2 new" in result.output
    assert f"skipped malformed post 2 (item 2): {reason}" in result.output
    assert sorted(p.name for p in (in_tmp / "posts").iterdir()) == ["2020-01-01-post-1.md", "2020-01-01-post-3.md"]
    assert tomllib.loads((in_tmp / "syndicator.toml").read_text())["redirects"]["post"] == {
        "1": "post-1",
        "3": "post-3",
    }
    checked = CliRunner().invoke(cli, ["check"])
    assert checked.exit_code == 0, checked.output


def test_rerun_updates_in_place_and_keeps_local_edits(in_tmp: Path) -> None:
    """A second run creates nothing twice; a file edited since is kept unless --force."""
    run_import(EXPORT, in_tmp)
    before = sorted((in_tmp / "posts").iterdir())
    again = run_import(EXPORT, in_tmp)
    assert "0 new, 0 updated, 8 unchanged" in again.output
    assert sorted((in_tmp / "posts").iterdir()) == before
    edited = in_tmp / "posts" / "2011-11-30-water-sharing.md"
    edited.write_text(edited.read_text().replace("Rivers cross borders.", "Rivers cross borders, edited here."))
    kept = run_import(EXPORT, in_tmp)
    assert "kept 2011-11-30-water-sharing.md: edited since the last import" in kept.output
    assert "edited here" in edited.read_text()
    forced = run_import(EXPORT, in_tmp, "--force")
    assert "1 updated" in forced.output
    assert "edited here" not in edited.read_text()
    assert sorted((in_tmp / "posts").iterdir()) == before


def test_a_post_edited_since_in_another_encoding_is_kept(in_tmp: Path) -> None:
    """A post file re-saved in Latin-1 is a local edit like any other: kept (or overwritten with --force)."""
    run_import(EXPORT, in_tmp)
    edited = in_tmp / "posts" / "2011-11-30-water-sharing.md"
    edited.write_bytes(
        edited.read_text().replace("Rivers cross borders.", "Rivers cross borders, café.").encode("latin-1")
    )
    kept = run_import(EXPORT, in_tmp)
    assert kept.exit_code == 0, kept.output
    assert "kept 2011-11-30-water-sharing.md: edited since the last import" in kept.output
    assert "café".encode("latin-1") in edited.read_bytes()
    forced = run_import(EXPORT, in_tmp, "--force")
    assert "1 updated" in forced.output and "café" not in edited.read_text(encoding="utf-8")


def test_a_post_edited_after_the_import_record_was_lost_is_kept(in_tmp: Path) -> None:
    """Without the import's record (state_dir lost or damaged), a post file already in place is the publisher's."""
    run_import(EXPORT, in_tmp)
    edited = in_tmp / "posts" / "2011-11-30-water-sharing.md"
    edited.write_text(edited.read_text().replace("Rivers cross borders.", "Rivers cross borders, edited here."))
    for record in (in_tmp / ".syndicator").rglob("wordpress.json"):
        record.unlink()
    kept = run_import(EXPORT, in_tmp)
    assert kept.exit_code == 0, kept.output
    assert "kept 2011-11-30-water-sharing.md: edited since the last import" in kept.output
    assert "edited here" in edited.read_text()
    assert "0 new" in kept.output  # the files the import wrote and nobody touched are seen as unchanged
    forced = run_import(EXPORT, in_tmp, "--force")
    assert "edited here" not in edited.read_text(), forced.output


@pytest.mark.parametrize("record", ['{"101": "x", "102": {"path": 5}, "103": {}}', "[1]", '{"101": {"path"'])
def test_a_damaged_import_record_is_no_record(tmp_path: Path, record: str) -> None:
    """state_dir/wordpress.json that is not what an import writes counts as no record: every post is written anew."""
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "wordpress.json").write_text(record)
    report = import_wordpress(EXPORT, tmp_path / "posts", tmp_path / "state")
    assert len(report.new) == 8 and report.unwritten == []


def test_wxr_1_0_namespaces(tmp_path: Path) -> None:
    """A WXR 1.0 export imports too, with its inline <!--more--> kept."""
    report = import_wordpress(DATA / "export-1.0.xml", tmp_path / "posts", tmp_path / "state")
    assert report.new == ["2009-01-05-an-old-post.md"]
    text = (tmp_path / "posts" / "2009-01-05-an-old-post.md").read_text()
    assert "id: http://old.example.org/2009/01/an-old-post/" in text
    assert "<!--more-->" in text
    assert "- History" in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bomb.xml", "unsafe XML: it declares the entity 'lol', which an export never does"),
        ("external-entity.xml", r"unsafe XML: it declares the entity 'secret' \(from file:///etc/passwd\)"),
    ],
)
def test_xml_bombs_and_external_entities_are_refused(tmp_path: Path, name: str, message: str) -> None:
    """Entity expansion is refused at once with a clear error in words (not the parser's repr), nothing written."""
    with pytest.raises(WordPressImportError, match=message):
        read_export(DATA / name)
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
        (
            '[caption id="x"]<img src="a.png" /> Cap[/caption]',
            '<figure class="wp-caption alignnone"><img src="a.png" />'
            '<figcaption class="wp-caption-text">Cap</figcaption></figure>',
        ),
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
    assert list(report.problems) == []
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


ABOUT_PAGE = "http://blog.example.org/?page_id=2"


def test_pages_are_in_no_feed(tmp_path: Path) -> None:
    """An imported WordPress page is in no feed."""
    import_wordpress(EXPORT, tmp_path / "posts", tmp_path / "state")
    settings = Settings(posts_dir=tmp_path / "posts", output_dir=tmp_path / "feeds", state_dir=tmp_path / "state")
    Builder(settings).reload(NOW)
    assert ABOUT_PAGE not in (tmp_path / "feeds" / "all.atom").read_text(encoding="utf-8")


# -- Real exports: WordPress 6 (block editor) and WordPress.com ------------------------------------------------------

BLOCKS = DATA / "wp6-blocks.xml"
WPCOM = DATA / "wpcom.xml"


def front_and_body(path: Path) -> tuple[dict[str, object], str]:
    """A written post file's front matter (as YAML values) and body."""
    import yaml

    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(front), body


@pytest.fixture
def blocks(in_tmp: Path) -> Path:
    """The WordPress 6 export imported with the real CLI into in_tmp/posts."""
    result = run_import(BLOCKS, in_tmp)
    assert result.exit_code == 0, result.output
    return in_tmp / "posts"


def test_wordpress_com_export_is_accepted(in_tmp: Path) -> None:
    """An export in the https://wordpress.org/export/1.2/ namespace (WordPress.com) imports, without term lists."""
    result = run_import(WPCOM, in_tmp)
    assert result.exit_code == 0, result.output
    assert "imported 1 post " in result.output
    meta, _ = front_and_body(in_tmp / "posts" / "2023-03-01-horses-of-kyrgyzstan.md")
    assert meta["categories"] == ["Экономика"] and meta["tags"] == ["horses"]  # post_format is no category
    assert meta["author"] == "Steppe Rider"
    assert meta["id"] == "http://stepperider.wordpress.com/?p=300"


@pytest.mark.parametrize(
    ("declaration", "accepted"),
    [
        ('xmlns:wp="http://wordpress.org/export/1.0/"', True),
        ('xmlns:wp="http://wordpress.org/export/1.1/"', True),
        ('xmlns:wp="https://wordpress.org/export/1.2/"', True),
        ('xmlns:wp="https://wordpress.org/export/1.2"', True),  # the prefix's URI is taken from the file
        ('xmlns:wordpress="https://wordpress.org/export/1.1/"', True),  # another prefix, a WordPress URI
        ('xmlns:x="http://example.org/not-wordpress/"', False),  # no wp prefix and no WordPress namespace
    ],
)
def test_wp_namespace_is_taken_from_the_file(tmp_path: Path, declaration: str, accepted: bool) -> None:
    """WXR 1.0 to 1.2 under http or https, as WordPress's importer takes the wp: namespace from the file."""
    prefix = declaration.split("=")[0].removeprefix("xmlns:")
    uri = declaration.split('"')[1]
    export = tmp_path / "export.xml"
    export.write_text(
        f'<?xml version="1.0"?><rss version="2.0" {declaration} xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><{prefix}:wxr_version>1.1</{prefix}:wxr_version><item><title>T</title><guid>g</guid>"
        f"<content:encoded>Hi</content:encoded><{prefix}:post_id>3</{prefix}:post_id>"
        f"<{prefix}:post_date>2020-01-01 00:00:00</{prefix}:post_date><{prefix}:post_type>post</{prefix}:post_type>"
        f"<{prefix}:status>publish</{prefix}:status></item></channel></rss>"
    )
    if not accepted:
        with pytest.raises(WordPressImportError, match="not a WordPress export"):
            read_export(export)
        return
    items, _report = read_export(export)
    assert [i.meta["title"] for i in items] == ["T"], uri


def test_block_content_has_no_block_comments_and_no_wpautop(blocks: Path) -> None:
    """Block content: comments removed, no <p> or <br /> added around blocks, each block one raw-HTML block."""
    _, body = front_and_body(blocks / "2023-03-10-caravan-cities.md")
    assert "wp:" not in body and "<br />" not in body
    assert "<p><!--" not in body
    assert '\n\n<h2 class="wp-block-heading">Alignment</h2>\n\n' in body
    assert "<!--more-->" in body
    for block in body.strip().split("\n\n"):
        assert block.startswith("<"), block  # CommonMark passes a block that starts with a tag as it is


def test_block_content_renders_as_wordpress_shows_it(blocks: Path) -> None:
    """Figures, captions, galleries, tables, quotes, code (blank lines kept) and buttons stay sane HTML."""
    posts, problems = PostCache(Settings(posts_dir=blocks)).refresh()
    assert problems == []
    post = {p.slug: p for p in posts}["caravan-cities"]
    assert '<figure class="wp-block-gallery has-nested-images is-cropped">' in post.content_html  # its layout
    html = re.sub(r' class="[^"]*"', "", post.content_html)  # the structure, without the layout classes
    assert "<h2>Alignment</h2>" in html
    assert "<figcaption>Camels at rest</figcaption>" in html
    assert "<figcaption>Scenes from the road</figcaption>" in html and html.count("<img") == 3
    assert "<td>Samarkand</td>" in html
    assert "<blockquote>\n<p>Trade is older than borders.</p>\n<cite>A merchant</cite></blockquote>" in html
    assert '<pre><code>route = ["Bukhara",\n\n         "Samarkand"]</code></pre>' in html
    assert '<a href="https://tickets.example.com/">Book a trip</a>' in html
    assert "<p>" not in html.split("<figure>", 1)[1].split("</figure>", 1)[0]  # nothing wrapped inside blocks
    assert post.summary_html.endswith("</figure>") and "Scenes" not in post.summary_html  # cut at the more block


def test_audio_video_and_file_blocks_become_enclosures_and_stay(blocks: Path) -> None:
    """Audio, video and file blocks: listed as enclosures (with WordPress's recorded ones), and still in the content."""
    meta, body = front_and_body(blocks / "2023-04-02-episode-one.md")
    uploads = "http://blog.example.org/wp-content/uploads/2023/04"
    assert meta["enclosures"] == [
        {"url": f"{uploads}/episode-1.mp3", "type": "audio/mpeg", "length": 15, "title": "Episode one"},
        {"url": f"{uploads}/clip.mp4", "type": "video/mp4"},
        {"url": f"{uploads}/notes.pdf", "type": "application/pdf", "title": "Show notes"},
        {"url": "https://cdn.example.net/episode-1.m4a", "type": "audio/x-m4a", "length": 2048},
    ]
    assert f'<audio controls src="{uploads}/episode-1.mp3"></audio>' in body
    assert "<video controls" in body and "notes.pdf" in body
    assert meta["summary"] == "Three cities in one episode."  # the excerpt written by hand


def test_embeds_become_links_naming_the_provider(blocks: Path, in_tmp: Path) -> None:
    """wp:embed blocks (current and legacy core-embed/*), bare URLs and [youtube] become provider links."""
    _, caravan = front_and_body(blocks / "2023-03-10-caravan-cities.md")
    assert '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Watch on YouTube</a></p>' in caravan
    assert ">View on X</a></p><figcaption>What people said</figcaption>" in caravan
    _, episode = front_and_body(blocks / "2023-04-02-episode-one.md")
    assert '<p><a href="https://vimeo.com/76979871">Watch on Vimeo</a></p>' in episode
    run_import(WPCOM, in_tmp)
    _, horses = front_and_body(in_tmp / "posts" / "2023-03-01-horses-of-kyrgyzstan.md")
    assert '<p><a href="https://www.youtube.com/watch?v=abcdefghijk">Watch on YouTube</a></p>' in horses
    assert '<p><a href="https://www.youtube.com/watch?v=zyxwvutsrqp">Watch on YouTube</a></p>' in horses
    assert '<audio controls src="https://stepperider.files.wordpress.com/2023/03/hoofbeats.mp3"></audio>' in horses


def test_entities_in_titles_and_term_names_are_decoded_once(blocks: Path) -> None:
    """`Economy &amp; Trade` -> `Economy & Trade`; `&#8211;` -> an en dash; a decoded `&` is not decoded again."""
    meta, _ = front_and_body(blocks / "2023-03-10-caravan-cities.md")
    assert meta["title"] == "Caravan cities: Bukhara & Samarkand"
    assert meta["categories"] == ["Economy & Trade", "Travel"]
    assert read_export(WPCOM)[0][0].meta["title"] == "Horses of Kyrgyzstan \u2013 a ride"
    assert decode("AT&amp;amp;T") == "AT&amp;T"


def test_terms_listed_once_per_post(blocks: Path) -> None:
    """A category or tag the export lists twice on one post is listed once."""
    meta, _ = front_and_body(blocks / "2023-03-10-caravan-cities.md")
    assert meta["tags"] == ["Silk Road"]
    assert read_export(WPCOM)[0][0].meta["tags"] == ["horses"]


def test_shared_post_name_gets_unique_slugs_in_post_id_order(blocks: Path, in_tmp: Path) -> None:
    """Two posts sharing a post_name: the lower post id keeps it, the other gets -2; the summary says so."""
    assert front_and_body(blocks / "2023-05-01-notes.md")[0]["slug"] == "notes"
    assert front_and_body(blocks / "2023-06-01-notes-2.md")[0]["slug"] == "notes-2"
    again = run_import(BLOCKS, in_tmp)
    assert "1 renamed slug," in again.output and "renamed post 41: slug notes is taken, now notes-2" in again.output
    posts, problems = PostCache(Settings(posts_dir=blocks)).refresh()
    assert problems == [] and len({p.slug for p in posts}) == len(posts) == 6


def test_items_sharing_a_post_id_are_both_imported(blocks: Path, in_tmp: Path) -> None:
    """Two items with one wp:post_id become two posts, and a second run updates both in place."""
    winter, spring = (
        front_and_body(blocks / "2023-12-01-winter.md")[0],
        front_and_body(blocks / "2024-01-01-spring.md")[0],
    )
    assert (winter["id"], spring["id"]) == ("http://blog.example.org/?p=50", "http://blog.example.org/?p=50&copy=1")
    again = run_import(BLOCKS, in_tmp)
    assert "0 new, 0 updated, 6 unchanged" in again.output


def test_featured_image_becomes_image(blocks: Path, in_tmp: Path) -> None:
    """_thumbnail_id names an attachment: its URL (and alt text) become the post's image."""
    meta, _ = front_and_body(blocks / "2023-03-10-caravan-cities.md")
    assert meta["image"] == {
        "src": "http://blog.example.org/wp-content/uploads/2023/03/photo.jpg",
        "alt": "Camels at the caravanserai",
    }
    assert "image" not in front_and_body(blocks / "2023-04-02-episode-one.md")[0]
    run_import(WPCOM, in_tmp)
    assert front_and_body(in_tmp / "posts" / "2023-03-01-horses-of-kyrgyzstan.md")[0]["image"] == (
        "https://stepperider.files.wordpress.com/2023/03/horses.jpg"
    )


def test_summary_says_what_was_converted_and_lost(in_tmp: Path) -> None:
    """The summary counts posts, drafts, scheduled, renamed slugs, enclosures, embeds, images, media, redirects."""
    result = run_import(BLOCKS, in_tmp)
    first = result.output.splitlines()[0]
    assert "imported 6 posts" in first and "0 drafts, 0 scheduled" in first
    assert "1 renamed slug, 4 enclosures, 3 embeds, 1 gallery, 1 featured image," in first
    assert (
        "media: 0 fetched, 0 failed" in first and "17 redirects and 0 categories written to syndicator.toml" in first
    )  # 3 ids: 2 categories, 1 author; 3 attachments' ids and 3 slugs lead to the posts they were uploaded to
    assert "skipped: 3 attachment" in result.output
    assert "lost (nothing to show without WordPress): 1 core/latest-posts" in result.output


def test_redirects_are_written_into_the_config_keeping_the_rest(in_tmp: Path) -> None:
    """The import adds [redirects] entries to --config (created if missing), keeping comments and other keys."""
    config = in_tmp / "site.toml"
    config.write_text(
        '# my blog\nsite_title = "Steppe Notes"  # the name\n\n[redirects.category]\nold-name = "travel"\n'
    )
    result = run_import(BLOCKS, in_tmp, "--config", str(config))
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert text.startswith('# my blog\nsite_title = "Steppe Notes"  # the name\n')
    settings = load_settings(config, {})
    redirects = settings.redirects
    assert redirects.get("category", "old-name") == "travel"
    assert redirects.get("category", "economy") == "economy-trade"
    assert redirects.get("tag", "podcast-episode") == "podcast"
    assert redirects.get("author", "aigerim") == "aigerim-nurlanovna"
    assert redirects.get("post", "20") == "caravan-cities" and redirects.get("post", "41") == "notes-2"
    assert redirects.get("category", "travel") is None  # same slug: nothing to redirect
    again = run_import(BLOCKS, in_tmp, "--config", str(config))
    assert "0 redirects and 0 categories written" in again.output and config.read_text() == text
    created = in_tmp / "new" / "created.toml"
    run_import(WPCOM, in_tmp, "--config", str(created))
    assert load_settings(created, {}).redirects.get("category", "экономика") == "ekonomika"


def test_an_imported_post_does_not_take_the_slug_of_a_post_already_here(in_tmp: Path) -> None:
    """A post of one's own in posts/ (``markup.md``, or a ``slug:`` in another file) keeps its slug: the imported post
    of that slug gets -2, as WordPress names a second one, and both are published; its dated permalink finds it.
    Importing again leaves the renamed file where it is."""
    posts = in_tmp / "posts"
    posts.mkdir()
    (posts / "markup.md").write_text("---\ntitle: Mine\ndate: 2025-01-01\n---\nmine\n")
    (posts / "notes.md").write_text("---\ntitle: Notes\ndate: 2025-01-02\nslug: post-format-gallery\n---\nx\n")
    config = in_tmp / "site.toml"
    config.write_text('site_url = "https://blog.example.org"\n')
    result = run_import(DATA / "classic-site.xml", in_tmp, "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "2 renamed slugs" in result.output.splitlines()[0], result.output
    checked = CliRunner().invoke(cli, ["check", "--config", str(config)], catch_exceptions=False)
    assert "already used" not in checked.output, checked.output
    settings = load_settings(config, {})
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    by_slug = builder.snapshot.catalog.by_slug
    assert by_slug["markup"].title == "Mine" and by_slug["markup-2"].source.startswith("2020-05-01-")
    assert by_slug["post-format-gallery"].title == "Notes" and "post-format-gallery-2" in by_slug
    client = create_app(settings, builder).test_client()
    moved = client.get("/2020/05/01/markup/", headers={"Host": "blog.example.org"})
    assert moved.headers["Location"] == "https://blog.example.org/posts/markup-2/"
    files = {path: path.read_bytes() for path in posts.rglob("*.md")}
    again = run_import(DATA / "classic-site.xml", in_tmp, "--config", str(config))
    assert "0 new, 0 updated" in again.output.splitlines()[0], again.output
    assert {path: path.read_bytes() for path in posts.rglob("*.md")} == files  # no post moved back


def test_a_slug_given_as_a_number_is_the_slug_the_import_steers_clear_of(in_tmp: Path) -> None:
    """``slug: 2020`` is read by YAML as a number and published at /posts/2020/: the import sees that slug, as the
    parser does, not the file name's, so the imported post of that slug gets -2 and both are published."""
    posts = in_tmp / "posts"
    posts.mkdir()
    (posts / "year-in-review.md").write_text("---\ntitle: Mine\ndate: 2025-01-01\nslug: 2020\n---\nmine\n")
    export = in_tmp / "export.xml"
    export.write_text(wxr_export(wxr_item(1, post_name="2020"), wxr_item(2, post_name="year-in-review")))
    config = in_tmp / "site.toml"
    config.write_text('site_url = "https://blog.example.org"\n')
    result = run_import(export, in_tmp, "--config", str(config))
    assert result.exit_code == 0, result.output
    builder = Builder(load_settings(config, {}))
    builder.reload(NOW)
    assert builder.snapshot is not None
    titles = {slug: post.title for slug, post in builder.snapshot.catalog.by_slug.items()}
    assert titles == {"2020": "Mine", "2020-2": "Post 1", "year-in-review": "Post 2"}, titles


def test_a_url_that_cannot_be_split_is_a_link_kept_as_written(in_tmp: Path) -> None:
    """An export whose item, attachment and content name ``http://[::1/...`` (an IPv6 host never closed, which
    Python's urlsplit refuses): imported, the content as written, no traceback."""
    item = wxr_item(1, content='<a href="http://[::1/x">x</a> <img src="http://[::1/y.png">')
    item = item.replace("<title>", "<link>http://[::1/2020/01/01/post-1/</link><title>")
    upload = "<wp:attachment_url>http://[::1/wp-content/uploads/a.png</wp:attachment_url><link>http://[::1/a/</link>"
    attachment = wxr_item(2, post_type="attachment", post_parent="1", status="inherit").replace(
        "<title>", upload + "<title>"
    )
    export = in_tmp / "export.xml"
    export.write_text(wxr_export(item, attachment))
    result = run_import(export, in_tmp, "--config", str(in_tmp / "site.toml"))
    assert result.exit_code == 0, result.output
    (post,) = (in_tmp / "posts").rglob("*.md")
    assert '<a href="http://[::1/x">x</a>' in post.read_text()


def test_an_attachments_slug_leads_to_its_post_unless_a_post_here_has_it(in_tmp: Path) -> None:
    """WordPress's page of an upload (``<the post's permalink>/<its slug>/``) is found by its last segment: the
    import maps each attachment's slug to the post it was uploaded to, but never one a post here is published at,
    nor one of digits (a post id's place), nor one of an attachment of a draft."""
    attachments = [
        wxr_item(7, post_type="attachment", post_name="caravan%e2%80%99s-gate", post_parent="1", status="inherit"),
        wxr_item(8, post_type="attachment", post_name="post-2", post_parent="1", status="inherit"),  # post 2's
        wxr_item(9, post_type="attachment", post_name="2020", post_parent="1", status="inherit"),
        wxr_item(10, post_type="attachment", post_name="sketch", post_parent="3", status="inherit"),
    ]
    export = in_tmp / "export.xml"
    export.write_text(wxr_export(wxr_item(1), wxr_item(2), wxr_item(3, status="draft"), *attachments))
    config = in_tmp / "site.toml"
    result = run_import(export, in_tmp, "--config", str(config))
    assert result.exit_code == 0, result.output
    redirects = load_settings(config, {}).redirects
    assert redirects.get("post", "caravan\u2019s-gate") == "post-1" and redirects.get("post", "7") == "post-1"
    assert redirects.get("post", "post-2") is None and redirects.get("post", "8") == "post-1"
    assert redirects.get("post", "2020") is None and redirects.get("post", "sketch") is None


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("<pre>a\n\nb</pre>\n\nText", "<pre>a\n<!-- -->\nb</pre>\n\n<p>Text</p>"),
        ("Line\nhttps://www.youtube.com/watch?v=x1\nLine", None),
    ],
)
def test_wpautop_keeps_pre_whole(content: str, html: str | None) -> None:
    """A blank line inside <pre> does not split it; a bare URL line becomes its own paragraph."""
    if html is not None:
        assert convert(content).html == html
    else:
        assert convert(content).html == (
            '<p>Line</p>\n\n<p><a href="https://www.youtube.com/watch?v=x1">Watch on YouTube</a></p>\n\n<p>Line</p>'
        )


def test_end_to_end_import_build_feeds_and_old_urls(in_tmp: Path) -> None:
    """Import a WordPress 6 export, build: every feed parses (bozo 0, RFC 4287 / RSS rules) and old URLs 301."""
    config = in_tmp / "syndicator.toml"
    config.write_text('site_title = "Steppe Notes"\nsite_url = "https://steppe.example"\n')
    imported = run_import(BLOCKS, in_tmp, "--config", str(config))
    assert imported.exit_code == 0, imported.output
    built = CliRunner().invoke(cli, ["build", "--strict", "--config", str(config)], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    feeds = sorted(p for p in (in_tmp / "feeds").rglob("*") if p.is_file() and p.suffix in (".atom", ".rss", ".json"))
    assert len(feeds) > 10
    for path in feeds:
        body = path.read_bytes()
        check_file(str(path), body)
        if path.suffix != ".json":
            assert feedparser.parse(body).bozo == 0, path
    atom = feedparser.parse((in_tmp / "feeds" / "category" / "economy-trade.atom").read_bytes())
    assert [e.title for e in atom.entries] == ["Caravan cities: Bukhara & Samarkand"]
    assert "Watch on YouTube" in atom.entries[0].content[0].value
    settings = load_settings(config, {})
    builder = Builder(settings)
    assert builder.reload(NOW).problems == ()
    client = create_app(settings, builder).test_client()
    for old, new in [
        ("/category/economy/", "/category/economy-trade/"),
        ("/feeds/category/economy.atom", "/feeds/category/economy-trade.atom"),
        ("/tag/podcast-episode/", "/tag/podcast/"),
        ("/author/aigerim/", "/author/aigerim-nurlanovna/"),
        ("/2023/03/10/caravan-cities/", "/posts/caravan-cities/"),
        ("/2023/06/01/notes/", "/posts/notes-2/"),
        ("/caravan-cities/", "/posts/caravan-cities/"),
        ("/?p=20", "/posts/caravan-cities/"),
        ("/archives/41", "/posts/notes-2/"),
    ]:
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, "https://steppe.example" + new), old
        assert client.get(new).status_code == 200, new
    assert client.get("/category/travel/").status_code == 200  # WordPress's own slug, unchanged


@pytest.mark.parametrize(
    ("content", "html", "lost"),
    [
        (  # a reusable block is inlined from its wp_block item
            '<!-- wp:block {"ref":5} /-->',
            "<p>Shared words.</p>",
            (),
        ),
        ('<!-- wp:block {"ref":6} /-->', "", ("core/block",)),
        ('<!-- wp:latest-posts {"postsToShow":3} /-->', "", ("core/latest-posts",)),
        ("<!-- wp:nextpage -->\n<!--nextpage-->\n<!-- /wp:nextpage -->", "", ()),
        (
            '<!-- wp:shortcode -->\n[gallery ids="12,13"]\n<!-- /wp:shortcode -->',
            '<figure class="wp-block-gallery has-nested-images columns-3 is-cropped">\n'
            '<figure class="wp-block-image size-large">'
            '<img src="https://x.example/a.jpg" alt="" class="wp-image-12" /></figure>\n'
            '<figure class="wp-block-image size-large">'
            '<img src="https://x.example/b.jpg" alt="" class="wp-image-13" /></figure>\n</figure>',
            (),
        ),
        ('Listen [playlist ids="1,2"] here', "<p>Listen  here</p>", ("[playlist]",)),
        (
            '<!-- wp:embed {"url":"https://blog.other.example/2020/01/post/","type":"wp-embed",'
            '"providerNameSlug":"other-blog"} -->\n'
            '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">\nhttps://blog.other.example/2020/01/post/\n'
            "</div></figure>\n<!-- /wp:embed -->",
            '<p><a href="https://blog.other.example/2020/01/post/">View on Other Blog</a></p>',
            (),
        ),
    ],
)
def test_blocks_and_shortcodes_with_nothing_to_show_are_counted(content: str, html: str, lost: tuple[str, ...]) -> None:
    """Reusable blocks and galleries by id come over; dynamic blocks and [playlist] are reported lost."""
    converted = convert(
        content,
        Library(
            {12: Attachment(12, "https://x.example/a.jpg"), 13: Attachment(13, "https://x.example/b.jpg")},
            {5: "<!-- wp:paragraph -->\n<p>Shared words.</p>\n<!-- /wp:paragraph -->"},
        ),
    )
    assert (converted.html, converted.lost) == (html, lost)
