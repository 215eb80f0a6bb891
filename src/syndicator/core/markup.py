"""Text transforms: Markdown to safe HTML, word cuts, plain text, slugs, safe URLs.

Pure str -> str functions. No I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urljoin

import nh3
from slugify import slugify as _slugify

from syndicator.core.cmark import CMARK
from syndicator.core.cmark import MARKDOWN_OPTIONS
from syndicator.core.nesting import flatten_nesting

# Characters XML 1.0 does not allow anywhere in a document.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_SPACE = re.compile(r"\s+")
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "poster", "action", "formaction", "background", "longdesc"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_SRCSET_CANDIDATE = re.compile(r"[\s,]*(\S+)([^,]*)")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))  # what a browser strips around a URL (ASCII only)
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")  # what a browser removes anywhere in a URL
# What a browser percent-encodes in a URL that XML cannot hold or shows as nothing: the other controls, DEL, C1, and
# the characters XML 1.0 leaves out (a lone surrogate, U+FFFE, U+FFFF).
_URL_UNWRITTEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A path from the site's root that urljoin would leave as it is: no "//", dot segment, params, query or fragment.
_PLAIN_ROOT_PATH = re.compile(r"(?!.*//)(?!.*/\.)/[A-Za-z0-9\-._~%!$&'()*+,=:@/]*")
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table", "hr"}
)
_VOID_TAGS = frozenset({"br", "hr", "img", "wbr", "col", "area"})
# Element ids survive sanitizing with this prefix (as GitHub's user-content-), so that no post's id can
# clash with, or clobber, one of the page around it; fragment links (#x) are rewritten to match.
ID_PREFIX = "user-content-"
# Audio and video are kept with safe attributes only; images keep their alt text and srcset.
_MEDIA_ELEMENTS = {"audio": {"src", "controls"}, "video": {"src", "controls", "poster"}, "source": {"src", "type"}}
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | set(_MEDIA_ELEMENTS)
# WordPress's layout classes, which the pages' stylesheet lays out as a WordPress theme does (galleries in
# columns, aligned images with text around them, captions, columns, covers): the only class names kept, so that
# no post can borrow one of the page's own (and never a ``style``).
_LAYOUT_CLASS = re.compile(
    r"align(?:left|right|center|wide|full|none)|wp-element-caption|wp-block-(?:gallery|image|columns?|cover"
    r"|cover__image-background|cover__inner-container|media-text|media-text__media|media-text__content|group"
    r"|quote|pullquote|table|separator|buttons?|button__link|embed|embed__wrapper|audio|video|file|footnotes)"
    r"|wp-caption(?:-text)?|gallery(?:-item|-icon|-caption|-columns-\d{1,2})?|columns-\d{1,2}|has-nested-images"
    r"|is-cropped|blocks-gallery-(?:grid|item|item__caption|caption)|has-text-align-(?:left|center|right|justify)|is-(?:not-)?stacked-on-mobile"
    r"|is-layout-(?:flex|flow|constrained|grid)|size-(?:thumbnail|medium|large|full)|has-media-on-the-right"
    r"|(?:is|are)-vertically-aligned-(?:top|center|bottom)|is-style-(?:wide|dots|default|rounded|outline)"
)
_ALLOWED_ATTRIBUTES = (
    {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    | {"*": {"id", "class"}, "img": set(nh3.ALLOWED_ATTRIBUTES["img"]) | {"srcset"}}
    | {tag: set(names) for tag, names in _MEDIA_ELEMENTS.items()}
)
WEB_SCHEMES = frozenset({"http", "https"})  # what a media element's, a srcset's or an image setting's URL may use
# The hook for relative URLs naming local files: (attribute, value) -> the file's public URL, or None.
FileLinker = Callable[[str, str], "str | None"]
# In nh3's output every attribute value is double-quoted and holds no '"', and text holds no '<'.
_START_TAG = re.compile(r'<[a-zA-Z](?:[^">]|"[^"]*")*>')
_ID_ATTRIBUTE = re.compile(r'\sid="[^"]*"')
_ANY_TAG = re.compile(r'</?([a-zA-Z][a-zA-Z0-9]*)(?:[^">]|"[^"]*")*>')  # a start or end tag of nh3's output
# Where a word ends even without white space: a word is a run of non-space text across inline elements.
_WORD_BREAKS = _BLOCK_TAGS | {"img"}


def xml_legal(text: str) -> tuple[str, bool]:
    """Remove characters XML cannot carry; say whether any were removed."""
    cleaned = _XML_ILLEGAL.sub("", text)
    return cleaned, len(cleaned) != len(text)


def xml_escape(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does (which imports urllib.request, http.client
    and email: a tenth of the start of a one-post build)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def xml_quoteattr(text: str) -> str:
    """An attribute value, escaped and quoted, as ``xml.sax.saxutils.quoteattr`` does."""
    text = xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    return f"'{text}'" if "'" not in text else '"{}"'.format(text.replace('"', "&quot;"))


def slugify(name: str) -> str:
    """URL slug of a category, tag or file name (``Tajik-Russian relations`` -> ``tajik-russian-relations``)."""
    return str(_slugify(name))


def url_scheme(value: str) -> str:
    """The scheme a browser sees in a URL attribute's value, lower case ('' for a relative URL)."""
    match = _SCHEME.match(_TAB_OR_NEWLINE.sub("", value).strip(_C0_OR_SPACE))
    return match.group(1).lower() if match else ""


def safe_url(value: str, base_url: str, schemes: frozenset[str] = SAFE_SCHEMES, root: str | None = None) -> str | None:
    """A URL attribute's final value: relative ones resolved against base_url; None unless its scheme is allowed.

    The check is made on the value as it will be written, after every rewrite, and
    the way a browser reads it (ASCII spaces and controls around it ignored, tabs
    and newlines in it removed, any case), so no spelling of ``javascript:``,
    ``vbscript:`` or ``data:`` survives. ``root``: ``base_url``'s root (``https://host/``), when known.
    """
    value = value.strip(_C0_OR_SPACE)
    if value.startswith(("https://", "http://")) and value[: value.index(":")] in schemes and value.isprintable():
        return value  # the common case, decided without a regular expression (printable: no tab or newline)
    value = _URL_UNWRITTEN.sub(_percent_encoded, _TAB_OR_NEWLINE.sub("", value))  # as a browser reads it
    if not url_scheme(value):
        value = joined(base_url, value, root)
    return value if url_scheme(value) in schemes else None


def _percent_encoded(match: re.Match[str]) -> str:
    """A character a URL cannot hold as it is, percent-encoded as UTF-8 (a lone surrogate as U+FFFD)."""
    char = match.group()
    return "".join(f"%{byte:02X}" for byte in ("\ufffd" if "\ud800" <= char <= "\udfff" else char).encode())


def joined(base_url: str, value: str, root: str | None = None) -> str:
    """``urljoin(base_url, value)``; a plain path from the root (most relative links) put after ``base_url``'s root
    (``root``, when the caller has it) without parsing either again."""
    if _PLAIN_ROOT_PATH.fullmatch(value):
        return (root if root is not None else urljoin(base_url, "/")) + value[1:]
    return urljoin(base_url, value)


def prefixed_fragment(value: str) -> str:
    """A same-page fragment link (``#x``) pointed at the prefixed id (``#user-content-x``); others unchanged."""
    stripped = value.strip(_C0_OR_SPACE)
    if len(stripped) > 1 and stripped.startswith("#"):
        return f"#{ID_PREFIX}{stripped[1:]}"
    return value


def _srcset_candidates(value: str) -> list[tuple[str, str]]:
    """A srcset's (URL, descriptor) pairs, read as HTML does: a URL is a run of non-space; commas part candidates.

    One pass, however many candidates (no recursion: a thousand of them is no RecursionError).
    """
    found = []
    at = 0
    while chunk := _SRCSET_CANDIDATE.search(value, at):
        url, descriptor = chunk.group(1), chunk.group(2)
        if url.endswith(","):  # "a.jpg, b.jpg": no descriptor, and what follows is the next candidate
            if url.rstrip(","):
                found.append((url.rstrip(","), ""))
            at = chunk.start(2)
        else:
            found.append((url, descriptor.strip()))
            at = chunk.end()
    return found


def _srcset(value: str, base_url: str, links: FileLinker | None, root: str) -> str | None:
    """A srcset with every URL made absolute and checked like a src; candidates with a bad URL dropped."""
    kept = []
    for url, descriptor in _srcset_candidates(value):
        final = (links("srcset", url) if links is not None else None) or safe_url(url, base_url, WEB_SCHEMES, root)
        if final is not None:
            kept.append(f"{final} {descriptor}".rstrip())
    return ", ".join(kept) or None


def layout_classes(value: str) -> str | None:
    """The WordPress layout classes of a ``class`` attribute, each once (None: none is left)."""
    kept = dict.fromkeys(name for name in value.split() if _LAYOUT_CLASS.fullmatch(name))
    return " ".join(kept) or None


def _absolute(
    base_url: str, *, keep_ids: bool = True, links: FileLinker | None = None
) -> Callable[[str, str, str], str | None]:
    """nh3's attribute filter: URLs made absolute and checked (``safe_url`` has the last word), ids prefixed.

    ``keep_ids`` False drops ids (a summary is shown beside other posts' summaries). ``links`` turns
    relative URLs that name local files into the files' public URLs. Media elements take http(s) only.
    """

    root = urljoin(base_url, "/")

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "id":
            return f"{ID_PREFIX}{value}" if keep_ids and value else None
        if attribute == "class":
            return layout_classes(value)
        if attribute == "srcset":
            return _srcset(value, base_url, links, root)
        if attribute in _URL_ATTRIBUTES:
            local = links(attribute, value) if links is not None and attribute in ("href", "src", "poster") else None
            schemes = WEB_SCHEMES if tag in _MEDIA_ELEMENTS else SAFE_SCHEMES
            return safe_url(local or prefixed_fragment(value), base_url, schemes, root)
        return value

    return attribute_filter


class _Slot:
    """The attribute filter of the HTML being cleaned (the cleaner holds this, not the Sanitizer: no cycle)."""

    __slots__ = ("filter",)

    def __init__(self) -> None:
        self.filter: Callable[[str, str, str], str | None] | None = None

    def __call__(self, tag: str, attribute: str, value: str) -> str | None:
        return self.filter(tag, attribute, value) if self.filter is not None else None


class Sanitizer:
    """nh3's cleaner, built once (building one costs half of what cleaning a post does); one caller at a time.

    Each ``clean`` gives the attribute filter of the HTML it cleans: the
    cleaner's own filter hands every attribute to it.
    """

    def __init__(self) -> None:
        self._slot = _Slot()
        self._cleaner = nh3.Cleaner(
            tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES, attribute_filter=self._slot, link_rel=None
        )

    def clean(self, raw: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
        self._slot.filter = attribute_filter
        try:
            return self._cleaner.clean(raw)
        finally:
            self._slot.filter = None


def render_markdown(
    text: str,
    base_url: str,
    *,
    keep_ids: bool = True,
    links: FileLinker | None = None,
    sanitizer: Sanitizer | None = None,
) -> str:
    """Render Markdown (CommonMark + tables + footnotes) to sanitized HTML with absolute links.

    Relative ``href``/``src`` values are resolved against ``base_url`` the way a
    browser would; ids get ``ID_PREFIX`` and same-page links follow them, so a
    footnote link is ``<base_url>#user-content-fn-1``: it works on the post page
    and from a feed reader alike. Scripts, styles, frames, event handlers and
    ``javascript:`` URLs are removed. Audio and video stay, with ``src``,
    ``controls``, ``poster`` and ``type`` only. ``links`` (see ``_absolute``)
    gives local files their public URLs. ``sanitizer``: one to reuse (a caller
    rendering many posts keeps one).
    """
    raw = flatten_nesting(CMARK.to_html(text, MARKDOWN_OPTIONS))
    attribute_filter = _absolute(base_url, keep_ids=keep_ids, links=links)
    return (sanitizer or Sanitizer()).clean(raw, attribute_filter).strip()


class _Truncator(HTMLParser):
    """Copies an HTML fragment up to its ``words``-th word, and the tags it opens.

    A word is a run of non-space text, across inline elements: in
    ``one <em>two</em>, three`` the words are "one", "two," and "three".
    """

    def __init__(self, words: int) -> None:
        super().__init__(convert_charrefs=True)
        self.left = words
        self.out: list[str] = []
        self.open: list[str] = []
        self.cut = False
        self.in_word = False  # the text so far ends inside a word

    @property
    def stopped(self) -> bool:
        """The last word kept has ended: nothing more is copied."""
        return self.left <= 0 and not self.in_word

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _WORD_BREAKS:
            self.in_word = False
        if self.stopped:
            return
        self.out.append(self.get_starttag_text() or "")
        if tag not in _VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _WORD_BREAKS:
            self.in_word = False
        if self.stopped or tag not in self.open:
            return
        while self.open:
            name = self.open.pop()
            self.out.append(f"</{name}>")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        kept: list[str] = []
        for piece in re.split(r"(\s+)", data):
            if not piece:
                continue
            if piece.isspace():
                self.in_word = False
            elif not self.in_word:
                if self.left <= 0:
                    self.cut = True
                    break
                self.left -= 1
                self.in_word = True
            kept.append(piece)
        if kept:
            self.out.append(html.escape("".join(kept), quote=False))


def truncate_html_words(fragment: str, words: int) -> tuple[str, bool]:
    """Keep the first ``words`` words of an HTML fragment, closing open tags; say whether it was cut."""
    parser = _Truncator(words)
    parser.feed(fragment)
    parser.close()
    if not parser.cut:
        return fragment, False
    text = "".join(parser.out).rstrip()
    return text + "…" + "".join(f"</{tag}>" for tag in reversed(parser.open)), True


def without_ids(fragment: str) -> str:
    """Sanitized HTML without its id attributes (for a summary, which is shown beside other posts' summaries)."""
    if " id=" not in fragment:
        return fragment
    return _START_TAG.sub(lambda tag: _ID_ATTRIBUTE.sub("", tag.group()), fragment)


def first_paragraph(fragment: str) -> str:
    """The inner HTML of the first ``<p>`` of a fragment (the whole fragment when it has none)."""
    match = _PARAGRAPH.search(fragment)
    return match.group(1) if match else fragment


def _tag_as_text(tag: re.Match[str]) -> str:
    return " " if tag.group(1).lower() in _BLOCK_TAGS else ""


def plain_text(fragment: str) -> str:
    """The text of sanitized HTML, entities decoded and white space folded (a block element parts words).

    Sanitized HTML (nh3's) has no comment, script or raw ``<`` in its text, and
    every attribute value double-quoted: its tags are found by a regular
    expression, ten times faster than parsing it.
    """
    return _SPACE.sub(" ", html.unescape(_ANY_TAG.sub(_tag_as_text, fragment))).strip()
