"""Links inside imported posts to the old site, made links to the new one.

A link to one of the old site's posts or pages (by its permalink, a dated or
bare slug, ``?p=``, ``?page_id=`` or ``/archives/<id>``) becomes the new post's
``/posts/<slug>/`` or the page's path; one to a category, tag or author page
becomes ``/category/<slug>/``, ``/tag/<slug>/`` or ``/author/<slug>/``; one to
an attachment page becomes the attached file's URL (brought over with the rest
of the uploads by ``--media``). Only what was imported and is published is
linked to: any other link is left as it is. The new links are root-relative,
so they hold whatever ``site_url`` is.

No I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import unquote

from syndicator.core.markup import slugify
from syndicator.core.urls import archive_base
from syndicator.core.urls import post_path
from syndicator.core.urls import split_url
from syndicator.importers.items import PlannedPost
from syndicator.importers.wxr import Export
from syndicator.importers.wxr import Item

_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_QUERY_KINDS = ("p", "page_id", "attachment_id")
_TERM_BASES = {"category": "category", "tag": "tag", "author": "author"}
_NOT_THE_BLOG = frozenset({"wordpress.com"})  # the base_site_url of every WordPress.com export


def _host(url: str) -> str:
    host = (split_url(url).hostname or "").lower()
    return host.removeprefix("www.")


def _path_key(path: str) -> str:
    """A path as links are compared: decoded, lower case, without index.php, with one trailing slash."""
    path = unquote(path).lower()
    path = path.removeprefix("/index.php")
    return "/" + "/".join(s for s in path.split("/") if s) + "/"


@dataclass
class OldSite:
    """The old site's addresses that have a new one, by the form they take."""

    hosts: set[str] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)  # path key -> new URL
    ids: dict[str, str] = field(default_factory=dict)  # WordPress id -> new URL
    slugs: dict[str, str] = field(default_factory=dict)  # old post slug -> new URL
    terms: dict[tuple[str, str], str] = field(default_factory=dict)  # (base, old slug) -> new URL

    @classmethod
    def of(cls, wxr: Export, raw_items: Iterable[Item], items: list[PlannedPost]) -> OldSite:
        """What links to the old site can become, from the export and the posts and pages imported."""
        old = cls()
        old.hosts = {_host(u) for u in wxr.site_urls} - {""} - _NOT_THE_BLOG
        links = {item.index + 1: item for item in raw_items}
        for item in items:
            if not item.draft:
                old.add_post(item, links.get(item.position))
        for raw in raw_items:
            if raw.post_type == "attachment" and raw.attachment_url and raw.link:
                old.paths.setdefault(_path_key(split_url(raw.link).path), raw.attachment_url)
                old.ids.setdefault(raw.post_id, raw.attachment_url)
        return old

    def add_post(self, item: PlannedPost, raw: Item | None) -> None:
        new = item.path or post_path(item.slug)
        self.ids.setdefault(str(item.post_id), new)
        for slug in (item.old_slug, *item.old_slugs):
            if slug and not item.is_page:
                self.slugs.setdefault(slug.lower(), new)
        if raw is not None and raw.link:
            self.hosts.add(_host(raw.link))
            self.paths.setdefault(_path_key(split_url(raw.link).path), new)
        if item.is_page:
            self.paths.setdefault(_path_key(item.path), new)
        for term in item.terms:
            base = "category" if term.taxonomy == "category" else "tag"
            self.terms.setdefault((base, unquote(term.slug).lower()), archive_base(base, slugify(term.name)))
        if item.login:
            author = slugify(str(item.meta.get("author", item.login))) or "anonymous"
            for login in (item.login.lower(), slugify(item.login)):
                self.terms.setdefault(("author", login), archive_base("author", author))

    def new_url(self, url: str) -> str | None:
        """The new address of a link to the old site, or None when it is not one this import can replace."""
        split = split_url(url.strip())
        if split.scheme not in ("", "http", "https") or (split.netloc and _host(url) not in self.hosts):
            return None
        if not split.netloc and not split.path.startswith("/"):
            return None
        query = parse_qs(split.query)
        found = next((self.ids.get(query[k][0]) for k in _QUERY_KINDS if k in query), None)
        found = found or self._by_path(_path_key(split.path))
        if found is None:
            return None
        return found + (f"#{split.fragment}" if split.fragment else "")

    def _by_path(self, key: str) -> str | None:
        if key in self.paths:
            return self.paths[key]
        segments = key.strip("/").split("/")
        if len(segments) >= 2 and segments[0] in _TERM_BASES:  # /category/<parent>/<child>/ names the child
            return self.terms.get((_TERM_BASES[segments[0]], segments[-1]))
        if len(segments) == 2 and segments[0] == "archives":
            return self.ids.get(segments[1])
        if segments and all(s.isdigit() for s in segments[:-1]) and len(segments) <= 4:  # /YYYY/MM/DD/<slug>/
            return self.slugs.get(segments[-1])
        return None


def rewrite(body: str, old: OldSite) -> tuple[str, int]:
    """The body with its links to the old site made new ones; how many were."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        new = old.new_url(html.unescape(match.group(3)))
        if new is None:
            return match.group(0)
        count += 1
        return f"{match.group(1)}{match.group(2)}{html.escape(new)}{match.group(2)}"

    return _HREF.sub(replace, body), count
