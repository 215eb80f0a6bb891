"""Complete history for partners: RFC 5005 archive pages reachable from every feed."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from support.factories import NOW
from support.feedcheck import ATOM
from support.feedcheck import check_atom
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

FH = "{http://purl.org/syndication/history/1.0}"


def links(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    return {link.get("rel"): link.get("href") for link in root.findall(ATOM + "link")}


def entry_ids(body: bytes) -> list[str]:
    return [e.findtext(ATOM + "id") for e in etree.fromstring(body).findall(ATOM + "entry")]


@pytest.fixture
def big_site(make_settings: Callable[..., Settings], posts_dir: Path) -> Settings:
    """500 posts, every one in "All", every third in "Third", one category that fits in its feed."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(500):
        categories = ["All"] + (["Third"] if i % 3 == 0 else []) + (["Few"] if i < 5 else [])
        date = (start + timedelta(hours=i * 7)).isoformat()
        (posts_dir / f"p{i:03d}.md").write_text(
            f"---\ntitle: Post {i}\ndate: {date}\ncategories: {categories}\n---\nBody {i}.\n"
        )
    return make_settings()


def bodies(settings: Settings, builder: Builder) -> dict[str, bytes]:
    """Every served file's bytes, as a client gets them (archive pages come from their files)."""
    client = create_app(settings, builder).test_client()
    return {path: client.get(path).data for path in builder.snapshot.files}


def walk(files: dict[str, bytes], base: str, feed_path: str) -> list[str]:
    """Follow prev-archive from a feed; return every entry id seen on archive pages."""
    seen: list[str] = []
    href = links(files[feed_path]).get("prev-archive")
    visited = 0
    while href:
        path = "/" + href.removeprefix(base).lstrip("/")
        body = files[path]
        check_atom(body)
        root = etree.fromstring(body)
        assert root.find(FH + "archive") is not None
        assert links(body)["current"] == base + feed_path
        seen += entry_ids(body)
        href = links(body).get("prev-archive")
        visited += 1
        assert visited < 100
    return seen


def test_prev_archive_from_every_feed_reaches_every_post_once(big_site: Settings) -> None:
    """Walking prev-archive from each feed collects each published post exactly once."""
    builder = Builder(big_site)
    builder.reload(NOW)
    snapshot = builder.snapshot
    files = bodies(big_site, builder)
    base = "https://example.org"
    for feed_path, expected in [
        ("/feeds/all.atom", snapshot.catalog.posts),
        ("/feeds/category/all.atom", snapshot.catalog.categories["all"].posts),
        ("/feeds/category/third.atom", snapshot.catalog.categories["third"].posts),
    ]:
        seen = walk(files, base, feed_path)
        assert sorted(seen) == sorted(p.id for p in expected)
        assert len(seen) == len(set(seen))
        assert etree.fromstring(files[feed_path]).find(FH + "complete") is None


def test_pages_hold_the_oldest_posts_first(big_site: Settings) -> None:
    """Page 1 holds the oldest archive_page_size posts; links chain the pages; the newest page has no next."""
    builder = Builder(big_site)
    builder.reload(NOW)
    files = bodies(big_site, builder)
    archive = {p for p in files if p.startswith("/feeds/archive/")}
    assert archive == {f"/feeds/archive/{n}.atom" for n in range(1, 11)}
    first = files["/feeds/archive/1.atom"]
    assert entry_ids(first)[-1] == "tag:example.org,2020-01-01:/posts/p000"
    assert len(entry_ids(first)) == 50
    assert "prev-archive" not in links(first)
    assert links(first)["next-archive"] == "https://example.org/feeds/archive/2.atom"
    newest = files["/feeds/archive/10.atom"]
    assert "next-archive" not in links(newest)
    assert links(files["/feeds/all.atom"])["prev-archive"] == "https://example.org/feeds/archive/10.atom"
    assert "/feeds/category/third/archive/4.atom" in files
    assert "/feeds/category/third/archive/5.atom" not in files  # 167 posts: 4 pages


def test_a_feed_that_holds_everything_is_complete(big_site: Settings) -> None:
    """A feed whose posts all fit carries fh:complete (Atom and RSS) and has no archive."""
    builder = Builder(big_site)
    builder.reload(NOW)
    files = builder.snapshot.files
    assert etree.fromstring(files["/feeds/category/few.atom"].body).find(FH + "complete") is not None
    assert etree.fromstring(files["/feeds/category/few.rss"].body).find(f"channel/{FH}complete") is not None
    assert not [p for p in files if p.startswith("/feeds/category/few/")]


def test_rss_carries_the_archive_link(big_site: Settings) -> None:
    """The RSS feed links its newest archive page with atom:link rel="prev-archive"."""
    builder = Builder(big_site)
    builder.reload(NOW)
    channel = etree.fromstring(builder.snapshot.files["/feeds/all.rss"].body).find("channel")
    rels = {link.get("rel"): link.get("href") for link in channel.findall(ATOM + "link")}
    assert rels["prev-archive"] == "https://example.org/feeds/archive/10.atom"


def test_full_pages_stay_byte_identical_and_a_new_page_starts_once(
    big_site: Settings, posts_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    """New posts leave full pages alone; the newest page gets next-archive once the next page starts."""
    builder = Builder(big_site)
    builder.reload(NOW)
    before = bodies(big_site, builder)
    (posts_dir / "new.md").write_text("---\ntitle: New\ndate: 2025-06-01\ncategories: [All]\n---\nNew.\n")
    report = builder.reload(NOW)
    after = bodies(big_site, builder)
    for n in range(1, 10):
        assert after[f"/feeds/archive/{n}.atom"] == before[f"/feeds/archive/{n}.atom"]
    assert "archive/11.atom" in report.written
    assert links(after["/feeds/archive/10.atom"])["next-archive"] == "https://example.org/feeds/archive/11.atom"
    assert after["/feeds/archive/10.atom"] != before["/feeds/archive/10.atom"]


AT = "{http://purl.org/atompub/tombstones/1.0}"


def stones(body: bytes) -> list[str]:
    return [e.get("ref") for e in etree.fromstring(body).iter(f"{AT}deleted-entry")]


@pytest.mark.parametrize("how", ["deleted", "draft", "partners"])
def test_a_removed_post_keeps_its_place_so_no_other_page_changes(big_site: Settings, posts_dir: Path, how: str) -> None:
    """A post removed (its file, a draft, for partners only now) stays on its archive page as its tombstone
    (RFC 6721), in every feed that held it, long after the feed's own tombstone expired: every other page keeps
    its bytes, and prev-archive still reaches every post once. Back again, it is in its place as before."""
    builder = Builder(big_site)
    builder.reload(NOW)
    before = bodies(big_site, builder)
    gone = posts_dir / "p030.md"  # on page 1 of "All" (posts 0-49) and of "Third" (posts 0, 3, ... 147)
    text = gone.read_text()
    gone_id = entry_ids(before["/feeds/archive/1.atom"])[-31 % 50]
    if how == "deleted":
        gone.unlink()
    else:
        gone.write_text(
            text.replace("---\nBody", "draft: true\n---\nBody" if how == "draft" else "visibility: partners\n---\nBody")
        )
    later = NOW + timedelta(days=big_site.tombstone_days + 5)  # the feeds' own tombstones have expired
    builder.reload(NOW + timedelta(hours=1))
    builder.reload(later)
    after = bodies(big_site, builder)
    for feed in ("", "category/all/", "category/third/"):
        base = f"/feeds/{feed}archive/"
        pages = sorted(path for path in before if path.startswith(base))
        assert pages == sorted(path for path in after if path.startswith(base))
        changed = [path for path in pages if after[path] != before[path]]
        assert changed == [f"{base}1.atom"], feed
        check_atom(after[changed[0]])
        assert stones(after[changed[0]]) == [gone_id] and gone_id not in entry_ids(after[changed[0]])
        assert stones(after["/feeds/" + (feed.rstrip("/") or "all") + ".atom"]) == []  # expired in the feed
    seen = walk(after, "https://example.org", "/feeds/all.atom")
    assert len(seen) == len(set(seen)) == 499 and gone_id not in seen
    gone.write_text(text)
    builder.reload(later + timedelta(hours=1))
    back = bodies(big_site, builder)
    assert stones(back["/feeds/archive/1.atom"]) == [] and entry_ids(back["/feeds/archive/1.atom"]) == entry_ids(
        before["/feeds/archive/1.atom"]
    )
    assert all(back[path] == before[path] for path in before if "/archive/" in path and not path.endswith("/1.atom"))


def test_a_post_that_leaves_a_feed_says_so_there_and_keeps_its_place(big_site: Settings, posts_dir: Path) -> None:
    """A post moved out of a category (into another, still published) is a tombstone in the feed it left, so a
    partner mirroring that category drops it, and keeps its place on that feed's archive pages: no later page
    moves, and no page linked a moment before answers 404. Before, the feed said nothing (the partner kept the post
    for good) and every later page moved back by one. The feeds it is still in hold it as before; back in the category,
    it is in its place again, and a fresh build of the same state writes the same bytes as the reloads did."""
    builder = Builder(big_site)
    builder.reload(NOW)
    before = bodies(big_site, builder)
    moved = posts_dir / "p030.md"  # on page 1 of "Third" (posts 0, 3, ... 147)
    text = moved.read_text()
    moved_id = builder.snapshot.catalog.by_slug["p030"].id
    moved.write_text(text.replace("'Third'", "'Elsewhere'"))
    builder.reload(NOW + timedelta(hours=1))
    after = bodies(big_site, builder)
    assert stones(after["/feeds/category/third.atom"]) == [moved_id]
    base = "/feeds/category/third/archive/"
    pages = sorted(path for path in before if path.startswith(base))
    assert pages == sorted(path for path in after if path.startswith(base))
    assert [path for path in pages if after[path] != before[path]] == [f"{base}1.atom"]
    assert stones(after[f"{base}1.atom"]) == [moved_id] and moved_id not in entry_ids(after[f"{base}1.atom"])
    assert moved_id in entry_ids(after["/feeds/category/elsewhere.atom"])
    assert stones(after["/feeds/all.atom"]) == [] and moved_id in entry_ids(after["/feeds/archive/1.atom"])
    fresh = Builder(big_site)
    fresh.reload(NOW + timedelta(hours=2))
    assert bodies(big_site, fresh) == after
    redated = text.replace("'Third'", "'Elsewhere'").replace("date: 2020-01-", "date: 2025-01-")
    moved.write_text(redated)  # its place in the feed it left is where that feed saw it, whatever it becomes
    builder.reload(NOW + timedelta(hours=2, minutes=30))
    assert all(bodies(big_site, builder)[path] == after[path] for path in pages)
    moved.write_text(text)
    builder.reload(NOW + timedelta(hours=3))
    back = bodies(big_site, builder)
    assert stones(back["/feeds/category/third.atom"]) == [] and stones(back[f"{base}1.atom"]) == []
    assert entry_ids(back[f"{base}1.atom"]) == entry_ids(before[f"{base}1.atom"])  # dated as it was: in its place


def test_a_tag_taken_off_is_a_tombstone_in_its_feed(make_settings: Callable[..., Settings], posts_dir: Path) -> None:
    """The same for a tag (and for the partner feeds, which a partner mirrors the same way)."""
    for name, tags in (("a", "[Red, Blue]"), ("b", "[Red]")):
        (posts_dir / f"{name}.md").write_text(f"---\ntitle: {name}\ndate: 2025-01-01\ntags: {tags}\n---\nx\n")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    left_id = builder.snapshot.catalog.by_slug["a"].id
    (posts_dir / "a.md").write_text("---\ntitle: a\ndate: 2025-01-01\ntags: [Blue]\n---\nx\n")
    (posts_dir / "z.md").write_text("---\ntitle: z\ndate: 2025-01-01\nvisibility: partners\n---\nx\n")
    builder.reload(NOW + timedelta(hours=1))
    files = bodies(settings, builder)
    assert stones(files["/feeds/tag/red.atom"]) == [left_id] and stones(files["/feeds/tag/blue.atom"]) == []
    partner = builder.snapshot.partners.file("tag/red.atom").body
    assert stones(partner) == [left_id]


def test_archive_pages_are_kept_by_readers_as_long_as_a_feed(big_site: Settings) -> None:
    """SPEC: readers keep max-age=<reload_interval> for every feed and archive page, a full one too: an edit of one
    of its posts or a post added later with an older date changes it, and a day-long max-age (which a full page
    had) made a partner that honours it keep the old page a day."""
    builder = Builder(big_site)
    builder.reload(NOW)
    client = create_app(big_site, builder).test_client()
    assert client.get("/feeds/archive/1.atom").headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/feeds/archive/10.atom").headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/feeds/all.atom").headers["Cache-Control"] == "public, max-age=60"


def test_archive_pages_have_no_gzip_twin_and_are_compressed_when_asked(big_site: Settings) -> None:
    """Feeds keep their .gz beside them; archive pages (most of the bytes) do not, and the app gzips them on request."""
    builder = Builder(big_site)
    builder.reload(NOW)
    out = big_site.output_dir
    assert (out / "all.atom.gz").is_file() and (out / "category" / "all.rss.gz").is_file()
    pages = sorted(out.rglob("archive/*.atom"))
    assert len(pages) > 10
    assert not list(out.rglob("archive/*.gz"))
    client = create_app(big_site, builder).test_client()
    plain = client.get("/feeds/archive/1.atom", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/archive/1.atom", headers={"Accept-Encoding": "gzip"})
    assert plain.data == (out / "archive" / "1.atom").read_bytes()
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) // 2
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    for tag in (plain.headers["ETag"], zipped.headers["ETag"]):
        again = client.get("/feeds/archive/1.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
        assert again.status_code == 304
    assert client.get("/feeds/archive/1.atom", headers={"Accept-Encoding": "gzip"}).data == zipped.data
