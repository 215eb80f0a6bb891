"""Structural checks of generated feeds: feedparser bozo, RFC 4287 rules, RSS 2.0 and JSON Feed 1.1 fields."""

from __future__ import annotations

import json
import re
from typing import Any

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse(body: bytes) -> Any:
    """Parse with feedparser and insist it found nothing wrong."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def _one(parent: etree._Element, name: str, where: str) -> etree._Element:
    found = parent.findall(ATOM + name)
    assert len(found) == 1, f"{where} must have exactly one atom:{name}, has {len(found)}"
    return found[0]


def _date(element: etree._Element) -> None:
    assert RFC3339.match(element.text or ""), f"not an RFC 3339 date: {element.text!r}"


def _text_construct(element: etree._Element) -> None:
    kind = element.get("type", "text")
    assert kind in ("text", "html", "xhtml"), kind
    if kind != "xhtml":
        assert len(element) == 0, "text and html constructs carry no child elements"


def check_atom(body: bytes) -> etree._Element:
    """RFC 4287's rules for atom:feed and atom:entry (the ones its schema and section 4 state)."""
    assert not XML_ILLEGAL.search(body.decode("utf-8"))
    parse(body)
    root = etree.fromstring(body)
    assert root.tag == ATOM + "feed"
    _one(root, "id", "feed")
    _text_construct(_one(root, "title", "feed"))
    _date(_one(root, "updated", "feed"))
    links = root.findall(ATOM + "link")
    assert all(link.get("href") for link in links)
    assert len([x for x in links if x.get("rel") == "self"]) == 1
    alternates = [(x.get("type"), x.get("hreflang")) for x in links if x.get("rel", "alternate") == "alternate"]
    assert len(alternates) == len(set(alternates)), "one alternate link per type and hreflang"
    feed_has_author = bool(root.findall(ATOM + "author"))
    for entry in root.findall(ATOM + "entry"):
        _one(entry, "id", "entry")
        _text_construct(_one(entry, "title", "entry"))
        _date(_one(entry, "updated", "entry"))
        for name in ("published",):
            found = entry.findall(ATOM + name)
            assert len(found) <= 1
            for element in found:
                _date(element)
        assert feed_has_author or entry.findall(ATOM + "author"), "every entry needs an author"
        for author in entry.findall(ATOM + "author"):
            _one(author, "name", "author")
        for category in entry.findall(ATOM + "category"):
            assert category.get("term"), "atom:category needs a term"
        for name in ("summary", "content"):
            found = entry.findall(ATOM + name)
            assert len(found) <= 1
            for element in found:
                _text_construct(element)
        assert entry.findall(ATOM + "content") or [
            x for x in entry.findall(ATOM + "link") if x.get("rel", "alternate") == "alternate"
        ]
    return root


def check_rss(body: bytes) -> etree._Element:
    """RSS 2.0's required channel and item fields."""
    assert not XML_ILLEGAL.search(body.decode("utf-8"))
    parse(body)
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description", "language", "lastBuildDate"):
        assert channel.findtext(name), f"channel needs {name}"
    assert channel.find(ATOM + "link[@rel='self']") is not None
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") in ("true", "false")
    return root


def check_file(path: str, body: bytes) -> None:
    """Check a feed file by its extension (OPML and other files pass through)."""
    checker = {".atom": check_atom, ".rss": check_rss, ".json": check_json}.get(path[path.rfind(".") :])
    if checker is not None:
        checker(body)


def wait_for(condition: Any, timeout: float = 20) -> bool:
    """Poll a condition until it holds or the timeout passes; say which."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def check_json(body: bytes) -> dict[str, Any]:
    """JSON Feed 1.1's required fields."""
    document: dict[str, Any] = json.loads(body)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] and document["home_page_url"] and document["feed_url"]
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") is not None or item.get("content_text") is not None
    return document
