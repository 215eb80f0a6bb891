"""SPEC "Pages at any size": WordPress paging, pages made once per reload, ETags and 304s, post page metadata."""

from __future__ import annotations

import gzip
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lxml.html
import pytest

from support.factories import NOW
from support.factories import post_text
from support.feedcheck import check_atom
from support.feedcheck import parse
from syndicator.config import Settings
from syndicator.configtables import Redirects
from syndicator.core import pageplan
from syndicator.core.pagerender import blog_posting
from syndicator.core.pagerender import script_json
from syndicator.incremental import pagememo
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.output import FilesOutput

SITE = "https://example.org"
POSTS = 23  # with page_size 5: five pages, the last one short


def numbered_post(write_post: Callable[..., Path], n: int, title: str) -> Path:
    """Post n of the site: dated June n+1, in Alpha (and Beta when n is even), tagged red when n is a multiple of
    three, by Bob when n is a multiple of four and Ann otherwise."""
    extra = {"tags": "[red]"} if n % 3 == 0 else {}
    return write_post(
        f"2025-06-{n + 1:02d}-post-{n}.md",
        title=title,
        date=f"2025-06-{n + 1:02d}T10:00:00Z",
        categories="[Alpha]" if n % 2 else "[Alpha, Beta]",
        author="Ann Example" if n % 4 else "Bob",
        **extra,
    )


@pytest.fixture
def site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> tuple[Builder, Any]:
    """23 posts (one a day), all in Alpha, every third tagged red, by Ann or Bob; page_size 5."""
    for n in range(POSTS):
        numbered_post(write_post, n, f"Post {n}")
    settings = make_settings(page_size=5, redirects=Redirects({"category": {"old-alpha": "alpha"}}))
    builder = Builder(settings)
    builder.reload(NOW)
    return builder, create_app(settings, builder).test_client()


def page(client: Any, url: str, **headers: str) -> Any:
    response = client.get(url.removeprefix(SITE), headers=headers)
    assert response.status_code == 200, url
    return response


def tree(response: Any) -> Any:
    return lxml.html.fromstring(response.get_data(as_text=True))


def static(client: Any, name: str) -> tuple[str, bytes]:
    """A file of /static/: its media type and bytes (the response closed, as Flask's file responses want)."""
    with client.get(f"/static/{name}") as response:
        assert response.status_code == 200
        return response.mimetype, response.data


def walk(client: Any, first: str) -> list[Any]:
    """Every page of an archive, following <link rel="next"> from its first page."""
    pages, url = [], first
    while url:
        doc = tree(page(client, url))
        pages.append(doc)
        url = next(iter(doc.xpath('//head/link[@rel="next"]/@href')), None)
        assert len(pages) <= POSTS, "rel=next loops"
    return pages


def listed(doc: Any) -> list[str]:
    return [a.get("href") for a in doc.xpath('//article[@class="entry"]/h2/a')]


@pytest.mark.parametrize(
    ("first", "members"),
    [
        ("/", lambda c: c.posts),
        ("/category/alpha/", lambda c: c.categories["alpha"].posts),
        ("/category/beta/", lambda c: c.categories["beta"].posts),
        ("/tag/red/", lambda c: c.tags["red"].posts),
        ("/author/ann-example/", lambda c: c.authors["ann-example"].posts),
    ],
)
def test_rel_next_walks_every_post_once_newest_first(site: tuple[Builder, Any], first: str, members: Any) -> None:
    """From the first page, rel="next" meets every post of the archive exactly once, newest first, page_size a page."""
    builder, client = site
    expected = [f"{SITE}/posts/{post.slug}/" for post in members(builder.snapshot.catalog)]
    pages = walk(client, SITE + first)
    seen = [href for doc in pages for href in listed(doc)]
    assert seen == expected
    assert all(len(listed(doc)) == 5 for doc in pages[:-1]) and 1 <= len(listed(pages[-1])) <= 5
    assert len(pages) == -(-len(expected) // 5)
    for number, doc in enumerate(pages, start=1):
        here = SITE + first + (f"page/{number}/" if number > 1 else "")
        assert doc.xpath('//link[@rel="canonical"]/@href') == [here]
        prev = doc.xpath('//head/link[@rel="prev"]/@href')
        assert prev == ([SITE + first + (f"page/{number - 1}/" if number > 2 else "")] if number > 1 else [])
        older = doc.xpath('//nav[@class="pagination"]//a[@rel="next"]')
        newer = doc.xpath('//nav[@class="pagination"]//a[@rel="prev"]')
        assert [a.text_content().strip() for a in older] == (["← Older posts"] if number < len(pages) else [])
        assert [a.text_content().strip() for a in newer] == (["Newer posts →"] if number > 1 else [])


@pytest.mark.parametrize("first", ["/", "/category/alpha/", "/tag/red/", "/author/bob/"])
def test_page_one_redirects_and_past_the_end_is_404(site: tuple[Builder, Any], first: str) -> None:
    """/…/page/1/ answers 301 to the first page under site_url (whatever Host); a number past the last is 404."""
    _builder, client = site
    moved = client.get(f"{first}page/1/", headers={"Host": "evil.example"}, base_url="http://evil.example")
    assert moved.status_code == 301 and moved.headers["Location"] == SITE + first
    last = len(walk(client, SITE + first))
    assert client.get(f"{first}page/{last}/").status_code == (200 if last > 1 else 301)
    for beyond in (last + 1, 0, 99):
        gone = client.get(f"{first}page/{beyond}/")
        assert gone.status_code == 404 and gone.mimetype == "text/html"
        assert "Page not found" in gone.get_data(as_text=True)


def test_the_404_page_is_the_sites_own(site: tuple[Builder, Any]) -> None:
    """An unknown address answers 404 with an HTML page in the site's style; under /feeds/ it stays plain text."""
    _builder, client = site
    for path in ("/nothing/here", "/posts/unknown/", "/category/unknown/", "/category/unknown/page/2/"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 404 and response.headers["Content-Encoding"] == "gzip"
        doc = lxml.html.fromstring(gzip.decompress(response.get_data()))  # the test client does not inflate
        assert doc.xpath("//h1")[0].text == "Page not found"
        assert doc.xpath('//link[@rel="stylesheet"]/@href') == ["/static/style.css"]
        assert doc.xpath('//meta[@name="robots"]/@content') == ["noindex"]
        assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/feeds/nothing.atom").mimetype == "text/plain"


def test_pages_have_strong_etags_and_answer_304(site: tuple[Builder, Any]) -> None:
    """Strong ETag per representation, Last-Modified, 304 for either tag (weakly compared), HEAD, Vary."""
    _builder, client = site
    for path in ("/", "/page/3/", "/category/alpha/page/2/", "/posts/post-4/"):
        plain = client.get(path)
        zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert plain.headers["ETag"].startswith('"') and zipped.headers["ETag"] != plain.headers["ETag"]
        assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
        assert (
            plain.headers["Vary"] == "Accept-Encoding" and plain.headers["Content-Type"] == "text/html; charset=utf-8"
        )
        for tag in (plain.headers["ETag"], zipped.headers["ETag"], "W/" + plain.headers["ETag"]):
            again = client.get(path, headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
            assert again.status_code == 304 and again.data == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        since = client.get(path, headers={"If-Modified-Since": plain.headers["Last-Modified"]})
        assert since.status_code == 304
        head = client.head(path)
        assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == plain.headers["ETag"]
        with_query = client.get(path + "?utm_source=x")  # answered by Flask, from the same bytes
        assert with_query.headers["ETag"] == plain.headers["ETag"] and with_query.data == plain.data


def test_no_request_renders_a_page(site: tuple[Builder, Any]) -> None:
    """Pages are made by the reload; requests (the fast path and Flask's fallback) only pick their bytes."""
    builder, client = site
    made = builder.pages.rendered
    for path in ("/", "/page/2/", "/?x=1", "/category/alpha/", "/tag/red/page/2/", "/posts/post-1/", "/nothing/"):
        client.get(path)
    assert builder.pages.rendered == made
    assert not client.application.jinja_env.cache  # Flask never loaded a template


def edit_post_2(write_post: Callable[..., Path]) -> None:
    """Post 2 retitled in place: the 21st newest, on page 5 of the home page and of Alpha, 3 of Beta, 4 of Ann's."""
    write_post(
        "2025-06-03-post-2.md",
        title="Post 2, edited",
        date="2025-06-03T10:00:00Z",
        categories="[Alpha, Beta]",
        author="Ann Example",
    )


def test_only_pages_whose_posts_changed_are_made_again(
    site: tuple[Builder, Any], write_post: Callable[..., Path]
) -> None:
    """A reload keeps every page's bytes and ETag unless what it shows changed (like feeds)."""
    builder, _client = site
    before = dict(builder.snapshot.pages.by_path)
    builder.reload(NOW)
    assert builder.snapshot.pages.by_path == before
    edit_post_2(write_post)
    builder.reload(NOW)
    after = builder.snapshot.pages.by_path
    changed = {path for path in before if after[path] is not before[path]}
    # post 2 is the 21st newest: on page 5 of the home page and of Alpha, 3 of Beta, 4 of Ann's, and its own page;
    # its neighbours' pages show its title in their previous and next post links
    assert changed == {
        "/page/5/",
        "/category/alpha/page/5/",
        "/category/beta/page/3/",
        "/author/ann-example/page/4/",
        "/posts/post-2/",
        "/posts/post-1/",
        "/posts/post-3/",
    }
    assert set(after) == set(before)
    assert all(after[p].etag == before[p].etag for p in set(before) - changed)


def test_an_edit_in_place_looks_only_at_the_pages_holding_the_post(
    site: tuple[Builder, Any], write_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home page of 10,000 posts has a thousand pages: an edit that moves no post pages none of the others again
    (half the pages' work of a one-edit reload there)."""
    builder, _client = site
    looked: list[str] = []

    def paged(archive: pageplan.Archive, page_size: int, holding: Any = None) -> list[pageplan.PageSpec]:
        specs = pageplan.paged(archive, page_size, *([] if holding is None else [holding]))
        looked.extend(spec.path for spec in specs)
        return specs

    monkeypatch.setattr(pagememo, "paged", paged)
    edit_post_2(write_post)
    builder.reload(NOW)
    holding = ["/author/ann-example/page/4/", "/category/alpha/page/5/", "/category/beta/page/3/", "/page/5/"]
    assert sorted(looked) == holding
    assert b"Post 2, edited" in (builder.snapshot.pages.by_path["/page/5/"].bytes_kept(gzipped=False) or b"")


def test_pages_after_an_edit_are_those_a_fresh_load_makes(
    site: tuple[Builder, Any], write_post: Callable[..., Path]
) -> None:
    """Edits in place (the newest, the oldest and a middle post, with a page removed at the same time) give every page
    the bytes a builder loading the edited posts from scratch gives it, and no page of what is gone."""
    builder, _client = site
    about = write_post("pages/about.md", post_text(title="About", body="Us.\n", type="page"))
    builder.reload(NOW)
    assert "/about/" in builder.snapshot.pages.by_path
    for n in (0, 11, POSTS - 1):
        numbered_post(write_post, n, f"Post {n}, edited")
    about.unlink()
    builder.reload(NOW)
    fresh = Builder(builder.settings)
    fresh.reload(NOW)
    after, expected = builder.snapshot.pages.by_path, fresh.snapshot.pages.by_path
    assert set(after) == set(expected) and "/about/" not in after
    assert {path: f.etag for path, f in after.items()} == {path: f.etag for path, f in expected.items()}


def test_a_new_post_moves_every_page_of_its_archives(
    site: tuple[Builder, Any], write_post: Callable[..., Path]
) -> None:
    """WordPress paging is newest first: a new post moves each post one place, so those pages change; others stay."""
    builder, client = site
    before = dict(builder.snapshot.pages.by_path)
    write_post("2025-07-01-newest.md", title="Newest", date="2025-07-01T10:00:00Z", categories="[Beta]")
    builder.reload(NOW)
    after = builder.snapshot.pages.by_path
    assert after["/posts/post-3/"] is before["/posts/post-3/"]
    assert all(after[p] is before[p] for p in before if p.startswith(("/category/alpha/", "/tag/", "/author/")))
    assert all(after[p] is not before[p] for p in before if p == "/" or p.startswith(("/page/", "/category/beta/")))
    assert listed(tree(page(client, "/")))[0] == f"{SITE}/posts/newest/"


def test_post_pages_carry_canonical_opengraph_and_json_ld(site: tuple[Builder, Any]) -> None:
    """<link rel="canonical">, og:title/type/url/description and a BlogPosting with headline, dates and author."""
    _builder, client = site
    doc = tree(page(client, "/posts/post-4/"))
    url = f"{SITE}/posts/post-4/"
    assert doc.xpath('//link[@rel="canonical"]/@href') == [url]
    meta = {m.get("property"): m.get("content") for m in doc.xpath("//meta[@property]")}
    assert meta["og:title"] == "Post 4" and meta["og:type"] == "article" and meta["og:url"] == url
    assert meta["og:description"] == "Hello."
    assert "og:image" not in meta  # no featured image yet (the media work adds one)
    data = json.loads(doc.xpath('//script[@type="application/ld+json"]')[0].text)
    assert data["@type"] == "BlogPosting" and data["headline"] == "Post 4" and data["url"] == url
    assert data["datePublished"] == "2025-06-05T10:00:00+00:00" and data["dateModified"] == data["datePublished"]
    assert data["author"] == {"@type": "Person", "name": "Bob", "url": f"{SITE}/author/bob/"}


def test_json_ld_names_the_featured_image(site: tuple[Builder, Any]) -> None:
    """Once a post has an image, the BlogPosting names it (the hook the media work fills)."""
    builder, _client = site
    post = builder.snapshot.catalog.posts[0]
    image = SimpleNamespace(url="https://example.org/a.jpg")
    assert blog_posting(post, builder.settings, "Hi.", image)["image"] == "https://example.org/a.jpg"
    assert "image" not in blog_posting(post, builder.settings, "Hi.")


def test_json_ld_cannot_end_its_script_element(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A title with </script> or <!-- stays inside the JSON-LD (escaped), and reads back as written."""
    title = "</script><script>alert(1)</script> <!-- & more -->"
    write_post("2025-01-01-hostile.md", title=title, date="2025-01-01T00:00:00Z")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    body = create_app(settings, builder).test_client().get("/posts/hostile/").get_data(as_text=True)
    script = body.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and ">" not in script
    assert json.loads(script)["headline"] == title
    assert body.count("<script") == 1
    assert script_json({"a": "</script>\u2028"}) == '{"a": "\\u003c/script\\u003e\\u2028"}'


def test_what_a_reader_of_the_blog_expects(site: tuple[Builder, Any]) -> None:
    """Tags on posts, authors linked to their archive, a footer with the feeds and the OPML, a favicon, dark mode."""
    _builder, client = site
    doc = tree(page(client, "/category/alpha/"))
    first = doc.xpath('//article[@class="entry"]')[1]  # post 21: tagged red, by Ann, only in Alpha
    assert [a.get("href") for a in first.xpath('.//p[@class="tagged"]/a')] == [f"{SITE}/tag/red/"]
    assert first.xpath('.//a[@rel="author"]/@href') == [f"{SITE}/author/ann-example/"]
    assert first.xpath('.//p[@class="filed"]')[0].text_content() == "Filed under Alpha"
    footer = doc.xpath("//footer")[0]
    assert {f"{SITE}/feeds/all.atom", f"{SITE}/feeds/all.rss", f"{SITE}/feeds/index.opml"} <= set(
        footer.xpath(".//a/@href")
    )
    assert doc.xpath('//link[@rel="icon"]/@href') == ["/static/favicon.svg"]  # from the host asked, as CSP wants
    post = tree(page(client, "/posts/post-3/"))
    assert post.xpath('//section[@class="post-terms"]//a[@rel="tag"]/text()') == ["red"]
    assert b"@media (prefers-color-scheme: dark)" in static(client, "style.css")[1]
    assert static(client, "favicon.svg")[0] == "image/svg+xml"


@pytest.mark.parametrize("path", ["/", "/category/alpha/", "/posts/post-1/"])
def test_links_a_screen_reader_can_tell_apart(site: tuple[Builder, Any], path: str) -> None:
    """Two links with the same accessible name go to the same place (no row of links all named "Atom")."""
    _builder, client = site
    names: dict[str, set[str]] = {}
    for link in tree(page(client, path)).xpath("//body//a[@href]"):
        name = " ".join(link.get("aria-label", link.text_content()).split())
        names.setdefault(name, set()).add(link.get("href"))
    assert {name: hrefs for name, hrefs in names.items() if len(hrefs) > 1} == {}
    assert "Atom feed of Alpha" in names or path != "/"


def test_feeds_carry_a_stylesheet_for_browsers(site: tuple[Builder, Any]) -> None:
    """Atom and RSS name a CSS stylesheet (a browser shows a page that says what a feed is); they stay valid."""
    _builder, client = site
    pi = b'<?xml-stylesheet type="text/css" href="https://example.org/static/feed.css"?>'
    for path in ("/feeds/all.atom", "/feeds/category/alpha.rss", "/feeds/archive/1.atom"):
        body = client.get(path).data
        assert body.split(b"\n")[1] == pi, path
        parse(body)
    check_atom(client.get("/feeds/all.atom").data)
    assert b"xml-stylesheet" not in client.get("/feeds/all.json").data
    media_type, css = static(client, "feed.css")
    assert media_type == "text/css" and b"feed::before" in css and b"prefers-color-scheme" in css


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Dest": "document"}, {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}],
)
def test_a_feed_opened_in_a_browser_is_xml_it_renders(site: tuple[Builder, Any], headers: dict[str, str]) -> None:
    """A browser shows atom+xml as text: a navigation gets the same bytes as application/xml, privately cached."""
    _builder, client = site
    reader = client.get("/feeds/all.atom", headers={"Accept": "application/atom+xml, */*"})
    assert reader.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert reader.headers["Cache-Control"] == "public, max-age=60"
    opened = client.get("/feeds/all.atom", headers=headers)
    assert opened.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert opened.headers["Cache-Control"] == "private, max-age=60"  # no shared cache hands it to a reader
    assert opened.data == reader.data and opened.headers["ETag"] == reader.headers["ETag"]
    assert client.get("/feeds/all.json", headers=headers).headers["Content-Type"].startswith("application/feed+json")


def test_old_slugs_redirect_page_by_page(site: tuple[Builder, Any]) -> None:
    """A renamed category's old pages answer 301 to the same page under the new slug."""
    _builder, client = site
    response = client.get("/category/old-alpha/page/2/")
    assert response.status_code == 301 and response.headers["Location"] == f"{SITE}/category/alpha/page/2/"


def test_pages_live_in_memory_only(site: tuple[Builder, Any]) -> None:
    """No page is written under output_dir (it stays the feeds' static site), and a build makes none."""
    builder, _client = site
    assert not list(builder.settings.output_dir.rglob("*.html"))
    one_off = Builder(builder.settings, FilesOutput())
    one_off.reload(NOW)
    assert one_off.snapshot is not None and one_off.snapshot.pages.by_path == {}


def test_a_page_of_a_non_ascii_slug_is_served(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A post slug in Cyrillic has its page at its own address (WSGI hands the path as Latin-1 bytes)."""
    write_post("talks.md", title="Talks", date="2024-01-01T00:00:00Z", slug="переговоры")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    response = create_app(settings, builder).test_client().get("/posts/переговоры/")
    assert response.status_code == 200 and "<h1>Talks</h1>" in response.get_data(as_text=True)


def test_a_post_page_links_the_previous_and_the_next_post(site: tuple[Builder, Any]) -> None:
    """Post pages link the post published before (rel=prev) and after (rel=next); the oldest and newest one only."""
    _builder, client = site

    def around(slug: str) -> dict[str, tuple[str, str]]:
        nav = tree(page(client, f"/posts/{slug}/")).xpath('//nav[@class="post-navigation"]//a')
        return {a.get("rel"): (a.get("href"), a.xpath('string(.//span[@class="title"])')) for a in nav}

    assert around("post-5") == {
        "prev": (f"{SITE}/posts/post-4/", "Post 4"),
        "next": (f"{SITE}/posts/post-6/", "Post 6"),
    }
    assert around("post-0") == {"next": (f"{SITE}/posts/post-1/", "Post 1")}
    assert around(f"post-{POSTS - 1}") == {"prev": (f"{SITE}/posts/post-{POSTS - 2}/", f"Post {POSTS - 2}")}


@pytest.mark.parametrize(
    "path", ["/", "/page/2/", "/category/alpha/", "/tag/red/page/2/", "/author/bob/", "/posts/post-3/", "/nothing/"]
)
def test_every_page_has_one_h1(site: tuple[Builder, Any], path: str) -> None:
    """One <h1> per page: the home page does not repeat the site title (the header's) as a heading."""
    _builder, client = site
    answer = client.get(path)
    headings = tree(answer).xpath("//h1")
    assert len(headings) == 1, [h.text_content() for h in headings]
    if path == "/":
        assert headings[0].text_content().strip() == "Latest posts"


def test_a_post_page_shows_its_categories_and_tags_with_their_feeds(site: tuple[Builder, Any]) -> None:
    """Each category and tag of the post: its archive page, and its Atom, RSS and JSON feeds behind "Subscribe"."""
    _builder, client = site
    terms = tree(page(client, "/posts/post-0/")).xpath('//section[@class="post-terms"]//li')
    found = {li.xpath("string(./a[1])"): li.xpath(".//details//a/@href") for li in terms}
    assert found == {
        name: [f"{SITE}/feeds/{stem}.{fmt}" for fmt in ("atom", "rss", "json")]
        for name, stem in (("Alpha", "category/alpha"), ("Beta", "category/beta"), ("red", "tag/red"))
    }
    assert [li.xpath("string(./a[1]/@href)") for li in terms][:2] == [
        f"{SITE}/category/alpha/",
        f"{SITE}/category/beta/",
    ]
    section = tree(page(client, "/posts/post-0/")).xpath('//section[@class="post-terms"]')[0]
    kinds = {
        p.text: [li.xpath("string(./a[1])") for li in section.xpath(f'.//ul[@aria-labelledby="{p.get("id")}"]/li')]
        for p in section.xpath('./p[@class="terms-kind"]')
    }
    assert kinds == {"Categories": ["Alpha", "Beta"], "Tag": ["red"]}  # which names are categories, which tags


def test_the_home_page_lists_terms_compactly(site: tuple[Builder, Any]) -> None:
    """The directory: each category, tag and author once, its feeds behind one "Subscribe" (not three links each)."""
    _builder, client = site
    aside = tree(page(client, "/")).xpath('//aside[@class="directory"]')[0]
    items = aside.xpath(".//li")
    assert len(items) == 2 + 1 + 2  # Alpha, Beta; red; Ann Example, Bob
    for item in items:
        (menu,) = item.xpath("./details")
        assert menu.xpath("string(./summary)").startswith("Subscribe")
        assert item.xpath("./a/@href") == item.xpath("./a[1]/@href")  # outside the menu: only the archive's link
        assert len(menu.xpath(".//a")) == 3


def test_a_post_asked_for_in_decomposed_form_is_sent_to_its_address(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """`/posts/café/` typed or linked decomposed (as macOS spells it) answers 301 to the composed address the post
    is at, where it was 404; both spellings read the same to a person."""
    from urllib.parse import quote

    from syndicator.service.http.app import create_app

    write_post("café.md", title="Café")
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    composed = quote("/posts/café/")
    assert client.get(composed).status_code == 200
    answer = client.get(quote(unicodedata.normalize("NFD", "/posts/café/")))
    assert answer.status_code == 301 and answer.headers["Location"] == f"https://example.org{composed}"
    assert client.get(quote("/posts/cafe\u0301s/")).status_code == 404
