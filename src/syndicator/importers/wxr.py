"""Read a WordPress export (WXR) into plain values: its namespaces, authors, terms and items.

The XML is parsed with defusedxml (no entity expansion, no external entities). The
``wp:`` namespace is taken from the file, as WordPress's own importer does, so
exports from WordPress.com (``https://wordpress.org/export/1.2/``) and from every
self-hosted release (``http://wordpress.org/export/1.0/`` to ``1.2/``) read alike.
Knows XML, not posts: deciding what an item becomes is the importer's job.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException
from defusedxml import DTDForbidden
from defusedxml import EntitiesForbidden
from defusedxml import ExternalReferenceForbidden

from syndicator.core.namespaces import content
from syndicator.core.namespaces import dc

CONTENT_NS = content.URI
DC_NS = dc.URI
_WP_NS = re.compile(r"https?://wordpress\.org/export/\d+\.\d+/?")
_TAXONOMY = {"category": "category", "post_tag": "post_tag", "tag": "post_tag"}  # WXR 1.0 wrote tags as "tag"


class WXRError(Exception):
    """The export cannot be read at all (not XML, unsafe XML, not a WordPress export)."""


@dataclass(frozen=True, slots=True)
class Term:
    """A category or tag: its WordPress taxonomy, slug (nicename) and display name."""

    taxonomy: str  # "category" or "post_tag"
    slug: str
    name: str
    parent: str = ""  # the parent category's slug
    description: str = ""
    id: str = ""  # WordPress's term id (``?cat=<id>``), when the channel's list gives it


@dataclass(frozen=True, slots=True)
class Item:
    """One ``<item>`` of the export, its fields as text (empty when missing)."""

    index: int  # position in the export
    post_id: str
    post_type: str
    status: str
    title: str
    guid: str
    link: str
    creator: str
    content: str
    excerpt: str
    post_date: str
    post_date_gmt: str
    post_modified_gmt: str
    post_name: str
    password: str
    attachment_url: str
    terms: tuple[Term, ...]
    meta: tuple[tuple[str, str], ...]  # wp:postmeta (key, value), in order
    post_parent: str = ""
    menu_order: str = ""
    sticky: bool = False
    comments: int = 0

    def meta_value(self, key: str) -> str:
        return next((value for k, value in self.meta if k == key), "")


@dataclass(frozen=True, slots=True)
class Export:
    """What an export holds."""

    version: str
    site_urls: tuple[str, ...]  # wp:base_site_url, wp:base_blog_url, the channel link
    authors: dict[str, str]  # author_login -> display name
    terms: dict[tuple[str, str], Term]  # (taxonomy, slug) -> the channel's term list
    items: tuple[Item, ...]
    author_ids: dict[str, str] = field(default_factory=dict)  # author_login -> WordPress's user id (``?author=``)


@dataclass(frozen=True, slots=True)
class _Names:
    """The namespaces of one export, as ElementTree's ``{uri}`` prefixes."""

    wp: str
    excerpt: str
    content: str
    dc: str


def decode(text: str) -> str:
    """Decode HTML entities once (WordPress stores term names and some titles escaped): ``&amp;`` -> ``&``."""
    return html.unescape(text)


def _parse(export: Path) -> tuple[Element, dict[str, str]]:
    """The document's root and its namespace prefixes (prefix -> URI, the first declaration of each)."""
    prefixes: dict[str, str] = {}
    try:
        events = SafeElementTree.iterparse(str(export), events=("start-ns",))
        for _event, (prefix, uri) in events:
            prefixes.setdefault(prefix, uri)
    except DefusedXmlException as exc:
        raise WXRError(f"{export}: refusing unsafe XML: {_unsafe(exc)}") from exc
    except ParseError as exc:
        raise WXRError(f"{export}: not well-formed XML: {exc}") from exc
    except OSError as exc:
        raise WXRError(f"{export}: {exc.strerror}") from exc
    root: Element = events.root
    return root, prefixes


def _names(root: Element, prefixes: dict[str, str]) -> _Names | None:
    """Take the wp namespace from the file: the URI of prefix ``wp``, else any WordPress export URI in use."""
    wp = prefixes.get("wp")
    if wp is None:
        wp = next((uri for uri in prefixes.values() if _WP_NS.fullmatch(uri)), None)
    if wp is None:
        return None
    excerpt = prefixes.get("excerpt") or wp.rstrip("/") + "/excerpt/"
    return _Names(
        f"{{{wp}}}", f"{{{excerpt}}}", f"{{{prefixes.get('content', CONTENT_NS)}}}", f"{{{prefixes.get('dc', DC_NS)}}}"
    )


def _text(element: Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def read_wxr(export: Path) -> Export:
    """Read the export; raise WXRError when it is no WordPress export."""
    root, prefixes = _parse(export)
    channel = root.find("channel")
    names = _names(root, prefixes)
    version = _text(channel, f"{names.wp}wxr_version") if channel is not None and names else ""
    if root.tag != "rss" or channel is None or names is None or not re.fullmatch(r"\d+\.\d+", version):
        raise WXRError(f"{export}: not a WordPress export (WXR 1.0 to 1.2)")
    w = names.wp
    site_urls = [_text(channel, f"{w}base_site_url"), _text(channel, f"{w}base_blog_url"), _text(channel, "link")]
    authors = {
        _text(a, f"{w}author_login"): decode(_text(a, f"{w}author_display_name") or _text(a, f"{w}author_login"))
        for a in channel.findall(f"{w}author")
    }
    ids = {_text(a, f"{w}author_login"): _text(a, f"{w}author_id") for a in channel.findall(f"{w}author")}
    items = tuple(_item(index, element, names) for index, element in enumerate(channel.findall("item")))
    urls = tuple(dict.fromkeys(u for u in site_urls if u))
    return Export(version, urls, authors, _channel_terms(channel, w), items, {k: v for k, v in ids.items() if v})


def _channel_terms(channel: Element, w: str) -> dict[tuple[str, str], Term]:
    """The export's lists of categories, tags and terms (any of them may be missing)."""
    found: list[Term] = []
    for element in channel.findall(f"{w}category"):
        found.append(_term(element, w, "category", "category_nicename cat_name category_parent category_description"))
    for element in channel.findall(f"{w}tag"):
        found.append(_term(element, w, "post_tag", "tag_slug tag_name - tag_description"))
    for element in channel.findall(f"{w}term"):
        taxonomy = _TAXONOMY.get(_text(element, f"{w}term_taxonomy"))
        if taxonomy is not None:
            found.append(_term(element, w, taxonomy, "term_slug term_name term_parent term_description"))
    terms: dict[tuple[str, str], Term] = {}
    for term in found:
        if term.slug and term.name:
            decoded = Term(term.taxonomy, term.slug, decode(term.name), term.parent, decode(term.description), term.id)
            terms.setdefault((term.taxonomy, term.slug), decoded)
    return terms


def _term(element: Element, w: str, taxonomy: str, tags: str) -> Term:
    """A term of the channel's lists from its slug, name, parent and description elements ("-": none), and id."""
    slug, name, parent, description = (_text(element, f"{w}{tag}") if tag != "-" else "" for tag in tags.split())
    return Term(taxonomy, slug, name, parent, description, _text(element, f"{w}term_id"))


def _item_terms(element: Element) -> tuple[Term, ...]:
    terms = []
    for category in element.findall("category"):
        taxonomy = _TAXONOMY.get(category.get("domain") or "category")  # RSS 2.0: a plain <category> is one
        name = decode((category.text or "").strip())
        if taxonomy is not None and name:
            terms.append(Term(taxonomy, (category.get("nicename") or "").strip(), name))
    return tuple(terms)


def _item(index: int, element: Element, names: _Names) -> Item:
    w = names.wp
    meta = tuple(
        (_text(m, f"{w}meta_key"), (m.findtext(f"{w}meta_value") or "").strip())
        for m in element.findall(f"{w}postmeta")
    )
    return Item(
        index=index,
        post_id=_text(element, f"{w}post_id"),
        post_type=_text(element, f"{w}post_type") or "post",
        status=_text(element, f"{w}status") or "publish",
        title=_text(element, "title"),
        guid=_text(element, "guid"),
        link=_text(element, "link"),
        creator=_text(element, f"{names.dc}creator"),
        content=element.findtext(f"{names.content}encoded") or "",
        excerpt=element.findtext(f"{names.excerpt}encoded") or "",
        post_date=_text(element, f"{w}post_date"),
        post_date_gmt=_text(element, f"{w}post_date_gmt"),
        post_modified_gmt=_text(element, f"{w}post_modified_gmt"),
        post_name=_text(element, f"{w}post_name"),
        password=_text(element, f"{w}post_password"),
        attachment_url=_text(element, f"{w}attachment_url"),
        terms=_item_terms(element),
        meta=meta,
        post_parent=_text(element, f"{w}post_parent"),
        menu_order=_text(element, f"{w}menu_order"),
        sticky=_text(element, f"{w}is_sticky") == "1",
        comments=len(element.findall(f"{w}comment")),
    )


def _unsafe(exc: DefusedXmlException) -> str:
    """What makes an export unsafe to read, in a sentence (WordPress's exports declare no entity and no DTD)."""
    name = getattr(exc, "name", None)
    where = getattr(exc, "sysid", None)
    if isinstance(exc, EntitiesForbidden):
        named = f" {name!r}" if name else ""
        return f"it declares the entity{named}" + (f" (from {where})" if where else "") + ", which an export never does"
    if isinstance(exc, DTDForbidden):
        return "it declares a document type (DTD), which an export never does"
    if isinstance(exc, ExternalReferenceForbidden):
        return f"it refers to an outside resource ({where})" if where else "it refers to an outside resource"
    return type(exc).__name__
