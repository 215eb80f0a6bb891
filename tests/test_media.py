"""Media: assets beside posts, featured images, enclosures, audio and video, the site's icon and logo."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from support.factories import NOW
from support.feedcheck import ATOM
from support.feedcheck import check_atom
from support.feedcheck import check_json
from support.feedcheck import check_rss
from support.mediafiles import CAMELS_JPEG
from support.mediafiles import EPISODE_MP3
from support.mediafiles import PHONE_JPEG
from support.mediafiles import copy
from support.mediafiles import write_png
from support.paths import DEPLOY
from syndicator.cli import cli
from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.core.assets import MEDIA_TYPES
from syndicator.core.markup import render_markdown
from syndicator.core.namespaces.media import URI as MEDIA_NS
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.store import sources

MEDIA = f"{{{MEDIA_NS}}}"
SITE = "https://example.org"
MEDIA_URL = f"{SITE}/feeds/media/"


def feed(builder: Builder, path: str) -> bytes:
    assert builder.snapshot is not None
    return builder.snapshot.files[f"/feeds/{path}"].body


def atom_entry(builder: Builder, slug: str) -> etree._Element:
    root = check_atom(feed(builder, "all.atom"))
    for entry in root.findall(ATOM + "entry"):
        if entry.findtext(ATOM + "id", "").endswith(f"/posts/{slug}"):
            return entry
    raise AssertionError(f"no entry for {slug}")


def rss_item(builder: Builder, slug: str) -> etree._Element:
    root = check_rss(feed(builder, "all.rss"))
    return next(i for i in root.iter("item") if i.findtext("link", "").endswith(f"/posts/{slug}/"))


def json_item(builder: Builder, slug: str) -> dict[str, Any]:
    document = check_json(feed(builder, "all.json"))
    return next(i for i in document["items"] if i["url"].endswith(f"/posts/{slug}/"))


@pytest.fixture
def built(settings: Settings) -> Callable[[], Builder]:
    """A Builder over the temp posts folder, reloaded once."""

    def build() -> Builder:
        builder = Builder(settings)
        builder.reload(NOW)
        return builder

    return build


class TestAssets:
    def test_a_flat_post_beside_an_images_folder(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder], settings: Settings
    ) -> None:
        """``images/x.png`` from posts/2025-06-01-walk.md is posts/images/x.png, published under /feeds/media/."""
        write_png(posts_dir / "images" / "x.png", 800, 450)
        write_post("2025-06-01-walk.md", title="Walk", body="![A walk](images/x.png)\n")
        builder = built()
        html = json_item(builder, "walk")["content_html"]
        assert f'src="{MEDIA_URL}images/x.png"' in html and 'alt="A walk"' in html
        assert (settings.output_dir / "media" / "images" / "x.png").read_bytes() == (
            posts_dir / "images" / "x.png"
        ).read_bytes()

    def test_a_page_bundle_takes_its_folder_name_and_its_files(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """posts/2024-05-04-trip/index.md is the post "trip"; its files beside it are resolved from there."""
        copy(PHONE_JPEG, posts_dir / "2024-05-04-trip" / "phone.jpg")
        write_post("2024-05-04-trip/index.md", title="Trip", body="![On the road](phone.jpg)\n")
        builder = built()
        assert builder.snapshot is not None and "trip" in builder.snapshot.catalog.by_slug
        assert f"{MEDIA_URL}2024-05-04-trip/phone.jpg" in json_item(builder, "trip")["content_html"]

    def test_other_relative_urls_resolve_against_the_page(
        self, write_post: Callable[..., Path], built: Callable[[], Builder]
    ) -> None:
        """A link to a page (no extension, .html, .md) resolves against /posts/<slug>/, as a browser would."""
        write_post("a.md", title="A", body="[next](../b/) [old](old.html) [md](c.md) [top](/about/) [frag](#x)\n")
        html = json_item(built(), "a")["content_html"]
        for url in (f"{SITE}/posts/b/", f"{SITE}/posts/a/old.html", f"{SITE}/posts/a/c.md", f"{SITE}/about/"):
            assert f'href="{url}"' in html
        assert "/feeds/media/" not in html

    def test_links_to_files_and_names_with_spaces(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """A link to a local PDF is the asset's URL; a name with spaces or accents is percent-encoded."""
        (posts_dir / "docs").mkdir()
        (posts_dir / "docs" / "Notes été.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        write_post("a.md", title="A", body="[notes](<docs/Notes été.pdf>)\n")
        builder = built()
        assert f'href="{MEDIA_URL}docs/Notes%20%C3%A9t%C3%A9.pdf"' in json_item(builder, "a")["content_html"]
        assert builder.snapshot is not None and not builder.snapshot.report.problems

    def test_a_missing_local_file_is_a_warning_with_its_file_line_and_path(
        self, write_post: Callable[..., Path], settings: Settings, built: Callable[[], Builder]
    ) -> None:
        """The post is published; check, the build report and /healthz name the post file, the line and the path."""
        write_post("a.md", title="A", body="Intro.\n\n![gone](images/gone.png)\n")
        builder = built()
        assert builder.snapshot is not None and builder.snapshot.report.posts == 1
        (problem,) = builder.snapshot.report.problems
        assert (problem.path.endswith("a.md"), problem.line, problem.fatal) == (True, 7, False)
        assert "images/gone.png" in problem.message
        health = create_app(settings, builder).test_client().get("/healthz").get_json()
        assert health["status"] == "degraded"
        assert health["problems"] == [{"path": "a.md", "line": 7, "message": problem.message}]
        (settings.state_dir.parent / "c.toml").write_text(f'posts_dir = "{settings.posts_dir}"\n')
        result = CliRunner().invoke(cli, ["check", "--config", str(settings.state_dir.parent / "c.toml")])
        assert result.exit_code == 1 and "a.md:7: warning: refers to a missing file: images/gone.png" in result.output

    def test_each_missing_file_is_reported_on_the_line_that_names_it(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """Lines come from one pass over the body: a name inside a longer one (``x.png`` in ``box.png``) is not
        taken for it, and 3,000 images each get their own line."""
        (posts_dir / "box.png").write_bytes(b"not really")
        images = "".join(f"Figure {n}: ![f{n}](figures/f{n}.png)\n" for n in range(3000))
        write_post("a.md", title="A", body=f"![box](box.png)\n![x](x.png)\n{images}")
        builder = built()
        assert builder.snapshot is not None
        lines = {p.message.rsplit(" ", 1)[-1]: p.line for p in builder.snapshot.report.problems}
        assert lines["x.png"] == 6
        assert all(lines[f"figures/f{n}.png"] == 7 + n for n in range(3000))

    def test_only_used_assets_are_written_and_unused_ones_pruned(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """An asset no published post uses is not copied; one that stops being used is removed, nothing else is."""
        write_png(posts_dir / "images" / "used.png", 10, 10)
        write_png(posts_dir / "images" / "unused.png", 10, 10)
        post = write_post("a.md", title="A", body="![x](images/used.png)\n")
        write_post("draft.md", text="---\ntitle: D\ndate: 2025-01-01\ndraft: true\n---\n![x](images/unused.png)\n")
        write_post("later.md", title="L", date="2030-01-01", body="![x](images/unused.png)\n")
        builder = Builder(settings)
        builder.reload(NOW)
        media = settings.output_dir / "media" / "images"
        assert sorted(p.name for p in media.iterdir()) == ["used.png"]
        (media / "mine.txt").write_text("not written by a build")
        post.write_text(post.read_text().replace("![x](images/used.png)", "No picture."))
        report = builder.reload(NOW)
        assert not isinstance(report, Exception) and "media/images/used.png" in report.removed
        assert sorted(p.name for p in media.iterdir()) == ["mine.txt"]

    def test_a_copy_is_replaced_atomically_and_only_when_its_source_changed(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """An unchanged asset is not copied again; a changed one replaces its copy by rename, no temp file left."""
        source = write_png(posts_dir / "images" / "x.png", 10, 10)
        write_post("a.md", title="A", body="![x](images/x.png)\n")
        builder = Builder(settings)
        first = builder.reload(NOW)
        copied = settings.output_dir / "media" / "images" / "x.png"
        inode = copied.stat().st_ino
        again = builder.reload(NOW)
        assert not isinstance(first, Exception) and not isinstance(again, Exception)
        assert "media/images/x.png" in first.written and "media/images/x.png" not in again.written
        write_png(source, 20, 10)
        changed = builder.reload(NOW)
        assert not isinstance(changed, Exception) and "media/images/x.png" in changed.written
        assert copied.stat().st_ino != inode and copied.read_bytes() == source.read_bytes()
        assert [p.name for p in copied.parent.iterdir()] == ["x.png"]
        entry = atom_entry(builder, "a")
        assert entry.find(MEDIA + "content").get("width") == "20"

    def test_a_deleted_copy_is_written_again(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """Someone removing a published asset from output_dir does not break the site: the next load restores it."""
        write_png(posts_dir / "x.png", 10, 10)
        write_post("a.md", title="A", body="![x](x.png)\n")
        builder = Builder(settings)
        builder.reload(NOW)
        (settings.output_dir / "media" / "x.png").unlink()
        builder.reload(NOW)
        assert (settings.output_dir / "media" / "x.png").is_file()

    def test_a_copy_being_replaced_is_never_served_with_the_old_headers(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """A copy that is not what the snapshot says (a reload between writing it and publishing) answers 503."""
        write_png(posts_dir / "x.png", 10, 10)
        write_post("a.md", title="A", body="![x](x.png)\n")
        builder = Builder(settings)
        builder.reload(NOW)
        client = create_app(settings, builder).test_client()
        assert client.get("/feeds/media/x.png", buffered=True).status_code == 200
        write_png(settings.output_dir / "media" / "x.png", 20, 20)
        response = client.get("/feeds/media/x.png", buffered=True)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
        builder.reload(NOW)
        assert client.get("/feeds/media/x.png", buffered=True).data == (posts_dir / "x.png").read_bytes()

    def test_unchanged_assets_are_not_read_again(
        self,
        write_post: Callable[..., Path],
        posts_dir: Path,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """An image's header is read once per file state, in this process and the next (the post cache keeps it)."""
        write_png(posts_dir / "x.png", 640, 480)
        write_post("a.md", title="A", body="![x](x.png)\n")
        read: list[str] = []
        real = sources.image_size
        monkeypatch.setattr("syndicator.incremental.assets.image_size", lambda full: read.append(full) or real(full))
        builder = Builder(settings)
        builder.reload(NOW)
        builder.save_cache()
        write_post("b.md", title="B")
        builder.reload(NOW)
        assert len(read) == 1
        fresh = Builder(settings)
        fresh.reload(NOW)
        assert len(read) == 1
        assert atom_entry(fresh, "a").find(MEDIA + "content").get("width") == "640"

    def test_a_watched_asset_change_rebinds_only_its_posts(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """A reload told only the asset's path (as a watcher tells it) gives its post the new size, and no other."""
        image = write_png(posts_dir / "x.png", 100, 50)
        write_post("a.md", title="A", body="![x](x.png)\n")
        write_post("b.md", title="B")
        builder = Builder(settings)
        builder.reload(NOW)
        assert builder.snapshot is not None
        other = builder.snapshot.catalog.by_slug["b"]
        write_png(image, 300, 150)
        report = builder.reload(NOW, changed={str(image)})
        assert not isinstance(report, Exception) and report.parsed == 0
        assert atom_entry(builder, "a").find(MEDIA + "content").get("width") == "300"
        assert builder.snapshot.catalog.by_slug["b"] is other

    def test_a_file_appearing_clears_its_warning(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings
    ) -> None:
        """Adding the missing file later publishes the image and drops the warning, without the post being edited."""
        write_post("a.md", title="A", body="![x](x.png)\n")
        builder = Builder(settings)
        builder.reload(NOW)
        assert builder.snapshot is not None and builder.snapshot.report.problems
        write_png(posts_dir / "x.png", 500, 500)
        builder.reload(NOW)
        assert not builder.snapshot.report.problems
        assert atom_entry(builder, "a").find(MEDIA + "content").get("height") == "500"

    def test_build_notices_a_changed_asset_after_an_up_to_date_run(self, tmp_path: Path) -> None:
        """`syndicator build` stops early when nothing changed, but not when only an asset did."""
        posts = tmp_path / "posts"
        image = write_png(posts / "x.png", 10, 10)
        (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\n![x](x.png)\n")
        (tmp_path / "s.toml").write_text('posts_dir = "posts"\noutput_dir = "feeds"\nstate_dir = "state"\n')
        runner = CliRunner()
        config = ["--config", str(tmp_path / "s.toml")]
        assert runner.invoke(cli, ["build", *config]).exit_code == 0
        assert "0 written" in runner.invoke(cli, ["build", *config]).output
        write_png(image, 30, 10)
        result = runner.invoke(cli, ["build", *config])
        assert result.exit_code == 0 and "0 written" not in result.output
        assert (tmp_path / "feeds" / "media" / "x.png").read_bytes() == image.read_bytes()
        assert 'width="30"' in (tmp_path / "feeds" / "all.atom").read_text()


class TestFeaturedImage:
    def test_front_matter_image_in_every_format(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """Media RSS content (url, medium, type, size, width, height, caption, credit) and thumbnail; JSON image."""
        copy(CAMELS_JPEG, posts_dir / "trip" / "camels.jpg")
        write_post(
            "trip/index.md",
            title="Trip",
            image="{src: camels.jpg, alt: Camels at rest, caption: At the caravanserai, credit: Zoë}",
        )
        builder = built()
        url = f"{MEDIA_URL}trip/camels.jpg"
        for element in (atom_entry(builder, "trip"), rss_item(builder, "trip")):
            content = element.find(MEDIA + "content")
            assert content is not None
            assert dict(content.attrib) == {
                "url": url,
                "medium": "image",
                "type": "image/jpeg",
                "fileSize": str(CAMELS_JPEG.stat().st_size),
                "width": "1024",
                "height": "683",
            }
            assert content.findtext(MEDIA + "description") == "At the caravanserai"
            assert content.findtext(MEDIA + "credit") == "Zoë"
            thumbnail = element.find(MEDIA + "thumbnail")
            assert thumbnail is not None and dict(thumbnail.attrib) == {"url": url, "width": "1024", "height": "683"}
        assert json_item(builder, "trip")["image"] == url
        for path in ("all.atom", "all.rss"):
            parsed = feedparser.parse(feed(builder, path))
            assert parsed.bozo == 0 and parsed.entries[0].media_content[0]["url"] == url
            assert feed(builder, path).count(f'xmlns:media="{MEDIA_NS}"'.encode()) == 1

    def test_a_phone_photo_shows_its_size_as_rotated(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """A JPEG stored 64x48 with EXIF orientation 6 is announced 48x64, as every viewer shows it."""
        copy(PHONE_JPEG, posts_dir / "phone.jpg")
        write_post("a.md", title="A", image="phone.jpg")
        content = atom_entry(built(), "a").find(MEDIA + "content")
        assert content is not None and (content.get("width"), content.get("height")) == ("48", "64")

    def test_the_first_body_image_is_the_default_and_remote_ones_carry_no_size(
        self, write_post: Callable[..., Path], built: Callable[[], Builder]
    ) -> None:
        """Without ``image``, the body's first image is featured; a remote one has a URL and type, no width."""
        write_post(
            "a.md", title="A", body="![one](https://cdn.example.net/one.jpg) ![two](https://cdn.example.net/2.png)\n"
        )
        builder = built()
        content = atom_entry(builder, "a").find(MEDIA + "content")
        assert content is not None
        assert dict(content.attrib) == {
            "url": "https://cdn.example.net/one.jpg",
            "medium": "image",
            "type": "image/jpeg",
        }
        assert content.findtext(MEDIA + "description") == "one"
        assert builder.snapshot is not None
        image = builder.snapshot.catalog.by_slug["a"].image
        assert image is not None and image.in_body and image.alt == "one"

    def test_image_false_features_nothing(self, write_post: Callable[..., Path], built: Callable[[], Builder]) -> None:
        """``image: false`` keeps the body's first image from being featured."""
        write_post("a.md", title="A", image="false", body="![one](https://cdn.example.net/one.jpg)\n")
        builder = built()
        assert atom_entry(builder, "a").find(MEDIA + "content") is None and "image" not in json_item(builder, "a")
        assert builder.snapshot is not None and not builder.snapshot.report.problems

    def test_the_post_carries_og_image_data_and_the_pages_show_it(
        self, write_post: Callable[..., Path], posts_dir: Path, settings: Settings, built: Callable[[], Builder]
    ) -> None:
        """Post.image has what og:image needs; the post page shows it on top, archive pages beside the excerpt."""
        write_png(posts_dir / "wide.png", 1200, 630)
        write_post("a.md", title="A", categories="[News]", image="{src: wide.png, alt: Wide view}", body="Text.\n")
        builder = built()
        assert builder.snapshot is not None
        image = builder.snapshot.catalog.by_slug["a"].image
        assert image is not None
        assert (image.url, image.media_type, image.width, image.height, image.alt) == (
            f"{MEDIA_URL}wide.png",
            "image/png",
            1200,
            630,
            "Wide view",
        )
        client = create_app(settings, builder).test_client()
        for page in ("/posts/a/", "/category/news/", "/"):
            html = client.get(page).get_data(as_text=True)
            assert f'<img src="{MEDIA_URL}wide.png" alt="Wide view" width="1200" height="630">' in html, page

    def test_no_media_namespace_without_an_image(
        self, write_post: Callable[..., Path], built: Callable[[], Builder]
    ) -> None:
        """A feed whose posts have no image stays as it was: no Media RSS namespace at all."""
        write_post("a.md", title="A", enclosures="[https://cdn.example.net/a.mp3]")
        builder = built()
        for path in ("all.atom", "all.rss"):
            assert b"search.yahoo.com/mrss" not in feed(builder, path)


class TestEnclosures:
    def test_front_matter_enclosures_in_every_format(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """A local file gives type and length (audio: its seconds too); a URL mapping its own; RSS carries the first."""
        copy(EPISODE_MP3, posts_dir / "ep" / "episode.mp3")
        write_post(
            "ep/index.md",
            title="Episode",
            enclosures="[episode.mp3, {url: 'https://cdn.example.net/ep.m4a', type: audio/mp4, length: 1234, "
            "title: AAC version}]",
        )
        builder = built()
        local = f"{MEDIA_URL}ep/episode.mp3"
        size = str(EPISODE_MP3.stat().st_size)
        links = [
            dict(x.attrib) for x in atom_entry(builder, "ep").findall(ATOM + "link") if x.get("rel") == "enclosure"
        ]
        assert links == [
            {"href": local, "rel": "enclosure", "type": "audio/mpeg", "length": size},
            {
                "href": "https://cdn.example.net/ep.m4a",
                "rel": "enclosure",
                "type": "audio/mp4",
                "length": "1234",
                "title": "AAC version",
            },
        ]
        enclosures = rss_item(builder, "ep").findall("enclosure")
        assert [dict(e.attrib) for e in enclosures] == [{"url": local, "length": size, "type": "audio/mpeg"}]
        assert json_item(builder, "ep")["attachments"] == [
            # episode.mp3 is one second of sound (tests/data/media/README.md)
            {"url": local, "mime_type": "audio/mpeg", "size_in_bytes": int(size), "duration_in_seconds": 1},
            {
                "url": "https://cdn.example.net/ep.m4a",
                "mime_type": "audio/mp4",
                "size_in_bytes": 1234,
                "title": "AAC version",
            },
        ]
        parsed = feedparser.parse(feed(builder, "all.rss"))
        assert parsed.bozo == 0 and parsed.entries[0].enclosures[0]["href"] == local

    def test_body_audio_and_video_survive_with_safe_attributes_and_become_the_enclosures(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
    ) -> None:
        """Audio and video keep src, controls, poster and type only, and are the enclosures of a post naming none."""
        copy(EPISODE_MP3, posts_dir / "episode.mp3")
        write_png(posts_dir / "poster.png", 320, 180)
        body = (
            '<audio controls autoplay onplay="alert(1)" src="episode.mp3">Your reader plays no audio.</audio>\n\n'
            '<video controls poster="poster.png" style="x" width="9"><source src="https://cdn.example.net/v.webm" '
            'type="video/webm" onerror="alert(2)"><source src="javascript:alert(3)"></video>\n'
        )
        write_post("a.md", title="A", body=body)
        builder = built()
        html = json_item(builder, "a")["content_html"]
        assert f'<audio controls="" src="{MEDIA_URL}episode.mp3">Your reader plays no audio.</audio>' in html
        assert f'<video controls="" poster="{MEDIA_URL}poster.png">' in html
        assert '<source src="https://cdn.example.net/v.webm" type="video/webm">' in html
        for gone in ("autoplay", "onplay", "onerror", "style", "width", "javascript"):
            assert gone not in html
        assert [a["url"] for a in json_item(builder, "a")["attachments"]] == [
            f"{MEDIA_URL}episode.mp3",
            "https://cdn.example.net/v.webm",
        ]
        assert rss_item(builder, "a").find("enclosure").get("type") == "audio/mpeg"

    def test_named_enclosures_win_over_the_body(
        self, write_post: Callable[..., Path], built: Callable[[], Builder]
    ) -> None:
        """A post that names its enclosures carries those, not its body's audio."""
        write_post(
            "a.md",
            title="A",
            enclosures="https://cdn.example.net/a.mp3",
            body='<audio src="https://x.test/b.mp3"></audio>\n',
        )
        assert [a["url"] for a in json_item(built(), "a")["attachments"]] == ["https://cdn.example.net/a.mp3"]

    def test_bad_media_fields_are_warnings_and_the_post_is_published(
        self, write_post: Callable[..., Path], built: Callable[[], Builder]
    ) -> None:
        """A script URL or a wrong type in ``image`` or ``enclosures`` is reported on its line and left out."""
        write_post("a.md", title="A", image="'javascript:alert(1)'", enclosures="[{url: x.mp3, length: lots}, 3]")
        builder = built()
        assert builder.snapshot is not None and builder.snapshot.report.posts == 1
        messages = {(p.line, p.message.split(":")[0]) for p in builder.snapshot.report.problems}
        assert (4, "image") in messages and (5, "enclosures") in messages
        assert b"javascript" not in feed(builder, "all.atom") and "image" not in json_item(builder, "a")


class TestSiteImages:
    def test_icon_and_logo_in_every_format_and_the_pages(
        self, make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
    ) -> None:
        """Atom icon and logo, RSS image (the logo), JSON Feed icon and favicon, the favicon; a local one published."""
        write_png(posts_dir / "site" / "icon.png", 512, 512)
        write_post("a.md", title="A")
        settings = make_settings(site_icon="site/icon.png", site_logo="https://cdn.example.net/logo.png")
        builder = Builder(settings)
        builder.reload(NOW)
        icon = f"{MEDIA_URL}site/icon.png"
        root = check_atom(feed(builder, "all.atom"))
        assert (root.findtext(ATOM + "icon"), root.findtext(ATOM + "logo")) == (
            icon,
            "https://cdn.example.net/logo.png",
        )
        channel = check_rss(feed(builder, "all.rss")).find("channel")
        assert channel is not None and channel.findtext("image/url") == "https://cdn.example.net/logo.png"
        assert channel.findtext("image/link") == f"{SITE}/"
        document = check_json(feed(builder, "all.json"))
        assert (document["icon"], document["favicon"]) == (icon, icon)
        assert (settings.output_dir / "media" / "site" / "icon.png").is_file()
        html = create_app(settings, builder).test_client().get("/").get_data(as_text=True)
        assert f'<link rel="icon" href="{icon}">' in html

    def test_an_icon_alone_is_the_rss_image_and_a_missing_one_a_warning(
        self, make_settings: Callable[..., Settings], write_post: Callable[..., Path]
    ) -> None:
        """Without a logo, RSS shows the icon; a site_icon naming no file is reported."""
        write_post("a.md", title="A")
        builder = Builder(make_settings(site_icon="icon.png"))
        builder.reload(NOW)
        channel = check_rss(feed(builder, "all.rss")).find("channel")
        assert channel is not None and channel.findtext("image/url") == f"{MEDIA_URL}icon.png"
        assert builder.snapshot is not None
        assert [p.message for p in builder.snapshot.report.problems] == ["site_icon names a missing file: icon.png"]

    def test_an_icon_beside_the_config_file_is_published_and_served(
        self, tmp_path: Path, write_post: Callable[..., Path], posts_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """site_icon = "icon.png" names the file beside syndicator.toml: copied into output_dir and served, not 404.

        A `build` that finds nothing changed still sees an edit of it; a missing one is an error naming the key.
        """
        site = tmp_path / "site"
        write_png(site / "icon.png", 64, 64)
        write_post("a.md", title="A")
        config = site / "syndicator.toml"
        config.write_text(
            f'site_url = "{SITE}"\nsite_icon = "icon.png"\nposts_dir = "{posts_dir}"\nstate_dir = "state"\n'
        )
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(cli, ["build", "--config", str(config)])
        assert result.exit_code == 0, result.output
        icon = f"{MEDIA_URL}_site/site_icon/icon.png"
        root = check_atom((site / "feeds" / "all.atom").read_bytes())
        assert root.findtext(ATOM + "icon") == icon
        assert (site / "feeds" / "media" / "_site" / "site_icon" / "icon.png").read_bytes() == (
            site / "icon.png"
        ).read_bytes()
        from syndicator.config import load_settings

        settings = load_settings(config, {})
        builder = Builder(settings)
        builder.reload(NOW)
        answer = create_app(settings, builder).test_client().get("/feeds/media/_site/site_icon/icon.png")
        assert (answer.status_code, answer.mimetype) == (200, "image/png")
        assert answer.data == (site / "icon.png").read_bytes()
        write_png(site / "icon.png", 32, 32)  # a new icon: the next build copies it
        result = CliRunner().invoke(cli, ["build", "--config", str(config)])
        assert result.exit_code == 0 and "1 written" in result.output, result.output
        (site / "icon.png").unlink()
        result = CliRunner().invoke(cli, ["build", "--config", str(config)])
        assert result.exit_code == 1
        assert f"site_icon: {site / 'icon.png'} is not a file" in result.output

    @pytest.mark.parametrize("value", ["javascript:alert(1)", "data:image/png;base64,AA", "/etc/passwd", "x.html"])
    def test_an_image_setting_must_be_a_url_or_an_image_file(
        self, make_settings: Callable[..., Settings], value: str
    ) -> None:
        """site_icon and site_logo refuse other schemes and files that are no image (a path may leave posts_dir:
        it is resolved against the config file's folder)."""
        with pytest.raises(ConfigError, match="site_logo"):
            make_settings(site_logo=value)


class TestSanitizer:
    def test_srcset_urls_are_made_absolute_and_checked(self) -> None:
        """Every srcset candidate is resolved like a src; one with a script URL is dropped; alt stays."""
        html = render_markdown(
            '<img src="a.png" srcset="a.png 1x, javascript:alert(1) 2x, https://cdn.example.net/a@3.png 3x" '
            'alt="A &amp; B">',
            f"{SITE}/posts/p/",
        )
        assert f'srcset="{SITE}/posts/p/a.png 1x, https://cdn.example.net/a@3.png 3x"' in html
        assert 'alt="A &amp; B"' in html and "javascript" not in html

    def test_a_local_srcset_names_assets(
        self, write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder], settings: Settings
    ) -> None:
        """srcset files beside the post are assets too: published and given their URLs."""
        write_png(posts_dir / "a.png", 400, 200)
        write_png(posts_dir / "a@2x.png", 800, 400)
        write_post("a.md", title="A", body='<img src="a.png" srcset="a.png 1x, a@2x.png 2x" alt="">\n')
        html = json_item(built(), "a")["content_html"]
        assert f'srcset="{MEDIA_URL}a.png 1x, {MEDIA_URL}a@2x.png 2x"' in html
        assert (settings.output_dir / "media" / "a@2x.png").is_file()


class TestImageSizes:
    @pytest.mark.parametrize(("width", "height"), [(1, 1), (800, 450), (4000, 3000)])
    def test_png_sizes_from_the_header(self, tmp_path: Path, width: int, height: int) -> None:
        """The reader gives a PNG's size from its header."""
        assert sources.image_size(str(write_png(tmp_path / "x.png", width, height))) == (width, height)

    def test_not_an_image_is_unknown_and_a_url_like_name_is_never_fetched(self, tmp_path: Path) -> None:
        """Bytes that are no image give (0, 0); a file named like a URL is read as a file, never fetched."""
        (tmp_path / "notes.png").write_bytes(b"plain text")
        assert sources.image_size(str(tmp_path / "notes.png")) == (0, 0)
        assert sources.image_size("http://127.0.0.1:9/x.png") == (0, 0)

    def test_every_media_type_is_in_the_nginx_config(self) -> None:
        """deploy/nginx.conf's media location maps every extension to the type `serve` gives it."""
        config = (DEPLOY / "nginx.conf").read_text()
        block = config.split("/feeds/media/ {", 1)[1].split("types {", 1)[1].split("}", 1)[0]
        mapped = {}
        for line in block.strip().splitlines():
            kind, *extensions = line.strip().rstrip(";").split()
            mapped.update({f".{e}": kind for e in extensions})
        assert mapped == MEDIA_TYPES


def test_feeds_with_media_still_validate(
    write_post: Callable[..., Path], posts_dir: Path, built: Callable[[], Builder]
) -> None:
    """Every feed file with images and enclosures passes the RFC 4287, RSS 2.0 and JSON Feed checks and feedparser."""
    copy(CAMELS_JPEG, posts_dir / "images" / "camels.jpg")
    copy(EPISODE_MP3, posts_dir / "episode.mp3")
    write_post("a.md", title="A", categories="[One]", body="![c](images/camels.jpg)\n")
    write_post("b.md", title="B", categories="[One]", enclosures="[episode.mp3]", image="images/camels.jpg")
    builder = built()
    assert builder.snapshot is not None
    for path, served in builder.snapshot.files.items():
        body = served.body
        if path.endswith(".atom"):
            check_atom(body)
        elif path.endswith(".rss"):
            check_rss(body)
        elif path.endswith(".json"):
            json.loads(body)
            check_json(body)


def test_archive_pages_carry_the_media_too(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """RFC 5005 archive pages hold the entries with their images and enclosures, the namespace declared once."""
    write_png(posts_dir / "x.png", 600, 400)
    for n in range(3):
        write_post(f"p{n}.md", title=f"P{n}", date=f"2025-06-0{n + 1}", body="![x](x.png)\n", enclosures="[x.png]")
    settings = make_settings(feed_size=1, archive_page_size=1)
    Builder(settings).reload(NOW)
    pages = sorted((settings.output_dir / "archive").glob("*.atom"))
    assert len(pages) == 3
    for page in pages:
        body = page.read_bytes()
        root = check_atom(body)
        assert body.count(f'xmlns:media="{MEDIA_NS}"'.encode()) == 1
        (entry,) = root.findall(ATOM + "entry")
        assert entry.find(MEDIA + "content").get("width") == "600"
        assert [x.get("rel") for x in entry.findall(ATOM + "link")] == ["alternate", "enclosure"]
