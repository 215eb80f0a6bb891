"""incremental.memo: what a feed's bytes depend on, compared in memory and recorded across processes."""

from __future__ import annotations

from dataclasses import replace

from support.factories import make_catalog
from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.plan import FeedSpec
from syndicator.core.plan import feed_specs
from syndicator.incremental.changes import decide
from syndicator.incremental.memo import Digests
from syndicator.model import Episode
from syndicator.model import Post
from syndicator.problem import LoadProblem
from syndicator.store.records import FeedRecord

FINGERPRINT = "code settings folder"


def episode_post(number: int) -> Post:
    """A post whose only difference is in a field the model gained with a feature (podcasts: its episode)."""
    return replace(make_post("show", categories=("Shows",)), episode=Episode(number=number))


def site_feed(catalog: Catalog, settings: Settings) -> FeedSpec:
    return next(spec for spec in feed_specs(catalog, settings) if spec.stem == "all")


def test_an_edit_of_a_new_post_field_alone_renders_the_feed_again_in_a_new_process(settings: Settings) -> None:
    """A post field added to the model counts in the recorded digest: editing only it leaves no stale feed on disk."""
    before = make_catalog(episode_post(1))
    recorded = Digests(FINGERPRINT).digest(site_feed(before, settings), before)
    after = make_catalog(episode_post(2))
    spec = site_feed(after, settings)
    digests = Digests(FINGERPRINT)  # a new process: nothing in memory, only the record of the last build
    plan = decide(
        [spec],
        lambda s: digests.key(s, after),
        lambda s: digests.digest(s, after),
        {},
        {"all": FeedRecord(recorded, {})},
        {},
    )
    assert [s.stem for s, _digest in plan.to_render] == ["all"]
    assert plan.current == []


def test_an_edit_of_a_new_post_field_alone_changes_the_key_in_memory(settings: Settings) -> None:
    """The same edit, seen by a running server: the feed's key changes, so it is rendered again."""
    digests = Digests(FINGERPRINT)
    before, after = make_catalog(episode_post(1)), make_catalog(episode_post(2))
    assert digests.key(site_feed(before, settings), before) != digests.key(site_feed(after, settings), after)


def test_the_digest_ignores_what_no_feed_shows(settings: Settings) -> None:
    """A post's problems (reported, never published) do not make its feeds be rendered again."""
    post = make_post("quiet", categories=("A",))
    warned = replace(post, warnings=(LoadProblem(post.path, 3, "unknown field 'categroies'", fatal=False),))
    one, two = make_catalog(post), make_catalog(warned)
    assert Digests(FINGERPRINT).digest(site_feed(one, settings), one) == Digests(FINGERPRINT).digest(
        site_feed(two, settings), two
    )
