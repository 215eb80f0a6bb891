"""Render every feed of a catalog to bytes: Atom and RSS (feedgen), JSON Feed and OPML.

Pure and deterministic: the same catalog and settings give the same bytes. No I/O.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr

from feedgen.feed import FeedGenerator

from syndicator import __version__
from syndicator.catalog import Catalog
from syndicator.config import Settings
from syndicator.markup import plain_text
from syndicator.markup import xml_legal
from syndicator.model import Post

# The `updated` of a feed with no entries: fixed, so that empty feeds are byte-stable too.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
FORMATS = ("atom", "rss", "json")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What one feed (in every format) is about: its path stem, title, page and posts."""

    stem: str  # "all" or "category/<slug>"
    title: str
    description: str
    page_url: str
    posts: tuple[Post, ...]


def feed_url(settings: Settings, stem: str, fmt: str) -> str:
    return f"{settings.base_url}/feeds/{stem}.{fmt}"


def category_page_url(settings: Settings, slug: str) -> str:
    return f"{settings.base_url}/category/{slug}/"


def post_url(settings: Settings, post: Post) -> str:
    return f"{settings.base_url}/posts/{post.slug}/"


def feed_specs(catalog: Catalog, settings: Settings) -> list[FeedSpec]:
    """The feeds a catalog has: the site-wide one, then one per category."""
    site_title = xml_legal(settings.site_title)[0]
    specs = [FeedSpec("all", site_title, f"Every post of {site_title}", f"{settings.base_url}/", catalog.posts)]
    for slug, category in catalog.categories.items():
        specs.append(
            FeedSpec(
                stem=f"category/{slug}",
                title=f"{site_title} — {category.name}",
                description=f"Posts filed under {category.name} on {site_title}",
                page_url=category_page_url(settings, slug),
                posts=category.posts,
            )
        )
    return specs


def _newest_updated(posts: Iterable[Post]) -> datetime:
    return max((p.updated for p in posts), default=EMPTY_FEED_UPDATED)


def _feed_generator(spec: FeedSpec, entries: tuple[Post, ...], catalog: Catalog, settings: Settings) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(f"tag:{settings.authority},2000:/feeds/{spec.stem}.atom")
    fg.title(spec.title)
    fg.subtitle(spec.description)
    fg.language(settings.language)
    fg.generator("Syndicator", version=__version__)
    updated = _newest_updated(entries)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    fg.link(href=feed_url(settings, spec.stem, "atom"), rel="self", type="application/atom+xml")
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    for post in entries:
        _add_entry(fg, post, catalog, settings)
    return fg


def _add_entry(fg: FeedGenerator, post: Post, catalog: Catalog, settings: Settings) -> None:
    url = post_url(settings, post)
    fe = fg.add_entry(order="append")
    fe.id(post.id)
    fe.guid(post.id, permalink=post.id == url)
    fe.title(post.title)
    fe.link(href=url, rel="alternate", type="text/html")
    fe.published(post.date)
    fe.updated(post.updated)
    author = {"name": post.author.name}
    if post.author.email:
        author["email"] = post.author.email
    if post.author.uri:
        author["uri"] = post.author.uri
    fe.author(author)
    fe.dc.dc_creator(post.author.name)
    for term in post.categories:
        fe.category(term=term.slug, label=catalog.name_of(term), scheme=f"{settings.base_url}/category/")
    for term in post.tags:
        fe.category(term=term.slug, label=term.name, scheme=f"{settings.base_url}/tag/")
    fe.summary(post.summary_html, type="html")
    if settings.full_content:
        fe.content(post.content_html, type="html")


def render_atom(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    fg = _feed_generator(spec, spec.posts[: settings.feed_size], catalog, settings)
    return bytes(fg.atom_str(pretty=True, encoding="UTF-8"))


def render_rss(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    fg = _feed_generator(spec, spec.posts[: settings.feed_size], catalog, settings)
    fg.link(href=feed_url(settings, spec.stem, "rss"), rel="self", type="application/rss+xml", replace=True)
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    return bytes(fg.rss_str(pretty=True, encoding="UTF-8"))


def render_json(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    items = []
    for post in spec.posts[: settings.feed_size]:
        author = {"name": post.author.name}
        if post.author.uri:
            author["url"] = post.author.uri
        item = {
            "id": post.id,
            "url": post_url(settings, post),
            "title": post.title,
            "summary": plain_text(post.summary_html),
            "content_html": post.content_html,
            "date_published": post.date.isoformat(),
            "date_modified": post.updated.isoformat(),
            "tags": [catalog.name_of(t) for t in post.categories] + [t.name for t in post.tags],
            "authors": [author],
        }
        items.append(item)
    document = {
        "version": JSON_FEED_VERSION,
        "title": spec.title,
        "description": spec.description,
        "home_page_url": spec.page_url,
        "feed_url": feed_url(settings, spec.stem, "json"),
        "language": settings.language,
        "items": items,
    }
    # No indent: the C encoder is several times faster, and readers don't care.
    return (json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def render_opml(specs: list[FeedSpec], settings: Settings) -> bytes:
    """OPML 2.0 list of every category's Atom feed."""
    newest = _newest_updated(p for spec in specs for p in spec.posts[:1])
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{escape(xml_legal(settings.site_title)[0])}</title>",
        f"    <dateModified>{format_datetime(newest)}</dateModified>",
        "  </head>",
        "  <body>",
    ]
    for spec in specs:
        if spec.stem == "all":
            continue
        lines.append(
            f'    <outline type="rss" text={quoteattr(spec.title)} title={quoteattr(spec.title)}'
            f" xmlUrl={quoteattr(feed_url(settings, spec.stem, 'atom'))} htmlUrl={quoteattr(spec.page_url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def render_spec(spec: FeedSpec, catalog: Catalog, settings: Settings) -> dict[str, bytes]:
    """One feed in every format, keyed by its path under output_dir (``category/x.atom``)."""
    return {
        f"{spec.stem}.atom": render_atom(spec, catalog, settings),
        f"{spec.stem}.rss": render_rss(spec, catalog, settings),
        f"{spec.stem}.json": render_json(spec, catalog, settings),
    }


def spec_key(spec: FeedSpec, catalog: Catalog, settings: Settings) -> tuple[object, ...]:
    """Everything a feed's bytes depend on, for comparison in memory (cheap: unchanged posts are the same objects)."""
    entries = spec.posts[: settings.feed_size]
    labels = tuple(catalog.name_of(t) for post in entries for t in post.categories)
    return (spec.stem, spec.title, spec.description, spec.page_url, entries, labels)


@functools.lru_cache(maxsize=8)
def _settings_fingerprint(settings: Settings) -> str:
    return f"{__version__} {settings!r}"


def spec_digest(spec: FeedSpec, catalog: Catalog, settings: Settings) -> str:
    """A stable digest of everything a feed's bytes depend on, to recognise unchanged feeds across runs."""
    digest = hashlib.sha256()
    parts: list[object] = [_settings_fingerprint(settings), spec.stem, spec.title, spec.description, spec.page_url]
    for post in spec.posts[: settings.feed_size]:
        parts += [post.id, post.slug, post.title, post.date.isoformat(), post.updated.isoformat(), repr(post.author)]
        parts += [(t.slug, catalog.name_of(t)) for t in post.categories] + [(t.slug, t.name) for t in post.tags]
        parts += list(post.text.key)
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def render_feeds(catalog: Catalog, settings: Settings) -> dict[str, bytes]:
    """Every feed file of the catalog, keyed by its path under output_dir (``category/x.atom``)."""
    specs = feed_specs(catalog, settings)
    files = {}
    for spec in specs:
        files.update(render_spec(spec, catalog, settings))
    files["index.opml"] = render_opml(specs, settings)
    return files
