"""What was published, read back from the feeds in output_dir when the ledger is lost (or another state_dir's).

Pure: ``recover_ids`` reads back the entries of the Atom documents this
service wrote (the site-wide feed and its archive pages hold every published
post), and ``recover_stones`` the RFC 6721 tombstones of its feeds; ``adopt``
gives each post the id of the entry it was published as: the entry at its
slug, or else the one with its title on its day (its slug changed too). A post
that might be a published one (an entry of its day is left that no post took)
but matches none of them stops the build, named, rather than getting a new id
in silence. ``floor`` keeps what readers have seen from going backwards: no
entry's ``updated`` earlier than published, no live tombstone dropped. No I/O.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import datetime

from syndicator.core.ledger import Record
from syndicator.core.ledger import words_of
from syndicator.core.namespaces import atom
from syndicator.core.namespaces.tombstones import URI as TOMBSTONES
from syndicator.core.urls import post_slug
from syndicator.core.urls import split_url
from syndicator.model import Post

_ATOM = f"{{{atom.URI}}}"
_TOMBSTONE = f"{{{TOMBSTONES}}}deleted-entry"
STONE_SOURCE = "tombstone:"  # the ledger's key of a tombstone read back (no post file is named so)
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
    updated: str = ""  # the entry's updated as published (ISO 8601)


@dataclass(frozen=True, slots=True)
class Stone:
    """A tombstone as the feeds in output_dir show it: the deleted entry's id, when, and the feeds that show it."""

    ref: str
    when: str
    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recovered:
    """What output_dir shows was published: each post's entry by slug, and the tombstones."""

    entries: Mapping[str, Found] = field(default_factory=dict)
    stones: tuple[Stone, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries or self.stones)


def recover_ids(documents: Iterable[bytes], base_path: str = "") -> dict[str, Found]:
    """Post slug -> the entry published there, from Atom documents this service wrote (``base_path``: site_url's
    path, before ``/posts/``); ValueError for another."""
    found: dict[str, Found] = {}
    for document in documents:
        for entry in _entries(_root(document)):
            item = _found(entry, base_path)
            if item is None:
                continue
            known = found.setdefault(item.slug, item)
            if known is not item and _later(item.updated, known.updated):  # the newest version published wins
                found[item.slug] = replace(known, updated=item.updated)
    return found


def recover_stones(documents: Iterable[tuple[str, bytes]]) -> tuple[Stone, ...]:
    """The tombstones of feeds this service wrote, given as (stem, Atom bytes): each deleted id once, with the
    feeds showing it; ValueError for a document that is no Atom feed."""
    found: dict[str, Stone] = {}
    for stem, document in documents:
        for element in _root(document).iter(_TOMBSTONE):
            ref, when = element.get("ref", "").strip(), element.get("when", "").strip()
            if not ref or _moment(when) is None:
                continue
            known = found.get(ref)
            stems = (*known.stems, stem) if known is not None else (stem,)
            found[ref] = Stone(ref, known.when if known is not None else when, stems)
    return tuple(found[ref] for ref in sorted(found))


def partners_marked(ledger: dict[str, Record], public_ids: Collection[str]) -> dict[str, Record]:
    """The records of a ledger file from a release that did not mark the posts for partners only, each live one that
    no public feed in output_dir carries (``public_ids``) marked for partners only.

    Such a record is alike for a post published for everyone and for one only
    partners ever saw: read as the first, the second's deletion, or the post
    itself while it stays for partners, became a public tombstone and a 410,
    naming its id, slug and date. A post the public feeds do not carry was never
    public, or was taken out of them without a trace: either way it is left
    none now (a post published for everyone gets its record back as public when
    it is recorded). Failing closed: with no feed to read, every live record is.
    """
    return {
        source: replace(r, partners_only=True) if not (r.deleted or r.partners_only or r.id in public_ids) else r
        for source, r in ledger.items()
    }


def floor(ledger: dict[str, Record], recovered: Recovered) -> dict[str, Record]:
    """The ledger with nothing published taken back: a record's ``updated`` no earlier than its entry's as
    published, and a record (deleted then) for each tombstone of an id no record has."""
    by_id = {found.id: found for found in recovered.entries.values()}
    floored = dict(ledger)
    for source, record_ in ledger.items():
        found = by_id.get(record_.id)
        if found is not None and _later(found.updated, record_.updated):
            floored[source] = replace(record_, updated=found.updated)
    ids = {record_.id for record_ in floored.values()}
    for stone in recovered.stones:
        if stone.ref not in ids:
            floored[STONE_SOURCE + stone.ref] = Record(stone.ref, "", stems=stone.stems, deleted=stone.when)
    return floored


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _later(text: str, than: str) -> bool:
    """Whether the time ``text`` names is later than ``than``'s (a time that cannot be read is never later)."""
    moment, other = _moment(text), _moment(than)
    return moment is not None and (other is None or moment > other)


def _root(document: bytes) -> ET.Element:
    try:
        root = ET.fromstring(document)  # noqa: S314 - our own output, not input from outside
    except ET.ParseError as exc:
        raise ValueError(f"not an Atom document: {exc}") from exc
    if root.tag != f"{_ATOM}feed":
        raise ValueError("not an Atom feed")
    return root


def _entries(root: ET.Element) -> Iterator[ET.Element]:
    return root.iter(f"{_ATOM}entry")


def _found(entry: ET.Element, base_path: str) -> Found | None:
    """The entry of a post page (its alternate link is a post page's, ``urls.post_slug``, under ``base_path``), or
    None."""
    entry_id = (entry.findtext(f"{_ATOM}id") or "").strip()
    for link in entry.iter(f"{_ATOM}link"):
        path = split_url(link.get("href", "")).path
        slug = post_slug(path.removeprefix(base_path)) if path.startswith(f"{base_path}/") else None
        if link.get("rel", "alternate") == "alternate" and slug is not None and entry_id:
            days = {match.group(1)} if (match := _ID_DAY.match(entry_id)) else set()
            with contextlib.suppress(ValueError):  # no date: the id's day alone
                days.add(_day(datetime.fromisoformat((entry.findtext(f"{_ATOM}published") or "").strip())))
            title = _words(entry.findtext(f"{_ATOM}title") or "")
            updated = (entry.findtext(f"{_ATOM}updated") or "").strip()
            return Found(entry_id, slug, title, frozenset(days), updated)
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
            adopted[post.source] = _published_as(found, post, post.slug)
            taken.add(found.id)
    slugs = {post.slug for post in posts}
    free = [found for found in recovered.values() if found.id not in taken and found.slug not in slugs]
    unsure = _by_title_and_day(adopted, waiting, free)
    if unsure:
        raise LedgerError(_unsure_message(unsure))
    return adopted


def _published_as(found: Found, post: Post, slug: str) -> Record:
    """A post's record as its entry was published: its id, and its ``updated`` as readers saw it (the post taken
    as published: an edit made while the ledger was lost cannot be told)."""
    return Record(found.id, slug, content=words_of(post), updated=found.updated)


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
            adopted[post.source] = _published_as(found, post, found.slug)
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
