"""Rendered feeds: Atom, RSS, JSON Feed and OPML, field by field, deterministic."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import feedparser
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree

from support.factories import make_catalog
from support.factories import make_post
from support.factories import terms
from support.feedcheck import ATOM
from support.feedcheck import check_atom
from support.feedcheck import check_file
from support.feedcheck import check_json
from support.feedcheck import check_rss
from support.strategies import printable
from syndicator.config import Settings
from syndicator.core.render import render_feeds
from syndicator.model import Author


def day(n: int) -> datetime:
    return datetime(2025, 1, 1, 8, 0, tzinfo=UTC) + timedelta(days=n)


def test_every_category_has_three_formats_and_the_site_feeds(settings: Settings) -> None:
    """all.*, category/<slug>.* in three formats, and index.opml."""
    catalog = make_catalog(make_post("a", categories=("One", "Two")), make_post("b", categories=("Two",)))
    files = render_feeds(catalog, settings)
    assert sorted(files) == sorted(
        ["all.atom", "all.rss", "all.json", "index.opml"]
        + [f"category/{c}.{f}" for c in ("one", "two") for f in ("atom", "rss", "json")]
        + [f"author/writer.{f}" for f in ("atom", "rss", "json")]
    )


def test_atom_fields(settings: Settings) -> None:
    """Atom: stable feed id, titled per category, self/alternate links, complete entries."""
    post = make_post(
        "hello",
        date=day(0),
        updated=day(3),
        categories=("Tajik-Russian relations", "Borders"),
        author=Author("Ann", "ann@example.org", "https://ann.example"),
        summary_html="<p>Short.</p>",
        content_html="<p>Short.</p>\n<p>Long.</p>",
    )
    files = render_feeds(make_catalog(post), settings)
    root = check_atom(files["category/tajik-russian-relations.atom"])
    assert root.findtext(ATOM + "id") == "tag:example.org,2000:/feeds/category/tajik-russian-relations.atom"
    assert root.findtext(ATOM + "title") == "Test Site — Tajik-Russian relations"
    assert root.findtext(ATOM + "updated") == "2025-01-04T08:00:00+00:00"
    links = {x.get("rel"): x.get("href") for x in root.findall(ATOM + "link")}
    assert links["self"] == "https://example.org/feeds/category/tajik-russian-relations.atom"
    assert links["alternate"] == "https://example.org/category/tajik-russian-relations/"
    (own,) = root.findall(f"{ATOM}entry/{ATOM}link")  # written out, as SPEC has it (an absent rel means the same)
    assert (own.get("href"), own.get("rel"), own.get("type")) == (
        "https://example.org/posts/hello/",
        "alternate",
        "text/html",
    )
    parsed = feedparser.parse(files["category/tajik-russian-relations.atom"])
    entry = parsed.entries[0]
    assert entry.id == post.id
    assert entry.title == "Hello"
    assert entry.link == "https://example.org/posts/hello/"
    assert entry.published == "2025-01-01T08:00:00+00:00"
    assert entry.updated == "2025-01-04T08:00:00+00:00"
    assert entry.author_detail == {"name": "Ann", "email": "ann@example.org", "href": "https://ann.example"}
    assert [(t.term, t.label, t.scheme) for t in entry.tags] == [
        ("Tajik-Russian relations", "Tajik-Russian relations", "https://example.org/category/"),
        ("Borders", "Borders", "https://example.org/category/"),
    ]
    assert entry.summary == "<p>Short.</p>"
    assert entry.summary_detail.type == "text/html"
    assert entry.content[0].value == "<p>Short.</p>\n<p>Long.</p>"
    assert entry.content[0].type == "text/html"


def test_site_wide_feed_title_is_the_site_title(settings: Settings) -> None:
    """The site-wide feed's title is site_title, its alternate the home page."""
    root = check_atom(render_feeds(make_catalog(make_post("a")), settings)["all.atom"])
    assert root.findtext(ATOM + "title") == "Test Site"
    assert root.findtext(ATOM + "id") == "tag:example.org,2000:/feeds/all.atom"


def test_full_content_off_leaves_out_content(make_settings: Callable[..., Settings]) -> None:
    """full_content = false: summaries only."""
    files = render_feeds(make_catalog(make_post("a")), make_settings(full_content=False))
    assert check_atom(files["all.atom"]).find(f"{ATOM}entry/{ATOM}content") is None
    assert b"content:encoded" not in files["all.rss"]


def test_full_content_off_gives_the_json_feed_the_summary_too(make_settings: Callable[..., Settings]) -> None:
    """full_content = false (summaries only): the JSON Feed item's content_html was the full post all the same,
    what the README keeps for partners. It is the summary, as Atom and RSS give it; a summary left empty (a marker
    on the body's first line) gives the link to the post (an item needs a content)."""
    whole = "<p>Summary.</p>\n<p>The rest, for those who follow the link.</p>"
    teaser = make_post("teaser", content_html=whole)
    folded = make_post("folded", date=datetime(2025, 6, 2, tzinfo=UTC), summary_html="", content_html=whole)
    files = render_feeds(make_catalog(teaser, folded), make_settings(full_content=False))
    items = {item["url"].rsplit("/", 2)[1]: item for item in json.loads(files["all.json"])["items"]}
    assert items["teaser"]["content_html"] == "<p>Summary.</p>"
    assert "The rest" not in files["all.json"].decode() and "The rest" not in files["all.atom"].decode()
    assert items["folded"]["content_html"].startswith('<p><a href="https://example.org/posts/folded/">')
    full = json.loads(render_feeds(make_catalog(teaser), make_settings())["all.json"])["items"][0]
    assert full["content_html"] == whole


def test_rss_fields(settings: Settings) -> None:
    """RSS 2.0: channel fields, guid permalink rule, categories, excerpt and full content."""
    plain = make_post("plain", date=day(1), categories=("One",))
    permalink = make_post("perma", date=day(0), id="https://example.org/posts/perma/")
    files = render_feeds(make_catalog(plain, permalink), settings)
    root = check_rss(files["all.rss"])
    channel = root.find("channel")
    assert channel.findtext("title") == "Test Site"
    assert channel.findtext("link") == "https://example.org/"
    assert channel.findtext("language") == "en"
    assert channel.findtext("lastBuildDate") == "Thu, 02 Jan 2025 08:00:00 +0000"
    assert channel.find(f"{ATOM}link").get("href") == "https://example.org/feeds/all.rss"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Plain", "Perma"]
    assert items[0].find("guid").get("isPermaLink") == "false"
    assert items[1].find("guid").get("isPermaLink") == "true"
    assert items[0].findtext("pubDate") == "Thu, 02 Jan 2025 08:00:00 +0000"
    assert [c.text for c in items[0].findall("category")] == ["One"]
    assert items[0].findtext("description") == "<p>Summary.</p>"
    assert items[0].findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == plain.content_html
    assert items[0].findtext("{http://purl.org/dc/elements/1.1/}creator") == "Writer"


def test_json_feed_fields(settings: Settings) -> None:
    """JSON Feed 1.1: plain-text summary, HTML content, dates, tags, authors."""
    post = make_post("a", categories=("One",), summary_html="<p>Tom &amp; <em>Jerry</em></p>")
    document = check_json(render_feeds(make_catalog(post), settings)["category/one.json"])
    assert document["title"] == "Test Site — One"
    assert document["home_page_url"] == "https://example.org/category/one/"
    assert document["feed_url"] == "https://example.org/feeds/category/one.json"
    item = document["items"][0]
    assert item["id"] == post.id
    assert item["url"] == "https://example.org/posts/a/"
    assert item["summary"] == "Tom & Jerry"
    assert item["content_html"] == post.content_html
    assert item["date_published"] == "2025-06-01T10:00:00+00:00"
    assert item["date_modified"] == "2025-06-01T10:00:00+00:00"
    assert item["tags"] == ["One"]
    assert item["authors"] == [{"name": "Writer"}]


def test_feed_size_and_order(make_settings: Callable[..., Settings]) -> None:
    """The newest feed_size posts, newest first."""
    posts = [make_post(f"p{i}", date=day(i)) for i in range(5)]
    files = render_feeds(make_catalog(*posts), make_settings(feed_size=3))
    assert [e.title for e in feedparser.parse(files["all.atom"]).entries] == ["P4", "P3", "P2"]
    assert [i["title"] for i in json.loads(files["all.json"])["items"]] == ["P4", "P3", "P2"]


def test_feed_updated_is_the_newest_entry_not_the_build_time(settings: Settings) -> None:
    """Rendering the same catalog twice gives the same bytes; updated is the newest entry's."""
    catalog = make_catalog(make_post("a", date=day(0), updated=day(9)), make_post("b", date=day(5)))
    first = render_feeds(catalog, settings)
    assert first == render_feeds(catalog, settings)
    assert b"<updated>2025-01-10T08:00:00+00:00</updated>" in first["all.atom"]


def test_titles_stay_plain_text(settings: Settings) -> None:
    """A title with markup is escaped text in every format."""
    post = make_post("a", title="<b>Bold</b> & <script>x</script>")
    files = render_feeds(make_catalog(post), settings)
    assert feedparser.parse(files["all.atom"]).entries[0].title == "<b>Bold</b> & <script>x</script>"
    assert etree.fromstring(files["all.rss"]).findtext("channel/item/title") == "<b>Bold</b> & <script>x</script>"
    assert json.loads(files["all.json"])["items"][0]["title"] == "<b>Bold</b> & <script>x</script>"


def test_opml_lists_every_category_atom_feed(settings: Settings) -> None:
    """OPML 2.0 with one outline per category's Atom feed."""
    files = render_feeds(make_catalog(make_post("a", categories=("One", "Two & More"))), settings)
    root = etree.fromstring(files["index.opml"])
    assert root.get("version") == "2.0"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "https://example.org/feeds/category/one.atom",
        "https://example.org/feeds/category/two-more.atom",
        "https://example.org/feeds/author/writer.atom",
    ]
    assert outlines[1].get("text") == "Test Site — Two & More"


def test_empty_catalog_still_renders_valid_feeds(settings: Settings) -> None:
    """With nothing published, the site-wide feeds exist and validate."""
    files = render_feeds(make_catalog(), settings)
    check_atom(files["all.atom"])
    check_rss(files["all.rss"])
    check_json(files["all.json"])


@hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(title=printable, category=printable, body=st.text(max_size=300))
def test_any_post_renders_to_feeds_that_parse(settings: Settings, title: str, category: str, body: str) -> None:
    """Property: whatever a post file holds, every feed parses with bozo == 0 and carries no illegal character."""
    from syndicator.core.parse import parse_post

    text = "---\n" + json.dumps({"title": title, "date": "2025-01-01", "categories": [category]}) + "\n---\n" + body
    result = parse_post(text, "posts/x.md", settings)
    if not hasattr(result, "slug"):
        return
    for path, data in render_feeds(make_catalog(result), settings).items():
        check_file(path, data)


ANN = Author("Zoë Ñúñez", "zoe@example.org", "https://zoe.example/", "zoe-nunez")


def test_rss_names_the_author_with_dc_creator_only(settings: Settings) -> None:
    """RSS items carry dc:creator and no <author> (an e-mail address readers show whole), even with an e-mail."""
    files = render_feeds(make_catalog(make_post("a", author=ANN)), settings)
    item = check_rss(files["all.rss"]).find("channel/item")
    assert item.find("author") is None
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Zoë Ñúñez"
    author = check_atom(files["all.atom"]).find(f"{ATOM}entry/{ATOM}author")
    assert [author.findtext(ATOM + n) for n in ("name", "email", "uri")] == [ANN.name, ANN.email, ANN.uri]


def test_categories_show_their_names(settings: Settings) -> None:
    """Atom category term and label are the displayed name, scheme the taxonomy's URL; RSS category text is the name."""
    post = make_post("a", categories=("Ünïcödé Ça & Co",), tags=terms("C++ <templates>"))
    files = render_feeds(make_catalog(post), settings)
    categories = check_atom(files["all.atom"]).findall(f"{ATOM}entry/{ATOM}category")
    assert [(c.get("term"), c.get("label"), c.get("scheme")) for c in categories] == [
        ("Ünïcödé Ça & Co", "Ünïcödé Ça & Co", "https://example.org/category/"),
        ("C++ <templates>", "C++ <templates>", "https://example.org/tag/"),
    ]
    rss = check_rss(files["all.rss"]).findall("channel/item/category")
    assert [(c.text, c.get("domain")) for c in rss] == [
        ("Ünïcödé Ça & Co", "https://example.org/category/"),
        ("C++ <templates>", "https://example.org/tag/"),
    ]


def test_the_alternate_link_comes_before_self(settings: Settings) -> None:
    """A feed's first link is its site (rel=alternate), then rel=self: some readers take the first as the site."""
    files = render_feeds(make_catalog(make_post("a", categories=("One",))), settings)
    for path in ("all.atom", "category/one.atom"):
        rels = [x.get("rel") for x in check_atom(files[path]).findall(ATOM + "link")]
        assert rels.index("alternate") == 0 and rels.index("self") == 1, rels
    channel = check_rss(files["all.rss"]).find("channel")
    names = [child.tag for child in channel]
    assert names.index("link") < names.index(f"{ATOM}link")


def test_json_items_carry_the_1_0_author_beside_authors(settings: Settings) -> None:
    """JSON Feed items have 1.1 authors and the 1.0 author, for readers of either version."""
    item = check_json(render_feeds(make_catalog(make_post("a", author=ANN)), settings)["all.json"])["items"][0]
    assert item["authors"] == [{"name": "Zoë Ñúñez", "url": "https://zoe.example/"}]
    assert item["author"] == {"name": "Zoë Ñúñez", "url": "https://zoe.example/"}


def test_archive_pages_carry_hub_and_self_links(make_settings: Callable[..., Settings]) -> None:
    """RFC 5005 archive pages carry rel=hub and rel=self in the document, as the feed does."""
    posts = [make_post(f"p{i}", date=day(i)) for i in range(5)]
    files = render_feeds(make_catalog(*posts), make_settings(feed_size=2, archive_page_size=2))
    for page in ("archive/1.atom", "archive/3.atom"):
        links = {x.get("rel"): x.get("href") for x in check_atom(files[page]).findall(ATOM + "link")}
        assert links["hub"] == "https://example.org/websub"
        assert links["self"] == f"https://example.org/feeds/{page}"


def test_element_text_writes_markup_characters_as_references(settings: Settings) -> None:
    """&, < and > in element text are &#x26; &#x3C; &#x3E; (readers that decode entities twice), the same XML."""
    post = make_post("a", title="Tom &amp; Jerry <3", categories=("A & B",), content_html="<p>AT&amp;T &lt;b&gt;</p>")
    files = render_feeds(make_catalog(post), settings)
    for path in ("all.atom", "all.rss"):
        body = files[path]
        assert b"&amp;" not in body.replace(b'"A &amp; B"', b"").replace(b">A &amp; B<", b"")
        assert b"Tom &#x26;amp; Jerry &#x3C;3" in body
        assert b"&#x3C;p&#x3E;AT&#x26;amp;T &#x26;lt;b&#x26;gt;&#x3C;/p&#x3E;" in body
        assert feedparser.parse(body).entries[0].title == "Tom &amp; Jerry <3"
    assert feedparser.parse(files["all.atom"]).entries[0].content[0].value == "<p>AT&amp;T &lt;b&gt;</p>"


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60).map(
    lambda text: "".join(c for c in text if c in "\t\n\r" or c >= " ")
)
marked = st.tuples(xml_text, st.sampled_from(["", "&<>\r", "\ue000", "\ue001"])).map("".join)


@hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(title=marked, summary=marked, content=marked, empty=st.sampled_from(["", "summary", "content"]))
def test_entries_write_their_html_in_as_lxml_would(
    settings: Settings, title: str, summary: str, content: str, empty: str
) -> None:
    """An entry's summary and content, written in after the rest is serialized, give the bytes of lxml writing them
    itself; also when the marks that stand for them are in its title or HTML, or one of them is empty."""
    from syndicator.core.render import _serialized_entry
    from syndicator.core.render import atom_entry
    from syndicator.core.render import rss_item

    html = {
        "summary_html": "" if empty == "summary" else summary,
        "content_html": "" if empty == "content" else content,
    }
    post = make_post("a", title=f"T{title}", categories=("A & B",), **html)
    whole = (html["summary_html"], html["content_html"])
    assert atom_entry(post, ("A & B",), settings) == _serialized_entry(post, ("A & B",), settings, "atom", whole)
    assert rss_item(post, ("A & B",), settings) == _serialized_entry(post, ("A & B",), settings, "rss", whole)
