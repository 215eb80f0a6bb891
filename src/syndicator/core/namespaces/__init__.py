"""The XML namespaces our feeds carry beyond Atom's and RSS's own, one module each, and the registry of them.

Each module (as feedgen's ``ext/`` and feedparser's ``namespaces/`` have it)
holds its namespace's prefix and URI beside the feedgen extensions that write
its elements. Everything else is derived from NAMESPACES: the declarations of
each document's root (its feed parts' ``extend_ns``, in this order) and the
stand-in root each entry is serialized under. Adding a namespace (podcast,
ActivityStreams) is one module here, its line below, and the post fields it
reads. A podcast's RSS is a third kind of document (``podcast``): an RSS
feed whose items carry the podcast namespaces as well. No I/O.
"""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator.config import Settings
from syndicator.core.namespaces import atom
from syndicator.core.namespaces import content
from syndicator.core.namespaces import dc
from syndicator.core.namespaces import history
from syndicator.core.namespaces import itunes
from syndicator.core.namespaces import media
from syndicator.core.namespaces import podcast
from syndicator.core.namespaces import tombstones
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.model import Post

# In this order: the roots' declarations, then the extensions' elements (an RSS channel's atom:links before fh:*).
NAMESPACES: tuple[Namespace, ...] = (
    dc.NAMESPACE,
    atom.NAMESPACE,
    history.NAMESPACE,
    media.NAMESPACE,
    tombstones.NAMESPACE,
    content.NAMESPACE,
    itunes.NAMESPACE,
    podcast.NAMESPACE,
)
ROOTS = {"atom": "feed", "rss": "rss", "podcast": "rss"}  # each format's document element
ENTRIES = {"atom": "entry", "rss": "item", "podcast": "item"}  # and its entries'


def add_to_feed(fg: FeedGenerator, spec: FeedSpec, settings: Settings) -> None:
    """Give a document its namespaces' feed parts, told what the document shows."""
    for ns in NAMESPACES:
        if ns.feed is not None:
            fg.register_extension(ns.name, ns.feed, None, atom=ns.atom, rss=ns.rss)
            getattr(fg, ns.name).take(spec, settings)


def add_to_entry(fe: FeedEntry, post: Post, fmt: str) -> bool:
    """Give a post's entry in a format the entry parts of the namespaces it has elements of, told what it shows.

    Whether one of them writes a prefixed namespace: the entry is then serialized under ``stand_in(fmt)``.
    """
    prefixed = False
    for ns in NAMESPACES:
        if ns.entry is not None and ns.runs_in(fmt) and ns.entry.wanted(post):
            fe.register_extension(ns.name, ns.entry, atom=ns.atom, rss=ns.rss)
            getattr(fe, ns.name).take(post)
            prefixed = prefixed or ns.writes_in(fmt)
    return prefixed


def stand_in(fmt: str) -> etree._Element:
    """An empty document element of a format, declaring every namespace its entries may write.

    An entry appended to it has its namespaced elements take the prefixes
    documents declare (lxml maps them by URI); serialized, it repeats them.
    """
    return etree.Element(ROOTS[fmt], nsmap=_ENTRY_NAMESPACES[fmt])


def entry_opening(fmt: str) -> bytes:
    """How an entry's start tag begins when serialized under its stand-in root: with the namespaces it declares."""
    return bytes(etree.tostring(etree.SubElement(stand_in(fmt), ENTRIES[fmt]))).rstrip(b"/>")


_ENTRY_NAMESPACES = {fmt: {ns.prefix: ns.uri for ns in NAMESPACES if ns.writes_in(fmt)} for fmt in ROOTS}
