"""Turn a WordPress export (WXR 1.0 to 1.2) into post files, safely and repeatably.

The XML is parsed with defusedxml (no entity expansion, no external entities).
Each post keeps its WordPress guid as ``id``, so readers of the old feeds see no
new entries. A record of what was written (state_dir/wordpress.json) lets a
second run update the same files and leave alone the ones edited since.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from syndicator.markup import slugify
from syndicator.output import write_atomic
from syndicator.posts import dump_post

RECORD_FILE = "wordpress.json"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
ZERO_DATE = "0000-00-00 00:00:00"
_BLOCK_START = re.compile(
    r"<(?:p|div|h[1-6]|ul|ol|dl|li|blockquote|pre|table|figure|hr|address|section|article|aside|!--)\b", re.I
)
_MORE_ONLY = re.compile(r"<!--\s*more\b.*?-->", re.I | re.S)
_PAIRED_SHORTCODE = re.compile(r"\[(caption|wp_caption)\b[^\]]*\](.*?)\[/\1\]", re.S)
_EMBED = re.compile(r"\[embed\b[^\]]*\](.*?)\[/embed\]", re.S)
_LONE_SHORTCODE = re.compile(r"\[/?(?:gallery|audio|video|playlist|embed|caption|wp_caption)\b[^\]]*\]")
Progress = Callable[[str, int, int], None]


class WordPressImportError(Exception):
    """The export cannot be read at all (not XML, unsafe XML, not a WordPress export)."""


@dataclass
class ImportReport:
    """What an import did."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)  # edited since the last import: not overwritten
    drafts: int = 0
    scheduled: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by post type or status
    malformed: list[str] = field(default_factory=list)  # "post <id>: reason"

    @property
    def posts(self) -> int:
        return len(self.new) + len(self.updated) + len(self.unchanged) + len(self.kept_local)


@dataclass
class _Item:
    post_id: int
    guid: str
    meta: dict[str, Any]  # front matter up to the slug
    body: str
    date_prefix: str
    draft: bool
    id: str = ""

    def front_matter(self) -> dict[str, Any]:
        meta = dict(self.meta)
        if self.id:
            meta["id"] = self.id
        if self.draft:
            meta["draft"] = True
        return meta


def wpautop(content: str) -> str:
    """WordPress's paragraphs: blank-line-separated blocks become <p>, lone newlines <br />.

    Blocks that already are HTML blocks (div, lists, headings, tables, comments...) are
    kept as they are. Every block is then a raw-HTML block to CommonMark, so the post
    renders as it did on WordPress.
    """
    content = _PAIRED_SHORTCODE.sub(lambda m: m.group(2).strip(), content.replace("\r\n", "\n"))
    content = _EMBED.sub(lambda m: f'<a href="{m.group(1).strip()}">{m.group(1).strip()}</a>', content)
    content = _LONE_SHORTCODE.sub("", content)
    blocks = []
    for block in re.split(r"\n\s*\n", content.strip()):
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


def _text(element: Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _iso(value: str, *, utc: bool) -> str | None:
    """'2011-12-22 09:30:00' -> ISO 8601 (UTC when it is a _gmt field); None for WordPress's zero date."""
    if not value or value == ZERO_DATE or not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value):
        return None
    return value.replace(" ", "T") + ("Z" if utc else "")


def read_export(export: Path) -> tuple[list[_Item], ImportReport]:
    """Parse the export; return its posts as items and a report of what was skipped."""
    try:
        root = SafeElementTree.parse(export).getroot()
    except DefusedXmlException as exc:
        raise WordPressImportError(f"{export}: refusing unsafe XML ({type(exc).__name__}): {exc}") from exc
    except ParseError as exc:
        raise WordPressImportError(f"{export}: not well-formed XML: {exc}") from exc
    except OSError as exc:
        raise WordPressImportError(f"{export}: {exc.strerror}") from exc
    channel = root.find("channel")
    namespaces = {t.split("}")[0][1:] for t in (e.tag for e in root.iter()) if t.startswith("{")}
    wp = next((ns for ns in namespaces if re.fullmatch(r"http://wordpress\.org/export/1\.[0-2]/", ns)), None)
    if root.tag != "rss" or channel is None or wp is None:
        raise WordPressImportError(f"{export}: not a WordPress export (WXR 1.0 to 1.2)")
    w = f"{{{wp}}}"
    authors = {
        _text(a, f"{w}author_login"): _text(a, f"{w}author_display_name") or _text(a, f"{w}author_login")
        for a in channel.findall(f"{w}author")
    }
    report = ImportReport()
    items: list[_Item] = []
    for item in channel.findall("item"):
        post_type = _text(item, f"{w}post_type") or "post"
        raw_id = _text(item, f"{w}post_id")
        if post_type != "post":
            report.skipped[post_type] += 1
            continue
        status = _text(item, f"{w}status") or "publish"
        if status in ("trash", "auto-draft", "inherit"):
            report.skipped[f"{status} post"] += 1
            continue
        if not raw_id.isdigit():
            report.malformed.append(f"post {raw_id or '?'}: no numeric wp:post_id")
            continue
        date = _iso(_text(item, f"{w}post_date_gmt"), utc=True) or _iso(_text(item, f"{w}post_date"), utc=False)
        if date is None:
            report.malformed.append(f"post {raw_id}: no usable wp:post_date")
            continue
        title = _text(item, "title") or "(no title)"
        slug = unquote(_text(item, f"{w}post_name")) or slugify(title) or f"post-{raw_id}"
        slug = slug if re.fullmatch(r"[\w][\w.~-]*", slug) else slugify(slug) or f"post-{raw_id}"
        meta: dict[str, Any] = {"title": title, "date": date}
        updated = _iso(_text(item, f"{w}post_modified_gmt"), utc=True)
        if updated is not None and updated > date:
            meta["updated"] = updated
        categories = [(c.text or "").strip() for c in item.findall("category") if c.get("domain") == "category"]
        tags = [(c.text or "").strip() for c in item.findall("category") if c.get("domain") == "post_tag"]
        if categories := [c for c in categories if c]:
            meta["categories"] = categories
        if tags := [t for t in tags if t]:
            meta["tags"] = tags
        login = _text(item, CREATOR)
        if login:
            meta["author"] = authors.get(login, login)
        meta["slug"] = slug
        # Password-protected posts become drafts: their content is never published.
        draft = status in ("draft", "pending", "private") or bool(_text(item, f"{w}post_password"))
        if draft:
            report.drafts += 1
        elif status == "future":
            report.scheduled += 1
        body = wpautop(item.findtext(CONTENT) or "")
        items.append(_Item(int(raw_id), _text(item, "guid"), meta, body, date[:10], draft))
    _settle_guids(items)
    return items, report


def _settle_guids(items: list[_Item]) -> None:
    """Keep each guid as the post's id; of two posts sharing one, the lower post id keeps it."""
    owners: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.post_id):
        if not item.guid:
            continue
        if item.guid in owners:
            item.id = f"{item.guid}#wp-{item.post_id}"
        else:
            owners[item.guid] = item.post_id
            item.id = item.guid


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def import_wordpress(
    export: Path, posts_dir: Path, state_dir: Path, *, force: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Write (or update) one post file per WordPress post; return what was done."""
    items, report = read_export(export)
    record_file = state_dir / RECORD_FILE
    try:
        record: dict[str, dict[str, str]] = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    taken = {str(p.relative_to(posts_dir)) for p in posts_dir.rglob("*.md")} if posts_dir.is_dir() else set()
    for done, item in enumerate(items):
        if progress is not None and done % 50 == 0:
            progress("importing posts", done, len(items))
        text = dump_post(item.front_matter(), item.body)
        known = record.get(str(item.post_id))
        if known is not None and (posts_dir / known["path"]).exists():
            relative = known["path"]
            current = (posts_dir / relative).read_text(encoding="utf-8")
            if current == text:
                report.unchanged.append(relative)
                continue
            if _digest(current) != known["sha256"] and not force:
                report.kept_local.append(relative)
                continue
            report.updated.append(relative)
        else:
            relative = f"{item.date_prefix}-{item.meta['slug']}.md"
            if relative in taken:
                relative = f"{item.date_prefix}-{item.meta['slug']}-{item.post_id}.md"
            report.new.append(relative)
        taken.add(relative)
        write_atomic(posts_dir / relative, text.encode("utf-8"))
        record[str(item.post_id)] = {"path": relative, "sha256": _digest(text)}
    if progress is not None:
        progress("importing posts", len(items), len(items))
    write_atomic(record_file, json.dumps(record, indent=1, sort_keys=True).encode("utf-8"))
    return report
