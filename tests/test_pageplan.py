"""core.pageplan: which pages exist and what each shows (WordPress paging, newest first)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from support.factories import make_catalog
from support.factories import make_post
from support.factories import terms
from syndicator.core.pageplan import Archive
from syndicator.core.pageplan import archives
from syndicator.core.pageplan import directory
from syndicator.core.pageplan import paged
from syndicator.core.urls import HOME
from syndicator.core.urls import page_path


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=12))
def test_every_post_is_on_exactly_one_page_in_order(count: int, size: int) -> None:
    """Page 1 holds the newest page_size posts, each next page the next ones; an empty archive has one page."""
    posts = tuple(make_post(f"p{n}", date=datetime(2025, 1, 1, tzinfo=UTC) - timedelta(days=n)) for n in range(count))
    pages = paged(Archive("category", "x", "X", posts), size)
    assert [post for spec in pages for post in spec.posts] == list(posts)
    assert len(pages) == max(1, -(-count // size)) and all(len(s.posts) == size for s in pages[:-1])
    assert [s.page for s in pages] == list(range(1, len(pages) + 1)) and {s.pages for s in pages} == {len(pages)}
    assert pages[0].newer is None and pages[-1].older is None
    for before, after in pairwise(pages):
        assert before.older == after.path and after.newer == before.path


def test_addresses_are_wordpress_ones() -> None:
    """/ and /<kind>/<slug>/ are page 1; page n is …/page/<n>/."""
    assert page_path("/", 1) == "/" and page_path("/", 3) == "/page/3/"
    assert page_path("/tag/red/", 2) == "/tag/red/page/2/"
    assert Archive(HOME, "", "Site", ()).base == "/" and Archive(HOME, "", "Site", ()).feed_stem == "all"
    assert Archive("author", "ann", "Ann", ()).base == "/author/ann/"


def test_archives_and_directory_list_every_group() -> None:
    """The home page, then every category, tag and author; the home page's directory counts their posts."""
    catalog = make_catalog(
        make_post("a", categories=("Alpha",), tags=terms("red")),
        make_post("b", categories=("Alpha", "Beta")),
    )
    bases = [a.base for a in archives(catalog, "Site")]
    assert bases[0] == "/" and "/category/alpha/" in bases and "/tag/red/" in bases
    listed = dict(directory(catalog))
    assert listed["category"] == (("alpha", "Alpha", 2), ("beta", "Beta", 1))
    assert listed["tag"] == (("red", "red", 1),)
    assert "page" not in listed  # no page: no empty list of pages


def test_the_directory_lists_names_in_their_alphabets_order() -> None:
    """Russian names in the Russian alphabet's order (Кино before Царь before Яблоко), where slug order put Яблоко
    (`iabloko`) before Кино (`kino`) and Царь (`tsar`) last; accented Latin beside its letter (Éclairs between Dates
    and Figs), not after z; a name's case does not move it."""
    names = ("Яблоко", "Кино", "Царь", "Армия", "Figs", "Éclairs", "dates")
    catalog = make_catalog(*(make_post(f"p{n}", categories=(name,)) for n, name in enumerate(names)))
    listed = dict(directory(catalog))
    assert [name for _slug, name, _count in listed["category"]] == [
        "dates",
        "Éclairs",
        "Figs",
        "Армия",
        "Кино",
        "Царь",
        "Яблоко",
    ]
