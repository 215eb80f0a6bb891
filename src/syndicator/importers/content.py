"""A WordPress post's content as the HTML WordPress shows: blocks or classic paragraphs, embeds, media, shortcodes.

Block-editor content (it contains ``<!-- wp:``, WordPress's ``has_blocks()``) loses its
block comments and gets no ``wpautop``; classic content gets ``wpautop``. Embeds
become links naming their provider (the sanitizer drops iframes); audio, video and
file blocks stay in the content and are also listed as enclosures. Every
top-level block comes out as one raw-HTML block for CommonMark (no blank line
inside it), so the Markdown renderer passes it through as it is.

Pure str -> values. No I/O.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

_BLOCK_COMMENT = re.compile(
    r"<!--\s+(?P<closer>/)?wp:(?P<name>[a-z][a-z0-9_-]*(?:/[a-z][a-z0-9_-]*)?)\s+"
    r"(?P<attrs>\{.*?\}\s+)?(?P<void>/)?-->",
    re.S,
)
_BLOCK_START = re.compile(
    r"<(?:p|div|h[1-6]|ul|ol|dl|li|blockquote|pre|table|figure|hr|address|section|article|aside|audio|video|!--)\b",
    re.I,
)
_MORE_ONLY = re.compile(r"<!--\s*more\b.*?-->", re.I | re.S)
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.I | re.S)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_PAIRED_SHORTCODE = re.compile(r"\[(caption|wp_caption)\b[^\]]*\](.*?)\[/\1\]", re.S)
_EMBED_SHORTCODE = re.compile(r"\[embed\b[^\]]*\](.*?)\[/embed\]", re.S)
_PROVIDER_SHORTCODE = re.compile(r"\[(youtube|vimeo|dailymotion|ted|soundcloud|spotify)\s+([^\]\s]+)[^\]]*\]", re.I)
_MEDIA_SHORTCODE = re.compile(r"\[(audio|video)\b([^\]]*)\](?:\s*\[/\1\])?")
_GALLERY_SHORTCODE = re.compile(r"\[gallery\b([^\]]*)\]")
_LOST_SHORTCODE = re.compile(r"\[(playlist)\b[^\]]*\]")
_LONE_SHORTCODE = re.compile(r"\[/?(?:gallery|audio|video|playlist|embed|caption|wp_caption)\b[^\]]*\]")
_SHORTCODE_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))""")
_BARE_URL = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.M)
_MEDIA_SRC = re.compile(r"<(?:audio|video|source)\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.I | re.S)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_AUDIO_KEYS = ("src", "mp3", "m4a", "ogg", "wav", "wma", "flac")
_VIDEO_KEYS = ("src", "mp4", "m4v", "webm", "ogv", "wmv", "flv", "mov")

# host (or its parent domain) -> (provider name, what a reader does there)
PROVIDERS: dict[str, tuple[str, str]] = {
    "youtube.com": ("YouTube", "Watch"),
    "youtu.be": ("YouTube", "Watch"),
    "vimeo.com": ("Vimeo", "Watch"),
    "dailymotion.com": ("Dailymotion", "Watch"),
    "ted.com": ("TED", "Watch"),
    "tiktok.com": ("TikTok", "Watch"),
    "wordpress.tv": ("WordPress.tv", "Watch"),
    "videopress.com": ("VideoPress", "Watch"),
    "twitch.tv": ("Twitch", "Watch"),
    "soundcloud.com": ("SoundCloud", "Listen"),
    "spotify.com": ("Spotify", "Listen"),
    "mixcloud.com": ("Mixcloud", "Listen"),
    "twitter.com": ("X", "View"),
    "x.com": ("X", "View"),
    "instagram.com": ("Instagram", "View"),
    "facebook.com": ("Facebook", "View"),
    "threads.net": ("Threads", "View"),
    "bsky.app": ("Bluesky", "View"),
    "tumblr.com": ("Tumblr", "View"),
    "reddit.com": ("Reddit", "View"),
    "flickr.com": ("Flickr", "View"),
    "imgur.com": ("Imgur", "View"),
    "slideshare.net": ("SlideShare", "View"),
    "speakerdeck.com": ("Speaker Deck", "View"),
    "scribd.com": ("Scribd", "View"),
    "pinterest.com": ("Pinterest", "View"),
}
_PROVIDER_SHORTCODE_URL = {
    "youtube": "https://www.youtube.com/watch?v={}",
    "vimeo": "https://vimeo.com/{}",
    "dailymotion": "https://www.dailymotion.com/video/{}",
}
_HARMLESS_EMPTY = frozenset({"core/spacer", "core/separator", "core/nextpage", "core/more", "core/block"})


@dataclass(frozen=True, slots=True)
class Enclosure:
    """An audio, video or other file a post carries."""

    url: str
    title: str = ""
    type: str = ""  # media type, when WordPress recorded it
    length: int = 0  # bytes, when WordPress recorded it


@dataclass(frozen=True, slots=True)
class Content:
    """A post's content converted, and what was done to it."""

    html: str
    enclosures: tuple[Enclosure, ...] = ()
    embeds: int = 0
    lost: tuple[str, ...] = ()  # what had nothing to show without WordPress ("core/latest-posts", "[playlist]")
    blocks: bool = False  # written with the block editor


@dataclass
class _Found:
    """What converting one post's content turns up (one per conversion)."""

    attachments: Mapping[int, str]
    reusable: Mapping[int, str]
    enclosures: list[Enclosure] = field(default_factory=list)
    embeds: int = 0
    lost: list[str] = field(default_factory=list)
    depth: int = 0

    def enclose(self, url: str, title: str = "") -> None:
        url = html.unescape(url.strip())
        if url and all(e.url != url for e in self.enclosures):
            self.enclosures.append(Enclosure(url, title))


@dataclass
class _Block:
    name: str
    attrs: dict[str, Any]
    parts: list[str | _Block] = field(default_factory=list)


def has_blocks(content: str) -> bool:
    """Whether WordPress treats the content as block-editor content (``has_blocks()``)."""
    return "<!-- wp:" in content


def convert(
    content: str, attachments: Mapping[int, str] | None = None, reusable: Mapping[int, str] | None = None
) -> Content:
    """Convert a post's content; ``attachments`` maps attachment ids to URLs, ``reusable`` block ids to content."""
    found = _Found(attachments or {}, reusable or {})
    content = content.replace("\r\n", "\n")
    body = _render_blocks(content, found) if has_blocks(content) else wpautop(_classic(content, found))
    return Content(body, tuple(found.enclosures), found.embeds, tuple(found.lost), has_blocks(content))


# -- embeds ----------------------------------------------------------------------------------------------------------


def provider_of(url: str) -> tuple[str, str] | None:
    """The (name, verb) of a known embed provider for a URL, e.g. ("YouTube", "Watch")."""
    host = (urlsplit(url).hostname or "").lower()
    while host:
        if host in PROVIDERS:
            return PROVIDERS[host]
        host = host.partition(".")[2]
    return None


def embed_link(url: str, provider_slug: str = "") -> tuple[str, bool]:
    """A paragraph linking to an embedded URL, naming its provider; whether the provider is known."""
    url = html.unescape(url.strip())
    known = provider_of(url)
    if known is None and provider_slug:
        known = (provider_slug.replace("-", " ").title(), "View")
    text = f"{known[1]} on {known[0]}" if known else url
    return f'<p><a href="{html.escape(url)}">{html.escape(text)}</a></p>', known is not None


def _embed_line(match: re.Match[str], found: _Found) -> str:
    link, known = embed_link(match.group(1))
    found.embeds += known
    return link


# -- classic content -------------------------------------------------------------------------------------------------


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _SHORTCODE_ATTRIBUTE.finditer(text)
    }


def _media_shortcode(match: re.Match[str], found: _Found) -> str:
    kind, attributes = match.group(1), _attributes(match.group(2))
    keys = _AUDIO_KEYS if kind == "audio" else _VIDEO_KEYS
    url = next((attributes[k] for k in keys if attributes.get(k)), "")
    if not url and (bare := re.search(r"https?://[^\s\]\"']+", match.group(2))):  # WordPress.com: [audio URL]
        url = bare.group(0)
    if not url:
        found.lost.append(f"[{kind}]")
        return ""
    found.enclose(url)
    poster = f' poster="{html.escape(attributes["poster"])}"' if attributes.get("poster") else ""
    return f'\n\n<{kind} controls src="{html.escape(url)}"{poster}></{kind}>\n\n'


def _gallery_shortcode(match: re.Match[str], found: _Found) -> str:
    ids = [int(i) for i in re.findall(r"\d+", _attributes(match.group(1)).get("ids", ""))]
    urls = [found.attachments[i] for i in ids if i in found.attachments]
    if not urls:
        found.lost.append("[gallery]")
        return ""
    images = "".join(f'<img src="{html.escape(url)}" alt="" />' for url in urls)
    return f'\n\n<figure class="gallery">{images}</figure>\n\n'


def _provider_shortcode(match: re.Match[str], found: _Found) -> str:
    name, value = match.group(1).lower(), match.group(2)
    url = value if value.startswith(("http://", "https://")) else _PROVIDER_SHORTCODE_URL.get(name, "").format(value)
    if not url:
        found.lost.append(f"[{name}]")
        return ""
    found.embeds += 1
    return "\n\n" + embed_link(url, name)[0] + "\n\n"


def _lost_shortcode(match: re.Match[str], found: _Found) -> str:
    found.lost.append(f"[{match.group(1)}]")
    return ""


def _classic(content: str, found: _Found) -> str:
    """Shortcodes and bare embed URLs of classic content, before its paragraphs are made."""
    content = _PAIRED_SHORTCODE.sub(lambda m: m.group(2).strip(), content)
    content = _EMBED_SHORTCODE.sub(lambda m: "\n\n" + _embed_line(m, found) + "\n\n", content)
    content = _PROVIDER_SHORTCODE.sub(lambda m: _provider_shortcode(m, found), content)
    content = _MEDIA_SHORTCODE.sub(lambda m: _media_shortcode(m, found), content)
    content = _GALLERY_SHORTCODE.sub(lambda m: _gallery_shortcode(m, found), content)
    content = _LOST_SHORTCODE.sub(lambda m: _lost_shortcode(m, found), content)
    content = _LONE_SHORTCODE.sub("", content)
    content = _BARE_URL.sub(lambda m: "\n\n" + _embed_line(m, found) + "\n\n", content)
    for url in _MEDIA_SRC.findall(content):
        found.enclose(url)
    return content


def _keep_pre(content: str) -> str:
    """Blank lines inside <pre> become comment lines: a blank line would end CommonMark's raw-HTML block."""
    return _PRE.sub(lambda m: re.sub(r"(?m)^[ \t]*$", "<!-- -->", m.group(1)), content)


def wpautop(content: str) -> str:
    """WordPress's paragraphs for classic content: blank-line-separated blocks become <p>, lone newlines <br />.

    Blocks that already are HTML blocks (div, lists, headings, tables, comments...) are
    kept as they are. Every block is then a raw-HTML block to CommonMark, so the post
    renders as it did on WordPress.
    """
    blocks = []
    for block in re.split(r"\n\s*\n", _keep_pre(content.replace("\r\n", "\n")).strip()):
        block = block.strip()
        if not block:
            continue
        if _MORE_ONLY.fullmatch(block):
            blocks.append("<!--more-->")
        elif _BLOCK_START.match(block):
            blocks.append(block)
        else:
            blocks.append("<p>" + block.replace("\n", "<br />\n") + "</p>")
    return "\n\n".join(blocks)


# -- block content ---------------------------------------------------------------------------------------------------


def parse_blocks(content: str) -> list[str | _Block]:
    """The block tree: top-level freeform HTML and blocks, each with its inner HTML and inner blocks."""
    root = _Block("", {})
    stack = [root]
    offset = 0
    for match in _BLOCK_COMMENT.finditer(content):
        stack[-1].parts.append(content[offset : match.start()])
        offset = match.end()
        name = match.group("name")
        name = name if "/" in name else f"core/{name}"
        if match.group("closer"):
            while len(stack) > 1:  # a stray closer closes what it names (and anything left open inside)
                if stack.pop().name == name:
                    break
            continue
        block = _Block(name, _json(match.group("attrs")))
        stack[-1].parts.append(block)
        if not match.group("void"):
            stack.append(block)
    stack[-1].parts.append(content[offset:])
    return root.parts


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _render_blocks(content: str, found: _Found) -> str:
    rendered = []
    for part in parse_blocks(content):
        text = _tight(_freeform(_render(part, found) if isinstance(part, _Block) else part))
        if text:
            rendered.append(text)
    return "\n\n".join(rendered)


def _freeform(text: str) -> str:
    """HTML between blocks (a classic block), or what a block renders: as it is, wrapped when it is bare text."""
    text = text.strip()
    return text if not text or text.startswith("<") else f"<p>{text}</p>"


def _tight(text: str) -> str:
    """One top-level block as one raw-HTML block: no blank line in it (those in <pre> become comments)."""
    pieces = _PRE.split(_keep_pre(text))
    return "".join(p if i % 2 else _BLANK_LINES.sub("\n", p) for i, p in enumerate(pieces))


def _inner(block: _Block, found: _Found) -> str:
    return "".join(_render(p, found) if isinstance(p, _Block) else p for p in block.parts)


def _render(block: _Block, found: _Found) -> str:
    """One block's HTML, its inner blocks rendered in place."""
    name = block.name
    if name == "core/embed" or name.startswith("core-embed/"):
        return _embed_block(block, found)
    if name == "core/more":
        return "\n\n<!--more-->\n\n"
    if name == "core/nextpage":
        return ""
    if name == "core/block":
        return _reusable_block(block, found)
    if name == "core/shortcode":
        return _classic(_inner(block, found), found)
    inner = _inner(block, found)
    if name in ("core/audio", "core/video", "core/file"):
        _enclose_block(block, inner, found)
    if not inner.strip() and name not in _HARMLESS_EMPTY:
        found.lost.append(name)
    return inner


def _embed_block(block: _Block, found: _Found) -> str:
    inner = _inner(block, found)
    url = str(block.attrs.get("url") or "") or next(iter(re.findall(r"https?://[^\s<>\"]+", _TAG.sub(" ", inner))), "")
    if not url:
        found.lost.append(block.name)
        return ""
    slug = str(block.attrs.get("providerNameSlug") or block.name.removeprefix("core-embed/").removeprefix("core/"))
    link, _known = embed_link(url, "" if slug == "embed" else slug)
    found.embeds += 1
    caption = _FIGCAPTION.search(inner)
    if caption is not None and caption.group(1).strip():
        return f'<figure class="wp-block-embed">{link}<figcaption>{caption.group(1).strip()}</figcaption></figure>'
    return link


def _reusable_block(block: _Block, found: _Found) -> str:
    ref = block.attrs.get("ref")
    content = found.reusable.get(ref) if isinstance(ref, int) else None
    if content is None or found.depth > 4:
        found.lost.append("core/block")
        return ""
    found.depth += 1
    try:
        return "\n\n".join(_render(p, found) if isinstance(p, _Block) else p for p in parse_blocks(content))
    finally:
        found.depth -= 1


def _enclose_block(block: _Block, inner: str, found: _Found) -> None:
    """Audio, video and file blocks: their file is an enclosure (the block stays in the content)."""
    caption = _FIGCAPTION.search(inner)
    title = html.unescape(_TAG.sub("", caption.group(1))).strip() if caption else ""
    if block.name == "core/file":
        link = _LINK.search(inner)
        url = str(block.attrs.get("href") or "") or (link.group(1) if link else "")
        title = html.unescape(_TAG.sub("", link.group(2))).strip() if link else ""
        urls = [url] if url else []
    else:
        urls = _MEDIA_SRC.findall(inner)
        attachment = block.attrs.get("id")
        if not urls and isinstance(attachment, int) and attachment in found.attachments:
            urls = [found.attachments[attachment]]
    for url in urls:
        found.enclose(url, title)
