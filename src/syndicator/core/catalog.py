"""Decide what is published at a moment: posts in order, categories, tags and authors by slug.

Pure: takes the posts, ``now`` and the settings. No I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from operator import attrgetter

from syndicator.configtables import Redirects
from syndicator.core.frontmatter import shown
from syndicator.model import Category
from syndicator.model import Post
from syndicator.model import Term
from syndicator.problem import LoadProblem

TAXONOMIES = ("category", "tag", "author")  # every kind has its feeds, archives, page and WordPress URLs

# What decides whether, where and in which order a post is published; an edit
# that keeps all of these leaves every feed's list of posts as it was.
_PLACE = attrgetter(
    *("path", "source", "slug", "id", "date", "draft", "visibility", "categories", "tags", "author.slug"),
    *("author.name", "page_path"),
)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything published at ``now``; posts newest first (equal dates: slug ascending).

    ``pages`` (``type: page``) are apart, by path: in no feed, archive or taxonomy.
    """

    now: datetime
    posts: tuple[Post, ...]
    by_slug: dict[str, Post]
    categories: dict[str, Category]
    tags: dict[str, Category]
    authors: dict[str, Category]
    next_publish_at: datetime | None
    problems: tuple[LoadProblem, ...]
    pages: dict[str, Post] = field(default_factory=dict)
    # Each post's labels once made, by the post's id (with the post, to tell a post from another that had its id).
    _labels: dict[int, tuple[Post, tuple[str, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, posts: Iterable[Post], now: datetime, *, partners: bool = False) -> Catalog:
        """Select the posts published at ``now`` and group them.

        The public catalog leaves out posts for partners only; the partners'
        catalog (``partners``) holds them too.
        """
        problems: list[LoadProblem] = []
        by_slug: dict[str, Post] = {}
        by_id: dict[str, Post] = {}
        pages: dict[str, Post] = {}
        upcoming: list[datetime] = []
        for post in sorted(posts, key=attrgetter("path")):
            if post.draft or (post.partners_only and not partners):
                continue
            if post.date > now:
                upcoming.append(post.date)
                continue
            if post.is_page:
                if post.page_path in pages:
                    problems.append(_taken(post, "path", repr(post.page_path), pages[post.page_path]))
                else:
                    pages[post.page_path] = post
                continue
            if post.slug in by_slug:
                problems.append(_taken(post, "slug", repr(post.slug), by_slug[post.slug]))
                continue
            if post.id in by_id:
                problems.append(_taken(post, "id", shown(post.id), by_id[post.id]))
                continue
            by_slug[post.slug] = post
            by_id[post.id] = post
        ordered = tuple(newest_first(by_slug.values()))
        spellings: dict[str, list[tuple[Term, Post]]] = {kind: [] for kind in TAXONOMIES}
        groups = {kind: group_terms(ordered, _TERMS[kind], spellings[kind]) for kind in TAXONOMIES}
        for kind in TAXONOMIES:
            problems += merged_names(kind, spellings[kind], groups[kind])
        return cls(
            now=now,
            posts=ordered,
            by_slug={p.slug: p for p in ordered},
            categories=groups["category"],
            tags=groups["tag"],
            authors=groups["author"],
            next_publish_at=min(upcoming, default=None),
            problems=tuple(problems),
            pages=pages,
        )

    def with_edits(self, edits: Iterable[tuple[Post, Post]], now: datetime) -> Catalog | None:
        """This catalog with edited posts (old, new) swapped in, or None when a full build is needed.

        Only for edits that keep each post's place (file, slug, id, dates,
        draft, terms, author), and while no scheduled post has come due: then
        every group keeps its members and order, and only the edited posts'
        groups are rebuilt. A one-post edit of a large blog costs microseconds
        instead of a sort of every post.
        """
        if now < self.now or (self.next_publish_at is not None and self.next_publish_at <= now):
            return None
        swap: dict[int, Post] = {}
        pages = self.pages
        for old, new in edits:
            if _PLACE(old) != _PLACE(new):
                return None
            if self.by_slug.get(old.slug) is old:
                swap[id(old)] = new
            elif old.is_page and pages.get(old.page_path) is old:
                pages = {**pages, old.page_path: new}
        if not swap:
            return replace(self, now=now, pages=pages)
        edited = list(swap.values())
        groups = {}
        for kind, terms_of in _TERMS.items():
            taxonomy = dict(self.taxonomy(kind))
            for slug in {term.slug for post in edited for term in terms_of(post)}:
                group = taxonomy[slug]
                taxonomy[slug] = replace(group, posts=tuple([swap.get(id(p), p) for p in group.posts]))
            groups[kind] = taxonomy
        by_slug = dict(self.by_slug)
        by_slug.update((post.slug, post) for post in edited)
        return replace(
            self,
            now=now,
            posts=tuple([swap.get(id(p), p) for p in self.posts]),
            by_slug=by_slug,
            categories=groups["category"],
            tags=groups["tag"],
            authors=groups["author"],
            pages=pages,
        )

    @property
    def with_pages(self) -> tuple[Post, ...]:
        """The posts and the pages: what uses the files published beside them."""
        return (*self.posts, *self.pages.values())

    def page_with_slug(self, slug: str) -> Post | None:
        """The page of this slug (of two, the one whose path sorts first), or None."""
        return next((self.pages[path] for path in sorted(self.pages) if self.pages[path].slug == slug), None)

    def taxonomy(self, kind: str) -> dict[str, Category]:
        """The groups of one kind of term: "category", "tag" or "author"."""
        return {"category": self.categories, "tag": self.tags, "author": self.authors}[kind]

    def name_of(self, term: Term) -> str:
        """The display name of a post's category (its merged spelling)."""
        category = self.categories.get(term.slug)
        return category.name if category is not None else term.name

    def labels(self, post: Post) -> tuple[str, ...]:
        """The displayed names of a post's categories: its entries' labels (made once a post: each feed asks)."""
        known = self._labels.get(id(post))
        if known is not None and known[0] is post:
            return known[1]
        labels = tuple(self.name_of(t) for t in post.categories)
        self._labels[id(post)] = (post, labels)
        return labels

    def category_names(self) -> tuple[tuple[str, str], ...]:
        """Every category's (slug, displayed name): what the labels of every entry depend on."""
        return tuple((slug, c.name) for slug, c in self.categories.items())


def author_slug(post: Post) -> str:
    """The slug of a post's author: their archive is /author/<slug>/."""
    return post.author.slug or "anonymous"


def _author_term(post: Post) -> tuple[Term, ...]:
    return (Term(author_slug(post), post.author.name),)


_TERMS: dict[str, Callable[[Post], tuple[Term, ...]]] = {
    "category": attrgetter("categories"),
    "tag": attrgetter("tags"),
    "author": _author_term,
}


def _taken(post: Post, field: str, value: str, other: Post) -> LoadProblem:
    """A post whose ``field`` another post already uses: a problem on that field's line."""
    return LoadProblem(post.path, post.line_of(field), f"{field} {value} is already used by {other.path}")


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Newest first; equal dates by slug ascending (two stable sorts, both keyed in C)."""
    by_slug = sorted(posts, key=attrgetter("slug"))
    return sorted(by_slug, key=attrgetter("date"), reverse=True)


def group_terms(
    posts: tuple[Post, ...],
    terms_of: Callable[[Post], tuple[Term, ...]],
    first_uses: list[tuple[Term, Post]] | None = None,
) -> dict[str, Category]:
    """Group newest-first posts by term slug; each group shows its most used spelling.

    On a tie, the spelling of the newest post wins. The dict is ordered by slug.
    ``first_uses``, when given, gets each spelling of each slug with the newest post using it.
    """
    members: dict[str, list[Post]] = {}
    spellings: dict[str, dict[str, int]] = {}  # slug -> spelling -> uses, in order of first (newest) use
    for post in posts:
        for term in terms_of(post):
            group = members.get(term.slug)
            if group is None:
                members[term.slug] = [post]
                spellings[term.slug] = {term.name: 1}
                if first_uses is not None:
                    first_uses.append((term, post))
            else:
                group.append(post)
                counts = spellings[term.slug]
                uses = counts.get(term.name, 0)
                counts[term.name] = uses + 1
                if not uses and first_uses is not None:
                    first_uses.append((term, post))
    groups = {}
    for slug in sorted(members):
        counts = spellings[slug]
        name = max(counts, key=counts.__getitem__)  # max keeps the first (newest) spelling on a tie
        groups[slug] = Category(slug=slug, name=name, posts=tuple(members[slug]))
    return groups


def merged_names(kind: str, first_uses: list[tuple[Term, Post]], groups: dict[str, Category]) -> list[LoadProblem]:
    """A warning on the newest post naming each spelling that is one group with another only by its slug: not a
    case or spacing variant (`Foreign Affairs`, `foreign-affairs`) but other letters, that python-slugify's Latin
    made equal (Arabic علم and عالم are both `lm`, 中文 and 忠文 both `zhong-wen`)."""
    problems = []
    for term, post in first_uses:
        name = groups[term.slug].name
        if _letters(term.name) != _letters(name):
            field = "categories" if kind == "category" else "tags" if kind == "tag" else "author"
            message = (
                f"{kind} {shown(term.name)} is one {kind} with {shown(name)}, shown so: both make the slug "
                f"{term.slug!r} (python-slugify's Latin letters); rename one to keep them apart"
            )
            problems.append(LoadProblem(post.path, post.line_of(field), message, fatal=False))
    return problems


def _letters(name: str) -> str:
    """A name's letters and digits, composed and case-folded: what tells two words apart, beside case and spacing."""
    return "".join(character for character in unicodedata.normalize("NFKC", name).casefold() if character.isalnum())


def shadowed_redirects(redirects: Redirects, catalog: Catalog) -> list[LoadProblem]:
    """A warning for each ``[redirects]`` entry whose old slug is a live category, tag, author or post's: what is
    published there answers, and the redirect waits until it goes."""
    live = {kind: catalog.taxonomy(kind) for kind in ("category", "tag", "author")} | {"post": catalog.by_slug}
    return [
        LoadProblem(
            redirects.source or "config",
            redirects.line_of(kind, old),
            f"redirects.{kind}: {old!r} is a live {kind}'s slug here: it is answered as such, not sent to {new!r}",
            fatal=False,
        )
        for kind, entries in redirects.table.items()
        for old, new in entries.items()
        if old in live.get(kind, {})
    ]
