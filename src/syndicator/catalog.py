"""Decide what is published at a moment: posts in order, categories and tags by slug.

Pure: takes the posts, ``now`` and the settings. No I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from syndicator.model import Category
from syndicator.model import LoadProblem
from syndicator.model import Post
from syndicator.model import Term


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything published at ``now``; posts newest first (equal dates: slug ascending)."""

    now: datetime
    posts: tuple[Post, ...]
    by_slug: dict[str, Post]
    categories: dict[str, Category]
    tags: dict[str, Category]
    next_publish_at: datetime | None
    problems: tuple[LoadProblem, ...]

    @classmethod
    def build(cls, posts: Iterable[Post], now: datetime) -> Catalog:
        """Select the posts published at ``now`` and group them."""
        problems: list[LoadProblem] = []
        by_slug: dict[str, Post] = {}
        by_id: dict[str, Post] = {}
        upcoming: list[datetime] = []
        for post in sorted(posts, key=lambda p: p.path):
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
        ordered = tuple(sorted(by_slug.values(), key=lambda p: p.sort_key))
        return cls(
            now=now,
            posts=ordered,
            by_slug={p.slug: p for p in ordered},
            categories=group_terms(ordered, lambda p: p.categories),
            tags=group_terms(ordered, lambda p: p.tags),
            next_publish_at=min(upcoming, default=None),
            problems=tuple(problems),
        )

    def name_of(self, term: Term) -> str:
        """The display name of a post's category (its merged spelling)."""
        category = self.categories.get(term.slug)
        return category.name if category is not None else term.name


def group_terms(posts: tuple[Post, ...], terms_of: Callable[[Post], tuple[Term, ...]]) -> dict[str, Category]:
    """Group newest-first posts by term slug; each group shows its most used spelling.

    On a tie, the spelling of the newest post wins. The dict is ordered by slug.
    """
    members: dict[str, list[Post]] = {}
    spellings: dict[str, Counter[str]] = {}
    first_seen: dict[str, dict[str, int]] = {}
    for rank, post in enumerate(posts):
        for term in terms_of(post):
            members.setdefault(term.slug, []).append(post)
            spellings.setdefault(term.slug, Counter())[term.name] += 1
            first_seen.setdefault(term.slug, {}).setdefault(term.name, rank)
    groups = {}
    for slug in sorted(members):
        counts = spellings[slug]
        name = min(counts, key=lambda n: (-counts[n], first_seen[slug][n]))
        groups[slug] = Category(slug=slug, name=name, posts=tuple(members[slug]))
    return groups
