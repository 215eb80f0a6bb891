"""A site's fediverse accounts (core/actors.py): each category's, tag's and author's handle, the whole site's, and which
account a WebFinger resource names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.factories import NOW
from syndicator.config import Settings
from syndicator.core.actors import find_actor
from syndicator.core.actors import handles_of
from syndicator.core.actors import resource_handle
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError


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
