"""What the corpus's post files say, and how a consumer's view of a field is judged against it.

The front matter gives titles, dates, categories, tags and authors; the texts a
reader must show (summaries, pieces of content) are written out below by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import lxml.html
import yaml
from consumers import Consumer
from consumers import Shown
from lxml import etree

import syndicator
from support.commands import run_syndicator

CORPUS = Path(__file__).resolve().parent / "corpus"
SITE_URL = "https://interop.example"
SITE_AUTHOR = "Editor"
SITE_TITLE = "Interop & <Test>"
SUMMARY_WORDS = 20
ATOM = "{http://www.w3.org/2005/Atom}"

# The documents every consumer reads: between them they hold every post (the site-wide feed has the
# newest three), in each format the consumer reads; the archive pages only in Atom.
DOCUMENTS = {
    "atom": ("all.atom", "category/unicode-ca-co.atom", "archive/1.atom", "archive/2.atom"),
    "rss": ("all.rss", "category/unicode-ca-co.rss"),
    "json": ("all.json", "category/unicode-ca-co.json"),
}

SUMMARIES = {
    "unicode-names": "Zoë writes about naïve café culture in Душанбе; a footnote1 gives the sources.",
    "tom-and-jerry": (
        "The title above is written with a literal &amp;, and this sentence has an inline <code> element name"
        " and an escaped <b>tag</b> that must stay text."
    ),
    # summary_words = 20: "two," and "four;" are one word each, whatever element the word starts in.
    "script-in-title": (
        "One two, three four; five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
        " seventeen eighteen nineteen twenty…"
    ),
    "plain-notes": "A short post by the site's own author.",
}
CONTENT = {
    "unicode-names": (
        "Zoë writes about naïve café culture",
        "Душанбе 42",
        '<p class="x">Tom &amp; Jerry</p>',
        "Interviews in 2024, see the notes.",
        "Counted by hand.",
        "Notes: all names are real.",
    ),
    "tom-and-jerry": (
        "a literal &amp;, and",
        "inline <code> element",
        "an escaped <b>tag</b> that",
        "Later text with AT&T and 1 < 2 > 0.",
    ),
    "script-in-title": ("twenty-two.", "A second paragraph that no summary shows."),
    "plain-notes": ("A short post by the site's own author.", "The rest of it, with a link and a list:"),
}


def build(output: Path) -> Path:
    """Build the corpus's feeds with ``syndicator build`` into output/feeds; the feeds folder."""
    config = output / "syndicator.toml"
    config.write_text(
        f'site_title = "{SITE_TITLE}"\nsite_url = "{SITE_URL}"\nsite_author = "{SITE_AUTHOR}"\n'
        f'posts_dir = "{CORPUS}"\noutput_dir = "feeds"\nstate_dir = "state"\n'
        f"summary_words = {SUMMARY_WORDS}\nfeed_size = 3\narchive_page_size = 2\n",
        encoding="utf-8",
    )
    # the syndicator this process imports, wherever it comes from (an editable install elsewhere, PYTHONPATH)
    path = os.pathsep.join(filter(None, (str(Path(syndicator.__file__).parents[1]), os.environ.get("PYTHONPATH"))))
    run_syndicator("build", "--config", str(config), cwd=output, env={"PYTHONPATH": path}, check=True)
    return output / "feeds"


def _utc(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC) if isinstance(value, date) else value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclass(frozen=True)
class Expected:
    """One post as its file says it should be shown."""

    slug: str
    id: str
    title: str
    link: str
    published: str
    updated: str
    categories: tuple[str, ...]
    author: str
    summary: str
    content: tuple[str, ...]


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def expected_posts() -> dict[str, Expected]:
    """Every corpus post, keyed by its entry id."""
    posts = {}
    for path in sorted(CORPUS.glob("*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        slug = path.stem[len("2025-03-01-") :]
        published = _utc(meta["date"])
        author = meta.get("author", SITE_AUTHOR)
        entry_id = f"tag:interop.example,{published[:10]}:/posts/{slug}"
        posts[entry_id] = Expected(
            slug=slug,
            id=entry_id,
            title=meta["title"],
            link=f"{SITE_URL}/posts/{slug}/",
            published=published,
            updated=_utc(meta.get("updated", meta["date"])),
            categories=tuple(sorted(_names(meta.get("categories")) + _names(meta.get("tags")))),
            author=author["name"] if isinstance(author, dict) else str(author),
            summary=SUMMARIES[slug],
            content=CONTENT[slug],
        )
    return posts


def published_ids(feeds: Path) -> dict[str, set[str]]:
    """The element ids of each post's published HTML (the Atom content, which the post page shows too)."""
    ids: dict[str, set[str]] = {}
    for path in sorted(feeds.rglob("*.atom")):
        for entry in etree.parse(path).getroot().iter(ATOM + "entry"):
            content = entry.findtext(ATOM + "content") or ""
            page = lxml.html.fragment_fromstring(content, create_parent="div")
            link = entry.find(ATOM + "link[@rel='alternate']")
            if link is None:
                link = entry.find(ATOM + "link")
            ids[link.get("href")] = {e.get("id") for e in page.iter() if e.get("id")}
    return ids


# --- judging one field ----------------------------------------------------------------------------
# Each judge returns "" when the consumer shows the field right, else what it shows.


def _same(shown: Any, expected: Any) -> str:
    return "" if shown == expected else repr(shown)


def _contains(shown: str | None, pieces: tuple[str, ...]) -> str:
    if shown is None:
        return "nothing"
    lost = [p for p in pieces if p not in shown]
    return "" if not lost else f"lost {lost[0]!r} in {shown[:160]!r}"


def _footnotes(entry: dict[str, Any], want: Expected, ids: dict[str, set[str]]) -> str:
    """Footnote references are links, and every link into the post's page lands on an element of it."""
    if "content_html" not in entry:
        return "no HTML"
    page = lxml.html.fragment_fromstring(entry["content_html"], create_parent="div")
    hrefs = [a.get("href") or "" for a in page.iter("a")]
    if want.slug == "unicode-names" and ("[^src]" in (entry.get("content") or "") or len(hrefs) < 3):
        return f"footnotes not linked: {(entry.get('content') or '')[:100]!r}"
    for href in hrefs:
        url, fragment = urldefrag(href)
        if fragment and url == want.link and fragment not in ids.get(want.link, set()):
            return f"{href} points nowhere"
    return ""


JUDGES: dict[str, Callable[[dict[str, Any], Expected, dict[str, set[str]]], str]] = {
    "title": lambda e, w, _: _same(e.get("title"), w.title),
    "link": lambda e, w, _: _same(e.get("link"), w.link),
    "id": lambda e, w, _: _same(e.get("id"), w.id),
    "published": lambda e, w, _: _same(e.get("published"), w.published),
    "updated": lambda e, w, _: _same(e.get("updated"), w.updated),
    "summary": lambda e, w, _: _same(e.get("summary"), w.summary),
    "content": lambda e, w, _: _contains(e.get("content"), w.content),
    "categories": lambda e, w, _: _same(tuple(sorted(map(str, e.get("categories") or ()))), w.categories),
    "author": lambda e, w, _: _same(e.get("author"), w.author),
    "footnotes": _footnotes,
}
ENTRY_FIELDS = tuple(JUDGES)


def judge_entries(name: str, shown: Shown, posts: dict[str, Expected], ids: dict[str, set[str]]) -> str:
    """'' when a consumer shows entry field ``name`` right in every entry of a document; else the first miss."""
    for entry in shown.entries:
        want = posts.get(entry.get("id") or "") or next(
            (p for p in posts.values() if p.link == entry.get("link")), None
        )
        if want is None:
            return f"unknown entry {entry.get('id')!r}"
        verdict = JUDGES[name](entry, want, ids)
        if verdict:
            return f"{want.slug}: {verdict}"
    return ""


def site_link(document: str) -> str:
    """The page a feed document is the feed of."""
    if document.startswith("category/"):
        return f"{SITE_URL}/category/{document.split('/')[1].split('.')[0]}/"
    return f"{SITE_URL}/"


def judge_feed(name: str, document: str, shown: Shown) -> str:
    """The feed-level fields: its title, its site link (alternate), its hub and self links (when exposed)."""
    if name == "feed title":
        want = SITE_TITLE if document.startswith(("all", "archive")) else f"{SITE_TITLE} — Ünïcödé Ça & Co"
        return "" if (shown.title or "").startswith(want) else repr(shown.title)
    if name == "feed link":
        return _same(shown.link, site_link(document))
    links = shown.links or {}
    url = f"{SITE_URL}/feeds/{document}"
    return "" if links.get("hub") == f"{SITE_URL}/websub" and links.get("self") == url else f"links {links}"


def documents(formats: tuple[str, ...]) -> list[str]:
    return [d for fmt in formats for d in DOCUMENTS[fmt]]


def show(consumer: Consumer, feeds: Path, workdir: Path) -> dict[str, Shown | str]:
    """What a consumer shows of each document it reads, keyed by the document's path under feeds/."""
    names = documents(consumer.formats)
    shown = consumer.show_all([feeds / n for n in names], workdir)
    return {n: shown.get(feeds / n, "not shown") for n in names}


FEED_FIELDS = ("feed title", "feed link", "hub and self")


def verdicts(consumer: Consumer, shown: dict[str, Shown | str], feeds: Path) -> dict[tuple[str, str], str]:
    """(format, field) -> '' or what is wrong, for one consumer over its documents."""
    posts = expected_posts()
    ids = published_ids(feeds)
    out: dict[tuple[str, str], str] = {}
    for document, view in shown.items():
        fmt = document.rsplit(".", 1)[1]
        for name in (*FEED_FIELDS, *ENTRY_FIELDS):
            if isinstance(view, str):
                verdict = view
            elif name == "hub and self":
                if view.links is None or not document.startswith("archive/"):
                    continue
                verdict = judge_feed(name, document, view)
            elif name in FEED_FIELDS:
                if (view.title if name == "feed title" else view.link) is None:
                    continue
                verdict = judge_feed(name, document, view)
            elif (fmt, name) == ("rss", "updated") or not any(field_exposed(e, name) for e in view.entries):
                # RSS has no updated date: what a consumer gives for it is the pubDate again
                continue
            else:
                verdict = judge_entries(name, view, posts, ids)
            key = (fmt, name)
            if not out.get(key):
                out[key] = f"{document}: {verdict}" if verdict else ""
    return out


# Fields every consumer shows, or it shows the entry wrong (an entry without them is not what the post says).
ALWAYS_SHOWN = frozenset({"title", "link", "id", "author"})


def field_exposed(entry: dict[str, Any], name: str) -> bool:
    return name in ALWAYS_SHOWN or ("content_html" if name == "footnotes" else name) in entry
