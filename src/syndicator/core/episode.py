"""A post as a podcast episode: its front matter's episode fields, and its audio (the first audio enclosure).

``read_episode`` reads ``episode``, ``season``, ``episode_type``, ``explicit``,
``duration``, ``transcript`` and ``chapters`` into an Episode, adds the files
they name to the post's media (so they are published beside it, and a missing
one is reported), and notes what is wrong: a value that is not what its field
takes, and a post of a podcast that names no audio. No I/O.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from syndicator.config import Settings
from syndicator.core.assets import media_type
from syndicator.core.frontmatter import shown
from syndicator.core.media import MediaSource
from syndicator.core.media import media_ref
from syndicator.model import EPISODE_TYPES
from syndicator.model import Enclosure
from syndicator.model import Episode
from syndicator.model import Media
from syndicator.model import MediaRef
from syndicator.model import Post
from syndicator.model import Term
from syndicator.podcastconfig import SITE_SHOW

EPISODE_FIELDS = ("episode", "season", "episode_type", "explicit", "duration", "transcript", "chapters")
# What podcast:transcript names (Podcasting 2.0, transcript.md): WebVTT and SubRip captions, by their extension.
TRANSCRIPT_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip"}
CHAPTERS_TYPE = "application/json+chapters"  # podcast:chapters's type (Podcasting 2.0, chapters.md)
_CLOCK = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)")  # [[H:]M:]S, S possibly with a fraction
Notes = list[tuple[str, str]]  # (field, message)


def parse_duration(value: Any) -> int | None:
    """Seconds from a number of seconds or ``[[H:]MM:]SS``, rounded; None when it is not a time.

    (YAML reads an unquoted ``1:02:03`` as the number 3723 already.)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    clock = _CLOCK.fullmatch(value.strip())
    if clock is None:
        return None
    hours, minutes, seconds = clock.groups()
    if (minutes is not None and float(seconds) >= 60) or (hours is not None and int(minutes) >= 60):
        return None
    return round(int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds))


def _count(meta: dict[str, Any], field: str, notes: Notes) -> int:
    """A positive whole number (an episode's or season's), 0 when absent or wrong (noted)."""
    value = meta.get(field)
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    notes.append((field, f"{field}: {shown(value)} is not a positive whole number; left out"))
    return 0


def _episode_type(meta: dict[str, Any], notes: Notes) -> str:
    value = meta.get("episode_type")
    if value is None:
        return ""
    if isinstance(value, str) and value.strip().lower() in EPISODE_TYPES:
        return value.strip().lower()
    notes.append(("episode_type", f"episode_type: {shown(value)} is not one of {', '.join(EPISODE_TYPES)}; left out"))
    return ""


def _explicit(meta: dict[str, Any], notes: Notes) -> bool | None:
    value = meta.get("explicit")
    if value is None or isinstance(value, bool):
        return value
    notes.append(("explicit", f"explicit: {shown(value)} is not true or false; the show's is used"))
    return None


def _duration(meta: dict[str, Any], notes: Notes) -> int:
    value = meta.get("duration")
    if value is None:
        return 0
    seconds = parse_duration(value)
    if seconds is None:
        message = f"duration: {shown(value)} is not a time (seconds, MM:SS or HH:MM:SS); the audio file's is used"
        notes.append(("duration", message))
        return 0
    return seconds


def _file(meta: dict[str, Any], field: str, source: MediaSource, notes: Notes) -> MediaRef | None:
    """The transcript or chapters file a field names (a path beside the post or an http(s) URL), with its type."""
    value = meta.get(field)
    if value is None or value in ("", False):
        return None
    ref = media_ref(value, field, source, notes)
    if ref is None:
        return None
    name = posixpath.basename((ref.path or ref.url).split("?", 1)[0].split("#", 1)[0]).lower()
    if field == "chapters":
        return replace(ref, media_type=CHAPTERS_TYPE)
    kind = TRANSCRIPT_TYPES.get(posixpath.splitext(name)[1])
    if kind is None:
        notes.append((field, f"transcript: {shown(value)} is not a .vtt or .srt file; left out"))
        return None
    return replace(ref, media_type=kind)


def read_episode(meta: dict[str, Any], media: Media, source: MediaSource, notes: Notes) -> tuple[Episode | None, Media]:
    """A post's Episode (None when it has no episode field), and its media with the files the fields name."""
    if not any(meta.get(field) is not None for field in EPISODE_FIELDS):
        return None, media
    transcript, chapters = _file(meta, "transcript", source, notes), _file(meta, "chapters", source, notes)
    episode = Episode(
        number=_count(meta, "episode", notes),
        season=_count(meta, "season", notes),
        episode_type=_episode_type(meta, notes),
        explicit=_explicit(meta, notes),
        duration=_duration(meta, notes),
        transcript=transcript,
        chapters=chapters,
    )
    named = [(ref.path, ref.line) for ref in (transcript, chapters) if ref is not None and ref.path]
    if named:
        media = Media(media.image, media.enclosures, tuple(dict.fromkeys([*media.files, *named])))
    return episode, media


def shows_of(categories: Sequence[Term], settings: Settings) -> list[str]:
    """The podcasts a post is an episode of: ``podcasts.<slug>`` of its categories', and ``podcasts.all``."""
    podcasts = settings.podcasts
    slugs = [t.slug for t in categories if t.slug != SITE_SHOW and podcasts.get(t.slug) is not None]
    return [f"podcasts.{slug}" for slug in [*slugs, *([SITE_SHOW] if podcasts.get(SITE_SHOW) else [])]]


def no_audio_note(meta: dict[str, Any], media: Media, shows: Sequence[str]) -> tuple[str, str] | None:
    """A note (field, message) for an episode of a podcast that names no audio file: no podcast feed can carry it."""
    if not shows or any(_is_audio(ref.media_type or media_type(ref.path or ref.url)) for ref in media.enclosures):
        return None
    field = "enclosures" if "enclosures" in meta else "categories"
    message = f"an episode of {', '.join(shows)} without audio (no audio enclosure): left out of the podcast feed"
    return field, message


def _is_audio(kind: str) -> bool:
    return kind.startswith("audio/")


def episode_audio(post: Post) -> Enclosure | None:
    """The audio a podcast feed gives for a post: its first audio enclosure (None: the post is no episode)."""
    return next((e for e in post.enclosures if _is_audio(e.media_type)), None)


def episode_seconds(post: Post) -> int:
    """An episode's duration in seconds: as its front matter says, else its audio file's (0: unknown)."""
    said = post.episode.duration if post.episode is not None else 0
    audio = episode_audio(post)
    return said or (round(audio.duration) if audio is not None else 0)
