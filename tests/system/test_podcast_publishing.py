"""Publishing a podcast (SPEC "Podcasts", "Media"): its files served with their media types by `serve` and nginx,
`syndicator check --partner apple-podcasts` / `spotify`, and the README's worked example, built as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from support import podcastfiles
from support.factories import NOW
from support.feedcheck import check_rss
from support.mediafiles import write_png
from support.nginx import running_nginx
from support.paths import ROOT
from support.podcastsite import ITUNES
from support.podcastsite import PODCAST
from support.podcastsite import episode
from support.podcastsite import site_settings
from support.podcastsite import write_radio
from support.server import Server
from syndicator.config import load_settings
from syndicator.service.build import Builder

README = ROOT / "README.md"
APPLE_RULES = "https://podcasters.apple.com/support/"


def test_episode_files_are_served_with_their_media_types_by_serve_and_nginx(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """Transcripts (text/vtt, application/x-subrip), chapters (application/json+chapters), audio and artwork: the
    same media type and bytes from `serve` and from deploy/nginx.conf over the written feeds/."""
    settings = write_radio(tmp_path)
    posts = settings.posts_dir
    expected = {
        "khorog/khorog.vtt": "text/vtt",
        "murghab/murghab.srt": "application/x-subrip",
        "khorog/khorog.chapters.json": "application/json+chapters",
        "khorog/khorog.mp3": "audio/mpeg",
        "murghab/murghab.m4a": "audio/mp4",
        "cover.png": "image/png",
    }
    server = start_server(tmp_path)
    for path, media_type in expected.items():
        answer = server.get(f"/feeds/media/{path}")
        assert answer.status_code == 200 and answer.content == (posts / path).read_bytes(), path
        assert answer.headers["Content-Type"].split(";")[0] == media_type, path
    (tmp_path / "nginx-work").mkdir()
    with running_nginx(tmp_path / "nginx-work", tmp_path, f"127.0.0.1:{server.port}") as nginx:
        for path in expected:
            answer = requests.get(f"{nginx}/feeds/media/{path}", timeout=5)
            assert answer.status_code == 200 and answer.content == (posts / path).read_bytes(), path
            assert answer.headers["Content-Type"] == server.get(f"/feeds/media/{path}").headers["Content-Type"], path


@pytest.mark.parametrize("platform", ["apple-podcasts", "spotify"])
def test_a_show_that_meets_the_platforms_requirements_passes_check(
    tmp_path: Path, platform: str, run_cli: Callable[..., Any]
) -> None:
    """A complete show (artwork, categories, language, owner, numbered episodes with audio) has no shortfall."""
    write_radio(tmp_path)
    result = run_cli("check", "--partner", platform)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_check_lists_each_shortfall_with_the_page_that_states_it(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Apple: no artwork, no category Apple lists, an un-numbered episode of a serial show, Ogg audio; Spotify: no
    owner e-mail. Each a line naming the show or the post, the rule and its source, once (the Ogg episode is of two
    shows); exit 1."""
    tables = '[podcasts.radio-pamir]\ntype = "serial"\ncategories = ["Knitting"]\n\n[podcasts.all]\n'
    settings = site_settings(tmp_path, tables)
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 1)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]", episode=1)
    (settings.posts_dir / "b").mkdir()
    (settings.posts_dir / "b" / "b.ogg").write_bytes(b"OggS")  # named so: which file it is does not matter here
    episode(settings.posts_dir, "b", "2024-05-05T09:00:00Z", enclosures="[b.ogg]")
    apple = run_cli("check", "--partner", "apple-podcasts")
    assert apple.returncode == 1
    lines = apple.stdout.splitlines()
    config = (tmp_path / "syndicator.toml").read_text().splitlines()
    at = next(n for n, text in enumerate(config, 1) if text.startswith("categories"))
    warning = f"syndicator.toml:{at}: warning: podcasts.radio-pamir.categories: 'Knitting' is not an Apple Podcasts"
    assert any(line.startswith(warning) for line in lines)
    show = "podcasts.radio-pamir: apple-podcasts required: "
    assert f"{show}show artwork (itunes:image) (https://help.apple.com/itc/podcasts_connect/#/itcb54353390)" in lines
    assert (
        f"{show}a category from Apple's list (itunes:category) ({APPLE_RULES}1691-apple-podcasts-categories)" in lines
    )
    assert any(line.startswith(f"{show}an episode number for every episode of a serial show") for line in lines)
    ogg = [line for line in lines if line.startswith(f"{Path('posts') / 'b' / 'index.md'}: ")]  # its shortfalls
    assert any(line.startswith("posts/b/index.md:5: warning: cannot tell how long b/b.ogg is") for line in lines)
    assert ogg == [
        "posts/b/index.md: apple-podcasts required: episode audio in MP3 or M4A "
        "(https://help.apple.com/itc/podcasts_connect/#/itcb54353390)"
    ]
    spotify = run_cli("check", "--partner", "spotify").stdout.splitlines()
    assert any(
        line.startswith("podcasts.radio-pamir: spotify required: an owner e-mail") and "support.spotify.com" in line
        for line in spotify
    )


def test_artwork_missing_or_no_image_and_a_show_of_no_category_are_told(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """Artwork naming a missing file is a warning on the config's line, and Apple's check misses the show's artwork;
    artwork that cannot be read as an image (text named .png) is a warning on its line; a show table whose slug is no
    category (a typo) is a warning on its line: it would make no podcast."""
    tables = '[podcasts.radio-pamir]\nimage = "missing.png"\n\n[podcasts.all]\nimage = "text.png"\n\n'
    tables += "[podcasts.radio-pamirr]\n"
    settings = site_settings(tmp_path, tables)
    (settings.posts_dir / "text.png").write_text("hello\n")
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 1)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]")
    config = (tmp_path / "syndicator.toml").read_text().splitlines()
    image = [n for n, text in enumerate(config, 1) if text.startswith("image")]
    typo = next(n for n, text in enumerate(config, 1) if text == "[podcasts.radio-pamirr]")
    lines = run_cli("check").stdout.splitlines()
    assert any(line.startswith(f"syndicator.toml:{image[0]}: warning: ") and "missing.png" in line for line in lines)
    assert any(line.startswith(f"syndicator.toml:{image[1]}: warning: ") and "text.png" in line for line in lines)
    assert any(line.startswith(f"syndicator.toml:{typo}: warning: podcasts.radio-pamirr") for line in lines), lines
    apple = run_cli("check", "--partner", "apple-podcasts").stdout.splitlines()
    assert "podcasts.radio-pamir: apple-podcasts required: show artwork (itunes:image) " in "\n".join(apple) + " "


def test_check_for_a_podcast_platform_without_a_podcast(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """A site with no [podcasts.*] table has one shortfall: it has no podcast."""
    site_settings(tmp_path, "")
    episode(tmp_path / "posts", "a", "2024-05-04T09:00:00Z")
    result = run_cli("check", "--partner", "apple-podcasts")
    assert result.returncode == 1
    assert "feed: apple-podcasts required: a podcast: a [podcasts.<category slug>]" in result.stdout


def readme_example(root: Path) -> dict[str, str]:
    """The README's worked example, written into ``root``: each block marked ``<!-- podcast-example: PATH -->``."""
    text = README.read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- podcast-example: (\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL))
    assert set(blocks) == {"syndicator.toml", "posts/2024-05-04-khorog/index.md"}
    for path, content in blocks.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content, encoding="utf-8")
    return blocks


def test_the_readmes_worked_example_publishes_the_podcast_it_describes(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """The README's config and post, with the files it lists beside them, give a podcast feed with every element the
    README names, the files published, and nothing short for Apple Podcasts or Spotify."""
    readme_example(tmp_path)
    posts = tmp_path / "posts"
    write_png(posts / "radio-pamir.png", 3000, 3000)
    bundle = posts / "2024-05-04-khorog"
    podcastfiles.lame_mp3(bundle / "khorog.mp3", 95)
    podcastfiles.vtt(bundle / "khorog.vtt")
    podcastfiles.chapters(bundle / "khorog.chapters.json")
    settings = load_settings(tmp_path / "syndicator.toml", {})
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None and builder.snapshot.report.problems == ()
    feed = (settings.output_dir / "category" / "radio-pamir.rss").read_bytes()
    channel = check_rss(feed).find("channel")
    assert channel is not None
    named = re.findall(r"`((?:itunes|podcast):\w+)`", README.read_text().split("## Publishing a podcast")[1])
    for name in dict.fromkeys(named):
        prefix, local = name.split(":")
        uri = ITUNES if prefix == "itunes" else PODCAST
        assert channel.find(uri + local) is not None or channel.find(f"item/{uri}{local}") is not None, name
    item = channel.find("item")
    assert item is not None and item.findtext(ITUNES + "duration") == "95"
    for name in ("radio-pamir.png", "2024-05-04-khorog/khorog.mp3", "2024-05-04-khorog/khorog.vtt"):
        assert (settings.output_dir / "media" / name).read_bytes() == (posts / name).read_bytes()
    for platform in ("apple-podcasts", "spotify"):
        result = run_cli("check", "--partner", platform)
        assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    assert etree.fromstring(feed).nsmap["podcast"] == "https://podcastindex.org/namespace/1.0"
