"""A post's rendered text: sanitized HTML kept compressed, and a draft's rendered only when asked for.

No I/O.
"""

from __future__ import annotations

import functools

import lz4.block

from syndicator.core.assets import FileLinks
from syndicator.core.assets import media_tags
from syndicator.core.markup import Sanitizer
from syndicator.core.markup import render_markdown
from syndicator.core.summary import summary_html
from syndicator.digest import digest
from syndicator.digest import digest_text

NO_SUMMARY = b"\1"  # what a post whose summary is cut from its content's HTML digests as its summary


def as_read(data: bytes) -> bytes:
    """Markdown's bytes as far as a reader can tell them apart: LF line endings, no blank line before or after, and
    no spaces or tabs at a line's end but the two that break a line (before a line that is not blank)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b" \n" in data or (b"\t" in data and b"\t\n" in data) or data.endswith((b" ", b"\t")):
        lines = data.split(b"\n")
        kept = []
        for number, line in enumerate(lines):
            text = line.rstrip(b" \t")
            breaks = line[len(text) :].endswith(b"  ") and number + 1 < len(lines) and lines[number + 1].strip()
            kept.append(text + b"  " if text and breaks else text)
        data = b"\n".join(kept)
    return data.strip(b"\n")


def words_digests(content_md: str, summary: str) -> tuple[str, str]:
    """The digest of what the author wrote as a reader tells it apart (an edit changes it; line endings, trailing
    spaces, blank lines around it do not), and the digest of it byte for byte (``digest_text``) when that differs.

    The text as read is laid out as most files have it (a blank line after the front matter, a line ending at the
    end; an excerpt, a blank line before its marker), so that for most posts the two are one and digested once.
    """
    content, short = content_md.encode("utf-8", "surrogatepass"), summary.encode("utf-8", "surrogatepass")
    excerpt = short if short == NO_SUMMARY else b"\n" + as_read(short) + b"\n\n"
    written, read = content + b"\0" + short, b"\n" + as_read(content) + b"\n\0" + excerpt
    return (digest(read), "") if read == written else (digest(read), digest(written))


class MarkdownText:
    """A post's Markdown, rendered once to sanitized HTML (content and summary).

    A post that will be published is rendered when it is read (every published
    post is in some archive page, so nothing is gained by waiting), and only
    its HTML is kept; a draft, which no feed or page shows, keeps its Markdown
    and is rendered only if asked. The content HTML stays LZ4-compressed (a
    few KB a post) so that a large blog's bodies fit in memory, and it is what
    the parse cache stores, so a warm start renders nothing. ``key`` is a
    digest of everything the HTML is made from.

    With ``files`` (the post file's folder under posts_dir, and the URL every
    asset's starts with), relative URLs naming local files become the files'
    public URLs; rendering notes them in ``refs`` (path, URL as written), and
    the body's images, audio and video in ``embeds`` (tag, URL, alt or type).
    """

    __slots__ = ("_html_z", "_source", "_summary", "embeds", "key", "refs", "words_key", "written_key")

    def __init__(
        self,
        content_md: str,
        summary_md: str | None,
        base_url: str,
        summary_words: int,
        *,
        now: bool = True,
        files: tuple[str, str] | None = None,
        sanitizer: Sanitizer | None = None,
    ) -> None:
        """``summary_md`` None: the summary is cut from the content (``core.summary`` has the rule).

        ``now`` False leaves the rendering for the first time the HTML is asked for;
        ``sanitizer``, the one to clean the HTML with now.
        """
        summary = summary_md if summary_md is not None else NO_SUMMARY.decode()
        parts = (content_md, summary, base_url, str(summary_words), *(files or ()))
        self.key: tuple[object, ...] = (digest_text(*parts),)
        self._source: tuple[str, str | None, str, int, tuple[str, str] | None] | None = (
            content_md,
            summary_md,
            base_url,
            summary_words,
            files,
        )
        # What the author wrote as a reader tells it apart: an edit changes it; a move, line endings, trailing spaces
        # do not. ``written_key``: the digest of the bytes as they are, when that differs (what ledgers recorded once).
        self.words_key, self.written_key = words_digests(content_md, summary)
        self._html_z = b""
        self._summary = ""
        self.refs: tuple[tuple[str, str], ...] = ()
        self.embeds: tuple[tuple[str, str, str], ...] = ()
        if now:
            self._render(sanitizer)

    def _render(self, sanitizer: Sanitizer | None = None) -> None:
        if self._source is None:
            return
        content_md, summary_md, base_url, summary_words, files = self._source
        links = FileLinks(*files) if files is not None else None
        sanitizer = sanitizer or Sanitizer()
        html = render_markdown(content_md, base_url, links=links, sanitizer=sanitizer)
        self._html_z = lz4.block.compress(html.encode("utf-8", "surrogatepass"))
        render = functools.partial(render_markdown, base_url=base_url, links=links, sanitizer=sanitizer)
        self._summary = summary_html(html, summary_md, summary_words, render)
        if links is not None:
            self.refs = tuple(dict.fromkeys(links.refs))
        self.embeds = tuple(
            (tag, attributes.get("src", ""), attributes.get("alt" if tag == "img" else "type", ""))
            for tag, attributes in media_tags(html)
        )
        self._source = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarkdownText) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __getstate__(self) -> tuple[object, ...]:
        source = self._source  # read first: None only once _render set the rest (it may run while this is pickled)
        return (self._html_z, self._summary, source, self.key, self.refs, self.embeds, self.words_key, self.written_key)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        html_z, summary, source, key, refs, embeds, words, written = state
        self._html_z, self._summary, self._source, self.key = html_z, summary, source, key  # type: ignore[assignment]
        self.refs, self.embeds, self.words_key, self.written_key = refs, embeds, words, written  # type: ignore[assignment]

    @property
    def rendered(self) -> bool:
        """Whether the Markdown was rendered already (a draft's is not, until its HTML is asked for)."""
        return self._source is None

    @property
    def content_html(self) -> str:
        self._render()
        return str(lz4.block.decompress(self._html_z).decode("utf-8", "surrogatepass"))

    @property
    def summary_html(self) -> str:
        self._render()
        return self._summary
