"""Decide what is published at a moment: posts in order, categories, tags and authors by slug.

Pure: takes the posts, ``now`` and the settings. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from syndicator.model import Category
from syndicator.model import LoadProblem
from syndicator.model import Post
from syndicator.model import Term

TAXONOMIES = ("category", "tag", "author")  # every kind has its feeds, archives, page and WordPress URLs


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything published at ``now``; posts newest first (equal dates: slug ascending)."""

    now: datetime
    posts: tuple[Post, ...]
    by_slug: dict[str, Post]
    categories: dict[str, Category]
    tags: dict[str, Category]
    authors: dict[str, Category]
    next_publish_at: datetime | None
    problems: tuple[LoadProblem, ...]

    @classmethod
    def build(cls, posts: Iterable[Post], now: datetime) -> Catalog:
        """Select the posts published at ``now`` and group them."""
        problems: list[LoadProblem] = []
        by_slug: dict[str, Post] = {}
        by_id: dict[str, Post] = {}
        upcoming: list[datetime] = []
        for post in sorted(posts, key=attrgetter("path")):
            if post.draft:
                continue
            if post.date > now:
                upcoming.append(post.date)
                continue
            if post.slug in by_slug:
                other = by_slug[post.slug].path
                problems.append(LoadProblem(post.path, 1, f"slug {post.slug!r} is already used by {other}"))
                continue
            if post.id in by_id:
                other = by_id[post.id].path
                problems.append(LoadProblem(post.path, 1, f"id {post.id!r} is already used by {other}"))
                continue
            by_slug[post.slug] = post
            by_id[post.id] = post
        ordered = tuple(newest_first(by_slug.values()))
        return cls(
            now=now,
            posts=ordered,
            by_slug={p.slug: p for p in ordered},
            categories=group_terms(ordered, lambda p: p.categories),
            tags=group_terms(ordered, lambda p: p.tags),
            authors=group_terms(ordered, lambda p: (Term(p.author.slug or "anonymous", p.author.name),)),
            next_publish_at=min(upcoming, default=None),
            problems=tuple(problems),
        )

    def taxonomy(self, kind: str) -> dict[str, Category]:
        """The groups of one kind of term: "category", "tag" or "author"."""
        return {"category": self.categories, "tag": self.tags, "author": self.authors}[kind]

    def name_of(self, term: Term) -> str:
        """The display name of a post's category (its merged spelling)."""
        category = self.categories.get(term.slug)
        return category.name if category is not None else term.name


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Newest first; equal dates by slug ascending (two stable sorts, both keyed in C)."""
    by_slug = sorted(posts, key=attrgetter("slug"))
    return sorted(by_slug, key=attrgetter("date"), reverse=True)


def group_terms(posts: tuple[Post, ...], terms_of: Callable[[Post], tuple[Term, ...]]) -> dict[str, Category]:
    """Group newest-first posts by term slug; each group shows its most used spelling.

    On a tie, the spelling of the newest post wins. The dict is ordered by slug.
    """
    members: dict[str, list[Post]] = {}
    spellings: dict[str, dict[str, int]] = {}  # slug -> spelling -> uses, in order of first (newest) use
    for post in posts:
        for term in terms_of(post):
            group = members.get(term.slug)
            if group is None:
                members[term.slug] = [post]
                spellings[term.slug] = {term.name: 1}
            else:
                group.append(post)
                counts = spellings[term.slug]
                counts[term.name] = counts.get(term.name, 0) + 1
    groups = {}
    for slug in sorted(members):
        counts = spellings[slug]
        name = max(counts, key=counts.__getitem__)  # max keeps the first (newest) spelling on a tie
        groups[slug] = Category(slug=slug, name=name, posts=tuple(members[slug]))
    return groups
