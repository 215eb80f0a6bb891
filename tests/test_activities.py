"""What a reload federates (core/activities.py): hashtags Mastodon accepts, and a post deleted then published again
is a new object."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from support.factories import NOW
from syndicator.config import Settings
from syndicator.core.activities import changes
from syndicator.core.activities import hashtag
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError


def test_hashtags_are_words_mastodon_accepts() -> None:
    """A tag's name becomes a hashtag of word characters, several words in CamelCase."""
    assert hashtag("Go") == "#Go"
    assert hashtag("machine learning") == "#MachineLearning"
    assert hashtag("Tajik-Russian relations") == "#TajikRussianRelations"
    assert hashtag("C++") == "#C"
    assert hashtag("!!!") == ""


def test_a_post_deleted_then_published_again_gets_new_ids(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Servers keep a deleted object gone: a post published again is a new object (a second generation)."""
    recent = (NOW - timedelta(hours=2)).isoformat()  # news at NOW (core.news)
    write_post("a.md", title="A", date=recent, categories="[Alpha]")
    write_post("b.md", title="B", date=recent, categories="[Beta]")
    settings = make_settings(fediverse=True)
    builder = Builder(settings)
    assert not isinstance(builder.reload(NOW), ReloadError)
    assert builder.snapshot is not None
    out, sent = changes({}, builder.snapshot.catalog, settings, NOW)
    first = {json.loads(o.body)["object"]["id"] for o in out}
    (posts_dir / "a.md").rename(posts_dir / "a.md.off")
    assert not isinstance(builder.reload(NOW + timedelta(minutes=1)), ReloadError)
    assert builder.snapshot is not None
    out, gone = changes(sent, builder.snapshot.catalog, settings, NOW)
    assert {o.kind for o in out} == {"Delete"}
    (posts_dir / "a.md.off").rename(posts_dir / "a.md")
    assert not isinstance(builder.reload(NOW + timedelta(minutes=2)), ReloadError)
    assert builder.snapshot is not None
    out, again = changes({**sent, **gone}, builder.snapshot.catalog, settings, NOW)
    assert {o.kind for o in out} == {"Create"}
    assert not first & {json.loads(o.body)["object"]["id"] for o in out}
    assert [f.generation for f in again.values()] == [2]  # A's; B did not change
