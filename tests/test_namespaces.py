"""core.namespaces: each XML namespace our feeds carry is one module, and the registry the documents derive from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from conftest import NOW
from feedcheck import check_file
from syndicator.config import Settings
from syndicator.core.namespaces import NAMESPACES
from syndicator.core.namespaces import stand_in
from syndicator.core.namespaces.atom import URI as ATOM_URI
from syndicator.podcastconfig import Podcasts
from syndicator.podcastconfig import Show
from syndicator.service.build import Builder

REGISTRY = {ns.uri: ns.prefix for ns in NAMESPACES}


@pytest.fixture
def feeds(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> dict[str, bytes]:
    """The feeds of a site using every namespace: an image, enclosures, a license, a deleted post, archive pages,
    and a podcast (its category's RSS) with an episode's fields."""
    settings = make_settings(feed_size=2, archive_page_size=2, podcasts=Podcasts((Show("shows"),)))
    extra = {
        "image": "https://images.example.org/camels.png",
        "enclosures": "[{url: 'https://cdn.example.org/ep1.mp3', type: audio/mpeg, length: 1234, title: One}]",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "episode": "1",
        "transcript": "https://cdn.example.org/ep1.vtt",
    }
    write_post("episode.md", title="Episode", categories="[Shows]", **extra)
    for n in range(4):
        write_post(f"p{n}.md", title=f"Post {n}", date=f"2025-05-0{n + 1}T10:00:00Z", categories="[Shows]")
    Builder(settings).reload(NOW)
    (settings.posts_dir / "p0.md").unlink()
    Builder(settings).reload(NOW + timedelta(days=1))
    out = settings.output_dir
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.suffix in (".atom", ".rss")}


def test_every_namespaced_element_takes_the_registrys_prefix_declared_on_its_root(feeds: dict[str, bytes]) -> None:
    """The roots' declarations, the entries' stand-ins and the elements agree: one registry, nothing to keep in step."""
    used: set[str] = set()
    for path, body in feeds.items():
        check_file(path, body)
        root = etree.fromstring(body)
        for element in root.iter():
            uri = etree.QName(element).namespace
            if uri is None or (uri == ATOM_URI and root.tag == f"{{{ATOM_URI}}}feed"):
                continue  # Atom's own elements in Atom documents, and RSS's: no prefix of ours
            assert uri in REGISTRY, f"{path}: {element.tag} is in no registered namespace"
            assert element.prefix == REGISTRY[uri] and root.nsmap.get(element.prefix) == uri, f"{path}: {element.tag}"
            used.add(REGISTRY[uri])
    assert used == {ns.prefix for ns in NAMESPACES}


@pytest.mark.parametrize("fmt", ["atom", "rss", "podcast"])
def test_an_entry_stand_in_declares_what_its_documents_entries_write(fmt: str) -> None:
    """An entry is serialized under a root declaring each namespace the registry says its format's entries use
    (a podcast's RSS items: an RSS item's, and the podcast namespaces)."""
    expected = {ns.prefix: ns.uri for ns in NAMESPACES if fmt in ns.entries_in}
    if fmt == "podcast":
        expected |= {ns.prefix: ns.uri for ns in NAMESPACES if "rss" in ns.entries_in}
    assert stand_in(fmt).nsmap == expected
