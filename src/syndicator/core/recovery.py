"""Published ids given back to the posts from the feeds in output_dir when the ledger is lost.

Pure: ``recover_ids`` reads back the entries of the Atom documents this
service wrote (the site-wide feed and its archive pages hold every published
post); ``adopt`` gives each post the id of the entry it was published as: the
entry at its slug, or else the one with its title on its day (its slug changed
too). A post that might be a published one (an entry of its day is left that
no post took) but matches none of them stops the build, named, rather than
getting a new id in silence. No I/O.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from urllib.parse import urlsplit

from syndicator.core.ledger import Record
from syndicator.core.namespaces import atom
from syndicator.core.urls import post_slug
from syndicator.model import Post

_ATOM = f"{{{atom.URI}}}"
_ID_DAY = re.compile(r"tag:[^,]+,(\d{4}-\d{2}-\d{2}):")  # the day a default id names
SHOWN = 5  # posts a refusal names (then "and N more")


class LedgerError(Exception):
    """The ledger is gone, and the ids already published cannot be read back from output_dir or given back."""


@dataclass(frozen=True, slots=True)
class Found:
    """A published entry as its feed shows it: id, slug (from its link), title, and the days its date and id name."""

    id: str
    slug: str
    title: str
    days: frozenset[str]


def recover_ids(documents: Iterable[bytes]) -> dict[str, Found]:
    """Post slug -> the entry published there, from Atom documents this service wrote; ValueError for another."""
    found: dict[str, Found] = {}
    for document in documents:
        for entry in _entries(document):
            item = _found(entry)
            if item is not None:
                found.setdefault(item.slug, item)
    return found


def _entries(document: bytes) -> Iterator[ET.Element]:
    try:
        root = ET.fromstring(document)  # noqa: S314 - our own output, not input from outside
    except ET.ParseError as exc:
        raise ValueError(f"not an Atom document: {exc}") from exc
    if root.tag != f"{_ATOM}feed":
        raise ValueError("not an Atom feed")
    return root.iter(f"{_ATOM}entry")


def _found(entry: ET.Element) -> Found | None:
    """The entry of a post page (its alternate link is a post page's, ``urls.post_slug``), or None."""
    entry_id = (entry.findtext(f"{_ATOM}id") or "").strip()
    for link in entry.iter(f"{_ATOM}link"):
        slug = post_slug(urlsplit(link.get("href", "")).path)
        if link.get("rel", "alternate") == "alternate" and slug is not None and entry_id:
            days = {match.group(1)} if (match := _ID_DAY.match(entry_id)) else set()
            with contextlib.suppress(ValueError):  # no date: the id's day alone
                days.add(_day(datetime.fromisoformat((entry.findtext(f"{_ATOM}published") or "").strip())))
            title = _words(entry.findtext(f"{_ATOM}title") or "")
            return Found(entry_id, slug, title, frozenset(days))
    return None


def _day(when: datetime) -> str:
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat()


def _words(text: str) -> str:
    return " ".join(text.split())


def adopt(ledger: dict[str, Record], posts: Iterable[Post], recovered: Mapping[str, Found]) -> dict[str, Record]:
    """The ledger with a record for each post it lacks that was published: found at its slug, or by title and day.

    A post found by title and day gets the entry's old slug as its record's, so
    the ledger then keeps it as a former slug and the old URL answers 301.
    Raise LedgerError naming the posts that might be published ones but match
    no entry (an entry of their day is left that no post took).
    """
    posts = list(posts)
    adopted = dict(ledger)
    taken = {record.id for record in ledger.values()} | {post.id for post in posts if post.explicit_id}
    waiting: list[Post] = []
    for post in posts:
        if post.source in adopted or post.explicit_id:
            continue
        found = recovered.get(post.slug)
        if found is None or found.id in taken:
            if not post.draft:  # a draft has no id readers see
                waiting.append(post)
        else:
            adopted[post.source] = Record(found.id, post.slug)
            taken.add(found.id)
    slugs = {post.slug for post in posts}
    free = [found for found in recovered.values() if found.id not in taken and found.slug not in slugs]
    unsure = _by_title_and_day(adopted, waiting, free)
    if unsure:
        raise LedgerError(_unsure_message(unsure))
    return adopted


def _by_title_and_day(
    adopted: dict[str, Record], waiting: list[Post], free: list[Found]
) -> list[tuple[Post, list[Found]]]:
    """Adopt each waiting post whose title and day one free entry alone has; the others that share a day with one."""
    by_key: dict[tuple[str, str], set[Found]] = {}
    by_day: dict[str, set[Found]] = {}
    for found in free:
        for day in found.days:
            by_key.setdefault((found.title, day), set()).add(found)
            by_day.setdefault(day, set()).add(found)
    keys = {post.source: (_words(post.title), _day(post.date)) for post in waiting}
    wanted = Counter(keys.values())
    taken: set[Found] = set()
    left = []
    for post in waiting:
        candidates = by_key.get(keys[post.source], set()) - taken  # an entry may name two days
        if len(candidates) == 1 and wanted[keys[post.source]] == 1:
            (found,) = candidates
            adopted[post.source] = Record(found.id, found.slug)
            taken.add(found)
        else:
            left.append(post)
    unsure = [(post, by_day.get(keys[post.source][1], set()) - taken) for post in left]
    return [(post, sorted(entries, key=lambda f: f.id)) for post, entries in unsure if entries]


def _unsure_message(unsure: list[tuple[Post, list[Found]]]) -> str:
    named = [
        f"{post.path} (that day: {', '.join(f'{f.id} {f.title[:60]!r}' for f in entries[:3])})"
        for post, entries in sorted(unsure, key=lambda pair: pair[0].path)[:SHOWN]
    ]
    more = f" and {len(unsure) - SHOWN} more" if len(unsure) > SHOWN else ""
    return (
        f"the id ledger is missing and {len(unsure)} post(s) may be published ones under another title and slug: "
        f"{'; '.join(named)}{more}. Give each the id it was published with (id: in its front matter), "
        "or, if it is new, an id of its own"
    )
