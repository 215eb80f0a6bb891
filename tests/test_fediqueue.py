"""The fediverse delivery queue (store/fediqueue.py): bounded per host and in total, what it drops counted."""

from __future__ import annotations

from pathlib import Path

from syndicator.store.fediqueue import DeliveryQueue
from syndicator.store.fediqueue import QueueLimits
from syndicator.store.fediverse import Database


def test_the_queue_is_bounded_per_host(tmp_path: Path) -> None:
    """Past its cap per host, a delivery is not queued (and is counted); other hosts still are."""
    database = Database(tmp_path)
    queue = DeliveryQueue(database, QueueLimits(per_host=2, total=3))
    added = [queue.add(f"https://a.example/inbox/{n}", "a.example", "alpha", b"{}", 0.0) for n in range(3)]
    assert added == [True, True, False]
    assert queue.add("https://b.example/inbox", "b.example", "alpha", b"{}", 0.0)
    assert not queue.add("https://c.example/inbox", "c.example", "alpha", b"{}", 0.0)  # the total
    assert queue.pending() == 3 and queue.dropped == 2
    database.close()
