"""What real feed consumers show of a feed file, each brought to one shape (``Shown``).

Every consumer is the real library or program: Python parsers in process, the
JavaScript ones through ``node/extract.mjs``, Debian's sfeed and rss2email as
the commands a subscriber runs. A consumer that is not installed is reported by
``missing()``; the tests skip it, or fail when ``INTEROP_REQUIRE_ALL`` is set.
"""

from __future__ import annotations

import calendar
import email
import email.header
import email.policy
import email.utils
import html
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import lxml.html

NODE_DIR = Path(__file__).resolve().parent / "node"
_SPACE = re.compile(r"\s+")


@dataclass
class Shown:
    """What one consumer shows of one feed document: its title, site link, links by rel, and entries.

    Entries are dicts with the fields the consumer exposes, among: id, title,
    link, published, updated (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), summary and
    content (the text a reader shows: HTML already reduced to text),
    content_html (when the consumer gives HTML), categories, author.
    """

    title: str | None = None
    link: str | None = None
    links: dict[str, str] | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)


def text_of(fragment: str | None) -> str | None:
    """The text an HTML fragment shows, white space folded."""
    if fragment is None:
        return None
    if not fragment.strip():
        return ""
    return _SPACE.sub(" ", lxml.html.fragment_fromstring(fragment, create_parent="div").text_content()).strip()


def folded(text: str | None) -> str | None:
    return None if text is None else _SPACE.sub(" ", text).strip()


def utc(value: Any) -> str | None:
    """A date as the consumer gives it (datetime, struct_time, ISO 8601 or RFC 822 text) in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, time.struct_time):
        value = datetime.fromtimestamp(calendar.timegm(value), UTC)
    elif isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            value = email.utils.parsedate_to_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _html_entry(**fields: Any) -> dict[str, Any]:
    """An entry whose summary and content came as HTML: keep the HTML, show the text."""
    entry = {k: v for k, v in fields.items() if v is not None}
    for name in ("summary", "content"):
        if name in entry:
            if name == "content":
                entry["content_html"] = entry[name]
            entry[name] = text_of(entry[name])
    return entry


# --- Python consumers (one document at a time) ---------------------------------------------------


def _feedparser_like(module: Any, path: Path) -> Shown:
    parsed = module.parse(path.read_bytes())
    if parsed.bozo and not parsed.entries:
        raise ValueError(f"not parsed: {parsed.get('bozo_exception')}")
    feed = parsed.feed
    entries = []
    for e in parsed.entries:
        content = e.get("content") or [{}]
        entries.append(
            _html_entry(
                id=e.get("id"),
                title=e.get("title"),
                link=e.get("link"),
                published=utc(e.get("published_parsed")),
                # not feedparser's deprecated fallback from updated to published (it warns)
                updated=utc(dict.get(e, "updated_parsed") if isinstance(e, dict) else e.get("updated_parsed")),
                summary=e.get("summary"),
                content=content[0].get("value"),
                categories=[t.get("label") or t.get("term") for t in e.get("tags", [])],
                author=_feedparser_author(e),
            )
        )
    links = {link.get("rel", "alternate"): link.get("href") for link in feed.get("links", [])}
    return Shown(feed.get("title"), feed.get("link"), links, entries)


def _feedparser_author(entry: Any) -> str | None:
    """The author's name: feedparser's ``author`` is "Name (email)" when there is an e-mail (readers show the name)."""
    detail = entry.get("author_detail")
    name = detail.get("name") if isinstance(detail, dict) else getattr(detail, "name", None)
    return name if name is not None else entry.get("author")


def feedparser_show(path: Path) -> Shown:
    import feedparser

    return _feedparser_like(feedparser, path)


def feedparser_rs_show(path: Path) -> Shown:
    import feedparser_rs

    return _feedparser_like(feedparser_rs, path)


def fastfeedparser_show(path: Path) -> Shown:
    import fastfeedparser

    parsed = fastfeedparser.parse(path.read_bytes())
    feed = parsed["feed"]
    is_json = path.suffix == ".json"
    entries = []
    for e in parsed["entries"]:
        content = (e.get("content") or [{}])[0].get("value")
        entry = _html_entry(
            id=e.get("id"),
            title=e.get("title"),
            link=e.get("link"),
            published=utc(e.get("published")),
            updated=utc(e.get("updated")),
            summary=None if is_json else e.get("description"),
            content=content,
            categories=[t.get("label") or t.get("term") for t in e.get("tags") or []],
            author=e.get("author"),
        )
        if is_json and e.get("description") is not None:
            entry["summary"] = folded(e["description"])
        entries.append(entry)
    # fastfeedparser leaves a feed's self and hub links out of its links: it does not expose them.
    return Shown(feed.get("title"), feed.get("link"), None, entries)


def _atoma_atom(path: Path) -> Shown:
    import atoma

    feed = atoma.parse_atom_bytes(path.read_bytes())
    entries = []
    for e in feed.entries:
        alternate = [x.href for x in e.links if (x.rel or "alternate") == "alternate"]
        entries.append(
            _html_entry(
                id=e.id_,
                title=e.title.value if e.title else None,
                link=alternate[0] if alternate else None,
                published=utc(e.published),
                updated=utc(e.updated),
                summary=e.summary.value if e.summary else None,
                content=e.content.value if e.content else None,
                categories=[c.label or c.term for c in e.categories],
                author=e.authors[0].name if e.authors else None,
            )
        )
    links = {x.rel or "alternate": x.href for x in feed.links}
    return Shown(feed.title.value if feed.title else None, links.get("alternate"), links, entries)


def _atoma_rss(path: Path) -> Shown:
    import atoma

    feed = atoma.parse_rss_bytes(path.read_bytes())
    entries = [
        _html_entry(
            id=e.guid,
            title=e.title,
            link=e.link,
            published=utc(e.pub_date),
            summary=e.description,
            content=e.content_encoded,
            categories=list(e.categories),
            author=e.author,
        )
        for e in feed.items
    ]
    return Shown(feed.title, feed.link, None, entries)


def _atoma_json(path: Path) -> Shown:
    import atoma

    feed = atoma.parse_json_feed_bytes(path.read_bytes())
    entries = []
    for e in feed.items:
        entry = _html_entry(
            id=e.id_,
            title=e.title,
            link=e.url,
            published=utc(e.date_published),
            updated=utc(e.date_modified),
            content=e.content_html,
            categories=list(e.tags),
        )
        entry["summary"] = folded(e.summary)
        entry["author"] = e.author.name if e.author else None
        entries.append(entry)
    return Shown(feed.title, feed.home_page_url, None, entries)


def atoma_show(path: Path) -> Shown:
    return {".atom": _atoma_atom, ".rss": _atoma_rss, ".json": _atoma_json}[path.suffix](path)


def jsonfeed_util_show(path: Path) -> Shown:
    import jsonfeed

    feed = jsonfeed.Feed.parse(json.loads(path.read_text(encoding="utf-8")))
    entries = []
    for e in feed.items:
        entry = _html_entry(
            id=e.id,
            title=e.title,
            link=e.url,
            published=utc(e.date_published),
            updated=utc(e.date_modified),
            content=e.content_html,
            categories=list(e.tags or []),
        )
        entry["summary"] = folded(e.summary)
        entry["author"] = e.authors[0].name if e.authors else None
        entries.append(entry)
    return Shown(feed.title, feed.home_page_url, None, entries)


# --- consumers that take a batch of documents -----------------------------------------------------


def reader_show_all(paths: list[Path], root: Path) -> dict[Path, Shown | str]:
    """lemon24/reader: add each file as a feed under feed_root, update, and read back feeds and entries."""
    from reader import make_reader

    reader = make_reader(":memory:", feed_root=str(root))
    urls = {p.relative_to(root).as_posix(): p for p in paths}
    for url in urls:
        reader.add_feed(url)
    reader.update_feeds()
    out: dict[Path, Shown | str] = {}
    for feed in reader.get_feeds():
        if feed.last_exception is not None:
            out[urls[feed.url]] = f"error: {feed.last_exception.value_str}"
            continue
        entries = []
        for e in reader.get_entries(feed=feed):
            is_json = feed.url.endswith(".json")
            entry = _html_entry(
                id=e.id,
                title=e.title,
                link=e.link,
                published=utc(e.published),
                updated=utc(e.updated),
                summary=None if is_json else e.summary,
                content=e.content[0].value if e.content else None,
                author=e.authors_str if hasattr(e, "authors_str") else e.author,
            )
            if is_json:
                entry["summary"] = folded(e.summary)
            entries.append(entry)
        entries.sort(key=lambda x: x.get("published") or "", reverse=True)
        out[urls[feed.url]] = Shown(feed.title, feed.link, None, entries)
    reader.close()
    return out


def sfeed_show(path: Path) -> Shown:
    """sfeed: the TSV line per item a subscriber's sfeed_update stores (content is HTML when typed so)."""
    result = subprocess.run(["sfeed"], input=path.read_bytes(), capture_output=True, check=True)  # noqa: S607
    entries = []
    for line in result.stdout.decode("utf-8").splitlines():
        stamp, title, link, content, kind, entry_id, author, _enclosure, categories = (line.split("\t") + [""] * 9)[:9]
        content = content.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
        entries.append(
            {
                "id": entry_id,
                "title": title,
                "link": link,
                "published": utc(datetime.fromtimestamp(int(stamp), UTC)) if stamp else None,
                "content": text_of(content) if kind == "html" else folded(content),
                **({"content_html": content} if kind == "html" else {}),
                "categories": categories.split("|") if categories else [],
                "author": author,
            }
        )
    return Shown(None, None, None, entries)


def _header(message: email.message.Message, name: str) -> str:
    return str(email.header.make_header(email.header.decode_header(message.get(name, ""))))


def rss2email_show_all(paths: list[Path], workdir: Path) -> dict[Path, Shown | str]:
    """rss2email: one run over every document; each mail is read back (subject, sender, date, body)."""
    workdir.mkdir(parents=True, exist_ok=True)
    mbox = workdir / "mail"
    sender = workdir / "sendmail"
    sender.write_text(f"#!/bin/sh\ncat >> '{mbox}'\nprintf '\\n\\0\\n' >> '{mbox}'\n", encoding="utf-8")
    sender.chmod(0o755)
    config = workdir / "r2e.cfg"
    config.write_text(
        "[DEFAULT]\nto = reader@example.org\nfrom = r2e@example.org\nemail-protocol = sendmail\n"
        f"sendmail = {sender}\nhtml-mail = True\nuse-publisher-email = True\ndate-header = True\n",
        encoding="utf-8",
    )
    base = ["r2e", "-c", str(config), "-d", str(workdir / "data.json")]
    for number, path in enumerate(paths):
        subprocess.run([*base, "add", f"f{number}", str(path)], check=True, capture_output=True)
    subprocess.run([*base, "run"], check=True, capture_output=True)
    out: dict[Path, Shown | str] = {p: Shown() for p in paths}
    for raw in mbox.read_bytes().split(b"\n\0\n"):
        if not raw.strip():
            continue
        message = email.message_from_bytes(raw.lstrip(), policy=email.policy.compat32)
        body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
        page = lxml.html.fromstring(body)
        shown = out[Path(message["X-RSS-Feed"])]
        assert isinstance(shown, Shown)
        display_name = _header(message, "From").rsplit("<", 1)[0].strip().strip('"')
        tags = _header(message, "X-RSS-TAGS")
        content_html = "".join(
            lxml.html.tostring(child, encoding="unicode") for child in page.get_element_by_id("body")
        )
        shown.entries.append(
            {
                "id": message["X-RSS-ID"],
                "title": _header(message, "Subject"),
                "link": message["X-RSS-URL"],
                # rss2email dates a mail by the entry's newest date: Atom's updated, RSS's pubDate
                "updated" if message["X-RSS-Feed"].endswith(".atom") else "published": utc(message["Date"]),
                "content": text_of(content_html),
                "content_html": content_html,
                "categories": tags.split(",") if tags else [],
                "author": display_name.rpartition(": ")[2],
            }
        )
    for shown in out.values():
        assert isinstance(shown, Shown)
        shown.entries.sort(key=lambda x: x.get("published") or "", reverse=True)
    return out


_JS = ("rss-parser", "feedsmith", "feed-extractor", "@rowanmanning/feed-parser", "node-feedparser")


def node_show_all(consumer: str, paths: list[Path]) -> dict[Path, Shown | str]:
    """A JavaScript parser, through node/extract.mjs (one node process for the batch)."""
    jobs = [[consumer, str(p)] for p in paths]
    result = subprocess.run(
        ["node", str(NODE_DIR / "extract.mjs")],  # noqa: S607
        input=json.dumps(jobs).encode(),
        capture_output=True,
        check=True,
        cwd=NODE_DIR,
    )
    raw = json.loads(result.stdout)
    out: dict[Path, Shown | str] = {}
    for path in paths:
        shown = raw[f"{consumer} {path}"]
        if "error" in shown:
            out[path] = f"error: {shown['error']}"
            continue
        entries = [_node_entry(consumer, path.suffix, e) for e in shown["entries"]]
        feed = shown["feed"]
        out[path] = Shown(_unwrap(feed.get("title")), feed.get("link"), None, entries)
    return out


def _node_entry(consumer: str, suffix: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A JavaScript parser's entry, its summary and content as text (some give text, the others HTML)."""
    entry = {k: _unwrap(v) for k, v in raw.items() if v is not None}
    plain = {"summary", "content"} if consumer == "feed-extractor" else {"summary"} if suffix == ".json" else set()
    for name in ("summary", "content"):
        if name in entry:
            if name not in plain:
                entry[f"{name}_html"] = entry[name]
            entry[name] = folded(entry[name]) if name in plain else text_of(entry[name])
            if consumer == "feed-extractor":  # its text is the HTML with the tags taken out, entities left in
                entry[name] = html.unescape(entry[name])
    entry.pop("summary_html", None)
    for name in ("published", "updated"):
        if name in entry:
            entry[name] = utc(entry[name])
    return entry


def _unwrap(value: Any) -> Any:
    """feedsmith gives Atom text constructs as {value, type}."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


# --- the registry ---------------------------------------------------------------------------------

ALL_FORMATS = ("atom", "rss", "json")


@dataclass(frozen=True)
class Consumer:
    name: str
    formats: tuple[str, ...]
    requires: str  # what must be installed: a Python module, a command, or "node"
    show_all: Callable[[list[Path], Path], dict[Path, Shown | str]]


def _one_by_one(show: Callable[[Path], Shown]) -> Callable[[list[Path], Path], dict[Path, Shown | str]]:
    def show_all(paths: list[Path], _workdir: Path) -> dict[Path, Shown | str]:
        out: dict[Path, Shown | str] = {}
        for path in paths:
            try:
                out[path] = show(path)
            except Exception as error:  # noqa: BLE001 - what the consumer says is the result
                out[path] = f"error: {error!r}"
        return out

    return show_all


def _node(name: str) -> Callable[[list[Path], Path], dict[Path, Shown | str]]:
    return lambda paths, _workdir: node_show_all(name, paths)


CONSUMERS = (
    Consumer("feedparser", ("atom", "rss"), "module:feedparser", _one_by_one(feedparser_show)),
    Consumer("fastfeedparser", ALL_FORMATS, "module:fastfeedparser", _one_by_one(fastfeedparser_show)),
    Consumer("atoma", ALL_FORMATS, "module:atoma", _one_by_one(atoma_show)),
    Consumer("feedparser-rs", ALL_FORMATS, "module:feedparser_rs", _one_by_one(feedparser_rs_show)),
    Consumer("jsonfeed-util", ("json",), "module:jsonfeed", _one_by_one(jsonfeed_util_show)),
    Consumer("reader", ALL_FORMATS, "module:reader", lambda paths, root: reader_show_all(paths, root)),
    Consumer("sfeed", ("atom", "rss"), "command:sfeed", _one_by_one(sfeed_show)),
    Consumer("rss2email", ("atom", "rss"), "command:r2e", lambda paths, root: rss2email_show_all(paths, root / "r2e")),
    Consumer("rss-parser", ("atom", "rss"), "node:rss-parser", _node("rss-parser")),
    Consumer("feedsmith", ALL_FORMATS, "node:feedsmith", _node("feedsmith")),
    Consumer("feed-extractor", ALL_FORMATS, "node:@extractus/feed-extractor", _node("feed-extractor")),
    Consumer(
        "@rowanmanning/feed-parser",
        ("atom", "rss"),
        "node:@rowanmanning/feed-parser",
        _node("@rowanmanning/feed-parser"),
    ),
    Consumer("node-feedparser", ("atom", "rss"), "node:feedparser", _node("node-feedparser")),
)


def missing(consumer: Consumer) -> str:
    """Why a consumer cannot run here ('' when it can)."""
    kind, _, name = consumer.requires.partition(":")
    if kind == "module":
        import importlib.util

        return "" if importlib.util.find_spec(name) else f"Python package {name} is not installed"
    if kind == "command":
        return "" if shutil.which(name) else f"command {name} is not installed"
    if not shutil.which("node"):
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / name / "package.json").exists():
        return f"npm package {name} is not installed (npm ci --prefix tests/interop/node)"
    return ""
