"""Frozen records that flow through the pipeline: Author, Post, Category, LoadProblem.

Validation only. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Protocol

VISIBILITIES = ("public", "partners")  # who sees a post: everyone, or only the partner feeds


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be an aware UTC datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """Something wrong with one post file, reported with the line it is on.

    A problem with ``fatal`` set kept the post out (or kept its last good
    version); otherwise the post was published and the problem is a warning.
    A ``private`` one is of a draft: the public (``/healthz``) never sees it.
    """

    path: str
    line: int
    message: str
    fatal: bool = True
    private: bool = False

    def __str__(self) -> str:
        kind = "" if self.fatal else "warning: "
        return f"{self.path}:{self.line}: {kind}{self.message}"


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str = ""
    uri: str = ""
    slug: str = ""  # URL slug of the name, for /author/<slug>/


@dataclass(frozen=True, slots=True)
class Term:
    """A category or tag as one post names it."""

    slug: str
    name: str


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
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        _check_aware("date", self.date)
        _check_aware("updated", self.updated)
        if not self.slug or "/" in self.slug:
            raise ValueError(f"invalid slug {self.slug!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"invalid visibility {self.visibility!r}")
        fields = (self.path, self.slug, self.id, self.title, self.date, self.updated, self.author)
        object.__setattr__(
            self, "_hash", hash((*fields, self.categories, self.tags, self.text, self.draft, self.visibility))
        )

    def __hash__(self) -> int:
        """Computed once: posts are dictionary keys of the feed entry cache."""
        return self._hash

    @property
    def partners_only(self) -> bool:
        """Whether only partner feeds may show it (``visibility: partners``)."""
        return self.visibility == "partners"

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
