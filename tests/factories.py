"""One-line test data: make_post(**overrides), make_catalog(*posts)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Any

from syndicator.core.catalog import Catalog
from syndicator.core.markup import slugify
from syndicator.model import Author
from syndicator.model import Post
from syndicator.model import Term

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def terms(*names: str) -> tuple[Term, ...]:
    return tuple(Term(slugify(name), name) for name in names)


@dataclass(frozen=True)
class Html:
    """Post text given as ready HTML."""

    summary_html: str
    content_html: str

    @property
    def key(self) -> tuple[object, ...]:
        return (self.summary_html, self.content_html)


def make_post(slug: str = "post", **overrides: Any) -> Post:
    date = overrides.pop("date", datetime(2025, 6, 1, 10, 0, tzinfo=UTC))
    categories = overrides.pop("categories", ())
    text = Html(
        overrides.pop("summary_html", "<p>Summary.</p>"), overrides.pop("content_html", "<p>Summary.</p>\n<p>More.</p>")
    )
    base = Post(
        path=f"posts/{slug}.md",
        slug=slug,
        id=f"tag:example.org,{date.date().isoformat()}:/posts/{slug}",
        title=slug.replace("-", " ").title(),
        date=date,
        updated=date,
        author=Author("Writer", slug="writer"),
        categories=terms(*categories),
        tags=(),
        text=text,
    )
    return replace(base, **overrides)


def make_catalog(*posts: Post, now: datetime = NOW) -> Catalog:
    return Catalog.build(posts, now)
