"""One-line test data: make_post(**overrides), make_catalog(*posts), post_text(**fields), WordPress exports."""

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


def wxr_item(post_id: int, date: str = "2020-01-01 10:00:00", content: str = "Hi.", **fields: str) -> str:
    """One WordPress post as an export's <item>; ``fields`` adds or replaces wp: elements (post_date_gmt=...)."""
    wp = {"post_id": str(post_id), "post_date": date, "post_date_gmt": date, "post_name": f"post-{post_id}"}
    wp |= {"post_type": "post", "status": "publish", **fields}
    elements = "".join(f"<wp:{name}>{value}</wp:{name}>" for name, value in wp.items())
    return (
        f"<item><title>Post {post_id}</title><guid>http://blog.example.org/?p={post_id}</guid>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded>{elements}</item>"
    )


def wxr_export(*items: str) -> str:
    """A WXR 1.2 export of blog.example.org holding these items."""
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><link>http://blog.example.org</link>'
        f"<wp:wxr_version>1.2</wp:wxr_version>{''.join(items)}</channel></rss>"
    )


def post_text(title: str = "A post", date: str = "2025-06-01T10:00:00Z", body: str = "Hello.\n", **fields: Any) -> str:
    """The text of a post file with the given front matter fields (YAML flow values)."""
    lines = ["---", f"title: {title!r}" if title is not None else "", f"date: {date}" if date is not None else ""]
    for key, value in fields.items():
        lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(line for line in lines if line) + "\n" + body


# A post for partners only, each of whose words (zebra, quagga, okapi, q7x) a public surface must never show.
BRIEFING = post_text(
    title="Zebra Briefing",
    date="2026-02-01T10:00:00Z",
    body="Quagga figures for partners.\n\nContinue reading\n\nThe rest of the quagga story.\n",
    categories="[Zebra Desk, Tajikistan]",
    tags="[q7x-tag]",
    author="Zed Okapi",
    visibility="partners",
)
