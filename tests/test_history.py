"""What changed since a post or feed was published (core/history.py): edits dated when first seen, deletions kept as
RFC 6721 tombstones for tombstone_days (never a partner post's in a public feed), and feeds that are gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from support.factories import NOW
from support.factories import make_post
from syndicator.core.history import dated_edits
from syndicator.core.history import gone_slugs
from syndicator.core.history import known_feeds
from syndicator.core.history import mark_deleted
from syndicator.core.history import tombstones
from syndicator.core.ledger import Record
from syndicator.core.ledger import words_of
from syndicator.model import Post
from syndicator.model import Tombstone

PUBLISHED = datetime(2025, 6, 1, 10, tzinfo=UTC)  # make_post's date


def recorded(post: Post, updated: datetime = PUBLISHED) -> Record:
    """The ledger's record of a post as it was published (its words, its updated)."""
    return replace(Record(post.id, post.slug), content=words_of(post), updated=updated.isoformat())


def test_an_edit_with_no_newer_updated_is_dated_now() -> None:
    """Words changed since publication and no newer `updated` given: the entry is updated `now`."""
    post = make_post("a", source="a.md")
    edited = replace(post, title="A, edited")
    (dated,) = dated_edits([edited], {"a.md": recorded(post)}, NOW)
    assert dated.updated == NOW and dated.title == "A, edited"


def test_an_edit_dated_in_the_front_matter_keeps_its_date() -> None:
    """An edit whose front matter gives an `updated` newer than the recorded one keeps it."""
    post = make_post("a", source="a.md")
    later = PUBLISHED + timedelta(days=3)
    (dated,) = dated_edits([replace(post, title="A2", updated=later)], {"a.md": recorded(post)}, NOW)
    assert dated.updated == later


def test_an_unchanged_post_keeps_the_date_of_its_last_edit() -> None:
    """Words as recorded: the recorded `updated` (an earlier edit's) when newer than the file's; else the file's."""
    post = make_post("a", source="a.md")
    edited_at = PUBLISHED + timedelta(days=10)
    (kept,) = dated_edits([post], {"a.md": recorded(post, edited_at)}, NOW)
    assert kept.updated == edited_at
    newer = replace(post, updated=PUBLISHED + timedelta(days=20))
    assert dated_edits([newer], {"a.md": recorded(post, edited_at)}, NOW) == [newer]


def test_new_posts_drafts_and_old_records_are_left_as_they_are() -> None:
    """A post the ledger does not know, a draft, and a record without words or updated (an older ledger's) change
    nothing; an edit is never dated before its post."""
    post = make_post("a", source="a.md")
    edited = replace(post, title="A2")
    assert dated_edits([edited], {}, NOW) == [edited]
    draft = replace(edited, draft=True)
    assert dated_edits([draft], {"a.md": recorded(post)}, NOW) == [draft]
    assert dated_edits([edited], {"a.md": Record(post.id, post.slug)}, NOW) == [edited]
    early = PUBLISHED - timedelta(days=1)
    (dated,) = dated_edits([edited], {"a.md": recorded(post)}, early)
    assert dated.updated == post.date


def test_a_post_whose_file_is_gone_or_is_a_draft_is_marked_deleted() -> None:
    """Gone, back to a draft, or dated in the future again (withdrawn until it is due): deleted `now`. Still a file,
    due, but not published (its slug taken): not deleted. Marked already: its first time kept. Nothing to mark: the
    same ledger."""
    a, b, c, d, e, f = (make_post(slug, source=f"{slug}.md") for slug in "abcdef")
    ledger = {p.source: Record(p.id, p.slug) for p in (a, b, c, d, f)}
    ledger["e.md"] = Record(e.id, e.slug, deleted="2025-12-01T00:00:00+00:00")
    loaded = [a, replace(b, draft=True), replace(c, date=NOW + timedelta(days=1)), f]  # d.md, e.md gone; f held
    marked = mark_deleted(ledger, [a], loaded, NOW)
    assert {source: r.deleted for source, r in marked.items()} == {
        "a.md": "",
        "b.md": NOW.isoformat(),
        "c.md": NOW.isoformat(),
        "d.md": NOW.isoformat(),
        "e.md": "2025-12-01T00:00:00+00:00",
        "f.md": "",
    }
    assert ledger["b.md"].deleted == ""  # the ledger given is not changed
    unchanged = {"a.md": ledger["a.md"]}
    assert mark_deleted(unchanged, [a], [a], NOW) is unchanged


def test_each_feed_carries_the_tombstones_of_its_recent_deletions_newest_first() -> None:
    """A deletion is a tombstone in every feed the post was in for `days` days; a partner post's only in the
    partner feeds."""
    day = timedelta(days=1)
    ledger = {
        "old.md": Record("id:old", "old", stems=("all",), deleted=(NOW - 31 * day).isoformat()),
        "a.md": Record("id:a", "a", stems=("all", "category/x"), deleted=(NOW - 2 * day).isoformat()),
        "b.md": Record("id:b", "b", stems=("all",), deleted=(NOW - day).isoformat()),
        "brief.md": Record("id:brief", "brief", stems=("all",), deleted=(NOW - day).isoformat(), partners_only=True),
        "live.md": Record("id:live", "live", stems=("all",)),
    }
    public = tombstones(ledger, NOW, 30)
    assert public == {
        "all": (Tombstone(NOW - day, "id:b"), Tombstone(NOW - 2 * day, "id:a")),
        "category/x": (Tombstone(NOW - 2 * day, "id:a"),),
    }
    partners = tombstones(ledger, NOW, 30, partners=True)
    assert [stone.ref for stone in partners["all"]] == ["id:brief", "id:b", "id:a"]
    assert tombstones(ledger, NOW, 0) == {}


def test_a_deleted_public_posts_page_is_gone_and_a_partner_posts_unknown() -> None:
    """The slugs whose pages answer 410: deleted, once public, and not published again under that slug."""
    ledger = {
        "a.md": Record("id:a", "a", deleted=NOW.isoformat()),
        "b.md": Record("id:b", "b", deleted=NOW.isoformat(), partners_only=True),
        "c.md": Record("id:c", "c", deleted=NOW.isoformat()),
        "d.md": Record("id:d", "d"),
    }
    assert gone_slugs(ledger, ["c", "d"]) == {"a"}


def test_a_feed_that_existed_is_known_with_when_it_went() -> None:
    """Every feed ever published: "" while it exists, the time it was first seen gone after (kept on later builds)."""
    first = known_feeds({}, ["all", "category/x"], NOW)
    assert first == {"all": "", "category/x": ""}
    gone = known_feeds(first, ["all"], NOW)
    assert gone == {"all": "", "category/x": NOW.isoformat()}
    assert known_feeds(gone, ["all"], NOW + timedelta(days=1)) == gone
    assert known_feeds(gone, ["all", "category/x"], NOW + timedelta(days=1)) == first
