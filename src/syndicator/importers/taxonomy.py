"""What the config file learns from an import: redirects from the old slugs, and the category table.

The ``[redirects]`` entries map WordPress's category, tag and author slugs, post,
category and author ids (digits), old post slugs and attachments' slugs to the
slugs here. The ``[categories]`` table keeps what WordPress knew of a category
beyond its name: its parent (the category tree, for
``/category/<parent>/<child>/``) and its description.

No I/O.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from urllib.parse import unquote

from syndicator.config import ConfigError
from syndicator.configtables import check_redirect
from syndicator.core.markup import slugify
from syndicator.importers.items import PlannedPost
from syndicator.importers.wxr import Export
from syndicator.importers.wxr import Term


def redirects(items: list[PlannedPost], wxr: Export) -> dict[str, dict[str, str]]:
    """The old slugs that differ from the new ones, per kind, every post's and page's WordPress id, and each
    attachment's id and slug with the post it was uploaded to."""
    table: dict[str, dict[str, str]] = {"category": {}, "tag": {}, "author": {}, "post": {}}

    def add(kind: str, old: str, new: str) -> None:
        if old and new and old != new and old not in table[kind]:
            try:
                check_redirect(kind, old, new, "import")
            except ConfigError:
                return
            table[kind][old] = new

    slugs = {item.slug for item in items}
    for item in sorted(items, key=lambda i: (i.post_id, i.key)):
        for term in item.terms:
            add("category" if term.taxonomy == "category" else "tag", unquote(term.slug), slugify(term.name))
        if item.login:
            author = slugify(wxr.authors.get(item.login, item.login)) or "anonymous"
            add("author", item.login, author)
            add("author", slugify(item.login), author)
        add("post", str(item.post_id), item.slug)
        for old in (item.old_slug, *item.old_slugs):
            if not old.isdigit() and old not in slugs:
                add("post", old, item.slug)
    for kind, old, new in [*_ids(items, wxr), *_attachments(items, wxr)]:  # after the slugs: theirs are kept
        add(kind, old, new)
    return {kind: entries for kind, entries in table.items() if entries}


def _ids(items: list[PlannedPost], wxr: Export) -> list[tuple[str, str, str]]:
    """WordPress's ids of the imported posts' categories and authors (``?cat=<id>``, ``?author=<id>``): (kind, id,
    slug here)."""
    found = []
    for item in sorted(items, key=lambda i: (i.post_id, i.key)):
        for term in item.terms:
            listed = wxr.terms.get((term.taxonomy, term.slug)) if term.taxonomy == "category" else None
            if listed is not None and listed.id.isdigit():
                found.append(("category", listed.id, slugify(term.name)))
        author_id = wxr.author_ids.get(item.login, "")
        if author_id.isdigit():
            found.append(("author", author_id, slugify(wxr.authors.get(item.login, item.login)) or "anonymous"))
    return found


def _attachments(items: list[PlannedPost], wxr: Export) -> list[tuple[str, str, str]]:
    """An attachment's page leads to the post it was uploaded to, for each attachment of a published post: by its
    id (``?attachment_id=<id>``, ``?p=<id>``) and by its slug (``<the post's permalink>/<slug>/``, WordPress's
    address of the page, whose last segment old permalinks are read by), unless a post or page here has that slug.
    ("post", the id or slug, the post's slug here)."""
    by_id = {str(item.post_id): item.slug for item in items if not item.draft}
    slugs = {item.slug for item in items}
    found = []
    for raw in wxr.items:
        if raw.post_type != "attachment" or raw.post_parent not in by_id:
            continue
        if raw.post_id.isdigit():
            found.append(("post", raw.post_id, by_id[raw.post_parent]))
        name = unquote(raw.post_name)
        if name and not name.isdigit() and name not in slugs:
            found.append(("post", name, by_id[raw.post_parent]))
    return found


def categories(items: list[PlannedPost], wxr: Export) -> dict[str, dict[str, str]]:
    """The imported posts' categories (and their ancestors) that have a parent or a description.

    Keys and parents are the slugs here (of the categories' names); the
    description is WordPress's, as text.
    """
    by_slug = {t.slug: t for t in wxr.terms.values() if t.taxonomy == "category"}
    wanted: dict[str, Term] = {}
    for item in items:
        for term in item.terms:
            found = by_slug.get(term.slug) if term.taxonomy == "category" else None
            while found is not None and found.slug not in wanted and len(wanted) < len(by_slug):
                wanted[found.slug] = found
                found = by_slug.get(found.parent)
    table: dict[str, dict[str, str]] = {}
    for term in wanted.values():
        entry = {}
        parent = by_slug.get(term.parent)
        if parent is not None and slugify(parent.name) and slugify(parent.name) != slugify(term.name):
            entry["parent"] = slugify(parent.name)
        if term.description.strip():
            entry["description"] = term.description.strip()
        slug = slugify(term.name)
        if entry and slug and slug not in table:
            table[slug] = entry
    return dict(sorted(table.items()))


def distinct_category_names(wxr: Export) -> Export:
    """The export with each category WordPress shows under a name another category has too (``Foo A`` at the top
    and under ``Foo Parent``) named apart, since names that give one slug are one category here.

    The one whose WordPress slug is its name's keeps the name (else the top-level one, else the first listed); each
    other is named with its parent's name, ``Foo A (Foo Parent)``, which gives the slug WordPress gave it
    (``foo-a-foo-parent``), or with its own WordPress slug when that is taken too.
    """
    groups: defaultdict[str, list[Term]] = defaultdict(list)
    for term in wxr.terms.values():
        if term.taxonomy == "category":
            groups[slugify(term.name)].append(term)
    taken = set(groups)
    renamed: dict[tuple[str, str], Term] = {}
    for slug, group in groups.items():
        if len(group) < 2 or not slug:
            continue
        keeper = next((t for t in group if t.slug == slug), None) or next((t for t in group if not t.parent), group[0])
        for term in group:
            parent = wxr.terms.get(("category", term.parent))
            names = [f"{term.name} ({parent.name})" if parent is not None else "", f"{term.name} ({term.slug})"]
            name = next((n for n in names if n and slugify(n) not in taken), "")
            if term is not keeper and name:
                taken.add(slugify(name))
                renamed[("category", term.slug)] = dataclasses.replace(term, name=name)
    return dataclasses.replace(wxr, terms={**wxr.terms, **renamed}) if renamed else wxr
