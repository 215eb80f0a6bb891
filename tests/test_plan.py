"""Which feeds exist (core/plan.py): the site-wide, category, tag and author feeds, their RFC 5005 archive pages, their
files and their hub topics."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from support.factories import make_catalog
from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.plan import feed_specs
from syndicator.core.plan import topics


def test_the_topics_of_a_plan_are_its_feeds_files(settings: Settings) -> None:
    """Each feed's three files are topics and its archive pages' are not (one definition for the hub and audience)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    posts = [make_post(f"p{n}", date=start + timedelta(days=n), categories=("A",)) for n in range(60)]
    specs = feed_specs(make_catalog(*posts), Settings(site_url="https://example.org", feed_size=10))
    assert any(spec.is_archive for spec in specs)
    assert topics(specs) == {path for spec in specs if not spec.is_archive for path in spec.paths}
