"""Render every feed of a catalog to bytes: Atom and RSS (feedgen), JSON Feed and OPML.

Deterministic: the same catalog and settings give the same bytes. No I/O. Each
post's entry is serialized once and kept in a cache, and ``prerender`` may build
a cold build's entries half in a forked copy of the process (see ``forked``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator import CODE_FINGERPRINT
from syndicator import __version__
from syndicator.catalog import TAXONOMIES
from syndicator.catalog import Catalog
from syndicator.config import Settings
from syndicator.forked import Forked
from syndicator.forked import can_fork
from syndicator.markup import plain_text
from syndicator.markup import xml_legal
from syndicator.model import Post

# The `updated` of a feed with no entries: fixed, so that empty feeds are byte-stable too.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
FORMATS = ("atom", "rss", "json")
FH_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed file set to render: a feed (in every format) or one of its archive pages (Atom).

    ``posts`` are the entries it shows, newest first. A feed has ``page`` 0 and
    ``pages`` archive pages (0 when all its posts fit in it); archive page
    ``page`` (1 = oldest) belongs to the feed ``feed_stem``.
    """

    stem: str  # "all", "category/<slug>", "archive/<n>", "category/<slug>/archive/<n>"
    title: str
    description: str
    page_url: str
    posts: tuple[Post, ...]
    feed_stem: str = ""
    page: int = 0
    pages: int = 0

    @property
    def is_archive(self) -> bool:
        return self.page > 0

    @property
    def is_full_archive(self) -> bool:
        """An archive page with a newer page after it: its entries no longer change with new posts."""
        return self.is_archive and self.page < self.pages

    @property
    def links(self) -> tuple[int, int | bool]:
        """What its history links depend on: a feed's page count; a page's number and whether a newer one exists."""
        return (self.page, self.is_full_archive) if self.is_archive else (self.page, self.pages)


def archive_stem(feed_stem: str, page: int) -> str:
    """/feeds/archive/<n> for the site-wide feed, /feeds/<feed>/archive/<n> for the others."""
    return f"archive/{page}" if feed_stem == "all" else f"{feed_stem}/archive/{page}"


def _with_archives(
    stem: str, title: str, description: str, page_url: str, posts: tuple[Post, ...], settings: Settings
) -> list[FeedSpec]:
    """A feed of the newest posts, plus RFC 5005 archive pages when they do not all fit.

    Page 1 holds the oldest archive_page_size posts, page 2 the next ones, and
    so on; every post is on exactly one page, those still in the feed included.
    """
    if len(posts) <= settings.feed_size:
        return [FeedSpec(stem, title, description, page_url, posts, stem)]
    size = settings.archive_page_size
    oldest_first = posts[::-1]
    pages = -(-len(posts) // size)
    specs = [FeedSpec(stem, title, description, page_url, posts[: settings.feed_size], stem, 0, pages)]
    for page in range(1, pages + 1):
        entries = oldest_first[(page - 1) * size : page * size][::-1]
        specs.append(
            FeedSpec(
                archive_stem(stem, page),
                f"{title} (archive page {page})",
                description,
                page_url,
                entries,
                stem,
                page,
                pages,
            )
        )
    return specs


_pages: dict[str, tuple[tuple[object, ...], tuple[Post, ...], list[FeedSpec]]] = {}


def _with_archives_once(
    stem: str, title: str, description: str, page_url: str, posts: tuple[Post, ...], settings: Settings, fp: str
) -> list[FeedSpec]:
    """``_with_archives``, again only when the feed's posts tuple (or its title...) is not the last one's.

    A reload that edits one post keeps every other group's tuple: only the
    edited post's feeds are paged again.
    """
    head = (title, description, page_url, fp)
    known = _pages.get(stem)
    if known is not None and known[1] is posts and known[0] == head:
        return known[2]
    specs = _with_archives(stem, title, description, page_url, posts, settings)
    _pages[stem] = (head, posts, specs)
    return specs


def feed_url(settings: Settings, stem: str, fmt: str) -> str:
    return f"{settings.base_url}/feeds/{stem}.{fmt}"


def taxonomy_page_url(settings: Settings, kind: str, slug: str) -> str:
    return f"{settings.base_url}/{kind}/{slug}/"


def post_url(settings: Settings, post: Post) -> str:
    return f"{settings.base_url}/posts/{post.slug}/"


def feed_specs(catalog: Catalog, settings: Settings) -> list[FeedSpec]:
    """The feeds a catalog has (the site-wide one, then one per category), each with its archive pages."""
    site_title = xml_legal(settings.site_title)[0]
    fp = _settings_fingerprint(settings)
    specs = list(
        _with_archives_once(
            "all", site_title, f"Every post of {site_title}", f"{settings.base_url}/", catalog.posts, settings, fp
        )
    )
    for kind in TAXONOMIES:
        for slug, group in catalog.taxonomy(kind).items():
            title, description = _TITLES[kind]
            specs += _with_archives_once(
                f"{kind}/{slug}",
                title.format(site=site_title, name=group.name),
                description.format(site=site_title, name=group.name),
                taxonomy_page_url(settings, kind, slug),
                group.posts,
                settings,
                fp,
            )
    return specs


_TITLES = {
    "category": ("{site} — {name}", "Posts filed under {name} on {site}"),
    "tag": ("{site} — tagged {name}", "Posts tagged {name} on {site}"),
    "author": ("{site} — by {name}", "Posts by {name} on {site}"),
}


class _History:
    """feedgen extension: RFC 5005 markers (fh:complete, fh:archive) and, in RSS, atom:link relations."""

    def __init__(self) -> None:
        self.marker = ""
        self.rss_links: list[tuple[str, str, str]] = []  # (rel, href, type)

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.marker:
            etree.SubElement(feed, f"{{{FH_NS}}}{self.marker}")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        for rel, href, media_type in self.rss_links:
            link = etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
            if media_type:
                link.set("type", media_type)
        if self.marker:
            etree.SubElement(channel, f"{{{FH_NS}}}{self.marker}")
        return rss


def _newest_updated(posts: Iterable[Post]) -> datetime:
    return max((p.updated for p in posts), default=EMPTY_FEED_UPDATED)


def _feed_generator(spec: FeedSpec, settings: Settings) -> FeedGenerator:
    """A feed's own elements, without its entries (joined in by the renderers)."""
    entries = spec.posts
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("history", _History, atom=True, rss=True)
    fg.id(f"tag:{settings.authority},2000:/feeds/{spec.stem}.atom")
    fg.title(spec.title)
    fg.subtitle(spec.description)
    fg.language(settings.language)
    fg.generator("Syndicator", version=__version__)
    updated = _newest_updated(entries)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    # The alternate link first: some readers (feed-extractor) take a feed's first link as its site.
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    fg.link(href=feed_url(settings, spec.stem, "atom"), rel="self", type="application/atom+xml")
    history: _History = fg.history
    links: list[tuple[str, str]] = []
    if spec.is_archive:
        history.marker = "archive"
        links.append(("current", feed_url(settings, spec.feed_stem, "atom")))
        if spec.page > 1:
            links.append(("prev-archive", feed_url(settings, archive_stem(spec.feed_stem, spec.page - 1), "atom")))
        if spec.page < spec.pages:
            links.append(("next-archive", feed_url(settings, archive_stem(spec.feed_stem, spec.page + 1), "atom")))
    elif spec.pages:
        links.append(("prev-archive", feed_url(settings, archive_stem(spec.stem, spec.pages), "atom")))
    else:
        history.marker = "complete"
    for rel, href in links:
        fg.link(href=href, rel=rel, type="application/atom+xml")
    history.rss_links = [(rel, href, "application/atom+xml") for rel, href in links]
    fg.link(href=settings.hub_url, rel="hub")  # archive pages too: a page is a document of the feed's topic set
    history.rss_links.insert(0, (("hub", settings.hub_url, "")))
    return fg


_ENTRY_CACHE_SIZE = 20_000
# Atom entries are in every archive page; RSS and JSON items only in the feeds' newest posts.
_CACHE_SIZES = {"atom": _ENTRY_CACHE_SIZE, "rss": 2_000, "json": 2_000}
_entries: dict[str, OrderedDict[tuple[object, ...], bytes]] = {fmt: OrderedDict() for fmt in _CACHE_SIZES}
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
# An RSS item is serialized under a stand-in <rss> with the namespaces feedgen's <rss> declares; the
# declarations lxml repeats on the item are then dropped, since the document's root carries them.
_RSS_NSMAP = {"content": CONTENT_NS, "dc": DC_NS, "atom": ATOM_NS}
_RSS_ITEM_OPENING = etree.tostring(etree.SubElement(etree.Element("rss", nsmap=_RSS_NSMAP), "item")).rstrip(b"/>")


# A tag whose attribute values _text_as_character_references changed back (lxml escapes < and > there too).
_TAG_WITH_REFERENCES = re.compile(rb"<[^<>]*&#x(?:26|3C|3E);[^<>]*>")


def _text_as_character_references(xml: bytes) -> bytes:
    """The same XML with ``&``, ``<`` and ``>`` in element text written ``&#x26;``, ``&#x3C;``, ``&#x3E;``.

    Some readers (@rowanmanning/feed-parser, feed-extractor) decode named
    entities twice, so ``&amp;amp;`` shows as "&" and an escaped ``&lt;code&gt;``
    becomes an element; character references are decoded once by all of them.
    Attribute values keep the named entities: those readers leave references
    there. (Replacing everywhere, then mending the few tags, is twice as fast as
    finding the text between the tags.)
    """
    xml = xml.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;").replace(b"&gt;", b"&#x3E;")
    return _TAG_WITH_REFERENCES.sub(_named_entities, xml)


def _named_entities(tag: re.Match[bytes]) -> bytes:
    return tag.group().replace(b"&#x26;", b"&amp;").replace(b"&#x3C;", b"&lt;").replace(b"&#x3E;", b"&gt;")


def _labels(post: Post, catalog: Catalog) -> tuple[str, ...]:
    """The displayed names of a post's categories: its entries' labels."""
    return tuple(catalog.name_of(t) for t in post.categories)


def _entry_bytes(fmt: str, post: Post, catalog: Catalog, settings: Settings) -> bytes:
    """A post's serialized Atom entry, RSS item or JSON item, built once per process (the newest are kept).

    A post shows up in the site-wide feed, its categories', tags' and author's
    feeds and all their archive pages: building its entry once, instead of in
    every document, is what makes complete archives affordable.
    """
    labels = _labels(post, catalog)
    key = (post, labels, _settings_fingerprint(settings))
    cache = _entries[fmt]
    blob = cache.get(key)
    if blob is None:
        if fmt == "json":
            blob = _json_item(post, labels, settings)
        elif fmt == "atom":
            entry = _make_entry(post, labels, settings, with_email=True)
            blob = etree.tostring(entry.atom_entry(), encoding="UTF-8", pretty_print=True)
        else:
            item = _make_entry(post, labels, settings, with_email=False).rss_entry()
            etree.Element("rss", nsmap=_RSS_NSMAP).append(item)
            blob = etree.tostring(item, encoding="UTF-8", pretty_print=True)
            if blob.startswith(_RSS_ITEM_OPENING):
                blob = b"<item" + blob[len(_RSS_ITEM_OPENING) :]
        if fmt != "json":
            blob = _text_as_character_references(blob)
        cache[key] = blob
        if len(cache) > _CACHE_SIZES[fmt]:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return blob


PARALLEL_ENTRIES_FROM = 2000  # Atom entries to build at once before a second process helps


def prerender(specs: list[FeedSpec], catalog: Catalog, settings: Settings) -> None:
    """Build the Atom entries these feeds need and are not built yet, half of them in a forked copy.

    Building entries is most of a cold build's rendering; the feeds are then
    put together from the entry cache. Only when they all fit in the cache.
    """
    fp = _settings_fingerprint(settings)
    cache = _entries["atom"]
    wanted: dict[Post, None] = {}
    for spec in specs:
        wanted.update(dict.fromkeys(spec.posts))
    missing = [post for post in wanted if (post, _labels(post, catalog), fp) not in cache]
    if not (PARALLEL_ENTRIES_FROM <= len(missing) <= _CACHE_SIZES["atom"]) or not can_fork():
        return
    half = len(missing) // 2
    theirs = missing[half:]
    child = Forked(lambda: [_entry_bytes("atom", post, catalog, settings) for post in theirs])
    for post in missing[:half]:
        _entry_bytes("atom", post, catalog, settings)
    for post, blob in zip(theirs, child.result(), strict=True):
        cache[(post, _labels(post, catalog), fp)] = blob  # the key _entry_bytes looks up


def _make_entry(post: Post, labels: tuple[str, ...], settings: Settings, *, with_email: bool) -> FeedEntry:
    """A post's feedgen entry; ``with_email`` False for RSS, where an e-mail makes feedgen write <author>.

    RSS's <author> is an address, and readers show it whole ("zoe@example.org
    (Zoë)"): RSS items name their author with dc:creator only. A category's
    term and label are both its displayed name (most readers show only the
    term, as WordPress writes it); its scheme is the taxonomy's base URL.
    """
    url = post_url(settings, post)
    fe = FeedEntry()
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)  # load_extension tries an import per entry
    fe.id(post.id)
    fe.guid(post.id, permalink=post.id == url)
    fe.title(post.title)
    fe.link(href=url, rel="alternate", type="text/html")
    fe.published(post.date)
    fe.updated(post.updated)
    author = {"name": post.author.name}
    if post.author.email and with_email:
        author["email"] = post.author.email
    if post.author.uri:
        author["uri"] = post.author.uri
    fe.author(author)
    fe.dc.dc_creator(post.author.name)
    for label in labels:
        fe.category(term=label, label=label, scheme=f"{settings.base_url}/category/")
    for term in post.tags:
        fe.category(term=term.name, label=term.name, scheme=f"{settings.base_url}/tag/")
    fe.summary(post.summary_html, type="html")
    if settings.full_content:
        fe.content(post.content_html, type="html")
    return fe


def atom_parts(spec: FeedSpec, catalog: Catalog, settings: Settings) -> list[bytes]:
    """An Atom document as [head, *entries, tail]: feedgen writes the feed's own elements, the entries are cached."""
    fg = _feed_generator(spec, settings)
    document = _text_as_character_references(bytes(fg.atom_str(pretty=True, encoding="UTF-8")))
    head, end, tail = document.rpartition(b"</feed>")
    return [head, *(_entry_bytes("atom", post, catalog, settings) for post in spec.posts), end + tail]


def rss_parts(spec: FeedSpec, catalog: Catalog, settings: Settings) -> list[bytes]:
    """An RSS document as [head, *items, tail], likewise."""
    fg = _feed_generator(spec, settings)
    # feedgen's RSS <link> is the last link given, and it writes only the self one as atom:link.
    fg.link(href=feed_url(settings, spec.stem, "rss"), rel="self", type="application/rss+xml", replace=True)
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    document = _text_as_character_references(bytes(fg.rss_str(pretty=True, encoding="UTF-8")))
    head, end, tail = document.rpartition(b"</channel>")
    opening = head.rstrip(b" ")  # items start on a line of their own, like Atom's entries
    items = (_entry_bytes("rss", post, catalog, settings) for post in spec.posts)
    return [opening, *items, head[len(opening) :] + end + tail]


def render_atom(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    return b"".join(atom_parts(spec, catalog, settings))


def render_rss(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    return b"".join(rss_parts(spec, catalog, settings))


def _json_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    author = {"name": post.author.name}
    if post.author.uri:
        author["url"] = post.author.uri
    # "author" is JSON Feed 1.0's (deprecated in 1.1, kept so 1.0 readers such as atoma find one).
    item = {
        "id": post.id,
        "url": post_url(settings, post),
        "title": post.title,
        "summary": plain_text(post.summary_html),
        "content_html": post.content_html,
        "date_published": post.date.isoformat(),
        "date_modified": post.updated.isoformat(),
        "tags": list(labels) + [t.name for t in post.tags],
        "authors": [author],
        "author": author,
    }
    return json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")


_ITEMS = "\0items\0"  # stands for the list of items (no feed text can hold a NUL: it is not XML-legal)


def render_json(spec: FeedSpec, catalog: Catalog, settings: Settings) -> bytes:
    """JSON Feed 1.1; the (cached) items are joined into the document where its placeholder list is."""
    document = {
        "version": JSON_FEED_VERSION,
        "title": spec.title,
        "description": spec.description,
        "home_page_url": spec.page_url,
        "feed_url": feed_url(settings, spec.stem, "json"),
        "hubs": [{"type": "WebSub", "url": settings.hub_url}],
        "language": settings.language,
        "items": [_ITEMS],
    }
    # No indent: the C encoder is several times faster, and readers don't care.
    head, _items, tail = (
        json.dumps(document, ensure_ascii=False, sort_keys=True)
        .encode("utf-8")
        .partition(json.dumps(_ITEMS).encode("utf-8"))
    )
    items = b", ".join(_entry_bytes("json", post, catalog, settings) for post in spec.posts)
    return head + items + tail + b"\n"


_opml: list[tuple[tuple[object, ...], bytes]] = []  # the last OPML and what it was made of


def render_opml(specs: list[FeedSpec], settings: Settings) -> bytes:
    """OPML 2.0 list of every category's Atom feed (the last one again while its inputs are the same)."""
    newest = _newest_updated(p for spec in specs for p in spec.posts[:1])
    listed = tuple((s.stem, s.title, s.page_url) for s in specs if not s.is_archive)
    key = (_settings_fingerprint(settings), newest, listed)
    if _opml and _opml[0][0] == key:
        return _opml[0][1]
    _opml[:] = [(key, _render_opml(specs, settings, newest))]
    return _opml[0][1]


def _render_opml(specs: list[FeedSpec], settings: Settings, newest: datetime) -> bytes:
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
        if spec.stem == "all" or spec.is_archive:
            continue
        lines.append(
            f'    <outline type="rss" text={quoteattr(spec.title)} title={quoteattr(spec.title)}'
            f" xmlUrl={quoteattr(feed_url(settings, spec.stem, 'atom'))} htmlUrl={quoteattr(spec.page_url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def spec_paths(spec: FeedSpec) -> list[str]:
    """The files a spec renders to, under output_dir."""
    return [f"{spec.stem}.atom"] if spec.is_archive else [f"{spec.stem}.{fmt}" for fmt in FORMATS]


def render_spec_parts(spec: FeedSpec, catalog: Catalog, settings: Settings) -> dict[str, list[bytes]]:
    """One feed in every format (an archive page: Atom), keyed by path under output_dir (``category/x.atom``).

    Each file comes as the parts it is joined from: an archive page as [head,
    *entries, tail] (its entries are in other pages too, so their compressed
    forms are reused), a feed as [document] (compressed whole: it is fetched
    far more often, so its smaller gzip is worth the time).
    """
    if spec.is_archive:
        return {f"{spec.stem}.atom": atom_parts(spec, catalog, settings)}
    return {
        f"{spec.stem}.atom": [render_atom(spec, catalog, settings)],
        f"{spec.stem}.rss": [render_rss(spec, catalog, settings)],
        f"{spec.stem}.json": [render_json(spec, catalog, settings)],
    }


def render_spec(spec: FeedSpec, catalog: Catalog, settings: Settings) -> dict[str, bytes]:
    """One feed in every format, keyed by path under output_dir, as bytes."""
    return {path: b"".join(parts) for path, parts in render_spec_parts(spec, catalog, settings).items()}


_names_of: list[tuple[Catalog, tuple[tuple[str, str], ...]]] = []


def _category_names(catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """Every category's displayed name, computed once per catalog (entries show them as labels).

    While the names stay the same, the same tuple is returned: keys that hold it
    then compare by identity, not once per feed over every category.
    """
    if not _names_of or _names_of[0][0] is not catalog:
        names = tuple((slug, c.name) for slug, c in catalog.categories.items())
        if _names_of and _names_of[0][1] == names:
            names = _names_of[0][1]
        _names_of[:] = [(catalog, names)]
    return _names_of[0][1]


def spec_key(spec: FeedSpec, catalog: Catalog) -> tuple[object, ...]:
    """Everything a feed's bytes depend on, for comparison in memory (cheap: unchanged posts are the same objects).

    A change of any category's displayed name counts as a change of every feed (it is rare).
    """
    return (spec.stem, spec.title, spec.description, spec.page_url, spec.posts, _category_names(catalog), spec.links)


@functools.lru_cache(maxsize=8)
def _settings_fingerprint(settings: Settings) -> str:
    return f"{CODE_FINGERPRINT} {settings!r}"


_post_digests: dict[tuple[Post, tuple[str, ...]], bytes] = {}


def _post_digest(post: Post, catalog: Catalog) -> bytes:
    """A stable digest of what a post's entry is made of (once per post: it is in many feeds)."""
    labels = _labels(post, catalog)
    key = (post, labels)
    digest = _post_digests.get(key)
    if digest is None:
        if len(_post_digests) > 4 * _ENTRY_CACHE_SIZE:
            _post_digests.clear()
        parts = (
            post.id,
            post.slug,
            post.title,
            post.date.isoformat(),
            post.updated.isoformat(),
            repr(post.author),
            [t.slug for t in post.categories],
            labels,
            [(t.slug, t.name) for t in post.tags],
            post.text.key,
        )
        digest = _post_digests[key] = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).digest()
    return digest


def spec_digest(spec: FeedSpec, catalog: Catalog, settings: Settings) -> str:
    """A stable digest of everything a feed's bytes depend on, to recognise unchanged feeds across runs."""
    head = (_settings_fingerprint(settings), spec.stem, spec.title, spec.description, spec.page_url, spec.links)
    digest = hashlib.sha256(repr(head).encode("utf-8", "surrogatepass"))
    for post in spec.posts:
        digest.update(_post_digest(post, catalog))
    return digest.hexdigest()


def render_feeds(catalog: Catalog, settings: Settings) -> dict[str, bytes]:
    """Every feed file of the catalog, keyed by its path under output_dir (``category/x.atom``)."""
    specs = feed_specs(catalog, settings)
    files = {}
    for spec in specs:
        files.update(render_spec(spec, catalog, settings))
    files["index.opml"] = render_opml(specs, settings)
    return files
