"""Podcast apps subscribe to a served podcast and read every field back (SPEC "Podcasts"): gPodder's podcastparser,
feedparser's iTunes support, and the Podcast Index's own parser (podcast-partytime, run by node)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import podcastparser
import pytest

from conftest import Server
from support.podcastsite import write_radio

FEED = "/feeds/category/radio-pamir.rss"
NODE_DIR = Path(__file__).resolve().parent / "interop" / "node"
# The namespace's first URI, which its definition (docs/1.0.md) says clients must take as the same namespace.
OLD_PODCAST_URI = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"


@pytest.fixture
def subscribed(tmp_path: Path, start_server: Callable[..., Server]) -> tuple[str, bytes, Path]:
    """The Radio Pamir show served by a real `serve`: its base URL, the podcast feed as fetched, the posts folder."""
    settings = write_radio(tmp_path)
    server = start_server(tmp_path)
    answer = server.get(FEED)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    return server.url, answer.content, settings.posts_dir


def test_podcastparser_reads_the_show_and_every_episode(subscribed: tuple[str, bytes, Path]) -> None:
    """gPodder's parser: the show's title, author, owner, categories, artwork, explicit and type; each episode's
    guid, date, audio, duration, number, season, type, explicit and artwork."""
    url, body, posts = subscribed
    media = f"{url}/feeds/media/"
    show = podcastparser.parse(url + FEED, io.BytesIO(body))
    assert show["title"] == "Radio Pamir" and show["link"] == f"{url}/category/radio-pamir/"
    assert show["language"] == "en-gb" and show["itunes_author"] == "Zoë Lee"
    assert show["itunes_owner"] == {"name": "Zoë Lee", "email": "zoe@example.org"}
    assert show["itunes_categories"] == [["Society & Culture", "Places & Travel"], ["History"]]
    assert show["cover_url"] == f"{media}cover.png"
    assert show["explicit"] is True and show["type"] == "serial"
    episodes = {e["title"]: e for e in show["episodes"]}
    assert sorted(episodes) == ["Ishkashim", "Khorog", "Murghab"]
    khorog, murghab, ishkashim = episodes["Khorog"], episodes["Murghab"], episodes["Ishkashim"]
    assert [e["total_time"] for e in (khorog, murghab, ishkashim)] == [65, 3, 3723]
    assert [e["number"] for e in (khorog, murghab, ishkashim)] == [1, 2, 3]
    assert [e.get("season") for e in (khorog, murghab, ishkashim)] == [1, 1, None]
    assert [e.get("type") for e in (khorog, murghab, ishkashim)] == ["full", "bonus", None]
    assert khorog["explicit"] is False and khorog["episode_art_url"] == f"{media}khorog/art.png"
    size = (posts / "khorog" / "khorog.mp3").stat().st_size
    assert khorog["enclosures"] == [{"url": f"{media}khorog/khorog.mp3", "file_size": size, "mime_type": "audio/mpeg"}]
    assert murghab["enclosures"][0]["mime_type"] == "audio/mp4"
    assert ishkashim["enclosures"] == [
        {"url": "https://cdn.example.net/ishkashim.mp3", "file_size": 4242, "mime_type": "audio/mpeg"}
    ]
    assert khorog["guid"] == f"tag:{urlsplit(url).hostname},2024-05-04:/posts/khorog"
    assert khorog["published"] == 1714815000  # 2024-05-04T09:30:00Z
    assert khorog["link"] == f"{url}/posts/khorog/"


def test_podcastparser_reads_the_podcast_namespace(subscribed: tuple[str, bytes, Path]) -> None:
    """gPodder's parser reads transcript, chapters, funding and lock under the namespace's first URI only; the
    definition makes both URIs one namespace, so it is given the feed declaring the first one."""
    url, body, _posts = subscribed
    media = f"{url}/feeds/media/"
    old = body.replace(
        b'xmlns:podcast="https://podcastindex.org/namespace/1.0"', f'xmlns:podcast="{OLD_PODCAST_URI}"'.encode()
    )
    assert old != body
    show = podcastparser.parse(url + FEED, io.BytesIO(old))
    assert show["funding_url"] == "https://example.org/members"  # it keeps one link: the last
    assert show["import_prohibited"] is True
    khorog = next(e for e in show["episodes"] if e["title"] == "Khorog")
    assert khorog["transcript_url"] == f"{media}khorog/khorog.vtt"
    assert khorog["chapters_json_url"] == f"{media}khorog/khorog.chapters.json"


def test_feedparser_reads_the_itunes_tags(subscribed: tuple[str, bytes, Path]) -> None:
    """feedparser's iTunes support: artwork, type, categories, author; each entry's duration, numbers and type."""
    url, body, _posts = subscribed
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0
    assert parsed.feed.image.href == f"{url}/feeds/media/cover.png"
    assert parsed.feed.itunes_type == "serial" and parsed.feed.author == "Zoë Lee"
    assert [t.term for t in parsed.feed.tags] == ["Society & Culture", "Places & Travel", "History"]
    entries = {e.title: e for e in parsed.entries}
    assert [entries[t].itunes_duration for t in ("Khorog", "Murghab", "Ishkashim")] == ["65", "3", "3723"]
    assert [entries[t].itunes_episode for t in ("Khorog", "Murghab", "Ishkashim")] == ["1", "2", "3"]
    assert entries["Murghab"].itunes_episodetype == "bonus" and entries["Khorog"].itunes_season == "1"
    assert entries["Khorog"].image.href == f"{url}/feeds/media/khorog/art.png"
    assert entries["Khorog"].enclosures[0].href == f"{url}/feeds/media/khorog/khorog.mp3"


def partytime(path: Path) -> dict[str, Any]:
    """What podcast-partytime (npm, tests/interop/node) reads of a feed file."""
    missing = (
        "node is not installed"
        if shutil.which("node") is None
        else "npm package podcast-partytime is not installed (npm ci --prefix tests/interop/node)"
        if not (NODE_DIR / "node_modules" / "podcast-partytime" / "package.json").exists()
        else ""
    )
    if missing:
        if os.environ.get("INTEROP_REQUIRE_ALL") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    shown = subprocess.run(
        ["node", str(NODE_DIR / "podcast.mjs"), str(path)],  # noqa: S607
        capture_output=True,
        check=True,
        timeout=60,
        env={**os.environ, "PARTYTIME_LOG": "silent"},
    )
    return json.loads(shown.stdout)[str(path)]  # type: ignore[no-any-return]


def test_the_podcast_index_parser_reads_the_podcast_namespace(
    subscribed: tuple[str, bytes, Path], tmp_path: Path
) -> None:
    """podcast-partytime: guid, lock and its owner, funding; each episode's transcript, chapters, season and episode
    (and the iTunes tags beside them)."""
    url, body, _posts = subscribed
    media = f"{url}/feeds/media/"
    saved = tmp_path / "radio-pamir.rss"
    saved.write_bytes(body)
    show = partytime(saved)
    assert "error" not in show
    guid = body.split(b"<podcast:guid>", 1)[1].split(b"<", 1)[0].decode()
    assert show["guid"] == guid
    assert show["locked"] is True and show["podcastOwner"] == "zoe@example.org"
    assert show["podcastFunding"] == [
        {"message": "Support Radio Pamir", "url": "https://example.org/support"},
        {"message": "Become a member", "url": "https://example.org/members"},
    ]
    assert show["itunesCategory"] == ["Society & Culture > Places & Travel", "History"]
    assert show["itunesImage"] == f"{media}cover.png" and show["explicit"] is True
    assert show["owner"] == {"name": "Zoë Lee", "email": "zoe@example.org"}
    assert sorted(show["pc20support"]["1"]) == ["chapters", "funding", "locked", "transcript"]
    items = {item["title"]: item for item in show["items"]}
    khorog, murghab = items["Khorog"], items["Murghab"]
    assert [items[t]["duration"] for t in ("Khorog", "Murghab", "Ishkashim")] == [65, 3, 3723]
    assert khorog["podcastTranscripts"] == [
        {"url": f"{media}khorog/khorog.vtt", "type": "text/vtt", "language": "en-gb", "rel": "captions"}
    ]
    assert murghab["podcastTranscripts"][0]["type"] == "application/srt"  # its name for application/x-subrip
    assert khorog["podcastChapters"] == {
        "url": f"{media}khorog/khorog.chapters.json",
        "type": "application/json+chapters",
    }
    assert khorog["podcastSeason"] == {"number": 1, "name": "Season 1"} and khorog["podcastEpisode"] == {"number": 1}
    assert (khorog["itunesEpisode"], khorog["itunesSeason"], khorog["itunesEpisodeType"]) == (1, 1, "full")
    assert khorog["explicit"] is False and murghab["itunesEpisodeType"] == "bonus"
