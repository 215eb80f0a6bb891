"""Keep published ids from churning: the ledger of every published post's file, id and slug.

Pure: ``assign_ids`` gives posts the ids their files were published with,
``record`` adds what is published now, ``redirects`` maps old slugs to new
ones (its file's format is core.ledgerfile's). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace

from syndicator.core.frontmatter import shown
from syndicator.core.plan import stems_of
from syndicator.digest import digest_text
from syndicator.model import Post
from syndicator.problem import LoadProblem


@dataclass(frozen=True, slots=True)
class Record:
    """What was published from one post file: its id, its current slug and the slugs it had before.

    The title and date (ISO 8601, UTC) say what the post is, so that a renamed
    file is recognised as the same post. ``content`` is a digest of what its
    author wrote and ``updated`` the entry's updated as published, so that an
    edit is seen and dated; ``stems`` are the feeds it was in, ``left`` the
    feeds it was in and left while published (another category, a tag taken
    off), each with when that was first seen and what that feed knew of it
    (its tombstone there, its place kept on that feed's archive pages), and
    ``deleted`` when it was first seen gone (its tombstone's time), empty while
    published.
    ``partners_only``: it was published for partners alone, so its deletion is
    theirs to see, never the public's; ``withdrawn``, when such a post was
    first seen for partners only after it had been published for everyone (the
    public feeds' tombstone of it), empty otherwise, and ``public`` what the
    public last saw of it then: its tombstone, its place in the archive pages
    and its 410 stay there whatever the post for partners becomes.
    """

    id: str
    slug: str
    former_slugs: tuple[str, ...] = ()
    title: str = ""
    date: str = ""
    content: str = ""
    updated: str = ""
    stems: tuple[str, ...] = ()
    deleted: str = ""
    partners_only: bool = False
    withdrawn: str = ""
    public: Seen | None = None
    left: tuple[Departure, ...] = ()

    @property
    def seen(self) -> Record | Seen | None:
        """What the public feeds know of the post: as last seen by them when it is for partners only now (None: they
        never saw it)."""
        if not self.partners_only:
            return self
        if self.public is None and self.withdrawn:  # withdrawn before records kept what the public saw
            return Seen(self.id, self.slug, self.date, self.stems)
        return self.public


@dataclass(frozen=True, slots=True)
class Seen:
    """What the public last saw of a post before it was for partners only: its id, slug, date, feeds, and the feeds
    it had left."""

    id: str
    slug: str
    date: str
    stems: tuple[str, ...]
    left: tuple[Departure, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class Departure:
    """A post's going from one feed: the feed, when it was first seen gone, and what the feed knew of it then (its
    id, date and slug: its tombstone, and its place on the feed's archive pages)."""

    stem: str
    when: str
    id: str
    date: str
    slug: str


def _identity(post: Post) -> tuple[str, str]:
    return post.title, post.date.isoformat()


def follow_renames(ledger: dict[str, Record], posts: Iterable[Post]) -> dict[str, Record]:
    """The ledger with the record of each renamed post file moved to its new name.

    A post file the ledger does not know takes over the record of a file that
    is gone when their title and date are the same (and only one such record
    is free): its id is kept, and its old slug becomes a former one (so the old
    URL answers 301).
    """
    posts = list(posts)
    present = {post.source for post in posts}
    gone = [source for source in ledger if source not in present]
    if not gone:
        return ledger
    free: dict[tuple[str, str], list[str]] = {}
    for source in gone:
        record_ = ledger[source]
        if record_.title:
            free.setdefault((record_.title, record_.date), []).append(source)
    moved = dict(ledger)
    for post in posts:
        sources = free.get(_identity(post))
        if post.source in moved or post.explicit_id or not sources or len(sources) != 1:
            continue
        moved[post.source] = moved.pop(sources.pop())
    return moved


def assign_ids(posts: Iterable[Post], ledger: dict[str, Record]) -> tuple[list[Post], list[LoadProblem]]:
    """Give each post the id its file was published with.

    A post whose id is the default keeps its published id when its slug, its
    date or the site's host changes. An explicit ``id`` that differs from the
    published one is honoured, with a warning.
    """
    kept: list[Post] = []
    warnings: list[LoadProblem] = []
    for post in posts:
        record = ledger.get(post.source)
        if record is not None and record.id != post.id:
            if post.explicit_id:
                message = (
                    f"id changes from published {shown(record.id)} to {shown(post.id)}: readers will see a new entry"
                )
                warnings.append(LoadProblem(post.path, post.line_of("id"), message, fatal=False, private=post.private))
            else:
                post = replace(post, id=record.id)
        kept.append(post)
    return kept, warnings


def record(ledger: dict[str, Record], published: Iterable[Post], seen: str) -> dict[str, Record]:
    """The ledger with the published posts' ids and slugs (a changed slug is kept as a former one), and when a post
    published for everyone was first seen for partners only (``seen``, the time a change is recorded as first seen,
    or when it was deleted for everyone)."""
    updated: dict[str, Record] | None = None
    for post in published:
        old = ledger.get(post.source)
        former = old.former_slugs if old is not None else ()
        if old is not None and old.slug != post.slug and old.slug not in former:
            former = (*former, old.slug)
        slugs = tuple(s for s in former if s != post.slug)
        stems = stems_of(post)
        new = Record(
            post.id,
            post.slug,
            slugs,
            *_identity(post),
            words_of(post),
            post.updated.isoformat(),
            stems,
            partners_only=post.partners_only,
            withdrawn=_withdrawn(old, post, seen),
            public=_public(old, post),
            left=_left(old, post, stems, seen),
        )
        if new == old:
            continue
        if updated is None:
            updated = dict(ledger)
        updated[post.source] = new
    return ledger if updated is None else updated


def _withdrawn(old: Record | None, post: Post, seen: str) -> str:
    """When the public last saw a post now for partners only ("": it is public, or never was)."""
    if not post.partners_only or old is None:
        return ""
    if old.partners_only:
        return old.withdrawn
    return old.deleted or seen


def _public(old: Record | None, post: Post) -> Seen | None:
    """What the public last saw of a post now for partners only (None: it is public, or never was, or its record
    is older than this field): kept from when it was first seen for partners only, whatever it becomes since."""
    if not post.partners_only or old is None:
        return None
    if old.partners_only:
        return old.public
    return Seen(old.id, old.slug, old.date, old.stems, old.left)


def _left(old: Record | None, post: Post, stems: tuple[str, ...], seen: str) -> tuple[Departure, ...]:
    """The feeds a post left while published, with when each was first seen left: those it had left and is still
    out of, and those it was in last and is not now (as the public saw it, when it is public again)."""
    if old is None:
        return ()
    was: Record | Seen | None = old
    if old.partners_only and not post.partners_only:  # public again: what it left as the partners' post is theirs
        was = old.public
    if was is None:
        return ()
    kept = [left for left in was.left if left.stem not in stems]
    known = {left.stem for left in kept}
    when = old.deleted or seen
    kept += [Departure(s, when, was.id, was.date, was.slug) for s in was.stems if s not in stems and s not in known]
    return tuple(sorted(kept))


def words_of(post: Post) -> str:
    """A digest of what the post's author wrote: its title, summary and body (not where it is published)."""
    words = getattr(post.text, "words_key", None)
    return digest_text(post.title, str(words if words is not None else post.text.key))


def same_words(content: str, post: Post) -> bool:
    """Whether a record's ``content`` is the post's words: as a reader tells them apart, or byte for byte as its
    file has them (what a record made before line endings and trailing spaces were set aside holds)."""
    if content == words_of(post):
        return True
    written = getattr(post.text, "written_key", "")
    return bool(written) and content == digest_text(post.title, written)


def redirects(ledger: dict[str, Record]) -> dict[str, str]:
    """Old slug -> current slug, for every slug a file had before (unless another post now has it)."""
    current = {record.slug for record in ledger.values()}
    moved: dict[str, str] = {}
    for source in sorted(ledger):
        record = ledger[source]
        for slug in record.former_slugs:
            if slug not in current:
                moved.setdefault(slug, record.slug)
    return moved
