"""What is published at a moment, in what order, under which categories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from support.factories import NOW
from support.factories import Html
from support.factories import make_catalog
from support.factories import make_post
from support.factories import terms
from support.strategies import catalog_edits
from syndicator.core.catalog import group_terms


def test_newest_first_and_equal_dates_by_slug() -> None:
    """Posts are newest first; equal dates are ordered by slug ascending."""
    day = datetime(2025, 1, 1, tzinfo=UTC)
    catalog = make_catalog(
        make_post("b", date=day), make_post("a", date=day), make_post("c", date=day + timedelta(days=1))
    )
    assert [p.slug for p in catalog.posts] == ["c", "a", "b"]


def test_drafts_and_future_posts_are_not_published() -> None:
    """Drafts are never published; a future post waits and sets next_publish_at."""
    soon = NOW + timedelta(minutes=1)
    catalog = make_catalog(make_post("live"), make_post("draft", draft=True), make_post("later", date=soon))
    assert [p.slug for p in catalog.posts] == ["live"]
    assert catalog.next_publish_at == soon
    assert [p.slug for p in make_catalog(make_post("later", date=soon), now=soon).posts] == ["later"]


def test_duplicate_slug_goes_to_the_path_that_sorts_first() -> None:
    """Two posts with one slug: the first path keeps it, the other is reported."""
    catalog = make_catalog(make_post("x", path="posts/b.md", id="1"), make_post("x", path="posts/a.md", id="2"))
    assert [p.path for p in catalog.posts] == ["posts/a.md"]
    assert len(catalog.problems) == 1
    assert catalog.problems[0].path == "posts/b.md"
    assert "already used by posts/a.md" in catalog.problems[0].message


def test_duplicate_id_is_reported() -> None:
    """Two posts with one id would look like one entry to readers: the second is reported."""
    catalog = make_catalog(make_post("a", id="same"), make_post("b", id="same"))
    assert [p.slug for p in catalog.posts] == ["a"]
    assert "id 'same' is already used" in catalog.problems[0].message


def test_categories_merge_by_slug_with_the_most_used_spelling() -> None:
    """Names with one slug are one category, shown in the most used spelling."""
    catalog = make_catalog(
        make_post("a", categories=("Foreign Affairs",)),
        make_post("b", categories=("foreign affairs",)),
        make_post("c", categories=("Foreign affairs",)),
        make_post("d", categories=("Foreign affairs", "Drugs")),
    )
    assert list(catalog.categories) == ["drugs", "foreign-affairs"]
    assert catalog.categories["foreign-affairs"].name == "Foreign affairs"
    assert len(catalog.categories["foreign-affairs"].posts) == 4


def test_spelling_tie_goes_to_the_newest_post() -> None:
    """On a tie, the spelling of the newest post is shown."""
    old = make_post("old", date=datetime(2020, 1, 1, tzinfo=UTC), categories=("Tajik-Russian Relations",))
    new = make_post("new", date=datetime(2024, 1, 1, tzinfo=UTC), categories=("Tajik-Russian relations",))
    assert make_catalog(old, new).categories["tajik-russian-relations"].name == "Tajik-Russian relations"


def test_a_category_exists_while_a_published_post_is_in_it() -> None:
    """Categories of drafts and future posts do not exist yet."""
    catalog = make_catalog(
        make_post("a", categories=("Live",)),
        make_post("b", categories=("Hidden",), draft=True),
        make_post("c", categories=("Later",), date=NOW + timedelta(days=1)),
    )
    assert list(catalog.categories) == ["live"]


@given(st.lists(st.sampled_from(["Foo Bar", "foo bar", "FOO BAR", "foo-bar", "Other"]), min_size=1, max_size=12))
def test_grouping_is_stable_under_any_order(names: list[str]) -> None:
    """Property: every post lands in its slug's group, and the chosen spelling is one that was used."""
    posts = tuple(
        make_post(f"p{i}", date=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i), categories=(name,))
        for i, name in enumerate(names)
    )
    catalog = make_catalog(*posts)
    groups = group_terms(catalog.posts, lambda p: p.categories)
    assert sum(len(g.posts) for g in groups.values()) == len(names)
    for slug, group in groups.items():
        assert group.name in names
        assert all(t.slug == slug for p in group.posts for t in p.categories)
    assert terms("Foo Bar")[0].slug in groups or "foo-bar" not in {t.slug for p in posts for t in p.categories}


@given(catalog_edits())
def test_a_catalog_with_edits_equals_a_fresh_build(case: tuple[int, dict[str, object]]) -> None:
    """with_edits gives exactly what Catalog.build gives, or declines (None) when an edit moves a post."""
    index, change = case
    day = datetime(2025, 1, 1, tzinfo=UTC)
    posts = [
        make_post(f"p{i}", date=day + timedelta(days=i % 5), categories=("Alpha", "Beta")[: 1 + i % 2])
        for i in range(12)
    ]
    posts.append(make_post("later", date=NOW + timedelta(days=1)))
    catalog = make_catalog(*posts)
    old = posts[index]
    overrides = dict(change)
    if "categories" in overrides:
        overrides["categories"] = terms(*overrides["categories"])  # type: ignore[misc]
    if "summary_html" in overrides:
        overrides["text"] = Html(str(overrides.pop("summary_html")), "<p>New.</p>")
    new = replace(old, **overrides)
    edited = [new if p is old else p for p in posts]
    result = catalog.with_edits([(old, new)], NOW)
    fresh = make_catalog(*edited)
    if result is None:
        assert set(change) & {"categories", "date", "draft", "slug"}
        return
    assert set(change) <= {"title", "summary_html", "updated"}
    assert result.posts == fresh.posts and all(a is b for a, b in zip(result.posts, fresh.posts, strict=True))
    assert result.by_slug == fresh.by_slug
    for kind in ("category", "tag", "author"):
        assert result.taxonomy(kind) == fresh.taxonomy(kind)
    assert result.next_publish_at == fresh.next_publish_at and result.problems == fresh.problems


def test_a_catalog_with_edits_declines_when_a_scheduled_post_comes_due() -> None:
    """Once the next scheduled post is due, the published set changes: a full build is needed."""
    soon = NOW + timedelta(hours=1)
    post = make_post("live")
    catalog = make_catalog(post, make_post("later", date=soon))
    edit = [(post, replace(post, title="Edited"))]
    assert catalog.with_edits(edit, NOW + timedelta(minutes=5)) is not None
    assert catalog.with_edits(edit, soon) is None
    assert catalog.with_edits(edit, NOW - timedelta(minutes=5)) is None
