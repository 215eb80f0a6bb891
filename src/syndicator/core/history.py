"""What changed since a post or feed was published: edits dated, deletions kept as tombstones, feeds that are gone.

Partners mirror our entries: an edit must say so in ``updated`` (the time it
was first seen, unless the front matter gives a newer one), a deleted post must
be told apart from one that fell out of the newest entries (RFC 6721), and a
feed that once existed answers 410 Gone, not 404. All of it lives in the ledger
and the record of known feeds, so rebuilds stay byte-identical. Pure: ``now``
is an argument. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from datetime import timedelta

from syndicator.core.ledger import Departure
from syndicator.core.ledger import Record
from syndicator.core.ledger import same_words
from syndicator.model import Departed
from syndicator.model import Post
from syndicator.model import Tombstone
from syndicator.problem import LoadProblem

_SECOND = timedelta(seconds=1)


def whole_second(moment: datetime) -> datetime:
    """A time as a feed writes it: in whole seconds, a fraction rounded up (never earlier than the time itself).

    ROME, the library under many Java readers, reads ``16:20:27.466698`` as
    466,698 milliseconds (7.8 minutes late); RSS's RFC 822 has no fractions.
    """
    return moment if not moment.microsecond else moment.replace(microsecond=0) + _SECOND


def seen_at(now: datetime) -> datetime:
    """The time an edit or a deletion is recorded as first seen: ``now`` without its fraction of a second."""
    return now.replace(microsecond=0)


def dated_edits(posts: Iterable[Post], ledger: Mapping[str, Record], now: datetime) -> list[Post]:
    """Posts as their entries are dated: an edit since publication is ``updated`` when it was first seen.

    A post whose title, summary or body differ from what the ledger recorded,
    and whose front matter gives no ``updated`` newer than the recorded one, is
    updated ``now``; an unchanged post keeps the recorded ``updated`` (an
    earlier edit's) when it is the newer. A post back after its tombstone (its
    file restored, a draft no more, public again) is updated ``now`` at least:
    a reader that applied the tombstone (RFC 6721) takes the entry back only
    when it is newer.
    """
    dated = []
    for post in posts:
        record_ = ledger.get(post.source)
        if (
            record_ is not None
            and not (post.draft or post.is_page)
            and (record_.deleted or _back_in_public(record_, post))
        ):
            post = replace(post, updated=max(post.updated, seen_at(now)))
        elif record_ is not None and record_.content and record_.updated and not post.draft:
            recorded = datetime.fromisoformat(record_.updated)
            if not same_words(record_.content, post):
                if post.updated <= recorded:  # edited, and the front matter does not say when: now
                    post = replace(post, updated=max(seen_at(now), post.date))
            elif recorded > post.updated:
                post = replace(post, updated=recorded)
        dated.append(post)
    return dated


def not_yet_updated(posts: Iterable[Post], now: datetime) -> tuple[list[Post], list[LoadProblem]]:
    """Posts whose front matter gives an ``updated`` after ``now`` (``2030`` for ``2025``) dated as if it gave none,
    with a warning each: a reader's list would show the entry as edited in years to come, and the ledger, which
    never lets an entry's date go back, would keep it there after the typo is mended."""
    kept, warnings = [], []
    for post in posts:
        if post.updated > now >= post.date and not post.draft:
            when = post.updated.isoformat().replace("+00:00", "Z")
            message = f"updated {when} is in the future: the entry is dated as if no updated were given until then"
            warnings.append(LoadProblem(post.path, post.line_of("updated"), message, fatal=False, private=post.private))
            post = replace(post, updated=post.date)
        kept.append(post)
    return kept, warnings


def _back_in_public(record_: Record, post: Post) -> bool:
    """Whether a post withdrawn from the public (for partners only) is public again."""
    return bool(record_.withdrawn) and not post.partners_only


def mark_deleted(
    ledger: dict[str, Record], published: Iterable[Post], loaded: Iterable[Post], now: datetime
) -> dict[str, Record]:
    """The ledger with each post that is no longer published because its file is gone, or is a draft, a page or
    dated in the future now (withdrawn until it is due), marked deleted.

    A post held back for another reason (its slug taken) is not deleted. A
    post that is published again loses its mark when it is recorded.
    """
    shown = {post.source for post in published}
    drafts = {post.source for post in loaded if post.draft or post.is_page or post.date > now}  # a page: no feeds
    present = {post.source for post in loaded}
    changed: dict[str, Record] | None = None
    for source, record_ in ledger.items():
        if record_.deleted or source in shown or (source in present and source not in drafts):
            continue
        if changed is None:
            changed = dict(ledger)
        changed[source] = replace(record_, deleted=seen_at(now).isoformat())
    return ledger if changed is None else changed


def withdrawn_until_due(ledger: Mapping[str, Record], loaded: Iterable[Post], now: datetime) -> list[LoadProblem]:
    """A warning for each post published once and dated after ``now`` since (its date moved, or the ``timezone`` a
    date without an offset is read in): its feeds carry a tombstone of it, its page is 410, until it is due."""
    warnings = []
    for post in loaded:
        if post.date <= now or post.draft or post.is_page:
            continue
        record_ = ledger.get(post.source)
        if record_ is None or not record_.date:
            continue
        was, due = record_.date.replace("+00:00", "Z"), post.date.isoformat().replace("+00:00", "Z")
        message = (
            f"published dated {was}, now dated {due}, in the future: withdrawn from its feeds (a tombstone, its page "
            "410) until then; a timezone change moves every date written without an offset"
        )
        warnings.append(LoadProblem(post.path, post.line_of("date"), message, fatal=False, private=post.private))
    return warnings


def unannounced(ledger: Mapping[str, Record], loaded: Iterable[Post], now: datetime) -> frozenset[str]:
    """The files of posts dated after ``now`` that the public never saw (scheduled, or for partners only since they
    were first written): until they are due, their problems are as private as a draft's (their names, the values
    their messages quote may be an announcement's)."""
    unseen = (post for post in loaded if post.date > now)
    return frozenset(post.path for post in unseen if (found := ledger.get(post.source)) is None or found.seen is None)


def tombstones(
    ledger: Mapping[str, Record], now: datetime, days: int, *, partners: bool = False
) -> dict[str, tuple[Tombstone, ...]]:
    """Each feed's tombstones, newest first: the posts deleted in the last ``days`` days that it held, and those
    that left it then while published (moved to another category, a tag taken off).

    The public feeds' (``partners`` False) leave out the posts that were for
    partners only (the public never learns that one existed) but hold those
    withdrawn from the public, for partners only now. The partner feeds' hold
    every post they held.
    """
    since = now - timedelta(days=days)
    found: dict[str, list[Tombstone]] = {}
    for went in _departures(ledger, partners):
        when = datetime.fromisoformat(went.when)
        if when > since:
            found.setdefault(went.stem, []).append(Tombstone(when, went.id))
    return {stem: tuple(sorted(stones, reverse=True)) for stem, stones in sorted(found.items())}


def departed(ledger: Mapping[str, Record], *, partners: bool = False) -> dict[str, tuple[Departed, ...]]:
    """Each feed's posts that are gone for good from it, whenever they went, as ``tombstones`` counts them
    (``partners``: the partner feeds'); a record that does not say its post's date (one recovered from a tombstone)
    has no place to keep."""
    found: dict[str, list[Departed]] = {}
    for went in _departures(ledger, partners):
        if went.date:
            stone = Tombstone(datetime.fromisoformat(went.when), went.id)
            found.setdefault(went.stem, []).append(Departed(datetime.fromisoformat(went.date), went.slug, stone))
    return {stem: tuple(places) for stem, places in sorted(found.items())}


def _departures(ledger: Mapping[str, Record], partners: bool) -> Iterator[Departure]:
    """Each post's departures from a feed (the public's, or the partners'), as that feed knew it: from every feed it
    was in when it was deleted (withdrawn from the public), and from each feed it left while published (another
    category, a tag taken off)."""
    for record_ in ledger.values():
        known = record_ if partners else record_.seen
        if known is None:
            continue
        gone = _gone(record_, partners)
        if gone:
            yield from (Departure(stem, gone, known.id, known.date, known.slug) for stem in known.stems)
        yield from known.left


def _gone(record_: Record, partners: bool) -> str:
    """When a post left the partner feeds (``partners``: its deletion) or the public ones ("": it did not)."""
    return record_.deleted if partners else _gone_for_everyone(record_)


def _gone_for_everyone(record_: Record) -> str:
    """When a post published for everyone left the public ("": it did not, or never was public)."""
    return record_.withdrawn if record_.partners_only else record_.deleted


def gone_slugs(ledger: Mapping[str, Record], published: Iterable[str]) -> frozenset[str]:
    """The post slugs that were published for everyone and whose post was deleted, or is for partners only now
    (their pages answer 410 Gone).

    A post for partners only never had a public page: its address stays unknown (404).
    """
    live = set(published)
    seen = (r.seen for r in ledger.values() if _gone_for_everyone(r))
    return frozenset(known.slug for known in seen if known is not None and known.slug and known.slug not in live)


def known_feeds(known: Mapping[str, str], current: Iterable[str], now: datetime) -> dict[str, str]:
    """Every feed ever published: stem -> "" while it exists, or when it was first seen gone."""
    live = set(current)
    result = dict.fromkeys(sorted(live), "")
    for stem, gone in known.items():
        if stem not in live:
            result[stem] = gone or seen_at(now).isoformat()
    return dict(sorted(result.items()))
