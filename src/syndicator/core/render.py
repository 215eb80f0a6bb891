"""Documents from a spec and its entries' bytes: Atom and RSS (feedgen), JSON Feed and OPML; and each entry.

Renderers take entries, already serialized; they never look them up. An entry
is one post's Atom entry, RSS item or JSON item, made once and joined into
every document that shows the post. Deterministic: the same input gives the
same bytes. No I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.markup import plain_text
from syndicator.core.markup import xml_legal
from syndicator.core.plan import OPML
from syndicator.core.plan import FeedSpec
from syndicator.core.plan import archive_stem
from syndicator.core.plan import feed_specs
from syndicator.core.plan import feed_url
from syndicator.core.plan import post_url
from syndicator.model import Post

# The `updated` of a feed with no entries: fixed, so that empty feeds are byte-stable too.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
FH_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# An RSS item is serialized under a stand-in <rss> with the namespaces feedgen's <rss> declares; the
# declarations lxml repeats on the item are then dropped, since the document's root carries them.
_RSS_NSMAP = {"content": CONTENT_NS, "dc": DC_NS, "atom": ATOM_NS}
_RSS_ITEM_OPENING = etree.tostring(etree.SubElement(etree.Element("rss", nsmap=_RSS_NSMAP), "item")).rstrip(b"/>")
FEED_STYLESHEET = "/static/feed.css"  # under site_url: the stylesheet of Atom and RSS documents, for browsers
_ITEMS = "\0items\0"  # stands for the list of items (no feed text can hold a NUL: it is not XML-legal)
Entries = Mapping[str, Sequence[bytes]]  # format -> the spec's posts' entries, in its order
EntryMaker = Callable[[str, Post], bytes]  # (format, post) -> its entry


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


def atom_entry(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's Atom entry, serialized (``labels``: its categories' displayed names)."""
    entry = _make_entry(post, labels, settings, with_email=True)
    return _text_as_character_references(etree.tostring(entry.atom_entry(), encoding="UTF-8", pretty_print=True))


def rss_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's RSS item, serialized without the namespace declarations its channel carries."""
    item = _make_entry(post, labels, settings, with_email=False).rss_entry()
    etree.Element("rss", nsmap=_RSS_NSMAP).append(item)
    blob = etree.tostring(item, encoding="UTF-8", pretty_print=True)
    if blob.startswith(_RSS_ITEM_OPENING):
        blob = b"<item" + blob[len(_RSS_ITEM_OPENING) :]
    return _text_as_character_references(blob)


def json_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
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


ENTRY_MAKERS = {"atom": atom_entry, "rss": rss_item, "json": json_item}


def entry(fmt: str, post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's entry in one format: "atom", "rss" or "json"."""
    return ENTRY_MAKERS[fmt](post, labels, settings)


def _with_stylesheet(document: bytes, settings: Settings) -> bytes:
    """The document with a CSS stylesheet after its XML declaration: what a browser shows a person opening it.

    CSS, not XSLT (which current browsers are dropping); feed readers ignore the instruction.
    """
    declaration, newline, rest = document.partition(b"\n")
    href = quoteattr(f"{settings.base_url}{FEED_STYLESHEET}").encode("utf-8")
    return b'%s%s<?xml-stylesheet type="text/css" href=%s?>\n%s' % (declaration, newline, href, rest)


def atom_parts(spec: FeedSpec, entries: Sequence[bytes], settings: Settings) -> list[bytes]:
    """An Atom document as [head, *entries, tail]: feedgen writes the feed's own elements."""
    fg = _feed_generator(spec, settings)
    document = _text_as_character_references(bytes(fg.atom_str(pretty=True, encoding="UTF-8")))
    document = _with_stylesheet(document, settings)
    head, end, tail = document.rpartition(b"</feed>")
    return [head, *entries, end + tail]


def rss_parts(spec: FeedSpec, items: Sequence[bytes], settings: Settings) -> list[bytes]:
    """An RSS document as [head, *items, tail], likewise."""
    fg = _feed_generator(spec, settings)
    # feedgen's RSS <link> is the last link given, and it writes only the self one as atom:link.
    fg.link(href=feed_url(settings, spec.stem, "rss"), rel="self", type="application/rss+xml", replace=True)
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    document = _text_as_character_references(bytes(fg.rss_str(pretty=True, encoding="UTF-8")))
    document = _with_stylesheet(document, settings)
    head, end, tail = document.rpartition(b"</channel>")
    opening = head.rstrip(b" ")  # items start on a line of their own, like Atom's entries
    return [opening, *items, head[len(opening) :] + end + tail]


def json_document(spec: FeedSpec, items: Sequence[bytes], settings: Settings) -> bytes:
    """JSON Feed 1.1; the items are joined into the document where its placeholder list is."""
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
    return head + b", ".join(items) + tail + b"\n"


def document_parts(spec: FeedSpec, entries: Entries, settings: Settings) -> dict[str, list[bytes]]:
    """One feed in every format (an archive page: Atom), keyed by path under output_dir (``category/x.atom``).

    ``entries`` holds the spec's posts' entries per format (only "atom" for an
    archive page). Each file comes as the parts it is joined from: an archive
    page as [head, *entries, tail] (its entries are in other pages too, so
    their compressed forms are reused), a feed as [document] (compressed whole:
    it is fetched far more often, so its smaller gzip is worth the time).
    """
    atom = atom_parts(spec, entries["atom"], settings)
    if spec.is_archive:
        return {f"{spec.stem}.atom": atom}
    return {
        f"{spec.stem}.atom": [b"".join(atom)],
        f"{spec.stem}.rss": [b"".join(rss_parts(spec, entries["rss"], settings))],
        f"{spec.stem}.json": [json_document(spec, entries["json"], settings)],
    }


def formats_of(spec: FeedSpec) -> tuple[str, ...]:
    """The entry formats a spec's documents need."""
    return ("atom",) if spec.is_archive else ("atom", "rss", "json")


def opml_newest(specs: Iterable[FeedSpec]) -> datetime:
    """The OPML's dateModified: the newest first entry of any feed."""
    return _newest_updated(p for spec in specs for p in spec.posts[:1])


def opml(specs: Sequence[FeedSpec], settings: Settings) -> bytes:
    """OPML 2.0 list of every category's, tag's and author's Atom feed."""
    return _render_opml(specs, settings, opml_newest(specs))


def _render_opml(specs: Sequence[FeedSpec], settings: Settings, newest: datetime) -> bytes:
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


def render_feeds(catalog: Catalog, settings: Settings) -> dict[str, bytes]:
    """Every feed file of the catalog, keyed by its path under output_dir (``category/x.atom``).

    The builder does the same through its memos; this is the whole of it at once.
    """
    specs = feed_specs(catalog, settings)
    files = {}
    for spec in specs:
        entries = {
            fmt: [entry(fmt, post, catalog.labels(post), settings) for post in spec.posts] for fmt in formats_of(spec)
        }
        files.update({path: b"".join(parts) for path, parts in document_parts(spec, entries, settings).items()})
    files[OPML] = opml(specs, settings)
    return files
