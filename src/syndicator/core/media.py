"""A post's media: its featured image and enclosures as the file names them, then bound to the files on disk.

``read_media`` reads the front matter's ``image`` and ``enclosures`` (or, without
them, the body's first image and its audio and video) into a Media value;
``bind`` gives a post the facts of the files it names (size, media type,
pixels) and a warning for each local file that is missing. Pure: the facts come
in as a function. No I/O.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from syndicator.config import Settings
from syndicator.core.assets import asset_path
from syndicator.core.assets import asset_url
from syndicator.core.assets import local_path
from syndicator.core.assets import media_type
from syndicator.core.frontmatter import shown
from syndicator.core.markup import WEB_SCHEMES
from syndicator.core.markup import safe_url
from syndicator.core.markup import xml_legal
from syndicator.core.thumbnails import ImageLimits
from syndicator.model import NO_MEDIA
from syndicator.model import AssetFacts
from syndicator.model import Enclosure
from syndicator.model import Episode
from syndicator.model import Image
from syndicator.model import Media
from syndicator.model import MediaRef
from syndicator.model import Post
from syndicator.problem import LoadProblem

Facts = Callable[[str], AssetFacts | None]  # path under posts_dir -> what the disk says, None: no such file
_BODY_MEDIA = ("audio", "video", "source")
_URL_TOKEN = re.compile(r"""[^\s()<>\[\]"'=]+""")  # a URL as Markdown or HTML writes it runs between these
_NEWLINE = re.compile("\n")
MAX_SEARCHES = 64  # URLs of one post looked for in its whole body when they are no such run


@dataclass(frozen=True, slots=True)
class MediaSource:
    """What reading a post's media needs: the settings, the post file's folder under posts_dir, lines, the body."""

    settings: Settings
    folder: str
    page_url: str
    line_of: Callable[[str], int]  # front matter field -> its line
    body: str
    body_line: int

    def lines_in_body(self, written: Sequence[str]) -> list[int]:
        """The line of the body each URL is written on (the body's first line when it cannot be found).

        One pass over the body, however many URLs: each run of characters that
        can be a URL as written is noted where it first appears, and each line
        start once. A URL written some other way (spaces, parentheses) is
        searched for, at most MAX_SEARCHES times a post.
        """
        if not written:
            return []
        first: dict[str, int] = {}
        for token in _URL_TOKEN.finditer(self.body):
            first.setdefault(token.group(), token.start())
        starts = [line.end() for line in _NEWLINE.finditer(self.body)]
        searches = MAX_SEARCHES
        lines = []
        for url in written:
            at = next((first[form] for form in (url, unquote(url)) if form in first), -1)
            if at < 0 and searches > 0:
                searches -= 1
                at = next((found for form in (url, unquote(url)) if (found := self.body.find(form)) >= 0), -1)
            lines.append(self.body_line + bisect.bisect_right(starts, at) if at >= 0 else self.body_line)
        return lines


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return xml_legal(str(value).strip())[0]


def media_ref(
    value: Any, field: str, source: MediaSource, notes: list[tuple[str, str]], **extra: Any
) -> MediaRef | None:
    """A path relative to the post file, or an absolute http(s) URL, as a MediaRef; anything else is noted."""
    if not isinstance(value, str) or not value.strip():
        notes.append((field, f"{field}: expected a path or an http(s) URL, not {shown(value)}"))
        return None
    line = source.line_of(field)
    path = local_path(value, source.folder)
    if path is not None:
        return MediaRef(asset_url(source.settings, path), path, line, **extra)
    url = safe_url(value, source.page_url, WEB_SCHEMES)
    if url is None:
        notes.append((field, f"{field}: {shown(value.strip())} is neither a path nor an http(s) URL; left out"))
        return None
    return MediaRef(url, asset_path(url, source.settings), line, **extra)


def _front_image(value: Any, source: MediaSource, notes: list[tuple[str, str]]) -> MediaRef | None:
    if not isinstance(value, dict):
        return media_ref(value, "image", source, notes)
    extra = {key: _text(value.get(key)) for key in ("alt", "caption", "credit")}
    return media_ref(value.get("src"), "image", source, notes, **extra)


def _front_enclosure(value: Any, source: MediaSource, notes: list[tuple[str, str]]) -> MediaRef | None:
    if not isinstance(value, dict):
        return media_ref(value, "enclosures", source, notes)
    length = value.get("length", 0)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        notes.append(("enclosures", f"enclosures: length {shown(length)} is not a number of bytes; left out"))
        length = 0
    extra = {"media_type": _text(value.get("type")), "length": length, "title": _text(value.get("title"))}
    return media_ref(value.get("url"), "enclosures", source, notes, **extra)


def _body_refs(embeds: Iterable[tuple[str, str, str]], settings: Settings) -> tuple[MediaRef | None, list[MediaRef]]:
    """The body's first image, and its audio and video (each URL once)."""
    image = None
    media: dict[str, MediaRef] = {}
    for tag, url, extra in embeds:
        if not url:
            continue
        if tag == "img" and image is None:
            image = MediaRef(url, asset_path(url, settings), alt=extra, in_body=True)
        elif tag in _BODY_MEDIA and url not in media:
            media[url] = MediaRef(url, asset_path(url, settings), media_type=extra, in_body=True)
    return image, list(media.values())


def read_media(meta: dict[str, Any], text: Any, source: MediaSource) -> tuple[Media, list[tuple[str, str]]]:
    """A post's Media, and notes (field, message) on what was wrong with its ``image`` and ``enclosures`` fields.

    ``text`` is the post's rendered MarkdownText (its ``refs`` and ``embeds``).
    """
    notes: list[tuple[str, str]] = []
    body_image, body_media = _body_refs(text.embeds, source.settings)
    image = body_image
    if meta.get("image") is not None:  # ``image: false`` (or "") features nothing
        image = None if meta["image"] in ("", False) else _front_image(meta["image"], source, notes)
    enclosures: list[MediaRef] = body_media
    if meta.get("enclosures") is not None:
        given = meta["enclosures"] if isinstance(meta["enclosures"], list) else [meta["enclosures"]]
        enclosures = [r for r in (_front_enclosure(v, source, notes) for v in given) if r is not None]
    files = list(
        zip([path for path, _written in text.refs], source.lines_in_body([w for _p, w in text.refs]), strict=True)
    )
    files += [(r.path, r.line) for r in (image, *enclosures) if r is not None and r.path and not r.in_body]
    if image is None and not enclosures and not files:
        return NO_MEDIA, notes  # the one empty value: a post cache tells such posts by identity
    return Media(image, tuple(enclosures), tuple(dict.fromkeys(files))), notes


def _image(ref: MediaRef | None, known: dict[str, AssetFacts | None], limits: ImageLimits | None) -> Image | None:
    if ref is None:
        return None
    facts = known.get(ref.path) if ref.path else None
    if ref.path and facts is None:
        return None  # a local file that is missing: its warning says so
    kind = facts.media_type if facts is not None else _remote_type(ref.url)
    width, height, size = (facts.width, facts.height, facts.size) if facts is not None else (0, 0, 0)
    image = Image(ref.url, kind, width, height, size, ref.alt, ref.caption, ref.credit, ref.in_body)
    if facts is None or limits is None or not limits.over(facts):
        return image
    resized = limits.resized(facts)  # the thumbnail: a resized copy, or none (never the original)
    if resized is None:
        return replace(image, oversized=True)
    path, thumbnail_width, thumbnail_height = resized
    return replace(
        image,
        oversized=True,
        thumbnail=limits.media_url + path,
        thumbnail_width=thumbnail_width,
        thumbnail_height=thumbnail_height,
    )


def _remote_type(url: str) -> str:
    kind = media_type(url.split("?", 1)[0].split("#", 1)[0])
    return "" if kind == "application/octet-stream" else kind


def _enclosure(ref: MediaRef, known: dict[str, AssetFacts | None]) -> Enclosure | None:
    facts = known.get(ref.path) if ref.path else None
    if ref.path and facts is None:
        return None
    kind = ref.media_type or (facts.media_type if facts is not None else media_type(ref.url.split("?", 1)[0]))
    length = ref.length or (facts.size if facts is not None else 0)
    return Enclosure(ref.url, kind, length, ref.title, facts.duration if facts is not None else 0.0)


def _episode_files(episode: Episode | None, known: dict[str, AssetFacts | None]) -> Episode | None:
    """The episode without the transcript or chapters file it names when that local file is missing."""
    if episode is None:
        return None
    kept = [None if ref is not None and ref.path and known.get(ref.path) is None else ref for ref in _files(episode)]
    return replace(episode, transcript=kept[0], chapters=kept[1]) if kept != _files(episode) else episode


def _files(episode: Episode) -> list[MediaRef | None]:
    return [episode.transcript, episode.chapters]


def missing_message(path: str, facts: AssetFacts | None) -> str:
    """What a post is told of a local file it names that is not published (its facts: None, or a leaving link);
    a name with a control character is shown quoted, escaped (a carriage return rewrote the terminal's line)."""
    path = path if path.isprintable() else shown(path)
    if facts is not None and facts.leaves:
        return f"refers to {path}, a link that leads out of posts_dir: not published"
    hidden = any(part.startswith((".", "_")) for part in path.split("/"))
    reason = " (names starting with '.' or '_' are not published)" if hidden else ""
    return f"refers to a missing file: {path}{reason}"


def bind(post: Post, facts: Facts, limits: ImageLimits | None = None) -> tuple[Post, tuple[AssetFacts | None, ...]]:
    """The post with its image, enclosures, assets, and warnings of missing files and of images over the ``limits``,
    and the facts it was bound to.

    The facts come in the order of ``paths(post)``; a post that names no
    media is returned as it is.
    """
    media = post.media
    if media.image is None and not media.enclosures and not media.files:
        return post, ()
    names = paths(post)
    seen = tuple(facts(path) for path in names)
    given = dict(zip(names, seen, strict=True))
    known = {path: None if f is None or f.leaves else f for path, f in given.items()}
    warnings = tuple(
        LoadProblem(post.path, line, missing_message(path, given[path]), fatal=False, private=post.private)
        for path, line in media.files
        if known[path] is None
    )
    warnings += _oversized(post, known, limits) + _no_length(post, known)
    enclosures = tuple(e for e in (_enclosure(r, known) for r in media.enclosures) if e is not None)
    bound = replace(
        post,
        image=_image(media.image, known, limits),
        enclosures=enclosures,
        episode=_episode_files(post.episode, known),
        assets=tuple(path for path in names if known[path] is not None),
        warnings=post.warnings + warnings,
    )
    return bound, seen


def _no_length(post: Post, known: dict[str, AssetFacts | None]) -> tuple[LoadProblem, ...]:
    """A warning for each audio file the post names whose length cannot be read, unless it says its ``duration``."""
    if post.episode is not None and post.episode.duration:
        return ()
    lines = dict(post.media.files)
    return tuple(
        LoadProblem(
            post.path,
            lines.get(ref.path, 1),
            f"cannot tell how long {ref.path} is (no audio this can read?): say it with duration: (seconds, HH:MM:SS)",
            fatal=False,
            private=post.private,
        )
        for ref in post.media.enclosures
        if (facts := known.get(ref.path)) is not None and facts.media_type.startswith("audio/") and not facts.duration
    )


def _oversized(post: Post, known: dict[str, AssetFacts | None], limits: ImageLimits | None) -> tuple[LoadProblem, ...]:
    """A warning for each image the post names that is over the limits (on the line it is first named)."""
    if limits is None:
        return ()
    warned: dict[str, LoadProblem] = {}
    for path, line in post.media.files:
        facts = known.get(path)
        if facts is not None and path not in warned and limits.over(facts):
            warned[path] = LoadProblem(post.path, line, limits.warning(path, facts), fatal=False, private=post.private)
    return tuple(warned.values())


def paths(post: Post) -> tuple[str, ...]:
    """Every local file a post names (paths under posts_dir), each once, in order."""
    media = post.media
    found = dict.fromkeys(path for path, _line in media.files)
    found.update(dict.fromkeys(r.path for r in (media.image, *media.enclosures) if r is not None and r.path))
    return tuple(found)
