"""Classic content as WordPress shows it: its paragraphs, and its shortcodes as the HTML WordPress renders for them.

``[caption]`` becomes a ``<figure class="wp-caption …">`` with a ``<figcaption>``;
``[gallery]`` (its ``ids``, or without them the images uploaded to the post, in
``menu_order``) a block-editor gallery figure; ``[audio]``/``[video]`` an audio or
video figure; ``[embed]``, provider shortcodes and URLs alone on a line links
naming their provider. As in WordPress, paragraphs are made first, with each
shortcode standing alone (so none ends up inside a ``<p>``), and the
shortcodes' HTML is put in afterwards, untouched by the paragraph rules.

No I/O.
"""

from __future__ import annotations

import html
import re

from syndicator.importers.autop import autop
from syndicator.importers.context import Attachment
from syndicator.importers.context import Findings
from syndicator.importers.embeds import SHORTCODE_URL
from syndicator.importers.embeds import embed_link

# A shortcode's attributes hold no "[" and a caption or embed holds no other: an unclosed one fails where the next
# begins, so a text of thousands of them is read in one pass.
_CAPTION = re.compile(r"\[(caption|wp_caption)\b([^\[\]]*)\]((?:(?!\[/?(?:wp_)?caption\b).)*)\[/\1\]", re.S)
_CAPTIONED_IMAGE = re.compile(r"((?:<a\s[^>]+>\s*)?<img\s[^>]+>(?:\s*</a>)?)(.*)", re.I | re.S)
_EMBED = re.compile(r"\[embed\b[^\[\]]*\]((?:(?!\[/?embed\b).)*)\[/embed\]", re.S)
_PROVIDER = re.compile(r"\[(youtube|vimeo|dailymotion|ted|soundcloud|spotify)\s+([^\[\]\s]+)[^\[\]]*\]", re.I)
_MEDIA = re.compile(r"\[(audio|video)\b([^\[\]]*)\](?:\s*\[/\1\])?")
_GALLERY = re.compile(r"\[gallery\b([^\[\]]*)\]")
_LOST = re.compile(r"\[(playlist)\b[^\[\]]*\]")
_LONE = re.compile(r"\[/?(?:gallery|audio|video|playlist|embed|caption|wp_caption)\b[^\[\]]*\]")
_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))""")
_BARE_URL = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.M)
_NEXTPAGE = re.compile(r"<!--\s*nextpage\s*-->", re.I)
_MEDIA_SRC = re.compile(r"<(?:audio|video|source)\b[^<>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
_MARK = "\ue002"  # brackets the number of a stashed fragment
_STASHED = re.compile(rf"(?:<p>\s*)?{_MARK}(\d+){_MARK}(?:\s*</p>)?")
_AROUND_STASHED = re.compile(rf"(?<![ \t])[ \t]*(\n\n{_MARK}\d+{_MARK}\n\n)[ \t]*")  # the spaces beside a shortcode
_AUDIO_KEYS = ("src", "mp3", "m4a", "ogg", "wav", "wma", "flac")
_VIDEO_KEYS = ("src", "mp4", "m4v", "webm", "ogv", "wmv", "flv", "mov")


class _Stash:
    """HTML kept out of the paragraph rules: a token on a line of its own stands for it until they are done."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, fragment: str) -> str:
        if not fragment:
            return ""
        self.parts.append(fragment)
        return f"\n\n{_MARK}{len(self.parts) - 1}{_MARK}\n\n"

    def restore(self, text: str) -> str:
        return _STASHED.sub(lambda m: self.parts[int(m.group(1))], text)


def classic(content: str, found: Findings) -> str:
    """Classic content (or a shortcode block's) with WordPress's paragraphs and its shortcodes rendered."""
    stash = _Stash()
    content = _NEXTPAGE.sub("\n\n", content.replace(_MARK, ""))
    content = _CAPTION.sub(lambda m: stash.put(caption(m.group(2), m.group(3))), content)
    content = _EMBED.sub(lambda m: stash.put(_embed(m.group(1), found)), content)
    content = _PROVIDER.sub(lambda m: stash.put(_provider(m, found)), content)
    content = _MEDIA.sub(lambda m: stash.put(_media(m, found)), content)
    content = _GALLERY.sub(lambda m: stash.put(_gallery(m.group(1), found)), content)
    content = _LOST.sub(lambda m: _lost(m, found), content)
    content = _LONE.sub("", content)
    content = _BARE_URL.sub(lambda m: stash.put(_embed(m.group(1), found)), content)
    rendered = stash.restore(autop(_AROUND_STASHED.sub(r"\1", content)))
    for url in _MEDIA_SRC.findall(rendered):
        found.enclose(url)
    return rendered


def attributes(text: str) -> dict[str, str]:
    """A shortcode's attributes (names in lower case, values as written, entities and all)."""
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in _ATTRIBUTE.finditer(text)}


def caption(attribute_text: str, inner: str) -> str:
    """``[caption]``: the image in a figure of WordPress's caption classes, its caption (attribute or text) below."""
    given = attributes(attribute_text)
    image, text = inner.strip(), html.unescape(given.get("caption", ""))
    if "caption" not in given and (split := _CAPTIONED_IMAGE.match(image)) is not None:
        image, text = split.group(1), split.group(2)
    if not text.strip():
        return image
    classes = " ".join(["wp-caption", given.get("align") or "alignnone", *given.get("class", "").split()])
    return (
        f'<figure class="{html.escape(classes)}">{image}'
        f'<figcaption class="wp-caption-text">{text.strip()}</figcaption></figure>'
    )


def gallery(images: list[Attachment], columns: int = 3, *, link_files: bool = False) -> str:
    """Images as the block editor's gallery: a figure of image figures, each with its caption."""
    figures = []
    for image in images:
        tag = f'<img src="{html.escape(image.url)}" alt="{html.escape(image.alt)}" class="wp-image-{image.id}" />'
        if link_files:
            tag = f'<a href="{html.escape(image.url)}">{tag}</a>'
        note = f'<figcaption class="wp-element-caption">{image.caption}</figcaption>' if image.caption.strip() else ""
        figures.append(f'<figure class="wp-block-image size-large">{tag}{note}</figure>')
    classes = f"wp-block-gallery has-nested-images columns-{columns} is-cropped"
    return f'<figure class="{classes}">\n' + "\n".join(figures) + "\n</figure>"


def _gallery(attribute_text: str, found: Findings) -> str:
    """``[gallery]``: the images its ``ids``/``include`` name, or those uploaded to the post (less ``exclude``)."""
    given = attributes(attribute_text)
    library = found.library
    named = [int(i) for i in re.findall(r"\d+", given.get("ids") or given.get("include") or "")]
    if named:
        images = [library.attachments[i] for i in named if i in library.attachments]
    else:
        parent = int(given["id"]) if given.get("id", "").isdigit() else found.post_id
        excluded = {int(i) for i in re.findall(r"\d+", given.get("exclude", ""))}
        images = [a for a in library.images_of(parent) if a.id not in excluded]
    images = [a for a in images if a.is_image]
    if given.get("order", "").upper() == "DESC":
        images.reverse()
    if not images:
        found.lost.append("[gallery]")
        return ""
    found.galleries += 1
    columns = int(given["columns"]) if given.get("columns", "").isdigit() else 3
    return gallery(images, max(1, min(columns, 9)), link_files=given.get("link") == "file")


def _embed(url: str, found: Findings) -> str:
    link, known = embed_link(url)
    found.embeds += known
    return link


def _media(match: re.Match[str], found: Findings) -> str:
    """``[audio]``/``[video]``: the file in an audio or video figure (and among the post's enclosures)."""
    kind, given = match.group(1), attributes(match.group(2))
    keys = _AUDIO_KEYS if kind == "audio" else _VIDEO_KEYS
    url = next((given[k] for k in keys if given.get(k)), "")
    if not url and (bare := re.search(r"https?://[^\s\]\"']+", match.group(2))):  # WordPress.com: [audio URL]
        url = bare.group(0)
    if not url:
        found.lost.append(f"[{kind}]")
        return ""
    found.enclose(url)
    poster = f' poster="{html.escape(given["poster"])}"' if given.get("poster") else ""
    return f'<figure class="wp-block-{kind}"><{kind} controls src="{html.escape(url)}"{poster}></{kind}></figure>'


def _provider(match: re.Match[str], found: Findings) -> str:
    name, value = match.group(1).lower(), match.group(2)
    url = value if value.startswith(("http://", "https://")) else SHORTCODE_URL.get(name, "").format(value)
    if not url:
        found.lost.append(f"[{name}]")
        return ""
    found.embeds += 1
    return embed_link(url, name)[0]


def _lost(match: re.Match[str], found: Findings) -> str:
    found.lost.append(f"[{match.group(1)}]")
    return ""
