"""A lost ledger recovered from the feeds (core/recovery.py): an entry is adopted by title and day only when one entry
and one post match; otherwise the build stops and names them."""

from __future__ import annotations

import pytest

from support.factories import make_post
from syndicator.core.ledger import Record
from syndicator.core.ledger import words_of
from syndicator.core.recovery import Found
from syndicator.core.recovery import LedgerError
from syndicator.core.recovery import adopt
from syndicator.core.recovery import partners_marked


def entry(slug: str, title: str, day: str = "2025-06-01") -> Found:
    """A recovered entry as the feeds would show a post published at ``slug`` on ``day``."""
    return Found(f"tag:example.org,{day}:/posts/{slug}", slug, title, frozenset({day}))


def test_recovery_matches_by_title_and_day_only_when_one_entry_and_one_post_do() -> None:
    """Two posts of one title on one day cannot be told apart: both are named; an entry is never given twice."""
    recovered = {e.slug: e for e in (entry("trip", "Trip"), entry("day-one", "Day"), entry("day-two", "Day"))}
    journey = make_post("journey", title="Trip", source="journey.md")
    adopted = adopt({}, [journey], recovered)
    # published as the entry was: its id, and the post's words as they are now (an edit from here is dated)
    assert adopted["journey.md"] == Record("tag:example.org,2025-06-01:/posts/trip", "trip", content=words_of(journey))
    twins = [make_post(slug, title="Day", source=f"{slug}.md") for slug in ("first", "second")]
    with pytest.raises(LedgerError, match=r"2 post\(s\).*posts/first\.md.*posts/second\.md"):
        adopt({}, twins, recovered)
    both = [journey, make_post("voyage", title="Trip", source="voyage.md", date=journey.date.replace(hour=20))]
    with pytest.raises(LedgerError, match=r"posts/journey\.md.*posts/voyage\.md"):
        adopt({}, both, {"trip": recovered["trip"]})
    later = make_post("later", title="Trip", source="later.md", date=journey.date.replace(day=9))
    assert adopt({}, [later], recovered) == {}  # no entry of its day: a new post
    draft = make_post("draft-trip", title="Other", source="draft.md", draft=True)
    assert adopt({}, [draft], recovered) == {}  # a draft has no id yet: never a reason to stop


def test_an_older_ledgers_live_records_no_public_feed_carries_are_marked_for_partners() -> None:
    """A ledger from before records said which posts were for partners only: a live record whose id no public feed
    carries is marked (it was never public); one the public feeds carry, a deleted one, and one already marked are
    kept as they are (a deleted one's tombstone is already out)."""
    ledger = {
        "public.md": Record("tag:x,2025:/posts/public", "public"),
        "briefing.md": Record("tag:x,2025:/posts/briefing", "briefing"),
        "gone.md": Record("tag:x,2025:/posts/gone", "gone", deleted="2025-07-01T00:00:00+00:00"),
        "marked.md": Record("tag:x,2025:/posts/marked", "marked", partners_only=True, withdrawn="2025-07-02T00:00:00"),
    }
    marked = partners_marked(ledger, {"tag:x,2025:/posts/public"})
    assert marked["briefing.md"] == Record("tag:x,2025:/posts/briefing", "briefing", partners_only=True)
    assert [marked[s] is ledger[s] for s in ("public.md", "gone.md", "marked.md")] == [True, True, True]
    assert all(r.partners_only or r.deleted for r in partners_marked(ledger, ()).values())
