"""WordPress import, round 2: content as WordPress itself showed it (SPEC "Real WordPress sites, round 2")."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.commands import run_import
from support.factories import wxr_export
from support.factories import wxr_item
from support.paths import DATA
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.importers.content import convert
from syndicator.incremental.postcache import PostCache
from syndicator.model import Post

DATA = DATA / "wordpress"
CLASSIC = DATA / "classic-site.xml"
UPLOADS = "http://old.example.net/wp-content/uploads/2020/05"
# Elements that hold no text of their own: WordPress puts no <br> or <p> directly inside them.
NO_BREAKS_IN = {"table", "thead", "tbody", "tfoot", "tr", "ul", "ol", "dl", "figure"}
BLOCKS = {"table", "ul", "ol", "dl", "pre", "figure", "h1", "h2", "h3", "blockquote", "div", "p", "audio", "video"}


class Misplaced(HTMLParser):
    """Collects each <br> right inside a table, list, dl or figure, and each block element inside a <p>."""

    VOID = frozenset({"br", "img", "hr", "source", "input", "meta", "link", "wbr", "col", "area"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.open[-1] if self.open else ""
        if tag == "br" and parent in NO_BREAKS_IN:
            self.found.append(f"<br> in <{parent}>")
        if tag in BLOCKS and "p" in self.open:
            self.found.append(f"<{tag}> in <p>")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass


def misplaced(fragment: str) -> list[str]:
    parser = Misplaced()
    parser.feed(fragment)
    return parser.found


def import_into(root: Path, export: Path) -> dict[str, Post]:
    """Import an export with the real CLI into root/posts; the posts as every build reads them, by slug."""
    result = run_import(export, root, config="s.toml")
    assert result.exit_code == 0, result.output
    posts, _problems = PostCache(Settings(posts_dir=root / "posts")).refresh()
    return {post.slug: post for post in posts}


def body_of(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---\n", 2)[2].strip()


@pytest.fixture(scope="module")
def classic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the classic site imported into posts/ (once for this module: tests only read it)."""
    root = tmp_path_factory.mktemp("classic")
    import_into(root, CLASSIC)
    return root


@pytest.fixture
def classic(classic_root: Path) -> dict[str, Post]:
    posts, _problems = PostCache(Settings(posts_dir=classic_root / "posts")).refresh()
    return {post.slug: post for post in posts}


def classic_body(root: Path, name: str) -> str:
    """The body of one of the classic site's post files, as the import wrote it."""
    return body_of(root / "posts" / f"{name}.md")


def export_of(tmp_path: Path, *items: str) -> Path:
    export = tmp_path / "export.xml"
    export.write_text(wxr_export(*items), encoding="utf-8")
    return export


@pytest.mark.parametrize(
    ("content", "html"),
    [
        (  # a table and its rows, written on lines of their own
            "Prices:\n<table>\n<thead>\n<tr>\n<th>Town</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>Osh</td>\n</tr>\n"
            "</tbody>\n</table>\nAfter.",
            "<p>Prices:</p>\n\n<table>\n<thead>\n<tr>\n<th>Town</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>Osh</td>\n"
            "</tr>\n</tbody>\n</table>\n\n<p>After.</p>",
        ),
        (  # headings and a quote between lines of text: none of them inside a paragraph
            "<strong>Headings</strong>\n<h2>Two</h2>\nA line:\n<blockquote>Quoted.</blockquote>\nEnd",
            "<p><strong>Headings</strong></p>\n\n<h2>Two</h2>\n\n<p>A line:</p>\n\n"
            "<blockquote><p>Quoted.</p></blockquote>\n\n<p>End</p>",
        ),
        (  # nested lists and a definition list
            "<ul>\n\t<li>One\n<ul>\n\t<li>Inner</li>\n</ul>\n</li>\n</ul>\n<dl>\n\t<dt>T</dt>\n\t<dd>D</dd>\n</dl>",
            "<ul>\n<li>One\n<ul>\n<li>Inner</li>\n</ul>\n</li>\n</ul>\n\n<dl>\n<dt>T</dt>\n<dd>D</dd>\n</dl>",
        ),
        (  # an image alone is a paragraph of its own; one in a line of text stays in it
            '<img src="a.jpg" alt="" />\n\nText <img src="b.jpg" alt="" />\nmore',
            '<p><img src="a.jpg" alt="" /></p>\n\n<p>Text <img src="b.jpg" alt="" /><br />\nmore</p>',
        ),
        (  # a figure with its caption: no paragraph or break inside
            '<figure><img src="a.jpg" alt="" />\n<figcaption>A caption</figcaption>\n</figure>',
            '<figure><img src="a.jpg" alt="" /><figcaption>A caption</figcaption></figure>',
        ),
        (  # two <br>s make a new paragraph; a newline inside a tag is no line break
            'One<br><br>Two <a\nhref="x">link</a>',
            '<p>One</p>\n\n<p>Two <a\nhref="x">link</a></p>',
        ),
    ],
)
def test_classic_content_gets_wordpress_paragraph_rules(content: str, html: str) -> None:
    """Classic content: WordPress's paragraphs, and no <br> or <p> inside tables, lists, dl, pre or figures."""
    converted = convert(content).html
    assert converted == html
    assert misplaced(converted) == []


def test_media_sources_tracks_and_object_parameters_get_no_breaks() -> None:
    """Inside <video> and <object>, the white space around <source>, <track>, <param> and <embed> is layout only."""
    content = (
        'Watch:\n\n<video controls>\n\t<source src="a.mp4" type="video/mp4" />\n\t<!-- WebM -->\n'
        '\t<source src="a.webm" type="video/webm" />\n\t<track kind="captions" src="c.vtt" />\n'
        '\t<a href="a.mp4">a.mp4</a>\n</video>\n\n<object data="x.swf">\n\t<param name="a" value="1" />\n\n'
        '\t<embed src="x.swf" />\n</object>'
    )
    assert convert(content).html == (
        '<p>Watch:</p>\n\n<p><video controls><source src="a.mp4" type="video/mp4" /><!-- WebM -->'
        '<source src="a.webm" type="video/webm" /><track kind="captions" src="c.vtt" /><a href="a.mp4">a.mp4</a>'
        '</video></p>\n\n<p><object data="x.swf"><param name="a" value="1" /><embed src="x.swf" /></object></p>'
    )


def test_classic_posts_render_with_no_breaks_inside_blocks(classic: dict[str, Post]) -> None:
    """An imported classic post, as every build renders it: tables, lists, dl and pre get no <br> or <p> inside."""
    html = classic["markup"].content_html
    assert misplaced(html) == []
    assert (
        "<table>\n<thead>\n<tr>\n<th>Town</th>" in html and "<br" not in html.split("<table>")[1].split("</table>")[0]
    )
    assert "<pre>line one\n\nline three</pre>" in html
    assert "<p>Last words<br />\non two lines.</p>" in html or "<p>Last words<br>\non two lines.</p>" in html
    for post in classic.values():
        assert misplaced(post.content_html) == [], post.slug


def test_caption_becomes_a_figure_with_figcaption(classic_root: Path) -> None:
    """[caption] is a <figure class="wp-caption align…"> holding the image and a <figcaption> (text or attribute)."""
    body = classic_body(classic_root, "2020-05-03-captions")
    assert (
        '<figure class="wp-caption alignleft"><a href="http://old.example.net/wp-content/uploads/2020/05/one.jpg">'
        '<img class="size-thumbnail wp-image-301" src="http://old.example.net/wp-content/uploads/2020/05/'
        'one-150x150.jpg" alt="The bridge" width="150" height="150" /></a>'
        '<figcaption class="wp-caption-text">The bridge at <em>dawn</em></figcaption></figure>'
    ) in body
    assert "<p>The text goes on beside it.</p>" in body
    assert '<figcaption class="wp-caption-text">Given as an attribute</figcaption></figure>' in body
    assert f'</figure>\n<img src="{UPLOADS}/three.png" alt="No caption" />\n\n' in body  # no caption: no figure
    assert "[caption" not in body and "[/caption]" not in body


def image_names(fragment: str) -> list[str]:
    """The file names of the images in an HTML fragment, in order."""
    return [src.split('"')[0].rsplit("/", 1)[1] for src in fragment.split('src="')[1:]]


def test_gallery_without_ids_shows_the_posts_images_in_menu_order(classic_root: Path, classic: dict[str, Post]) -> None:
    """[gallery] without ids: the images uploaded to the post (post_parent), by menu_order, as a block gallery."""
    body = classic_body(classic_root, "2020-05-02-post-format-gallery")
    first = body.split("\n</figure>")[0]
    assert first.startswith('<figure class="wp-block-gallery has-nested-images columns-3 is-cropped">\n')
    assert image_names(first) == ["two.jpg", "three.png", "one.jpg"]  # menu_order 1, 2, 3; the PDF is no image
    assert (
        f'<figure class="wp-block-image size-large"><img src="{UPLOADS}/one.jpg" alt="The bridge" '
        'class="wp-image-301" /><figcaption class="wp-element-caption">The bridge at dawn</figcaption></figure>'
    ) in first
    html = classic["post-format-gallery"].content_html
    assert "notes.pdf" not in html and misplaced(html) == []
    assert image_names(html.split("</figure>\n</figure>")[0]) == ["two.jpg", "three.png", "one.jpg"]


def test_post_format_gallery_has_a_gallery_under_each_heading(classic_root: Path) -> None:
    """A "Post Format: Gallery" post: each heading is followed by its gallery, none is an empty heading."""
    body = classic_body(classic_root, "2020-05-02-post-format-gallery")
    assert body.count('<figure class="wp-block-gallery has-nested-images columns-3 is-cropped">') == 2
    assert '<h2>Two Columns</h2>\n\n<figure class="wp-block-gallery has-nested-images columns-2 is-cropped">' in body
    assert image_names(body.split("<h2>Leaving one out</h2>")[1]) == ["one.jpg", "two.jpg"]  # exclude, DESC
    assert "<!--nextpage-->" not in body and "<p>The same pictures in columns.</p>" in body


def test_gallery_with_ids_keeps_their_order_and_links_files(classic_root: Path) -> None:
    """[gallery ids="303,301" link="file"]: those images in that order, each linked to its file."""
    body = classic_body(classic_root, "2020-05-03-captions")
    gallery = body.split('<figure class="wp-block-gallery')[1]
    assert image_names(gallery) == ["three.png", "one.jpg"]
    assert f'<a href="{UPLOADS}/one.jpg"><img src="{UPLOADS}/one.jpg" alt="The bridge" class="wp-image-301" /></a>' in (
        gallery
    )
    assert "<p>Two of them again:</p>" in body


def test_audio_shortcode_is_never_inside_a_paragraph(classic: dict[str, Post]) -> None:
    """[audio] inline in a sentence or alone: its <audio> stands in a figure of its own, never in a <p>."""
    html = classic["audio"].content_html
    assert html.count("<audio") == 2
    assert misplaced(html) == []
    assert "<p>Listen:</p>" in html and "<p>and sing along.</p>" in html
    assert classic["audio"].media.enclosures[0].url.endswith("song.mp3")


@pytest.mark.parametrize(
    "content", ["[audio src='https://x.example/a.mp3']", "Hear [audio mp3='https://x.example/a.mp3'] it"]
)
def test_audio_in_block_and_classic_content_is_not_wrapped_by_markdown(tmp_path: Path, content: str) -> None:
    """The post file keeps the audio in a block element, so the Markdown renderer does not wrap it in a <p>."""
    posts = import_into(
        tmp_path,
        export_of(
            tmp_path,
            wxr_item(1, content=content),
            wxr_item(2, content=f"<!-- wp:shortcode -->\n{content}\n<!-- /wp:shortcode -->"),
        ),
    )
    for post in posts.values():
        assert "<audio" in post.content_html and misplaced(post.content_html) == [], post.slug


def test_titles_with_markup_are_plain_text(classic: dict[str, Post], tmp_path: Path) -> None:
    """`Title <em>With</em> <b>Mark<sup>up</sup></b> &amp; more` -> `Title With Markup & more`; decoded once."""
    assert classic["title-with-markup"].title == "Markup: Title With Markup & more"
    posts = import_into(
        tmp_path,
        export_of(tmp_path, wxr_item(1).replace("<title>Post 1</title>", "<title>AT&amp;amp;amp;T &lt; 5</title>")),
    )
    assert posts["post-1"].title == "AT&amp;T < 5"  # the export's text is "AT&amp;amp;T < 5"


FOOTNOTES = '<![CDATA[[{"id":"aa11","content":"A note with <em>markup</em>"},{"id":"bb22","content":"Another note"}]]]>'
FOOTNOTED = (
    "<!-- wp:paragraph -->\n"
    '<p>One<sup data-fn="aa11" class="fn"><a href="#aa11" id="aa11-link">1</a></sup></p>\n'
    "<!-- /wp:paragraph -->\n\n<!-- wp:paragraph -->\n"
    '<p>Two<sup data-fn="bb22" class="fn"><a href="#bb22" id="bb22-link">2</a></sup></p>\n'
    "<!-- /wp:paragraph -->\n\n<!-- wp:footnotes /-->"
)


def test_block_footnotes_are_rendered_from_the_footnotes_meta(tmp_path: Path) -> None:
    """The footnotes block becomes WordPress's list of notes (from the `footnotes` meta), each linking back."""
    meta = f"<wp:meta_key>footnotes</wp:meta_key><wp:meta_value>{FOOTNOTES}</wp:meta_value>"
    posts = import_into(tmp_path, export_of(tmp_path, wxr_item(1, content=FOOTNOTED, postmeta=meta)))
    html = posts["post-1"].content_html
    assert re.search(
        r'<li id="user-content-aa11">A note with <em>markup</em> <a href="[^"]*#user-content-aa11-link"', html
    )
    assert re.search(r'<li id="user-content-bb22">Another note <a href="[^"]*#user-content-bb22-link"', html)
    assert html.index('id="user-content-aa11-link"') < html.index('<li id="user-content-aa11"')


COVERS = (
    '<!-- wp:cover {"url":"https://x.example/wind.jpg","id":761,"dimRatio":50,"align":"wide"} -->\n'
    '<div class="wp-block-cover alignwide"><span aria-hidden="true" class="wp-block-cover__background"></span>'
    '<img class="wp-block-cover__image-background wp-image-761" alt="Wind farm" src="https://x.example/wind.jpg" '
    'data-object-fit="cover"/><div class="wp-block-cover__inner-container"><!-- wp:paragraph {"align":"center"} -->\n'
    '<p class="has-text-align-center">Over the image</p>\n<!-- /wp:paragraph --></div></div>\n<!-- /wp:cover -->\n\n'
    '<!-- wp:cover {"url":"https://x.example/rails.jpg","id":762,"hasParallax":true} -->\n'
    '<div class="wp-block-cover has-parallax"><div role="img" class="wp-block-cover__image-background" '
    'style="background-position:50% 50%;background-image:url(https://x.example/rails.jpg)"></div>'
    '<div class="wp-block-cover__inner-container"><!-- wp:paragraph -->\n<p>Fixed background</p>\n'
    "<!-- /wp:paragraph --></div></div>\n<!-- /wp:cover -->"
)


def test_cover_blocks_keep_their_image_as_an_img_in_a_figure(tmp_path: Path) -> None:
    """Cover blocks, with an <img> or a CSS background image: a figure with the image as <img>, then the text."""
    posts = import_into(tmp_path, export_of(tmp_path, wxr_item(1, content=COVERS)))
    html = posts["post-1"].content_html
    assert re.search(r'<figure[^>]*><img src="https://x.example/wind.jpg" alt="Wind farm"', html)
    assert re.search(r'<figure[^>]*><img src="https://x.example/rails.jpg" alt=""', html)
    assert '<p class="has-text-align-center">Over the image</p>' in html and "<p>Fixed background</p>" in html
    assert html.index("rails.jpg") < html.index("Fixed background")


OLD_COVERS = (  # the cover markup of WordPress 5.0-5.2 and the cover-image block before it: the text in the block
    '<!-- wp:cover {"url":"https://x.example/dunes.jpg","align":"left","id":31} -->\n'
    '<div class="wp-block-cover has-background-dim alignleft" style="background-image:url(https://x.example/dunes.jpg)">'
    '<p class="wp-block-cover-text">Dunes at <a href="https://x.example/map/">the map</a>.</p></div>\n'
    "<!-- /wp:cover -->\n\n"
    '<!-- wp:cover {"url":"https://x.example/loop.mov","id":32,"backgroundType":"video"} -->\n'
    '<div class="wp-block-cover has-background-dim"><video class="wp-block-cover__video-background" autoplay muted '
    'loop src="https://x.example/loop.mov"></video><p class="wp-block-cover-text">A moving sea.<br>Twice.</p></div>\n'
    "<!-- /wp:cover -->\n\n"
    '<!-- wp:cover-image {"url":"https://x.example/old.jpg","id":33} -->\n'
    '<div class="wp-block-cover-image has-background-dim" style="background-image:url(https://x.example/old.jpg)">'
    '<p class="wp-block-cover-image-text"><strong>An old cover image</strong></p></div>\n'
    "<!-- /wp:cover-image -->"
)


def test_older_cover_markup_keeps_its_text_and_image(tmp_path: Path) -> None:
    """Covers whose text sits in the block's own HTML (no inner blocks) keep it, links too, after their <img>."""
    posts = import_into(tmp_path, export_of(tmp_path, wxr_item(1, content=OLD_COVERS)))
    html = posts["post-1"].content_html
    assert re.search(r'<figure[^>]*><img src="https://x.example/dunes.jpg"', html)
    assert re.search(r'<figure class="wp-block-cover[^>]*><img src="https://x.example/old.jpg"', html)
    assert re.search(r'<p[^>]*>Dunes at <a href="https://x.example/map/"[^>]*>the map</a>\.</p>', html)
    assert "A moving sea.<br>Twice." in html or "A moving sea.<br />Twice." in html
    assert "<strong>An old cover image</strong>" in html
    assert html.index("dunes.jpg") < html.index("Dunes at") < html.index("loop.mov") < html.index("A moving sea")
    assert html.count("<video") == 1 and "background-image" not in html


DYNAMIC = (
    "<!-- wp:paragraph -->\n<p>Before.</p>\n<!-- /wp:paragraph -->\n\n"
    '<!-- wp:query {"queryId":1} -->\n<div class="wp-block-query"><!-- wp:post-template -->\n<!-- wp:post-title /-->\n'
    '<!-- /wp:post-template -->\n\n<!-- wp:query-no-results -->\n<!-- wp:paragraph {"placeholder":"None"} -->\n'
    "<p></p>\n<!-- /wp:paragraph -->\n<!-- /wp:query-no-results --></div>\n<!-- /wp:query -->\n\n"
    "<!-- wp:paragraph -->\n<p></p>\n<!-- /wp:paragraph -->\n\n"
    '<!-- wp:social-links -->\n<ul class="wp-block-social-links"><!-- wp:social-link {"service":"x"} /--></ul>\n'
    "<!-- /wp:social-links -->\n\n<!-- wp:latest-posts /-->\n\n"
    "<!-- wp:paragraph -->\n<p>After.</p>\n<!-- /wp:paragraph -->"
)


def test_dynamic_blocks_that_render_nothing_leave_nothing(tmp_path: Path) -> None:
    """Query loops, social links, latest posts and empty paragraphs leave no empty element; they are counted lost."""
    export = export_of(tmp_path, wxr_item(1, content=DYNAMIC))
    posts = import_into(tmp_path, export)
    assert posts["post-1"].content_html == "<p>Before.</p>\n<p>After.</p>"
    converted = convert(DYNAMIC)
    assert "core/latest-posts" in converted.lost and "core/post-title" in converted.lost
    assert "core/paragraph" not in converted.lost


def test_blocks_nested_thousands_deep_are_imported(tmp_path: Path) -> None:
    """A hand-made export with blocks nested 5,000 deep imports (what is deeper than WordPress goes stays in place)."""
    content = "<!-- wp:group -->\n<div>" * 5000 + "<p>Deep inside.</p>" + "</div>\n<!-- /wp:group -->" * 5000
    posts = import_into(tmp_path, export_of(tmp_path, wxr_item(1, content=content), wxr_item(2)))
    assert "Deep inside." in posts["post-1"].content_html and "post-2" in posts


BLOCK_GALLERY = (
    '<!-- wp:gallery {"linkTo":"none"} -->\n<figure class="wp-block-gallery has-nested-images columns-default">'
    '<!-- wp:image {"id":51} -->\n<figure class="wp-block-image"><img src="https://x.example/a.jpg" alt="" '
    'class="wp-image-51"/></figure>\n<!-- /wp:image -->\n\n<!-- wp:image {"id":52} -->\n<figure class="wp-block-image">'
    '<img src="https://x.example/b.jpg" alt="" class="wp-image-52"/></figure>\n<!-- /wp:image --></figure>\n'
    "<!-- /wp:gallery -->"
)
OLD_BLOCK_GALLERY = (
    '<!-- wp:gallery {"ids":[53]} -->\n<figure class="wp-block-gallery columns-1 is-cropped"><ul '
    'class="blocks-gallery-grid"><li class="blocks-gallery-item"><figure><img src="https://x.example/c.jpg" alt="" '
    'data-id="53" class="wp-image-53"/></figure></li></ul></figure>\n<!-- /wp:gallery -->'
)


@pytest.mark.parametrize(
    ("contents", "counted"),
    [
        ((BLOCK_GALLERY,), "1 gallery,"),
        ((BLOCK_GALLERY, OLD_BLOCK_GALLERY + "\n\n" + BLOCK_GALLERY), "3 galleries,"),
        (("No gallery here.",), "0 galleries,"),
    ],
)
def test_the_summary_counts_every_gallery_shown(tmp_path: Path, contents: tuple[str, ...], counted: str) -> None:
    """The import's summary counts the galleries its posts show (gallery blocks of either markup, not only rebuilt
    [gallery] shortcodes), with the noun's plural rules."""
    export = export_of(tmp_path, *(wxr_item(n, content=text) for n, text in enumerate(contents, start=1)))
    args = ["--posts-dir", str(tmp_path / "posts"), "--config", str(tmp_path / "s.toml")]
    result = CliRunner().invoke(cli, ["import", "wordpress", str(export), *args])
    assert result.exit_code == 0, result.output
    assert counted in result.output
    assert f"imported {len(contents)} post{'s' if len(contents) > 1 else ''} and 0 pages" in result.output
