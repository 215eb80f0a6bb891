"""Markdown, sanitizing, word cuts, plain text, XML-legal text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicator.core.markup import first_paragraph
from syndicator.core.markup import joined
from syndicator.core.markup import plain_text
from syndicator.core.markup import render_markdown
from syndicator.core.markup import slugify
from syndicator.core.markup import truncate_html_words
from syndicator.core.markup import xml_legal

BASE = "https://example.org/posts/my-post/"


def test_markdown_renders_commonmark_and_tables() -> None:
    """CommonMark plus GFM tables."""
    html = render_markdown("# Head\n\n*em* and **strong**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", BASE)
    assert "<h1>Head</h1>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<table>" in html and "<td>1</td>" in html


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_rendering_frees_what_cmark_allocates() -> None:
    """Rendering 1,000 posts keeps neither their syntax trees nor their HTML: cmarkgfm's own helpers leak both
    (~120 MB here); keeping only the rendered strings would still grow ~6.7 MB, over the 5 MB allowed."""
    source = "\n\n".join(f"Paragraph {i} with *emphasis*, [a link](x/{i}) and `code`." for i in range(60))
    source += "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    render_markdown(source, BASE)
    before = _resident_mb()
    for _ in range(1000):
        render_markdown(source, BASE)
    assert _resident_mb() - before < 5


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[a](other/)", 'href="https://example.org/posts/my-post/other/"'),
        ("[a](../other/)", 'href="https://example.org/posts/other/"'),
        ("[a](/about/)", 'href="https://example.org/about/"'),
        ("![i](img.png)", 'src="https://example.org/posts/my-post/img.png"'),
        ("[a](https://else.example/x)", 'href="https://else.example/x"'),
        ("[a](#note)", 'href="https://example.org/posts/my-post/#user-content-note"'),
    ],
)
def test_relative_links_become_absolute_against_the_post_page(source: str, expected: str) -> None:
    """Relative links and images resolve against <site_url>/posts/<slug>/ as a browser would."""
    assert expected in render_markdown(source, BASE)


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
        "<style>body{}</style>",
        "<iframe src='https://x.example'></iframe>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<div onclick="alert(1)">x</div>',
    ],
)
def test_sanitizer_removes_active_content(evil: str) -> None:
    """No script, style, iframe, event handler or javascript: URL survives."""
    html = render_markdown(f"Text.\n\n{evil}\n", BASE).lower()
    for bad in ("<script", "<style", "<iframe", "onerror", "onclick", "javascript:", "alert(1)</"):
        assert bad not in html


def test_truncate_keeps_words_and_closes_tags() -> None:
    """The word cut keeps N words, adds … and closes open tags."""
    cut, was_cut = truncate_html_words("one <em>two three</em> four", 2)
    assert was_cut
    assert cut == "one <em>two…</em>"


def test_truncate_leaves_short_text_alone() -> None:
    """Text within the limit comes back unchanged and without an ellipsis."""
    assert truncate_html_words("one <b>two</b>", 5) == ("one <b>two</b>", False)


def test_first_paragraph_and_plain_text() -> None:
    """The first paragraph's inner HTML; plain text decodes entities and folds space."""
    assert first_paragraph("<h1>T</h1>\n<p>a <b>b</b></p>\n<p>c</p>") == "a <b>b</b>"
    assert plain_text("<p>Tom &amp; Jerry</p>\n<p>said  “hi”</p>") == "Tom & Jerry said “hi”"


def test_xml_legal_strips_control_characters() -> None:
    """XML-illegal characters go; tabs, newlines and astral characters stay."""
    assert xml_legal("a\x00b\x0bc\x1fd\ufffe\t\n😀") == ("abcd\t\n😀", True)
    assert xml_legal("clean") == ("clean", False)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Tajik-Russian relations", "tajik-russian-relations"),
        ("Foreign affairs", "foreign-affairs"),
        ("Таджикистан / Россия", "tadzhikistan-rossiia"),
        ("Arts & Crafts", "arts-crafts"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    """Category slugs come from python-slugify."""
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("fragment", "words", "expected"),
    [
        ("one <em>two</em>, three four five", 3, "one <em>two</em>, three…"),
        ("one <em>two</em>, three four five", 2, "one <em>two</em>,…"),
        ("<a href='x'>AT</a>&amp;<b>T</b> rocks, really", 2, "<a href='x'>AT</a>&amp;<b>T</b> rocks,…"),
        ("a<br>b c", 2, "a<br>b…"),
        ("one <em>two</em> three", 3, "one <em>two</em> three"),
    ],
)
def test_a_word_runs_across_inline_elements(fragment: str, words: int, expected: str) -> None:
    """A word-cut summary has exactly summary_words words: punctuation after an element is part of its word."""
    assert truncate_html_words(fragment, words)[0] == expected


FOOTNOTES = 'Text with a note[^a] and [a link](#here).\n\n<p id="here">Here.</p>\n\n[^a]: The note.\n'


def test_footnotes_link_to_prefixed_ids_on_the_post_page() -> None:
    """Footnotes render, their ids survive with the user-content- prefix, and every same-page link lands on one."""
    html = render_markdown(FOOTNOTES, BASE)
    ids = set(re.findall(r'id="([^"]*)"', html))
    targets = re.findall(r'href="https://example\.org/posts/my-post/#([^"]*)"', html)
    assert ids == {"user-content-fnref-a", "user-content-fn-a", "user-content-here"}
    assert sorted(targets) == ["user-content-fn-a", "user-content-fnref-a", "user-content-here"]
    assert "[^a]" not in html


@pytest.mark.parametrize(
    "evil",
    ['<a id="x" href="javascript:alert(1)">x</a>', "[x](#javascript:alert(1))", '<a href=" #x">x</a>'],
)
def test_fragment_rewrite_keeps_urls_safe(evil: str) -> None:
    """A rewritten fragment link is still checked by safe_url: it stays on the post page."""
    html = render_markdown(evil, BASE)
    assert "javascript:alert" not in html.replace("#user-content-javascript:alert", "")
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(BASE + "#user-content-")


def nesting_depth(fragment: str) -> int:
    """The most elements open at once in sanitized HTML (void elements never stay open)."""
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>", fragment):
        if name.lower() in ("br", "hr", "img", "wbr", "col", "area", "source"):
            continue
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize(
    "body",
    [
        "<div>" * 20_000 + "deep text" + "</div>" * 20_000,
        "<b>" * 20_000 + "deep text",
        "<blockquote><div>" * 10_000 + "deep text",
        "".join("  " * i + "- item\n" for i in range(1500)) + "\n    deep text\n",
    ],
    ids=["closed divs", "unclosed b", "mixed", "markdown list"],
)
def test_deep_nesting_is_flattened_before_sanitizing(body: str) -> None:
    """Markup nested deeper than a few hundred levels is flattened (its text kept), so sanitizing stays linear."""
    html = render_markdown(body, BASE)
    assert "deep text" in html
    assert nesting_depth(html) <= 260


def test_markup_nested_within_the_bound_is_untouched() -> None:
    """Two hundred nested elements (more than any post has) reach the sanitizer as they are."""
    html = render_markdown("<div>" * 200 + "<em>kept</em>" + "</div>" * 200, BASE)
    assert html == "<div>" * 200 + "<em>kept</em>" + "</div>" * 200


def test_a_thousand_srcset_candidates_are_all_kept() -> None:
    """A srcset of 1,000 candidates (each URL ending in a comma) is read in one pass: no RecursionError."""
    srcset = ", ".join(f"img{n}.png," for n in range(1000))
    html = render_markdown(f'<img src="a.png" srcset="{srcset}" alt="">', BASE)
    kept = re.search(r'srcset="([^"]*)"', html)
    assert kept is not None
    assert kept.group(1).split(", ") == [f"{BASE}img{n}.png" for n in range(1000)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '<figure class="wp-block-gallery has-nested-images columns-3 is-cropped"><figure class="wp-block-image">'
            "</figure></figure>",
            '<figure class="wp-block-gallery has-nested-images columns-3 is-cropped"><figure class="wp-block-image">',
        ),
        ('<img class="alignleft size-thumbnail wp-image-301" src="a.png">', 'class="alignleft size-thumbnail"'),
        ('<div class="gallery gallery-columns-3"><dl class="gallery-item">', 'class="gallery gallery-columns-3"'),
        ('<ul class="blocks-gallery-grid"><li class="blocks-gallery-item">', '<li class="blocks-gallery-item">'),
        ('<div class="wp-caption aligncenter"><p class="wp-caption-text">x</p>', '<p class="wp-caption-text">'),
        ('<div class="wp-block-columns is-not-stacked-on-mobile"><div class="wp-block-column">', "is-not-stacked"),
        ('<p class="has-text-align-right">r</p>', '<p class="has-text-align-right">r</p>'),
        ('<figure class="wp-block-cover alignfull">', '<figure class="wp-block-cover alignfull">'),
        ('<p class="skip-link entry site-header x alignleft alignleft">x</p>', '<p class="alignleft">x</p>'),
        ('<p class="skip-link">x</p>', "<p>x</p>"),  # a class of the page itself: dropped, the attribute too
        ('<p class="has-text-align-right" style="position:fixed">x</p>', '<p class="has-text-align-right">x</p>'),
        ('<h2 class="wp-block-heading">H</h2>', "<h2>H</h2>"),  # a class that lays nothing out
    ],
)
def test_wordpress_layout_classes_survive_sanitizing_from_an_allow_list(source: str, expected: str) -> None:
    """WordPress's layout classes are kept (each once), every other class is dropped, and never a style."""
    html = render_markdown(source + "\n", BASE)
    assert expected in html and "style" not in html


@hsettings(max_examples=300)
@given(st.text())
def test_xml_escape_and_quoteattr_are_the_standard_librarys(text: str) -> None:
    """Ours (no urllib.request, http.client and email imported with them) write what xml.sax.saxutils's do."""
    from xml.sax.saxutils import escape
    from xml.sax.saxutils import quoteattr

    from syndicator.core.markup import xml_escape
    from syndicator.core.markup import xml_quoteattr

    for sample in (text, text + "\"'", text + '"', text + "'\n\r\t<&>"):
        assert xml_escape(sample) == escape(sample)
        assert xml_quoteattr(sample) == quoteattr(sample)


BASES = st.sampled_from(
    [
        "https://blog.example.org/posts/a-post/",
        "https://blog.example.org",
        "http://127.0.0.1:8000/blog/2024/01/post/?q=1#f",
        "https://user@host.example:8443/x;p",
        "",
        "posts/relative/",
        "mailto:someone@example.org",
    ]
)


@hsettings(max_examples=2000)
@given(BASES, st.text(alphabet="/.;?#%:@!$&'()*+,=~-_aZ09 \\", max_size=24).map(lambda rest: "/" + rest))
def test_a_link_is_joined_to_its_base_as_urljoin_joins_it(base: str, value: str) -> None:
    """The shortcut for plain paths from the root gives urljoin's answer, for every path and base (its root given
    by the caller, as the sanitizer's filter does once per post, or not)."""
    assert joined(base, value) == joined(base, value, urljoin(base, "/")) == urljoin(base, value)


def test_binding_cmark_parses_no_c_declarations() -> None:
    """The two functions freed through are bound by ctypes: a cffi declaration costs pycparser at every start
    (16 ms of each process that renders Markdown)."""
    code = "import sys; from syndicator.core.markup import render_markdown; render_markdown('*a*', 'https://x.org/');"
    code += "print(sorted(name for name in sys.modules if name.startswith(('pycparser', 'cffi.cparser'))))"
    found = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert found.strip() == "[]"
