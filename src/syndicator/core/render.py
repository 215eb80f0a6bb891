"""Documents from a spec and its entries' bytes: Atom and RSS (feedgen), JSON Feed and OPML; and each entry.

Renderers take entries, already serialized; they never look them up. An entry
is one post's Atom entry, RSS item or JSON item, made once and joined into
every document that shows the post. Deterministic: the same input gives the
same bytes. No I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.assets import site_image_urls
from syndicator.core.catalog import Catalog
from syndicator.core.episode import episode_audio
from syndicator.core.history import whole_second
from syndicator.core.markup import xml_legal
from syndicator.core.markup import xml_quoteattr
from syndicator.core.namespaces import add_to_entry
from syndicator.core.namespaces import add_to_feed
from syndicator.core.namespaces import entry_opening
from syndicator.core.namespaces import stand_in
from syndicator.core.namespaces.atom import ATOM_FEED
from syndicator.core.namespaces.atom import links_as_given
from syndicator.core.namespaces.history import archive_links
from syndicator.core.opml import opml
from syndicator.core.partnerview import as_partners_see
from syndicator.core.plan import FeedSpec
from syndicator.core.plan import feed_specs
from syndicator.core.summary import summary_text
from syndicator.core.summary import timeline_html
from syndicator.core.urls import OPML
from syndicator.core.urls import feed_url
from syndicator.core.urls import post_url
from syndicator.model import Enclosure
from syndicator.model import Post

# The `updated` of a feed with no entries: fixed, so that empty feeds are byte-stable too.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# An entry is serialized under a stand-in root declaring the namespaces its document's root does; the
# declarations lxml repeats on the entry are then dropped, since the document's root carries them.
_OPENINGS = {fmt: entry_opening(fmt) for fmt in ("atom", "rss", "podcast")}
_BARE = {"atom": b"<entry", "rss": b"<item", "podcast": b"<item"}
# Stand for a post's summary and content HTML while its entry is serialized: lxml escaping ten kilobytes of HTML,
# and the references made of its escapes, cost four times what writing the HTML in afterwards does.
_MARKS = ("\ue000", "\ue001")
_MARK_BYTES = tuple(mark.encode("utf-8") for mark in _MARKS)
FEED_STYLESHEET = "/static/feed.css"  # under site_url: the stylesheet of Atom and RSS documents, for browsers
_ITEMS = "\0items\0"  # stands for the list of items (no feed text can hold a NUL: it is not XML-legal)
Entries = Mapping[str, Sequence[bytes]]  # format -> the spec's posts' entries, in its order


def _newest_updated(posts: Iterable[Post]) -> datetime:
    return max((p.updated for p in posts), default=EMPTY_FEED_UPDATED)


def _feed_generator(spec: FeedSpec, settings: Settings) -> FeedGenerator:
    """A feed's own elements, without its entries (joined in by the renderers)."""
    entries = spec.posts
    fg = FeedGenerator()
    add_to_feed(fg, spec, settings)
    fg.id(f"tag:{settings.authority},2000:{spec.prefix}{spec.stem}.atom")  # a partner feed is another feed
    fg.title(spec.title)
    fg.subtitle(spec.description)
    show = spec.show
    fg.language(show.language if show is not None and show.language else settings.language)
    fg.generator("Syndicator", version=__version__)
    rights = show.copyright if show is not None and show.copyright else settings.site_rights
    if rights:
        fg.rights(xml_legal(rights)[0])  # Atom rights and RSS copyright
    stones = max((t.when for t in spec.tombstones), default=EMPTY_FEED_UPDATED)
    updated = max(_newest_updated(entries), stones, spec.settled or EMPTY_FEED_UPDATED)
    fg.updated(whole_second(updated))
    fg.lastBuildDate(whole_second(updated))
    # The alternate link first: some readers (feed-extractor) take a feed's first link as its site.
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    fg.link(href=feed_url(settings, spec.stem, "atom", spec.prefix), rel="self", type=ATOM_FEED)
    for rel, href in archive_links(spec, settings):
        fg.link(href=href, rel=rel, type=ATOM_FEED)
    if spec.is_public:  # archive pages too: a page is a document of the feed's topic set (partner feeds have none)
        fg.link(href=settings.hub_url, rel="hub")
    _site_images(fg, settings)
    return fg


def _site_images(fg: FeedGenerator, settings: Settings) -> None:
    images = site_image_urls(settings)
    if "site_icon" in images:
        fg.icon(images["site_icon"])
    if "site_logo" in images:
        fg.logo(images["site_logo"])  # Atom logo and RSS image


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


def as_element_text(html: str) -> bytes:
    """Text as lxml writes it in an element, with ``_text_as_character_references``'s references: in one pass.

    (lxml writes a carriage return as ``&#13;``; ``&``, ``<`` and ``>`` are written as references.)
    """
    text = html.encode("utf-8")
    text = text.replace(b"&", b"&#x26;").replace(b"<", b"&#x3C;").replace(b">", b"&#x3E;")
    return text.replace(b"\r", b"&#13;") if b"\r" in text else text


def _named_entities(tag: re.Match[bytes]) -> bytes:
    return tag.group().replace(b"&#x26;", b"&amp;").replace(b"&#x3C;", b"&lt;").replace(b"&#x3E;", b"&gt;")


def _make_entry(
    post: Post, labels: tuple[str, ...], settings: Settings, fmt: str, html: tuple[str, str]
) -> tuple[FeedEntry, bool]:
    """A post's feedgen entry in a format, with its namespaces' parts; whether one writes a prefixed namespace.

    ``html``: the text of its summary and content elements (the HTML, or marks standing for it).
    RSS's <author> is an address (feedgen writes one for an e-mail), and
    readers show it whole ("zoe@example.org (Zoë)"): RSS items name their
    author with dc:creator only. A category's term and label are both its
    displayed name (most readers show only the term, as WordPress writes it);
    its scheme is the taxonomy's base URL.
    """
    url = post_url(settings, post)
    fe = FeedEntry()
    fe.id(post.id)
    fe.guid(post.id, permalink=post.id == url)
    fe.title(post.title)
    fe.link(href=url, rel="alternate", type="text/html")
    fe.published(whole_second(post.date))
    fe.updated(whole_second(post.updated))
    author = {"name": post.author.name}
    if post.author.email and fmt == "atom":
        author["email"] = post.author.email
    if post.author.uri:
        author["uri"] = post.author.uri
    fe.author(author)
    for label in labels:
        fe.category(term=label, label=label, scheme=f"{settings.base_url}/category/")
    for term in post.tags:
        fe.category(term=term.name, label=term.name, scheme=f"{settings.base_url}/tag/")
    fe.summary(html[0], type="html")
    if settings.full_content:
        fe.content(html[1], type="html")
    # RSS allows one enclosure, and requires its length (0: unknown); a podcast's is the episode's audio.
    first = episode_audio(post) if fmt == "podcast" else post.enclosures[0] if post.enclosures else None
    if first is not None and fmt != "atom":
        fe.link(href=first.url, rel="enclosure", type=first.media_type, length=str(first.length))
    return fe, add_to_entry(fe, post, fmt)


def _html(post: Post, settings: Settings) -> tuple[str, str]:
    """A post's summary HTML and, with ``full_content``, its content HTML (else "")."""
    return post.summary_html, post.content_html if settings.full_content else ""


def atom_entry(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's Atom entry, serialized (``labels``: its categories' displayed names)."""
    return _entry(post, labels, settings, "atom")


def rss_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's RSS item, serialized without the namespace declarations its channel carries."""
    return _entry(post, labels, settings, "rss")


def _entry(post: Post, labels: tuple[str, ...], settings: Settings, fmt: str) -> bytes:
    """An entry or item, its summary and content written in after the rest is serialized (``_MARKS``).

    Should a mark be found elsewhere in the entry (in a title, say), the
    whole entry is serialized with its HTML in it instead: the same bytes.
    """
    html = _html(post, settings)
    marks = tuple(_MARKS[n] if text else "" for n, text in enumerate(html))
    blob = _serialized_entry(post, labels, settings, fmt, (marks[0], marks[1]))
    for mark, text in zip(_MARK_BYTES, html, strict=True):
        if text:
            if blob.count(mark) != 1:
                return _serialized_entry(post, labels, settings, fmt, html)
            blob = blob.replace(mark, as_element_text(text))
    return blob


def _serialized_entry(
    post: Post, labels: tuple[str, ...], settings: Settings, fmt: str, html: tuple[str, str]
) -> bytes:
    """An entry or item as bytes (the stand-in root declares the prefixed namespaces its parts write)."""
    fe, prefixed = _make_entry(post, labels, settings, fmt, html)
    element = fe.atom_entry() if fmt == "atom" else fe.rss_entry()
    if fmt == "atom":
        links_as_given(element, fe.link())
    if prefixed:
        stand_in(fmt).append(element)
    return _serialized(element, _OPENINGS[fmt], _BARE[fmt])


def podcast_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's item in a podcast's RSS, with its episode's tags; empty for a post without audio (no episode)."""
    if episode_audio(post) is None:
        return b""
    return _entry(post, labels, settings, "podcast")


def _serialized(element: etree._Element, opening: bytes, bare: bytes) -> bytes:
    """An entry or item as bytes, its opening tag without the namespace declarations its document carries."""
    blob = etree.tostring(element, encoding="UTF-8", pretty_print=True)
    if blob.startswith(opening):
        blob = bare + blob[len(opening) :]
    return _text_as_character_references(blob)


def json_item(post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    author = {"name": post.author.name}
    if post.author.uri:
        author["url"] = post.author.uri
    summary, content = _html(post, settings)
    # "author" is JSON Feed 1.0's (deprecated in 1.1, kept so 1.0 readers such as atoma find one).
    item = {
        "id": post.id,
        "url": post_url(settings, post),
        "title": post.title,
        "summary": summary_text(post.summary_html),
        # the full post with full_content, else the summary, as Atom and RSS (an item needs one: with the summary
        # left empty by a marker on the body's first line, the link to the post)
        "content_html": content or summary or timeline_html("", post_url(settings, post), post.title),
        "date_published": whole_second(post.date).isoformat(),
        "date_modified": whole_second(post.updated).isoformat(),
        "tags": list(labels) + [t.name for t in post.tags],
        "authors": [author],
        "author": author,
    }
    if post.license:  # a JSON Feed extension (README, "Partner-grade changes")
        item["_license"] = {"url": post.license}
    if post.image is not None:
        item["image"] = post.image.url
    if post.enclosures:
        item["attachments"] = [_attachment(enclosure) for enclosure in post.enclosures]
    return json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _attachment(enclosure: Enclosure) -> dict[str, str | int]:
    """An enclosure as a JSON Feed attachment."""
    found: dict[str, str | int] = {"url": enclosure.url, "mime_type": enclosure.media_type}
    if enclosure.length:
        found["size_in_bytes"] = enclosure.length
    if enclosure.title:
        found["title"] = enclosure.title
    if enclosure.duration:
        found["duration_in_seconds"] = round(enclosure.duration)
    return found


ENTRY_MAKERS = {"atom": atom_entry, "rss": rss_item, "podcast": podcast_item, "json": json_item}


def entry(fmt: str, post: Post, labels: tuple[str, ...], settings: Settings) -> bytes:
    """A post's entry in one format: "atom", "rss", "podcast" (a podcast's RSS item) or "json".

    One for partners only names its partner addresses.
    """
    return ENTRY_MAKERS[fmt](as_partners_see(post, settings), labels, settings)


def _with_stylesheet(document: bytes, settings: Settings) -> bytes:
    """The document with a CSS stylesheet after its XML declaration: what a browser shows a person opening it.

    CSS, not XSLT (which current browsers are dropping); feed readers ignore the instruction.
    """
    declaration, newline, rest = document.partition(b"\n")
    href = xml_quoteattr(f"{settings.base_url}{FEED_STYLESHEET}").encode("utf-8")
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
    images = site_image_urls(settings)
    if "site_logo" not in images and "site_icon" in images:
        fg.image(url=images["site_icon"])  # RSS's image is small: the icon does without a logo
    # feedgen's RSS <link> is the last link given, and it writes only the self one as atom:link.
    fg.link(
        href=feed_url(settings, spec.stem, "rss", spec.prefix), rel="self", type="application/rss+xml", replace=True
    )
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
        "feed_url": feed_url(settings, spec.stem, "json", spec.prefix),
        "hubs": [{"type": "WebSub", "url": settings.hub_url}],
        "language": settings.language,
        "items": [_ITEMS],
    }
    if not spec.is_public:
        del document["hubs"]
    images = site_image_urls(settings)
    if "site_icon" in images:
        document["favicon"] = images["site_icon"]
    if images:
        document["icon"] = images.get("site_icon") or images["site_logo"]
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
        f"{spec.stem}.rss": [b"".join(rss_parts(spec, entries[rss_format(spec)], settings))],
        f"{spec.stem}.json": [json_document(spec, entries["json"], settings)],
    }


def rss_format(spec: FeedSpec) -> str:
    """The entry format of a feed's RSS items: a podcast's (``podcast``), or plain ``rss``."""
    return "podcast" if spec.show is not None else "rss"


def formats_of(spec: FeedSpec) -> tuple[str, ...]:
    """The entry formats a spec's documents need."""
    return ("atom",) if spec.is_archive else ("atom", rss_format(spec), "json")


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
