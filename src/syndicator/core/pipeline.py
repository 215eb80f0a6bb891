"""publish(posts, ledger, now): the posts as published at ``now`` — their ids, the catalog, the new ledger, problems.

One copy, for the builder and for ``check``. Given the last result, a reload
that only edited posts swaps them into the last catalog instead of building it
again (the post cache hands back the very same Post for a file that did not
change, so edits are found by identity). When a post is for partners only, a
second catalog holds it too: the partners'. Pure. No I/O.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta

from syndicator.core.catalog import TAXONOMIES
from syndicator.core.catalog import Catalog
from syndicator.core.fanout import fan_out
from syndicator.core.history import dated_edits
from syndicator.core.history import departed
from syndicator.core.history import gone_slugs
from syndicator.core.history import known_feeds
from syndicator.core.history import mark_deleted
from syndicator.core.history import not_yet_updated
from syndicator.core.history import seen_at
from syndicator.core.history import tombstones
from syndicator.core.history import withdrawn_until_due
from syndicator.core.ledger import Record
from syndicator.core.ledger import assign_ids
from syndicator.core.ledger import follow_renames
from syndicator.core.ledger import record
from syndicator.core.recovery import Recovered
from syndicator.core.recovery import adopt
from syndicator.core.recovery import floor
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import feed_stem
from syndicator.model import Departed
from syndicator.model import Post
from syndicator.model import Tombstone
from syndicator.problem import LoadProblem

Edits = list[tuple[Post, Post]]  # (as published last time, as edited)


@dataclass(frozen=True, slots=True)
class Published:
    """What is published: the posts as loaded and with their published ids, the catalog, the ledger after it."""

    loaded: list[Post]
    posts: list[Post]
    catalog: Catalog
    ledger: dict[str, Record]
    id_warnings: list[LoadProblem]
    partner_catalog: Catalog | None = None  # with the posts for partners only; None when there is none
    tombstones: dict[str, tuple[Tombstone, ...]] = field(default_factory=dict)  # feed stem -> its deleted entries
    partner_tombstones: dict[str, tuple[Tombstone, ...]] = field(default_factory=dict)  # those for partners only too
    departed: dict[str, tuple[Departed, ...]] = field(default_factory=dict)  # feed stem -> every post gone from it
    partner_departed: dict[str, tuple[Departed, ...]] = field(default_factory=dict)  # the partner feeds'
    gone_posts: frozenset[str] = frozenset()  # slugs of deleted posts (410 Gone)
    feeds: dict[str, str] = field(default_factory=dict)  # every feed ever published -> "" or when it went
    withdrawn: tuple[LoadProblem, ...] = ()  # a warning for each post published once and dated in the future now

    @property
    def gone_feeds(self) -> frozenset[str]:
        """The feeds that were published and are no more (410 Gone)."""
        return frozenset(stem for stem, gone in self.feeds.items() if gone)

    @property
    def problems(self) -> list[LoadProblem]:
        """Publishing's own problems: ids that change, posts withdrawn until due, slugs and ids used twice, a fan-out
        past its bound (not the files' problems).

        Those only the partners' catalog has name a post for partners only: they are private.
        """
        own = [*self.id_warnings, *self.withdrawn, *self.catalog.problems, *fan_out(self.catalog)]
        if self.partner_catalog is not None:
            seen = set(self.catalog.problems)
            own += [replace(p, private=True) for p in self.partner_catalog.problems if p not in seen]
        return own

    @property
    def next_publish_at(self) -> datetime | None:
        """When the next scheduled post (public or for partners) comes due."""
        due = [c.next_publish_at for c in (self.catalog, self.partner_catalog) if c is not None]
        return min((d for d in due if d is not None), default=None)


@dataclass(frozen=True, slots=True)
class History:
    """What the last run left of the past: feeds ever published, and how long deleted posts stay tombstones."""

    feeds: Mapping[str, str] = field(default_factory=dict)
    tombstone_days: int = 30


def publish(
    loaded: list[Post],
    ledger: dict[str, Record],
    now: datetime,
    last: Published | None = None,
    recovered: Recovered | None = None,
    history: History | None = None,
) -> Published:
    """Publish the loaded posts at ``now``: published ids kept, edits dated, the catalog built (or edited), the
    ledger updated, deleted posts kept as tombstones, feeds that are gone remembered.

    ``recovered`` (what the feeds in output_dir show was published) fills in
    the ledger when it was lost or is another state_dir's (LedgerError for
    posts it cannot tell from published ones), so that no published id,
    ``updated`` or live tombstone goes backwards.
    """
    history = history or History(last.feeds if last is not None else {})
    if recovered:
        ledger = floor(adopt(ledger, loaded, recovered.entries), recovered)
    posts, warnings, edits = _assign(last, loaded, ledger, now)
    if edits is None:  # files were added, removed or renamed
        renamed = follow_renames(ledger, loaded)
        if renamed is not ledger:
            ledger = renamed
            posts, warnings = _dated(loaded, ledger, now)
    catalog = last.catalog.with_edits(edits, now) if last is not None and edits is not None else None
    full = catalog is None
    if catalog is None:
        catalog = Catalog.build(posts, now)
        to_record: list[Post] = list(catalog.posts)
    else:  # the same posts are published as last time, which recorded them all: only edits can differ
        to_record = [new for _old, new in edits or () if catalog.by_slug.get(new.slug) is new]
    partners = _for_partners(last, posts, edits, now)
    if partners is not None:  # few, and recording a recorded post changes nothing
        to_record += [post for post in partners.posts if post.partners_only]
    ledger = record(ledger, to_record, seen_at(now).isoformat())
    if full:  # only a full build can see a post go (a file removed, or made a draft)
        shown = [*catalog.posts, *(partners.posts if partners is not None else ())]
        ledger = mark_deleted(ledger, shown, loaded, now)
    withdrawn = tuple(withdrawn_until_due(ledger, loaded, now)) if full or last is None else last.withdrawn
    published = Published(loaded, posts, catalog, ledger, warnings, partners, withdrawn=withdrawn)
    return _with_history(published, last, history, now)


def _with_history(published: Published, last: Published | None, history: History, now: datetime) -> Published:
    """The tombstones, deleted posts and known feeds of what is published (the last ones while they hold)."""
    catalog, ledger = published.catalog, published.ledger
    stems = [SITE_FEED, *(feed_stem(kind, slug) for kind in TAXONOMIES for slug in catalog.taxonomy(kind))]
    feeds = known_feeds(history.feeds, stems, now)
    days = history.tombstone_days
    if (
        last is not None
        and last.ledger is ledger
        and not _expired(last.tombstones, now, days)  # a withdrawn post's is the public's alone
        and not _expired(last.partner_tombstones, now, days)
    ):
        return replace(
            published,
            tombstones=last.tombstones,
            partner_tombstones=last.partner_tombstones,
            departed=last.departed,
            partner_departed=last.partner_departed,
            gone_posts=last.gone_posts,
            feeds=feeds,
        )
    return replace(
        published,
        tombstones=tombstones(ledger, now, days),
        partner_tombstones=tombstones(ledger, now, days, partners=True),
        departed=departed(ledger),
        partner_departed=departed(ledger, partners=True),
        gone_posts=gone_slugs(ledger, catalog.by_slug),
        feeds=feeds,
    )


def _expired(stones: Mapping[str, tuple[Tombstone, ...]], now: datetime, days: int) -> bool:
    """Whether one of these tombstones is older than ``days`` at ``now`` (and so leaves its feeds)."""
    oldest = min((s[-1].when for s in stones.values() if s), default=None)
    return oldest is not None and oldest <= now - timedelta(days=days)


def _for_partners(last: Published | None, posts: list[Post], edits: Edits | None, now: datetime) -> Catalog | None:
    """The partners' catalog (the public posts and those for partners only), or None when no post is for partners."""
    if not any(post.partners_only for post in posts):
        return None
    if last is not None and last.partner_catalog is not None and edits is not None:
        edited = last.partner_catalog.with_edits(edits, now)
        if edited is not None:
            return edited
    return Catalog.build(posts, now, partners=True)


def _assign(
    last: Published | None, loaded: list[Post], ledger: dict[str, Record], now: datetime
) -> tuple[list[Post], list[LoadProblem], Edits | None]:
    """Give posts their published ids, and say which posts were edited: (old, new) pairs, or None.

    None means files were added, removed or reordered since ``last``. Edits are
    found by identity, position by position, and only edited posts are looked
    up in the ledger (which only changes for edited or new posts).
    """
    if last is not None and len(last.loaded) == len(loaded):
        changed = list(itertools.compress(range(len(loaded)), map(operator.is_not, last.loaded, loaded)))
        if all(last.loaded[i].source == loaded[i].source for i in changed):
            fresh, warnings = _dated([loaded[i] for i in changed], ledger, now)
            posts = list(last.posts)
            edits = []
            for i, post in zip(changed, fresh, strict=True):
                edits.append((posts[i], post))
                posts[i] = post
            edited = {loaded[i].path for i in changed}
            return posts, [w for w in last.id_warnings if w.path not in edited] + warnings, edits
    posts, warnings = _dated(loaded, ledger, now)
    return posts, warnings, None


def _dated(loaded: list[Post], ledger: dict[str, Record], now: datetime) -> tuple[list[Post], list[LoadProblem]]:
    """Posts with their published ids and dated as their entries are (``updated`` not after ``now``; edits dated when
    first seen), and what to warn of."""
    posts, warnings = assign_ids(loaded, ledger)
    posts, later = not_yet_updated(posts, now)
    return dated_edits(posts, ledger, now), warnings + later
