"""publish(posts, ledger, now), the one path from posts to a catalog (core/pipeline.py): after edits it equals
publishing everything."""

from __future__ import annotations

from dataclasses import replace

from support.factories import NOW
from support.factories import make_post
from syndicator.core.ledger import Record
from syndicator.core.ledger import assign_ids
from syndicator.core.pipeline import publish


def test_publish_after_edits_equals_publishing_everything() -> None:
    """Given the last result, only edited posts are looked up; posts, warnings and catalog equal a full publish's."""
    ledger = {
        "a.md": Record("tag:old,2020:/posts/a", "a"),
        "b.md": Record("tag:old,2020:/posts/b", "b"),
    }
    a = make_post("a", source="a.md")
    b = make_post("b", source="b.md", id="tag:explicit:/b", explicit_id=True)
    c = make_post("c", source="c.md")
    first = publish([a, b, c], ledger, NOW)
    assert [p.id for p in first.posts] == ["tag:old,2020:/posts/a", "tag:explicit:/b", c.id]
    assert [w.path for w in first.id_warnings] == [b.path]

    a2, c2 = replace(a, title="A2"), replace(c, title="C2")
    second = publish([a2, b, c2], ledger, NOW, first)
    full = publish([a2, b, c2], ledger, NOW)
    assert second.posts == full.posts and second.id_warnings == full.id_warnings
    assert second.catalog.posts == full.catalog.posts
    assert second.posts[1] is first.posts[1]

    b2 = replace(b, id="tag:old,2020:/posts/b", explicit_id=False)  # the explicit id is dropped: warning gone
    third = publish([a2, b2, c2], ledger, NOW, second)
    assert third.id_warnings == [] and third.catalog.posts == publish([a2, b2, c2], ledger, NOW).catalog.posts
    moved = publish([a2, c2, b2], ledger, NOW, third)  # files in another order: a full publish
    assert moved.posts == assign_ids([a2, c2, b2], ledger)[0]
