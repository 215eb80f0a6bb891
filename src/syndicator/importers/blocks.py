"""Block-editor content as WordPress renders it: block comments removed, no paragraphs added, nothing empty left.

Static blocks keep the HTML they saved. Cover blocks become a figure with their
image (or video) as an element, not a CSS background; the footnotes block is
rendered from the post's ``footnotes`` meta; shortcode blocks get WordPress's
paragraph rules and shortcodes; embeds become links; reusable blocks are put in
place. A dynamic block (latest posts, search, query loops...) has nothing to
show without WordPress: it leaves nothing behind, and is counted as lost.

No I/O.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from syndicator.importers.context import Findings
from syndicator.importers.embeds import embed_link
from syndicator.importers.rawhtml import html_blocks
from syndicator.importers.rawhtml import shows_nothing
from syndicator.importers.shortcodes import classic

_BLOCK_COMMENT = re.compile(
    r"<!--\s+(?P<closer>/)?wp:(?P<name>[a-z][a-z0-9_-]*(?:/[a-z][a-z0-9_-]*)?)\s+"
    r"(?P<attrs>\{.*?\}\s+)?(?P<void>/)?-->",
    re.S,
)
_MEDIA_SRC = re.compile(r"<(?:audio|video|source)\b[^<>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
_LINK = re.compile(r"<a\b[^<>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.I | re.S)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.I | re.S)
_FIRST_CLASS = re.compile(r"""^\s*<[a-z][a-z0-9]*\b[^<>]*?\bclass\s*=\s*["']([^"']*)["']""", re.I)
_IMG_ATTRIBUTE = re.compile(r"""<img\b[^<>]*?\b(src|alt)\s*=\s*["']([^"']*)["']""", re.I)
_WRAPPER_START = re.compile(r"^\s*<[a-z][a-z0-9]*\b[^<>]*>", re.I)  # a block's own outermost element
_WRAPPER_END = re.compile(r"</[a-z][a-z0-9]*\s*>\s*$", re.I)
_COVER_MEDIA = re.compile(
    r"<video\b[^<>]*>.*?</video\s*>|<img\b[^<>]*>|<span\b[^<>]*\bwp-block-cover__(?:background|gradient)[^<>]*>\s*</span\s*>",
    re.I | re.S,
)
_BACKGROUND = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)", re.I)
_TAG = re.compile(r"<[^>]+>")
_HARMLESS_EMPTY = frozenset(
    {"core/spacer", "core/separator", "core/nextpage", "core/more", "core/block", "core/paragraph"}
)
MORE = "<!--more-->"
MAX_DEPTH = 25  # blocks inside blocks: WordPress's editor makes a few levels; a hand-made export may make thousands


@dataclass
class Block:
    """One block: its name, attributes, and its parts (its own saved HTML and its inner blocks, in order)."""

    name: str
    attrs: dict[str, Any]
    parts: list[str | Block] = field(default_factory=list)

    def blocks(self) -> list[Block]:
        return [p for p in self.parts if isinstance(p, Block)]


def parse_blocks(content: str) -> list[str | Block]:
    """The block tree: top-level freeform HTML and blocks, each with its inner HTML and inner blocks.

    A block opened more than ``MAX_DEPTH`` levels deep holds nothing: what it would hold stays in its parent.
    """
    root = Block("", {})
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
        block = Block(name, _json(match.group("attrs")))
        stack[-1].parts.append(block)
        if not match.group("void") and len(stack) <= MAX_DEPTH:  # deeper, a block's content goes to its parent
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


def render_blocks(content: str, found: Findings) -> str:
    """The post's HTML: each top-level block one raw-HTML block, the ``<!--more-->`` marker on its own."""
    rendered = []
    for part in parse_blocks(content):
        text = _render(part, found) if isinstance(part, Block) else _freeform(part)
        if text.strip():
            rendered.append(html_blocks(text))
    return "\n\n".join(rendered)


def _freeform(text: str) -> str:
    """HTML between blocks (a classic block): as it is, wrapped in a paragraph when it is bare text."""
    text = text.strip()
    return text if not text or text.startswith("<") else f"<p>{text}</p>"


def _inner(block: Block, found: Findings) -> str:
    return "".join(_render(p, found) if isinstance(p, Block) else p for p in block.parts)


def _render(block: Block, found: Findings) -> str:
    """One block's HTML, its inner blocks rendered in place; nothing when it would show nothing."""
    if block.name == "core/more":
        return f"\n\n{MORE}\n\n"
    rendered = _render_kind(block, found)
    if rendered.strip() and shows_nothing(rendered):
        return ""
    return rendered


def _render_kind(block: Block, found: Findings) -> str:
    name = block.name
    if name == "core/embed" or name.startswith("core-embed/"):
        return _embed_block(block, found)
    if name == "core/nextpage":
        return ""
    if name == "core/block":
        return _reusable_block(block, found)
    if name == "core/shortcode":
        return classic(_inner(block, found), found)
    if name == "core/footnotes":
        return _footnotes(block, found)
    if name in ("core/cover", "core/cover-image"):
        return _cover(block, found)
    inner = _inner(block, found)
    if name in ("core/audio", "core/video", "core/file"):
        _enclose_block(block, inner, found)
    if not inner.strip() and name not in _HARMLESS_EMPTY:
        found.lost.append(name)
    elif name == "core/gallery":
        found.galleries += 1
    return inner


def _embed_block(block: Block, found: Findings) -> str:
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


def _reusable_block(block: Block, found: Findings) -> str:
    ref = block.attrs.get("ref")
    content = found.library.reusable.get(ref) if isinstance(ref, int) else None
    if content is None or found.depth > 4:
        found.lost.append("core/block")
        return ""
    found.depth += 1
    try:
        return "\n\n".join(_render(p, found) if isinstance(p, Block) else p for p in parse_blocks(content))
    finally:
        found.depth -= 1


def _enclose_block(block: Block, inner: str, found: Findings) -> None:
    """Audio, video and file blocks: their file is an enclosure (the block stays in the content)."""
    caption = _FIGCAPTION.search(inner)
    title = html.unescape(_TAG.sub("", caption.group(1))).strip() if caption else ""
    if block.name == "core/file":
        link = _LINK.search(inner)
        url = str(block.attrs.get("href") or "") or (link.group(1) if link else "")
        title = html.unescape(_TAG.sub("", link.group(2))).strip() if link else ""
        urls = [url] if url else []
    else:
        urls = _MEDIA_SRC.findall(inner) or [u for u in [found.library.url(block.attrs.get("id"))] if u]
    for url in urls:
        found.enclose(url, title)


def _cover(block: Block, found: Findings) -> str:
    """A cover: a figure holding its image (or video) as an element, then its inner blocks.

    WordPress draws a cover's image as a CSS background (gone once styles are
    sanitized away) or as an absolutely placed ``<img>``; here it is shown.
    """
    own = "".join(p for p in block.parts if isinstance(p, str))
    found_attrs = {k.lower(): v for k, v in _IMG_ATTRIBUTE.findall(own)}
    background = _BACKGROUND.search(own)
    url = str(block.attrs.get("url") or "") or found_attrs.get("src") or (background.group(1) if background else "")
    inner = "".join(_render(b, found) for b in block.blocks()) or _own_text(own)
    if not url:
        return _inner(block, found)
    classes = _FIRST_CLASS.match(own)
    class_names = classes.group(1) if classes else ""
    if "wp-block-cover" not in class_names.split():  # the older cover-image block: laid out as a cover
        class_names = f"wp-block-cover {class_names}".strip()
    if block.attrs.get("backgroundType") == "video":
        found.enclose(url)
        media = f'<video controls src="{html.escape(url)}"></video>'
    else:
        alt = str(block.attrs.get("alt") or "") or html.unescape(found_attrs.get("alt", ""))
        if not alt and (attachment := found.library.attachments.get(block.attrs.get("id") or 0)) is not None:
            alt = attachment.alt
        media = f'<img src="{html.escape(url)}" alt="{html.escape(alt)}" class="wp-block-cover__image-background" />'
    container = f'<div class="wp-block-cover__inner-container">{inner}</div>' if inner.strip() else ""
    return f'<figure class="{html.escape(class_names)}">{media}{container}</figure>'


def _own_text(own: str) -> str:
    """The text a cover of the older markup holds in its own HTML (``<p class="wp-block-cover-text">``, a heading),
    without its wrapper, image, video or overlay; '' when it shows nothing."""
    text = _COVER_MEDIA.sub("", _WRAPPER_END.sub("", _WRAPPER_START.sub("", own, count=1), count=1)).strip()
    return text if _TAG.sub("", text).strip() else ""


def _footnotes(block: Block, found: Findings) -> str:
    """The footnotes block: the notes of the post's ``footnotes`` meta, each with a link back to its marker."""
    notes = _json_list(found.footnotes)
    items = []
    for number, note in enumerate(notes, start=1):
        note_id, text = note.get("id"), note.get("content")
        if not isinstance(note_id, str) or not note_id or not isinstance(text, str):
            continue
        anchor = html.escape(note_id)
        items.append(
            f'<li id="{anchor}">{text} <a href="#{anchor}-link" '
            f'aria-label="Jump to footnote reference {number}">\u21a9\ufe0e</a></li>'
        )
    if not items:
        found.lost.append(block.name)
        return ""
    return '<ol class="wp-block-footnotes">' + "".join(items) + "</ol>"


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
