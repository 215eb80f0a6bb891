"""An export's posts and pages as the files they will be: front matter, converted body, media, unique slugs and ids.

No I/O.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from syndicator.core.markup import slugify
from syndicator.core.slugs import slug_as_written
from syndicator.core.urls import split_url
from syndicator.importers.content import convert
from syndicator.importers.content import plain_title
from syndicator.importers.context import Attachment
from syndicator.importers.context import Enclosure
from syndicator.importers.context import Library
from syndicator.importers.items import ImportReport
from syndicator.importers.items import PlannedPost
from syndicator.importers.wxr import Export
from syndicator.importers.wxr import Item
from syndicator.importers.wxr import Term
from syndicator.importers.wxr import decode

ZERO_DATE = "0000-00-00 00:00:00"
WANTED = ("post", "page")
_QUERY_ID = re.compile(r"[?&](?:p|page_id)=(\d+)(?:&|#|$)")
_MAX_PAGE_DEPTH = 20


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def identified(raw: Item) -> Item:
    """The item with its WordPress id: ``wp:post_id``, else the ``?p=``/``?page_id=`` of its link or guid."""
    if raw.post_id.isdigit():
        return raw
    for url in (raw.link, raw.guid):
        if found := _QUERY_ID.search(url):
            return dataclasses.replace(raw, post_id=found.group(1))
    return raw


@dataclass(frozen=True, slots=True)
class Site:
    """What every post of one export is read against (looked up once, not per post)."""

    wxr: Export
    items: tuple[Item, ...]  # every item, with its id where one could be found
    library: Library
    term_slugs: dict[tuple[str, str], str]  # (taxonomy, casefolded name) -> WordPress slug
    pages: dict[int, Item]  # every page, by id: the parents of a page's path

    @classmethod
    def of(cls, wxr: Export) -> Site:
        items = tuple(identified(i) for i in wxr.items)
        numbered = [i for i in items if i.post_id.isdigit()]
        attachments = {
            int(i.post_id): Attachment(
                int(i.post_id),
                i.attachment_url,
                decode(i.meta_value("_wp_attachment_image_alt")),
                i.excerpt.strip(),
                _number(i.post_parent),
                _number(i.menu_order),
            )
            for i in numbered
            if i.post_type == "attachment"
        }
        reusable = {int(i.post_id): i.content for i in numbered if i.post_type == "wp_block"}
        return cls(
            wxr,
            items,
            Library(attachments, reusable),
            {(t.taxonomy, t.name.casefold()): t.slug for t in wxr.terms.values()},
            {int(i.post_id): i for i in numbered if i.post_type == "page"},
        )


def wanted(raw: Item, report: ImportReport) -> bool:
    """Posts and pages: other types and trashed or automatic items are counted as skipped."""
    if raw.post_type not in WANTED:
        report.skipped[raw.post_type] += 1
        return False
    if raw.status in ("trash", "auto-draft", "inherit"):
        report.skipped[f"{raw.status} {raw.post_type}"] += 1
        return False
    if not raw.post_id.isdigit():
        report.malformed.append(
            f"{raw.post_type} {raw.post_id or '?'} (item {raw.index + 1}): "
            "no numeric wp:post_id, and no ?p=<id> in its link or guid"
        )
        return False
    return True


def _iso(value: str, *, utc: bool) -> str | None:
    """'2011-12-22 09:30:00' -> ISO 8601 (UTC when it is a _gmt field); None for WordPress's zero date."""
    if not value or value == ZERO_DATE or not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value):
        return None
    return value.replace(" ", "T") + ("Z" if utc else "")


def _slug_of(raw: Item) -> str:
    """The item's slug: its post_name (decoded), else one made from its title, else ``post-<id>``."""
    slug = unquote(raw.post_name) or slugify(plain_title(raw.title)) or f"{raw.post_type}-{raw.post_id}"
    return slug_as_written(slug) or f"{raw.post_type}-{raw.post_id}"


def page_path(raw: Item, pages: dict[int, Item]) -> str:
    """A page's address as WordPress made it: its parents' slugs, then its own (``/parent/child/``)."""
    segments = [_slug_of(raw)]
    seen = {raw.post_id}
    parent = pages.get(_number(raw.post_parent))
    while parent is not None and parent.post_id not in seen and len(segments) < _MAX_PAGE_DEPTH:
        segments.insert(0, _slug_of(parent))
        seen.add(parent.post_id)
        parent = pages.get(_number(parent.post_parent))
    return "/" + "/".join(segments) + "/"


def make_item(raw: Item, site: Site, report: ImportReport) -> PlannedPost | None:
    """The post (or page) an item becomes; None (and a problem reported) when it has no usable date."""
    date = _iso(raw.post_date_gmt, utc=True) or _iso(raw.post_date, utc=False)
    if date is None:
        report.malformed.append(f"{raw.post_type} {raw.post_id} (item {raw.index + 1}): no usable wp:post_date")
        return None
    meta: dict[str, Any] = {"title": plain_title(raw.title) or "(no title)", "date": date}
    updated = _iso(raw.post_modified_gmt, utc=True)
    if updated is not None and updated > date:
        meta["updated"] = updated
    terms = _terms(raw, site)
    for name, taxonomy in (("categories", "category"), ("tags", "post_tag")):
        if names := [t.name for t in terms if t.taxonomy == taxonomy]:
            meta[name] = names
    if raw.creator:
        meta["author"] = site.wxr.authors.get(raw.creator, raw.creator)
    meta["slug"] = _slug_of(raw)
    # Password-protected posts become drafts: their content is never published.
    draft = raw.status in ("draft", "pending", "private") or bool(raw.password)
    content = convert(raw.content, site.library, post_id=int(raw.post_id), footnotes=raw.meta_value("footnotes"))
    item = PlannedPost(
        raw.post_id,
        int(raw.post_id),
        raw.guid,
        unquote(raw.post_name),
        raw.creator,
        terms,
        meta,
        content.html,
        date[:10],
        draft,
    )
    item.enclosures = _recorded_enclosures(raw, content.enclosures)
    item.position = raw.index + 1
    item.old_slugs = (*(unquote(v) for k, v in raw.meta if k == "_wp_old_slug" and v), *_link_slug(raw.link))
    if raw.post_type == "page":
        item.path = page_path(raw, site.pages)
        meta.update(type="page", path=item.path)
    if excerpt := raw.excerpt.strip():  # the excerpt written by hand
        item.meta["summary"] = excerpt
    _featured_image(item, raw, site.library)
    _count(item, raw, content.embeds, content.lost, content.galleries, report)
    return item


def _count(
    item: PlannedPost, raw: Item, embeds: int, lost: tuple[str, ...], galleries: int, report: ImportReport
) -> None:
    """What the summary says about one item."""
    report.drafts += item.draft
    report.scheduled += not item.draft and raw.status == "future"
    report.enclosures += len(item.enclosures)
    report.embeds += embeds
    report.galleries += galleries
    report.lost.update(lost)
    report.images += bool(item.image)
    report.comments += raw.comments
    report.sticky += raw.sticky


def _recorded_enclosures(raw: Item, found: tuple[Enclosure, ...]) -> tuple[Enclosure, ...]:
    """The content's enclosures, and those WordPress recorded in ``enclosure`` postmeta (URL, length, type)."""
    recorded: dict[str, Enclosure] = {}
    for key, value in raw.meta:
        lines = [line.strip() for line in value.splitlines()]
        if key == "enclosure" and lines and lines[0].startswith(("http://", "https://")):
            length = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0
            recorded[lines[0]] = Enclosure(lines[0], "", lines[2] if len(lines) > 2 else "", length)
    merged = [dataclasses.replace(recorded.pop(e.url, e), title=e.title) for e in found]
    return (*merged, *recorded.values())


def _terms(raw: Item, site: Site) -> tuple[Term, ...]:
    """A post's categories and tags, each once, with WordPress's slug (from the item or the export's term lists)."""
    by_name, known = site.term_slugs, site.wxr.terms
    seen: set[tuple[str, str]] = set()
    terms = []
    for term in raw.terms:
        slug = term.slug or by_name.get((term.taxonomy, term.name.casefold()), "")
        name = known[(term.taxonomy, slug)].name if (term.taxonomy, slug) in known else term.name
        key = (term.taxonomy, slugify(name) or name.casefold())
        if key not in seen:
            seen.add(key)
            terms.append(Term(term.taxonomy, slug, name))
    return tuple(terms)


def _featured_image(item: PlannedPost, raw: Item, library: Library) -> None:
    """``_thumbnail_id`` names an attachment: its URL becomes the post's image."""
    thumbnail = raw.meta_value("_thumbnail_id")
    attachment = library.attachments.get(int(thumbnail)) if thumbnail.isdigit() else None
    if attachment is None or not attachment.url:
        return
    item.image = attachment.url
    item.image_alt = attachment.alt


def settle_keys(items: list[PlannedPost]) -> None:
    """Items repeating a wp:post_id are all kept: the n-th gets the record key "<id>-<n>"."""
    seen: Counter[int] = Counter()
    for item in items:
        seen[item.post_id] += 1
        if seen[item.post_id] > 1:
            item.key = f"{item.post_id}-{seen[item.post_id]}"


def unique_slugs(
    items: list[PlannedPost],
    report: ImportReport,
    taken: Mapping[str, Collection[str]] | None = None,
    written: Mapping[str, str] | None = None,
) -> None:
    """Two posts sharing a slug: as WordPress does, the first keeps it and the next get -2, -3...

    Published posts come first, then drafts, each in post-id order, then pages (whose
    address is their path), so a draft or a page never takes a published post's slug.
    ``taken``: the slugs of the posts already in posts_dir that no import's record names, each
    with the ids of the files holding it: a new post does not take one held by a file of
    another id (a file of its own id is its own, from an import whose record was lost).
    ``written``: the slugs of the files earlier imports wrote, by record key: a post imported
    before keeps its slug, or the ``-N`` it was given, so that importing again moves no post.
    """
    taken, written = taken or {}, written or {}
    native = {item.slug for item in items} | set(taken)
    assigned: set[str] = set()
    for item in sorted(items, key=lambda i: (i.is_page, i.draft, i.post_id)):
        slug = item.slug
        kept = written.get(item.key, "") if not item.is_page else ""
        if kept and kept not in assigned and (kept == slug or _numbered(kept, slug)):
            item.meta["slug"] = kept
        elif slug in assigned or (not kept and bool(set(taken.get(slug, ())) - {item.id}) and not item.is_page):
            number = 2
            while f"{slug}-{number}" in native or f"{slug}-{number}" in assigned:
                number += 1
            item.meta["slug"] = f"{slug}-{number}"
        if item.slug != slug:
            report.renamed.append((slug, item.slug, item.post_id))
        assigned.add(item.slug)


def _numbered(slug: str, base: str) -> bool:
    """Whether ``slug`` is ``base`` with a number after it (``markup-2``), as a second post of a slug is named."""
    return slug.startswith(f"{base}-") and slug[len(base) + 1 :].isdigit()


def settle_guids(items: list[PlannedPost]) -> None:
    """Keep each guid as the post's id; of two posts sharing one, the lower post id keeps it."""
    owners: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.post_id):
        if not item.guid:
            continue
        if item.guid in owners:
            item.id = f"{item.guid}#wp-{item.key}"
        else:
            owners[item.guid] = item.post_id
            item.id = item.guid


def _link_slug(link: str) -> tuple[str, ...]:
    """The last segment of an item's ``<link>`` path (its address on WordPress), when it has one: the link may name
    the post by a slug its ``post_name`` no longer is."""
    last = unquote(split_url(link).path.rstrip("/").rpartition("/")[2])
    return (last,) if last and not last.isdigit() else ()
