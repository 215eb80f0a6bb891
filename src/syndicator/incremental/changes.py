"""The change decider: previous records + file states + specs -> a plan of what to render and write.

Pure: it only processes data (like reader's ``_update`` Decider); the builder
gathers the file states before and carries the plan out after. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from syndicator.core.plan import FeedSpec
from syndicator.model import Post
from syndicator.store.records import DiskStates
from syndicator.store.records import FeedRecord
from syndicator.store.records import intact


@dataclass(frozen=True, slots=True)
class Plan:
    """What a reload does with each feed."""

    keys: dict[str, tuple[object, ...]]  # each feed's key, for the next reload to compare with
    to_render: list[tuple[FeedSpec, str]]  # feeds to render and write with their inputs' digest, in time order
    current: list[FeedSpec]  # unchanged since an earlier run and whole on disk, but not served from memory yet
    records: dict[str, FeedRecord]  # the records of the feeds that still exist


def decide(
    specs: Sequence[FeedSpec],
    key_of: Callable[[FeedSpec], tuple[object, ...]],
    digest_of: Callable[[FeedSpec], str],
    last_keys: Mapping[str, tuple[object, ...]],
    records: Mapping[str, FeedRecord],
    disk: DiskStates,
) -> Plan:
    """Plan a reload: a feed whose key (in memory) or digest (recorded) is the last one's, with its files
    intact, is not rendered again; only a feed that changed costs its digest.
    """
    keys: dict[str, tuple[object, ...]] = {}
    to_render: list[tuple[FeedSpec, str]] = []
    current: list[FeedSpec] = []
    for spec in specs:
        key = keys[spec.stem] = key_of(spec)
        record = records.get(spec.stem)
        whole = record is not None and intact(record, disk)
        if whole and last_keys.get(spec.stem) == key:
            continue
        digest = digest_of(spec)
        if whole and record is not None and record.digest == digest:
            current.append(spec)
        else:
            to_render.append((spec, digest))
    kept = {stem: record for stem, record in records.items() if stem in keys}
    to_render.sort(key=_newest)  # the pages that hold a post are then rendered close together
    return Plan(keys, to_render, current, kept)


def edited_in_place(last: Sequence[Post] | None, listed: Sequence[Post]) -> list[int] | None:
    """Where ``listed`` holds other objects than ``last`` for the same posts (by slug), when that is all that
    differs (a reload swaps an edited post in at its place); None when posts came, went or moved."""
    if last is None or len(last) != len(listed):
        return None
    edited = [index for index, (now, before) in enumerate(zip(listed, last, strict=True)) if now is not before]
    if any(listed[index].slug != last[index].slug for index in edited):
        return None
    return edited


def _newest(planned: tuple[FeedSpec, str]) -> float:
    """When the newest post of a feed to render was published (a feed without posts first)."""
    posts = planned[0].posts
    return posts[0].date.timestamp() if posts else float("-inf")
