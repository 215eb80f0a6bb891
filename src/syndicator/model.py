"""Frozen records that flow through the pipeline: Author, Post, Category, a post's media and episode (LoadProblem
is in ``syndicator.problem``).

Validation, and each post's stable digest. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import ClassVar
from typing import Protocol

from syndicator.digest import stable_hash
from syndicator.pickling import by_fields
from syndicator.problem import LoadProblem

VISIBILITIES = ("public", "partners")  # who sees a post: everyone, or only the partner feeds
LINED_FIELDS = ("id", "slug", "path", "categories", "tags", "author", "date", "updated")  # see Post.line_of


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be an aware UTC datetime, got {value!r}")


@by_fields
@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str = ""
    uri: str = ""
    slug: str = ""  # URL slug of the name, for /author/<slug>/


@by_fields
@dataclass(frozen=True, slots=True)
class Term:
    """A category or tag as one post names it."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What the disk says of one asset: its size in bytes, media type, an image's pixels, audio's seconds (0: unknown).

    ``leaves``: the file is a link whose real path is outside posts_dir, and is never published.
    """

    size: int
    media_type: str
    width: int = 0
    height: int = 0
    leaves: bool = False
    digest: str = ""  # of an image over the limits (max_image_bytes, max_image_pixels): names its resized copy
    duration: float = 0.0


LEAVING = AssetFacts(0, "", leaves=True)  # what a link leading out of posts_dir is, to a post that names it


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A featured image or an enclosure as a post file names it, before any file is looked at.

    ``url`` is absolute (a local file's is its public URL); ``path`` is the
    local file's path under posts_dir ("" for a file elsewhere on the web).
    """

    url: str
    path: str = ""
    line: int = 1
    alt: str = ""
    caption: str = ""
    credit: str = ""
    media_type: str = ""  # as given (an enclosure's ``type``, a <source>'s)
    length: int = 0  # as given (an enclosure's ``length``)
    title: str = ""
    in_body: bool = False  # the body's own image or audio/video, not one the front matter names


@dataclass(frozen=True, slots=True)
class Media:
    """What a post file names: its featured image, its enclosures, and every local file (path, line) it refers to."""

    image: MediaRef | None = None
    enclosures: tuple[MediaRef, ...] = ()
    files: tuple[tuple[str, int], ...] = ()

    def __reduce__(self) -> tuple[Callable[..., Media], tuple[object, ...]]:
        """Pickled (the post cache) as itself, and an empty value as NO_MEDIA: it is told by identity."""
        if self.image is None and not self.enclosures and not self.files:
            return (_no_media, ())
        return (Media, (self.image, self.enclosures, self.files))


NO_MEDIA = Media()  # what a post that names no media has


def _no_media() -> Media:
    return NO_MEDIA


@dataclass(frozen=True, slots=True)
class Image:
    """A post's featured image as published: ``width``/``height``/``size`` are known for a local file (else 0)."""

    url: str
    media_type: str = ""
    width: int = 0
    height: int = 0
    size: int = 0
    alt: str = ""
    caption: str = ""
    credit: str = ""
    in_body: bool = False  # the body's first image (the post page shows it already)
    oversized: bool = False  # over max_image_bytes or max_image_pixels: never a thumbnail itself
    thumbnail: str = ""  # an oversized image's resized copy (its URL), "" when it has none
    thumbnail_width: int = 0
    thumbnail_height: int = 0


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file a post carries (a podcast's episode): URL, media type, length in bytes, title, seconds (0: unknown)."""

    url: str
    media_type: str
    length: int = 0
    title: str = ""
    duration: float = 0.0  # of a local audio file, read from it


EPISODE_TYPES = ("full", "trailer", "bonus")


@dataclass(frozen=True, slots=True)
class Episode:
    """What a post's front matter says of it as a podcast episode (its audio is its first audio enclosure).

    0, "" and None mean "not said": a number or season is a positive whole
    number; ``duration`` is in seconds (0: the audio file's own);
    ``transcript`` and ``chapters`` name files (``media_type`` the one the
    feed gives them).
    """

    number: int = 0
    season: int = 0
    episode_type: str = ""  # one of EPISODE_TYPES
    explicit: bool | None = None
    duration: int = 0
    transcript: MediaRef | None = None
    chapters: MediaRef | None = None


class PostText(Protocol):
    """A post's sanitized HTML (a draft's may be rendered only when first asked for)."""

    @property
    def summary_html(self) -> str: ...

    @property
    def content_html(self) -> str: ...

    @property
    def key(self) -> tuple[object, ...]:
        """What the HTML is made from: equal keys give equal HTML."""
        ...


@by_fields
@dataclass(frozen=True, slots=True)
class Post:
    """One published-or-scheduled post, with its HTML already rendered and sanitized."""

    path: str
    slug: str
    id: str
    title: str
    date: datetime
    updated: datetime
    author: Author
    categories: tuple[Term, ...]
    tags: tuple[Term, ...]
    text: PostText
    draft: bool = False
    warnings: tuple[LoadProblem, ...] = ()
    source: str = ""  # the file's path under posts_dir: the ledger's key
    explicit_id: bool = False
    license: str = ""  # the URL of the post's license
    visibility: str = "public"  # "partners": only in the partner feeds (VISIBILITIES)
    media: Media = NO_MEDIA  # what the file names; the post cache binds it to the files (core.media.bind)
    image: Image | None = None  # the featured image, once bound
    enclosures: tuple[Enclosure, ...] = ()  # once bound
    assets: tuple[str, ...] = ()  # the local files it uses that exist (paths under posts_dir), once bound
    episode: Episode | None = None  # its episode fields, when it has any (see core.episode)
    page_path: str = ""  # a page (``type: page``): the URL path it is served at (``/about/``); "" for a post
    lines: tuple[int, ...] = ()  # the file line of each of LINED_FIELDS its front matter gives (0: not given)
    _digest: str = field(init=False, repr=False, compare=False, default="")
    # In no feed or page: where its file was read from, and the problems it had.
    _hash_exclude_: ClassVar[frozenset[str]] = frozenset({"_digest", "lines", "path", "source", "warnings"})

    def __post_init__(self) -> None:
        _check_aware("date", self.date)
        _check_aware("updated", self.updated)
        if not self.slug or "/" in self.slug:
            raise ValueError(f"invalid slug {self.slug!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"invalid visibility {self.visibility!r}")
        if self.page_path and not (self.page_path.startswith("/") and self.page_path.endswith("/")):
            raise ValueError(f"invalid page path {self.page_path!r}")

    @property
    def digest(self) -> str:
        """The stable digest of what it publishes (``stable_hash``: its fields but ``_hash_exclude_``).

        The same in every process; made once, when first asked for, and kept
        with the post (the post cache saves it).
        """
        if not self._digest:
            object.__setattr__(self, "_digest", stable_hash(self))
        return self._digest

    def __hash__(self) -> int:
        """Of its digest: posts are dictionary keys of the entry memo."""
        return hash(self.digest)

    def line_of(self, field: str) -> int:
        """The file line its front matter gives ``field`` on (one of LINED_FIELDS); 1 when it gives none."""
        index = LINED_FIELDS.index(field)
        return self.lines[index] if index < len(self.lines) and self.lines[index] else 1

    @property
    def is_page(self) -> bool:
        """Whether it is a page (``type: page``): served at its path, in no feed, archive or notification."""
        return bool(self.page_path)

    @property
    def partners_only(self) -> bool:
        """Whether only partner feeds may show it (``visibility: partners``)."""
        return self.visibility == "partners"

    @property
    def private(self) -> bool:
        """Whether the public may not see it, nor its problems: a draft, or a post for partners only."""
        return self.draft or self.partners_only

    @property
    def summary_html(self) -> str:
        return self.text.summary_html

    @property
    def content_html(self) -> str:
        return self.text.content_html


@dataclass(frozen=True, slots=True)
class Category:
    """A category with its display name and its posts, newest first."""

    slug: str
    name: str
    posts: tuple[Post, ...]


@dataclass(frozen=True, slots=True, order=True)
class Tombstone:
    """An RFC 6721 deleted entry: the id of a post that was published, and when it was first seen gone."""

    when: datetime
    ref: str

    def __post_init__(self) -> None:
        _check_aware("when", self.when)


@dataclass(frozen=True, slots=True)
class Departed:
    """A post a feed held and no longer does (deleted, or withdrawn from the public), where it was: its date and
    slug (a feed's order) and its tombstone. It keeps its place on its archive page, so no later page moves."""

    date: datetime
    slug: str
    tombstone: Tombstone
