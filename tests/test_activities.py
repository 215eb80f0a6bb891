"""The pure part of the fediverse: handles, hashtags, what a reload federates (core/actors.py, core/activities.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from conftest import NOW
from syndicator.config import Settings
from syndicator.core.activities import Federated
from syndicator.core.activities import changes
from syndicator.core.activities import hashtag
from syndicator.core.actors import find_actor
from syndicator.core.actors import handles_of
from syndicator.core.actors import resource_handle
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.store.fediqueue import DeliveryQueue
from syndicator.store.fediqueue import QueueLimits
from syndicator.store.fediverse import FEDIVERSE_FILE
from syndicator.store.fediverse import Database
from syndicator.store.fediverse import FollowerStore


def test_hashtags_are_words_mastodon_accepts() -> None:
    """A tag's name becomes a hashtag of word characters, several words in CamelCase."""
    assert hashtag("Go") == "#Go"
    assert hashtag("machine learning") == "#MachineLearning"
    assert hashtag("Tajik-Russian relations") == "#TajikRussianRelations"
    assert hashtag("C++") == "#C"
    assert hashtag("!!!") == ""


def test_a_category_named_like_the_site_is_the_site(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A category whose slug is the site's handle has no account of its own: @blog is the whole site."""
    write_post("a.md", title="A", categories="[Blog, Alpha]", tags="[Go]")
    settings = make_settings(fediverse=True)
    built = Builder(settings)
    assert not isinstance(built.reload(NOW), ReloadError)
    assert built.snapshot is not None
    catalog = built.snapshot.catalog
    post = catalog.posts[0]
    assert handles_of(post, settings) == ("alpha", "author.test-site", "blog", "tag.go")
    site = find_actor(catalog, settings, "blog")
    assert site is not None and site.group.stem == "all"
    assert find_actor(catalog, settings, "tag.go") is not None
    assert find_actor(catalog, settings, "go") is None  # a tag is not a category
    assert resource_handle(settings, "acct:alpha@example.org") == "alpha"
    assert resource_handle(settings, "acct:alpha@elsewhere.org") is None


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


def test_a_state_dir_from_before_updates_were_dated_opens(tmp_path: Path) -> None:
    """fediverse.sqlite3 whose record of what was federated has no `updated` column gains it, its rows kept."""
    with sqlite3.connect(tmp_path / FEDIVERSE_FILE) as db:
        db.executescript(
            "CREATE TABLE federated (post_id TEXT PRIMARY KEY, handles TEXT NOT NULL, digest TEXT NOT NULL,"
            " deleted INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 1);"
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('baseline', '1');"
            "INSERT INTO federated VALUES ('p1', '[\"alpha\"]', 'd1', 0, 2);"
        )
    database = Database(tmp_path)
    store = FollowerStore(database)
    assert store.federated() == {"p1": Federated(("alpha",), "d1", generation=2)}
    with database.lock, database.db:
        store.record({"p1": Federated(("alpha",), "d2", generation=2, updated=NOW)})
    assert store.federated() == {"p1": Federated(("alpha",), "d2", generation=2, updated=NOW)}
    database.close()
