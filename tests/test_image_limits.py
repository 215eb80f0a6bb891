"""Images over max_image_bytes / max_image_pixels: warnings in check and /healthz, a resized copy as the feeds'
media:thumbnail (made once, cached), and partner checks that judge the sizes the build measured."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from support.factories import NOW
from support.factories import post_text
from support.mediafiles import CAMELS_JPEG
from support.mediafiles import copy
from support.mediafiles import png
from support.mediafiles import write_png
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

MEDIA = "{http://search.yahoo.com/mrss/}"
ATOM = "{http://www.w3.org/2005/Atom}"


def media_of(feed: bytes, title: str) -> tuple[dict[str, str], dict[str, str] | None]:
    """The media:content and media:thumbnail attributes of the Atom entry with this title."""
    root = etree.fromstring(feed)
    entry = next(e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == title)
    thumbnail = entry.find(f"{MEDIA}thumbnail")
    return dict(entry.find(f"{MEDIA}content").attrib), dict(thumbnail.attrib) if thumbnail is not None else None


@pytest.fixture
def photo_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path) -> Settings:
    """A post whose body shows camels.jpg (1024x683, 5,303 bytes), under limits it is over (800 px, 4 KiB)."""
    copy(CAMELS_JPEG, posts_dir / "images" / "camels.jpg")
    write_post("camels.md", title="Camels", body="Text.\n\n![Camels](images/camels.jpg)\n")
    return make_settings(max_image_pixels=800, max_image_bytes=4 * 1024)


def test_an_image_over_the_limits_is_a_warning_in_check_and_healthz(photo_site: Settings) -> None:
    """The post naming it is told, on the image's line, how far over which limit it is; /healthz lists it."""
    builder = Builder(photo_site)
    report = builder.reload(NOW)
    [problem] = report.problems  # type: ignore[union-attr]
    assert (Path(problem.path).name, problem.line, problem.fatal) == ("camels.md", 7, False)
    size = CAMELS_JPEG.stat().st_size / (1024 * 1024)
    assert problem.message == (
        f"image images/camels.jpg is {size:.1f} MiB (max_image_bytes: 0.0 MiB) and 1024x683 px "
        "(max_image_pixels: 800): feeds name a resized copy as its thumbnail"
    )
    health = create_app(photo_site, builder).test_client().get("/healthz").json
    assert health["status"] == "degraded"
    assert [(p["path"], p["line"]) for p in health["problems"]] == [("camels.md", 7)]


def test_the_thumbnail_of_an_image_over_the_limits_is_a_resized_copy(photo_site: Settings) -> None:
    """media:thumbnail names a copy that fits the limits (its width and height as the file has them); media:content
    still names the original."""
    builder = Builder(photo_site)
    builder.reload(NOW)
    client = create_app(photo_site, builder).test_client()
    content, thumbnail = media_of(client.get("/feeds/all.atom").data, "Camels")
    assert content["url"] == "https://example.org/feeds/media/images/camels.jpg" and content["width"] == "1024"
    assert thumbnail is not None and thumbnail["url"].startswith("https://example.org/feeds/media/_resized/")
    response = client.get(thumbnail["url"].removeprefix("https://example.org"))
    with response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        copy_ = Image.open(io.BytesIO(response.data))
        assert copy_.format == "JPEG" and max(copy_.size) == 800
        assert (thumbnail["width"], thumbnail["height"]) == tuple(str(side) for side in copy_.size)
        assert abs(copy_.size[0] / copy_.size[1] - 1024 / 683) < 0.01  # the same shape
    written = photo_site.output_dir / "media" / thumbnail["url"].split("/feeds/media/", 1)[1]
    assert written.is_file()  # in output_dir: a static server serves it too


def test_the_resized_copy_is_made_once(photo_site: Settings, posts_dir: Path, write_post: Callable[..., Path]) -> None:
    """A second build (another process) and another post naming the same image use the copy already made."""
    report = Builder(photo_site).reload(NOW)
    made = [path for path in report.written if "/_resized/" in path]  # type: ignore[union-attr]
    assert len(made) == 1
    copy_ = photo_site.output_dir / made[0]
    stamp = copy_.stat().st_mtime_ns
    copy(CAMELS_JPEG, posts_dir / "more" / "same-camels.jpg")
    write_post("again.md", title="Again", body="![Same camels](more/same-camels.jpg)\n")
    report = Builder(photo_site).reload(NOW + timedelta(minutes=1))
    assert not [path for path in report.written if "/_resized/" in path]  # type: ignore[union-attr]
    assert copy_.stat().st_mtime_ns == stamp
    feed = (photo_site.output_dir / "all.atom").read_bytes()
    assert media_of(feed, "Again")[1] == media_of(feed, "Camels")[1]  # one copy, named by the image's digest


def test_an_image_within_the_limits_is_its_own_thumbnail(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Under the limits (the defaults: 10 MiB, 8,000 px) nothing changes: no warning, the image is the thumbnail."""
    copy(CAMELS_JPEG, posts_dir / "camels.jpg")
    write_post("camels.md", title="Camels", body="![Camels](camels.jpg)\n")
    settings = make_settings()
    report = Builder(settings).reload(NOW)
    assert report.problems == ()  # type: ignore[union-attr]
    content, thumbnail = media_of((settings.output_dir / "all.atom").read_bytes(), "Camels")
    assert thumbnail == {"url": content["url"], "width": "1024", "height": "683"}


def test_a_very_wide_image_gets_a_thumbnail_within_the_default_limits(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A 9,000 px wide PNG (over the default 8,000): warned about, and its thumbnail is a PNG 1,200 px wide."""
    write_png(posts_dir / "panorama.png", 9000, 600)
    write_post("wide.md", title="Wide", image="panorama.png")
    settings = make_settings()
    report = Builder(settings).reload(NOW)
    assert [p.line for p in report.problems] == [4]  # type: ignore[union-attr]  # the image: field
    _content, thumbnail = media_of((settings.output_dir / "all.atom").read_bytes(), "Wide")
    assert thumbnail is not None and thumbnail["url"].endswith("-1200.png")
    assert (thumbnail["width"], thumbnail["height"]) == ("1200", "80")
    made = settings.output_dir / "media" / thumbnail["url"].split("/feeds/media/", 1)[1]
    with Image.open(made) as image:
        assert (image.format, image.size) == ("PNG", (1200, 80))


def test_an_image_that_cannot_be_resized_gets_no_thumbnail(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Over the limits and of a type no copy is made of (SVG), or of more pixels than Pillow opens (a PNG of
    20,000 x 9,000): no media:thumbnail at all, never the original."""
    (posts_dir / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="90" height="60"></svg>')
    write_post("map.md", title="Map", image="map.svg")
    huge = bytearray(png(1, 1))
    huge[16:24] = struct.pack(">II", 20_000, 9_000)  # its header says so (the pixels are never decoded)
    (posts_dir / "huge.png").write_bytes(huge)
    write_post("huge.md", title="Huge", date="2025-06-02T10:00:00Z", image="huge.png")
    settings = make_settings(max_image_bytes=16)
    report = Builder(settings).reload(NOW)
    messages = [p.message.rpartition(": ")[2] for p in report.problems]  # type: ignore[union-attr]
    assert messages == ["feeds give it no thumbnail"] * 2
    feed = (settings.output_dir / "all.atom").read_bytes()
    for title, name in [("Map", "/map.svg"), ("Huge", "/huge.png")]:
        content, thumbnail = media_of(feed, title)
        assert content["url"].endswith(name) and thumbnail is None


def test_check_partner_judges_the_measured_image_sizes(
    settings: Settings,
    write_post: Callable[..., Path],
    posts_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flipboard's "400 px or more on its smallest side" is judged by the file's pixels: a Markdown image of
    1024x683 passes (it has no <img width>), a 300x200 one is flagged."""
    copy(CAMELS_JPEG, posts_dir / "camels.jpg")
    write_png(posts_dir / "small.png", 300, 200)
    write_post("big.md", post_text(title="Big", body="![Camels](camels.jpg)\n"))
    write_post("small.md", post_text(title="Small", body="![Small](small.png)\n"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(f'posts_dir = "{settings.posts_dir}"\nstate_dir = "{settings.state_dir}"\n')
    result = CliRunner().invoke(cli, ["check", "--config", "s.toml", "--partner", "flipboard"])
    flagged = [line.split(":", 1)[0] for line in result.stdout.splitlines() if "smallest side" in line]
    assert [Path(path).name for path in flagged] == ["small.md"], result.stdout


def test_a_png_decoded_whole_is_bounded_and_made_smaller_before_it_is_converted(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Only a JPEG is decoded at a fraction of its size: a 21 KB PNG of 13,300 x 13,300 one-bit pixels was
    converted whole to RGBA (1.8 GB, 5 s at each reload). A PNG over 16 million pixels gets no thumbnail; one
    under it is reduced in its own mode first, and its copy keeps its colours and transparency."""
    Image.new("1", (13_300, 13_300)).save(posts_dir / "bomb.png", optimize=True)
    assert (posts_dir / "bomb.png").stat().st_size < 32 * 1024
    write_post("bomb.md", title="Bomb", image="bomb.png")
    wide = Image.new("RGBA", (12_000, 1_300), (10, 20, 30, 255))
    wide.paste((200, 10, 10, 128), (0, 0, 6_000, 650))
    wide.save(posts_dir / "wide.png")
    write_post("wide.md", title="Wide", date="2025-06-02T10:00:00Z", image="wide.png")
    settings = make_settings()
    report = Builder(settings).reload(NOW)
    messages = {Path(p.path).name: p.message.rpartition(": ")[2] for p in report.problems}  # type: ignore[union-attr]
    assert messages == {
        "bomb.md": "feeds give it no thumbnail",
        "wide.md": "feeds name a resized copy as its thumbnail",
    }
    feed = (settings.output_dir / "all.atom").read_bytes()
    assert media_of(feed, "Bomb")[1] is None
    thumbnail = media_of(feed, "Wide")[1]
    assert thumbnail is not None and (thumbnail["width"], thumbnail["height"]) == ("1200", "130")
    with Image.open(settings.output_dir / "media" / thumbnail["url"].split("/feeds/media/", 1)[1]) as made:
        assert made.size == (1200, 130)
        corners = [made.convert("RGBA").getpixel(at) for at in ((10, 10), (1190, 120))]
    for corner, colour in zip(corners, [(200, 10, 10, 128), (10, 20, 30, 255)], strict=True):
        assert max(abs(a - b) for a, b in zip(corner, colour, strict=True)) <= 2, corners  # premultiplied rounding


def test_a_sixteen_bit_grey_png_gets_the_thumbnail_the_feeds_name(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A 16-bit greyscale PNG (a scanner's, a microscope's) over the limits: Pillow does not reduce its mode, so no
    copy was made while the feeds named one (a 404 in every reader). It is converted whole instead."""
    Image.new("I;16", (9_000, 600), 40_000).save(posts_dir / "scan.png")
    write_post("scan.md", title="Scan", image="scan.png")
    settings = make_settings()
    Builder(settings).reload(NOW)
    thumbnail = media_of((settings.output_dir / "all.atom").read_bytes(), "Scan")[1]
    assert thumbnail is not None
    with Image.open(settings.output_dir / "media" / thumbnail["url"].split("/feeds/media/", 1)[1]) as made:
        assert made.size == (1200, 80)
