"""A podcast site for tests: a real syndicator.toml with a show, and episodes with real audio, beside each other."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from mediafiles import write_png
from support import podcastfiles
from syndicator.config import Settings
from syndicator.config import load_settings

SITE = "https://example.org"
MEDIA = f"{SITE}/feeds/media/"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
SPEC_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # podcast-namespace docs/tags/guid.md
SHOW = """
[podcasts.radio-pamir]
title = "Radio Pamir"
author = "Zoë Lee"
owner_email = "zoe@example.org"
image = "cover.png"
categories = ["Society & Culture > Places & Travel", "History"]
explicit = true
type = "serial"
language = "en-gb"
copyright = "© 2024 Zoë Lee"
locked = true
funding = [
  {url = "https://example.org/support", text = "Support Radio Pamir"},
  {url = "https://example.org/members", text = "Become a member"},
]
"""


def site_settings(root: Path, tables: str = SHOW, **extra: object) -> Settings:
    """Settings read from a real syndicator.toml in ``root`` (posts/, feeds/, state/ beside it)."""
    lines = [f'site_title = "Pamir Notes"\nsite_url = "{SITE}"\nsite_author = "Zoë Lee"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    (root / "syndicator.toml").write_text("\n".join(lines) + "\n" + tables, encoding="utf-8")
    (root / "posts").mkdir(exist_ok=True)
    return load_settings(root / "syndicator.toml", {})


def episode(posts: Path, folder: str, date: str, body: str = "An episode.\n", **fields: object) -> Path:
    """A page bundle posts/<folder>/index.md in the Radio Pamir category with these front matter fields."""
    lines = ["---", f"title: {folder.title()}", f"date: {date}", "categories: [Radio Pamir]"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    path = posts / folder / "index.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, "---", body]), encoding="utf-8")
    return path


def write_radio(root: Path) -> Settings:
    """The show and three episodes: LAME's 65-second MP3, FFmpeg's 3-second M4A, a remote MP3 of a given length."""
    settings = site_settings(root)
    posts = settings.posts_dir
    write_png(posts / "cover.png", 1400, 1400)
    podcastfiles.lame_mp3(posts / "khorog" / "khorog.mp3", 65)
    podcastfiles.vtt(posts / "khorog" / "khorog.vtt")
    podcastfiles.chapters(posts / "khorog" / "khorog.chapters.json")
    write_png(posts / "khorog" / "art.png", 1500, 1500)
    episode(
        settings.posts_dir,
        "khorog",
        "2024-05-04T09:30:00Z",
        enclosures="[khorog.mp3]",
        image="art.png",
        episode=1,
        season=1,
        episode_type="full",
        explicit="false",
        transcript="khorog.vtt",
        chapters="khorog.chapters.json",
    )
    podcastfiles.aac_m4a(posts / "murghab" / "murghab.m4a", 3)
    podcastfiles.srt(posts / "murghab" / "murghab.srt")
    episode(
        posts,
        "murghab",
        "2024-05-11T09:30:00Z",
        enclosures="[murghab.m4a]",
        episode=2,
        season=1,
        episode_type="bonus",
        transcript="murghab.srt",
    )
    remote = "[{url: 'https://cdn.example.net/ishkashim.mp3', type: audio/mpeg, length: 4242}]"
    episode(posts, "ishkashim", "2024-05-18T09:30:00Z", enclosures=remote, episode=3, duration="'01:02:03'")
    return settings
